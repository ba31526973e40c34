"""Running evaluations: each data set against its corpus, the engine beside the baselines.

Our JSONL files are pooled and asked against the configured articles; a PIAF folder or a SQuAD
file brings its own corpus, indexed once into the cache. The same corpus can also be asked at
other sizes: each article alone (``alone``), or with more articles added (``plus``), to check
that the decision does not move with the size of the corpus. With ``removed``, every answerable
question is also asked against its article alone without the paragraph that answers it
(:mod:`qa.evaluation.removed`): kind ``removed``, which must not be answered.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from qa.article import Article
from qa.encoders import Encoder
from qa.engine import Engine, Settings
from qa.evaluation.datasets import Dataset, Question, read_dataset
from qa.evaluation.metrics import Answerer, Report, evaluate
from qa.evaluation.removed import Cut, as_removed, question_cut, without
from qa.settings import default_cache_dir

SYSTEMS = ("engine", "naive", "bm25")


class MemoEncoder:
    """An encoder that remembers every text it embedded.

    Corpora and questions asked twice (by the engine and the naive card, of an article alone and
    in the whole corpus) cost once.
    """

    def __init__(self, encoder: Encoder) -> None:
        """Wrap ``encoder``."""
        self.encoder = encoder
        self.name, self.dimension = encoder.name, encoder.dimension
        self._memory: dict[tuple[str, str], np.ndarray] = {}

    def _encode(self, role: str, texts: list[str], encode: Callable[[list[str]], np.ndarray]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if (role, t) not in self._memory))
        if missing:
            for text, vector in zip(missing, encode(missing), strict=True):
                self._memory[role, text] = vector
        return np.stack([self._memory[role, t] for t in texts]) if texts else np.zeros((0, self.dimension))

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Embed questions, from memory when already seen."""
        return self._encode("query", texts, self.encoder.encode_queries)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        """Embed passages, from memory when already seen."""
        return self._encode("passage", texts, self.encoder.encode_passages)

    def fingerprint(self) -> str:
        """The wrapped model's fingerprint."""
        return self.encoder.fingerprint()

    def index_extra(self) -> dict:
        """Nothing: evaluation's indexes are its own, never handed to :func:`qa.encoders.load_encoder`."""
        return {}


@dataclass
class Run:
    """One corpus's results: a report per system, and per source file."""

    title: str
    reports: dict[str, Report]
    by_file: dict[str, Report]


def corpus_engine(corpus: tuple[Path, ...], settings: Settings, encoder: Encoder) -> Engine:
    """An engine over ``corpus``, its index kept in the cache under a name made of its files."""
    key = hashlib.sha256("\n".join(sorted(str(p.resolve()) for p in corpus)).encode()).hexdigest()[:16]
    index_dir = default_cache_dir() / "eval-index" / key
    return Engine.load(replace(settings, articles=corpus, index_dir=index_dir, rebuild=True), encoder)


def _systems(engine: Engine, baselines: bool) -> dict[str, Answerer]:
    from qa.evaluation.baselines import Bm25, Naive

    systems: dict[str, Answerer] = {"engine": engine}
    if baselines:
        systems |= {"naive": Naive(engine), "bm25": Bm25(engine)}
    return systems


def _run(
    title: str, asked: list[tuple[Engine, list[Question]]], baselines: bool, sources: dict[int, str]
) -> Run:
    """Ask each group of questions of its engine, with every system; pool the reports.

    ``sources`` names the file of each question (by object identity: ids repeat across files).
    """
    pooled: dict[str, list[Report]] = {}
    by_file: dict[str, list[Report]] = {}
    for engine, questions in asked:
        for name, system in _systems(engine, baselines).items():
            pooled.setdefault(name, []).append(evaluate(system, questions))
            if name == "engine" and len(set(sources.values())) > 1:
                for source in dict.fromkeys(sources[id(q)] for q in questions):
                    group = [q for q in questions if sources[id(q)] == source]
                    by_file.setdefault(source, []).append(evaluate(system, group))
    return Run(
        title=title,
        reports={k: Report.merge(v) for k, v in pooled.items()},
        by_file={k: Report.merge(v) for k, v in by_file.items()},
    )


def run_suite(
    paths: list[Path],
    engine: Engine,
    baselines: bool = False,
    alone: bool = False,
    plus: tuple[Path, ...] = (),
    removed: bool = False,
) -> list[Run]:
    """Evaluate every data set of ``paths``.

    Our files are asked of ``engine``, the others of an engine of the same settings over their own
    corpus; see the module docstring for ``alone`` and ``plus``.

    Raises:
        ValueError: when a data set or an article cannot be read.
    """
    settings, encoder = engine.settings, MemoEncoder(engine.encoder)
    datasets = [read_dataset(path) for path in paths]
    runs = []
    own = [d for d in datasets if d.corpus is None]
    if own:
        questions = [q for d in own for q in d.questions]
        sources = {id(q): d.name for d in own for q in d.questions}
        runs.append(_run(" + ".join(d.name for d in own), [(engine, questions)], baselines, sources))
        if removed:
            asked, cut_sources = removed_engines(engine.articles, questions, settings, encoder, sources)
            runs.append(_run(f"{runs[-1].title}, paragraphe retiré", asked, baselines, cut_sources))
    for data in (d for d in datasets if d.corpus is not None):
        sources = {id(q): data.name for q in data.questions}
        own_engine = corpus_engine(data.corpus, settings, encoder)
        runs.append(
            _run(
                f"{data.name} ({len(data.corpus)} articles)",
                [(own_engine, data.questions)],
                baselines,
                sources,
            )
        )
        if removed:
            asked, cut_sources = removed_engines(
                own_engine.articles, data.questions, settings, encoder, sources
            )
            runs.append(_run(f"{data.name}, paragraphe retiré", asked, baselines, cut_sources))
        if alone:
            runs.append(
                _run(f"{data.name}, chaque article seul", _alone(data, settings, encoder), baselines, sources)
            )
        if plus:
            bigger = corpus_engine(data.corpus + tuple(plus), settings, encoder)
            runs.append(
                _run(
                    f"{data.name} + {', '.join(p.name for p in plus)}",
                    [(bigger, data.questions)],
                    baselines,
                    sources,
                )
            )
    return runs


def _alone(data: Dataset, settings: Settings, encoder: Encoder) -> list[tuple[Engine, list[Question]]]:
    """Each article alone with its own questions; out-of-scope questions spread over them."""
    corpus = list(data.corpus or ())
    groups: dict[str, list[Question]] = {path.stem: [] for path in corpus}
    out_of_scope = [q for q in data.questions if not q.answerable]
    for question in data.questions:
        if question.answerable and question.article in groups:
            groups[question.article].append(question)
    for number, question in enumerate(out_of_scope):
        groups[corpus[number % len(corpus)].stem].append(question)
    return [
        (corpus_engine((path,), settings, encoder), groups[path.stem]) for path in corpus if groups[path.stem]
    ]


def removed_engines(
    articles: list[Article],
    questions: list[Question],
    settings: Settings,
    encoder: Encoder,
    sources: dict[int, str],
    folder: Path | None = None,
) -> tuple[list[tuple[Engine, list[Question]]], dict[int, str]]:
    """Each answerable question as a ``removed`` negative, with an engine over its article cut.

    Questions whose answer is still elsewhere in the article are left out
    (:func:`qa.evaluation.removed.question_cut`). Engines are built in memory; the cut articles'
    files go to ``folder`` (default: the cache). Returns the groups to ask and, like ``sources``,
    the label (file) of each new question.
    """
    by_id = {a.id: a for a in articles}
    groups: dict[Cut, list[Question]] = {}
    for question in questions:
        if cut := question_cut(question, by_id):
            groups.setdefault(cut, []).append(question)
    folder = folder or default_cache_dir() / "eval-removed"
    out, cut_sources = [], {}
    for cut, group in groups.items():
        article = without(by_id[cut.article], cut, folder / cut.article)
        engine = Engine.in_memory([article], encoder, settings)
        negatives = [as_removed(q) for q in group]
        cut_sources |= {id(n): sources[id(q)] for n, q in zip(negatives, group, strict=True)}
        out.append((engine, negatives))
    return out, cut_sources
