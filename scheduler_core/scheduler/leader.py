"""The leader lock: one active scheduler per broker, on a short lease that it renews.

`SET lock token NX PX ttl` takes a free lock; the holder renews it with a compare-and-set script
(only while the token is still its own), so a scheduler that stalled past its lease can never
extend a lock another one has taken since. A standby retries every `ttl / 3`: after the leader
dies (SIGKILL) its lease runs out within `ttl` and a standby holds the lock within `ttl + ttl / 3`,
under the promised 2x `ttl`. A clean exit releases the lock at once.

The token says who holds the lock and since when (`host:pid:taken_at:random`, a fresh one at each
take), so the admin's Queues page can show the leader without another key.
"""

from __future__ import annotations

import os
import socket
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import redis

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class Leader:
    """Holds (or tries to hold) the scheduler lock on `client` under `key`."""

    def __init__(self, client: redis.Redis, key: str, ttl: float) -> None:
        self.client = client
        self.key = key
        self.ttl_ms = max(int(ttl * 1000), 100)
        self.token = _token(time.time())
        self.is_leader = False
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    @property
    def poll_interval(self) -> float:
        """Seconds between lock checks: renew (leader) or retry (standby) three times a lease."""
        return self.ttl_ms / 3000.0

    def ensure(self) -> bool:
        """Renew the lock if held, else try to take it. Returns whether this scheduler leads."""
        if self.is_leader and int(self._renew(keys=[self.key], args=[self.token, self.ttl_ms])) == 1:
            return True
        token = _token(time.time())
        self.is_leader = bool(self.client.set(self.key, token, nx=True, px=self.ttl_ms))
        if self.is_leader:
            self.token = token
        return self.is_leader

    def holder(self) -> str | None:
        value = self.client.get(self.key)
        return str(value) if value is not None else None

    def release(self) -> None:
        if self.is_leader:
            self._release(keys=[self.key], args=[self.token])
            self.is_leader = False


def _token(taken_at: float) -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{taken_at:.3f}:{os.urandom(6).hex()}"


def describe_token(token: str) -> dict[str, Any]:
    """host, pid and since (epoch seconds, None for a token without it) of a lock token."""
    parts = token.split(":")
    since: float | None = None
    if len(parts) >= 4:
        try:
            since = float(parts[-2])
        except ValueError:
            since = None
        host_pid = parts[:-2]
    else:
        host_pid = parts[:-1]
    pid = host_pid[-1] if host_pid else ""
    return {
        "host": ":".join(host_pid[:-1]),
        "pid": int(pid) if pid.isdigit() else None,
        "since": since,
    }
