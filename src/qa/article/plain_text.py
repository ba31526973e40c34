"""Plain-text news pages, such as the seed article.

Title first, ``- `` byline items, a credit line, short unpunctuated lines as section headings;
page residue at the end is dropped.
"""

from __future__ import annotations

from qa.article.lines import is_credit, is_residue, looks_like_heading, nonblank_lines
from qa.article.model import Block, BlockKind


def text_blocks(text: str) -> list[Block]:
    """Blocks of a plain-text news page (title, ``- `` byline, credit line, headings, paragraphs)."""
    lines = nonblank_lines(text)
    while lines and is_residue(text[lines[-1][0] : lines[-1][1]]):
        lines.pop()
    blocks: list[Block] = []
    for index, (start, end) in enumerate(lines):
        line = text[start:end]
        if not blocks:
            blocks.append(Block(BlockKind.TITLE, start, end))
        elif line.startswith(("- ", "• ", "* ")) and all(b.kind != BlockKind.PARAGRAPH for b in blocks):
            blocks.append(Block(BlockKind.BYLINE, start + 2, end))
        elif is_credit(line):
            blocks.append(Block(BlockKind.CREDIT, start, end))
        else:
            nxt = text[lines[index + 1][0] : lines[index + 1][1]] if index + 1 < len(lines) else ""
            heading = looks_like_heading(line) and nxt and not looks_like_heading(nxt)
            has_body = any(b.kind == BlockKind.PARAGRAPH for b in blocks)
            kind = BlockKind.HEADING if heading and has_body else BlockKind.PARAGRAPH
            blocks.append(Block(kind, start, end))
    return blocks
