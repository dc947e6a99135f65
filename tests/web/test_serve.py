"""`infercost serve`: loopback binds quietly, anything else warns that the app is public; the
command is registered and hands uvicorn the app on the host and port asked (uvicorn itself
is replaced, so nothing is bound)."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from infercost.cli.main import app
from infercost.cli.web import exposure_warning


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
def test_loopback_is_not_refused_nor_warned(host: str) -> None:
    assert exposure_warning(host) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.org"])
def test_any_other_host_warns_that_it_is_public(host: str) -> None:
    warning = exposure_warning(host)
    assert warning is not None
    assert "no authentication" in warning
    assert host in warning


def run_serve(monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[Any, dict[str, Any]]:
    import uvicorn

    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(app=app, **kw))
    result = CliRunner().invoke(app, ["serve", *args])
    return result, seen


def test_serve_defaults_to_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    result, seen = run_serve(monkeypatch)
    assert result.exit_code == 0, result.output
    assert (seen["host"], seen["port"]) == ("127.0.0.1", 8000)
    assert "warning" not in result.output
    assert seen["app"].openapi()["info"]["title"] == "infercost"


def test_serve_on_all_interfaces_warns(monkeypatch: pytest.MonkeyPatch) -> None:
    result, seen = run_serve(monkeypatch, "--host", "0.0.0.0", "--port", "8123")
    assert result.exit_code == 0, result.output
    assert (seen["host"], seen["port"]) == ("0.0.0.0", 8123)
    assert "reachable from the network with no authentication" in result.output


def test_serve_is_in_the_help() -> None:
    assert "serve" in CliRunner().invoke(app, ["--help"]).output
