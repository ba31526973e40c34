"""The staff page's helpers: French statuses, local times, the cited sentence, the HTML log, the search."""

from __future__ import annotations

from support.samples import XSS

from qa.web.feedback import LoggedQuestion
from qa.web.staff import LOG_HEADERS, STATUS_CHOICES, log_rows, matching, render_log


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
