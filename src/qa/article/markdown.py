"""Markdown articles: ``#`` title, ``##``/``###`` headings, paragraphs, ``- `` byline items."""

from __future__ import annotations

import re

from qa.article.lines import is_credit, is_residue, nonblank_lines
from qa.article.model import Block, BlockKind


def markdown_blocks(text: str) -> list[Block]:
    """Blocks of a Markdown article: ``#`` title, ``##``/``###`` headings, paragraphs, bylines."""
    blocks: list[Block] = []
    for start, end in nonblank_lines(text):
        line = text[start:end]
        marks = re.match(r"(#{1,6})\s+", line)
        if marks:
            kind = BlockKind.TITLE if len(marks.group(1)) == 1 and not blocks else BlockKind.HEADING
            blocks.append(Block(kind, start + marks.end(), end - len(line) + len(line.rstrip("# "))))
        elif line.startswith(("- ", "* ")) and all(b.kind != BlockKind.PARAGRAPH for b in blocks):
            blocks.append(Block(BlockKind.BYLINE, start + 2, end))
        elif is_credit(line):
            blocks.append(Block(BlockKind.CREDIT, start, end))
        elif not is_residue(line):
            blocks.append(Block(BlockKind.PARAGRAPH, start, end))
    return blocks
