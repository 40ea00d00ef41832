def helper_work(n):
    x = 0
    for i in range(n):
        x += i * i  # HELPER-WORK
    return x
