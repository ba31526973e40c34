"""The index folder: the vectors and ``manifest.json``, written atomically and checked on load.

The manifest records the format version, the model (name, fingerprint, dimension, and what its
encoder adds, opaque here), the checksum of every source article and of the vector file, and the
unit table. It is written last, so an interrupted build never leaves an index that looks complete.

The manifest is also the one switch point between two indexes: the vectors go to a file named after
their checksum (``units-<16 hex>.faiss``), beside the current one, and the manifest that names
them replaces the old one atomically. A reader (another process serving the old index, one
loading it) sees the old manifest and its vectors, or the new ones, never a mix. The vector file
the previous manifest named is kept one generation, for a reader that had just read it; older
ones are removed. An index written before this (``units.faiss``) loads as it is.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import faiss
import numpy as np

from qa.article import Article, sha256_of
from qa.errors import IndexProblem
from qa.index.units import Unit, source_records, units_of
from qa.index.vectors import PassageIndex, build

if TYPE_CHECKING:
    from qa.encoders import Encoder

# 2: units belong to passages (paragraph-sized), not whole sections;
# 3: the model block may carry the encoder's own entries (ModelRecord.extra)
FORMAT_VERSION = 3
MANIFEST = "manifest.json"
VECTORS = "units.faiss"  # the vector file of an index saved before content-addressed names (still read)
VECTOR_FILES = "units*.faiss"  # every vector file save() may write, current or older
PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")  # a file of the index folder, no path
READ_ATTEMPTS = 5  # manifests a reader follows when the vectors it named went meanwhile


def vectors_name(checksum: str) -> str:
    """The name of the vector file whose SHA-256 is ``checksum``: ``units-`` and its first 16 hex."""
    return f"units-{checksum[:16]}.faiss"


@dataclass(frozen=True)
class ModelRecord:
    """Which model embedded the units.

    ``extra``: what the encoder added (:meth:`qa.encoders.Encoder.index_extra`), kept as it is and
    handed back to it (:func:`qa.encoders.load_encoder`); written beside the three keys of its own.
    """

    name: str | None
    fingerprint: str | None
    dimension: int | None
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        """The manifest's ``model`` block."""
        block = {"name": self.name, "fingerprint": self.fingerprint, "dimension": self.dimension}
        return block | {key: value for key, value in self.extra.items() if key not in block}

    @classmethod
    def from_json(cls, block: object) -> ModelRecord:
        """Read the manifest's ``model`` block.

        Raises:
            TypeError: when one of its own three keys is missing.
        """
        if not isinstance(block, dict):
            return cls(name=None, fingerprint=None, dimension=None)
        own = ("name", "fingerprint", "dimension")
        extra = {key: value for key, value in block.items() if key not in own}
        return cls(**{key: block[key] for key in own if key in block}, extra=extra)


@dataclass(frozen=True)
class Manifest:
    """``manifest.json``: format, model, source articles, vector file checksum and the unit table."""

    model: ModelRecord
    sources: list[dict[str, str]]
    vectors_sha256: str
    units: list[Unit] = field(default_factory=list)
    format: int = FORMAT_VERSION
    vectors_file: str = VECTORS  # the vector file's name in the folder

    def to_json(self) -> dict:
        """The manifest as written."""
        return {
            "format": self.format,
            "model": self.model.to_json(),
            "sources": self.sources,
            "vectors": {"file": self.vectors_file, "sha256": self.vectors_sha256, "count": len(self.units)},
            "units": [asdict(u) for u in self.units],
        }

    def describes(self, index: PassageIndex) -> bool:
        """Whether ``index`` was loaded or built from the same articles, units and model.

        The vectors then are the same: the manifest was saved again, not changed.
        """
        return (
            _identities(self.sources) == _identities(index.sources)
            and self.units == index.units
            and (self.model.name, self.model.fingerprint) == (index.model_name, index.model_fingerprint)
        )

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
            record = ModelRecord.from_json(model)
        except TypeError as error:
            raise IndexProblem(f"index {folder} : {MANIFEST} illisible ({error})") from error
        sources = data.get("sources")
        vectors = vectors if isinstance(vectors, dict) else {}
        name = vectors.get("file", VECTORS)
        if not isinstance(name, str) or not PLAIN_NAME.fullmatch(name) or name == MANIFEST:
            raise IndexProblem(
                f"index {folder} : {MANIFEST} nomme un fichier de vecteurs invalide ({name!r})"
            )
        return cls(
            model=record,
            sources=sources if isinstance(sources, list) else [],
            vectors_sha256=vectors.get("sha256", ""),
            units=units,
            vectors_file=name,
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


def _named_vectors(folder: Path) -> str | None:
    """The vector file the manifest in ``folder`` names now, if it names one (whatever its format)."""
    try:
        name = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["vectors"].get("file", VECTORS)
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None
    return name if isinstance(name, str) else None


def _remove_older_vectors(folder: Path, keep: set[str | None]) -> None:
    """Remove the vector files of ``folder`` but those in ``keep``; one that will not go stays."""
    for path in folder.glob(VECTOR_FILES):
        if path.name not in keep:
            try:
                path.unlink()
            except OSError:
                pass  # removed by another writer, or not removable: it is only disk space


def save(index: PassageIndex, folder: Path) -> None:
    """Write the vectors under their checksum's name, then switch the manifest to them, atomically.

    Then remove the older vector files, but the one the previous manifest named: a reader that
    read that manifest just before the switch may still be opening it.
    """
    folder.mkdir(parents=True, exist_ok=True)
    vectors = faiss.serialize_index(index.faiss_index).tobytes()
    checksum = sha256_of(vectors)
    name = vectors_name(checksum)
    previous = _named_vectors(folder)
    _write_atomic(folder / name, vectors)
    model = ModelRecord(
        name=index.model_name,
        fingerprint=index.model_fingerprint,
        dimension=index.faiss_index.d,
        extra=index.model_extra,
    )
    manifest = Manifest(
        model=model, sources=index.sources, vectors_sha256=checksum, units=index.units, vectors_file=name
    )
    _write_atomic(folder / MANIFEST, json.dumps(manifest.to_json(), ensure_ascii=False, indent=1).encode())
    _remove_older_vectors(folder, {name, previous})


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
class CheckedIndex:
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


def check_sources(folder: Path, articles: list[Article]) -> CheckedIndex:
    """The checks of ``folder`` that need no model: format, articles, units, vector checksum.

    Cheap enough to run before loading the model, so that a stale index is refused at once. The
    vectors read are those the manifest names; when they went meanwhile (two newer indexes were
    saved since it was read), the new manifest is read and checked instead.

    Raises:
        IndexProblem: when anything is missing, corrupt or built from other sources.
    """
    records = source_records(articles)
    for _ in range(READ_ATTEMPTS):
        manifest = read_manifest(folder)
        if _identities(manifest.sources) != _identities(records):
            raise IndexProblem(f"index {folder} : les articles ont changé depuis sa construction")
        if manifest.units != units_of(articles):
            raise IndexProblem(f"index {folder} : découpage des passages périmé")
        name = manifest.vectors_file
        try:
            data = (folder / name).read_bytes()
        except FileNotFoundError as error:
            if _named_vectors(folder) != name:
                continue  # replaced meanwhile: check the index that took its place
            raise IndexProblem(f"index {folder} : {name} illisible ({error})") from error
        except OSError as error:
            raise IndexProblem(f"index {folder} : {name} illisible ({error})") from error
        if sha256_of(data) != manifest.vectors_sha256:
            raise IndexProblem(f"index {folder} : {name} corrompu (somme de contrôle différente)")
        return CheckedIndex(manifest=manifest, data=data)
    raise IndexProblem(f"index {folder} : remplacé {READ_ATTEMPTS} fois pendant sa lecture")


def fresh_sources(folder: Path, articles: list[Article]) -> CheckedIndex | None:
    """What :func:`check_sources` returns, or ``None`` when the index is missing or stale."""
    try:
        return check_sources(folder, articles)
    except IndexProblem:
        return None


def load(
    folder: Path, articles: list[Article], encoder: Encoder, checked: CheckedIndex | None = None
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
        raise IndexProblem(f"index {folder} : {checked.manifest.vectors_file} ne correspond pas au manifeste")
    return PassageIndex(
        units, faiss_index, encoder.name, model.fingerprint, checked.manifest.sources, model.extra
    )


def open_index(
    folder: Path,
    articles: list[Article],
    encoder: Encoder,
    rebuild: bool = True,
    checked: CheckedIndex | None = None,
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
