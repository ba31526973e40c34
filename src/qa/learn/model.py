"""The decision model as served: a calibrated logistic regression over named signals.

``decision.json`` beside this module holds, for each signal, its mean and scale (the
standardisation the model was fitted with) and its weight, then the bias and the probability
threshold from which a question is answered. Written by :mod:`qa.learn.train`; read here with
the standard library only, so serving needs no scikit-learn.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

MODEL_FILE = Path(__file__).with_name("decision.json")


@dataclass(frozen=True, kw_only=True)
class DecisionModel:
    """``P(answers) = σ(bias + Σ weight · (value − mean) / scale)``, answered from ``threshold``."""

    names: tuple[str, ...]
    means: tuple[float, ...]
    scales: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float

    def logit(self, signals: dict[str, float]) -> float:
        """The model's log-odds that the passage answers, from signals named as in ``names``.

        Raises:
            KeyError: when a signal the model reads is missing.
        """
        return self.bias + sum(
            w * (signals[n] - m) / s
            for n, m, s, w in zip(self.names, self.means, self.scales, self.weights, strict=True)
        )

    def probability(self, signals: dict[str, float]) -> float:
        """The calibrated probability that the passage answers."""
        return 1.0 / (1.0 + math.exp(-self.logit(signals)))

    def contributions(self, signals: dict[str, float]) -> dict[str, float]:
        """Each signal's share of the log-odds, for staff: which signal moved the decision."""
        return {
            n: w * (signals[n] - m) / s
            for n, m, s, w in zip(self.names, self.means, self.scales, self.weights, strict=True)
        }

    def slope(self, moves: dict[str, float]) -> float:
        """How fast the log-odds can move, at most, when each signal ``n`` moves by ``moves[n]`` units."""
        return sum(
            abs(w) / s * moves[n]
            for n, s, w in zip(self.names, self.scales, self.weights, strict=True)
            if n in moves
        )

    def to_json(self) -> dict:
        """The file's content."""
        return {
            "signals": [
                {"name": n, "mean": m, "scale": s, "weight": w}
                for n, m, s, w in zip(self.names, self.means, self.scales, self.weights, strict=True)
            ],
            "bias": self.bias,
            "threshold": self.threshold,
        }

    @classmethod
    def from_json(cls, data: dict) -> DecisionModel:
        """A model from the file's content.

        Raises:
            ValueError: when it is not a model's content.
        """
        try:
            signals = data["signals"]
            model = cls(
                names=tuple(str(s["name"]) for s in signals),
                means=tuple(float(s["mean"]) for s in signals),
                scales=tuple(float(s["scale"]) for s in signals),
                weights=tuple(float(s["weight"]) for s in signals),
                bias=float(data["bias"]),
                threshold=float(data["threshold"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"modèle de décision invalide ({error})") from error
        if any(s <= 0 for s in model.scales) or not 0.0 < model.threshold < 1.0:
            raise ValueError("modèle de décision invalide (échelle ou seuil hors bornes)")
        return model


@cache
def load(path: Path = MODEL_FILE) -> DecisionModel:
    """The model in ``path`` (by default the shipped one), read once.

    Raises:
        ValueError: when the file is missing or malformed.
    """
    try:
        return DecisionModel.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"modèle de décision illisible : {path.name} ({error})") from error
