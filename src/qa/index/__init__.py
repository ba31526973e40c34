"""The passage index: unit vectors in FAISS plus a JSON manifest, saved and checked as one folder.

A *unit* is what gets embedded (:mod:`qa.index.units`): a passage whole, after its article's title,
one of its sentences or two neighbouring ones; :mod:`qa.index.vectors` holds them in FAISS and
:mod:`qa.index.store` saves and checks the folder. The manifest records the format version, the
model (name, fingerprint, dimension, and what its encoder adds), the checksum of every source
article and of the vector file, and the unit table. Loading checks all of it; the manifest is
written last and names its vector file, so an interrupted build never leaves an index that looks
complete, and a reader sees the old index or the new one, never a mix.

Exported here: the index the engine searches, and how the engine and the command line build,
open and check it; the rest (the manifest's records, :func:`qa.index.store.load` and
:func:`qa.index.store.save`, the units, the FAISS indexes) is imported from its module.
"""

from __future__ import annotations

from qa.index.store import check_sources, fresh_sources, open_index, read_manifest
from qa.index.vectors import PassageIndex, build

__all__ = [
    "PassageIndex",
    "build",
    "check_sources",
    "fresh_sources",
    "open_index",
    "read_manifest",
]
