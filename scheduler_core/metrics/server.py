"""`taskctl metrics serve`: a small threaded HTTP server with Prometheus text at /metrics.

Each scrape reads the broker (metrics.collector); the server keeps no state of its own, so any
number of them can run, and a restart loses nothing.
"""

from __future__ import annotations

import signal
import socket
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from scheduler_core.errors import ConfigurationError

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

    from prometheus_client.registry import CollectorRegistry

    from scheduler_core.conf import SchedulerConfig

PATH = "/metrics"


def make_app(registry: CollectorRegistry) -> WSGIApplication:
    """/metrics: the exposition (OpenMetrics when asked, gzip when accepted); anything else 404."""
    from prometheus_client import make_wsgi_app

    metrics = make_wsgi_app(registry)

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == PATH:
            reply: Iterable[bytes] = metrics(environ, start_response)
            return reply
        body = f"taskctl metrics are at {PATH}\n".encode() if path == "/" else b"not found\n"
        start_response("200 OK" if path == "/" else "404 Not Found", [("Content-Type", "text/plain")])
        return [body]

    return app


def make_http_server(host: str, port: int, app: WSGIApplication) -> Any:
    """A threaded WSGI server on host:port (IPv4 or IPv6, as the host resolves); a port that
    cannot be bound is ConfigurationError (exit 78), with the reason."""
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    from prometheus_client.exposition import ThreadingWSGIServer

    class Quiet(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # one line per scrape is noise
            pass

    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except socket.gaierror as exc:
        raise ConfigurationError(f"metrics: cannot resolve host {host!r}: {exc.strerror}") from None

    class Server(ThreadingWSGIServer):
        address_family = family

    try:
        return make_server(host, port, app, Server, handler_class=Quiet)
    except OSError as exc:
        raise ConfigurationError(f"metrics: cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def serve(
    host: str,
    port: int,
    *,
    config: SchedulerConfig | None = None,
    on_ready: Callable[[str, int], None] | None = None,
) -> None:
    """Serve until SIGTERM (a clean exit) or Ctrl-C (KeyboardInterrupt, for the caller)."""
    from scheduler_core.metrics.collector import make_registry

    server = make_http_server(host, port, make_app(make_registry(config)))

    def stop(signum: int, frame: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        if on_ready is not None:
            on_ready(host, int(server.server_port))
        server.serve_forever(poll_interval=0.5)
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.server_close()
