#!/usr/bin/env bash
# CI step: the second supported platform, Python 3.13 + Django 6.1 (the main suites run 3.11 + 5.2):
# the whole suite on SQLite, the database-facing tests on PostgreSQL ($PG_URL), `makemigrations
# --check` on both platforms, and what the wheel installs. Its own venv (.venv-py313-dj61); about
# 5 minutes on an idle 2-core machine.
# Prints one closing line, "matrix: N passed, N failed", and exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

say() { printf 'matrix: %s\n' "$*" >&2; }

is_313() { [[ -n "$1" ]] && "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null; }
py313=""
for candidate in "${TASKCTL_MATRIX_PYTHON:-}" python3.13 $(ls -d /root/.pyenv/versions/3.13*/bin/python 2>/dev/null | sort -rV); do
    if is_313 "$candidate"; then
        py313="$("$candidate" -c 'import sys; print(sys.executable)')"  # the interpreter, not a shim
        break
    fi
done
if [[ -z "$py313" ]]; then
    say "no Python 3.13 found (PATH, pyenv; or set TASKCTL_MATRIX_PYTHON)"
    echo "matrix: 0 passed, 1 failed"
    exit 1
fi
say "Python 3.13: $py313"

# The PostgreSQL half: the tests that talk to the database (models, manifests, scheduler, admin,
# the django.tasks backend, manage.py).
PG_TESTS=(
    tests/test_django_tasks.py tests/test_manage_py.py tests/test_task_model.py tests/test_admin.py
    tests/test_manifest_apply.py tests/test_manifest_concurrency.py tests/test_scheduler_pass.py
    tests/test_scheduler_recovery.py tests/test_cli_tasks_inspect.py
)
matrix=(TASKCTL_PYTHON="$py313" TASKCTL_VENV="$PWD/.venv-py313-dj61" TASKCTL_DJANGO=6.1)
passed=0
failed=0
status=0
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

count() {  # add pytest's closing counts (or one failure when it printed none) to the totals
    local line p f
    # pytest's closing line: "==== 3 failed, 580 passed in 61.2s ====", or bare under -q
    line="$(grep -E '^(=+ )?[0-9]+ (passed|failed|errors?|skipped|deselected)\b.* in [0-9.]+s' "$log" | tail -n 1)"
    p="$(grep -oE '[0-9]+ passed' <<<"$line" | awk '{s += $1} END {print s + 0}')"
    f="$(grep -oE '[0-9]+ (failed|errors?)' <<<"$line" | awk '{s += $1} END {print s + 0}')"
    passed=$((passed + ${p:-0}))
    if [[ -z "$line" && $1 != 0 ]]; then f=1; fi
    failed=$((failed + ${f:-0}))
}

suite() {  # suite NAME SECONDS ENV... -- PYTEST-ARGS...
    local name=$1 limit=$2 rc
    shift 2
    local envs=()
    while [[ $1 != -- ]]; do envs+=("$1"); shift; done
    shift
    say "=== Python 3.13 + Django 6.1 on $name ==="
    timeout --kill-after=10 "$limit" env "${envs[@]}" scripts/test -p no:cacheprovider "$@" </dev/null 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    ((rc == 124)) && say "$name: timed out after ${limit}s"
    count "$rc"
    ((rc == 0)) || status=1
}

suite sqlite 480 -u TASKCTL_TEST_DATABASE_URL "${matrix[@]}" -- -q
suite postgresql 240 "${matrix[@]}" TASKCTL_TEST_DATABASE_URL="${PG_URL:?PG_URL is exported by .ci/run}" -- -q "${PG_TESTS[@]}"

makemigrations() {  # makemigrations --check in the venv $1 (made by the suites before)
    local venv=$1 label=$2
    if timeout 120 env PYTHONPATH="$PWD" "$venv/bin/python" -m django makemigrations --check --dry-run \
        --settings tests.settings scheduler_core </dev/null >"$log" 2>&1; then
        say "makemigrations --check ($label): no changes"
        passed=$((passed + 1))
    else
        cat "$log" >&2
        say "makemigrations --check ($label) FAILED: a model change has no migration"
        failed=$((failed + 1))
        status=1
    fi
}
# The 3.11 + 5.2 venv is the main suites' (.venv); made here when this step runs alone.
[[ -x .venv/bin/python ]] || scripts/test -q --co >/dev/null 2>&1 </dev/null
makemigrations .venv "Python $(.venv/bin/python -c 'import sys; print(*sys.version_info[:2], sep=".")') + Django $(.venv/bin/python -m django --version)"
makemigrations .venv-py313-dj61 "Python 3.13 + Django $(.venv-py313-dj61/bin/python -m django --version)"

# The wheel installs the app and the CLI only (examples/ is the repository's demo).
wheel_dir="$(mktemp -d)"
if timeout 180 .venv/bin/python -m pip wheel --quiet --no-deps -w "$wheel_dir" . </dev/null >"$log" 2>&1 &&
    tops="$(.venv/bin/python -c 'import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
print(" ".join(sorted({n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")})))' "$wheel_dir"/*.whl)" &&
    [[ "$tops" == "scheduler_core taskctl" ]]; then
    say "wheel: top-level packages are scheduler_core and taskctl"
    passed=$((passed + 1))
else
    grep -v 'WARNING: Location' "$log" >&2 || true
    say "wheel FAILED: top-level packages '${tops:-?}', expected 'scheduler_core taskctl'"
    failed=$((failed + 1))
    status=1
fi
rm -rf "$wheel_dir" build

echo "matrix: $passed passed, $failed failed"
exit "$status"
