"""Faults for the durability tests: a full disk, truncated files, and what must still load after.

``ENOSPC`` raised where a write would fail (:func:`enospc`), or a real small file system filled up
(the fixture ``small_disk``, a tmpfs that needs the right to mount; :func:`fill`); every file of a
folder cut in half (:func:`truncate_every_file`); the articles as the app reads them, to load an
index rebuilt by ``qa`` or the app. ``tests/conftest.py`` registers this module as a plugin.
"""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.paths import REPO


def enospc(*_: object, **__: object) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def mount_tmpfs(folder: Path, size: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True, check=False
    )
    if done.returncode != 0:
        pytest.skip("cannot mount a small file system here (needs root)")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 2 MB file system (tmpfs), unmounted afterwards; skipped when mounting is refused."""
    folder = tmp_path / "disk"
    mount_tmpfs(folder, "2m")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder: Path) -> Path:
    """Write a file until the file system is full; return it (delete it to free the space)."""
    filler = folder / "filler"
    with filler.open("wb", buffering=0) as stream:  # unbuffered: closing has nothing left to write
        try:
            while True:
                stream.write(b"\0" * 4096)
        except OSError as error:
            assert error.errno == errno.ENOSPC
    return filler


def truncate_every_file(folder: Path) -> None:
    for path in folder.iterdir():
        if path.is_file():
            data = path.read_bytes()
            path.write_bytes(data[: len(data) // 2])


def articles_as_the_app_reads_them(monkeypatch: pytest.MonkeyPatch) -> list:
    """The articles with the default setting (``articles``, relative to the checkout)."""
    from qa.engine import load_articles

    monkeypatch.chdir(REPO)
    return load_articles((Path("articles"),))
