"""Would an ONNX Runtime encoder keep the answers? e5 exported to ONNX (float32), measured.

    pip install onnxruntime onnx        # not project dependencies (yet); or --packages DIR
    .venv/bin/python bench/onnx_path.py ../shared/eval/dev.jsonl ../shared/eval/dev_oos.jsonl \
        eval/extra.jsonl eval/extra_oos.jsonl

Exports the converted model once to a scratch folder, then prints: encoding speed (torch against
ONNX Runtime, one thread each), the largest vector difference, a cold start of the smallest ONNX
process that answers the encoder's part (tokenizers + onnxruntime, no torch) against a bare
``import sentence_transformers``, and every evaluation answer that changes when both the index
and the questions are encoded by ONNX Runtime. ``docs/performance.md`` reports the result.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

CHECKOUT = str(Path(__file__).resolve().parents[1])
if CHECKOUT not in sys.path:  # `python bench/onnx_path.py` too: bench.harness from here
    sys.path.insert(0, CHECKOUT)

COLD_PROBE = """
import sys, numpy as np, onnxruntime as ort
from tokenizers import Tokenizer
folder, model = sys.argv[1], sys.argv[2]
tokenizer = Tokenizer.from_file(folder + "/tokenizer.json")
options = ort.SessionOptions(); options.intra_op_num_threads = 1
session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
ids = np.array([tokenizer.encode("query: Qui est l'auteur ?").ids], dtype=np.int64)
session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})
"""


def export(model: object, path: Path) -> float:
    """Export the encoder's BERT to ONNX at ``path``; seconds taken."""
    import torch

    class Hidden(torch.nn.Module):
        def __init__(self, bert: torch.nn.Module) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    sample = model.tokenize(["query: Qui est l'auteur ?"])
    axes = {"b": 0, "t": 1}
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Hidden(model[0].auto_model).eval(),
            (sample["input_ids"], sample["attention_mask"]),
            str(path),
            input_names=["input_ids", "attention_mask"],
            output_names=["hidden"],
            dynamic_axes={
                n: {v: k for k, v in axes.items()} for n in ("input_ids", "attention_mask", "hidden")
            },
            opset_version=17,
            dynamo=False,
        )
    return time.perf_counter() - start


class OnnxEncoder:
    """The bundled encoder's tokenisation, pooling and normalisation around an ONNX session."""

    def __init__(self, torch_encoder: object, path: Path) -> None:
        """Open ``path`` on one thread; tokenise exactly as sentence-transformers does."""
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._model = torch_encoder._model
        self._fingerprint = "onnx-" + torch_encoder.fingerprint()
        self.name = torch_encoder.name + "-onnx"
        self.dimension = torch_encoder.dimension

    def _encode(self, texts: list[str]) -> np.ndarray:
        vectors = []
        for start in range(0, len(texts), 32):
            features = self._model.tokenize(texts[start : start + 32])
            mask = features["attention_mask"].numpy()
            hidden = self._session.run(
                None, {"input_ids": features["input_ids"].numpy(), "attention_mask": mask}
            )[0]
            pooled = (hidden * mask[..., None]).sum(1) / np.clip(mask.sum(1, keepdims=True), 1e-9, None)
            vectors.append(pooled / np.linalg.norm(pooled, axis=1, keepdims=True))
        return np.concatenate(vectors).astype(np.float32)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """``query: `` prefix, as the torch encoder."""
        return self._encode(["query: " + t for t in texts])

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        """``passage: `` prefix, as the torch encoder."""
        return self._encode(["passage: " + t for t in texts])

    def fingerprint(self) -> str:
        """Apart from the torch model's, so the index is built with ONNX vectors."""
        return self._fingerprint

    def index_extra(self) -> dict:
        """Nothing recorded: its vectors vouch for no other encoder."""
        return {}


def speed(encoders: dict[str, object]) -> None:
    """Print one-question encoding p50 / p95 of each encoder, interleaved."""
    from bench.harness import SAMPLE_QUESTIONS, Summary, timed

    samples: dict[str, list[float]] = {name: [] for name in encoders}
    for _ in range(6):
        for question in SAMPLE_QUESTIONS:
            for name, encoder in encoders.items():
                samples[name] += timed(lambda e=encoder, q=question: e.encode_queries([q]), 1)
    for name, durations in samples.items():
        print(f"{name:12} encode one question p50 / p95 (ms): {Summary.of(durations[8:])}")  # noqa: T201


def cold(folder: str, model: Path) -> None:
    """Print the cold start and peak RSS of the ONNX probe against a bare sentence-transformers import."""
    from bench.harness import percentile, run_measured

    onnx, bare = [], []
    for _ in range(3):
        bare.append(run_measured([sys.executable, "-c", "import sentence_transformers"]))
        onnx.append(
            run_measured(
                [sys.executable, "-c", COLD_PROBE, folder, str(model)],
                env={"PYTHONPATH": ":".join(sys.path[1:])},
            )
        )
    for name, runs in (
        ("bare import sentence_transformers", bare),
        ("onnx: import, load, encode one question", onnx),
    ):
        print(
            f"{name}: {percentile([r[0] for r in runs], 50):.2f} s, "  # noqa: T201
            f"peak RSS {max(r[1] for r in runs):.0f} MiB (median of 3)"
        )


def answers(questions: list, torch_engine: object, onnx_engine: object) -> None:
    """Print every answer whose status, cited sections or highlight differ."""
    changed = 0
    for question in questions:
        a, b = torch_engine.ask(question.text), onnx_engine.ask(question.text)
        seen = [(x.status, [(p.section, p.highlight) for p in x.passages]) for x in (a, b)]
        if seen[0] != seen[1]:
            changed += 1
            print(f"  {question.id}: {a.status.value} -> {b.status.value}")  # noqa: T201
    print(f"answers changed by ONNX Runtime: {changed} of {len(questions)}")  # noqa: T201


def main(argv: list[str]) -> int:
    """Export, then compare speed, cold start and answers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", type=Path, nargs="+")
    parser.add_argument("--packages", help="a folder holding onnx and onnxruntime (pip --target)")
    options = parser.parse_args(argv)
    if options.packages:
        sys.path.append(options.packages)
    from qa.engine import Engine, Settings
    from qa.evaluation import read_questions

    questions = [q for path in options.files for q in read_questions(path)]
    exact = Engine.load(Settings.from_env())
    with tempfile.TemporaryDirectory() as scratch:
        model = Path(scratch) / "e5.onnx"
        seconds = export(exact.encoder._model, model)
        print(f"export: {seconds:.1f} s, {model.stat().st_size / 1024**2:.0f} MiB")  # noqa: T201
        onnx = OnnxEncoder(exact.encoder, model)
        texts = [q.text for q in questions]
        gap = np.abs(onnx.encode_queries(texts) - exact.encoder.encode_queries(texts)).max()
        print(f"largest difference of a question vector component: {gap:.1e}")  # noqa: T201
        speed({"torch": exact.encoder, "onnxruntime": onnx})
        cold(str(Path(exact.encoder._model.tokenizer.name_or_path)), model)
        onnx_engine = Engine.load(Settings(index_dir=Path(scratch) / "index"), encoder=onnx)
        answers(questions, exact, onnx_engine)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
