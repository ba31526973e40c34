"""The passage index folder: build, save, load, every reason to refuse it, and never half written
(a full disk while saving, truncated files)."""

from __future__ import annotations

import gc
import hashlib
import json
import os
import shutil
import subprocess
import threading
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from support.fakes import FakeEncoder
from support.faults import articles_as_the_app_reads_them, enospc, fill, truncate_every_file
from support.paths import DATA, QA, REPO, SEED
from support.samples import CONTRACT

from qa.article import Article, PassageKind, load_article
from qa.engine import Engine, Settings
from qa.errors import IndexProblem
from qa.index import PassageIndex, build, open_index
from qa.index.store import FORMAT_VERSION, MANIFEST, load, read_manifest, save, vectors_name
from qa.index.units import MIN_SENTENCE_WORDS, unit_text, units_of
from qa.index.vectors import make_faiss_index


def vector_file(folder: Path) -> Path:
    """The vector file the manifest of ``folder`` names."""
    return folder / read_manifest(folder).vectors_file


@pytest.fixture
def articles() -> list[Article]:
    return [load_article(SEED), load_article(DATA / "cafe_sommeil.md")]


@pytest.fixture
def saved(tmp_path: Path, articles: list[Article]) -> Path:
    folder = tmp_path / "index"
    save(build(articles, FakeEncoder()), folder)
    return folder


def test_units_cover_passages_sentences_and_pairs(articles: list[Article]) -> None:
    units = units_of(articles)
    for a, article in enumerate(articles):
        for p, passage in enumerate(article.passages):
            mine = [u for u in units if (u.article, u.passage) == (a, p)]
            metadata = passage.kind == PassageKind.METADATA
            alone = [
                s for s in passage.sentences if metadata or len(article.text(s).split()) >= MIN_SENTENCE_WORDS
            ]
            n = len(passage.sentences)
            assert [u.kind for u in mine].count("passage") == 1
            assert [u.kind for u in mine].count("titled") == (0 if metadata else 1)
            assert [u.kind for u in mine].count("sentence") == len(alone)
            assert [u.kind for u in mine].count("pair") == n - 1
            for unit in mine:
                assert passage.start <= unit.start < unit.end <= passage.end


def test_short_sentences_are_embedded_only_with_a_neighbour(tmp_path: Path) -> None:
    page = tmp_path / "court.md"
    page.write_text(
        "# Titre\n\nCinglé ? Les chercheurs ont testé la molécule chez la souris.\n", encoding="utf-8"
    )
    article = load_article(page)
    units = units_of([article])
    texts = {article.source[u.start : u.end] for u in units if u.kind == "sentence"}
    assert "Cinglé ?" not in texts
    assert "Les chercheurs ont testé la molécule chez la souris." in texts
    assert any(u.kind == "pair" and article.source[u.start : u.end].startswith("Cinglé") for u in units)


def test_titled_units_are_embedded_after_the_article_title(articles: list[Article]) -> None:
    units = units_of(articles)
    titled = next(u for u in units if u.kind == "titled")
    article = articles[titled.article]
    assert unit_text(article, titled) == f"{article.title}\n\n{article.source[titled.start : titled.end]}"


def test_exact_index_vectors_are_a_read_only_view_that_keeps_the_index_alive() -> None:
    data = np.arange(12, dtype=np.float32).reshape(3, 4)
    vectors = PassageIndex([], make_faiss_index(data), "fake", "fake-v1", []).vectors()
    gc.collect()  # the PassageIndex is gone; the view must still own FAISS's storage
    np.testing.assert_array_equal(vectors, data)
    assert not vectors.flags.writeable and not vectors.flags.owndata  # no second copy
    with pytest.raises(ValueError, match="read-only"):
        vectors[0, 0] = 1.0


def test_round_trip(saved: Path, articles: list[Article]) -> None:
    encoder = FakeEncoder()
    built = build(articles, FakeEncoder())
    loaded = load(saved, articles, encoder)
    assert encoder.passage_calls == 0  # loading never re-embeds
    assert loaded.units == built.units == units_of(articles)
    assert (loaded.model_name, loaded.model_fingerprint) == ("fake", "fake-v1")
    assert loaded.sources == built.sources
    np.testing.assert_array_equal(loaded.vectors(), built.vectors())
    texts = [unit_text(articles[u.article], u) for u in loaded.units]
    np.testing.assert_allclose(loaded.vectors(), encoder.encode_passages(texts), atol=1e-6)
    # the loaded index searches like the built one
    query = encoder.encode_queries(["cellules souches leucémiques fer"])[0]
    scores, ids = loaded.search(query, 5)
    expected_scores, expected_ids = built.search(query, 5)
    np.testing.assert_array_equal(ids, expected_ids)
    assert list(scores) == sorted(scores, reverse=True)
    assert len(ids) == 5


def test_search_never_returns_more_than_exists(saved: Path, articles: list[Article]) -> None:
    loaded = load(saved, articles, FakeEncoder())
    _, ids = loaded.search(FakeEncoder().encode_queries(["fer"])[0], 10_000)
    assert sorted(ids.tolist()) == list(range(len(loaded.units)))


def test_manifest(saved: Path, articles: list[Article]) -> None:
    manifest = json.loads((saved / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["format"] == FORMAT_VERSION
    assert manifest["model"] == {"name": "fake", "fingerprint": "fake-v1", "dimension": 64}
    assert manifest["sources"] == [
        {
            "id": a.id,
            "path": a.path,
            "sha256": hashlib.sha256(Path(a.path).read_bytes()).hexdigest(),
        }
        for a in articles
    ]
    vectors = vector_file(saved).read_bytes()
    checksum = hashlib.sha256(vectors).hexdigest()
    assert manifest["vectors"] == {
        "file": f"units-{checksum[:16]}.faiss",
        "sha256": checksum,
        "count": len(units_of(articles)),
    }
    assert len(manifest["units"]) == manifest["vectors"]["count"]
    assert manifest["units"][0] == {
        "article": 0,
        "passage": 0,
        "kind": "passage",
        "start": articles[0].passages[0].start,
        "end": articles[0].passages[0].end,
    }
    assert sorted(p.name for p in saved.iterdir()) == [MANIFEST, vectors_name(checksum)]


def refused(folder: Path, articles: list[Article], encoder: FakeEncoder | None = None) -> str:
    with pytest.raises(IndexProblem) as caught:
        load(folder, articles, encoder or FakeEncoder())
    message = str(caught.value)
    assert str(folder) in message
    return message


def test_refuses_changed_article(tmp_path: Path) -> None:
    article_path = tmp_path / "article.md"
    shutil.copy(DATA / "cafe_sommeil.md", article_path)
    folder = tmp_path / "index"
    save(build([load_article(article_path)], FakeEncoder()), folder)
    article_path.write_text(
        article_path.read_text(encoding="utf-8").replace("Lyon", "Lille"), encoding="utf-8"
    )
    assert "articles ont changé" in refused(folder, [load_article(article_path)])


def test_same_articles_by_another_path_need_no_rebuild(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "articles").mkdir()
    shutil.copy(DATA / "cafe_sommeil.md", tmp_path / "articles" / "cafe.md")
    folder = tmp_path / "index"
    save(build([load_article(tmp_path / "articles" / "cafe.md")], FakeEncoder()), folder)
    monkeypatch.chdir(tmp_path)
    relative = load_article(Path("articles") / "cafe.md")
    encoder = FakeEncoder()
    assert load(folder, [relative], encoder).units == units_of([relative])
    assert encoder.passage_calls == 0  # loaded, not re-embedded


def test_refuses_added_article(saved: Path, articles: list[Article]) -> None:
    more = [*articles, load_article(DATA / "velo_ville.html")]
    assert "articles ont changé" in refused(saved, more)


def test_refuses_other_model_fingerprint(saved: Path, articles: list[Article]) -> None:
    assert "a changé" in refused(saved, articles, FakeEncoder(version=2))


def test_refuses_other_model(saved: Path, articles: list[Article]) -> None:
    other = FakeEncoder()
    other.name = "autre"
    assert "'fake'" in refused(saved, articles, other)


@pytest.mark.parametrize("damage", ["flip", "truncate", "empty", "delete"])
def test_refuses_damaged_vectors(saved: Path, articles: list[Article], damage: str) -> None:
    path = vector_file(saved)
    data = path.read_bytes()
    if damage == "flip":
        path.write_bytes(data[:100] + bytes([data[100] ^ 0xFF]) + data[101:])
    elif damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        path.unlink()
    assert path.name in refused(saved, articles)


@pytest.mark.parametrize(
    "content",
    [None, b"", b"{", b"\xff\xfe garbage", b"[]", b'{"format": 99}', b'{"format": 1}'],
    ids=["truncated", "empty", "open-brace", "binary", "list", "other-format", "bare"],
)
def test_refuses_bad_manifest(saved: Path, articles: list[Article], content: bytes | None) -> None:
    path = saved / MANIFEST
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2] if content is None else content)
    refused(saved, articles)


def test_refuses_manifest_with_damaged_unit(saved: Path, articles: list[Article]) -> None:
    path = saved / MANIFEST
    path.write_text(path.read_text(encoding="utf-8").replace('"start"', '"stbrt"', 1), encoding="utf-8")
    refused(saved, articles)


def test_refuses_manifest_with_shifted_unit(saved: Path, articles: list[Article]) -> None:
    path = saved / MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["units"][3]["end"] += 1
    path.write_text(json.dumps(manifest), encoding="utf-8")
    assert "périmé" in refused(saved, articles)


def test_refuses_missing_index(tmp_path: Path, articles: list[Article]) -> None:
    assert MANIFEST in refused(tmp_path / "nowhere", articles)


def test_open_index_rebuilds_damaged_index(saved: Path, articles: list[Article]) -> None:
    vector_file(saved).write_bytes(b"not faiss")
    encoder = FakeEncoder()
    index = open_index(saved, articles, encoder)
    assert encoder.passage_calls == 1
    assert index.units == units_of(articles)
    assert not list(saved.glob("*.tmp"))
    reloaded = load(saved, articles, FakeEncoder())  # the rebuilt index was saved
    np.testing.assert_array_equal(reloaded.vectors(), index.vectors())


def test_open_index_builds_missing_index(tmp_path: Path, articles: list[Article]) -> None:
    folder = tmp_path / "deep" / "index"
    open_index(folder, articles, FakeEncoder())
    assert sorted(p.name for p in folder.iterdir()) == [MANIFEST, read_manifest(folder).vectors_file]
    encoder = FakeEncoder()
    open_index(folder, articles, encoder)
    assert encoder.passage_calls == 0  # second start: loaded, not rebuilt


def test_open_index_without_rebuild_raises(saved: Path, articles: list[Article]) -> None:
    (saved / MANIFEST).write_bytes(b"{")
    before = {p.name: p.read_bytes() for p in saved.iterdir()}
    with pytest.raises(IndexProblem, match=str(saved)):
        open_index(saved, articles, FakeEncoder(), rebuild=False)
    assert {p.name: p.read_bytes() for p in saved.iterdir()} == before  # left untouched


def test_open_index_with_unwritable_folder_answers_from_memory(
    tmp_path: Path, articles: list[Article]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    index = open_index(blocker / "index", articles, FakeEncoder())
    assert index.units == units_of(articles)


def test_no_rebuild_refuses_a_stale_index_before_loading_the_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import qa.engine

    def no_model(*args: object, **kwargs: object) -> None:
        raise AssertionError("the model was loaded although the index could be refused without it")

    monkeypatch.setattr(qa.engine, "load_encoder", no_model)
    settings = Settings(articles=(SEED,), index_dir=tmp_path / "index", rebuild=False)
    with pytest.raises(IndexProblem, match="manifest"):
        Engine.load(settings)


def test_no_rebuild_reads_and_hashes_the_vectors_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import qa.index.store

    settings = Settings(articles=(SEED,), index_dir=tmp_path / "index")
    Engine.load(settings, encoder=FakeEncoder())  # builds the index
    hashed: list[int] = []
    real = qa.index.store.sha256_of
    monkeypatch.setattr(qa.index.store, "sha256_of", lambda data: hashed.append(len(data)) or real(data))
    Engine.load(replace(settings, rebuild=False), encoder=FakeEncoder())
    assert len(hashed) == 1


def test_engine_load_respects_rebuild_setting(tmp_path: Path) -> None:
    settings = Settings(articles=(SEED,), index_dir=tmp_path / "index", rebuild=False)
    with pytest.raises(IndexProblem, match="index"):
        Engine.load(settings, encoder=FakeEncoder())
    Engine.load(Settings(articles=(SEED,), index_dir=tmp_path / "index"), encoder=FakeEncoder())
    engine = Engine.load(settings, encoder=FakeEncoder())
    assert engine.health() == {
        "index": str(tmp_path / "index"),
        "generation": engine.index.generation,
        "units": len(engine.index.units),
        "model": "fake",
        "articles": 1,
    }
    with pytest.raises(IndexProblem, match="a changé"):
        Engine.load(settings, encoder=FakeEncoder(version=2))


def test_the_generation_names_the_articles_and_the_model_not_the_folder(tmp_path: Path) -> None:
    def generation(folder: str, *articles: Path, version: int = 1) -> str:
        settings = Settings(articles=articles, index_dir=tmp_path / folder)
        return Engine.load(settings, encoder=FakeEncoder(version=version)).health()["generation"]

    seed = generation("a", SEED)
    assert len(seed) == 12 and generation("b", SEED) == seed  # another process's folder
    assert generation("c", SEED, DATA / "cafe_sommeil.md") != seed  # an article more
    assert generation("d", SEED, version=2) != seed  # another model


# --- the manifest as the one switch point between two indexes -------------------------------------


def three_article_sets() -> list[list[Article]]:
    return [
        [load_article(SEED)],
        [load_article(SEED), load_article(DATA / "cafe_sommeil.md")],
        [load_article(SEED), load_article(DATA / "cafe_sommeil.md"), load_article(DATA / "velo_ville.html")],
    ]


def test_save_keeps_the_previous_vectors_one_generation(tmp_path: Path, fake_encoder: FakeEncoder) -> None:
    folder = tmp_path / "index"
    names = []
    for articles in three_article_sets():
        save(build(articles, fake_encoder), folder)
        names.append(read_manifest(folder).vectors_file)
        assert vector_file(folder).is_file()
        assert load(folder, articles, fake_encoder).units == units_of(articles)
    assert len(set(names)) == 3 and all(n.startswith("units-") and n.endswith(".faiss") for n in names)
    # the vectors the previous manifest named stay (a reader may be opening them), older ones go
    assert sorted(p.name for p in folder.iterdir()) == sorted([MANIFEST, names[1], names[2]])
    save(build(three_article_sets()[2], fake_encoder), folder)  # the same index again: one file
    assert sorted(p.name for p in folder.iterdir()) == sorted([MANIFEST, names[2]])


def legacy(folder: Path, named: bool = True) -> None:
    """Turn the index in ``folder`` into one saved before content-addressed names: ``units.faiss``."""
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    vector_file(folder).rename(folder / "units.faiss")
    if named:
        manifest["vectors"]["file"] = "units.faiss"
    else:
        del manifest["vectors"]["file"]
    (folder / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")


@pytest.mark.parametrize("named", [True, False], ids=["named", "unnamed"])
def test_an_index_with_units_faiss_still_loads(
    saved: Path, articles: list[Article], fake_encoder: FakeEncoder, named: bool
) -> None:
    legacy(saved, named)
    assert load(saved, articles, fake_encoder).units == units_of(articles)
    assert fake_encoder.passage_calls == 0  # loaded, not rebuilt
    first, second, third = three_article_sets()
    save(build(first, fake_encoder), saved)
    assert (saved / "units.faiss").is_file()  # the previous manifest named it: kept one generation
    save(build(second, fake_encoder), saved)
    assert not (saved / "units.faiss").exists()
    assert load(saved, second, fake_encoder).units == units_of(second)


@pytest.mark.parametrize(
    "name", ["../units.faiss", "/etc/passwd", "sub/units.faiss", "..", ".hidden", "", 42, None, MANIFEST]
)
def test_refuses_a_manifest_naming_vectors_outside_the_folder(
    saved: Path, articles: list[Article], name: object
) -> None:
    path = saved / MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["vectors"]["file"] = name
    path.write_text(json.dumps(manifest), encoding="utf-8")
    assert "fichier de vecteurs invalide" in refused(saved, articles)


class Nudged(FakeEncoder):
    """The fake encoder, same name and fingerprint, with other passage vectors: another index file."""

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        vectors = super().encode_passages(texts) + 0.01
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_a_reader_whose_vectors_went_meanwhile_reads_the_index_that_replaced_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import qa.index.store

    folder = tmp_path / "index"
    _, second, third = three_article_sets()
    save(build(third, FakeEncoder()), folder)
    replacement = build(third, Nudged())
    real, manifests = qa.index.store.read_manifest, []

    def two_saves_after_the_first_read(path: Path) -> object:
        manifests.append(real(path))
        if len(manifests) == 1:  # the reader has the manifest, not yet the vectors it names
            save(build(second, FakeEncoder()), folder)
            save(replacement, folder)  # the vectors the first manifest named are gone
            assert not (folder / manifests[0].vectors_file).exists()
        return manifests[-1]

    monkeypatch.setattr(qa.index.store, "read_manifest", two_saves_after_the_first_read)
    index = load(folder, third, FakeEncoder())
    assert len(manifests) == 2
    np.testing.assert_array_equal(index.vectors(), replacement.vectors())


def load_what_the_manifest_says(folder: Path, sets: list[list[Article]], built: list[PassageIndex]) -> int:
    """Load the index of ``folder`` for the articles its manifest names: how many, 0 if replaced meanwhile.

    Raises:
        AssertionError: when the vectors loaded are not those built for these articles.
    """
    articles = sets[len(read_manifest(folder).sources) - 1]
    try:
        index = load(folder, articles, FakeEncoder())
    except IndexProblem as error:
        assert "articles ont changé" in str(error)  # another index since the manifest was read
        return 0
    expected = built[len(articles) - 1]
    assert index.units == expected.units, "the units of one index with the manifest of another"
    assert np.array_equal(index.vectors(), expected.vectors()), "the vectors of one index with another's"
    return len(articles)


def test_a_reader_never_sees_half_an_index_while_another_saves(tmp_path: Path) -> None:
    """Loads in a loop while another thread saves other indexes: each load is whole and consistent."""
    folder = tmp_path / "index"
    sets = three_article_sets()
    built = [build(articles, FakeEncoder()) for articles in sets]
    save(built[0], folder)
    stop, failures, loads = threading.Event(), [], Counter()

    def writer() -> None:
        for i in range(120):
            save(built[i % 3], folder)
        stop.set()

    def reader() -> None:
        while not stop.is_set():
            try:
                loads[load_what_the_manifest_says(folder, sets, built)] += 1
            except Exception as error:  # noqa: BLE001 - any failure is the test's
                failures.append(error)

    threads = [threading.Thread(target=reader) for _ in range(3)] + [threading.Thread(target=writer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures[:3]
    del loads[0]
    assert sum(loads.values()) >= 10 and len(loads) >= 2, loads
    assert len(list(folder.glob("units*.faiss"))) <= 2 and not list(folder.glob("*.tmp"))


# --- a full disk while saving, truncated files ----------------------------------------------------


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture
def two_indexes(tmp_path: Path, fake_encoder: object) -> tuple[Path, list, list]:
    """An index saved for the seed article, and a second article set that makes it stale."""
    first = [load_article(SEED)]
    second = [load_article(SEED), load_article(DATA / "cafe_sommeil.md")]
    folder = tmp_path / "index"
    save(build(first, fake_encoder), folder)
    return folder, first, second


def test_full_disk_while_saving_the_index_keeps_the_old_one(
    two_indexes, fake_encoder, monkeypatch: pytest.MonkeyPatch
):
    folder, first, second = two_indexes
    before = snapshot(folder)
    monkeypatch.setattr(os, "fsync", enospc)
    index = open_index(folder, second, fake_encoder)  # stale: rebuilt, saving fails
    monkeypatch.undo()
    assert len(index.units) > len(load(folder, first, fake_encoder).units)  # answers from memory
    assert snapshot(folder) == before  # the old files, byte for byte; no *.tmp left


def test_full_disk_between_vectors_and_manifest_is_caught(
    two_indexes, fake_encoder, monkeypatch: pytest.MonkeyPatch
):
    folder, first, second = two_indexes
    calls = []
    real_fsync = os.fsync

    def fsync_then_full(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 2:  # the vectors went in, the manifest does not
            enospc()
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync_then_full)
    open_index(folder, second, fake_encoder)
    monkeypatch.undo()
    assert not list(folder.glob("*.tmp"))
    with pytest.raises(IndexProblem, match=str(folder)):  # new vectors, old manifest: refused
        load(folder, second, fake_encoder)
    load(folder, first, fake_encoder)  # the old manifest still has its own vectors beside the new ones
    open_index(folder, second, fake_encoder)  # the next start rebuilds and saves both
    load(folder, second, fake_encoder)


def test_half_written_index_file_is_never_left(two_indexes, fake_encoder, monkeypatch: pytest.MonkeyPatch):
    folder, _, second = two_indexes
    before = snapshot(folder)
    real_fdopen = os.fdopen

    class HalfWriter:
        def __init__(self, stream: object) -> None:
            self.stream = stream

        def __enter__(self) -> HalfWriter:
            return self

        def __exit__(self, *exc: object) -> None:
            self.stream.close()

        def write(self, data: bytes) -> int:
            self.stream.write(data[: len(data) // 2])
            enospc()
            return 0

    monkeypatch.setattr(os, "fdopen", lambda fd, mode="r", *a, **k: HalfWriter(real_fdopen(fd, mode)))
    open_index(folder, second, fake_encoder)
    monkeypatch.undo()
    assert snapshot(folder) == before


def test_really_full_disk_while_saving_the_index(small_disk: Path, fake_encoder: object):
    folder = small_disk / "index"
    first = [load_article(SEED)]
    second = [
        load_article(SEED),
        load_article(DATA / "cafe_sommeil.md"),
        load_article(DATA / "velo_ville.html"),
    ]
    save(build(first, fake_encoder), folder)
    before = snapshot(folder)
    filler = fill(small_disk)
    index = open_index(folder, second, fake_encoder)
    assert len({u.article for u in index.units}) == 3  # answers from memory
    assert snapshot(folder) == before and not list(folder.glob("*.tmp"))
    filler.unlink()
    open_index(folder, second, fake_encoder)
    assert load(folder, second, fake_encoder).units == index.units


@pytest.mark.model
def test_qa_ask_on_a_truncated_copy_of_the_repository_index(
    real_engine: Engine, model_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    source = REPO / "index" if (REPO / "index" / MANIFEST).is_file() else None
    if source is None:
        pytest.skip("index/ is not built (make index)")
    copy = tmp_path / "index-copy"
    shutil.copytree(source, copy)
    truncate_every_file(copy)
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env |= {"QA_CACHE_DIR": str(model_cache), "PYTHONIOENCODING": "utf-8"}
    done = subprocess.run(
        [str(QA), "ask", "--json", "--index-dir", str(copy), "leucemie fer"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert "Traceback" not in done.stderr
    if done.returncode == 0:
        answer = json.loads(done.stdout)
        assert answer["status"] == "answered" and set(answer) == CONTRACT
        load(copy, articles_as_the_app_reads_them(monkeypatch), real_engine.encoder)  # rebuilt whole
        assert not list(copy.glob("*.tmp"))
    else:
        assert str(copy) in done.stderr
