#!/usr/bin/env bash
# The partition tests (tests/partition, marker `partition`): a worker in its own network
# namespace (ip netns, a veth pair) cut off from a private redis-server for longer than the lease,
# then healed. Needs root and iproute2; the tests skip with the reason otherwise. Bounded to
# 3 minutes; SIGINT first, so pytest removes its namespaces and stops its servers.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
status=0
timeout -s INT -k 30 180 scripts/test -n 0 -p no:cacheprovider -m partition tests/partition </dev/null || status=$?
if ((status == 124)); then
    echo "partition: FAILED: over the 3-minute bound"
fi
exit "$status"
