"""Article parsing: the seed news page, Markdown, HTML, several articles at once, bad files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from support.fakes import fake_engine_for
from support.paths import DATA, SEED
from support.samples import BREADCRUMBS_PAGE

from qa.article import Article, find_articles, load_article, split_sentences
from qa.engine import load_articles

MARKDOWN = DATA / "cafe_sommeil.md"
HTML = DATA / "velo_ville.html"


@pytest.fixture(scope="module")
def seed() -> Article:
    return load_article(SEED)


def assert_well_formed(article: Article) -> None:
    """Every span indexes the source; headings and sentences lie inside their sections, in order."""
    for section in article.sections:
        assert 0 <= section.start < section.end <= len(article.source)
        text = article.text(section)
        assert text == text.strip() and text
        assert section.sentences
        previous_end = section.start
        for sentence in section.sentences:
            assert section.start <= sentence.start < sentence.end <= section.end, sentence
            assert sentence.start >= previous_end  # in order, not overlapping
            assert article.text(sentence).strip() == article.text(sentence)
            previous_end = sentence.end
        if section.heading:
            assert section.start == section.heading.start and section.heading.end <= section.end
            assert article.text(section.heading) == section.title
    ends = [s.end for s in article.sections]
    starts = [s.start for s in article.sections]
    assert all(end <= start for end, start in zip(ends, starts[1:], strict=False))  # no overlap


# --- the seed article -----------------------------------------------------------------------------


def test_seed_metadata(seed: Article) -> None:
    assert seed.title.startswith("Cancer : ces avancées françaises")
    assert seed.title == seed.source.splitlines()[0].strip()
    assert seed.author == "Jean Pierre Meo"
    assert seed.reading_time == "3 min de lecture"
    assert seed.published == "4 février 2026"
    assert seed.date == "il y a 1 jour"
    assert "INSERM" in seed.credit
    assert seed.id == SEED.stem
    assert seed.sha256 == hashlib.sha256(SEED.read_bytes()).hexdigest()


def test_seed_has_header_introduction_and_six_sections(seed: Article) -> None:
    kinds = [s.kind for s in seed.sections]
    assert kinds == ["header", "introduction"] + ["section"] * 6
    lines = [line.strip() for line in seed.source.splitlines()]
    for section in seed.sections[2:]:
        # a heading is one whole line of the page, and the section opens with it
        assert section.title in lines
        assert seed.text(section).startswith(section.title + "\n")
    titles = [s.title for s in seed.sections[2:]]
    assert titles[0].startswith("Cancer du sein métastatique")
    assert titles[-1].startswith("Leucémie")
    assert len(set(titles)) == 6


def test_seed_spans_are_verbatim_and_nested(seed: Article) -> None:
    assert seed.source == SEED.read_text(encoding="utf-8")
    assert_well_formed(seed)


def test_seed_header_holds_title_and_byline(seed: Article) -> None:
    header = seed.sections[0]
    texts = [seed.text(s) for s in header.sentences]
    assert texts == [seed.title, "Jean Pierre Meo", "il y a 1 jour", "3 min de lecture"]


def test_seed_introduction_keeps_credit_line(seed: Article) -> None:
    intro = seed.sections[1]
    texts = [seed.text(s) for s in intro.sentences]
    assert "Article rédigé par INSERM - Publié le 4 février 2026" in texts
    assert texts[0].startswith("En cette Journée mondiale contre le cancer")


def test_seed_page_residue_dropped(seed: Article) -> None:
    assert seed.source.rstrip().endswith("Commentaires")  # the page really has it...
    last = seed.sections[-1]
    assert "Commentaires" not in seed.text(last)  # ...and no section carries it
    assert seed.text(last).endswith("stratégies thérapeutiques.")
    assert all("Commentaires" not in seed.text(s) for s in seed.sections)


def test_seed_every_body_sentence_ends_a_sentence(seed: Article) -> None:
    for section in seed.sections[1:]:
        for span in section.sentences:
            text = seed.text(span)
            if not text.startswith("Article rédigé"):
                assert text[-1] in ".!?…", text


def test_seed_text_is_fully_covered(seed: Article) -> None:
    """No sentence of the body is lost: every non-blank line is a heading or made of sentences."""
    covered = set()
    for section in seed.sections:
        for span in (*section.sentences, *([section.heading] if section.heading else [])):
            covered.update(range(span.start, span.end))
    body_chars = {i for i, c in enumerate(seed.source) if not c.isspace()}
    residue_start = seed.source.rindex("Commentaires")
    missing = "".join(seed.source[i] for i in sorted(body_chars - covered) if i < residue_start)
    assert missing == "---"  # only the three byline dashes


# --- sentence splitting ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Une phrase. Une autre !  Et une troisième ?",
            ["Une phrase.", "Une autre !", "Et une troisième ?"],
        ),
        ("Le Dr. Martin parle. Il a raison.", ["Le Dr. Martin parle.", "Il a raison."]),
        ("M. Dupont arrive. Il salue.", ["M. Dupont arrive.", "Il salue."]),
        ("Il arrive. «Bonjour», dit-il.", ["Il arrive.", "«Bonjour», dit-il."]),
        ("En 2025. 12 patients ont guéri.", ["En 2025.", "12 patients ont guéri."]),
        ("pas de majuscule. ensuite", ["pas de majuscule. ensuite"]),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    source = "xx " + text + " yy"
    spans = split_sentences(source, 3, 3 + len(text))
    assert [source[s.start : s.end] for s in spans] == expected


def test_split_sentences_before_spaced_guillemet() -> None:
    source = "Il arrive. « Bonjour », dit-il."
    spans = split_sentences(source, 0, len(source))
    assert [source[s.start : s.end] for s in spans] == ["Il arrive.", "« Bonjour », dit-il."]


# --- Markdown and HTML ----------------------------------------------------------------------------


def test_markdown_article() -> None:
    article = load_article(MARKDOWN)
    assert article.title == "Le café du soir nuit-il vraiment au sommeil ?"
    assert article.source == MARKDOWN.read_text(encoding="utf-8")
    assert (article.author, article.date, article.reading_time) == (
        "Claire Dubois",
        "12 mars 2025",
        "2 min de lecture",
    )
    assert [s.kind for s in article.sections] == ["header", "introduction", "section", "section"]
    assert [s.title for s in article.sections[2:]] == [
        "Ce que mesure l'étude",
        "Des conseils simples",
    ]
    assert "#" not in "".join(s.title for s in article.sections)
    assert all("Partager" not in article.text(s) for s in article.sections)
    assert_well_formed(article)


def test_html_article() -> None:
    article = load_article(HTML)
    assert article.title == "Le vélo en ville allonge l'espérance de vie"  # &#39; decoded
    assert article.author == "Marc Lefèvre"
    assert article.reading_time == "3 min de lecture"
    assert [s.title for s in article.sections[2:]] == [
        "Moins d’infarctus",
        "La pollution, un risque limité",
    ]
    source = article.source
    for hidden in (
        "<",
        "ne pas indexer",
        "color: red",
        "Accueil",
        "Commentaires",
        "droits réservés",
    ):
        assert hidden not in source
    assert "quarante pour cent d'infarctus" in source  # inline markup flattened to text
    assert_well_formed(article)


def test_html_list_before_title_stays_inside_header(tmp_path: Path) -> None:
    page = tmp_path / "fil.html"
    page.write_text(BREADCRUMBS_PAGE, encoding="utf-8")
    assert_well_formed(load_article(page))


def test_markdown_heading_with_closing_hashes(tmp_path: Path) -> None:
    page = tmp_path / "titre.md"
    page.write_text(
        "# Titre #\n\nUn paragraphe. Un autre.\n\n## Partie une ##\n\nTexte de la partie.\n",
        encoding="utf-8",
    )
    article = load_article(page)
    assert article.title == "Titre"
    assert article.sections[-1].title == "Partie une"
    assert_well_formed(article)


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    page = tmp_path / "bom.txt"
    page.write_bytes("\ufeffTitre\nUne phrase complète ici.\n".encode())
    article = load_article(page)
    assert article.title == "Titre"
    assert_well_formed(article)


# --- several articles -----------------------------------------------------------------------------


def test_find_articles_expands_folders_and_keeps_files(tmp_path: Path) -> None:
    (tmp_path / "b.md").write_text("# B\n\nTexte.\n", encoding="utf-8")
    (tmp_path / "a.TXT").write_text("A\nTexte.\n", encoding="utf-8")
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    assert find_articles([tmp_path]) == [tmp_path / "a.TXT", tmp_path / "b.md"]
    assert find_articles([tmp_path / "notes.pdf"]) == [tmp_path / "notes.pdf"]


def test_several_articles_each_cited_by_name(tmp_path: Path) -> None:
    engine = fake_engine_for((SEED, MARKDOWN, HTML), tmp_path / "index")
    assert [a.id for a in engine.articles] == [SEED.stem, MARKDOWN.stem, HTML.stem]
    for article in engine.articles:
        # a sentence of the article, asked verbatim, is found in that article
        sentence = article.text(article.sections[2].sentences[0])
        answer = engine.ask(sentence)
        top = answer.passages[0]
        assert top.article == article.id
        assert article.text(article.sections[2]) == top.text
        assert top.highlight == sentence
        assert engine.article_by_id(top.article) is article


def test_duplicate_article_names_are_refused(tmp_path: Path) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    (tmp_path / "one" / "same.md").write_text("# Un\n\nTexte.\n", encoding="utf-8")
    (tmp_path / "two" / "same.txt").write_text("Deux\nTexte.\n", encoding="utf-8")
    with pytest.raises(ValueError, match="même nom"):
        load_articles((tmp_path / "one", tmp_path / "two"))


# --- bad files ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("article.pdf", b"%PDF-1.4", "format d'article inconnu"),
        ("article.docx", b"PK\x03\x04", "format d'article inconnu"),
        (
            "latin1.txt",
            "Élément de réponse très différent\n".encode("latin-1"),
            "n'est pas en UTF-8",
        ),
        ("vide.txt", b"", "ne contient aucun texte"),
        ("blanc.md", b"  \n\n\t\n", "ne contient aucun texte"),
        (
            "vide.html",
            b"<html><body><div></div><script>x()</script></body></html>",
            "ne contient aucun texte",
        ),
    ],
)
def test_bad_files_raise_french_value_error(tmp_path: Path, name: str, content: bytes, words: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ValueError) as caught:
        load_article(path)
    message = str(caught.value)
    assert words in message and name in message


def test_load_articles_errors(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="aucun article trouvé"):
        load_articles((tmp_path / "empty",))
    with pytest.raises(ValueError, match="article illisible"):
        load_articles((tmp_path / "absent.txt",))
