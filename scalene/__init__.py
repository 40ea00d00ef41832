"""scalene: a CPU, GPU and memory profiler for Python with a C engine."""

__version__ = "0.1.0"


def load_ipython_extension(ipython):  # type: ignore[no-untyped-def]
    """`%load_ext scalene`: the %scrun and %%scalene magics (scalene.jupyter)."""
    from .jupyter import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython):  # type: ignore[no-untyped-def]
    from .jupyter import unload_ipython_extension as unload

    unload(ipython)
