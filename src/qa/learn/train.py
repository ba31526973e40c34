"""Train the decision: a logistic regression over the signals, calibrated on held-out folds.

``qa train FOLDER...`` (``make train``) builds the examples of each PIAF folder
(:mod:`qa.learn.examples`), fits the model with :func:`train` and writes ``decision.json`` beside
:mod:`qa.learn.model`, and its figures into docs/evaluation.md. Reproducible: folds and solver are
deterministic (fixed seed), and the examples depend only on the data and the embedding model.

- Weights: positives weigh as much as negatives, and the two kinds of negatives (absent article,
  removed paragraph) as much as each other, so that neither the easy nor the hard ones dominate.
- Calibration: the model's log-odds on grouped folds (no article in both the fitted and the scored
  part) are mapped to probabilities by a one-variable logistic fit (Platt); the same map is folded
  into the final weights.
- Threshold: the lowest probability at which, on those held-out folds, at most
  ``--false-answers`` of the negatives (the two kinds weighted equally) would be answered.

scikit-learn is needed here only (``pip install -e '.[train]'``); serving reads the JSON file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields

import numpy as np

from qa.decision import Evidence
from qa.learn.examples import KINDS, Example
from qa.learn.model import DecisionModel

SIGNALS = tuple(f.name for f in fields(Evidence) if f.name != "english")
SEED = 20261203
FOLDS = 6
FALSE_ANSWERS = 0.25  # share of negatives answered on held-out folds that the threshold allows
REGULARISATION = 1.0  # scikit-learn's C


def matrix(examples: Sequence[Example]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Signals (rows in ``SIGNALS`` order), labels, groups (articles) and kinds of ``examples``."""
    x = np.array([[e.signals[n] for n in SIGNALS] for e in examples], dtype=float)
    y = np.array([e.label for e in examples], dtype=int)
    return x, y, np.array([e.group for e in examples]), np.array([e.kind for e in examples])


def balance(kinds: np.ndarray) -> np.ndarray:
    """Sample weights: half the total to the positives, a quarter to each kind of negative."""
    shares = {"answerable": 0.5, "absent": 0.25, "removed": 0.25}
    w = np.zeros(len(kinds))
    for kind, share in shares.items():
        chosen = kinds == kind
        if chosen.any():
            w[chosen] = share * len(kinds) / chosen.sum()
    return w


def _fit(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Standardise, then fit: means, scales, weights and bias of the log-odds."""
    from sklearn.linear_model import LogisticRegression

    means, scales = x.mean(axis=0), x.std(axis=0)
    scales[scales == 0] = 1.0
    model = LogisticRegression(C=REGULARISATION, max_iter=5000, random_state=SEED)
    model.fit((x - means) / scales, y, sample_weight=w)
    return means, scales, model.coef_[0], float(model.intercept_[0])


def _log_odds(x: np.ndarray, fitted: tuple[np.ndarray, np.ndarray, np.ndarray, float]) -> np.ndarray:
    means, scales, coef, bias = fitted
    return ((x - means) / scales) @ coef + bias


def held_out_log_odds(x: np.ndarray, y: np.ndarray, w: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Each example's log-odds from a model fitted without its article (grouped k-fold)."""
    from sklearn.model_selection import GroupKFold

    out = np.zeros(len(y))
    for fitted_part, scored in GroupKFold(n_splits=min(FOLDS, len(set(groups)))).split(x, y, groups):
        out[scored] = _log_odds(x[scored], _fit(x[fitted_part], y[fitted_part], w[fitted_part]))
    return out


def platt(log_odds: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """``a, b`` such that ``σ(a · log_odds + b)`` is calibrated on these held-out log-odds."""
    from sklearn.linear_model import LogisticRegression

    fit = LogisticRegression(C=1e6, max_iter=5000, random_state=SEED)
    fit.fit(log_odds.reshape(-1, 1), y, sample_weight=w)
    return float(fit.coef_[0, 0]), float(fit.intercept_[0])


def false_answer_rate(p: np.ndarray, kinds: np.ndarray, threshold: float) -> float:
    """Share of negatives answered at ``threshold``, each kind of negative weighted equally."""
    rates = [float((p[kinds == k] >= threshold).mean()) for k in KINDS[1:] if (kinds == k).any()]
    return sum(rates) / len(rates)


def choose_threshold(p: np.ndarray, kinds: np.ndarray, allowed: float) -> float:
    """The lowest probability at which at most ``allowed`` of the negatives are answered."""
    for threshold in np.round(np.arange(0.01, 1.0, 0.01), 2):
        if false_answer_rate(p, kinds, float(threshold)) <= allowed:
            return float(threshold)
    return 0.99


def train(examples: Sequence[Example], allowed: float = FALSE_ANSWERS) -> tuple[DecisionModel, dict]:
    """The calibrated model and a report of its held-out figures.

    Raises:
        ValueError: when the examples lack a positive or a negative.
    """
    x, y, groups, kinds = matrix(examples)
    if len(set(y.tolist())) < 2:
        raise ValueError("il faut des exemples positifs et négatifs")
    w = balance(kinds)
    held_out = held_out_log_odds(x, y, w, groups)
    a, b = platt(held_out, y, w)
    p = 1 / (1 + np.exp(-(a * held_out + b)))
    threshold = choose_threshold(p, kinds, allowed)
    means, scales, coef, bias = _fit(x, y, w)
    model = DecisionModel(
        names=SIGNALS,
        means=tuple(round(float(v), 6) for v in means),
        scales=tuple(round(float(v), 6) for v in scales),
        weights=tuple(round(float(a * v), 6) for v in coef),
        bias=round(a * bias + b, 6),
        threshold=threshold,
    )
    return model, report(p, y, kinds, threshold)


def report(p: np.ndarray, y: np.ndarray, kinds: np.ndarray, threshold: float) -> dict:
    """Held-out figures: examples per kind, share answered at the threshold, AUCs against positives."""
    from sklearn.metrics import roc_auc_score

    out: dict = {"threshold": threshold, "kinds": {}}
    for kind in KINDS:
        chosen = kinds == kind
        if not chosen.any():
            continue
        entry = {"n": int(chosen.sum()), "answered": round(float((p[chosen] >= threshold).mean()), 3)}
        if kind != "answerable" and (kinds == "answerable").any():
            both = (kinds == "answerable") | chosen
            entry["auc"] = round(float(roc_auc_score(y[both], p[both])), 3)
        out["kinds"][kind] = entry
    return out


def markdown(model: DecisionModel, figures: dict, allowed: float) -> str:
    """The model and its held-out figures as Markdown, for docs/evaluation.md."""
    lines = [
        "| signal | mean | scale | weight (log-odds per scale) |",
        "|---|---:|---:|---:|",
        *(
            f"| {n} | {m:.4f} | {s:.4f} | {w:+.3f} |"
            for n, m, s, w in zip(model.names, model.means, model.scales, model.weights, strict=True)
        ),
        f"| bias | | | {model.bias:+.3f} |",
        "",
        f"Threshold: answered from a probability of **{model.threshold:.2f}**, the lowest at which at "
        f"most {allowed:.0%} of the held-out negatives (both kinds weighted equally) are answered.",
        "",
        "| held-out examples (grouped folds) | n | answered | AUC against the answerable ones |",
        "|---|---:|---:|---:|",
    ]
    for kind, entry in figures["kinds"].items():
        auc = f"{entry['auc']:.3f}" if "auc" in entry else "-"
        lines.append(f"| {kind} | {entry['n']} | {entry['answered']:.3f} | {auc} |")
    return "\n".join(lines)
