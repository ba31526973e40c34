"""One assembly for every format: blocks into the header, the introduction, sections and passages.

A section up to :data:`MAX_PASSAGE_CHARS` is cited whole; a longer one, or an article without
headings, by paragraphs (a short paragraph joined to the next). Title, byline and credit line are
metadata passages, shown as :data:`~qa.article.model.METADATA_TITLE`.
"""

from __future__ import annotations

import re
from pathlib import Path

from qa.article.model import (
    METADATA_TITLE,
    Article,
    Block,
    BlockKind,
    Passage,
    PassageKind,
    Section,
    Span,
)
from qa.errors import ArticleError

MAX_PASSAGE_CHARS = 1200  # a longer section is cited by paragraphs; one paragraph may exceed it
MIN_PARAGRAPH_CHARS = 200  # a shorter paragraph is cited with the next one
READING_TIME = re.compile(r"\b\d+\s*min(?:utes?)?\s+de\s+lecture\b", re.IGNORECASE)
PUBLISHED = re.compile(r"\bpubli[ée]\s+le\s+(?P<date>.+?)\s*$", re.IGNORECASE)
CREDITED = re.compile(r"\b(?:r[ée]dig[ée]|[ée]crit|sign[ée])\s+par\s+(?P<who>.+?)(?:\s+-\s+|$)", re.I)
SENTENCE_END = re.compile(r"(?<=[.!?…])[\"»”)]?\s+(?=(?:[\"“(]|«\s?)?[A-ZÀ-ÖØ-Þ0-9])")
ABBREVIATION = re.compile(r"(?:\b(?:M|Mme|Dr|Pr|St|etc|cf|ex|vol|no|p)\.|\b[A-Z]\.)$")


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
        ArticleError: when the article holds no text at all.
    """
    if not blocks:
        raise ArticleError(f"{Path(path).name} ne contient aucun texte")
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
    passages = [
        Passage(
            section=0,
            title=METADATA_TITLE,
            kind=PassageKind.METADATA,
            start=header.start,
            end=header.end,
            sentences=header.sentences,
        )
    ]
    if credit:
        holder = next((i for i, c in enumerate(sections) if c.start <= credit.start < c.end), 0)
        passages.append(
            Passage(
                section=holder,
                title=METADATA_TITLE,
                kind=PassageKind.METADATA,
                start=credit.start,
                end=credit.end,
                sentences=(Span(credit.start, credit.end),),
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
        passages.append(
            Passage(section=number, title=title, kind=kind, start=start, end=run[-1].end, sentences=sentences)
        )
    return passages
