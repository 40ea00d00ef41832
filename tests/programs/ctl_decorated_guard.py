"""Runs with plain python too: the usual guard for a missing profile."""
try:
    profile  # noqa: B018
except NameError:
    def profile(func):
        return func


@profile
def work(n):
    return sum(i * i for i in range(n))  # GUARDED


print(work(10000))
