"""When two questions mean the same (qa.paraphrase, qa.verified.means_same, qa.learn.pairs)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from qa.learn.pairs import Pair, calibrate, hand_pairs, piaf_pairs, question_pairs, rates, report
from qa.paraphrase import Need, PairSignals, need, pair_signals, plain
from qa.settings import Typos, VerifiedTuning
from qa.verified import means_same

REPO = Path(__file__).resolve().parents[1]

TYPOS = Typos()


def sig(cosine: float, info: float = 0.0, need: int = 0, numbers: int = 0) -> PairSignals:
    """Signals of a pair, the share of words left over implied by ``info``."""
    share = 0.3 if info else 0.0
    return PairSignals(
        cosine=cosine, need_differs=need, left_over_share=share, left_over_info=info, numbers_differ=numbers
    )


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Qui est l'auteur ?", Need.PERSON),
        ("Qu'est-ce qui provoque la dégradation des membranes ?", Need.THING),
        ("Où les résultats ont-ils été obtenus ?", Need.PLACE),
        ("Dans quel hôpital l'essai a-t-il eu lieu ?", Need.PLACE),
        ("Combien coûte une immunothérapie ?", Need.PRICE),
        ("Combien de temps faut-il pour lire l'article ?", Need.DATE),
        ("Quelle est la durée de lecture ?", Need.DATE),
        ("Combien de patientes ont reçu le traitement ?", Need.QUANTITY),
        ("Comment s'appelle l'anticorps-médicament ?", Need.NAME),
        ("Comment rendre les tumeurs visibles ?", Need.MANNER),
        ("Pourquoi les cellules souches résistent-elles ?", Need.REASON),
        ("Le fer joue-t-il un rôle dans la leucémie ?", Need.YES_NO),
        ("Does food affect cancer immunotherapy?", Need.YES_NO),
        ("leucemie fer", Need.TOPIC),
        ("leucemie ou lymphome", Need.TOPIC),  # "ou" without its accent is "or"
    ],
)
def test_need_reads_the_interrogative_words(question: str, expected: Need) -> None:
    assert need(question) is expected


def test_a_reworded_question_keeps_its_words_counterparts() -> None:
    same = pair_signals("cancer du sien metastatik", "cancer du sein métastatique", 0.95, TYPOS)
    assert same.left_over_info == 0.0 and same.left_over_share == 0.0
    joined = pair_signals("tri therapie cancer du sang", "trithérapie cancers du sang", 0.97, TYPOS)
    assert joined.left_over_info == 0.0


def test_a_different_question_leaves_a_rare_word_over() -> None:
    other = pair_signals(
        "Combien coûte une immunothérapie en France ?",
        "Combien coûte une chimiothérapie en France ?",
        0.95,
        TYPOS,
    )
    assert other.left_over_info > 5.5 and not other.need_differs
    asked = pair_signals(
        "Qui a découvert la ferroptose ?", "Quand a-t-on découvert la ferroptose ?", 0.98, TYPOS
    )
    assert asked.need_differs == 1.0 and asked.left_over_info == 0.0
    years = pair_signals("Que s'est-il passé en 1829 ?", "Que s'est-il passé en 1830 ?", 0.99, TYPOS)
    assert years.numbers_differ == 1.0


def test_keywords_and_a_question_do_not_differ_in_need() -> None:
    keywords = pair_signals("leucemie fer", "Le fer joue-t-il un rôle dans la leucémie ?", 0.93, TYPOS)
    assert keywords.need_differs == 0.0


@pytest.mark.parametrize(
    ("signals", "same"),
    [
        (sig(0.95, info=0, need=0, numbers=0), True),
        (sig(0.95, info=0, need=1, numbers=0), False),
        (sig(0.99, info=0, need=0, numbers=1), False),
        (sig(0.97, info=4.0, need=0, numbers=0), True),
        (sig(0.97, info=6.5, need=0, numbers=0), False),
        (sig(0.94, info=3.0, need=0, numbers=0), False),
    ],
)
def test_means_same_is_the_documented_rule(signals: PairSignals, same: bool) -> None:
    tuning = VerifiedTuning(same_words_cosine=0.93, cosine=0.96, left_over_info=5.5)
    assert means_same(signals, tuning) is same


def test_the_hand_written_pairs_are_well_formed() -> None:
    pairs = hand_pairs(REPO / "eval" / "pairs" / "paraphrases.jsonl")
    assert len(pairs) >= 80
    assert {p.same for p in pairs} == {True, False}
    assert all(p.a.strip() and p.b.strip() and p.a != p.b for p in pairs)


def test_question_files_give_typed_variants_and_differing_pairs() -> None:
    rows = [
        {"q": "Quels résultats pour l'anticorps ?", "gold": ["la moitié"]},
        {"q": "Quelles patientes ?", "gold": ["patientes atteintes"]},
        {"q": "Quel hôpital ?"},  # on topic, unanswered: differs from every other question
        {"turns": ["a ?", "b ?"], "gold": None},  # conversations are left out
    ]
    pairs = question_pairs(rows)
    typed_variant = Pair(
        "Quels résultats pour l'anticorps ?", "quels resultats pour l'anticorps", True, "graphie"
    )
    assert typed_variant in pairs
    differing = {(p.a, p.b) for p in pairs if not p.same}
    assert ("Quels résultats pour l'anticorps ?", "Quelles patientes ?") in differing
    assert ("Quel hôpital ?", "Quelles patientes ?") in differing
    assert plain("Où est l'Inserm ?") == "ou est l'inserm"


def test_piaf_pairs_are_the_same_when_their_answers_meet(tmp_path: Path) -> None:
    rows = [
        {"q": "Quand ?", "article": "a", "start": 0, "end": 4},
        {"q": "En quelle année ?", "article": "a", "start": 2, "end": 6},
        {"q": "Qui ?", "article": "a", "start": 10, "end": 14},
        {"q": "Où ?", "article": "b", "start": 0, "end": 4},
    ]
    path = tmp_path / "answerable.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    pairs = piaf_pairs(path)
    assert Pair("Quand ?", "En quelle année ?", True, "PIAF") in pairs
    assert Pair("Quand ?", "Qui ?", False, "PIAF") in pairs
    assert not any("Où ?" in (p.a, p.b) for p in pairs)  # another article


def test_calibration_keeps_every_differing_pair_apart() -> None:
    pairs = [
        Pair("a", "b", True, "rédigées"),
        Pair("c", "d", False, "rédigées"),
        Pair("e", "f", True, "graphie"),
    ]

    def signals(cosine: float, info: float) -> PairSignals:
        return sig(cosine, info=info)

    found = [signals(0.97, 3.0), signals(0.975, 6.0), signals(0.99, 0.0)]
    tuning = calibrate(pairs, found)
    assert means_same(found[0], tuning) and means_same(found[2], tuning)
    assert not means_same(found[1], tuning)
    assert "| rédigées | non | 1 | 0,0 % |" in report(pairs, found, tuning)


def test_the_calibration_reads_the_rule_as_means_same_does() -> None:
    rng = np.random.default_rng(0)
    found = [
        sig(float(c), info=float(i), need=int(n), numbers=int(k))
        for c, i, n, k in zip(
            rng.uniform(0.85, 1.0, 400),
            rng.choice([0.0, 2.0, 5.0, 6.5], 400),
            rng.integers(0, 2, 400),
            rng.integers(0, 2, 400),
            strict=True,
        )
    ]
    pairs = [Pair("a", "b", True, "rédigées")] * len(found)
    tuning = VerifiedTuning()
    shares = rates(pairs, found, tuning)
    assert shares[("rédigées", True)] == sum(means_same(s, tuning) for s in found) / len(found)
