"""Follow-up questions read after the conversation's topic, and answers scoped to one article."""

from __future__ import annotations

import pytest
from support.fakes import fake_engine_for
from support.paths import DATA, SEED

from qa.answer import Status
from qa.conversation import history_text
from qa.engine import VAGUE_QUESTION, Engine
from qa.settings import ConversationTuning, DecisionTuning, Tuning


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    return fake_engine_for((SEED, DATA), tmp_path_factory.mktemp("conv") / "index")


def test_a_follow_up_without_subject_is_read_after_the_topic(engine: Engine) -> None:
    first = engine.ask("Que sait-on sur l'indole-3-carbinol et les choux ?")
    follow = engine.ask(
        "Et sans elle, que se passe-t-il ?", ["Que sait-on sur l'indole-3-carbinol et les choux ?"]
    )
    assert follow.context == "Que sait-on sur l'indole-3-carbinol et les choux ?"
    assert follow.to_dict()["context"] == {"from": follow.context}
    assert follow.passages[0].section == first.passages[0].section
    assert follow.question == "Et sans elle, que se passe-t-il ?"  # the question is not rewritten


def test_a_question_with_its_own_subject_ignores_the_old_topic(engine: Engine) -> None:
    alone = engine.ask("Et la leucémie, qu'en dit l'article ?")
    after = engine.ask("Et la leucémie, qu'en dit l'article ?", ["Qu'est-ce que la tri-thérapie ?"])
    assert after.context is None
    assert after.to_dict() == alone.to_dict()


@pytest.mark.parametrize(
    "question",
    [
        "Quelle est la capitale de l'Australie ?",
        "Comment faire des crêpes ?",
        "Qui a gagné la coupe du monde 2018 ?",
        "Quel temps fera-t-il demain à Paris ?",
    ],
)
def test_words_the_articles_do_not_know_are_a_subject_of_their_own(engine: Engine, question: str) -> None:
    topic = "Qu'est-ce que la ferroptose ?"
    assert not engine.conversation.depends(question, topic)
    after = engine.ask(question, [topic])
    assert after.context is None and after.to_dict() == engine.ask(question).to_dict()
    assert after.status != Status.ANSWERED


@pytest.fixture(scope="module")
def lenient(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """An engine whose learned decision answers everything: only the follow-up rule can refuse."""
    index = tmp_path_factory.mktemp("lenient") / "index"
    return fake_engine_for((SEED, DATA), index, tuning=Tuning(decision=DecisionTuning(answer_threshold=1e-9)))


def test_a_follow_up_is_judged_on_what_it_asks_itself(lenient: Engine) -> None:
    topic = ["Parlez-moi de la leucémie aiguë myéloïde."]
    missing = lenient.ask("Et chez l'enfant ?", topic)
    assert missing.context == topic[0]  # read after the topic, found with it...
    assert missing.status == Status.NO_ANSWER  # ...but the passage says nothing of children
    assert "question de suite" in missing.decision.reason
    said = lenient.ask("Et le fer ?", topic)
    assert said.context == topic[0] and said.status == Status.ANSWERED


def test_the_topic_follows_a_chain_of_follow_ups(engine: Engine) -> None:
    topic = engine.conversation.topic(["Parlez-moi de la leucémie aiguë myéloïde.", "Et le fer ?"])
    assert topic == "Parlez-moi de la leucémie aiguë myéloïde. Et le fer ?"
    fresh = engine.conversation.topic(["Parlez-moi de la leucémie.", "Que contient le café du soir ?"])
    assert fresh == "Que contient le café du soir ?"


def test_history_is_bounded_and_cleaned() -> None:
    turns = ConversationTuning().max_turns
    assert history_text(["", 42, None, "  Et alors ?  "], turns) == ["Et alors ?"]
    many = [f"Question {n} ?" for n in range(12)]
    assert history_text(many, turns) == many[-turns:]


def test_a_bare_question_word_asks_for_a_subject(engine: Engine) -> None:
    for question in ("Pourquoi ?", "Combien ?", "Et alors ?"):
        answer = engine.ask(question)
        assert answer.status == Status.NO_ANSWER and answer.message == VAGUE_QUESTION
    assert engine.ask("Pourquoi ?", ["Pourquoi les cellules souches leucémiques résistent-elles ?"]).context


def test_scope_to_one_article(engine: Engine) -> None:
    scoped = engine.ask("leucemie fer", article="cafe_sommeil")
    assert {p.article for p in scoped.passages} == {"cafe_sommeil"}
    declined = engine.ask("Quelle est la hauteur de la tour Eiffel ?", article="000_77dfe58a8330a326")
    assert {p.article for p in declined.passages} == {"000_77dfe58a8330a326"}
    if declined.status == Status.NO_ANSWER:
        assert "Ce que mesure l'étude" not in declined.message  # only that article's subjects
    with pytest.raises(KeyError):
        engine.ask("leucemie fer", article="absent")


def test_invalid_questions_stay_invalid_in_a_conversation(engine: Engine) -> None:
    assert engine.ask("", ["Parlez-moi du fer."]).status == Status.INVALID
    assert engine.ask("Bonjour", ["Parlez-moi du fer."]).status == Status.SMALLTALK
