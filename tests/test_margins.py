"""An answer's margins, and the exact vector for the choices closer than the encoder's error."""

from __future__ import annotations

import json
import logging
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from support.fakes import ApproximateFake, FakeEncoder
from support.paths import ARTICLES, REPO

from qa.answer import Answer
from qa.citation import candidates, highlight
from qa.decision import VECTOR_SIGNALS, Evidence, judge
from qa.encoders import Approximate
from qa.engine import Engine, Settings
from qa.learn.model import DecisionModel
from qa.ranking import lead, rank
from qa.settings import Tuning

QUESTIONS = [
    json.loads(line)["q"]
    for path in sorted((REPO / "eval").glob("*.jsonl"))
    for line in path.read_text(encoding="utf-8").splitlines()
    if line.strip()
]


def seen(answer: Answer) -> tuple:
    """What a reader sees: the status, the message, and each passage with its highlight."""
    spans = [(p.article, p.start, p.end, p.highlight_start, p.highlight_end) for p in answer.passages]
    return answer.status, answer.message, spans


def margin(fused: list[float], **rivals: np.ndarray) -> float:
    """The lead of the first of ``fused`` (ordered as a ranking orders them)."""
    scores = np.array(fused, dtype=np.float32)
    return lead(scores, np.argsort(-scores, kind="stable"), **rivals)


def test_ranking_margin_is_the_lead_of_the_first_passage() -> None:
    assert margin([0.5, 0.25, 0.75]) == pytest.approx(0.25)
    assert margin([0.5, 0.5]) == 0.0  # a tie: either could come first
    assert margin([0.5]) == math.inf
    among = np.array([True, True, False])
    assert margin([0.5, 0.25, 0.75], among=among) == pytest.approx(0.25)
    assert margin([0.5, 0.25, 0.75], among=np.zeros(3, dtype=bool)) == math.inf
    articles = np.array([0, 1, 0])  # passage 0 is of the first's article: no rival
    assert margin([0.5, 0.25, 0.75], by=articles) == pytest.approx(0.5)


def evidence(**changes: float | bool) -> Evidence:
    values = {name: 0.0 for name in Evidence.__dataclass_fields__ if name != "english"}
    values |= {"dense": 0.9, "sentence_dense": 0.9, "terms": 2.0}
    return Evidence(**(values | changes))


def fitted(names: tuple[str, ...], weights: tuple[float, ...], bias: float) -> DecisionModel:
    """A model of raw signals (mean 0, scale 1) with these weights, answering from 0.5."""
    n = len(names)
    return DecisionModel(
        names=names, means=(0.0,) * n, scales=(1.0,) * n, weights=weights, bias=bias, threshold=0.5
    )


def test_decision_margin_is_the_cosine_move_that_would_flip_it() -> None:
    tuning = Tuning()
    names = tuple(evidence().signals())
    model = fitted(names, (0.0,) * len(names), 0.0)
    english = evidence(dense=0.81, english=True)
    assert judge(english, tuning.decision, model).margin == pytest.approx(
        0.81 - tuning.decision.english_threshold
    )
    # log-odds 10 · dense − 9 (threshold 0.5: log-odds 0); every cosine-borne signal moves with dense
    weights = tuple(10.0 if n == "dense" else 0.0 for n in names)
    model = fitted(names, weights, -9.0)
    assert judge(evidence(dense=0.95), tuning.decision, model).margin == pytest.approx(0.05)
    assert judge(evidence(dense=0.85), tuning.decision, model).margin == pytest.approx(0.05)
    # a contrast is a difference of two cosines: it can move twice as far as each of them
    both = tuple(5.0 if n in ("dense", "contrast") else 0.0 for n in names)
    model = fitted(names, both, -5.0)
    assert judge(evidence(dense=0.95, contrast=0.1), tuning.decision, model).margin == pytest.approx(
        0.25 / 15
    )
    assert set(VECTOR_SIGNALS) <= set(names)


def test_highlight_is_the_first_best_candidate_by_its_margin(seed_engine: Engine) -> None:
    corpus, tuning = seed_engine.corpus, seed_engine.tuning
    for question in QUESTIONS[:30]:
        query = replace(seed_engine.query(question), metadata=False)
        ranked = rank(corpus, query, tuning)
        i, units, terms = int(ranked.order[0]), ranked.unit_scores, query.terms
        scored = candidates(corpus, tuning, passage=i, unit_scores=units, terms=terms)
        best = max(s for _, s in scored)
        chosen = highlight(corpus, tuning, passage=i, unit_scores=units, terms=terms)
        assert chosen.span == next(span for span, s in scored if s == best)
        rest = sorted((s for _, s in scored), reverse=True)[1:2]
        assert chosen.margin == (best - rest[0] if rest else math.inf)


@pytest.fixture
def noisy(tmp_path: Path) -> tuple[Engine, Engine]:
    """An engine whose encoder is approximate (noise 0.3), and the same one with the exact encoder."""
    settings = Settings(articles=(ARTICLES,), index_dir=tmp_path / "index")
    engine = Engine.load(settings, encoder=ApproximateFake(exact_margin=0.0, noise=0.3))
    return engine, Engine(engine.articles, FakeEncoder(), engine.index, settings)


def test_a_choice_closer_than_the_encoders_error_is_made_from_the_exact_vector(
    noisy: tuple[Engine, Engine], caplog: pytest.LogCaptureFixture
) -> None:
    engine, exact = noisy
    encoder = engine.encoder
    assert isinstance(encoder, Approximate)
    question = QUESTIONS[0]
    _, closest = engine._answer_with(engine.query(question))
    assert 0 < closest < math.inf
    encoder.exact_margin = closest  # the closest choice is not closer than the error: it stands
    engine.ask(question)
    assert encoder.exact_encoder.query_calls == 0
    encoder.exact_margin = closest * 1.001
    caplog.set_level(logging.DEBUG, logger="qa.engine")
    answer = engine.ask(question)
    assert encoder.exact_encoder.query_calls == 1
    assert answer == exact.ask(question)
    assert any("exactement" in r.getMessage() for r in caplog.records)


def test_every_answer_is_the_exact_one_when_every_choice_is_too_close(noisy: tuple[Engine, Engine]) -> None:
    engine, exact = noisy
    differ = [q for q in QUESTIONS if seen(engine.ask(q)) != seen(exact.ask(q))]
    assert differ, "the noise is meant to change some answers"
    engine.encoder.exact_margin = math.inf  # every choice between two passages or sentences
    assert [q for q in QUESTIONS if seen(engine.ask(q)) != seen(exact.ask(q))] == []
    calls = engine.encoder.exact_encoder.query_calls
    history = ["Qu'est-ce que la ferroptose ?"]
    answer = engine.ask("Et qu'est-ce qui la catalyse ?", history)
    assert answer.context == history[0]  # a follow-up, read after its topic, goes the same way
    assert engine.encoder.exact_encoder.query_calls == calls + 1
    assert answer == exact.ask("Et qu'est-ce qui la catalyse ?", history)


def test_an_exact_encoder_is_never_encoded_twice(seed_engine: Engine) -> None:
    assert not isinstance(seed_engine.encoder, Approximate)
    before = seed_engine.encoder.query_calls
    seed_engine.ask("Qui est l'auteur ?")
    assert seed_engine.encoder.query_calls == before + 1
