import json
import sys
import time

end = time.monotonic() + 0.3
while time.monotonic() < end:
    pass  # MODULE-WORK
print(json.dumps({"argv": sys.argv, "name": __name__, "spec": __spec__.name if __spec__ else None}))
