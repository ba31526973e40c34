"""The learned decision: its file, its training (weights, calibration, threshold) and its examples."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
from support.fakes import FakeEncoder

from qa.decision import Evidence
from qa.learn import train
from qa.learn.examples import KINDS, Example, piaf_examples
from qa.learn.model import DecisionModel, load
from qa.settings import Settings


def test_the_shipped_model_reads_every_signal_of_the_evidence() -> None:
    model = load()
    signals = {f for f in Evidence.__dataclass_fields__ if f != "english"}
    assert set(model.names) == signals
    assert 0.0 < model.threshold < 1.0 and all(s > 0 for s in model.scales)
    weights = dict(zip(model.names, model.weights, strict=True))
    # the question's information in the passage, the cosines: each raises the probability
    assert weights["specific_coverage"] > 0 and weights["dense"] > 0 and weights["sentence_dense"] > 0
    assert weights["type_missing"] < 0 and weights["missing"] < 0  # a missing fact or word lowers it


def test_model_file_round_trip_and_refusals(tmp_path: Path) -> None:
    model = DecisionModel(
        names=("a", "b"), means=(0.0, 1.0), scales=(1.0, 2.0), weights=(2.0, -1.0), bias=0.5, threshold=0.3
    )
    path = tmp_path / "m.json"
    path.write_text(json.dumps(model.to_json()), encoding="utf-8")
    again = load(path)
    assert again == model
    signals = {"a": 1.0, "b": 3.0}
    assert again.logit(signals) == pytest.approx(0.5 + 2.0 * 1.0 - 1.0 * (3.0 - 1.0) / 2.0)
    assert again.probability(signals) == pytest.approx(1 / (1 + np.exp(-1.5)))
    assert sum(again.contributions(signals).values()) + again.bias == pytest.approx(again.logit(signals))
    with pytest.raises(ValueError, match="invalide"):
        DecisionModel.from_json(
            {"signals": [{"name": "a", "mean": 0, "scale": 0, "weight": 1}], "bias": 0, "threshold": 0.5}
        )
    with pytest.raises(ValueError, match="invalide"):
        DecisionModel.from_json({"bias": 0})
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    with pytest.raises(ValueError, match="illisible"):
        load(tmp_path / "bad.json")


def synthetic(n: int = 240, seed: int = 0) -> list[Example]:
    """Answerable examples cover the question in the passage; negatives do not, absent ones least."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        kind = KINDS[i % 3]
        cover = {"answerable": 0.7, "absent": 0.1, "removed": 0.35}[kind] + rng.gauss(0, 0.12)
        signals = {name: rng.gauss(0, 1) for name in train.SIGNALS}
        signals["passage_coverage"] = cover
        out.append(Example(f"q{i}", kind, int(kind == "answerable"), f"article{i % 8}", signals))
    return out


def test_training_learns_the_signal_that_separates_and_calibrates() -> None:
    examples = synthetic()
    model, figures = train.train(examples, allowed=0.2)
    weights = dict(zip(model.names, model.weights, strict=True))
    assert (
        max(weights, key=lambda n: abs(weights[n])) == "passage_coverage" and weights["passage_coverage"] > 0
    )
    kinds = figures["kinds"]
    assert set(kinds) == set(KINDS) and kinds["answerable"]["n"] == 80
    assert kinds["absent"]["auc"] > 0.95 and kinds["removed"]["auc"] > 0.8
    assert (kinds["absent"]["answered"] + kinds["removed"]["answered"]) / 2 <= 0.2
    again, _ = train.train(examples, allowed=0.2)
    assert again == model  # reproducible
    text = train.markdown(model, figures, 0.2)
    assert "passage_coverage" in text and f"{model.threshold:.2f}" in text


def test_threshold_is_the_lowest_that_keeps_the_false_answers_allowed() -> None:
    p = np.array([0.9, 0.8, 0.6, 0.3, 0.2, 0.1, 0.7, 0.4])
    kinds = np.array(["answerable"] * 3 + ["absent"] * 3 + ["removed"] * 2)
    threshold = train.choose_threshold(p, kinds, allowed=0.25)
    assert train.false_answer_rate(p, kinds, threshold) <= 0.25
    assert train.false_answer_rate(p, kinds, threshold - 0.01) > 0.25
    weights = train.balance(kinds)
    assert weights[kinds == "answerable"].sum() == pytest.approx(2 * weights[kinds == "absent"].sum())
    assert weights[kinds == "absent"].sum() == pytest.approx(weights[kinds == "removed"].sum())


def test_training_needs_both_labels() -> None:
    with pytest.raises(ValueError, match="positifs et négatifs"):
        train.train([e for e in synthetic() if e.label == 1])


PARAGRAPHS = {
    "lyon": [
        "Lyon est une ville de France située au confluent du Rhône et de la Saône.",
        "Sa population municipale est de 520 000 habitants en 2020.",
        "La ville est connue pour sa gastronomie et ses bouchons.",
    ],
    "nantes": [
        "Nantes est une ville de l'ouest de la France sur la Loire.",
        "Le château des ducs de Bretagne se trouve au centre de la ville.",
        "Les machines de l'île attirent de nombreux visiteurs chaque année.",
    ],
}


def piaf_folder(root: Path) -> Path:
    (root / "articles").mkdir(parents=True)
    lines = []
    for name, paragraphs in PARAGRAPHS.items():
        text = f"# {name.title()}\n\n" + "\n\n".join(paragraphs) + "\n"
        (root / "articles" / f"{name}.md").write_text(text, encoding="utf-8")
        for n, (q, answer) in enumerate(
            [
                ("Combien d'habitants compte la ville ?", "520 000"),
                ("Quel château se trouve au centre ?", "château des ducs"),
            ]
        ):
            if answer in text:
                start = text.index(answer)
                lines.append(
                    json.dumps(
                        {
                            "id": f"{name}{n}",
                            "q": q,
                            "article": name,
                            "start": start,
                            "end": start + len(answer),
                            "answer": answer,
                        }
                    )
                )
    (root / "answerable.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def test_examples_of_a_piaf_folder_hold_the_three_kinds(tmp_path: Path) -> None:
    folder = piaf_folder(tmp_path / "piaf")
    examples = piaf_examples(folder, FakeEncoder(), Settings(), tmp_path / "cut")
    by_kind = {k: [e for e in examples if e.kind == k] for k in KINDS}
    assert [len(by_kind[k]) for k in KINDS] == [2, 2, 2]
    assert all(e.label == (e.kind == "answerable") for e in examples)
    assert {e.group for e in examples} == {"lyon", "nantes"}
    assert all(set(e.signals) == set(train.SIGNALS) for e in examples)
    cut = (tmp_path / "cut" / "lyon").rglob("lyon.md")
    [written] = list(cut)
    assert "520 000" not in written.read_text(encoding="utf-8")  # the removed paragraph is gone
