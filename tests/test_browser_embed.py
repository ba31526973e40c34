"""Embedded, the chat never moves the host page; French while an answer is on its way.

- the host page's ``scrollY`` stays where its reader left it on load, after an answer, after a
  citation click (the article tab, the passage highlighted inside the app) and on the way back,
  in a frame and as a web component, on a desktop and a phone;
- every text and label seen while an answer is on its way and after it is French: the question
  shows at once with a French pending reply, screen readers hear « Vous : » / « Réponse : »;
- a question over the rate limit is refused in French under the chat (no English toast);
- a web component on an origin the app does not allow says so, in French, in its place.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from support.browser import ENGLISH, QUESTION, SCREENS, needs_chromium, open_page
from support.paths import REPO
from support.web import App, StaticServer, serving

pytestmark = [pytest.mark.browser, pytest.mark.model, needs_chromium]

FILLER = "".join(
    f"<p>Paragraphe {n} de la page hôte, qui l'allonge au-delà de l'écran.</p>" for n in range(40)
)


def host_page(folder: Path) -> Path:
    """``examples/embed.html`` with a long text above and below the assistant."""
    html = (REPO / "examples" / "embed.html").read_text(encoding="utf-8")
    html = html.replace('<main id="embed"></main>', f'{FILLER}<main id="embed"></main>{FILLER}')
    (folder / "hote.html").write_text(html, encoding="utf-8")
    return folder


class Slow:
    """An engine that takes ``delay`` seconds more to answer (the pending state lasts)."""

    def __init__(self, engine: object, delay: float) -> None:
        self._engine = engine
        self._delay = delay

    def __getattr__(self, name: str) -> object:
        return getattr(self._engine, name)

    def ask(self, *args: object, **kwargs: object) -> object:
        time.sleep(self._delay)
        return self._engine.ask(*args, **kwargs)


@pytest.fixture(scope="module")
def slow_app(real_engine: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    folder = tmp_path_factory.mktemp("slow")
    with serving(Slow(real_engine, 1.5), folder / "f.sqlite3", rate_limit=10_000) as app:
        yield app


# Every text a visitor sees and every label a screen reader reads, recorded at each change of
# the page (a MutationObserver: nothing is missed between two polls).
RECORD = """() => {
  window.__qaSeen = new Set();
  const note = () => {
    for (const el of document.querySelectorAll("*")) {
      for (const name of ["aria-label", "title", "placeholder", "aria-valuetext", "alt"]) {
        const value = el.getAttribute(name);
        if (value) window.__qaSeen.add(value);
      }
    }
    for (const line of document.body.innerText.split("\\n")) {
      if (line.trim()) window.__qaSeen.add(line.trim());
    }
  };
  note();
  new MutationObserver(note).observe(document.body,
    {subtree: true, childList: true, characterData: true, attributes: true});
}"""


def send(scope: object, question: str) -> None:
    """Type and send ``question`` without letting Playwright scroll anything into view."""
    box = scope.locator("#qa-question textarea")
    box.evaluate(
        "(el, text) => { el.focus({preventScroll: true}); el.value = text;"
        " el.dispatchEvent(new Event('input', {bubbles: true})); }",
        question,
    )
    box.press("Enter")


def click(locator: object) -> None:
    """A click by script: Playwright's own would scroll the element into view first."""
    locator.evaluate("el => el.click()")


def settle() -> None:
    time.sleep(0.8)  # the page script scrolls after the next frame; the frame posts its height


INSIDE = """el => {
  let box = el.parentElement;
  const scrolls = (b) => /auto|scroll/.test(getComputedStyle(b).overflowY) && b.scrollHeight > b.clientHeight;
  while (box && !scrolls(box)) box = box.parentElement;
  const r = el.getBoundingClientRect(), b = (box || document.documentElement).getBoundingClientRect();
  return r.top >= b.top - 1 && r.bottom <= b.bottom + 1;
}"""


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("mode", ["iframe", "composant"])
def test_embedding_never_moves_the_host_page(
    browser: object, live_app: App, tmp_path: Path, mode: str, screen: str
):
    page = open_page(browser, "light", SCREENS[screen])
    with StaticServer(host_page(tmp_path)) as static:
        page.goto(f"{static.url}hote.html?mode={mode}&app={quote(live_app.url)}")
        # The reader scrolls down to the assistant (a web component loads once in view).
        scope = page.frame_locator("#qa-frame") if mode == "iframe" else page
        for _ in range(60):
            page.evaluate("window.scrollTo(0, document.getElementById('embed').offsetTop - 16)")
            if scope.locator("#qa-question textarea").count():
                break
            time.sleep(0.5)
        scope.locator("#qa-question textarea").wait_for()
        page.evaluate("window.scrollTo(0, document.getElementById('embed').offsetTop - 16)")
        settle()
        where = page.evaluate("scrollY")
        assert where > 0
        if mode == "iframe":
            assert page.evaluate("document.activeElement.tagName") != "IFRAME"
            height = page.locator("#qa-frame").evaluate("el => el.style.height")
            assert height.endswith("px"), height  # the frame follows its content
        moves = {}
        send(scope, QUESTION)
        reply = scope.locator(".qa-answer").first
        reply.locator("mark").first.wait_for()
        settle()
        moves["réponse"] = page.evaluate("scrollY") - where
        # The question and the key sentence are in view (inside the chat's own box).
        assert scope.locator(".qa-user").last.evaluate(INSIDE)
        click(reply.locator("a.qa-cite", has_text="Voir dans l’article").first)
        key = scope.locator(".qa-article .qa-hit-key").first
        key.wait_for(state="visible")
        settle()
        moves["citation"] = page.evaluate("scrollY") - where
        assert key.evaluate(INSIDE), "the highlighted sentence is scrolled into the article's box"
        click(scope.locator("a.qa-back").first)
        scope.locator("#qa-question textarea").wait_for()
        settle()
        moves["retour"] = page.evaluate("scrollY") - where
        assert moves == {"réponse": 0, "citation": 0, "retour": 0}
    page.context.close()


def test_french_while_the_answer_is_on_its_way(browser: object, slow_app: App):
    """The question shows at once with « Recherche dans l'article… »; nothing English, ever."""
    page = open_page(browser)
    page.goto(slow_app.url)
    page.locator("#qa-question textarea").wait_for()
    page.evaluate(RECORD)
    send(page, QUESTION)
    # The question is in the chat before its answer, with a French pending reply.
    page.locator(".qa-pending").wait_for()
    assert page.locator(".qa-user").last.inner_text() == QUESTION
    assert page.locator(".qa-answer").count() == 0
    assert page.locator("#qa-question textarea").input_value() == ""
    page.locator(".qa-answer mark").first.wait_for()
    time.sleep(0.5)
    assert page.locator(".qa-pending").count() == 0
    seen = page.evaluate("[...window.__qaSeen]")
    assert "Recherche dans l’article…" in seen
    assert [text for text in seen if any(english in text for english in ENGLISH)] == []
    # Screen readers hear who speaks: « Vous : » before the question, « Réponse : » before the answer.
    cues = page.locator("#qa-chat .qa-sr").all_text_contents()
    assert [c.strip() for c in cues] == ["Vous :", "Réponse :"]
    page.context.close()


def test_a_refused_question_is_said_in_french(browser: object, real_engine: object, tmp_path: Path):
    with serving(real_engine, tmp_path / "f.sqlite3", rate_limit=2) as app:
        page = open_page(browser)
        page.goto(app.url)
        page.locator("#qa-question textarea").wait_for()
        page.evaluate(RECORD)
        for question in ("Qui a écrit l'article ?", "Quand l'article a-t-il été publié ?"):
            send(page, question)
            page.locator(".qa-answer").nth(page.locator(".qa-answer").count()).wait_for()
        send(page, QUESTION)  # the third in a minute: refused
        alert = page.locator("#qa-vote-status [role='alert']")
        alert.wait_for()
        assert "Trop de questions" in alert.inner_text()
        time.sleep(0.5)
        assert page.locator(".toast-body").filter(visible=True).count() == 0
        assert page.get_by_text("Erreur", exact=True).filter(visible=True).count() == 0
        assert page.locator("#qa-question textarea").input_value() == QUESTION  # to send again later
        assert page.locator(".qa-pending").count() == 0
        seen = page.evaluate("[...window.__qaSeen]")
        assert [text for text in seen if any(english in text for english in ENGLISH)] == []
        page.context.close()


def test_a_web_component_on_a_refused_origin_says_so(browser: object, seed_engine: object, tmp_path: Path):
    with serving(seed_engine, tmp_path / "f.sqlite3", allowed_origins=("https://exemple.invalid",)) as app:
        page = open_page(browser)
        with StaticServer(REPO / "examples") as static:
            page.goto(f"{static.url}embed.html?mode=composant&app={quote(app.url)}")
            problem = page.locator("#qa-embed-problem")
            problem.wait_for()
            assert "n'a pas pu être chargé" in problem.inner_text()
            assert "QA_ALLOWED_ORIGINS" in problem.inner_text()
        page.context.close()
