"""The Lua scripts in broker/lua/, loaded once per client and run by SHA.

Each script is loaded with lua/lib.lua in front of it: the functions more than one script needs
(the run fence, the move into a terminal registry) are written once."""

from __future__ import annotations

import weakref
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from scheduler_core.broker.connection import is_cluster

if TYPE_CHECKING:
    import redis
    from redis.commands.core import Script


def queue_call(pipe: Any, script: Script, keys: list[str], args: list[Any]) -> None:
    """Queue a script call on a pipeline. On a Redis Cluster it goes as EVAL with the source: a
    Cluster pipeline does not load scripts first, and a node that never saw the script (a replica
    just promoted) would answer NOSCRIPT; a bulk call is large enough for the text not to matter."""

    if is_cluster(pipe):
        pipe.execute_command("EVAL", script.script, len(keys), *keys, *args)
    else:
        script(keys=keys, args=args, client=pipe)


NAMES = (
    "enqueue",
    "promote",
    "claim",
    "finish",
    "retry",
    "cancel",
    "requeue",
    "delete",
    "clear",
    "snapshot",
    "rescore",
    "watch",
    "meta",
)


def _read(name: str) -> str:
    return resources.files("scheduler_core.broker").joinpath("lua", f"{name}.lua").read_text()


@cache
def source(name: str) -> str:
    """The script as the server runs it: the shared functions, then the script itself."""
    return _read("lib") + _read(name)


class Scripts:
    """Registered scripts for one client; `Script` objects reload themselves after SCRIPT FLUSH."""

    def __init__(self, client: redis.Redis) -> None:
        self.enqueue: Script = client.register_script(source("enqueue"))
        self.promote: Script = client.register_script(source("promote"))
        self.claim: Script = client.register_script(source("claim"))
        self.finish: Script = client.register_script(source("finish"))
        self.retry: Script = client.register_script(source("retry"))
        self.cancel: Script = client.register_script(source("cancel"))
        self.requeue: Script = client.register_script(source("requeue"))
        self.delete: Script = client.register_script(source("delete"))
        self.clear: Script = client.register_script(source("clear"))
        self.snapshot: Script = client.register_script(source("snapshot"))
        self.rescore: Script = client.register_script(source("rescore"))
        self.watch: Script = client.register_script(source("watch"))
        self.meta: Script = client.register_script(source("meta"))


# Keyed by the client object itself (weakly), not by id(): an id can be reused by a new client
# for another URL once the old one is gone, and its scripts would then run on the old server.
_scripts: weakref.WeakKeyDictionary[redis.Redis, Scripts] = weakref.WeakKeyDictionary()


def scripts_for(client: redis.Redis) -> Scripts:
    s = _scripts.get(client)
    if s is None:
        s = _scripts[client] = Scripts(client)
    return s
