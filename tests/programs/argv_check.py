"""Prints what the program sees of its launch, then exits with argv[1]."""
import json
import sys

print(json.dumps({
    "argv": sys.argv,
    "file": __file__,
    "name": __name__,
    "path0": sys.path[0],
    "spec": repr(__spec__),
    "main_is_me": sys.modules["__main__"].__dict__ is globals(),
}))
sys.exit(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
