"""Verifications: what an editor may record, which ones serve, and which question they serve."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from support.fakes import FakeEncoder, fake_engine_for
from support.paths import SEED, SHARED_EVAL

from qa.answer import Status
from qa.article import Article, Span
from qa.engine import Engine
from qa.evaluation.datasets import read_questions
from qa.settings import Typos, VerifiedTuning
from qa.verified import (
    ABSENT,
    Verification,
    VerificationError,
    VerifiedAnswers,
    check_verification,
    evaluation_rows,
)

INDOLE = "Qu'est-ce que l'indole-3-carbinol ?"

TYPOS = Typos()


def verification(source: Article, number: int, question: str, **changes: object) -> Verification:
    passage = source.passages[1]
    fields = {
        "id": number,
        "question": question,
        "context": None,
        "article": source.id,
        "passage": Span(passage.start, passage.end),
        "highlight": None,
        "checksum": source.sha256,
        "author": "staff",
        "at": "2026-12-03T10:00:00+00:00",
    }
    return Verification(**{**fields, **changes})


def test_a_passage_verification_is_checked(seed_article: Article) -> None:
    passage = seed_article.passages[1]
    sentence = passage.sentences[0]
    text, article, span, highlight = check_verification(
        [seed_article],
        "  Quel hôpital ?  ",
        seed_article.id,
        passage.start,
        passage.end,
        sentence.start,
        sentence.end,
    )
    assert (text, article, span, highlight) == (
        "Quel hôpital ?",
        seed_article,
        Span(passage.start, passage.end),
        Span(sentence.start, sentence.end),
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"question": "   "}, "question"),
        ({"article": "inconnu"}, "article inconnu"),
        ({"start": -1}, "sortent du texte"),
        ({"end": 10**9}, "sortent du texte"),
        ({"start": "12"}, "nombres entiers"),
        ({"start": True}, "nombres entiers"),
        ({"highlight_start": 0, "highlight_end": 5}, "la phrase marquée"),
    ],
)
def test_a_wrong_verification_says_why_in_french(seed_article: Article, changes: dict, message: str) -> None:
    passage = seed_article.passages[1]
    given = {"question": "Quel hôpital ?", "article": seed_article.id}
    given |= {"start": passage.start, "end": passage.end}
    with pytest.raises(VerificationError, match=message):
        check_verification([seed_article], **{**given, **changes})


def test_only_absent_is_a_verdict(seed_article: Article) -> None:
    absent = check_verification([seed_article], "Quel hôpital ?", verdict=ABSENT)
    assert absent == ("Quel hôpital ?", None, None, None)
    with pytest.raises(VerificationError, match="verdict inconnu"):
        check_verification([seed_article], "Quel hôpital ?", verdict="faux")
    with pytest.raises(VerificationError, match="ne cite pas"):
        check_verification([seed_article], "Quel hôpital ?", seed_article.id, 0, 10, verdict=ABSENT)


def test_a_verification_of_a_changed_article_is_stale(seed_article: Article) -> None:
    fresh = verification(seed_article, 1, "Quel hôpital a mené l'essai ?")
    changed = verification(seed_article, 2, "Qui finance l'essai ?", checksum="0" * 64)
    absent = dataclasses.replace(
        verification(seed_article, 3, "Combien coûte l'essai ?"), article=None, passage=None, checksum=None
    )
    verified = VerifiedAnswers(
        [fresh, changed, absent], [seed_article], FakeEncoder(), VerifiedTuning(), TYPOS
    )
    assert [v.id for v in verified.current] == [1, 3]
    assert [v.id for v in verified.stale] == [2]
    assert absent.absent and not fresh.absent


def test_the_same_question_reworded_is_matched_and_another_is_not(seed_article: Article) -> None:
    encoder = FakeEncoder()
    verified = VerifiedAnswers(
        [verification(seed_article, 1, "Quel hôpital a mené l'essai de l'anticorps-médicament ?")],
        [seed_article],
        encoder,
        VerifiedTuning(),
        TYPOS,
    )

    def match(question: str, context: str | None = None):
        return verified.match(question, context)

    assert match("quel hopital a mene l'essai de l'anticorps medicament").verification.id == 1
    assert match("Quel laboratoire a mis au point l'anticorps-médicament ?") is None
    assert match("Qui a mené l'essai de l'anticorps-médicament ?") is None  # another need
    # the question asked again right after another (read as a follow-up) still asks the same
    assert match("Quel hôpital a mené l'essai de l'anticorps-médicament ?", "Et la ferroptose ?")


def test_a_follow_up_matches_a_follow_up_after_the_same_question(seed_article: Article) -> None:
    encoder = FakeEncoder()
    verified = VerifiedAnswers(
        [verification(seed_article, 1, "Et chez quels modèles ?", context=INDOLE)],
        [seed_article],
        encoder,
        VerifiedTuning(),
        TYPOS,
    )
    assert verified.match("Et chez quels modèles ?", "qu'est-ce que l'indole-3-carbinol")
    assert verified.match("Et chez quels modèles ?", "Qu'est-ce que la ferroptose ?") is None
    assert verified.match("Et chez quels modèles ?", None) is None  # asked alone: not that follow-up


# --- the engine answers from them ------------------------------------------------------------------


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    """A fresh engine over the seed article (the fake encoder): verifications change its state."""
    return fake_engine_for((SEED,), tmp_path / "index")


def dev_questions() -> list[tuple[str, list[str]]]:
    """Every question of the article's dev sets (and conversations), with its earlier turns."""
    asked = []
    for name in (
        "dev.jsonl",
        "dev2.jsonl",
        "dev_oos.jsonl",
        "dev_oos_near.jsonl",
        "dev_conversations2.jsonl",
    ):
        for line in (SHARED_EVAL / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                turns = item.get("turns") or [item["q"]]
                asked.append((turns[-1], turns[:-1]))
    return asked


def test_a_verified_passage_answers_the_question_reworded(engine: Engine) -> None:
    article = engine.articles[0]
    passage = article.passages[3]
    sentence = passage.sentences[-1]
    question = "Quel hôpital a mené l'essai de l'anticorps-médicament ?"
    engine.use_verifications(
        [verification(article, 7, question, passage=Span(passage.start, passage.end), highlight=sentence)]
    )
    answer = engine.ask("quel hopital a mene l'essai de l'anticorps medicament")
    assert answer.status is Status.ANSWERED
    assert answer.to_dict()["verified"] == {"id": 7, "at": "2026-12-03T10:00:00+00:00"}
    (cited,) = answer.passages
    assert cited.text == article.source[passage.start : passage.end]
    assert (cited.highlight_start, cited.highlight_end) == (sentence.start, sentence.end)
    assert cited.highlight in answer.message and cited.section == passage.title
    assert "vérifiée par la rédaction" in answer.decision.reason


def test_an_absent_verification_declines_and_an_unrelated_question_is_answered_as_before(
    engine: Engine,
) -> None:
    article = engine.articles[0]
    before = engine.ask("Qu'est-ce que la ferroptose ?")
    other = engine.ask("Sur quelles cellules agit la tri-thérapie ?")
    absent = verification(
        article, 2, "Qu'est-ce que la ferroptose ?", article=None, passage=None, checksum=None
    )
    engine.use_verifications([absent])
    declined = engine.ask("qu'est-ce que la ferroptose")
    assert declined.status is Status.NO_ANSWER and not declined.passages
    assert declined.verified is not None and declined.verified.id == 2
    assert before.status is not Status.NO_ANSWER or before.verified is None
    assert engine.ask("Sur quelles cellules agit la tri-thérapie ?") == other


def test_no_verification_changes_no_answer(engine: Engine, tmp_path: Path) -> None:
    """Verifications of other questions leave every dev question's answer as it was."""
    article = engine.articles[0]
    unrelated = [
        verification(article, 1, "Quel temps fera-t-il demain à Brest ?"),
        verification(
            article, 2, "Qui a gagné la coupe du monde 1998 ?", article=None, passage=None, checksum=None
        ),
    ]
    plain_engine = fake_engine_for((SEED,), tmp_path / "index-plain")
    engine.use_verifications(unrelated)
    for question, history in dev_questions():
        assert engine.ask(question, history).to_dict(True) == plain_engine.ask(question, history).to_dict(
            True
        )


def test_a_verification_serves_only_its_article_and_only_unchanged(engine: Engine) -> None:
    article = engine.articles[0]
    question = "Quel hôpital a mené l'essai de l'anticorps-médicament ?"
    moved = verification(article, 1, question, checksum="f" * 64)
    assert [v.id for v in engine.use_verifications([moved]).stale] == [1]
    assert engine.ask(question).verified is None
    engine.use_verifications([verification(article, 2, question)])
    assert engine.ask(question).verified is not None
    assert engine.ask(question, article=article.id).verified is not None


def test_the_context_of_a_follow_up_is_the_question_before(engine: Engine) -> None:
    assert engine.context_of("Et chez quels modèles ?", ["Qu'est-ce que l'indole-3-carbinol ?"]) == (
        "Qu'est-ce que l'indole-3-carbinol ?"
    )
    assert engine.context_of("Qu'est-ce que la ferroptose ?", ["Qui est l'auteur ?"]) is None
    assert engine.context_of("   ", []) is None


def test_export_rows_are_evaluation_questions(engine: Engine, tmp_path: Path) -> None:
    article = engine.articles[0]
    passage = article.passages[2]
    sentence = passage.sentences[0]
    rows = evaluation_rows(
        [
            verification(
                article, 1, "Quel hôpital ?", passage=Span(passage.start, passage.end), highlight=sentence
            ),
            verification(article, 2, "Et chez la souris ?", context=INDOLE),
            verification(article, 3, "Combien ça coûte ?", article=None, passage=None, checksum=None),
            verification(article, 4, "Périmée ?", checksum="0" * 64),
        ],
        engine.articles,
    )
    assert rows == [
        {"id": "verified-1", "q": "Quel hôpital ?", "gold": [article.text(sentence)], "kind": "verified"},
        {
            "id": "verified-2",
            "turns": [INDOLE, "Et chez la souris ?"],
            "gold": [article.text(article.passages[1])],
            "kind": "verified",
        },
        {"id": "verified-3", "q": "Combien ça coûte ?", "kind": "near"},
    ]
    path = tmp_path / "verified.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    questions = read_questions(path)
    assert [(q.text, q.history, q.answerable) for q in questions] == [
        ("Quel hôpital ?", (), True),
        ("Et chez la souris ?", (INDOLE,), True),
        ("Combien ça coûte ?", (), False),
    ]
