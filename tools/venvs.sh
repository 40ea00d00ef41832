#!/usr/bin/env bash
# Creates (or refreshes) one test venv per CPython found on this machine:
#   .venvs/py3.X   for every pyenv 3.9..3.13, and .venvs/sys3.X for /usr/bin/python3.
# Prints "NAME PYTHON" lines for the interpreters it prepared.
set -euo pipefail
cd "$(dirname "$0")/.."
want="${PYVERSIONS:-3.9 3.10 3.11 3.12 3.13}"
root="${PYENV_ROOT:-$HOME/.pyenv}"
found=()
for mm in $want; do
  best=""
  for d in "$root"/versions/"$mm".*; do
    [ -x "$d/bin/python$mm" ] || continue
    case "$(basename "$d")" in *t|*-dev*|*a*|*b*|*rc*) continue;; esac
    best="$d/bin/python$mm"
  done
  [ -n "$best" ] && found+=("py$mm:$best")
done
if [ -x /usr/bin/python3 ]; then
  mm=$(/usr/bin/python3 -c 'import sys;print("%d.%d"%sys.version_info[:2])')
  found+=("sys$mm:/usr/bin/python3")
fi
for entry in "${found[@]}"; do
  name=${entry%%:*}; py=${entry#*:}
  venv=".venvs/$name"
  if [ ! -x "$venv/bin/python" ]; then
    "$py" -m venv "$venv" >&2
  fi
  stamp="$venv/.requirements.sha"
  sum=$(sha256sum tests/requirements.txt | cut -c1-64)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$sum" ]; then
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -U pip >&2
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -r tests/requirements.txt >&2
    echo "$sum" > "$stamp"
  fi
  echo "$name $venv/bin/python"
done
