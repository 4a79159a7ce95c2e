"""``peyvand serve``: the HTTP service (forms into the inbox, health, OpenAPI)."""

from __future__ import annotations

import click

from hub.cli._base import _Ctx, cli, err
from hub.errors import ConfigError


@cli.command()
@click.option("--host", help="Address to listen on (default: serve.host, 127.0.0.1).")
@click.option("--port", type=int, help="TCP port (default: serve.port, 8080).")
@click.pass_obj
def serve(obj: _Ctx, host: str | None, port: int | None) -> None:
    """Serve HTTP: web forms in (POST /forms/FORM), health and readiness, the OpenAPI
    document at /openapi.json (browsable at /docs). Accepted requests are stored before
    the answer and taken to the master in the background. Stop with Ctrl-C."""
    import uvicorn

    from hub.serve.app import create_app

    hub = obj.hub
    settings = hub.config.serve
    try:
        app = create_app(hub)
    except ValueError as exc:   # PEYVAND_API_TOKENS
        raise ConfigError("the environment", [str(exc)]) from None
    host, port = host or settings.host, port or settings.port
    err.print(f"serving on http://{host}:{port} (OpenAPI: /openapi.json, docs: /docs)")
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False,
                server_header=False, timeout_graceful_shutdown=30)
