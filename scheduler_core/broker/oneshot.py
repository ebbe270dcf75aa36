"""One pipelined round trip to a broker without redis-py, for the CLI's read-only views.

Importing redis-py costs about 50 ms (it loads asyncio, its observability layer and
importlib.metadata), more than everything else `taskctl queues show` does. This needs only
`socket` and hiredis, the C reply parser that comes with redis[hiredis]. It speaks to plain TCP
and unix-socket URLs; for TLS and Sentinel URLs `supported` is False and callers use redis-py.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from typing import Any

import hiredis

from scheduler_core.broker.connection import mask_url, parse_url
from scheduler_core.errors import BrokerUnavailable

Command = Sequence[str | int | float]
_REFUSED = ("NOAUTH", "WRONGPASS", "ERR AUTH", "ERR invalid password", "ERR Client sent AUTH")


class ReplyError(Exception):
    """An error reply from the server, returned in the reply's place (never raised here)."""


def supported(url: str) -> bool:
    """Whether `url` is one this module can reach (plain TCP or a unix socket)."""
    scheme = url.partition("://")[0].lower()
    return scheme in ("redis", "valkey", "unix")


def execute(url: str, commands: Sequence[Command], connect_timeout: float = 3.0) -> list[Any]:
    """The replies to `commands`, sent in one write on a fresh connection and read back in order.

    An error reply stands in its place as a ReplyError, as redis-py's
    `execute(raise_on_error=False)` does. A broker that does not answer, refuses the credentials
    or does not speak RESP is BrokerUnavailable (exit 69)."""
    kw = parse_url(url, connect_timeout)
    prelude: list[Command] = []
    if "password" in kw:
        user = kw.get("username")
        prelude.append(("AUTH", user, kw["password"]) if user else ("AUTH", kw["password"]))
    if kw["db"]:
        prelude.append(("SELECT", kw["db"]))
    # (hiredis's stub types pack_command's argument as a 1-tuple)
    payload = b"".join(hiredis.pack_command(tuple(c)) for c in (*prelude, *commands))  # type: ignore[arg-type]
    where = mask_url(url)
    try:
        sock = _connect(kw)
        try:
            sock.settimeout(kw["socket_timeout"])
            sock.sendall(payload)
            replies = _read(sock, len(prelude) + len(commands))
        finally:
            sock.close()
    except TimeoutError:
        raise BrokerUnavailable(f"broker {where} unreachable: timed out") from None
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise BrokerUnavailable(f"broker {where} unreachable: {reason}") from None
    except hiredis.ProtocolError as exc:
        raise BrokerUnavailable(f"broker {where} did not answer as Redis: {exc}") from None
    for i, reply in enumerate(replies):
        # any error to AUTH / SELECT (a bad database index, NOPERM), or a command refused for
        # want of credentials: the views would otherwise show another database's counts
        if isinstance(reply, ReplyError) and (i < len(prelude) or str(reply).startswith(_REFUSED)):
            raise BrokerUnavailable(f"broker {where} refused the connection: {reply}")
    return replies[len(prelude) :]


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
