"""qa.query: a question read once (encoded, its words, its fields), and the kinds of passages."""

from __future__ import annotations

import numpy as np
import pytest

from qa.article import PassageKind
from qa.engine import Engine


def test_a_question_alone_is_searched_as_asked(seed_engine: Engine) -> None:
    before = seed_engine.encoder.query_calls
    query = seed_engine.query("Qu'est-ce que la ferroptose ?")
    assert seed_engine.encoder.query_calls == before + 1  # encoded once, when built
    assert query.searched == query.text == "Qu'est-ce que la ferroptose ?"
    assert query.own is query.terms and query.asked == query.terms and query.terms
    assert not query.follow_up and not query.fields and not query.metadata and query.scope is None
    expected = seed_engine.encoder.encode_queries([query.text])[0]
    assert np.array_equal(query.vector, expected)


def test_a_follow_up_is_searched_with_its_topic_and_weighed_on_its_own_words(seed_engine: Engine) -> None:
    query = seed_engine.query("Et chez la souris ?", searched="La ferroptose. Et chez la souris ?")
    assert query.follow_up and query.own != query.terms
    assert query.asked == query.own and {t.word for t in query.own} == {"souris"}
    vague = seed_engine.query("Et alors ?", searched="La ferroptose. Et alors ?")
    assert not vague.own and not vague.follow_up and vague.asked == vague.terms  # the topic's words


def test_a_question_about_the_article_asks_for_its_fields(seed_engine: Engine) -> None:
    query = seed_engine.query("Qui est l'auteur ?", scope=0)
    assert query.fields == ("author",) and query.metadata and query.scope == 0


def test_with_vector_changes_only_the_vector(seed_engine: Engine) -> None:
    query = seed_engine.query("Qu'est-ce que la ferroptose ?")
    moved = query.with_vector(-query.vector)
    assert np.array_equal(moved.vector, -query.vector)
    assert (moved.text, moved.searched, moved.terms, moved.own) == (
        query.text,
        query.searched,
        query.terms,
        query.own,
    )
    with pytest.raises(AttributeError):
        query.text = "autre"  # type: ignore[misc]


def test_the_corpus_kinds_are_the_passage_kinds(seed_engine: Engine) -> None:
    corpus = seed_engine.corpus
    kinds = [corpus.passage(i).kind for i in range(len(corpus.passages))]
    assert corpus.kinds.tolist() == [int(k) for k in kinds]
    assert {PassageKind(code) for code in corpus.kinds.tolist()} == set(kinds) >= {PassageKind.METADATA}
    assert (corpus.kinds == PassageKind.METADATA).sum() == kinds.count(PassageKind.METADATA)
