"""Convert a line_profiler ``.lprof`` file to JSON (run inside the line_profiler venv).

usage: python lprof_dump.py IN.lprof OUT.json
Output: {"unit": seconds per timer tick, "functions": [{"file", "name", "lineno",
"lines": [[lineno, hits, seconds], ...]}]}
"""
import json
import sys

import line_profiler


def main():
    stats = line_profiler.load_stats(sys.argv[1])
    funcs = []
    for (fname, lineno, name), rows in stats.timings.items():
        funcs.append({"file": fname, "name": name, "lineno": lineno,
                      "lines": [[ln, hits, t * stats.unit] for ln, hits, t in rows]})
    with open(sys.argv[2], "w") as f:
        json.dump({"unit": stats.unit, "functions": funcs}, f)


if __name__ == "__main__":
    main()
