"""Citable passages: whole short sections, paragraphs of long ones, metadata kept apart."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.fakes import fake_engine_for
from support.paths import DATA, SEED

from qa.answer import Status
from qa.article import MAX_PASSAGE_CHARS, METADATA_TITLE, PassageKind, load_article

SENTENCE = "Les chercheurs ont suivi des volontaires pendant deux semaines dans un laboratoire. "


def paragraphs(count: int, sentences: int = 4) -> list[str]:
    return [(f"Paragraphe {n} : " + SENTENCE * sentences).strip() for n in range(count)]


def check_offsets(path: Path) -> None:
    article = load_article(path)
    for passage in article.passages:
        text = article.text(passage)
        assert text == article.source[passage.start : passage.end] and text.strip() == text
        for span in passage.sentences:
            assert passage.start <= span.start < span.end <= passage.end


def test_short_sections_are_cited_whole() -> None:
    article = load_article(SEED)
    body = [p for p in article.passages if p.kind == PassageKind.BODY]
    sections = [s for s in article.sections if s.kind == "section"]
    assert [(p.start, p.end, p.title) for p in body] == [(s.start, s.end, s.title) for s in sections]
    (summary,) = [p for p in article.passages if p.kind == PassageKind.SUMMARY]
    assert summary.title == "Introduction"


def test_metadata_passages_hold_title_byline_and_credit() -> None:
    article = load_article(SEED)
    header, credit = [p for p in article.passages if p.kind == PassageKind.METADATA]
    assert header.title == credit.title == METADATA_TITLE
    lines = [article.text(s) for s in header.sentences]
    assert lines == [article.title, "Jean Pierre Meo", "il y a 1 jour", "3 min de lecture"]
    assert article.text(credit) == "Article rédigé par INSERM - Publié le 4 février 2026"
    # the credit line sits inside the introduction's text but is never one of its sentences
    summary = next(p for p in article.passages if p.kind == PassageKind.SUMMARY)
    assert summary.start < credit.start < summary.end
    assert all(article.text(s) != article.text(credit) for s in summary.sentences)
    check_offsets(SEED)


def test_long_sections_are_cited_by_paragraphs(tmp_path: Path) -> None:
    path = tmp_path / "long.md"
    texts = paragraphs(4)
    path.write_text("# Un titre\n\n## Une section longue\n\n" + "\n\n".join(texts) + "\n", encoding="utf-8")
    article = load_article(path)
    body = [p for p in article.passages if p.kind == PassageKind.BODY]
    assert len(body) == 4
    assert all(p.title == "Une section longue" for p in body)
    assert article.text(body[0]).startswith("Une section longue")  # the heading opens the first one
    assert [article.text(p) for p in body[1:]] == texts[1:]
    assert all(p.end - p.start <= MAX_PASSAGE_CHARS for p in body)
    check_offsets(path)


def test_an_article_without_headings_is_cited_by_paragraph_under_its_title(tmp_path: Path) -> None:
    path = tmp_path / "plat.md"
    texts = paragraphs(3, sentences=6) + ["Court."]
    path.write_text("# Jakob Böhme\n\n" + "\n\n".join(texts) + "\n", encoding="utf-8")
    article = load_article(path)
    body = [p for p in article.passages if p.kind == PassageKind.BODY]
    assert [p.title for p in body] == ["Jakob Böhme"] * 3
    assert article.text(body[-1]).endswith("Court.")  # a short last paragraph joins the one before
    check_offsets(path)


def test_html_and_markdown_passages_keep_exact_offsets() -> None:
    check_offsets(DATA / "velo_ville.html")
    check_offsets(DATA / "cafe_sommeil.md")


# --- metadata in the engine ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory):
    return fake_engine_for((SEED,), tmp_path_factory.mktemp("meta") / "index")


@pytest.mark.parametrize(
    ("question", "line"),
    [
        ("Qui est l'auteur ?", "Jean Pierre Meo"),
        ("Quand l'article a-t-il été publié ?", "Article rédigé par INSERM - Publié le 4 février 2026"),
        ("Combien de temps faut-il pour lire l'article ?", "3 min de lecture"),
        ("Quel est le titre de l'article ?", "Cancer : ces avancées françaises pourraient transformer"),
        ("Quel organisme a rédigé ce texte ?", "Article rédigé par INSERM"),
    ],
)
def test_questions_about_the_article_get_the_line_that_says_it(engine, question: str, line: str) -> None:
    answer = engine.ask(question)
    assert answer.status == Status.ANSWERED
    (citation,) = answer.passages
    assert citation.section == METADATA_TITLE and citation.highlight.startswith(line)
    assert "4 février 2026" in answer.message  # the publication date of the credit line


@pytest.mark.parametrize(
    "question",
    [
        "Pour quelle journée l'article a-t-il été écrit ?",
        "Quand ce traitement sera-t-il disponible ?",
        "Quels résultats pour l'anticorps-médicament ?",
        "leucemie fer",
    ],
)
def test_content_questions_never_get_the_byline(engine, question: str) -> None:
    for citation in engine.ask(question).passages:
        assert citation.section != METADATA_TITLE
        assert "il y a 1 jour" not in citation.highlight


def test_a_name_only_the_byline_holds_reaches_it(engine) -> None:
    answer = engine.ask("Jean Pierre Meo")
    assert answer.passages[0].section == METADATA_TITLE


# --- the decision does not move with the corpus -------------------------------------------------


def test_decision_evidence_is_the_cited_articles_own(tmp_path: Path) -> None:
    alone = fake_engine_for((SEED,), tmp_path / "alone")
    many = fake_engine_for((SEED, DATA), tmp_path / "many")
    for question in [
        "Quels résultats pour l'anticorps-médicament dans le cancer du sein ?",
        "Quelle est la hauteur de la tour Eiffel ?",
        "leucemie fer",
        "Le café retarde-t-il le sommeil des souris ?",
    ]:
        one, two = alone.ask(question), many.ask(question)
        if one.passages[0].article != two.passages[0].article:
            continue  # another article's passage came first: different evidence, rightly
        assert two.decision.coverage == pytest.approx(one.decision.coverage)
        assert two.decision.contrast == pytest.approx(one.decision.contrast, abs=1e-4)
        assert two.decision.missing == one.decision.missing
        assert two.status == one.status, question
