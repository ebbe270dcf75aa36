#!/usr/bin/env bash
# Sentinel and Redis Cluster end to end (tests/engines, pytest marker `engines`): each module
# starts its own deployment on loopback ports (a master, a replica and three sentinels; six
# cluster nodes) and stops it. The two modules run side by side; the step is bounded to 4 minutes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
status=0
timeout --kill-after=10 240 scripts/test -p no:cacheprovider -m engines -n 2 --dist loadfile tests/engines \
    </dev/null || status=$?
if [[ $status -eq 124 || $status -eq 137 ]]; then
    echo "engines: FAILED: over the 4-minute bound" >&2
fi
exit "$status"
