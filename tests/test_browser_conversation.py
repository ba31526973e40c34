"""The chat as a conversation, in headless Chromium: follow-ups, a page scoped to one article
(``?article=``, also embedded), and the clickable subjects of a no-answer.

The scope tests run an app over two articles (the seed article and ``tests/data/cafe_sommeil.md``),
so that "only that article" means something.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from support.browser import Session, ask, needs_chromium
from support.paths import ARTICLES, DATA, REPO
from support.web import App, StaticServer, serving

from qa.engine import Engine, Settings

axe_api = pytest.importorskip("axe_playwright_python.sync_playwright")

pytestmark = [pytest.mark.browser, pytest.mark.model, needs_chromium]

FIRST = "Que sait-on sur l'indole-3-carbinol ?"
FOLLOW_UP = "Et sans elle, que se passe-t-il ?"
CAFE = "cafe_sommeil"
CAFE_TITLE = "Le café du soir nuit-il vraiment au sommeil ?"
SEED_ID = "000_77dfe58a8330a326"


@pytest.fixture(scope="module")
def two_articles(real_encoder: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """The real app over the seed article and the coffee article."""
    folder = tmp_path_factory.mktemp("two")
    settings = Settings(articles=(ARTICLES, DATA / f"{CAFE}.md"), index_dir=folder / "index")
    engine = Engine.load(settings, encoder=real_encoder)
    with serving(engine, folder / "feedback.sqlite3", rate_limit=10_000) as app:
        yield app


def first_section(reply: object) -> str:
    return reply.locator(".qa-section-title strong").first.inner_text()


def cited_articles(scope: object) -> set[str]:
    """The articles every citation link of the chat points at (``#p-<article>-…``)."""
    hrefs = scope.locator("#qa-chat a.qa-cite").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert hrefs, "no citation in the chat"
    return {re.match(r"#p-(.+?)-\d+-\d+(?:-h-\d+-\d+)?$", href)[1] for href in hrefs}


def check_scoped_chat(scope: object) -> None:
    """In a chat scoped to the coffee article: a question on the seed article gets the coffee
    article's subjects, a question on coffee cites the coffee article only."""
    reply = ask(scope, "Quel rôle joue l'indole-3-carbinol ?")
    listed = reply.locator("ul.qa-topics a.qa-topic").all_inner_texts()
    assert listed == ["Ce que mesure l'étude", "Des conseils simples"]
    assert scope.locator("#qa-chat a.qa-cite").count() == 0
    ask(scope, "À quelle heure faut-il arrêter le café ?").locator("mark").first.wait_for()
    assert cited_articles(scope) == {CAFE}


def test_a_follow_up_is_read_after_the_question_before(session: Session, live_app: App):
    page = session.page
    page.goto(live_app.url)
    first = ask(page, FIRST)
    first.locator("mark").first.wait_for()
    follow = ask(page, FOLLOW_UP)
    follow.locator("mark").first.wait_for()
    assert follow.locator(".qa-context").inner_text() == f"(lue à la suite de : « {FIRST} »)"
    assert first.locator(".qa-context").count() == 0
    assert first_section(follow) == first_section(first)
    # A cleared chat forgets: the same follow-up alone is not read after anything.
    page.locator("#qa-clear").click()
    page.wait_for_function("document.querySelectorAll('.qa-answer').length === 0")
    alone = ask(page, FOLLOW_UP)
    assert alone.locator(".qa-context").count() == 0


def test_the_subjects_of_a_no_answer_are_clickable(session: Session, live_app: App, browser: object):
    page = session.page
    page.goto(live_app.url)
    declined = ask(page, "Quelle est la hauteur de la tour Eiffel ?")
    topics = declined.locator("ul.qa-topics a.qa-topic")
    assert topics.count() >= 3
    subject = topics.first.inner_text()
    results = axe_api.Axe().run(page)
    serious = [v["id"] for v in results.response["violations"] if v["impact"] in {"serious", "critical"}]
    assert serious == []
    topics.first.focus()  # keyboard: a link, reached with Tab and followed with Enter
    page.keyboard.press("Enter")
    page.locator(".qa-answer").nth(1).wait_for(state="visible")
    assert page.locator(".qa-user").last.inner_text() == f"Que dit l'article sur {subject} ?"
    # « Pourquoi ? » alone (a fresh chat) says how to rephrase; after a question it is a follow-up.
    page.locator("#qa-clear").click()
    page.wait_for_function("document.querySelectorAll('.qa-answer').length === 0")
    vague = ask(page, "Pourquoi ?")
    assert "Précisez le sujet" in vague.inner_text()


def test_a_page_scoped_to_one_article(session: Session, two_articles: App):
    page = session.page
    page.goto(two_articles.url + f"?article={CAFE}")
    page.locator(".qa-tagline", has_text=f"l'article « {CAFE_TITLE} »").wait_for()
    # The examples fit the article, as short questions: none about the seed article's leukaemia.
    examples = page.locator("#qa-example-buttons button")
    assert "Ce que mesure l'étude : que dit l'article ?" in examples.all_inner_texts()
    assert page.get_by_role("button", name="Quel type de leucémie").count() == 0
    check_scoped_chat(page)
    page.get_by_role("button", name="Des conseils simples : que dit l'article ?").click()
    page.locator(".qa-answer").nth(2).wait_for()
    assert cited_articles(page) == {CAFE}
    page.get_by_role("tab", name="Article").click()
    assert page.locator(f'.qa-article[data-article="{CAFE}"]').is_visible()
    assert not page.locator(f'.qa-article[data-article="{SEED_ID}"]').is_visible()


def test_an_unknown_article_is_said_not_ignored(session: Session, two_articles: App):
    """The page says it cannot answer: no examples, no article tab, the box closed, no raw id."""
    page = session.page
    page.goto(two_articles.url + "?article=absent")
    error = page.locator(".qa-scope-error")
    error.wait_for()
    assert "Article inconnu : « absent »" in error.inner_text()
    assert CAFE_TITLE in error.inner_text() and SEED_ID not in error.inner_text()
    page.locator("#qa-question textarea[disabled]").wait_for()
    assert "Article inconnu" in page.locator("#qa-question textarea").get_attribute("placeholder")
    assert page.locator("#qa-example-buttons button").filter(visible=True).count() == 0
    assert page.get_by_role("tab", name="Article").count() == 0
    assert page.locator("#qa-send").is_disabled()


@pytest.mark.parametrize("mode", ["iframe", "composant"])
def test_a_scoped_embed(session: Session, two_articles: App, mode: str):
    with StaticServer(REPO / "examples") as static:
        session.page.goto(f"{static.url}embed.html?mode={mode}&article={CAFE}&app={quote(two_articles.url)}")
        scope = session.page.frame_locator("#qa-frame") if mode == "iframe" else session.page
        scope.locator(".qa-tagline", has_text=f"l'article « {CAFE_TITLE} »").wait_for()
        check_scoped_chat(scope)


def test_a_web_component_takes_its_scope_from_its_src(session: Session, two_articles: App, tmp_path: Path):
    """The host page's own ``?article=`` (here meaning something else to its site) is not read."""
    page_html = (
        f'<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Hôte</title>'
        f'<script type="module" src="{two_articles.url}gradio.js"></script></head><body>'
        f'<gradio-app src="{two_articles.url}?article={CAFE}"></gradio-app></body></html>'
    )
    (tmp_path / "hote.html").write_text(page_html, encoding="utf-8")
    with StaticServer(tmp_path) as static:
        session.page.goto(f"{static.url}hote.html?article=12345")
        session.page.locator(".qa-tagline", has_text=f"l'article « {CAFE_TITLE} »").wait_for()
        assert session.page.locator(".qa-scope-error").count() == 0
        ask(session.page, "À quelle heure faut-il arrêter le café ?").locator("mark").first.wait_for()
        assert cited_articles(session.page) == {CAFE}
