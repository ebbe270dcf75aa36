#!/usr/bin/env bash
# What the README promises of the code: ruff (lint and format) and mypy strict, clean.
set -euo pipefail
PY=.venv/bin
fails=0
run() { echo "lint: $*"; "$@" || fails=$((fails + 1)); }
run "$PY/ruff" check .
run "$PY/ruff" format --check .
run timeout 600 "$PY/mypy" scheduler_core taskctl tests
echo "lint: $((3 - fails)) passed, $fails failed"
((fails == 0))
