"""Prints the running session's options as JSON (what the command line and
YAML produced), then does a little work."""
import json

from scalene import api

s = api.session()
options = dict(vars(s.profiler.options)) if s is not None else {}
options["_kind"] = s.kind if s is not None else None
options["_profile_is_builtin"] = "profile" in __builtins__.__dict__ if hasattr(__builtins__, "__dict__") \
    else "profile" in __builtins__
print(json.dumps(options, default=str))
