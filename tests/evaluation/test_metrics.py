"""Evaluation metrics, computed on hand-made answers from a fake answerer."""

from __future__ import annotations

import pytest

from qa.answer import Answer, Citation, Scores, Status
from qa.evaluation.datasets import Question
from qa.evaluation.metrics import answer_rank, evaluate, format_report, highlight_hit, normalise


def cite(rank: int, text: str, highlight: str | None = None) -> Citation:
    highlight = highlight or text.split(".")[0]
    return Citation(
        rank=rank,
        article="a",
        section=f"S{rank}",
        text=text,
        highlight=highlight,
        start=0,
        end=len(text),
        score=1.0 / rank,
        highlight_start=0,
        highlight_end=len(highlight),
        scores=Scores(0.5, 0.0, 1.0 / rank),
    )


def reply(status: Status, *texts: str, highlight: str | None = None) -> Answer:
    passages = [cite(i, t, highlight if i == 1 else None) for i, t in enumerate(texts, 1)]
    return Answer("q", status, "message", passages)


class FakeAnswerer:
    """Replies from a table; records what it was asked."""

    def __init__(self, table: dict[str, Answer]) -> None:
        self.table = table
        self.asked: list[object] = []

    def ask(self, question: object) -> Answer:
        self.asked.append(question)
        return self.table[question]


GOLD = "le fer des cellules souches"
HIT = "Un processus. Le fer des cellules souches est bloqué."
MISS = "Rien à voir. Une autre phrase."


def q(qid: str, gold: tuple[str, ...] = (GOLD,), kind: str = "direct") -> Question:
    return Question(qid, qid, gold, kind)


def test_normalise() -> None:
    assert normalise("  L’Inserm\n DÉVOILE\t\tdes  avancées ") == "l'inserm dévoile des avancées"


def test_answer_rank() -> None:
    assert answer_rank(reply(Status.ANSWERED, HIT, MISS), (GOLD,)) == 1
    assert answer_rank(reply(Status.ANSWERED, MISS, MISS, HIT), (GOLD,)) == 3
    assert answer_rank(reply(Status.ANSWERED, MISS, MISS), (GOLD,)) is None
    assert answer_rank(reply(Status.INVALID), (GOLD,)) is None
    # any one gold span is enough; apostrophes, case and spaces are folded on both sides
    assert answer_rank(reply(Status.ANSWERED, MISS, "L’autre  CAS."), ("rien", "l'autre cas")) == 1
    assert answer_rank(reply(Status.ANSWERED, MISS, "L’autre  CAS."), ("l'autre cas",)) == 2


def test_highlight_hit() -> None:
    assert highlight_hit(
        reply(Status.ANSWERED, HIT, highlight="Le fer des cellules souches est bloqué."), (GOLD,)
    )
    assert not highlight_hit(reply(Status.ANSWERED, HIT, highlight="Un processus."), (GOLD,))
    assert not highlight_hit(reply(Status.SMALLTALK), (GOLD,))


def test_metrics_on_hand_made_answers() -> None:
    good_highlight = "Le fer des cellules souches est bloqué."
    table = {
        "q1": reply(Status.ANSWERED, HIT, MISS, highlight=good_highlight),  # rank 1, highlight hit
        "q2": reply(Status.ANSWERED, MISS, HIT, MISS),  # rank 2
        "q3": reply(Status.ANSWERED, MISS, MISS, MISS),  # not found
        "q4": reply(Status.NO_ANSWER, MISS, MISS, HIT),  # rank 3, but declined
        "o1": reply(Status.NO_ANSWER, MISS),  # out of scope, rightly declined
        "o2": reply(Status.ANSWERED, MISS),  # out of scope, wrongly answered
        "o3": reply(Status.INVALID),  # out of scope, declined
    }
    questions = [
        q("q1"),
        q("q2", kind="paraphrase"),
        q("q3"),
        q("q4", kind="paraphrase"),
        q("o1", (), "unrelated"),
        q("o2", (), "out-of-scope"),
        q("o3", (), "unrelated"),
    ]
    answerer = FakeAnswerer(table)
    report = evaluate(answerer, questions)
    assert answerer.asked == [x.text for x in questions]

    overall = report.overall.metrics()
    assert overall["n"] == 7
    assert overall["top1"] == pytest.approx(1 / 4)
    assert overall["recall@3"] == pytest.approx(3 / 4)
    assert overall["mrr"] == pytest.approx((1 + 1 / 2 + 0 + 1 / 3) / 4)
    assert overall["highlight"] == pytest.approx(1 / 4)
    assert overall["false_no_answer"] == pytest.approx(1 / 4)
    assert overall["no_answer"] == pytest.approx(2 / 3)

    assert list(report.by_kind) == sorted(report.by_kind)
    assert set(report.by_kind) == {"direct", "paraphrase", "unrelated", "out-of-scope"}
    paraphrase = report.by_kind["paraphrase"].metrics()
    assert paraphrase.pop("chars") == len(MISS)  # the mean length of the first passage cited
    assert paraphrase == pytest.approx(
        {
            "n": 2,
            "top1": 0.0,
            "recall@3": 1.0,
            "mrr": (1 / 2 + 1 / 3) / 2,
            "highlight": 0.0,
            "false_no_answer": 0.5,
        }
    )
    assert report.by_kind["unrelated"].metrics() == {"n": 2, "chars": len(MISS), "no_answer": 1.0}

    missed = {m.split()[0] for m in report.misses}
    assert missed == {"q2", "q3", "q4", "o2"}
    assert any("répondu à tort" in m for m in report.misses if m.startswith("o2"))


def test_perfect_run_has_no_misses() -> None:
    table = {"q1": reply(Status.ANSWERED, HIT), "o1": reply(Status.NO_ANSWER, MISS)}
    report = evaluate(FakeAnswerer(table), [q("q1"), q("o1", ())])
    assert report.misses == []
    assert report.overall.metrics() == {
        "n": 2,
        "top1": 1.0,
        "recall@3": 1.0,
        "mrr": 1.0,
        "highlight": 0.0,
        "chars": (len(HIT) + len(MISS)) / 2,
        "false_no_answer": 0.0,
        "no_answer": 1.0,
    }


def test_format_report() -> None:
    table = {"q1": reply(Status.ANSWERED, MISS, HIT), "o1": reply(Status.NO_ANSWER, MISS)}
    text = format_report(evaluate(FakeAnswerer(table), [q("q1"), q("o1", (), "unrelated")]))
    lines = text.splitlines()
    assert lines[0].split() == [
        "n",
        "top1",
        "recall@3",
        "mrr",
        "highlight",
        "chars",
        "false_no_answer",
        "no_answer",
    ]
    chars = str(len(MISS))
    assert lines[1].split() == ["TOTAL", "2", "0.000", "1.000", "0.500", "0.000", chars, "0.000", "1.000"]
    assert lines[2].split() == ["direct", "1", "0.000", "1.000", "0.500", "0.000", chars, "0.000", "-"]
    assert lines[3].split() == ["unrelated", "1", "-", "-", "-", "-", chars, "-", "1.000"]
    assert "À revoir :" in lines and any(line.strip().startswith("q1 [direct] rang 2") for line in lines)
