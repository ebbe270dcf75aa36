#!/usr/bin/env bash
# The admin's browser tests (tests/browser, -m browser): Playwright from PyPI driving Debian's
# Chromium. Installs chromium (apt-get, only when /usr/bin/chromium is missing) and playwright
# into the venv; never downloads Playwright's own browsers. Screenshots: ci-artifacts/screenshots/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
SCRIPT_NAME=50-browser
source scripts/lib/common.sh
source scripts/lib/redis.sh

if [[ ! -x /usr/bin/chromium ]]; then
    say "installing chromium (apt-get)"
    timeout 300 apt-get update -qq
    DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq chromium >/dev/null
fi
setup_venv
"$PY" -c 'import playwright' 2>/dev/null ||
    timeout 300 "$PY" -m pip install --quiet --disable-pip-version-check -e ".[browser]"

trap redis_down EXIT
redis_up TASKCTL_TEST_REDIS_URL 15
export TASKCTL_TEST_REDIS_URL="$REDIS_URL"
mkdir -p ci-artifacts/screenshots
status=0
timeout 240 "$PY" -m pytest -p no:cacheprovider -m browser tests/browser </dev/null || status=$?
say "screenshots in ci-artifacts/screenshots/"
exit "$status"
