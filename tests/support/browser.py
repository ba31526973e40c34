"""Headless Chromium for the browser tests: one launch per test module, pages, the chat.

Debian's Chromium (Playwright's own download is not reachable). ``tests/conftest.py`` registers
this module as a plugin: the fixtures ``browser`` (skips when Playwright or Chromium is missing)
and ``session`` (a fresh page that must make no request off localhost). Playwright is imported
only by the fixture, so that loading this module costs nothing to the other tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium (Debian) is not installed")

TIMEOUT = 30_000  # ms, for every wait of a page
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SCREENS = {"ordinateur": DESKTOP, "téléphone": PHONE}
SCHEMES = ("light", "dark")
# English a visitor or a screen reader must never meet (Gradio's own words, labels and states).
ENGLISH = (
    "chatbot conversation",
    "Scroll down",
    "Gradio footer navigation",
    "More tabs",
    "Liked",
    "Disliked",
    "Search...",
    "Use via API",
    "Built with Gradio",
    "processing",
    "queue:",
    "Loading",
    "Error",
    "bot's message",
    "user's message",
    "Clear",
    "Copy",
)
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
QUESTION = "Quel élément catalyse la dégradation des membranes dans la ferroptose ?"

# The contrast ratio (WCAG) of an element's text against the first opaque background behind it.
CONTRAST = """el => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  let bg = null;
  for (let node = el; node && !bg; node = node.parentElement) {
    const c = rgb(getComputedStyle(node).backgroundColor);
    if (c.length === 3 || (c.length === 4 && c[3] > 0.9)) bg = c.slice(0, 3);
  }
  const fg = lum(rgb(getComputedStyle(el).color)), back = lum(bg || [255, 255, 255]);
  return (Math.max(fg, back) + 0.05) / (Math.min(fg, back) + 0.05);
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless Chromium, launched once per test module."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium (Debian) is not installed")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Session:
    """A fresh page that records every request and every dialog."""

    def __init__(self, browser: object) -> None:
        # An English browser: the page must be French anyway.
        self.context = browser.new_context(viewport={"width": 1200, "height": 1000}, locale="en-US")
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.context.on("request", lambda request: self.requests.append(request.url))
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT)
        self.page.on("dialog", self._dialog)

    def _dialog(self, dialog: object) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def foreign_requests(self) -> list[str]:
        return [
            url
            for url in self.requests
            if urlsplit(url).scheme in ("http", "https", "ws", "wss")
            and urlsplit(url).hostname not in LOCAL_HOSTS
        ]


@pytest.fixture
def session(browser: object) -> Iterator[Session]:
    """A :class:`Session`; the test fails if the page made a request off localhost."""
    opened = Session(browser)
    yield opened
    assert opened.foreign_requests() == []
    opened.context.close()


def ask(scope: object, question: str) -> object:
    """Type a question in the chat of ``scope`` (page or frame), press Enter; the new reply."""
    before = scope.locator(".qa-answer").count()
    box = scope.locator("#qa-question textarea")
    box.fill(question)
    box.press("Enter")
    reply = scope.locator(".qa-answer").nth(before)
    reply.wait_for(state="visible")
    return reply


def open_page(browser: object, scheme: str = "light", screen: dict | None = None) -> object:
    """A page in a fresh context (an English browser: the page must be French anyway)."""
    screen = screen or DESKTOP
    phone = screen is PHONE
    context = browser.new_context(
        viewport=screen, color_scheme=scheme, locale="en-US", is_mobile=phone, has_touch=phone
    )
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    return page
