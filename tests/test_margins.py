"""An answer's margins: how far each choice made from the question vector was from going the other way."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from support.paths import REPO

from qa.citation import candidates, highlight, highlight_margin
from qa.decision import Evidence, margin
from qa.engine import Engine, Tuning
from qa.ranking import Ranking, rank

QUESTIONS = [
    json.loads(line)["q"]
    for path in sorted((REPO / "eval").glob("*.jsonl"))
    for line in path.read_text(encoding="utf-8").splitlines()
    if line.strip()
]


def ranking(fused: list[float]) -> Ranking:
    scores = np.array(fused, dtype=np.float32)
    order = np.argsort(-scores, kind="stable")
    return Ranking(order, scores, np.zeros_like(scores), scores, np.zeros(0, dtype=np.float32))


def test_ranking_margin_is_the_lead_of_the_first_passage() -> None:
    assert ranking([0.5, 0.25, 0.75]).margin() == pytest.approx(0.25)
    assert ranking([0.5, 0.5]).margin() == 0.0  # a tie: either could come first
    assert ranking([0.5]).margin() == math.inf
    among = np.array([True, True, False])
    assert ranking([0.5, 0.25, 0.75]).margin(among=among) == pytest.approx(0.25)
    assert ranking([0.5, 0.25, 0.75]).margin(among=np.zeros(3, dtype=bool)) == math.inf
    articles = np.array([0, 1, 0])  # passage 0 is of the first's article: no rival
    assert ranking([0.5, 0.25, 0.75]).margin(by=articles) == pytest.approx(0.5)


def test_decision_margin_is_the_distance_to_whichever_threshold_applies() -> None:
    tuning = Tuning()
    english = Evidence(dense=0.81, coverage=0.0, contrast=0.0, missing=0.0, english=True)
    assert margin(english, tuning) == pytest.approx(0.81 - tuning.english_threshold)
    french = Evidence(dense=0.9, coverage=0.5, contrast=0.01, missing=0.0, english=False)
    support = 0.9 + tuning.coverage_credit * 0.5 + tuning.contrast_credit * 0.01
    assert margin(french, tuning) == pytest.approx(abs(support - tuning.support_threshold))


def test_highlight_is_the_first_best_candidate_by_its_margin(seed_engine: Engine) -> None:
    corpus, tuning = seed_engine.corpus, seed_engine.tuning
    for question in QUESTIONS[:30]:
        terms = corpus.lexical.analyse(question)
        vector = seed_engine.encoder.encode_queries([question])[0]
        ranked = rank(corpus, vector, terms, tuning, metadata=False)
        i, units = int(ranked.order[0]), ranked.unit_scores
        scored = candidates(corpus, tuning, i, units, terms)
        best = max(s for _, s in scored)
        assert highlight(corpus, tuning, i, units, terms) == next(span for span, s in scored if s == best)
        rest = sorted((s for _, s in scored), reverse=True)[1:2]
        assert highlight_margin(corpus, tuning, i, units, terms) == (best - rest[0] if rest else math.inf)
