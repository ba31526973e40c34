"""Removed-paragraph questions: the article still about its topic, no longer saying the answer."""

from __future__ import annotations

from pathlib import Path

from support.fakes import FakeEncoder
from support.paths import SEED

from qa.article import load_article
from qa.evaluation.datasets import Question
from qa.evaluation.removed import (
    Cut,
    as_removed,
    cut_out,
    paragraph_around,
    passage_cut,
    question_cut,
    without,
)
from qa.evaluation.suite import removed_engines
from qa.settings import Settings

WIKI = (
    "# Lyon\n\nLyon est une ville de France.\n\n"
    "Sa population est de 520 000 habitants.\n\nLa ville a un fleuve.\n"
)


def test_the_paragraph_around_an_answer_is_its_blank_line_block() -> None:
    start = WIKI.index("520 000")
    a, b = paragraph_around(WIKI, start, start + 7)
    assert WIKI[a:b] == "Sa population est de 520 000 habitants."
    assert cut_out(WIKI, a, b) == "# Lyon\n\nLyon est une ville de France.\n\nLa ville a un fleuve.\n"
    first = paragraph_around(WIKI, 0, 3)
    assert WIKI[first[0] : first[1]] == "# Lyon"


def article_file(tmp_path: Path, text: str = WIKI) -> Path:
    path = tmp_path / "lyon.md"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_question_by_offsets_loses_its_paragraph_and_its_answer(tmp_path: Path) -> None:
    article = load_article(article_file(tmp_path))
    start = WIKI.index("520 000")
    question = Question("q1", "Combien d'habitants ?", article="lyon", start=start, end=start + 7)
    cut = question_cut(question, {"lyon": article})
    assert cut == Cut("lyon", *paragraph_around(WIKI, start, start + 7))
    cut_article = without(article, cut, tmp_path / "cut")
    assert cut_article.id == "lyon"
    assert "520 000" not in cut_article.source and "fleuve" in cut_article.source
    assert all("520 000" not in cut_article.text(p) for p in cut_article.passages)


def test_a_question_whose_answer_is_also_elsewhere_is_skipped(tmp_path: Path) -> None:
    text = WIKI + "\nOn y compte 520 000 habitants selon le recensement.\n"
    article = load_article(article_file(tmp_path, text))
    start = text.index("520 000")
    question = Question("q1", "Combien d'habitants ?", article="lyon", start=start, end=start + 7)
    assert question_cut(question, {"lyon": article}) is None
    assert question_cut(Question("q2", "Et alors ?"), {"lyon": article}) is None  # not answerable


def test_a_question_by_verbatim_gold_loses_its_section(tmp_path: Path) -> None:
    article = load_article(SEED)
    gold = ("processus spécifique d'utilisation du fer",)
    cut = passage_cut(article, gold)
    assert cut is not None
    question = Question("d1", "Quel rôle joue le fer ?", gold=gold)
    assert question_cut(question, {article.id: article}) == cut
    cut_article = without(article, cut, tmp_path)
    assert "utilisation du fer" not in cut_article.source
    assert "ferroptose" in cut_article.source  # the other sections stay
    assert len(cut_article.passages) < len(article.passages)
    assert cut_article.title == article.title  # still the same article, about the same topic
    assert passage_cut(article, ("Jean Pierre Meo",)) is None  # the byline is never cut
    assert passage_cut(article, ("absent de l'article",)) is None


def test_removed_questions_are_asked_of_their_article_without_the_answer(tmp_path: Path) -> None:
    article = load_article(article_file(tmp_path))
    start = WIKI.index("520 000")
    question = Question("q1", "Quelle est la population ?", article="lyon", start=start, end=start + 7)
    asked, sources = removed_engines([article], [question], Settings(), FakeEncoder(), {id(question): "f"})
    [(engine, [negative])] = asked
    assert negative == as_removed(question) and negative.kind == "removed" and not negative.answerable
    assert sources == {id(negative): "f"}
    assert "520 000" not in engine.articles[0].source
