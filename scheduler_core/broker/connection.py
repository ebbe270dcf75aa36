"""Broker connections from URLs, with fail-fast timeouts and masked passwords.

Accepted URL forms:
    redis://[[user]:password@]host[:port][/db]
    rediss://...            TLS; query options ssl_ca_certs, ssl_certfile, ssl_keyfile,
                            ssl_cert_reqs (required|optional|none), ssl_check_hostname
    unix://[[user]:password@]/path/to/redis.sock[?db=N]
    valkey://, valkeys://   the same as redis:// and rediss:// (Valkey speaks the protocol)
    redis+sentinel://[[user]:password@]host1:26379,host2:26379/service[/db]
                            the master of `service`, found through the listed sentinels
    redis+cluster://[[user]:password@]host1:6379[,host2:6379...][/0]
    rediss+cluster://...    a Redis Cluster, found from any of the listed nodes (database 0 only);
                            valkey+cluster:// and valkeys+cluster:// are the same
"""

from __future__ import annotations

import math
import threading
from functools import cache
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qsl, unquote, urlsplit

from scheduler_core.errors import BrokerUnavailable, ConfigurationError

if TYPE_CHECKING:
    import redis

_SCHEMES = {
    "redis", "rediss", "unix", "valkey", "valkeys", "redis+sentinel", "valkey+sentinel",
    "redis+cluster", "rediss+cluster", "valkey+cluster", "valkeys+cluster",
}  # fmt: skip
_TLS = {"rediss", "valkeys", "rediss+cluster", "valkeys+cluster"}
_lock = threading.Lock()
_clients: dict[tuple[str, float], redis.Redis] = {}


@cache
def outage_errors() -> tuple[type[BaseException], ...]:
    """What a broker outage raises, to be ridden out: a lost or refused connection, a timeout, and
    on a Redis Cluster a cluster that is down, a slot being failed over, or a slot map gone stale."""
    import redis
    from redis.exceptions import ClusterDownError, SlotNotCoveredError, TryAgainError

    return (redis.ConnectionError, redis.TimeoutError, ClusterDownError, TryAgainError, SlotNotCoveredError)


def is_cluster_url(url: str) -> bool:
    return url.partition("://")[0].lower().endswith("+cluster")


def is_cluster(client: object) -> bool:
    """Whether `client` is a Redis Cluster client (or one of its pipelines)."""
    from redis.cluster import RedisCluster

    return isinstance(client, RedisCluster)


_CERT_REQS = ("required", "optional", "none")


def _credentials_end(rest: str) -> int:
    """Index of the `@` that ends the credentials in `rest` (the URL after `scheme://`), or -1.

    Usually the last `@` before the query; but a password may hold an unescaped `?` or `#` (then
    no `@` precedes the first one), so an `@` after it counts unless what lies between reads as
    a query (`?key=value`): over-masking is harmless, a shown password is not."""
    cut = min((i for i in (rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    before, last = rest.rfind("@", 0, cut), rest.rfind("@")
    if before < 0 or last == before:
        return last
    return before if "=" in rest[cut:last] else last


def mask_url(url: str) -> str:
    """The URL with any password replaced by ***, whatever its shape.

    The credentials end at the last `@` (see `_credentials_end`), so a password holding an
    unescaped `@`, `/`, `:`, `?` or `#` is still hidden whole (a URL parser would split it
    elsewhere). Text that is not even `scheme://...` is masked up to its last `@` too."""
    scheme, sep, rest = url.partition("://")
    head = f"{scheme}://" if sep else ""
    if not sep:
        rest = url
    at = _credentials_end(rest)
    if at < 0:
        return url
    user, colon, _ = rest[:at].partition(":")
    if not sep:
        return f"***{rest[at:]}"
    return f"{head}{user}{colon}***{rest[at:]}" if colon else url


def _secrets(url: str) -> list[str]:
    """The password of `url` as written and decoded, and its pieces a parser may quote alone."""
    from urllib.parse import unquote as _unquote

    _, sep, rest = url.partition("://")
    rest = rest if sep else url
    at = _credentials_end(rest)
    if at < 0:
        return []
    password = rest[:at].partition(":")[2]
    if not password:
        return []
    import re

    pieces = [p for p in re.split(r"[:/@?#]", password) if len(p) >= 3]
    return sorted({password, _unquote(password), *pieces}, key=len, reverse=True)


def redact(text: str, url: str) -> str:
    """`text` (an error message about `url`) with every trace of the URL's password removed."""
    for secret in _secrets(url):
        if secret:
            text = text.replace(secret, "***")
    return text


def _bool(value: str) -> bool:
    return value.lower() in ("1", "true", "yes", "on")


def parse_url(url: str, connect_timeout: float = 3.0) -> dict[str, Any]:
    """Client keyword arguments for `url` (pure: no connection is made). Every error message is
    redacted: no part of the password reaches it, whatever the URL's shape."""
    try:
        return _parse_url(url, connect_timeout)
    except ConfigurationError as exc:
        raise ConfigurationError(redact(str(exc), url)) from None


def _parse_url(url: str, connect_timeout: float) -> dict[str, Any]:
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # e.g. an unbalanced [ in the host
        raise ConfigurationError(redact(f"broker URL {mask_url(url)!r}: {exc}", url)) from None
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        raise ConfigurationError(f"broker URL {mask_url(url)!r}: unsupported scheme {scheme!r}")
    rest = url.partition("://")[2]
    if _credentials_end(rest) >= len(parts.netloc):  # the parser took part of it for the path
        raise ConfigurationError(
            f"broker URL {mask_url(url)!r}: the credentials hold an unescaped / ? or #: "
            "percent-encode them (e.g. %2F %3F %23)"
        )
    query = dict(parse_qsl(parts.query))
    kw: dict[str, Any] = {"health_check_interval": 30}
    for key, default in (("socket_connect_timeout", connect_timeout), ("socket_timeout", 30.0)):
        try:
            kw[key] = float(query.pop(key, default))
        except ValueError:
            raise ConfigurationError(
                f"broker URL {mask_url(url)!r}: {key} must be a number of seconds"
            ) from None
        if not math.isfinite(kw[key]) or kw[key] <= 0:
            raise ConfigurationError(f"broker URL {mask_url(url)!r}: {key} must be a number of seconds > 0")
    if parts.username:
        kw["username"] = unquote(parts.username)
    if parts.password:
        kw["password"] = unquote(parts.password)
    try:
        if scheme.endswith("+cluster"):
            kw["nodes"] = _hosts(parts.netloc, 6379)
            path = parts.path.strip("/")
            if int(path or query.pop("db", "0")) != 0:
                raise ValueError("a Redis Cluster has database 0 only")
            kw["db"] = 0
            kw["kind"] = "cluster"
            if scheme in _TLS:
                _tls_options(kw, query)
        elif scheme.endswith("+sentinel"):
            hosts = _hosts(parts.netloc, 26379)
            segs = [s for s in parts.path.split("/") if s]
            if not segs:
                raise ConfigurationError(f"broker URL {mask_url(url)!r}: no sentinel service name")
            kw["sentinels"] = hosts
            kw["service"] = segs[0]
            kw["db"] = int(segs[1]) if len(segs) > 1 else int(query.pop("db", 0))
            kw["kind"] = "sentinel"
        elif scheme == "unix":
            kw["unix_socket_path"] = parts.path
            kw["db"] = int(query.pop("db", 0))
            kw["kind"] = "unix"
        else:
            kw["host"] = parts.hostname or "127.0.0.1"
            kw["port"] = parts.port or 6379
            path = parts.path.strip("/")
            kw["db"] = int(path) if path else int(query.pop("db", 0))
            kw["kind"] = "tcp"
            if scheme in _TLS:
                _tls_options(kw, query)
    except ValueError as exc:  # a port or db that is not a number, quoting the bad text
        raise ConfigurationError(redact(f"broker URL {mask_url(url)!r}: {exc}", url)) from None
    if query:
        unknown = ", ".join(sorted(query))
        raise ConfigurationError(f"broker URL {mask_url(url)!r}: unknown option(s) {unknown}")
    return kw


def _hosts(netloc: str, default_port: int) -> list[tuple[str, int]]:
    hosts = []
    for item in netloc.rsplit("@", 1)[-1].split(","):
        host, _, port = item.rpartition(":") if item.count(":") == 1 else (item, "", "")
        if not host:
            raise ValueError(f"empty host in {item!r}")
        hosts.append((host, int(port or default_port)))
    return hosts


def _tls_options(kw: dict[str, Any], query: dict[str, str]) -> None:
    kw["ssl"] = True
    for key in ("ssl_ca_certs", "ssl_certfile", "ssl_keyfile", "ssl_ca_path"):
        if key in query:
            kw[key] = query.pop(key)
    if "ssl_cert_reqs" in query:
        reqs = query.pop("ssl_cert_reqs").lower()
        if reqs not in _CERT_REQS:
            choices = ", ".join(_CERT_REQS)
            raise ValueError(f"ssl_cert_reqs must be one of {choices}, not {reqs!r}")
        kw["ssl_cert_reqs"] = reqs
    if "ssl_check_hostname" in query:
        kw["ssl_check_hostname"] = _bool(query.pop("ssl_check_hostname"))


def connect(url: str, connect_timeout: float = 3.0, *, socket_timeout: float | None = None) -> redis.Redis:
    """A new client for `url` (its own connection pool).

    One immediate retry and no backoff: a stale pooled connection is replaced transparently, and
    an unreachable broker fails after about 2 x `connect_timeout` instead of redis-py's default
    exponential-backoff retries (which took ~5 s against a closed port)."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry
    from redis.sentinel import Sentinel

    kw = parse_url(url, connect_timeout)
    if socket_timeout is not None:
        kw["socket_timeout"] = socket_timeout
    kw["decode_responses"] = True
    kw["retry"] = Retry(NoBackoff(), 1)
    kind = kw.pop("kind")
    if kind == "sentinel":
        sentinels = kw.pop("sentinels")
        service = kw.pop("service")
        sentinel_kw = {k: kw[k] for k in ("socket_connect_timeout", "socket_timeout") if k in kw}
        sentinel = Sentinel(sentinels, sentinel_kwargs=sentinel_kw, **kw)  # type: ignore[no-untyped-call]
        return cast("redis.Redis", sentinel.master_for(service))  # type: ignore[no-untyped-call]
    if kind == "cluster":
        return _cluster(kw)
    return redis.Redis(**kw)


def _cluster(kw: dict[str, Any]) -> redis.Redis:
    """A RedisCluster client: it follows MOVED / ASK and refreshes its slot map after a failover.

    Typed as redis.Redis for its callers: they use only commands both clients have (keys of one
    queue share a slot, the cross-queue keys share another)."""
    from redis.cluster import ClusterNode, RedisCluster

    nodes = [ClusterNode(host, port) for host, port in kw.pop("nodes")]  # type: ignore[no-untyped-call]
    kw.pop("db")
    kw.pop("health_check_interval")
    client = RedisCluster(startup_nodes=nodes, **kw)
    return cast("redis.Redis", client)


def get_client(url: str, connect_timeout: float = 3.0) -> redis.Redis:
    """A shared client per URL for this process (redis-py pools are fork-aware)."""
    key = (url, connect_timeout)
    client = _clients.get(key)
    if client is None:
        with _lock:
            client = _clients.get(key)
            if client is None:
                client = _clients[key] = connect(url, connect_timeout)
    return client


def existing_client(url: str, connect_timeout: float = 3.0) -> redis.Redis | None:
    """The shared client for `url` if this process made one (so nothing connects just to ask)."""
    return _clients.get((url, connect_timeout))


def reset_clients() -> None:
    with _lock:
        for c in _clients.values():
            c.close()
        _clients.clear()


def check(url: str, connect_timeout: float = 3.0) -> None:
    """PING the broker on a fresh connection with short timeouts; BrokerUnavailable (exit 69)
    when it does not answer, refuses the credentials or is not a Redis server at all, and
    ConfigurationError (exit 78) for a Redis Cluster node behind a plain URL (it would answer
    MOVED to most keys)."""
    import redis
    from redis.exceptions import RedisClusterException

    client: redis.Redis | None = None
    try:
        client = connect(url, connect_timeout, socket_timeout=connect_timeout)
        client.ping()
        if not is_cluster_url(url):
            info = client.info("cluster")
            if int(info.get("cluster_enabled", 0)) == 1:
                raise ConfigurationError(
                    f"broker {mask_url(url)} is a Redis Cluster node: "
                    "use a redis+cluster://host:port[,host:port...] URL"
                )
    except redis.AuthenticationError as exc:
        raise BrokerUnavailable(f"broker {mask_url(url)} refused the credentials: {exc}") from None
    except redis.ResponseError as exc:  # NOAUTH and friends
        raise BrokerUnavailable(f"broker {mask_url(url)} refused the connection: {exc}") from None
    except (redis.ConnectionError, redis.TimeoutError, RedisClusterException) as exc:
        raise BrokerUnavailable(f"broker {mask_url(url)} unreachable: {exc}") from None
    except redis.RedisError as exc:  # e.g. a port that speaks another protocol
        raise BrokerUnavailable(f"broker {mask_url(url)} did not answer as Redis: {exc}") from None
    finally:
        if client is not None:
            client.close()
