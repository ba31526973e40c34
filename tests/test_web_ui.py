"""The public page's helpers: the answer id a vote carries, the bounded memory of answers, examples."""

from __future__ import annotations

from qa.article import Article
from qa.web.examples import EXAMPLE_TOPIC_CHARS, example_question, scoped_examples, short_topic
from qa.web.render import render_pending
from qa.web.ui import KEPT_ANSWERS, _remember, _settled, answer_id_in


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


def test_examples_of_a_scoped_page_are_short_questions(seed_article: Article):
    assert short_topic(
        "Cancer du sein métastatique : un anticorps-médicament révolutionne le traitement"
    ) == ("Cancer du sein métastatique")
    assert example_question("Des conseils simples") == "Des conseils simples : que dit l'article ?"
    long_title = "Une très longue section dont le titre n'a pas de sous-titre du tout"
    assert len(short_topic(long_title)) <= EXAMPLE_TOPIC_CHARS and long_title.startswith(
        short_topic(long_title)
    )
    examples = scoped_examples(seed_article)
    assert len(examples) == 4 and all(len(e) <= 70 for e in examples)
    assert examples[:2] == ["Qui a écrit l'article ?", "Quand l'article a-t-il été publié ?"]


def test_a_pending_reply_left_behind_is_dropped():
    question = {"role": "user", "content": "<p class='qa-user'>Q</p>"}
    pending = {"role": "assistant", "content": render_pending()}
    assert _settled([question, pending]) == [question]
    assert _settled(None) == []
