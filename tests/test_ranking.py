"""qa.ranking: dense and lexical fused, the summary prior, metadata and scope, and the lead's margin."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from qa.article import PassageKind
from qa.engine import Engine
from qa.ranking import apply_priors, fuse, lead, rank

METADATA, SUMMARY, BODY = PassageKind.METADATA, PassageKind.SUMMARY, PassageKind.BODY


def scored(fused: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """Fused scores, and the passages in their order."""
    scores = np.array(fused, dtype=np.float32)
    return scores, np.argsort(-scores, kind="stable")


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
    fused, order = scored([0.9, 0.7, 0.85])
    assert lead(fused, order) == pytest.approx(0.05)
    assert lead(fused, order, among=np.array([True, True, False])) == pytest.approx(0.2)
    # passages of the first one's own article are not its rivals
    assert lead(fused, order, by=np.array([1, 2, 1])) == pytest.approx(0.2)
    assert lead(fused, order, by=np.array([1, 1, 1])) == math.inf
    assert lead(fused, order, among=np.array([False, False, False])) == math.inf


def test_a_ranking_carries_its_margins(seed_engine: Engine):
    corpus, tuning = seed_engine.corpus, seed_engine.tuning
    content = rank(corpus, seed_engine.query("Qu'est-ce que la ferroptose ?"), tuning)
    assert content.margin == lead(content.fused, content.order) and content.margin > 0
    assert content.article_margin == math.inf  # not a question about the article itself
    about = rank(corpus, seed_engine.query("Qui a écrit l'article ?"), tuning)
    metadata = corpus.kinds == METADATA
    assert about.article_margin == lead(about.fused, about.order, metadata, corpus.passage_article)


def test_rank_keeps_metadata_for_questions_about_the_article_only(seed_engine: Engine):
    corpus, tuning = seed_engine.corpus, seed_engine.tuning
    query = seed_engine.query("Qui a écrit l'article ?")
    about = rank(corpus, replace(query, metadata=True), tuning)
    body = rank(corpus, replace(query, metadata=False), tuning)
    assert METADATA in corpus.kinds[about.order].tolist()
    assert METADATA not in corpus.kinds[body.order].tolist() and len(body.order)
    # the order follows the fused score, and every ranked passage got its dense score
    fused = body.fused[body.order]
    assert (np.diff(fused) <= 1e-6).all() and (body.dense[body.order] > -1).all()


def test_rank_offers_only_the_scoped_article(seed_engine: Engine):
    corpus, tuning = seed_engine.corpus, seed_engine.tuning
    query = replace(seed_engine.query("ferroptose", scope=0), metadata=False)
    scoped = rank(corpus, query, tuning)
    assert len(scoped.order) and set(corpus.passage_article[scoped.order].tolist()) == {0}
