#!/usr/bin/env bash
# CI step: the whole suite (SQLite) with no Redis reachable where scripts/test probes for one, so
# that scripts/test starts a private redis-server and every test must work on it: no test may
# depend on 127.0.0.1:6379 (its URL in a golden file, a database number, a FLUSHDB of it).
# The probe is pointed at a closed port; TASKCTL_TEST_REDIS_URL is unset. Bounded to 15 minutes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

PY="$(command -v python3)"
closed_port="$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
say() { printf 'ci[no-redis]: %s\n' "$*" >&2; }
say "Redis probe pointed at 127.0.0.1:$closed_port (closed): scripts/test must start a private server"

set +e
env -u TASKCTL_TEST_REDIS_URL -u TASKCTL_TEST_DATABASE_URL \
    TASKCTL_LOCAL_REDIS_URL="redis://127.0.0.1:$closed_port" \
    timeout --kill-after=30 900 scripts/test -p no:cacheprovider </dev/null 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e

if ! grep -q "started a private Redis" "$log"; then
    say "FAILED: scripts/test did not start a private Redis (it found one at the probe address?)"
    rc=1
fi
summary="$(grep -E '^=+ .*(passed|failed|error|no tests ran).* =+$' "$log" | tail -n 1 || true)"
say "summary: ${summary:-no pytest summary line (timed out?)}"
exit "$rc"
