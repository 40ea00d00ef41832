"""How many CPU samples a busy thread actually gets, per requested rate.

CPU-clock timers fire only on the kernel's scheduler tick, so the rate a
profiler asks for is not necessarily the rate it gets; the engine's sampler
thread also signals running threads to get past that (engine/sampler.h).
This runs a loop that burns 2 s of CPU under `scalene run --cpu-only` at
several --cpu-sampling-rate values and reports the samples per CPU second
that the profile records (profiler.cpu_samples / total_sampled_sec).

    python3.11 bench/sample_rate.py [--runs 3] [--rates 0.01,0.003,0.001]
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUSY = "import time\nt = time.process_time()\nwhile time.process_time() - t < 2.0:\n    pass\n"


def measure(rate: float, workdir: str) -> float:
    program = os.path.join(workdir, "busy.py")
    profile = os.path.join(workdir, "profile.json")
    with open(program, "w") as f:
        f.write(BUSY)
    subprocess.run([sys.executable, "-m", "scalene", "run", "--cpu-only", "--cpu-sampling-rate", str(rate),
                    "-o", profile, program], cwd=REPO, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(profile) as f:
        meta = json.load(f)["profiler"]
    return meta["cpu_samples"] / meta["total_sampled_sec"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--rates", default="0.01,0.003,0.001")
    a = ap.parse_args()
    rates = [float(r) for r in a.rates.split(",")]
    print("### sample rate: %s\n" % datetime.datetime.now().strftime("%Y-%m-%d %H:%M"))
    print("Command: `%s` (CPython %s, load average %.1f)\n"
          % (" ".join(["python3.11", "bench/sample_rate.py"] + sys.argv[1:]), sys.version.split()[0], os.getloadavg()[0]))
    print("| --cpu-sampling-rate | asked (samples/s) | got (samples per CPU second, median of %d) |" % a.runs)
    print("|---|---|---|")
    with tempfile.TemporaryDirectory() as workdir:
        for rate in rates:
            got = statistics.median(measure(rate, workdir) for _ in range(a.runs))
            print("| %g | %.0f | %.0f |" % (rate, 1 / rate, got))


if __name__ == "__main__":
    main()
