"""Broker errors as the Python API raises them: redis-py's connection and timeout errors become
BrokerUnavailable naming the broker with its password masked (the CLI's own one line, exit 69),
and its out-of-memory refusal BrokerOutOfMemory. The redis-py error stays as `__cause__`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Concatenate, ParamSpec, Protocol, TypeVar

from scheduler_core.broker.connection import mask_url
from scheduler_core.errors import BrokerUnavailable, is_out_of_memory, out_of_memory


def broker_error(exc: BaseException, url: str) -> BrokerUnavailable | None:
    """BrokerUnavailable naming the (masked) broker URL for a redis-py connection or timeout
    error (BrokerOutOfMemory for its out-of-memory refusal), else None. The Python API raises
    this, as the CLI's commands do (exit 69)."""
    if is_out_of_memory(exc):
        return out_of_memory()
    redis = sys.modules.get("redis")
    if redis is None or not isinstance(exc, (redis.ConnectionError, redis.TimeoutError)):
        return None
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return BrokerUnavailable(f"broker {mask_url(url)} unreachable: {first}")


class _HasBroker(Protocol):
    broker_url: str


_S = TypeVar("_S", bound=_HasBroker)
_P = ParamSpec("_P")
_R = TypeVar("_R")


def raises_broker_unavailable(method: Callable[Concatenate[_S, _P], _R]) -> Callable[Concatenate[_S, _P], _R]:
    """Decorate a public method of an object with a `broker_url`: a redis-py connection or
    timeout error leaves it as BrokerUnavailable (its `__cause__` is the redis-py error)."""

    @wraps(method)
    def wrapper(self: _S, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:
            err = broker_error(exc, self.broker_url)
            if err is None:
                raise
            raise err from exc

    return wrapper
