"""The passage index: unit vectors in FAISS plus a JSON manifest, saved and checked as one folder.

A *unit* is what gets embedded (:mod:`qa.index.units`): a passage whole, after its article's title,
one of its sentences or two neighbouring ones; :mod:`qa.index.vectors` holds them in FAISS and
:mod:`qa.index.store` saves and checks the folder. The manifest
records the format version, the model (name, fingerprint, dimension), the checksum of every source
article and of the vector file, and the unit table. Loading checks all of it; the manifest is
written last, so an interrupted build never leaves an index that looks complete.
"""

from __future__ import annotations

from qa.index.store import (
    FORMAT_VERSION,
    MANIFEST,
    VECTORS,
    Checked,
    IndexProblem,
    Manifest,
    ModelRecord,
    check_sources,
    fresh_sources,
    load,
    open_index,
    read_manifest,
    save,
)
from qa.index.units import (
    MIN_SENTENCE_WORDS,
    Unit,
    UnitKind,
    source_records,
    unit_text,
    units_of,
)
from qa.index.vectors import (
    APPROXIMATE_THRESHOLD,
    IVF_PROBES,
    SEARCH_THREADS,
    PassageIndex,
    approximate_index,
    build,
    exact_index,
    make_faiss_index,
    search_one,
)

__all__ = [
    "APPROXIMATE_THRESHOLD",
    "Checked",
    "FORMAT_VERSION",
    "IVF_PROBES",
    "IndexProblem",
    "MANIFEST",
    "MIN_SENTENCE_WORDS",
    "Manifest",
    "ModelRecord",
    "PassageIndex",
    "SEARCH_THREADS",
    "Unit",
    "UnitKind",
    "VECTORS",
    "approximate_index",
    "build",
    "check_sources",
    "exact_index",
    "fresh_sources",
    "load",
    "make_faiss_index",
    "open_index",
    "read_manifest",
    "save",
    "search_one",
    "source_records",
    "unit_text",
    "units_of",
]
