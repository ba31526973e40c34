"""qa.ranking: dense and lexical fused, the summary prior, metadata and scope, and the lead's margin."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qa.corpus import BODY, METADATA, SUMMARY
from qa.engine import Engine
from qa.ranking import Ranking, apply_priors, fuse, rank


def ranking(fused: list[float]) -> Ranking:
    scores = np.array(fused, dtype=np.float32)
    order = np.argsort(-scores, kind="stable")
    return Ranking(order, scores, np.zeros_like(scores), scores, np.zeros(1, dtype=np.float32))


def test_lexical_is_scaled_to_its_best_and_only_breaks_near_ties():
    dense = np.array([0.80, 0.79, 0.50])
    fused = fuse(dense, np.array([0.0, 4.0, 2.0]), weight=0.05)
    assert fused.tolist() == pytest.approx([0.80, 0.84, 0.525])
    assert fuse(dense, np.zeros(3), weight=0.05).tolist() == dense.tolist()  # no word found: dense alone


def test_a_summary_steps_back_only_when_a_body_passage_competes():
    kinds = np.array([SUMMARY, BODY, METADATA], dtype=np.int8)
    fused = np.array([0.90, 0.89, 0.5])
    lowered = apply_priors(fused, kinds, np.array([0, 1, 2]), summary_margin=0.02)
    assert lowered.tolist() == pytest.approx([0.88, 0.89, 0.5]) and fused[0] == 0.90  # a copy
    alone = apply_priors(fused, kinds, np.array([0, 2]), summary_margin=0.02)
    assert alone.tolist() == fused.tolist()


def test_margin_is_the_lead_over_the_first_rival():
    r = ranking([0.9, 0.7, 0.85])
    assert r.margin() == pytest.approx(0.05)
    assert r.margin(among=np.array([True, True, False])) == pytest.approx(0.2)
    # passages of the first one's own article are not its rivals
    assert r.margin(by=np.array([1, 2, 1])) == pytest.approx(0.2)
    assert r.margin(by=np.array([1, 1, 1])) == math.inf
    assert r.margin(among=np.array([False, False, False])) == math.inf


def test_rank_keeps_metadata_for_questions_about_the_article_only(seed_engine: Engine):
    corpus, tuning = seed_engine.corpus, seed_engine.tuning
    terms = corpus.lexical.analyse("Qui a écrit l'article ?")
    query = seed_engine.encoder.encode_queries(["Qui a écrit l'article ?"])[0]
    about = rank(corpus, query, terms, tuning, metadata=True)
    body = rank(corpus, query, terms, tuning, metadata=False)
    assert METADATA in corpus.kinds[about.order].tolist()
    assert METADATA not in corpus.kinds[body.order].tolist() and len(body.order)
    # the order follows the fused score, and every ranked passage got its dense score
    fused = body.fused[body.order]
    assert (np.diff(fused) <= 1e-6).all() and (body.dense[body.order] > -1).all()


def test_rank_offers_only_the_scoped_article(seed_engine: Engine):
    corpus, tuning = seed_engine.corpus, seed_engine.tuning
    terms = corpus.lexical.analyse("ferroptose")
    query = seed_engine.encoder.encode_queries(["ferroptose"])[0]
    scoped = rank(corpus, query, terms, tuning, metadata=False, scope=0)
    assert len(scoped.order) and set(corpus.passage_article[scoped.order].tolist()) == {0}
