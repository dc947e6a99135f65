"""The `infercost` command: each subcommand turns its options into a request, calls the verb
of the same name (`infercost.api`) and renders the result.

Heavy modules are imported inside each command so that `infercost --help` and every answer
stay fast. Bad input of any kind ends in one line on stderr naming the option, and exit
status 2; `measure` exits 1 when the server failed too many requests.
"""

from __future__ import annotations

from importlib import import_module

from infercost.cli.app import app

# Each module registers its commands on `app`, in the order `--help` lists them.
for _module in (
    "fleet",
    "planning",
    "simulation",
    "sweep",
    "measurement",
    "accuracy",
    "catalogs",
    "reports",
    "web",
):
    import_module(f"infercost.cli.{_module}")

__all__ = ["app", "main"]


def main() -> None:
    app()
