"""Pub/sub on any broker: plain channels on one server, sharded channels on a Redis Cluster.

A plain PUBLISH on a Cluster is copied to every node over the cluster bus; a sharded one
(SPUBLISH / SSUBSCRIBE, Redis 7) goes only to the shard that owns the channel's slot, and the
channel names carry the cross-queue hash tag, so they live beside the worker records. When the
slot moves (a failover) the server ends the subscription (`sunsubscribe`), and `Subscription`
raises a ConnectionError: its owner subscribes again, on the new master.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import redis

from scheduler_core.broker.connection import is_cluster

if TYPE_CHECKING:
    import redis


def publish(client: redis.Redis, channel: str, message: bytes | str) -> None:
    if is_cluster(client):
        client.spublish(channel, message)
    else:
        client.publish(channel, message)


class Subscription:
    """One channel on `client`: `get(timeout)` returns the next message's data or None."""

    def __init__(self, client: redis.Redis, channel: str) -> None:
        self.sharded = is_cluster(client)
        self.pubsub: Any = client.pubsub()  # type: ignore[no-untyped-call]
        if self.sharded:
            self.pubsub.ssubscribe(channel)
        else:
            self.pubsub.subscribe(channel)

    def get(self, timeout: float) -> Any:
        if not self.sharded:
            message = self.pubsub.get_message(ignore_subscribe_messages=True, timeout=timeout)
            return message["data"] if message is not None and message.get("type") == "message" else None
        deadline = time.monotonic() + timeout
        while True:
            message = self.pubsub.get_sharded_message(timeout=max(deadline - time.monotonic(), 0.0))
            if message is None:
                return None
            kind = message.get("type")
            if kind == "smessage":
                return message["data"]
            if kind == "sunsubscribe":  # the slot moved: subscribe again where it lives now
                raise redis.ConnectionError("the channel's slot moved (a failover?)")
            if time.monotonic() >= deadline:  # an ssubscribe confirmation
                return None

    def close(self) -> None:
        self.pubsub.close()
