#!/usr/bin/env bash
# The whole test suite, on every CPython 3.9-3.13 this machine has:
#   1. one venv per interpreter (tools/venvs.sh: pytest, numpy, IPython, playwright...),
#   2. the engine built in place for each (make PYTHON=...) and the engine, control-surface,
#      report and export tests run with it,
#   3. everything else (viewer in chromium, C layers, full stress counts) once, on the primary interpreter,
#   4. the engine rebuilt with AddressSanitizer + UndefinedBehaviorSanitizer and its tests run again.
# Exit status: non-zero if anything failed.  Prints pytest's summary per step.
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONDONTWRITEBYTECODE=1
if [ -z "${CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1; then
  echo "== installing Debian's chromium for the viewer tests"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 \
    || echo "   (chromium could not be installed: the browser tests will be skipped)"
fi
if ! command -v go >/dev/null 2>&1; then
  echo "== installing Debian's golang-go for the pprof export test"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go) >/dev/null 2>&1 \
    || echo "   (go could not be installed: the pprof consumer test will be skipped)"
fi
mapfile -t VENVS < <(bash tools/venvs.sh)
[ ${#VENVS[@]} -gt 0 ] || { echo "no Python 3.9-3.13 found"; exit 1; }
PRIMARY="${PRIMARY_VENV:-py3.11}"
failed=0
step() { echo; echo "== $*"; }

for entry in "${VENVS[@]}"; do
  name=${entry%% *}; py=${entry#* }
  step "$name: build ($($py -c 'import sys;print(sys.version.split()[0])'))"
  make -s PYTHON="$py" >/dev/null || { echo "BUILD FAILED for $name"; failed=1; continue; }
  if [ "$name" = "$PRIMARY" ]; then
    step "$name: full suite"
    SCALENE_STRESS_RUNS=200 SCALENE_MEM_STRESS_RUNS=100 "$py" -m pytest -q -p no:cacheprovider tests || failed=1
  else
    step "$name: engine, control, report and export tests"
    "$py" -m pytest -q -p no:cacheprovider tests/engine tests/control tests/report tests/export || failed=1
  fi
done

# Sanitizers: the engine built with ASan+UBSan, loaded into a normal interpreter.
primary_py=""
for entry in "${VENVS[@]}"; do [ "${entry%% *}" = "$PRIMARY" ] && primary_py=${entry#* }; done
if [ -n "$primary_py" ]; then
  step "$PRIMARY: engine under AddressSanitizer + UndefinedBehaviorSanitizer"
  if make -s sanitize PYTHON="$primary_py" >/dev/null; then
    SCALENE_SANITIZE=1 "$primary_py" -m pytest -q -p no:cacheprovider tests/engine || failed=1
  else
    echo "SANITIZER BUILD FAILED"; failed=1
  fi
fi
echo
[ $failed -eq 0 ] && echo "== all test steps passed" || echo "== SOME TEST STEPS FAILED"
exit $failed
