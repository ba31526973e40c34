"""HTML pages: ``h1``-``h3``, ``p`` and ``li`` elements; menus, scripts and footers skipped.

The article's source is the extracted text, one block a line, so offsets index that text.
"""

from __future__ import annotations

from html.parser import HTMLParser

from qa.article.lines import is_credit, is_residue
from qa.article.model import Block, BlockKind


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
        if is_residue(text):
            continue
        seen_title = seen_title or kind == BlockKind.TITLE
        if kind == BlockKind.BYLINE and not seen_title:
            continue  # list items before the title: breadcrumbs and menus
        if kind == BlockKind.BYLINE and seen_paragraph:
            kind = BlockKind.PARAGRAPH
        if kind == BlockKind.PARAGRAPH and is_credit(text):
            kind = BlockKind.CREDIT
        seen_paragraph = seen_paragraph or kind == BlockKind.PARAGRAPH
        blocks.append(Block(kind, offset, offset + len(text)))
        pieces.append(text)
        offset += len(text) + 1
    return "\n".join(pieces), blocks
