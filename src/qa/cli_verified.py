"""``qa verified``: the editors' verifications as evaluation data, and the rule that serves them.

- ``qa verified export``: the verifications in force, from the app's store, as a JSONL file in
  the format of ``../shared/eval/dev.jsonl`` (``qa eval`` reads it back): the editors' work
  becomes evaluation data;
- ``qa verified calibrate``: choose when a question means the same as a verified one, on
  labelled pairs (:mod:`qa.learn.pairs`), and write the figures into docs/verification.md.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

PAIRS = Path("eval/pairs/paraphrases.jsonl")


def add_verified_parser(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Declare ``qa verified export`` and ``qa verified calibrate``."""
    verified = commands.add_parser(
        "verified", parents=[common], help="les réponses vérifiées par la rédaction (export, seuil)"
    )
    actions = verified.add_subparsers(dest="action", required=True)
    export = actions.add_parser(
        "export", parents=[common], help="les vérifications en vigueur, en questions d'évaluation (JSONL)"
    )
    export.add_argument(
        "--store",
        help="le fichier SQLite de l'app, ou l'adresse de sa base (sqlite:///…, postgresql://…) "
        "(défaut : $QA_DATABASE_URL, sinon $QA_FEEDBACK_DB, data/feedback.sqlite3)",
    )
    export.add_argument("--out", type=Path, help="le fichier JSONL à écrire (défaut : la sortie standard)")
    calibrate = actions.add_parser(
        "calibrate", parents=[common], help="choisir quand deux questions ont le même sens"
    )
    calibrate.add_argument("files", type=Path, nargs="*", help="fichiers de questions JSONL (dev.jsonl…)")
    calibrate.add_argument("--pairs", type=Path, default=PAIRS, help=f"paires rédigées (défaut : {PAIRS})")
    calibrate.add_argument(
        "--piaf", type=Path, nargs="*", default=[], help="dossiers PIAF (leur answerable.jsonl)"
    )
    calibrate.add_argument(
        "--write", type=Path, metavar="DOC", help="écrire les chiffres dans DOC, entre <!-- qa verified -->"
    )


def run_verified(args: argparse.Namespace, engine) -> int:  # noqa: ANN001 - Engine is imported lazily
    """Run ``qa verified ACTION``."""
    return _export(args, engine) if args.action == "export" else _calibrate(args, engine)


def _export(args: argparse.Namespace, engine) -> int:  # noqa: ANN001
    from qa.verified import evaluation_rows
    from qa.web.config import WebSettings, parse_database_url
    from qa.web.feedback import FeedbackStore
    from qa.web.verifications import VerificationStore

    raw = args.store or WebSettings.from_env().store_url
    url = parse_database_url(raw) if "://" in raw else None
    if url is None or url.startswith("sqlite:"):
        path = Path(url.removeprefix("sqlite:///") if url else raw)
        if not path.is_file():
            raise ValueError(f"{path} : pas de journal (indiquez --store FICHIER ou --store ADRESSE)")
        url = f"sqlite:///{path}"
    store = FeedbackStore(url)
    records = VerificationStore(store).records()
    if not store.sqlite and not store.available:  # a file read-only is still read; a server down is not
        raise ValueError(f"{store.shown_url} : base indisponible ({store.problem})")
    verifications = [r.verification for r in records if r.in_force]
    rows = evaluation_rows(verifications, engine.articles)
    text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
        print(f"{len(rows)} vérification(s) écrite(s) dans {args.out}")
    else:
        print(text, end="")
    return 0


def _calibrate(args: argparse.Namespace, engine) -> int:  # noqa: ANN001
    from qa.figures import write_figures
    from qa.learn.pairs import calibrate, hand_pairs, piaf_pairs, question_pairs, report, signals

    rows = []
    for path in args.files:
        rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    pairs = hand_pairs(args.pairs) + question_pairs(rows)
    for folder in args.piaf:
        pairs += piaf_pairs(folder / "answerable.jsonl")
    found = signals(pairs, engine.encoder, engine.tuning.lexical.typos)
    text = report(pairs, found, calibrate(pairs, found))
    if args.write:
        write_figures(args.write, text, " ".join(["qa", *args.argv]), mark="qa verified")
    print(text)
    return 0
