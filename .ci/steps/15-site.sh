#!/usr/bin/env bash
# The demo shop (tests/demo_site): its own test suite, under `manage.py test` and under
# pytest-django, on SQLite and on PostgreSQL ($PG_URL), plus its own mypy. About 30 s; each run is
# bounded to 120 s. Prints a pytest-style summary line; non-zero on any failure.
set -euo pipefail
SCRIPT_NAME=site
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/common.sh"
source "$ROOT/scripts/lib/redis.sh"

setup_venv
trap redis_down EXIT
redis_up TASKCTL_TEST_REDIS_URL 15
export TASKCTL_TEST_REDIS_URL="$REDIS_URL"

cd "$ROOT/tests/demo_site"
passed=0
failed=0
run() {  # run NAME CMD...: one bounded run, counted
    local name=$1
    shift
    if timeout 120 "$@" </dev/null; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        say "FAILED: $name"
    fi
}
for db in sqlite postgresql; do
    if [[ $db == postgresql ]]; then
        [[ -n "${PG_URL:-}" ]] || { say "PG_URL is not set: PostgreSQL runs skipped"; continue; }
        export SHOP_DATABASE_URL="$PG_URL" SHOP_TEST_DATABASE_NAME="taskctl_demo_site"
    else
        unset SHOP_DATABASE_URL SHOP_TEST_DATABASE_NAME
    fi
    run "manage.py test ($db)" "$PY" manage.py test --noinput -v 1
    run "pytest-django ($db)" "$PY" -m pytest -q
done
run "mypy (demo site)" "$VENV/bin/mypy" .
echo "========== site: $passed passed, $failed failed (runs of the demo site's suite) =========="
[[ $failed -eq 0 ]]
