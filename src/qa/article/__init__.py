"""Articles in, structured: title, byline, introduction and sections, every part with its offsets.

Three input formats share one structure. A plain-text page (the seed article) is read line by line
with the conventions of news pages: title first, ``- `` byline items, a credit line, short
unpunctuated lines as section headings, page residue at the end dropped. Markdown uses ``#``
headings; HTML uses ``h1``-``h3`` and ``p``. Offsets always index :attr:`Article.source`, which is
the file itself for text and Markdown, and the text extracted from the markup for HTML.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from qa.article.assembly import CREDITED, MAX_PASSAGE_CHARS, assemble, split_sentences
from qa.article.html_page import html_blocks
from qa.article.markdown import markdown_blocks
from qa.article.model import (
    METADATA_TITLE,
    Article,
    Block,
    BlockKind,
    Passage,
    PassageKind,
    Section,
    SectionKind,
    Span,
)
from qa.article.plain_text import text_blocks
from qa.errors import ArticleError

__all__ = [
    "ARTICLE_SUFFIXES",
    "CREDITED",
    "MAX_PASSAGE_CHARS",
    "METADATA_TITLE",
    "Article",
    "Block",
    "BlockKind",
    "Passage",
    "PassageKind",
    "Section",
    "SectionKind",
    "Span",
    "assemble",
    "find_articles",
    "load_article",
    "load_articles",
    "sha256_of",
    "split_sentences",
]

ARTICLE_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm")


def sha256_of(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def load_article(path: Path) -> Article:
    """Read and parse an article file, choosing the parser from its suffix.

    Raises:
        ArticleError: for an unknown suffix, a file that is not UTF-8, or one with no text.
    """
    suffix = path.suffix.lower()
    if suffix not in ARTICLE_SUFFIXES:
        raise ArticleError(f"format d'article inconnu : {path.name} (attendu : .txt, .md, .html)")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ArticleError(f"{path.name} n'est pas en UTF-8") from error
    if suffix in (".md", ".markdown"):
        source, blocks = text, markdown_blocks(text)
    elif suffix in (".html", ".htm"):
        source, blocks = html_blocks(text)
    else:
        source, blocks = text, text_blocks(text)
    article = assemble(path.stem, str(path), source, blocks)
    return Article(**{**article.__dict__, "sha256": sha256_of(raw)})


def find_articles(paths: list[Path]) -> list[Path]:
    """Expand folders into the article files they hold, sorted; keep files as given."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if p.suffix.lower() in ARTICLE_SUFFIXES))
        else:
            found.append(path)
    return found


def load_articles(paths: tuple[Path, ...] | list[Path]) -> list[Article]:
    """Parse every article found under ``paths``.

    Raises:
        ArticleError: when no article is found, or one cannot be parsed (the message says which).
    """
    files = find_articles(list(paths))
    if not files:
        raise ArticleError(f"aucun article trouvé dans {', '.join(str(p) for p in paths)}")
    articles = []
    for path in files:
        try:
            articles.append(load_article(path))
        except OSError as error:
            raise ArticleError(f"article illisible : {path} ({error.strerror or error})") from error
    ids = [a.id for a in articles]
    if len(set(ids)) != len(ids):
        raise ArticleError("deux articles portent le même nom de fichier : renommez l'un d'eux")
    return articles
