"""README and docs/: links resolve, the docs the code cites exist, the commands shown exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support.paths import REPO

from qa.cli import _parser

DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
CITED = re.compile(r"\bdocs/[\w-]+\.(?:md|png)")


def test_readme_is_short() -> None:
    assert len((REPO / "README.md").read_text(encoding="utf-8").splitlines()) <= 200


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_links_resolve(doc: Path) -> None:
    for target in LINK.findall(doc.read_text(encoding="utf-8")):
        if "//" in target or target.startswith(("mailto:", "javascript:")):
            continue
        assert (doc.parent / target).exists(), f"{doc.name} → {target}"


def test_every_doc_the_code_cites_exists() -> None:
    files = [
        *REPO.glob("*.py"),
        *REPO.glob("src/**/*.py"),
        *REPO.glob("tests/**/*.py"),
        *REPO.glob("bench/**/*.py"),
        *REPO.glob("bench/*.sh"),
        REPO / "Makefile",
        *DOCS,
    ]
    cited = {m for f in files if f.is_file() for m in CITED.findall(f.read_text(encoding="utf-8"))}
    assert cited, "no citation found: the pattern is wrong"
    missing = sorted(c for c in cited if not (REPO / c).exists())
    assert not missing


def test_commands_shown_exist() -> None:
    commands = set(_parser()._subparsers._group_actions[0].choices)  # what `qa --help` lists
    targets = set(re.findall(r"^([\w-]+):", (REPO / "Makefile").read_text(encoding="utf-8"), re.M))
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for command in re.findall(r"(?:^|\s|`)(?:\.venv/bin/)?qa (?!import\b)(\w+)", text):
            assert command in commands, f"{doc.name}: qa {command}"
        for target in re.findall(r"(?:^|`)make (\w+)", text, re.M):
            assert target in targets, f"{doc.name}: make {target}"
