"""scalene: a CPU, GPU and memory profiler for Python with a C engine."""

__version__ = "0.1.0"
