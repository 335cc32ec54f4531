"""The patient's browser: Debian's chromium driven by Playwright, with a fake camera and mic."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--no-sandbox",
    "--headless=new",
    "--allow-loopback-in-peer-connection",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}


@contextmanager
def chromium(args: list[str] = ARGS) -> Iterator[Browser]:
    """A headless Chromium (skips the test when Debian's chromium is not installed)."""
    if not CHROMIUM.exists():
        pytest.skip("chromium is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=args, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


def screenshots(page: Page, folder: Path | None, name: str) -> None:
    """Save the page at desktop (1280x800) and phone (390x844) widths, whole page."""
    if folder is None:
        return
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=str(folder / f"patient-{name}-{label}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


def shown(page: Page, step: str, timeout: float = 15_000) -> None:
    """Wait until the page shows `step` (its section, by id)."""
    page.wait_for_selector(f'body[data-showing="{step}"]', timeout=timeout)
