"""The public page's helpers: the answer id a vote carries, the bounded memory of answers."""

from __future__ import annotations

from qa.web.ui import KEPT_ANSWERS, _remember, answer_id_in


def test_answer_id_is_read_from_any_form_of_the_message():
    ident = "0123456789abcdef" * 2
    html = f'<div class="qa-answer qa-answered" data-qa-id="{ident}"><p>…</p></div>'
    assert answer_id_in(html) == ident
    assert answer_id_in([{"type": "text", "text": html}]) == ident
    assert answer_id_in(["<p class='qa-user'>data-qa-id=\"x\"</p>", html]) == ident
    assert answer_id_in("<p>Bonjour</p>") is None


def test_remembered_answers_are_bounded():
    kept: dict = {}
    for number in range(KEPT_ANSWERS + 5):
        kept = _remember(kept, f"{number:032x}", {"log_id": number})
    assert len(kept) == KEPT_ANSWERS and f"{0:032x}" not in kept
    assert kept[f"{KEPT_ANSWERS + 4:032x}"] == {"log_id": KEPT_ANSWERS + 4}
