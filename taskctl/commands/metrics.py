"""`taskctl metrics`: serve Prometheus metrics read from the broker at each scrape."""

from __future__ import annotations

from typing import Annotated

import typer

from taskctl import bootstrap

app = typer.Typer(name="metrics", help="Export Prometheus metrics.", no_args_is_help=True)


@app.command("serve")
def serve(
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (0.0.0.0 for every interface).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="TCP port.")] = 9808,
) -> None:
    """Serve Prometheus text at http://HOST:PORT/metrics until SIGTERM or Ctrl-C. Each scrape
    reads the broker (one round trip per broker); nothing is kept in this process."""
    from scheduler_core.broker.connection import parse_url
    from scheduler_core.conf import get_config
    from scheduler_core.metrics.server import PATH
    from scheduler_core.metrics.server import serve as run
    from taskctl.render import info

    bootstrap.setup_broker()
    config = get_config()
    for url in {config.broker_url, *(q.broker_url for q in config.queues.values())}:
        parse_url(url, config.connect_timeout)  # a bad URL is exit 78 now, not at the first scrape

    def ready(bound_host: str, bound_port: int) -> None:
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        info(f"serving metrics at http://{shown}:{bound_port}{PATH}")

    run(host, port, config=config, on_ready=ready)
