"""Imported by mem_two_files.py: allocates a lot, takes little time."""
HELD = []


def allocate():
    HELD.append(bytearray(300 * 1024 * 1024))  # HELPER-ALLOC
