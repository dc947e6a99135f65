"""`infercost serve`: the web app (infercost.web) under uvicorn.

It binds the loopback interface unless told otherwise: the app has no authentication, so any
other address makes every verb reachable by whoever can reach the machine, and says so.
"""

from __future__ import annotations

import ipaddress
import sys
from typing import Annotated

import typer

from infercost.cli.app import app, user_errors

DEFAULT_HOST = "127.0.0.1"


def exposure_warning(host: str) -> str | None:
    """The warning for a host that is not the loopback interface; None for one that is."""
    if host == "localhost":
        return None
    try:
        if ipaddress.ip_address(host.strip("[]")).is_loopback:
            return None
    except ValueError:
        pass  # a host name: it may resolve to any interface
    return (
        f"warning: serving on {host}: the app is reachable from the network with no "
        "authentication; anyone who can reach this port can run plans and simulations"
    )


@app.command()
@user_errors
def serve(
    host: Annotated[
        str, typer.Option(help="Interface to bind; anything but loopback is public.")
    ] = DEFAULT_HOST,
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
) -> None:
    """Serve the web calculator and the REST API (/docs) on http://HOST:PORT."""
    import uvicorn

    from infercost.web.app import create_app

    warning = exposure_warning(host)
    if warning:
        sys.stderr.write(warning + "\n")
    sys.stderr.write(f"infercost: http://{host}:{port}/ (API schema at /docs)\n")
    uvicorn.run(create_app(), host=host, port=port, access_log=False, log_level="warning")
