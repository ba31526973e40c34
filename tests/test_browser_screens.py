"""The page on every screen and theme, in the real browser: axe-core, dark mode, phone, embedding, votes.

Light and dark are the browser's ``color_scheme`` (Gradio follows the system); the desktop is
1280×900, the phone 390×844 with touch. axe-core comes with ``axe-playwright-python``.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from pathlib import Path

import pytest
from support.browser import CONTRAST, ENGLISH, PHONE, QUESTION, SCHEMES, SCREENS, needs_chromium, open_page
from support.browser import ask as ask_now
from support.paths import REPO
from support.web import App

from qa.web.feedback import FeedbackStore

axe_api = pytest.importorskip("axe_playwright_python.sync_playwright")

pytestmark = [pytest.mark.browser, pytest.mark.model, needs_chromium]

BLOCKING = {"serious", "critical"}


@pytest.fixture(scope="module")
def axe() -> object:
    return axe_api.Axe()


def ask(page: object, question: str) -> object:
    """The new reply to ``question``, once the page has scrolled to it."""
    reply = ask_now(page, question)
    time.sleep(0.4)  # the page script scrolls after the next frame
    return reply


def blocking_violations(axe: object, page: object) -> list[str]:
    results = axe.run(page)
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:5]}"
        for v in results.response["violations"]
        if v["impact"] in BLOCKING
    ]


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("screen", SCREENS)
def test_axe_finds_nothing_serious(browser: object, axe: object, live_app: App, scheme: str, screen: str):
    """Home, after an answer, the Article view and /staff (diagnostic and log)."""
    page = open_page(browser, scheme, SCREENS[screen])
    page.goto(live_app.url)
    page.locator("#qa-question textarea").wait_for()
    found = {"accueil": blocking_violations(axe, page)}
    ask(page, QUESTION)
    page.locator('#qa-chat button[aria-label="J\'aime"]').last.click()
    page.locator("#qa-vote-status").get_by_text("Merci, votre avis est enregistré.").wait_for()
    found["réponse"] = blocking_violations(axe, page)
    ask(page, "Quelle est la hauteur de la tour Eiffel ?").locator("ul.qa-topics").wait_for()
    found["sans réponse"] = blocking_violations(axe, page)
    page.locator(".qa-answer a.qa-cite").last.click()
    page.locator(".qa-article .qa-hit-key").first.wait_for(state="visible")
    found["article"] = blocking_violations(axe, page)
    page.goto(live_app.url + "staff/")
    page.locator("#qa-staff-question textarea").fill(QUESTION)
    page.locator("#qa-staff-question textarea").press("Enter")
    page.locator("#qa-staff-report .qa-diagnostics").wait_for()
    page.locator(".qa-raw summary").click()
    found["diagnostic"] = blocking_violations(axe, page)
    page.get_by_role("tab", name="Journal des questions").click()
    page.locator("#qa-staff-log table.qa-log").wait_for()
    found["journal"] = blocking_violations(axe, page)
    page.context.close()
    assert {view: issues for view, issues in found.items() if issues} == {}


PLACEHOLDER_FITS = """el => {
  const style = getComputedStyle(el), canvas = document.createElement("canvas").getContext("2d");
  canvas.font = style.font;
  const width = el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  const lineHeight = parseFloat(style.lineHeight) || 1.5 * parseFloat(style.fontSize);
  const height = el.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
  // Words wrap: count a line per 90 % of the width.
  const needed = Math.ceil(canvas.measureText(el.placeholder).width / (0.9 * width));
  return {needed, shown: Math.max(1, Math.round(height / lineHeight)), height, lineHeight, width};
}"""
PLACEHOLDER_CONTRAST = CONTRAST.replace(
    "getComputedStyle(el).color", "getComputedStyle(el, '::placeholder').color"
)


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("screen", SCREENS)
def test_the_placeholder_is_readable_and_whole(browser: object, live_app: App, scheme: str, screen: str):
    """The line that says Enter sends: 4.5:1 in both themes, not cut off on a phone."""
    page = open_page(browser, scheme, SCREENS[screen])
    page.goto(live_app.url)
    box = page.locator("#qa-question textarea")
    box.wait_for()
    assert box.evaluate(PLACEHOLDER_CONTRAST) >= 4.5
    fits = box.evaluate(PLACEHOLDER_FITS)
    assert fits["needed"] <= fits["shown"], fits
    page.context.close()


@pytest.mark.parametrize("scheme", SCHEMES)
def test_answer_readable_in_both_themes(browser: object, live_app: App, scheme: str):
    page = open_page(browser, scheme)
    page.goto(live_app.url)
    ask(page, QUESTION)
    dark = page.evaluate("document.body.classList.contains('dark')")
    assert dark == (scheme == "dark")
    for selector in (
        ".qa-key p",
        ".qa-answer mark",
        "a.qa-cite",
        ".qa-source",
        ".qa-passage-text",
        ".qa-section-title strong",
        ".qa-tagline",
        "#qa-send",
        "button[role='tab'].selected",
    ):
        ratio = page.locator(selector).first.evaluate(CONTRAST)
        assert ratio >= 4.5, (scheme, selector, ratio)
    # Answer surfaces follow the theme: dark backgrounds in dark mode, light ones in light mode.
    background = page.locator(".qa-passage").first.evaluate("el => getComputedStyle(el).backgroundColor")
    level = sum(float(v) for v in re.findall(r"[\d.]+", background)[:3]) / 3
    assert (level < 128) == (scheme == "dark"), background
    page.context.close()


FOCUS_RING = """el => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number).slice(0, 3);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const style = getComputedStyle(el);
  let bg = null;
  for (let node = el.parentElement; node && !bg; node = node.parentElement) {
    const c = (getComputedStyle(node).backgroundColor.match(/[\\d.]+/g) || []).map(Number);
    if (c.length === 3 || (c.length === 4 && c[3] > 0.9)) bg = c.slice(0, 3);
  }
  const ring = lum(rgb(style.outlineColor)), back = lum(bg || [255, 255, 255]);
  return {width: parseFloat(style.outlineWidth), style: style.outlineStyle,
          ratio: (Math.max(ring, back) + 0.05) / (Math.min(ring, back) + 0.05)};
}"""


@pytest.mark.parametrize("scheme", SCHEMES)
def test_focus_rings_are_visible(browser: object, live_app: App, scheme: str):
    page = open_page(browser, scheme)
    page.goto(live_app.url)
    ask(page, QUESTION)
    box = page.locator("#qa-question textarea")
    box.focus()
    ring = box.evaluate(FOCUS_RING)
    assert ring["style"] != "none" and ring["width"] >= 2 and ring["ratio"] >= 3, ring
    for _ in range(40):
        page.keyboard.press("Shift+Tab")
        if page.evaluate("document.activeElement.matches('a.qa-cite')"):
            break
    ring = page.evaluate_handle("document.activeElement").evaluate(FOCUS_RING)
    assert ring["style"] != "none" and ring["width"] >= 2 and ring["ratio"] >= 3, ring
    page.context.close()


def feedback_rows(app: App) -> list[tuple]:
    with sqlite3.connect(app.settings.feedback_db) as conn:
        return conn.execute(
            "SELECT f.question, f.verdict, q.question FROM feedback f"
            " LEFT JOIN questions q ON q.id = f.question_id ORDER BY f.id"
        ).fetchall()


def test_one_clear_control_and_a_vote_after_clearing_goes_to_the_right_answer(browser: object, live_app: App):
    page = open_page(browser)
    page.goto(live_app.url)
    first, second = "Qui a écrit l'article ?", "Quand l'article a-t-il été publié ?"
    third = "Quel rôle joue l'indole-3-carbinol ?"
    ask(page, first)
    ask(page, second)
    # One control clears the conversation (the chat's own 🗑 is hidden: not a second Tab stop).
    assert page.get_by_role("button", name="Effacer la conversation").count() == 1
    page.get_by_role("button", name="Effacer la conversation").click()
    page.wait_for_function("document.querySelectorAll('.qa-answer').length === 0")
    ask(page, third)
    before = len(feedback_rows(live_app))
    page.locator('#qa-chat button[aria-label="J\'aime"]').last.click()
    page.locator("#qa-vote-status").get_by_text("Merci, votre avis est enregistré.").wait_for()
    assert page.locator(".toast-body").count() == 0
    rows = feedback_rows(live_app)[before:]
    assert rows == [(third, "up", third)]
    page.context.close()


def test_a_second_click_takes_the_vote_back(browser: object, live_app: App):
    page = open_page(browser)
    page.goto(live_app.url)
    question = "Que permet la tri-thérapie contre les cancers du sang ?"
    ask(page, question)
    before = len(feedback_rows(live_app))
    page.locator('#qa-chat button[aria-label="J\'aime"]').last.click()
    page.locator("#qa-vote-status").get_by_text("Merci, votre avis est enregistré.").wait_for()
    page.locator('#qa-chat button[aria-label="Aimé"]').last.click()  # the same thumb, now pressed
    page.locator("#qa-vote-status").get_by_text("Votre avis est retiré.").wait_for()
    assert feedback_rows(live_app)[before:] == [(question, "up", question), (question, "none", question)]
    store = FeedbackStore(live_app.settings.feedback_db)
    assert next(r for r in store.questions() if r.question == question).feedback is None  # the log: no vote
    page.context.close()


def test_thumbs_up_first_and_no_votes_on_greetings(browser: object, live_app: App):
    page = open_page(browser)
    page.goto(live_app.url)
    ask(page, "Bonjour")
    ask(page, QUESTION)
    labels = (
        page.locator(".message-buttons")
        .last.locator("button")
        .evaluate_all(
            "els => els.filter(e => e.getClientRects().length).map(e => e.getAttribute('aria-label'))"
        )
    )
    assert labels.index("J'aime") < labels.index("Je n'aime pas"), labels
    greeting_buttons = (
        page.locator(".message-buttons")
        .nth(1)
        .locator("button")
        .evaluate_all(
            "els => els.filter(e => e.getClientRects().length).map(e => e.getAttribute('aria-label'))"
        )
    )
    assert "J'aime" not in greeting_buttons and "Je n'aime pas" not in greeting_buttons
    assert "Copier le message" in greeting_buttons
    page.context.close()


def test_phone_shows_the_question_and_its_answer(browser: object, live_app: App, tmp_path: Path):
    """Saved to docs/screenshot-phone.png with QA_UPDATE_SCREENSHOT=1."""
    page = open_page(browser, "light", PHONE)
    page.goto(live_app.url)
    page.locator("#qa-question textarea").wait_for()
    assert page.evaluate("scrollY") == 0
    last_example = page.get_by_role("button", name="Quel rôle joue l'indole-3-carbinol ?")
    assert last_example.bounding_box()["y"] + last_example.bounding_box()["height"] <= PHONE["height"]
    reply = ask(page, QUESTION)
    question = page.locator(".qa-user").last.bounding_box()
    assert 0 <= question["y"] and question["y"] + question["height"] <= PHONE["height"], question
    first_line = reply.locator(".qa-key p").evaluate(
        "el => { const r = document.createRange(); r.setStart(el.firstChild, 0);"
        " r.setEnd(el.firstChild, 1); const b = r.getBoundingClientRect();"
        " return {top: b.top, bottom: b.bottom}; }"
    )
    assert 0 <= first_line["top"] and first_line["bottom"] <= PHONE["height"], first_line
    sizes = page.locator("#qa-chat button").evaluate_all(
        "els => els.filter(e => e.getClientRects().length).map(e => {"
        " const r = e.getBoundingClientRect(); return [e.getAttribute('aria-label'), r.width, r.height]; })"
    )
    assert sizes and all(w >= 24 and h >= 24 for _, w, h in sizes), sizes
    folder = REPO / "docs" if os.environ.get("QA_UPDATE_SCREENSHOT") else tmp_path
    page.screenshot(path=str(folder / "screenshot-phone.png"))
    page.context.close()


def test_dark_screenshot(browser: object, live_app: App, tmp_path: Path):
    """Saved to docs/screenshot-dark.png with QA_UPDATE_SCREENSHOT=1."""
    page = open_page(browser, "dark")
    page.goto(live_app.url)
    ask(page, "Quel rôle joue l'indole-3-carbinol ?")
    folder = REPO / "docs" if os.environ.get("QA_UPDATE_SCREENSHOT") else tmp_path
    page.screenshot(path=str(folder / "screenshot-dark.png"))
    assert (folder / "screenshot-dark.png").stat().st_size > 10_000
    page.context.close()


def test_screen_reader_labels_and_links_are_french(browser: object, live_app: App):
    page = open_page(browser)
    page.goto(live_app.url)
    ask(page, QUESTION)
    page.locator('#qa-chat button[aria-label="J\'aime"]').last.click()
    time.sleep(0.5)
    texts = page.evaluate(
        "() => [...document.querySelectorAll('[aria-label],[title],[placeholder]')].flatMap(e =>"
        " [e.getAttribute('aria-label'), e.getAttribute('title'), e.getAttribute('placeholder')])"
        ".filter(Boolean).concat([document.body.innerText])"
    )
    assert not [t for t in texts for english in ENGLISH if english in t]
    assert page.locator("footer").count() == 0  # no link to Gradio's English API panel
    page.goto(live_app.url + "staff/")
    page.get_by_role("tab", name="Journal des questions").click()
    log = page.locator("#qa-staff-log table.qa-log")
    log.wait_for()
    assert "answered" not in log.inner_text() and "Répondu" in log.inner_text()
    assert "Phrase citée" in log.inner_text()
    page.context.close()


def test_article_view_leads_back_and_citations_are_one_tab_stop(browser: object, live_app: App):
    page = open_page(browser)
    page.goto(live_app.url)
    # an answer with other passages (« Autres passages »): several links, one Tab stop
    reply = ask(page, "Que permet la tri-thérapie contre les cancers du sang ?")
    links = reply.locator("a.qa-cite")
    tabbable = links.evaluate_all("els => els.filter(e => e.tabIndex >= 0).length")
    assert reply.locator(".qa-source a.qa-cite").count() >= 2 and tabbable == 1
    first = reply.locator(".qa-source a.qa-cite").first
    first.focus()
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.textContent") == "Voir dans l’article"
    assert page.evaluate("document.activeElement.getAttribute('tabindex')") == "0"
    assert first.get_attribute("tabindex") == "-1"
    page.keyboard.press("Enter")  # an other passage: highlighted in the article, no sentence marked
    page.locator(".qa-article .qa-hit").first.wait_for(state="visible")
    assert page.locator(".qa-article .qa-hit-key").count() == 0
    back = page.get_by_role("link", name="← Retour à la conversation").first
    back.focus()
    page.keyboard.press("Enter")
    # The focus returns to the citation link the reader came from.
    page.wait_for_function("document.activeElement.matches('.qa-answer a.qa-cite')")
    assert page.locator("#qa-question textarea").is_visible()
    page.context.close()


def test_print_shows_the_whole_conversation(browser: object, live_app: App):
    page = open_page(browser)
    page.goto(live_app.url)
    ask(page, "Qui a écrit l'article ?")
    ask(page, QUESTION)
    page.emulate_media(media="print")
    chat = page.locator("#qa-chat")
    assert chat.evaluate("el => el.scrollHeight <= el.clientHeight + 1")
    inner = page.locator("#qa-chat .bubble-wrap")
    assert inner.evaluate("el => el.scrollHeight <= el.clientHeight + 1")
    assert page.locator(".qa-answer").count() == 2
    assert page.locator("#qa-question").is_hidden() and page.locator("#qa-examples").is_hidden()
    assert page.locator(".qa-answer").first.locator(".qa-passage").count() >= 1
    page.context.close()


def test_staff_page_on_a_phone(browser: object, live_app: App):
    page = open_page(browser, "dark", PHONE)
    page.goto(live_app.url + "staff/")
    page.locator("#qa-staff-question textarea").fill(QUESTION)
    page.locator("#qa-staff-question textarea").press("Enter")
    scores = page.locator("#qa-staff-report .qa-scroll")
    scores.wait_for()
    assert scores.evaluate(
        "el => el.scrollWidth > el.clientWidth && getComputedStyle(el).overflowX === 'auto'"
    )
    page.get_by_role("tab", name="Journal des questions").click()
    cell = page.locator("#qa-staff-log td").first
    cell.wait_for()
    # One card per question: cells stacked, the page never wider than the screen.
    assert cell.evaluate("el => getComputedStyle(el).display") == "block"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.context.close()


RELATED = "Combien coûte l'anticorps-médicament contre le cancer du sein métastatique ?"


@pytest.mark.parametrize("scheme", SCHEMES)
def test_related_reading_is_labelled_as_such(
    browser: object, axe: object, live_app: App, scheme: str, tmp_path: Path
):
    """When the article does not say exactly that, the closest passage is related reading only."""
    page = open_page(browser, scheme)
    page.goto(live_app.url)
    reply = ask(page, RELATED)
    assert "qa-related" in reply.get_attribute("class")  # on topic, but no price in the passage
    assert "Lecture liée" in reply.inner_text() and "D'après l'article" not in reply.inner_text()
    assert reply.locator("blockquote.qa-key").count() == 0
    assert reply.locator(".qa-passage").count() >= 1 and reply.locator("mark").count() == 0
    assert page.locator(".message-buttons").last.locator('button[aria-label="J\'aime"]').is_visible()
    assert blocking_violations(axe, page) == []
    page.screenshot(path=str(tmp_path / f"related-{scheme}.png"))
    page.context.close()
