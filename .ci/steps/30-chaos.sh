#!/usr/bin/env bash
# The chaos suite (tests/chaos, marker `chaos`): Redis restarts, kills, pauses and a full memory,
# PostgreSQL refusing connections, SIGKILLed workers and schedulers, each on private servers the
# tests start. Bounded to 5 minutes; SIGINT first, so pytest tears its servers down.
# Prints the figures (time to resume, jobs lost / run twice) and pytest's summary line.
set -euo pipefail
pg_url="${PG_URL:-postgres://postgres@127.0.0.1:5432/test}"
export TASKCTL_CHAOS_PG="${pg_url%/*}/postgres"   # the chaos tests create and drop their own database
figures="$(mktemp)"
export TASKCTL_CHAOS_FIGURES="$figures"
status=0
timeout -s INT -k 30 300 scripts/test -n 0 -p no:cacheprovider -m chaos tests/chaos || status=$?
echo "chaos: figures"
cat "$figures"
rm -f "$figures"
if ((status == 124)); then
    echo "chaos: FAILED: over the 5-minute bound"
fi
exit "$status"
