"""What a parsed article is made of: blocks, sections and passages, all by offsets into its source."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, IntEnum
from typing import Literal

METADATA_TITLE = "À propos de l'article"
SectionKind = Literal["header", "introduction", "section"]


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
    kind: SectionKind
    start: int
    end: int
    sentences: tuple[Span, ...]
    heading: Span | None = None


class PassageKind(IntEnum):
    """What a citable passage is: metadata, a summary of the article, or body text.

    Small integers, so that an array of them (:attr:`qa.corpus.Corpus.kinds`) is compared with
    the members themselves.
    """

    METADATA = 0  # title, byline, credit line: they answer questions about the article
    SUMMARY = 1  # the introduction of an article that has headed sections
    BODY = 2


@dataclass(frozen=True, kw_only=True)
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
