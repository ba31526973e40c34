"""The staff page's helpers: French statuses, local times, the cited sentence, the HTML log, the search,
and the « Vérifications » tab: its choices, its preview, its list, its handlers' French outcomes."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.fakes import fake_engine_for
from support.paths import SEED
from support.samples import XSS

from qa.article import Article, Span
from qa.web.export import NEWSROOM_ZONE
from qa.web.feedback import FeedbackStore, LoggedQuestion
from qa.web.service import Assistant
from qa.web.staff import LOG_HEADERS, STATUS_CHOICES, log_rows, matching, render_log
from qa.web.staff_verify import VerificationTab
from qa.web.verification_view import (
    WHOLE_PASSAGE,
    log_choices,
    parse_span,
    passage_choices,
    render_preview,
    render_verifications,
    sentence_choices,
    withdraw_choices,
)


def logged(
    question: str, status: str, highlight: str | None = None, context: str | None = None
) -> LoggedQuestion:
    passages = [{"rank": 1, "highlight": highlight}] if highlight else []
    return LoggedQuestion(1, "2026-11-30T19:49:41+00:00", question, status, "up", passages, context)


def test_log_rows_are_french_with_the_cited_sentence_and_the_context():
    rows = log_rows(
        [
            logged("Qui ?", "answered", "Jean Pierre Meo"),
            logged("Bonjour", "smalltalk"),
            logged(
                "Et chez l'enfant ?", "no_answer", "La leucémie aigüe myéloïde…", "Qu'est-ce que la LAM ?"
            ),
        ]
    )
    assert rows[0] == ["2026-11-30 20:49:41 +01:00", "Qui ?", "", "Répondu", "Jean Pierre Meo", "👍 utile"]
    assert rows[1][3:5] == ["Conversation", ""]
    # a follow-up reads with its conversation; a declined reply quoted no sentence
    assert rows[2][1:5] == ["Et chez l'enfant ?", "Qu'est-ce que la LAM ?", "Sans réponse", ""]
    assert ("Sans réponse", "no_answer") in STATUS_CHOICES and ("Tous", "") in STATUS_CHOICES


def test_log_table_is_escaped_and_labelled_for_cards():
    html = render_log(log_rows([logged(XSS, "answered", XSS, XSS)]))
    assert "<img" not in html and html.count("&lt;img") == 3
    assert all(f'data-label="{header}"' in html for header in LOG_HEADERS)
    assert "Aucune question" in render_log([])


def test_search_looks_in_the_question_and_the_cited_sentence():
    rows = [logged("Qui a écrit l'article ?", "answered", "Jean Pierre Meo"), logged("Bonjour", "smalltalk")]
    assert matching(rows, "") == rows
    assert matching(rows, "ÉCRIT") == rows[:1] and matching(rows, "meo") == rows[:1]
    assert matching(rows, "absent") == []


# --- the « Vérifications » tab ------------------------------------------------------------------


@pytest.fixture
def assistant(tmp_path: Path) -> Assistant:
    """A fresh engine (it keeps the verifications it is given) and store."""
    return Assistant(fake_engine_for((SEED,), tmp_path / "index"), FeedbackStore(tmp_path / "f.sqlite3"))


def test_each_logged_question_links_to_its_verification():
    html = render_log(log_rows([logged("Qui ?", "answered")]), [12])
    assert 'href="?verifier=12"' in html and "Vérifier<span" in html and "la question n° 12" in html
    assert 'data-label="Vérification"' in html and "verifier" not in render_log(
        log_rows([logged("Qui ?", "up")])
    )


def test_choices_name_each_passage_and_sentence(seed_article: Article):
    passages = passage_choices(seed_article)
    assert len(passages) == len(seed_article.passages) and all(len(label) < 250 for label, _ in passages)
    label, value = passages[3]
    assert label.startswith(seed_article.passages[3].title + " — « ") and parse_span(value) == Span(
        1296, 1749
    )
    sentences = sentence_choices(seed_article, parse_span(value))
    assert sentences[0] == WHOLE_PASSAGE and len(sentences) == 1 + len(seed_article.passages[3].sentences)
    assert sentence_choices(seed_article, None) == [WHOLE_PASSAGE] and passage_choices(None) == []
    assert parse_span("") is None and parse_span("3-x") is None and parse_span(None) is None
    assert log_choices([logged("Qui ?", "answered")]) == [("n° 1 — Qui ?", "1")]


def test_the_preview_is_the_reply_visitors_will_see(seed_article: Article):
    articles = {seed_article.id: seed_article}
    passage = seed_article.passages[3]
    sentence = passage.sentences[1]
    html = render_preview(XSS, None, seed_article, Span(passage.start, passage.end), sentence, articles)
    assert "Réponse vérifiée par la rédaction" in html and "<img" not in html
    assert f"<mark>{seed_article.text(sentence)}</mark>" in html.replace("&#x27;", "'")
    absent = render_preview("Combien ?", "Qui ?", None, None, None, articles)
    assert "ne traite pas de cette question" in absent and "lue à la suite de : « Qui ? »" in absent
    assert "Choisissez le passage" in render_preview("Q ?", None, seed_article, None, None, articles)


def test_the_list_shows_each_state_author_and_local_time(assistant: Assistant):
    article = next(iter(assistant.articles.values()))
    first = assistant.verify("Qui ?", author=XSS, article=article.id, start=1296, end=1749)
    assistant.verify("Combien ?", ["Qui ?"], author="paul", verdict="absent")
    assert first and assistant.withdraw(first.verification.id, "chef").value == "done"
    records = assistant.verification_records()
    html = render_verifications(records, assistant.articles, assistant.stale, NEWSROOM_ZONE)
    assert "en vigueur" in html and "retirée le " in html and "par chef" in html and "<img" not in html
    assert "L'article ne le dit pas" in html and "+01:00" in html
    stale = render_verifications(
        records[1:], assistant.articles, frozenset({first.verification.id}), NEWSROOM_ZONE
    )
    assert "retirée" in stale  # withdrawn comes before stale
    assert withdraw_choices(records) == [("n° 2 — Combien ?", "2")]


def test_the_tab_answers_in_french_and_saves(assistant: Assistant):
    tab = VerificationTab(assistant, NEWSROOM_ZONE)
    article = next(iter(assistant.articles.values()))
    missing = tab.save("Qui ?", "", "passage", article.id, None, "", None)[0]
    assert "choisissez le passage" in missing and 'role="alert"' in missing
    empty = tab.save("", "", "absent", article.id, None, "", None)[0]
    assert "question est vide" in empty
    saved, listing, _ = tab.save("Qui ?", "", "passage", article.id, "1296-1749", "", None)
    assert "Vérification n° 1 enregistrée" in saved and "staff" in listing
    assert "Choisissez d&#x27;abord" in tab.withdraw(None, None)[0]
    assert "Aucune vérification ne porte le n° 7" in tab.withdraw("7", None)[0]
    assert "n° 1 retirée" in tab.withdraw("1", None)[0] and "déjà retirée" in tab.withdraw("1", None)[0]
