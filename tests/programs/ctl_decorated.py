"""@profile without an import: only decorated functions are reported."""


def undecorated(n):
    x = 0
    for i in range(n):
        x += i * i  # PLAIN-LOOP
    return x


undecorated(600_000)  # runs before any @profile exists: must not be reported


@profile  # noqa: F821 (put in builtins by scalene run)
def decorated(n):
    x = 0
    for i in range(n):  # CHOSEN-HEADER
        x += i * i  # CHOSEN-LOOP
    return x


def make_late():
    @profile  # noqa: F821
    def late(n):
        x = 0
        for i in range(n):  # LATE-HEADER
            x += i ^ 5  # LATE
        return x

    return late


decorated(2_000_000)
undecorated(1_000_000)
make_late()(2_000_000)
