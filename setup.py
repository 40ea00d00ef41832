"""Builds the C engine as the extension ``scalene._engine``.

The source list and flags mirror the Makefile (which is for in-place
development builds); this file only exists so that ``pip install .`` works
with the ordinary setuptools backend.
"""
import glob
import os
import sysconfig

from setuptools import Extension, setup

HERE = os.path.dirname(os.path.abspath(__file__))


def engine_sources():
    # Keep in step with SOURCES in the Makefile.
    files = []
    for pattern in ("engine/*.c", "engine/frames/*.c", "engine/gpu/*.c", "engine/memory/*.c"):
        files += glob.glob(pattern)
    return sorted(files)


setup(
    ext_modules=[
        Extension(
            "scalene._engine",
            sources=engine_sources(),
            include_dirs=["engine", sysconfig.get_paths()["include"]],
            define_macros=[("_GNU_SOURCE", "1")],
            extra_compile_args=[
                "-std=gnu11", "-O2", "-fvisibility=hidden",
                "-Wall", "-Wextra", "-Werror", "-Wno-missing-field-initializers",
            ],
            # bound at load: the signal handler never enters the lazy resolver
            extra_link_args=["-Wl,-z,now"],
            libraries=["m", "pthread", "dl", "rt"],
        )
    ],
)
