"""Where the repository, its articles, the test data, the shared evaluation sets and ``qa`` are."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ARTICLES = REPO / "articles"
SEED = ARTICLES / "000_77dfe58a8330a326.txt"
DATA = REPO / "tests" / "data"
SHARED_EVAL = REPO.parent / "shared" / "eval"  # beside the checkout, not in git
QA = REPO / ".venv" / "bin" / "qa"  # the checkout's command, run in a subprocess
