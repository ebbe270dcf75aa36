"""One pipelined round trip to a broker without redis-py, for the CLI's read-only views.

Importing redis-py costs about 50 ms (it loads asyncio, its observability layer and
importlib.metadata), more than everything else `taskctl queues show` does. This needs only
`socket` and hiredis, the C reply parser that comes with redis[hiredis]. It speaks to plain TCP
and unix-socket URLs, asks the sentinels of a Sentinel URL for the master first, and on a Redis
Cluster sends everything to the first node that answers, then each command it redirects (MOVED,
or ASK for a slot being migrated) to the node named: one round trip per node. For TLS URLs
`supported` is False and callers use redis-py.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from typing import Any

import hiredis

from scheduler_core.broker.connection import mask_url, parse_url
from scheduler_core.errors import BrokerUnavailable, ConfigurationError

Command = Sequence[str | int | float]
_REFUSED = ("NOAUTH", "WRONGPASS", "ERR AUTH", "ERR invalid password", "ERR Client sent AUTH")
# what a Cluster node answers to a client that does not know it is one
_CLUSTER_ONLY = ("MOVED ", "ASK ", "CROSSSLOT", "CLUSTERDOWN", "ERR GET option of SORT denied in Cluster")
_MAX_HOPS = 5


class ReplyError(Exception):
    """An error reply from the server, returned in the reply's place (never raised here)."""


def supported(url: str) -> bool:
    """Whether `url` is one this module can reach (plain TCP or a unix socket)."""
    scheme = url.partition("://")[0].lower()
    return scheme in ("redis", "valkey", "unix", "redis+sentinel", "valkey+sentinel", "redis+cluster",
                      "valkey+cluster")  # fmt: skip


def execute(url: str, commands: Sequence[Command], connect_timeout: float = 3.0) -> list[Any]:
    """The replies to `commands`, sent in one write on a fresh connection and read back in order.

    An error reply stands in its place as a ReplyError, as redis-py's
    `execute(raise_on_error=False)` does. A broker that does not answer, refuses the credentials
    or does not speak RESP is BrokerUnavailable (exit 69); a Cluster node behind a plain URL is
    ConfigurationError (exit 78)."""
    kw = parse_url(url, connect_timeout)
    where = mask_url(url)
    try:
        if kw["kind"] == "sentinel":
            kw.update(_master_of(kw, where), kind="tcp")
        if kw["kind"] == "cluster":
            return _on_cluster(kw, commands, where)
        replies = _round_trip(kw, commands, where)
    except TimeoutError:
        raise BrokerUnavailable(f"broker {where} unreachable: timed out") from None
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise BrokerUnavailable(f"broker {where} unreachable: {reason}") from None
    except hiredis.ProtocolError as exc:
        raise BrokerUnavailable(f"broker {where} did not answer as Redis: {exc}") from None
    for reply in replies:
        if isinstance(reply, ReplyError) and str(reply).startswith(_CLUSTER_ONLY):
            raise ConfigurationError(
                f"broker {where} is a Redis Cluster node: use a redis+cluster://host:port[,host:port...] URL"
            )
    return replies


def _round_trip(kw: dict[str, Any], commands: Sequence[Command], where: str) -> list[Any]:
    """One connection, one write, every reply (AUTH and SELECT first, as the URL asks)."""
    prelude: list[Command] = []
    if "password" in kw:
        user = kw.get("username")
        prelude.append(("AUTH", user, kw["password"]) if user else ("AUTH", kw["password"]))
    if kw["db"]:
        prelude.append(("SELECT", kw["db"]))
    # (hiredis's stub types pack_command's argument as a 1-tuple)
    payload = b"".join(hiredis.pack_command(tuple(c)) for c in (*prelude, *commands))  # type: ignore[arg-type]
    sock = _connect(kw)
    try:
        sock.settimeout(kw["socket_timeout"])
        sock.sendall(payload)
        replies = _read(sock, len(prelude) + len(commands))
    finally:
        sock.close()
    for i, reply in enumerate(replies):
        # any error to AUTH / SELECT (a bad database index, NOPERM), or a command refused for
        # want of credentials: the views would otherwise show another database's counts
        if isinstance(reply, ReplyError) and (i < len(prelude) or str(reply).startswith(_REFUSED)):
            raise BrokerUnavailable(f"broker {where} refused the connection: {reply}")
    return replies[len(prelude) :]


def _master_of(kw: dict[str, Any], where: str) -> dict[str, Any]:
    """The master's address, from the first sentinel that knows the service (as redis-py does,
    the sentinels themselves are asked without credentials)."""
    ask = {k: kw[k] for k in ("socket_timeout", "socket_connect_timeout")} | {"db": 0, "kind": "tcp"}
    last: OSError | None = None
    for host, port in kw["sentinels"]:
        try:
            question = ("SENTINEL", "get-master-addr-by-name", kw["service"])
            reply = _round_trip({**ask, "host": host, "port": port}, [question], where)[0]
        except (OSError, hiredis.ProtocolError) as exc:
            last = exc if isinstance(exc, OSError) else None
            continue
        if isinstance(reply, list) and len(reply) == 2:
            return {"host": reply[0], "port": int(reply[1])}
    if last is not None:
        raise last
    raise BrokerUnavailable(f"broker {where} unreachable: no sentinel knows a master for {kw['service']!r}")


def _on_cluster(kw: dict[str, Any], commands: Sequence[Command], where: str) -> list[Any]:
    """Send everything to a seed node, then re-send each redirected command where it was sent."""
    replies: list[Any] = [None] * len(commands)
    todo: dict[tuple[str, int], list[int]] = {}
    seeds: list[tuple[str, int]] = kw["nodes"]
    last: OSError | None = None
    for node in seeds:  # the first seed that answers takes the first round trip
        try:
            _send_to(kw, node, list(range(len(commands))), commands, replies, todo, where)
            break
        except OSError as exc:
            last = exc
    else:
        assert last is not None
        raise last
    for _ in range(_MAX_HOPS):
        if not todo:
            return replies
        batch, todo = todo, {}
        for node, indexes in batch.items():
            _send_to(kw, node, indexes, commands, replies, todo, where)
    raise BrokerUnavailable(f"broker {where}: the cluster kept redirecting (is it resharding?)")


def _send_to(
    kw: dict[str, Any],
    node: tuple[str, int],
    indexes: list[int],
    commands: Sequence[Command],
    replies: list[Any],
    todo: dict[tuple[str, int], list[int]],
    where: str,
) -> None:
    """Commands `indexes` on `node`: their replies, or their redirections added to `todo`. A
    command redirected by ASK goes with ASKING before it (its reply is dropped)."""
    host, port = node
    sent: list[Command] = []
    answers: list[int | None] = []  # per sent command: the index it answers, None for ASKING
    for i in indexes:
        command = commands[i]
        if isinstance(replies[i], _Ask):
            sent.append(("ASKING",))
            answers.append(None)
        sent.append(command)
        answers.append(i)
    got = _round_trip({**kw, "host": host, "port": port, "db": 0}, sent, where)
    for index, reply in zip(answers, got, strict=True):
        if index is None:
            continue
        i = index
        text = str(reply) if isinstance(reply, ReplyError) else ""
        if text.startswith(("MOVED ", "ASK ")):
            rhost, _, rport = text.split()[2].rpartition(":")
            todo.setdefault((rhost or host, int(rport)), []).append(i)
            replies[i] = _Ask(text) if text.startswith("ASK ") else None
        else:
            replies[i] = reply


class _Ask(ReplyError):
    """A command the cluster redirected by ASK: its next attempt is preceded by ASKING."""


def _connect(kw: dict[str, Any]) -> socket.socket:
    if kw["kind"] == "unix":
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(kw["socket_connect_timeout"])
            sock.connect(kw["unix_socket_path"])
        except BaseException:
            sock.close()
            raise
        return sock
    sock = socket.create_connection((kw["host"], kw["port"]), timeout=kw["socket_connect_timeout"])
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _read(sock: socket.socket, count: int) -> list[Any]:
    reader = hiredis.Reader(encoding="utf-8", replyError=ReplyError)
    replies: list[Any] = []
    while len(replies) < count:
        reply = reader.gets()
        if reply is not False:
            replies.append(reply)
            continue
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionResetError(0, "the broker closed the connection")
        reader.feed(chunk)
    return replies
