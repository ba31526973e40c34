"""Units: what gets embedded of each passage (whole, after the title, each sentence, each pair)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from qa.article import Article, PassageKind

MIN_SENTENCE_WORDS = 3  # a shorter sentence ("Cinglé ?") is embedded only with its neighbour
# a passage whole, the same after its article's title, one sentence, two neighbouring sentences
UnitKind = Literal["passage", "titled", "sentence", "pair"]


@dataclass(frozen=True)
class Unit:
    """An embedded piece of an article: a whole ``passage``, a ``sentence`` or a ``pair`` of them.

    ``passage`` indexes :attr:`qa.article.Article.passages`.
    """

    article: int
    passage: int
    kind: UnitKind
    start: int
    end: int


def units_of(articles: list[Article]) -> list[Unit]:
    """Every unit to embed: passages whole (also after the title), sentences, pairs of them.

    Whole passages carry the context (the title says what "il" or "la plante" is about), single
    sentences the precise match, and pairs the answers that one sentence starts and the next
    completes; a passage scores its best unit. A sentence
    of fewer than :data:`MIN_SENTENCE_WORDS` words means little alone and is embedded only
    within its pairs (metadata lines, such as an author's name, are the exception).
    """
    units = []
    for a, article in enumerate(articles):
        for p, passage in enumerate(article.passages):
            units.append(Unit(article=a, passage=p, kind="passage", start=passage.start, end=passage.end))
            metadata = passage.kind == PassageKind.METADATA
            if not metadata and article.title:
                units.append(Unit(article=a, passage=p, kind="titled", start=passage.start, end=passage.end))
            sentences = passage.sentences
            units.extend(
                Unit(article=a, passage=p, kind="sentence", start=sp.start, end=sp.end)
                for sp in sentences
                if metadata or len(article.text(sp).split()) >= MIN_SENTENCE_WORDS
            )
            units.extend(
                Unit(article=a, passage=p, kind="pair", start=first.start, end=second.end)
                for first, second in zip(sentences, sentences[1:], strict=False)
            )
    return units


def unit_text(article: Article, unit: Unit) -> str:
    """What is embedded for ``unit``: its text, after the article's title for a ``titled`` unit."""
    text = article.source[unit.start : unit.end]
    return f"{article.title}\n\n{text}" if unit.kind == "titled" else text


def source_records(articles: list[Article]) -> list[dict[str, str]]:
    """What the manifest records of each article: id, path and checksum."""
    return [{"id": a.id, "path": a.path, "sha256": a.sha256} for a in articles]
