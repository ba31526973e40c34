"""Articles in, structured: title, byline, introduction and sections, every part with its offsets.

Three input formats share one structure. A plain-text page (the seed article) is read line by line
with the conventions of news pages: title first, ``- `` byline items, a credit line, short
unpunctuated lines as section headings, page residue at the end dropped. Markdown uses ``#``
headings; HTML uses ``h1``-``h3`` and ``p``. Offsets always index :attr:`Article.source`, which is
the file itself for text and Markdown, and the text extracted from the markup for HTML.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from enum import Enum
from html.parser import HTMLParser
from pathlib import Path

ARTICLE_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm")
HEADING_MAX_CHARS = 150
READING_TIME = re.compile(r"\b\d+\s*min(?:utes?)?\s+de\s+lecture\b", re.IGNORECASE)
CREDIT_LINE = re.compile(r"\b(?:r[ée]dig[ée]|[ée]crit|sign[ée])\s+par\b|\bpubli[ée]\s+le\b", re.I)
PUBLISHED = re.compile(r"\bpubli[ée]\s+le\s+(?P<date>.+?)\s*$", re.IGNORECASE)
CREDITED = re.compile(r"\b(?:r[ée]dig[ée]|[ée]crit|sign[ée])\s+par\s+(?P<who>.+?)(?:\s+-\s+|$)", re.I)
PAGE_RESIDUE = frozenset(
    {
        "commentaires",
        "commentaire",
        "partager",
        "imprimer",
        "lire aussi",
        "a lire aussi",
        "publicite",
        "newsletter",
        "s'abonner",
        "abonnez-vous",
        "sur le meme sujet",
    }
)
MAX_PASSAGE_CHARS = 1200  # a longer section is cited by paragraphs; one paragraph may exceed it
MIN_PARAGRAPH_CHARS = 200  # a shorter paragraph is cited with the next one
METADATA_TITLE = "À propos de l'article"
SENTENCE_END = re.compile(r"(?<=[.!?…])[\"»”)]?\s+(?=(?:[\"“(]|«\s?)?[A-ZÀ-ÖØ-Þ0-9])")
ABBREVIATION = re.compile(r"(?:\b(?:M|Mme|Dr|Pr|St|etc|cf|ex|vol|no|p)\.|\b[A-Z]\.)$")


class BlockKind(str, Enum):
    """What a block of an article is."""

    TITLE = "title"
    BYLINE = "byline"
    CREDIT = "credit"
    HEADING = "heading"
    PARAGRAPH = "paragraph"


@dataclass(frozen=True)
class Block:
    """A title, byline item, credit line, heading or paragraph: ``source[start:end]``."""

    kind: BlockKind
    start: int
    end: int


@dataclass(frozen=True)
class Span:
    """A half-open range of characters of an article's source."""

    start: int
    end: int


@dataclass(frozen=True)
class Section:
    """A citable part of an article: the header, the introduction, or a headed section.

    ``start``/``end`` cover the whole passage shown to readers (heading included); ``sentences``
    are the units a highlight may pick (for the header, its lines).
    """

    title: str
    kind: str  # "header" | "introduction" | "section"
    start: int
    end: int
    sentences: tuple[Span, ...]
    heading: Span | None = None


class PassageKind(str, Enum):
    """What a citable passage is: metadata, a summary of the article, or body text."""

    METADATA = "metadata"  # title, byline, credit line: they answer questions about the article
    SUMMARY = "summary"  # the introduction of an article that has headed sections
    BODY = "body"


@dataclass(frozen=True)
class Passage:
    """What a citation quotes: a whole short section, or one or a few paragraphs of a long one.

    ``start``/``end`` are the quoted text; ``sentences`` the highlight candidates in it; ``title``
    the heading it is shown under; ``section`` the index of its section in :attr:`Article.sections`.
    """

    section: int
    title: str
    kind: PassageKind
    start: int
    end: int
    sentences: tuple[Span, ...]


@dataclass(frozen=True)
class Article:
    """A parsed article: its source text, metadata and citable sections."""

    id: str
    path: str
    source: str
    title: str
    sections: tuple[Section, ...]
    passages: tuple[Passage, ...] = ()
    author: str | None = None
    date: str | None = None
    reading_time: str | None = None
    published: str | None = None
    credit: str | None = None
    sha256: str = field(default="", compare=False)

    def text(self, span: Span | Section) -> str:
        """Return the verbatim source text of a span or section."""
        return self.source[span.start : span.end]


def sha256_of(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def load_article(path: Path) -> Article:
    """Read and parse an article file, choosing the parser from its suffix.

    Raises:
        ValueError: for an unknown suffix, a file that is not UTF-8, or one with no text.
    """
    suffix = path.suffix.lower()
    if suffix not in ARTICLE_SUFFIXES:
        raise ValueError(f"format d'article inconnu : {path.name} (attendu : .txt, .md, .html)")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(f"{path.name} n'est pas en UTF-8") from error
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


def _lines(text: str) -> list[tuple[int, int]]:
    """Spans of the non-blank lines of ``text``, stripped of surrounding white space."""
    spans = []
    for match in re.finditer(r"[^\n]+", text):
        line = match.group()
        if line.strip():
            left = len(line) - len(line.lstrip())
            right = len(line.rstrip())
            spans.append((match.start() + left, match.start() + right))
    return spans


def _is_residue(line: str) -> bool:
    return line.strip(" .:!").lower() in PAGE_RESIDUE


def _looks_like_heading(line: str) -> bool:
    stripped = line.rstrip()
    return len(stripped) <= HEADING_MAX_CHARS and not stripped.endswith((".", "!", "…", ":", ";", ","))


def text_blocks(text: str) -> list[Block]:
    """Blocks of a plain-text news page (title, ``- `` byline, credit line, headings, paragraphs)."""
    lines = _lines(text)
    while lines and _is_residue(text[lines[-1][0] : lines[-1][1]]):
        lines.pop()
    blocks: list[Block] = []
    for index, (start, end) in enumerate(lines):
        line = text[start:end]
        if not blocks:
            blocks.append(Block(BlockKind.TITLE, start, end))
        elif line.startswith(("- ", "• ", "* ")) and all(b.kind != BlockKind.PARAGRAPH for b in blocks):
            blocks.append(Block(BlockKind.BYLINE, start + 2, end))
        elif CREDIT_LINE.search(line) and len(line) <= HEADING_MAX_CHARS:
            blocks.append(Block(BlockKind.CREDIT, start, end))
        else:
            nxt = text[lines[index + 1][0] : lines[index + 1][1]] if index + 1 < len(lines) else ""
            heading = _looks_like_heading(line) and nxt and not _looks_like_heading(nxt)
            has_body = any(b.kind == BlockKind.PARAGRAPH for b in blocks)
            kind = BlockKind.HEADING if heading and has_body else BlockKind.PARAGRAPH
            blocks.append(Block(kind, start, end))
    return blocks


def markdown_blocks(text: str) -> list[Block]:
    """Blocks of a Markdown article: ``#`` title, ``##``/``###`` headings, paragraphs, bylines."""
    blocks: list[Block] = []
    for start, end in _lines(text):
        line = text[start:end]
        marks = re.match(r"(#{1,6})\s+", line)
        if marks:
            kind = BlockKind.TITLE if len(marks.group(1)) == 1 and not blocks else BlockKind.HEADING
            blocks.append(Block(kind, start + marks.end(), end - len(line) + len(line.rstrip("# "))))
        elif line.startswith(("- ", "* ")) and all(b.kind != BlockKind.PARAGRAPH for b in blocks):
            blocks.append(Block(BlockKind.BYLINE, start + 2, end))
        elif CREDIT_LINE.search(line) and len(line) <= HEADING_MAX_CHARS:
            blocks.append(Block(BlockKind.CREDIT, start, end))
        elif not _is_residue(line):
            blocks.append(Block(BlockKind.PARAGRAPH, start, end))
    return blocks


class _HtmlText(HTMLParser):
    """Collects the text of ``h1``-``h3``, ``p`` and ``li`` elements, one block each."""

    TAGS = {
        "h1": BlockKind.TITLE,
        "h2": BlockKind.HEADING,
        "h3": BlockKind.HEADING,
        "p": BlockKind.PARAGRAPH,
        "li": BlockKind.BYLINE,
    }
    SKIP = {"script", "style", "nav", "footer", "aside", "form"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.items: list[tuple[BlockKind, str]] = []
        self._current: tuple[str, list[str]] | None = None
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self._skipping += 1
        elif tag in self.TAGS and not self._skipping:
            self._close()
            self._current = (tag, [])

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif self._current and tag == self._current[0]:
            self._close()

    def handle_data(self, data: str) -> None:
        if self._current and not self._skipping:
            self._current[1].append(data)

    def _close(self) -> None:
        if self._current:
            tag, parts = self._current
            text = " ".join("".join(parts).split())
            if text:
                kind = self.TAGS[tag]
                if kind == BlockKind.TITLE and any(k == BlockKind.TITLE for k, _ in self.items):
                    kind = BlockKind.HEADING
                self.items.append((kind, text))
        self._current = None


def html_blocks(markup: str) -> tuple[str, list[Block]]:
    """Extract an HTML article's text (one block a line) and its blocks."""
    parser = _HtmlText()
    parser.feed(markup)
    parser.close()
    parser._close()
    pieces: list[str] = []
    blocks: list[Block] = []
    offset = 0
    seen_paragraph = seen_title = False
    for kind, text in parser.items:
        if _is_residue(text):
            continue
        seen_title = seen_title or kind == BlockKind.TITLE
        if kind == BlockKind.BYLINE and not seen_title:
            continue  # list items before the title: breadcrumbs and menus
        if kind == BlockKind.BYLINE and seen_paragraph:
            kind = BlockKind.PARAGRAPH
        if kind == BlockKind.PARAGRAPH and CREDIT_LINE.search(text) and len(text) <= HEADING_MAX_CHARS:
            kind = BlockKind.CREDIT
        seen_paragraph = seen_paragraph or kind == BlockKind.PARAGRAPH
        blocks.append(Block(kind, offset, offset + len(text)))
        pieces.append(text)
        offset += len(text) + 1
    return "\n".join(pieces), blocks


def split_sentences(source: str, start: int, end: int) -> list[Span]:
    """Split ``source[start:end]`` into sentences, keeping exact offsets."""
    spans = []
    cursor = start
    for match in SENTENCE_END.finditer(source, start, end):
        if ABBREVIATION.search(source[cursor : match.start()]):
            continue
        if source[cursor : match.start()].strip():
            spans.append(_trimmed(source, cursor, match.start()))
        cursor = match.end()
    if source[cursor:end].strip():
        spans.append(_trimmed(source, cursor, end))
    return spans


def _trimmed(source: str, start: int, end: int) -> Span:
    text = source[start:end]
    return Span(start + len(text) - len(text.lstrip()), start + len(text.rstrip()))


def _classify_byline(items: list[str]) -> dict[str, str]:
    meta: dict[str, str] = {}
    for item in items:
        if READING_TIME.search(item):
            meta.setdefault("reading_time", item)
        elif re.search(r"\b(?:il y a|hier|aujourd'hui|\d{4}|\d{1,2}/\d{1,2})\b", item, re.I):
            meta.setdefault("date", item)
        else:
            meta.setdefault("author", item)
    return meta


def _credit_meta(credit: str) -> dict[str, str]:
    meta = {"credit": credit}
    if published := PUBLISHED.search(credit):
        meta["published"] = published.group("date")
    if credited := CREDITED.search(credit):
        meta.setdefault("author", credited.group("who"))
    return meta


def assemble(article_id: str, path: str, source: str, blocks: list[Block]) -> Article:
    """Group blocks into the header, the introduction and headed sections, then into passages.

    Raises:
        ValueError: when the article holds no text at all.
    """
    if not blocks:
        raise ValueError(f"{Path(path).name} ne contient aucun texte")
    title_block = next((b for b in blocks if b.kind == BlockKind.TITLE), blocks[0])
    byline = [b for b in blocks if b.kind == BlockKind.BYLINE]
    credit = next((b for b in blocks if b.kind == BlockKind.CREDIT), None)
    meta = _classify_byline([source[b.start : b.end] for b in byline])
    if credit:
        meta = {**_credit_meta(source[credit.start : credit.end]), **meta}
    title = source[title_block.start : title_block.end]
    header = _header_section(title_block, byline)
    groups = _groups([b for b in blocks if b not in byline and b != title_block])
    sections = [header, *(_body_section(source, heading, body) for heading, body in groups)]
    headed = any(heading for heading, _ in groups)
    passages = [Passage(0, METADATA_TITLE, PassageKind.METADATA, header.start, header.end, header.sentences)]
    if credit:
        holder = next((i for i, c in enumerate(sections) if c.start <= credit.start < c.end), 0)
        passages.append(
            Passage(
                holder,
                METADATA_TITLE,
                PassageKind.METADATA,
                credit.start,
                credit.end,
                (Span(credit.start, credit.end),),
            )
        )
    for number, (heading, body) in enumerate(groups, 1):
        section = sections[number]
        kind = PassageKind.BODY if heading or not headed else PassageKind.SUMMARY
        shown = section.title if headed else title
        passages.extend(_passages(source, number, section, shown, kind, body))
    passages.sort(key=lambda p: p.start)
    return Article(
        id=article_id,
        path=path,
        source=source,
        title=title,
        sections=tuple(sections),
        passages=tuple(passages),
        **meta,
    )


def _header_section(title: Block, byline: list[Block]) -> Section:
    units = [title, *byline]
    return Section(
        title=METADATA_TITLE,
        kind="header",
        start=title.start,
        end=max(b.end for b in units),
        sentences=tuple(Span(b.start, b.end) for b in units),
    )


def _groups(blocks: list[Block]) -> list[tuple[Block | None, list[Block]]]:
    """Blocks grouped under their heading (``None`` for the introduction); empty groups dropped."""
    groups: list[tuple[Block | None, list[Block]]] = [(None, [])]
    for block in blocks:
        if block.kind == BlockKind.HEADING:
            groups.append((block, []))
        else:
            groups[-1][1].append(block)
    return [(heading, body) for heading, body in groups if body]


def _sentences(source: str, block: Block) -> list[Span]:
    if block.kind == BlockKind.CREDIT:
        return [Span(block.start, block.end)]
    return split_sentences(source, block.start, block.end)


def _body_section(source: str, heading: Block | None, body: list[Block]) -> Section:
    first = heading or body[0]
    return Section(
        title=source[heading.start : heading.end] if heading else "Introduction",
        kind="section" if heading else "introduction",
        start=first.start,
        end=body[-1].end,
        sentences=tuple(s for block in body for s in _sentences(source, block)),
        heading=Span(heading.start, heading.end) if heading else None,
    )


def _passages(
    source: str, number: int, section: Section, title: str, kind: PassageKind, body: list[Block]
) -> list[Passage]:
    """A short section whole; a long one by paragraphs, a short paragraph joined to the next.

    The credit line is metadata: it stays in the quoted text of a passage that spans it, but is
    never one of its highlight candidates.
    """
    paragraphs = [b for b in body if b.kind != BlockKind.CREDIT]
    if not paragraphs:
        return []
    if section.end - section.start <= MAX_PASSAGE_CHARS:
        runs = [paragraphs]
    else:
        runs, run = [], []
        for block in paragraphs:
            run.append(block)
            if block.end - run[0].start >= MIN_PARAGRAPH_CHARS:
                runs.append(run)
                run = []
        if run:  # a short last paragraph joins the run before it
            runs[-1:] = [[*runs[-1], *run]] if runs else [run]
    passages = []
    for index, run in enumerate(runs):
        start = section.start if index == 0 else run[0].start
        sentences = tuple(s for block in run for s in _sentences(source, block))
        passages.append(Passage(number, title, kind, start, run[-1].end, sentences))
    return passages
