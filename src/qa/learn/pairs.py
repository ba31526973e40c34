"""Choose when two questions mean the same, on labelled pairs (``qa verified calibrate``).

A verified answer serves every question that means the same as the verified one
(:func:`qa.verified.means_same`). Serving a verified answer to a different question would show an
editor's choice where it does not belong, so the rule is chosen for precision: the loosest
thresholds that match **none** of the pairs that differ among our own questions, and at most
:data:`PIAF_FALSE_MATCHES` of PIAF's pairs asked on one article. Pairs:

- **rédigées** (``eval/pairs/paraphrases.jsonl``): hand-written rewordings of the dev sets' questions
  (``same: true``), and questions on the same topic that ask something else (``same: false``);
- **graphie**: each question of the question files as a visitor may type it (no accents, lower
  case, no question mark: :func:`qa.paraphrase.plain`): the same question;
- **article**: two questions of the question files whose gold spans do not meet, or an on-topic
  question the article does not answer beside any other: different questions;
- **PIAF**: two questions on one PIAF article: the same when their answer spans meet (rarely a
  rewording: volunteers asked about the same fact), different otherwise.
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.encoders import QueryEncoder
from qa.paraphrase import PairSignals, pair_signals, plain
from qa.settings import Typos, VerifiedTuning
from qa.textnorm import fold

PIAF_FALSE_MATCHES = 0.001
KINDS = ("rédigées", "graphie", "article", "PIAF")


@dataclass(frozen=True)
class Pair:
    """Two questions, whether they mean the same, and where the pair comes from."""

    a: str
    b: str
    same: bool
    kind: str


def hand_pairs(path: Path) -> list[Pair]:
    """The hand-written pairs of ``path`` (``{"a", "b", "same"}`` a line).

    Raises:
        ValueError: on a malformed line (the message gives it).
    """
    pairs = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                item = json.loads(line)
                pairs.append(Pair(str(item["a"]), str(item["b"]), bool(item["same"]), "rédigées"))
            except (json.JSONDecodeError, KeyError, TypeError) as error:
                raise ValueError(f"{path}:{number} : ligne invalide ({error})") from error
    return pairs


def question_pairs(rows: Iterable[dict]) -> list[Pair]:
    """Pairs from question files' lines (``q`` and ``gold``; conversations are skipped)."""
    answerable, unanswered = [], []
    for row in rows:
        if "q" in row:
            (answerable if row.get("gold") else unanswered).append(row)
    asked = answerable + unanswered
    pairs = [Pair(r["q"], plain(r["q"]), True, "graphie") for r in asked if plain(r["q"]) != r["q"]]
    for r, s in itertools.combinations(answerable, 2):
        gold_r, gold_s = [fold(g) for g in r["gold"]], [fold(g) for g in s["gold"]]
        if not any(x in y or y in x for x in gold_r for y in gold_s):
            pairs.append(Pair(r["q"], s["q"], False, "article"))
    for r in unanswered:
        pairs += [Pair(r["q"], s["q"], False, "article") for s in answerable + unanswered if s is not r]
    return [p for p in pairs if p.same or plain(p.a) != plain(p.b)]  # a question in two files


def piaf_pairs(answerable: Path) -> list[Pair]:
    """Pairs of questions on one PIAF article: the same when their answers' spans meet."""
    by_article: dict[str, list[dict]] = defaultdict(list)
    for line in answerable.read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            by_article[item["article"]].append(item)
    pairs = []
    for items in by_article.values():
        for r, s in itertools.combinations(items, 2):
            if r["q"] != s["q"]:
                meet = r["start"] < s["end"] and s["start"] < r["end"]
                pairs.append(Pair(r["q"], s["q"], meet, "PIAF"))
    return pairs


def signals(pairs: Sequence[Pair], encoder: QueryEncoder, typos: Typos) -> list[PairSignals]:
    """Each pair's signals, its questions encoded once."""
    texts = sorted({q for p in pairs for q in (p.a, p.b)})
    vectors = dict(zip(texts, encoder.encode_queries([plain(t) for t in texts]), strict=True))
    return [pair_signals(p.a, p.b, float(vectors[p.a] @ vectors[p.b]), typos) for p in pairs]


def _matched(found: Sequence[PairSignals], tuning: VerifiedTuning) -> np.ndarray:
    """:func:`qa.verified.means_same` over many pairs at once (the grid tries thousands of rules)."""
    cosine = np.array([s.cosine for s in found])
    info = np.array([s.left_over_info for s in found])
    agree = np.array([not s.need_differs and not s.numbers_differ for s in found])
    reworded = (info <= tuning.left_over_info) & (cosine >= tuning.cosine)
    close = np.where(info == 0.0, cosine >= tuning.same_words_cosine, reworded)
    return agree & close


def rates(
    pairs: Sequence[Pair], found: Sequence[PairSignals], tuning: VerifiedTuning
) -> dict[tuple[str, bool], float]:
    """Share of the pairs of each kind and label that the rule of ``tuning`` matches."""
    return _rates(_groups(pairs), _matched(found, tuning))


def _groups(pairs: Sequence[Pair]) -> dict[tuple[str, bool], np.ndarray]:
    keys = [(p.kind, p.same) for p in pairs]
    return {key: np.array([k == key for k in keys]) for key in sorted(set(keys))}


def _rates(groups: dict[tuple[str, bool], np.ndarray], matched: np.ndarray) -> dict[tuple[str, bool], float]:
    return {key: float(matched[mask].mean()) for key, mask in groups.items()}


def calibrate(pairs: Sequence[Pair], found: Sequence[PairSignals]) -> VerifiedTuning:
    """The loosest rule that matches no differing pair of ours and few of PIAF's.

    Loosest: most of the hand-written rewordings matched, then most typed variants; among equals,
    the strictest thresholds.

    Raises:
        ValueError: when no rule keeps every differing pair apart.
    """
    best: tuple[tuple[float, ...], VerifiedTuning] | None = None
    groups = _groups(pairs)
    for same_words in np.arange(0.85, 0.995, 0.005):
        for cosine in np.arange(0.90, 0.995, 0.005):
            for info in np.arange(2.0, 7.01, 0.5):
                tuning = VerifiedTuning(round(float(same_words), 3), round(float(cosine), 3), float(info))
                r = _rates(groups, _matched(found, tuning))
                if r.get(("rédigées", False), 0) or r.get(("article", False), 0):
                    continue
                if r.get(("PIAF", False), 0) > PIAF_FALSE_MATCHES:
                    continue
                key = (r.get(("rédigées", True), 0), r.get(("graphie", True), 0), same_words, cosine, -info)
                if best is None or key > best[0]:
                    best = (key, tuning)
    if best is None:
        raise ValueError("aucune règle ne sépare ces paires")
    return best[1]


def _french(x: float, digits: int) -> str:
    return f"{x:.{digits}f}".replace(".", ",")


def report(pairs: Sequence[Pair], found: Sequence[PairSignals], tuning: VerifiedTuning) -> str:
    """The Markdown table of docs/verification.md: pairs of each kind, and the share matched."""
    counts: dict[tuple[str, bool], int] = defaultdict(int)
    for pair in pairs:
        counts[(pair.kind, pair.same)] += 1
    r = rates(pairs, found, tuning)
    lines = [
        f"Règle choisie : même besoin, mêmes nombres, et cosinus ≥ {_french(tuning.same_words_cosine, 3)} "
        f"quand chaque mot a son pendant, sinon cosinus ≥ {_french(tuning.cosine, 3)} et aucun mot "
        f"restant d'informativité > {_french(tuning.left_over_info, 1)}.",
        "",
        "| paires | même sens | nombre | appariées par la règle |",
        "|---|---|---:|---:|",
    ]
    for kind in KINDS:
        for same in (True, False):
            if counts[(kind, same)]:
                share = r[(kind, same)]
                shown = f"{_french(100 * share, 1)} %"
                lines.append(f"| {kind} | {'oui' if same else 'non'} | {counts[(kind, same)]} | {shown} |")
    return "\n".join(lines) + "\n"
