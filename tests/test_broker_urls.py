"""Broker URLs: parsing every form, and real connections over a unix socket, TLS and Sentinel to
private redis-server processes started here; masked passwords; fail-fast on a dead broker."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from scheduler_core.broker import oneshot
from scheduler_core.broker.connection import check, connect, mask_url, parse_url
from scheduler_core.conf import reset_config
from scheduler_core.errors import BrokerUnavailable, ConfigurationError
from scheduler_core.queues.queue import JobCall, get_queue

SERVER = shutil.which("redis-server")
needs_server = pytest.mark.skipif(SERVER is None, reason="no redis-server binary on PATH")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(predicate: object, timeout: float = 10.0) -> None:
    end = time.time() + timeout
    while time.time() < end:
        try:
            if predicate():  # type: ignore[operator]
                return
        except Exception:
            pass
        time.sleep(0.05)
    raise AssertionError("timed out waiting for a private server")


class Server:
    """A private redis-server (or sentinel) process in a temporary directory."""

    def __init__(self, *args: str, sentinel_conf: str | None = None) -> None:
        assert SERVER is not None
        self.dir = Path(tempfile.mkdtemp(prefix="taskctl-redis-"))
        cmd = [SERVER]
        if sentinel_conf is not None:
            conf = self.dir / "sentinel.conf"
            conf.write_text(sentinel_conf)
            cmd += [str(conf), "--sentinel"]
        cmd += ["--save", "", "--appendonly", "no", "--dir", str(self.dir), *args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def unix_server() -> Iterator[str]:
    """A private server on a unix socket only, with a password: yields the socket path."""
    if SERVER is None:
        pytest.skip("no redis-server binary on PATH")
    sock_dir = tempfile.mkdtemp(prefix="taskctl-sock-")
    path = f"{sock_dir}/redis.sock"
    server = Server("--port", "0", "--unixsocket", path, "--requirepass", "s3cr:et@pw")
    wait_for(lambda: connect("unix://:s3cr%3Aet%40pw@" + path).ping())
    yield path
    server.stop()
    shutil.rmtree(sock_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def private_redis() -> Iterator[str]:
    """A private passwordless server on a unix socket: its command statistics are ours alone."""
    if SERVER is None:
        pytest.skip("no redis-server binary on PATH")
    sock_dir = tempfile.mkdtemp(prefix="taskctl-sock-")
    url = f"unix://{sock_dir}/redis.sock"
    server = Server("--port", "0", "--unixsocket", f"{sock_dir}/redis.sock")
    wait_for(lambda: connect(url).ping())
    yield url
    server.stop()
    shutil.rmtree(sock_dir, ignore_errors=True)


# ----- parsing (pure) -----
def test_redis_url_forms() -> None:
    kw = parse_url("redis://user:p%40ss@example.com:6380/4")
    assert (kw["host"], kw["port"], kw["db"], kw["username"], kw["password"]) == (
        "example.com",
        6380,
        4,
        "user",
        "p@ss",
    )
    assert kw["kind"] == "tcp" and "ssl" not in kw and kw["socket_connect_timeout"] == 3.0
    kw = parse_url("redis://localhost")
    assert (kw["port"], kw["db"]) == (6379, 0)
    assert parse_url("redis://h/?db=3")["db"] == 3
    assert parse_url("redis://h/1?socket_timeout=2&socket_connect_timeout=0.5")["socket_timeout"] == 2.0
    assert parse_url("REDIS://h/1")["kind"] == "tcp"


def test_rediss_and_valkeys_carry_tls_options() -> None:
    url = "rediss://:pw@h:6390/0?ssl_ca_certs=/etc/ca.pem&ssl_cert_reqs=REQUIRED&ssl_check_hostname=false"
    kw = parse_url(url)
    assert kw["ssl"] is True and kw["ssl_ca_certs"] == "/etc/ca.pem"
    assert kw["ssl_cert_reqs"] == "required" and kw["ssl_check_hostname"] is False
    kw = parse_url("valkeys://h?ssl_certfile=/c.pem&ssl_keyfile=/k.pem&ssl_cert_reqs=none")
    assert (kw["ssl"], kw["ssl_certfile"], kw["ssl_keyfile"], kw["ssl_cert_reqs"]) == (
        True,
        "/c.pem",
        "/k.pem",
        "none",
    )
    assert "ssl" not in parse_url("valkey://h:6379/2") and parse_url("valkey://h:6379/2")["db"] == 2


def test_unix_and_sentinel_forms() -> None:
    kw = parse_url("unix://:pw@/var/run/redis.sock?db=5")
    assert (kw["kind"], kw["unix_socket_path"], kw["db"], kw["password"]) == (
        "unix",
        "/var/run/redis.sock",
        5,
        "pw",
    )
    kw = parse_url("redis+sentinel://:pw@s1:26379,s2,10.0.0.3:26380/mymaster/2")
    assert kw["kind"] == "sentinel" and kw["service"] == "mymaster" and kw["db"] == 2
    assert kw["sentinels"] == [("s1", 26379), ("s2", 26379), ("10.0.0.3", 26380)] and kw["password"] == "pw"
    assert parse_url("valkey+sentinel://s1/svc")["db"] == 0


def test_cluster_forms() -> None:
    kw = parse_url("redis+cluster://u:pw@n1:7000,n2,10.0.0.3:7002/0")
    assert kw["kind"] == "cluster" and kw["db"] == 0 and (kw["username"], kw["password"]) == ("u", "pw")
    assert kw["nodes"] == [("n1", 7000), ("n2", 6379), ("10.0.0.3", 7002)] and "ssl" not in kw
    tls = parse_url("rediss+cluster://n1:7000?ssl_cert_reqs=none&ssl_ca_certs=/ca.pem")
    assert (tls["ssl"], tls["ssl_cert_reqs"], tls["ssl_ca_certs"], tls["nodes"]) == (
        True, "none", "/ca.pem", [("n1", 7000)]
    )  # fmt: skip
    assert parse_url("valkey+cluster://n1")["nodes"] == [("n1", 6379)]
    assert parse_url("valkeys+cluster://n1:1")["ssl"] is True


def test_oneshot_takes_sentinel_and_cluster_urls_but_not_tls() -> None:

    assert oneshot.supported("redis+sentinel://s1/svc") and oneshot.supported("redis+cluster://n1:7000")
    assert not oneshot.supported("rediss+cluster://n1:7000") and not oneshot.supported("rediss://h/0")


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("http://h/0", "unsupported scheme 'http'"),
        ("redis://h/notanumber", "invalid literal"),
        ("redis://h:port/0", "Port could not be cast"),
        ("redis://:hunter2@h/0?bogus=1", "unknown option"),
        ("rediss://:hunter2@h/0?ssl_cert_reqs=maybe", "ssl_cert_reqs must be one of"),
        ("redis+sentinel://:hunter2@s1:x/svc", "invalid literal"),
        ("redis+sentinel://:hunter2@s1:26379/", "no sentinel service name"),
        ("redis+cluster://:hunter2@n1:7000/3", "database 0 only"),
        ("redis+cluster://:hunter2@n1:x", "invalid literal"),
        ("redis+cluster://:hunter2@n1,:7001", "empty host"),
    ],
)
def test_bad_urls_are_configuration_errors_without_the_password(url: str, match: str) -> None:
    with pytest.raises(ConfigurationError, match=match) as exc:
        parse_url(url)
    assert exc.value.exit_code == 78 and "hunter2" not in str(exc.value)


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("redis://:pw@h:6379/0", "redis://:***@h:6379/0"),
        ("redis://user:pw@h/0", "redis://user:***@h/0"),
        ("redis://u:p@ss/w:rd@h/0", "redis://u:***@h/0"),  # unescaped @ / : in the password
        ("rediss://u:pw@h/0?ssl_ca_certs=/a@b.pem", "rediss://u:***@h/0?ssl_ca_certs=/a@b.pem"),
        ("redis+sentinel://:pw@a:1,b:2/svc/0", "redis+sentinel://:***@a:1,b:2/svc/0"),
        ("rediss+cluster://u:pw@a:1,b:2", "rediss+cluster://u:***@a:1,b:2"),
        ("unix://:pw@/tmp/r.sock?db=1", "unix://:***@/tmp/r.sock?db=1"),
        ("redis://user@h/0", "redis://user@h/0"),
        ("redis://h/0", "redis://h/0"),
        ("not a url", "not a url"),
    ],
)
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked


# ----- fail fast, never leak -----
def test_closed_port_fails_fast_without_leaking_the_password() -> None:
    url = f"redis://:topsecret@127.0.0.1:{free_port()}/0"
    start = time.monotonic()
    with pytest.raises(BrokerUnavailable) as exc:
        check(url)
    assert time.monotonic() - start < 3
    assert exc.value.exit_code == 69 and "topsecret" not in str(exc.value) and "***" in str(exc.value)


def test_a_server_that_never_answers_fails_within_the_connect_timeout() -> None:
    """A listener that accepts and says nothing (a firewall, a wrong service): no hang."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        port = listener.getsockname()[1]
        start = time.monotonic()
        with pytest.raises(BrokerUnavailable, match="unreachable") as exc:
            check(f"redis://:topsecret@127.0.0.1:{port}/0", connect_timeout=1.0)
        assert time.monotonic() - start < 3.5 and "topsecret" not in str(exc.value)


def test_a_server_speaking_another_protocol_is_unavailable_not_a_crash() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        port = listener.getsockname()[1]

        def answer_http() -> None:
            for _ in range(2):  # the client may try once or twice; the listener closes after
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                conn.recv(1024)
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
                conn.close()

        threading.Thread(target=answer_http, daemon=True).start()
        with pytest.raises(BrokerUnavailable) as exc:
            check(f"redis://127.0.0.1:{port}/0", connect_timeout=1.0)
        assert exc.value.exit_code == 69


# ----- real connections to private servers -----
@needs_server
def test_unix_socket_with_password(unix_server: str) -> None:
    url = f"unix://:s3cr%3Aet%40pw@{unix_server}?db=3"
    r = connect(url)
    r.set("k", "v")
    assert r.get("k") == "v" and r.connection_pool.connection_kwargs["db"] == 3
    assert connect(f"unix://:s3cr%3Aet%40pw@{unix_server}?db=0").get("k") is None
    check(url)  # no error
    r.flushall()


@needs_server
@pytest.mark.parametrize("url_auth", [":wrong-pw@", ""])
def test_wrong_or_missing_password_is_unavailable_and_masked(unix_server: str, url_auth: str) -> None:
    with pytest.raises(BrokerUnavailable, match="refused") as exc:
        check(f"unix://{url_auth}{unix_server}")
    assert exc.value.exit_code == 69 and "wrong-pw" not in str(exc.value)


@needs_server
def test_queue_on_its_own_broker_url(unix_server: str, settings: object) -> None:
    """A per-queue BROKER_URL in SCHEDULER['QUEUES'] sends that queue to another server."""
    conf = dict(settings.SCHEDULER)  # type: ignore[attr-defined]
    conf["QUEUES"] = {"default": {}, "remote": {"BROKER_URL": f"unix://:s3cr%3Aet%40pw@{unix_server}?db=1"}}
    settings.SCHEDULER = conf  # type: ignore[attr-defined]
    reset_config()
    remote = get_queue("remote")
    j = remote.enqueue("tests.jobs.noop")
    assert remote.connection.exists(remote.keys.job(j.id)) == 1
    assert get_queue("default").connection.exists(remote.keys.job(j.id)) == 0
    remote.clear("queued")


def _commandstats(r: object) -> dict[str, int]:
    return {k: int(v["calls"]) for k, v in r.info("commandstats").items()}  # type: ignore[attr-defined]


def _delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    out = {k: after[k] - before.get(k, 0) for k in after}
    return {k: v for k, v in out.items() if v and k != "cmdstat_info"}


@needs_server
def test_listing_a_page_costs_one_range_command_and_the_page(private_redis: str, settings: object) -> None:
    """On a server of our own, count commands: a page is one LRANGE plus one HGETALL per job,
    and counting is six O(1)/O(log n) commands, whatever the registry size."""
    conf = dict(settings.SCHEDULER)  # type: ignore[attr-defined]
    conf["QUEUES"] = {"default": {"BROKER_URL": private_redis}}
    settings.SCHEDULER = conf  # type: ignore[attr-defined]
    reset_config()
    q = get_queue("default")
    q.enqueue_many([JobCall("tests.jobs.noop", (i,)) for i in range(20_000)])
    r = q.connection
    before = _commandstats(r)
    page = q.jobs("queued", offset=10_000, limit=25)
    assert _delta(before, _commandstats(r)) == {"cmdstat_lrange": 1, "cmdstat_hgetall": 25}
    assert [j.args for j in page] == [[i] for i in range(10_000, 10_025)]
    before = _commandstats(r)
    assert q.counts()["queued"] == 20_000
    assert _delta(before, _commandstats(r)) == {"cmdstat_zcard": 2, "cmdstat_llen": 1, "cmdstat_zcount": 3}
    r.flushall()


@needs_server
def test_real_tls_connection_with_ca_and_cert_reqs() -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("no openssl binary to make a test certificate")
    tmp = Path(tempfile.mkdtemp(prefix="taskctl-tls-"))
    made = subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(tmp / "key.pem"),
         "-out", str(tmp / "cert.pem"), "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        capture_output=True,
    )  # fmt: skip
    if made.returncode != 0:
        pytest.skip("openssl could not make a test certificate")
    port = free_port()
    server = Server(
        "--port", "0", "--tls-port", str(port), "--tls-cert-file", str(tmp / "cert.pem"),
        "--tls-key-file", str(tmp / "key.pem"), "--tls-ca-cert-file", str(tmp / "cert.pem"),
        "--tls-auth-clients", "no", "--requirepass", "tlspw",
    )  # fmt: skip
    try:
        ca = tmp / "cert.pem"
        url = f"rediss://:tlspw@127.0.0.1:{port}/0?ssl_ca_certs={ca}&ssl_cert_reqs=required"
        try:
            wait_for(lambda: connect(url).ping(), timeout=5)
        except AssertionError:
            pytest.skip("this redis-server was built without TLS")
        check(url)
        assert connect(f"valkeys://:tlspw@127.0.0.1:{port}/0?ssl_ca_certs={ca}").ping()
        # a CA that did not sign the server certificate is refused
        with pytest.raises(BrokerUnavailable) as exc:
            check(
                f"rediss://:tlspw@127.0.0.1:{port}/0?ssl_cert_reqs=required&ssl_ca_certs=/etc/ssl/certs/ca-certificates.crt"
            )
        assert "tlspw" not in str(exc.value)
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


@needs_server
def test_real_sentinel() -> None:
    master_port, sentinel_port = free_port(), free_port()
    master = Server("--port", str(master_port), "--bind", "127.0.0.1", "--requirepass", "mpw")
    sentinel = Server(
        "--port", str(sentinel_port), "--bind", "127.0.0.1",
        sentinel_conf=(
            f"sentinel monitor svc 127.0.0.1 {master_port} 1\n"
            "sentinel auth-pass svc mpw\nsentinel resolve-hostnames yes\n"
        ),
    )  # fmt: skip
    try:
        try:
            wait_for(lambda: connect(f"redis://127.0.0.1:{sentinel_port}").sentinel_masters(), timeout=8)
        except AssertionError:
            pytest.skip("redis-server --sentinel could not start here")
        url = f"redis+sentinel://:mpw@127.0.0.1:{sentinel_port},127.0.0.1:{free_port()}/svc/2"
        r = connect(url)
        r.set("via-sentinel", "yes")
        direct = connect(f"redis://:mpw@127.0.0.1:{master_port}/2")
        assert direct.get("via-sentinel") == "yes"
        check(url)
        with pytest.raises(BrokerUnavailable) as exc:
            check(f"redis+sentinel://:mpw@127.0.0.1:{sentinel_port}/no-such-service")
        assert "mpw" not in str(exc.value)
    finally:
        sentinel.stop()
        master.stop()
