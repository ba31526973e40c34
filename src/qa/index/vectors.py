"""The unit vectors in FAISS: exact search for small corpora, inverted lists for large ones."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import faiss
import numpy as np

from qa.article import Article
from qa.index.units import Unit, source_records, unit_text, units_of

if TYPE_CHECKING:
    from qa.encoders import Encoder

APPROXIMATE_THRESHOLD = 50_000  # exact search below this many units; IVF from there (qa bench)
IVF_PROBES = 64  # lists visited per query: recall@10 >= 0.98 on 100k synthetic units (qa bench)
SEARCH_THREADS = 1  # one query at a time: a second OpenMP thread makes exact search 3-7x slower


def exact_index(vectors: np.ndarray) -> faiss.Index:
    """Exact inner-product search over ``vectors``."""
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def approximate_index(vectors: np.ndarray) -> faiss.Index:
    """Inverted lists (IVF, 4·√n k-means lists, :data:`IVF_PROBES` visited per query).

    Chosen over HNSW on the synthetic corpora of ``qa bench``: at 100k units it builds in a
    fraction of HNSW's time and keeps recall@10 above 0.95 where HNSW(32) at efSearch 128 did not.
    The direct map lets :meth:`PassageIndex.vectors` read the vectors back.
    """
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    dimension = vectors.shape[1]
    lists = max(1, int(4 * np.sqrt(len(vectors))))
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dimension), dimension, lists, faiss.METRIC_INNER_PRODUCT)
    index.train(vectors)
    index.add(vectors)
    index.nprobe = min(IVF_PROBES, lists)
    index.make_direct_map()
    return index


def make_faiss_index(vectors: np.ndarray) -> faiss.Index:
    """Exact search below :data:`APPROXIMATE_THRESHOLD` units, the approximate index from there."""
    if len(vectors) < APPROXIMATE_THRESHOLD:
        return exact_index(vectors)
    return approximate_index(vectors)


def search_one(index: faiss.Index, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top ``k`` of ``index`` for one query vector, on :data:`SEARCH_THREADS` OpenMP threads.

    The thread count is the calling thread's own OpenMP setting (shared with torch), so it is
    restored afterwards: encoding a batch of passages later still gets every core.
    """
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(SEARCH_THREADS)
    try:
        return index.search(query.reshape(1, -1).astype(np.float32), k)
    finally:
        faiss.omp_set_num_threads(threads)


@dataclass
class PassageIndex:
    """Units, their vectors in FAISS, and the identity of what they were built from."""

    units: list[Unit]
    faiss_index: faiss.Index
    model_name: str
    model_fingerprint: str
    sources: list[dict[str, str]]
    model_extra: dict = field(default_factory=dict)  # what the encoder records (Encoder.index_extra)

    @cached_property
    def generation(self) -> str:
        """12 hex digits naming what was indexed: each article's id and text, and the model (once).

        Two processes serving the same articles with the same model say the same, whatever their
        folders (``/healthz``: has every process taken up the index ``qa index`` just wrote?).
        """
        what = [[s.get("id"), s.get("sha256")] for s in self.sources] + [self.model_fingerprint]
        return hashlib.sha256(json.dumps(what).encode()).hexdigest()[:12]

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` units for one query vector: ``(scores, unit ids)``."""
        k = min(k, len(self.units))
        scores, ids = search_one(self.faiss_index, query, k)
        keep = ids[0] >= 0
        return scores[0][keep], ids[0][keep]

    def vectors(self) -> np.ndarray:
        """All unit vectors, in unit order.

        From an exact index this is a read-only view of FAISS's own storage, not a second copy
        (the view keeps the FAISS index alive); the approximate index copies them out.
        """
        index = self.faiss_index
        if isinstance(index, faiss.IndexFlat):
            return np.asarray(_StorageView(index))
        return index.reconstruct_n(0, index.ntotal)


class _StorageView:
    """Exposes an exact FAISS index's vectors to numpy without copying, and owns the index."""

    def __init__(self, index: faiss.IndexFlat) -> None:
        self.index = index  # numpy keeps this object, hence the index, as the array's base
        self.__array_interface__ = {
            "shape": (index.ntotal, index.d),
            "typestr": "<f4",
            "version": 3,
            "data": (int(index.get_xb()), True),  # read-only
        }


def build(articles: list[Article], encoder: Encoder) -> PassageIndex:
    """Embed every unit of ``articles``, with what the encoder records beside them (its ``index_extra``)."""
    units = units_of(articles)
    texts = [unit_text(articles[u.article], u) for u in units]
    vectors = encoder.encode_passages(texts)
    return PassageIndex(
        units,
        make_faiss_index(vectors),
        encoder.name,
        encoder.fingerprint(),
        source_records(articles),
        encoder.index_extra(),
    )
