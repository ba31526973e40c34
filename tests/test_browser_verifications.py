"""Staff-verified answers in headless Chromium: an editor verifies a logged question on /staff, and
visitors then get the verified reply, its sentence marked, under « Réponse vérifiée par la
rédaction »; axe-core finds nothing serious in the new views, light and dark, desktop and phone.

The engine is the real one over the seed article with the fake encoder, built for this module
(an engine keeps the verifications it is given: no other test shares it). The staff page is
behind a password, so the author recorded is the editor's user name.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from support.browser import (
    CONTRAST,
    DESKTOP,
    ENGLISH,
    PHONE,
    SCHEMES,
    SCREENS,
    ask,
    needs_chromium,
    open_page,
)
from support.fakes import fake_engine_for
from support.paths import REPO, SEED
from support.web import App, serving

axe_api = pytest.importorskip("axe_playwright_python.sync_playwright")

pytestmark = [pytest.mark.browser, needs_chromium]

PASSWORD = "s3cret"
EDITOR = {"username": "marie", "password": PASSWORD}
DECLINED = "Combien de souris ont été utilisées ?"  # declined by this engine until verified
REWORDED = "combien de souris ont ete utilisees ?"
SECTION = "Cellules cancéreuses résistantes"
BLOCKING = {"serious", "critical"}
MARKED = "start => (document.querySelector('#qa-verify-preview mark')?.innerText || '').startsWith(start)"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    folder = tmp_path_factory.mktemp("verified")
    engine = fake_engine_for((SEED,), folder / "index")
    with serving(engine, folder / "f.sqlite3", rate_limit=10_000, staff_password=PASSWORD) as running:
        yield running


def staff_page(browser: object, scheme: str = "light", screen: dict = DESKTOP) -> object:
    phone = screen is PHONE
    context = browser.new_context(
        viewport=screen,
        color_scheme=scheme,
        locale="en-US",
        http_credentials=EDITOR,
        is_mobile=phone,
        has_touch=phone,
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    return page


def serious(page: object) -> list[str]:
    results = axe_api.Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:5]}"
        for v in results.response["violations"]
        if v["impact"] in BLOCKING
    ]


def choose_passage_and_sentence(page: object) -> str:
    """Pick the passage under :data:`SECTION` and its second sentence; the sentence's text."""
    page.locator("#qa-verify-passage label", has_text=SECTION).click()
    sentence = page.locator("#qa-verify-sentence label").nth(2)
    sentence.wait_for()
    sentence.click()
    start = sentence.inner_text().strip().rstrip("…")
    page.wait_for_function(MARKED, arg=start)
    return page.locator("#qa-verify-preview mark").inner_text()


def test_an_editor_verifies_a_logged_question_and_visitors_get_it(browser: object, app: App, tmp_path: Path):
    visitor = open_page(browser)
    visitor.goto(app.url)
    assert "ne traite pas de cette question" in ask(visitor, DECLINED).inner_text()

    page = staff_page(browser)
    page.goto(app.url + "staff/")
    page.get_by_role("tab", name="Journal des questions").click()
    row = page.locator("#qa-staff-log tr", has_text=DECLINED).first
    link = row.get_by_role("link", name="Vérifier")
    link.focus()  # a plain link: Tab reaches it, Enter follows it
    page.keyboard.press("Enter")
    page.wait_for_url("**/staff/?verifier=*")
    page.wait_for_function("document.querySelector('#qa-verify-question textarea')?.value.length > 0")
    assert page.locator("#qa-verify-question textarea").input_value() == DECLINED
    assert page.get_by_role("tab", name="Vérifications").get_attribute("aria-selected") == "true"
    marked = choose_passage_and_sentence(page)
    preview = page.locator("#qa-verify-preview")
    assert preview.get_by_text("Réponse vérifiée par la rédaction").is_visible()
    assert SECTION in preview.locator(".qa-section-title").inner_text()
    page.get_by_role("button", name="Enregistrer la vérification").click()
    page.locator("#qa-verify-outcome", has_text="enregistrée").wait_for()
    listed = page.locator("#qa-verify-list tbody tr").first
    assert "en vigueur" in listed.inner_text() and "marie" in listed.inner_text()
    shown = page.locator("#qa-verify-tab").inner_text()
    assert [word for word in ENGLISH if word in shown] == []
    folder = REPO / "docs" if os.environ.get("QA_UPDATE_SCREENSHOT") else tmp_path
    page.locator("#qa-verify-sentence").evaluate("el => el.scrollIntoView({block: 'start'})")
    page.screenshot(path=str(folder / "screenshot-verification.png"))  # the marked sentence to the list
    page.context.close()

    visitor.locator("#qa-clear").click()  # a new conversation: the rewording is no follow-up
    visitor.wait_for_function("document.querySelectorAll('.qa-answer').length === 0")
    reply = ask(visitor, REWORDED)
    badge = reply.locator(".qa-verified")
    badge.wait_for()
    assert badge.inner_text().strip().endswith("Réponse vérifiée par la rédaction")
    assert reply.locator("mark").first.inner_text() == marked
    assert f"« {marked} »" in reply.locator("blockquote.qa-key").inner_text()
    visitor.context.close()


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("screen", SCREENS)
def test_the_new_views_pass_axe_and_the_badge_is_readable(
    browser: object, app: App, scheme: str, screen: str
):
    body = {"question": "Les résultats sont-ils prometteurs ?", "verdict": "absent"}
    made = httpx.post(app.url + "staff/api/verifications", json=body, auth=("marie", PASSWORD), timeout=30)
    assert made.status_code == 201
    asked = httpx.post(app.url + "api/ask", json={"question": body["question"]}, timeout=30)
    assert asked.status_code == 200  # the log has a row to show, whichever tests ran before
    page = staff_page(browser, scheme, SCREENS[screen])
    page.goto(app.url + "staff/")
    page.get_by_role("tab", name="Vérifications").click()
    page.locator("#qa-verify-list table").wait_for()
    choose_passage_and_sentence(page)
    found = {"vérifications": serious(page)}
    page.get_by_role("tab", name="Journal des questions").click()
    page.locator("#qa-staff-log table.qa-log").wait_for()
    found["journal"] = serious(page)
    page.context.close()
    visitor = open_page(browser, scheme, SCREENS[screen])
    visitor.goto(app.url)
    badge = ask(visitor, body["question"].lower()).locator(".qa-verified")
    badge.wait_for()
    assert visitor.evaluate("document.body.classList.contains('dark')") == (scheme == "dark")
    assert badge.evaluate(CONTRAST) >= 4.5
    found["réponse vérifiée"] = serious(visitor)
    visitor.context.close()
    assert {view: issues for view, issues in found.items() if issues} == {}
