"""Crashes the interpreter in native code: a NULL read through ctypes."""
import ctypes


def crash():
    ctypes.string_at(0)  # CRASH-LINE


crash()
