"""The whole Content-Security-Policy in Chromium: the pages load and answer with no violation.

On the seed article with the fake encoder (no model): the public page, a question answered, the
staff page, and both embeds on a page of another origin (the web component runs Gradio's script
in the host page, which has no policy: what matters there is that the app's own requests work).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from support.browser import Session, ask, needs_chromium
from support.paths import REPO
from support.web import App, StaticServer, serving

playwright_api = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.browser, needs_chromium]

QUESTION = "Que montre l'étude sur l'indole-3-carbinol et les choux ?"
# Recorded before any script of the page runs, in every frame.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.fixture(scope="module")
def app(seed_engine: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    with serving(seed_engine, tmp_path_factory.mktemp("csp") / "f.sqlite3", rate_limit=10_000) as running:
        yield running


class Watched:
    """A session whose console errors and CSP violations (every frame) are recorded."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.console: list[str] = []
        session.context.add_init_script(RECORD_VIOLATIONS)
        session.page.on("console", self._console)

    def _console(self, message: object) -> None:
        if message.type == "error":
            self.console.append(message.text)

    def violations(self) -> list[str]:
        found = []
        for frame in self.session.page.frames:
            try:
                found += frame.evaluate("window.__cspViolations || []")
            except playwright_api.Error:
                continue  # a frame navigating away
        return found + [text for text in self.console if "Content Security Policy" in text]


@pytest.fixture
def watched(session: Session) -> Watched:
    return Watched(session)


def test_public_page_answers_with_no_csp_violation(watched: Watched, app: App):
    page = watched.session.page
    page.goto(app.url)
    reply = ask(page, QUESTION)
    assert reply.inner_text().strip()
    page.wait_for_timeout(500)
    assert watched.violations() == []
    assert [text for text in watched.console if "heartbeat" in text or "404" in text] == []


def test_scoped_page_and_staff_page_load_with_no_csp_violation(watched: Watched, app: App):
    page = watched.session.page
    page.goto(app.url + "?article=000_77dfe58a8330a326")
    ask(page, QUESTION)
    page.goto(app.url + "staff/")
    page.locator("table, .qa-log, textarea").first.wait_for()
    page.wait_for_timeout(1000)
    assert watched.violations() == []


@pytest.mark.parametrize("mode", ["iframe", "composant"])
def test_embeds_answer_with_no_csp_violation(watched: Watched, app: App, mode: str):
    page = watched.session.page
    with StaticServer(REPO / "examples") as static:
        query = f"app={quote(app.url)}" + ("&mode=composant" if mode == "composant" else "")
        page.goto(f"{static.url}embed.html?{query}")
        scope = page.frame_locator("#qa-frame") if mode == "iframe" else page
        scope.locator("#qa-question textarea").wait_for()
        reply = ask(scope, QUESTION)
        assert reply.inner_text().strip()
        page.wait_for_timeout(500)
    assert watched.violations() == []


def test_the_policy_is_enforced(watched: Watched, app: App, tmp_path: Path):
    """An inline script without the nonce is blocked and reported: the checks above can fail."""
    page = watched.session.page
    page.goto(app.url)
    page.locator("#qa-question textarea").wait_for()
    page.evaluate("""() => {
      const s = document.createElement("script");
      s.textContent = "window.__ran = true";
      document.head.appendChild(s);
    }""")
    page.wait_for_timeout(300)
    assert page.evaluate("window.__ran === undefined")
    assert any("script-src" in v for v in watched.violations())
