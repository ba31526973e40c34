"""The article view: the whole article, every sentence a ``span`` carrying its source offsets.

The page script (`qa/web/static/page.js`) finds a citation's passage and key sentence by these
offsets. Text is escaped with :func:`qa.web.render.esc`.
"""

from __future__ import annotations

from collections.abc import Iterable

from qa.article import Article, Section, Span
from qa.web.render import esc, source_line


def render_article(article: Article) -> str:
    """Render the whole article, every sentence a ``span`` carrying its source offsets."""
    header, *body = article.sections
    title = header.sentences[0] if header.sentences else None
    byline = "".join(f"<li>{_sentence(article, s)}</li>" for s in header.sentences[1:])
    parts = [
        # A Tab stop: embedded, the article scrolls inside its own box (page CSS), by keyboard too.
        f'<article class="qa-article" data-article="{esc(article.id)}" id="a-{esc(article.id)}"'
        f' tabindex="0" aria-label="{esc("Article : " + article.title)}">',
        f'<section class="qa-section" {_span_attrs(header)} id="{_section_id(article, header)}">',
        f"<h2>{_sentence(article, title) if title else esc(article.title)}</h2>",
        f'<ul class="qa-byline">{byline}</ul></section>' if byline else "</section>",
    ]
    parts.extend(_section(article, section) for section in body)
    parts.append(f'<p class="qa-source">Source : {esc(source_line(article))}</p></article>')
    return "".join(parts)


def _section_id(article: Article, section: Section) -> str:
    return esc(f"p-{article.id}-{section.start}-{section.end}")


def _span_attrs(span: Span | Section) -> str:
    return f'data-start="{span.start}" data-end="{span.end}"'


def _sentence(article: Article, span: Span) -> str:
    return f'<span class="qa-sent" {_span_attrs(span)}>{esc(article.text(span))}</span>'


def _section(article: Article, section: Section) -> str:
    if section.heading:
        text = esc(article.text(section.heading))
        heading = f'<h3 class="qa-sent" {_span_attrs(section.heading)}>{text}</h3>'
    else:
        heading = f"<h3>{esc(section.title)}</h3>"
    paragraphs = "".join(
        f"<p>{' '.join(_sentence(article, s) for s in line)}</p>"
        for line in _lines(article.source, section.sentences)
    )
    return (
        f'<section class="qa-section" tabindex="-1" {_span_attrs(section)} '
        f'id="{_section_id(article, section)}">{heading}{paragraphs}</section>'
    )


def _lines(source: str, sentences: Iterable[Span]) -> list[list[Span]]:
    """Group sentences by the source line (paragraph) they sit on."""
    lines: dict[int, list[Span]] = {}
    for span in sentences:
        lines.setdefault(source.rfind("\n", 0, span.start), []).append(span)
    return list(lines.values())


def render_back_link() -> str:
    """The Article view's way back to the conversation (the page script moves the focus back)."""
    return '<p class="qa-back-wrap"><a class="qa-back" href="#qa-chat">← Retour à la conversation</a></p>'
