"""axe-core in the patient's browser: the WCAG 2.2 A/AA rules over what a page shows now.

axe-core is pinned in tests/a11y/package-lock.json and installed there by scripts/test.sh
(`npm ci`); the tests read it from disk, so they run offline. It is evaluated through the
DevTools protocol, which the page's CSP (script-src 'self', no eval) does not cover.
"""

from pathlib import Path
from typing import Any, Literal

import pytest
from playwright.async_api import Page as AsyncPage
from playwright.sync_api import Page, ViewportSize

from tests.server.browser_helpers import DESKTOP

AXE = Path(__file__).resolve().parents[1] / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
#: The rules of WCAG 2.0-2.2 A and AA, and axe's best practices for the page's structure.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


_LOADED = "typeof window.axe === 'object'"
_RUN = """(tags) => window.axe.run(document, {runOnly: {type: "tag", values: tags}})
    .then((result) => result.violations.map((v) => ({
      id: v.id, nodes: v.nodes.map((n) => n.target.join(" ") + ": " + n.failureSummary)
    })))"""


def _source() -> str:
    if not AXE.exists():
        pytest.fail(f"axe-core is missing at {AXE}: run scripts/test.sh (npm ci in tests/a11y)")
    return AXE.read_text(encoding="utf-8") + "\n;true"


def _lines(found: list[dict[str, Any]], what: str) -> str:
    listed = [f"{v['id']}: {node}" for v in found for node in v["nodes"]]
    return f"axe-core on the {what} page:\n" + "\n".join(listed)


def assert_clean(page: Page, what: str) -> None:
    """Fail with axe's findings, if any, on `page` showing `what` now."""
    if not page.evaluate(_LOADED):
        page.evaluate(_source())
    found: list[dict[str, Any]] = page.evaluate(_RUN, TAGS)
    assert not found, _lines(found, what)


async def assert_clean_async(page: AsyncPage, what: str) -> None:
    """assert_clean for Playwright's async API (the call tests)."""
    if not await page.evaluate(_LOADED):
        await page.evaluate(_source())
    found: list[dict[str, Any]] = await page.evaluate(_RUN, TAGS)
    assert not found, _lines(found, what)


Scheme = Literal["light", "dark"]
#: The sizes a person may use: a laptop, a narrow phone, and the laptop at 200 % zoom (a zoomed
#: page lays out in half the CSS pixels: 1280x800 at 200 % is 640x400).
SIZES: dict[str, ViewportSize] = {
    "desktop": DESKTOP,
    "320px": {"width": 320, "height": 640},
    "zoom200": {"width": 640, "height": 400},
}


def _look(page: Page, folder: Path, name: str, scheme: Scheme) -> None:
    for label, size in SIZES.items():
        page.set_viewport_size(size)
        page.screenshot(path=str(folder / f"patient-{name}-{label}-{scheme}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


def check_page(page: Page, folder: Path | None, name: str) -> None:
    """axe finds nothing on the page, light and dark; screenshots of each at every size."""
    schemes: tuple[Scheme, ...] = ("light", "dark")
    for scheme in schemes:
        page.emulate_media(color_scheme=scheme)
        assert_clean(page, f"{name} ({scheme})")
        if folder is not None:
            _look(page, folder, name, scheme)
    page.emulate_media(color_scheme="light")
