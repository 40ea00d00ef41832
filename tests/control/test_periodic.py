"""--profile-interval: the profile is rewritten while the program runs."""
import json

from scalene_testlib import program
from ctl_helpers import finish, load_json, share_of, spawn, wait_for, wait_for_line


def test_profile_is_rewritten_while_running(tmp_path):
    path = program("ctl_longrun.py")
    out = tmp_path / "p.json"
    flag = tmp_path / "stop"
    proc = spawn(["-m", "scalene", "run", "--profile-interval", "0.3", "-o", str(out), path, "---", str(flag)])
    try:
        wait_for_line(proc, "serving")
        assert wait_for(out.exists, timeout=60), "no periodic profile"
        seen = []

        def rewritten():
            try:
                profile = json.loads(out.read_text())  # valid JSON at any moment (atomic rename)
            except FileNotFoundError:
                return False
            seen.append(profile["elapsed_time_sec"])
            return len(set(seen)) >= 2 and share_of(profile, path, "SERVE") > 0

        assert wait_for(rewritten, timeout=60, interval=0.1), seen
        assert proc.poll() is None  # still running: this was a mid-run profile
        flag.write_text("")
        rc, _, err = finish(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert rc == 0, err
    final = load_json(str(out))
    assert final["elapsed_time_sec"] >= max(seen)
    assert share_of(final, path, "SERVE") > 20
