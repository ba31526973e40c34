"""Removed-paragraph questions: an article that is still about the topic but no longer says it.

For an answerable question, the paragraph that holds its answer is taken out of its article; asked
against what is left, the question must not be answered. A PIAF or SQuAD question's answer is
given by offsets, and its paragraph is the blank-line-separated block around them; one of our
questions' answer is verbatim spans, and its paragraph the passage that holds one (the whole
section, heading included, when the section is one passage). The question is skipped when the
answer's text still occurs in what is left, or when it lies in the article's title or byline.

These negatives evaluate the decision (``qa eval --removed``) and train it (:mod:`qa.learn`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

from qa.article import Article, PassageKind, load_article
from qa.evaluation.datasets import Question

_BLANK_LINES = re.compile(r"\n[ \t]*\n")


def _folded(text: str) -> str:
    """Typographic apostrophes, case and white space folded, as the evaluation compares text."""
    return " ".join(text.replace("\u2019", "'").lower().split())


@dataclass(frozen=True)
class Cut:
    """A span of an article's source to take out."""

    article: str
    start: int
    end: int


def paragraph_around(source: str, start: int, end: int) -> tuple[int, int]:
    """The blank-line-separated block of ``source`` that holds ``[start, end)``."""
    breaks = [(m.start(), m.end()) for m in _BLANK_LINES.finditer(source)]
    before = max((b for a, b in breaks if b <= start), default=0)
    after = min((a for a, _ in breaks if a >= end), default=len(source))
    return before, after


def cut_out(source: str, start: int, end: int) -> str:
    """``source`` without ``[start, end)``, the blank lines around the hole joined into one."""
    head, tail = source[:start].rstrip(), source[end:].lstrip()
    if not head:
        return tail
    return f"{head}\n\n{tail}" if tail else head + "\n"


def passage_cut(article: Article, gold: tuple[str, ...]) -> Cut | None:
    """The passage of ``article`` that holds one of the verbatim ``gold`` spans, as a cut.

    ``None`` when no body or summary passage holds one (the gold is in the metadata, or nowhere).
    """
    wanted = [_folded(g) for g in gold]
    for passage in article.passages:
        if passage.kind == PassageKind.METADATA:
            continue
        if any(g in _folded(article.text(passage)) for g in wanted):
            section = article.sections[passage.section]
            whole = [p for p in article.passages if p.section == passage.section]
            start = passage.start
            if len(whole) == 1 and section.heading is not None:
                start = min(start, section.heading.start)
            return Cut(article=article.id, start=start, end=passage.end)
    return None


def remains(source: str, cut: Cut, answers: tuple[str, ...]) -> bool:
    """Whether one of ``answers`` still occurs in ``source`` once ``cut`` is taken out."""
    left = _folded(cut_out(source, cut.start, cut.end))
    return any(_folded(a) in left for a in answers if a.strip())


def question_cut(question: Question, articles: dict[str, Article]) -> Cut | None:
    """What to take out of its article so that ``question`` is no longer answered, if anything.

    ``None`` when the question is not answerable, its article is not among ``articles``, or its
    answer's text would still be in the article.
    """
    if not question.answerable:
        return None
    if question.article is not None:
        article = articles.get(question.article)
        if article is None or question.start is None or question.end is None:
            return None
        answer = article.source[question.start : question.end]
        start, end = paragraph_around(article.source, question.start, question.end)
        cut = Cut(article=article.id, start=start, end=end)
        if _in_metadata(article, start, end) or remains(article.source, cut, (answer,)):
            return None
        return cut
    for article in articles.values():
        cut = passage_cut(article, question.gold)
        if cut and not remains(article.source, cut, question.gold):
            return cut
    return None


def _in_metadata(article: Article, start: int, end: int) -> bool:
    """Whether ``[start, end)`` overlaps the title or byline rather than the article's body."""
    body = [p for p in article.passages if p.kind != PassageKind.METADATA]
    return not any(p.start < end and start < p.end for p in body)


def without(article: Article, cut: Cut, folder: Path) -> Article:
    """``article`` with ``cut`` taken out, parsed again from a file written into ``folder``.

    The file keeps the article's name and suffix, so that it is read by the same parser and cited
    under the same id; its checksum is the new text's.
    """
    suffix = Path(article.path).suffix or ".txt"
    name = f"{article.id}{suffix}"
    path = folder / f"{cut.start}-{cut.end}" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(cut_out(article.source, cut.start, cut.end), encoding="utf-8", newline="")
    return load_article(path)


def as_removed(question: Question) -> Question:
    """``question`` as a removed-paragraph negative: same text, kind ``removed``, no gold."""
    return replace(question, gold=(), article=None, start=None, end=None, kind="removed")
