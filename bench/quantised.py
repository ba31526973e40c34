"""Would a quantised encoder keep the answers? e5's linear layers in int8 (torch dynamic), measured.

    .venv/bin/python bench/quantised.py ../shared/eval/dev.jsonl ../shared/eval/dev_oos.jsonl \
        eval/extra.jsonl eval/extra_oos.jsonl

Builds a second index with the int8 encoder in a scratch folder, answers every evaluation
question with both engines, and prints the encoding speed of each and every answer that changes
(status, cited sections or highlighted sentence). ``docs/performance.md`` reports the result.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

CHECKOUT = str(Path(__file__).resolve().parents[1])
if CHECKOUT not in sys.path:  # `python bench/quantised.py` too: bench.harness from here
    sys.path.insert(0, CHECKOUT)


class Int8Encoder:
    """The bundled encoder with its linear layers quantised to int8 on the fly."""

    def __init__(self, float_encoder: object) -> None:
        """Quantise a copy of ``float_encoder``'s model; the original stays as it is."""
        import copy

        import torch

        self._float = float_encoder
        self._quantised = copy.copy(float_encoder)
        with warnings.catch_warnings():  # torch.ao is deprecated in favour of torchao (not here)
            warnings.simplefilter("ignore")
            self._quantised._model = torch.ao.quantization.quantize_dynamic(
                copy.deepcopy(float_encoder._model), {torch.nn.Linear}, dtype=torch.qint8
            )
        self.name = float_encoder.name + "-int8"
        self.dimension = float_encoder.dimension

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """As the float encoder, int8 arithmetic."""
        return self._quantised.encode_queries(texts)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        """As the float encoder, int8 arithmetic."""
        return self._quantised.encode_passages(texts)

    def fingerprint(self) -> str:
        """Differs from the float model's, so the index is built apart."""
        return "int8-" + self._float.fingerprint()

    def index_extra(self) -> dict:
        """Nothing recorded: its vectors vouch for no other encoder."""
        return {}


def describe(answer: object) -> tuple:
    """What a reader sees: status, cited sections in order, highlighted sentence of the first."""
    sections = tuple(p.section for p in answer.passages)
    highlight = answer.passages[0].highlight if answer.passages else ""
    return answer.status.value, sections, highlight


def main(argv: list[str]) -> int:
    """Compare the float and int8 encoders on the evaluation files."""
    from bench.harness import SAMPLE_QUESTIONS, Summary, timed
    from qa.engine import Engine, Settings
    from qa.evaluation import read_questions

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", type=Path, nargs="+")
    questions = [q for path in parser.parse_args(argv).files for q in read_questions(path)]
    exact = Engine.load(Settings.from_env())
    int8 = Int8Encoder(exact.encoder)
    with tempfile.TemporaryDirectory() as scratch:
        quantised = Engine.load(Settings(index_dir=Path(scratch)), encoder=int8)
        for name, encoder in (("float32", exact.encoder), ("int8", int8)):
            for q in SAMPLE_QUESTIONS:
                encoder.encode_queries([q])
            samples = [
                t
                for _ in range(5)
                for q in SAMPLE_QUESTIONS
                for t in timed(lambda q=q, e=encoder: e.encode_queries([q]), 1)
            ]
            print(f"{name:8} encode one question p50 / p95 (ms): {Summary.of(samples)}")  # noqa: T201
        changes = {"status": 0, "first cited section": 0, "any of status, sections, highlight": 0}
        for question in questions:
            before, after = describe(exact.ask(question.text)), describe(quantised.ask(question.text))
            changes["status"] += before[0] != after[0]
            changes["first cited section"] += before[1][:1] != after[1][:1]
            changes["any of status, sections, highlight"] += before != after
            if before[0] != after[0]:
                print(f"  {question.id} [{question.kind}] {before[0]} -> {after[0]}: {question.text}")  # noqa: T201
    for what, count in changes.items():
        print(f"answers whose {what} changed with int8: {count} of {len(questions)}")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
