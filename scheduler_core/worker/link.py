"""A dedicated broker connection for an execution process's hot path.

redis-py's `Redis.execute_command` spends more time per call in its pool, retry and telemetry
layers than the round trip itself takes on a local broker (about 165 µs against 80 µs measured
here for an EVALSHA). An execution process is single-threaded and owns its connection, so it
talks through one `Connection` directly: same packing and parsing (hiredis), no per-call layers.
It implements the two methods redis-py's `Script` calls, plus BLPOP.
"""

from __future__ import annotations

from typing import Any

import redis


class Link:
    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self.conn = client.connection_pool.make_connection()

    def _call(self, *args: Any) -> Any:
        conn = self.conn
        try:
            conn.send_command(*args)  # type: ignore[no-untyped-call]
            return conn.read_response()
        except BaseException as exc:
            if not isinstance(exc, redis.ResponseError):
                conn.disconnect()  # type: ignore[no-untyped-call]  # a reply may be pending: never reuse the connection then
            raise

    def evalsha(self, sha: str, numkeys: int, *args: Any) -> Any:
        return self._call("EVALSHA", sha, numkeys, *args)

    def script_load(self, script: str) -> str:
        return str(self._call("SCRIPT", "LOAD", script))

    def blpop(self, keys: list[str], timeout: float = 0) -> Any:
        return self._call("BLPOP", *keys, timeout)

    def close(self) -> None:
        self.conn.disconnect()  # type: ignore[no-untyped-call]
