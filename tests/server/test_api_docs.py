"""/docs and /redoc in a real Chromium: they render from this server alone, within their CSP."""

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from server.app import create_app
from server.settings import Settings
from shared.clock import FixedClock
from tests.server.browser_helpers import DESKTOP, chromium
from tests.server.live_server import live
from tests.server.postgres import free_port


@pytest.fixture
def sqlite_only(database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("the pages do not touch the database: one kind is enough")


def test_the_pages_load_nothing_from_outside_and_break_no_csp_rule(
    sqlite_only: None, app: FastAPI, screenshot_dir: Path | None
) -> None:
    with live(app, free_port()) as base, chromium() as browser:
        page = browser.new_page(viewport=DESKTOP)
        requested: list[str] = []
        complaints: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        page.on(
            "console",
            lambda message: complaints.append(message.text)
            if message.type in ("error", "warning")
            else None,
        )
        page.goto(f"{base}/docs")
        page.wait_for_selector(".opblock-summary", timeout=20_000)
        assert page.locator("text=Sign in with username and password").count() >= 1
        if screenshot_dir is not None:
            page.screenshot(path=str(screenshot_dir / "api-docs-swagger.png"))
        page.goto(f"{base}/redoc")
        page.get_by_role("heading", name="Sign in with username and password").wait_for(
            timeout=20_000
        )
        if screenshot_dir is not None:
            page.screenshot(path=str(screenshot_dir / "api-docs-redoc.png"))
    outside = [url for url in requested if not url.startswith((base, "blob:", "data:"))]
    assert outside == []
    assert [text for text in complaints if "Content Security Policy" in text] == []


def test_the_pages_have_a_csp_and_can_be_turned_off(
    sqlite_only: None, settings: Settings, engine: Engine, clock: FixedClock
) -> None:
    client = TestClient(create_app(settings, engine, clock))
    for path in ("/docs", "/redoc", "/docs/static/swagger-ui-bundle.js"):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert "script-src 'self';" in answer.headers["content-security-policy"]
    assert client.get("/docs/static/../../settings.py").status_code == 404
    assert client.get("/docs/static/core.py").status_code == 404
    off = TestClient(create_app(settings.model_copy(update={"api_docs": False}), engine, clock))
    assert off.get("/docs").status_code == 404
    assert off.get("/redoc").status_code == 404
    assert off.get("/openapi.json").status_code == 200
