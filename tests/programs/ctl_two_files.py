"""Most time in this file, a small share in ctl_two_files_helper.py."""
import ctl_two_files_helper


def main_work(n):
    x = 0
    for i in range(n):
        x += i * i  # MAIN-WORK
    return x


for _ in range(4):
    main_work(1_500_000)
    ctl_two_files_helper.helper_work(200_000)
