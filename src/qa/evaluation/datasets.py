"""Evaluation data in: our JSONL question files, the PIAF folder layout and SQuAD v1/v2 JSON.

Every reader gives a :class:`Dataset`: questions, and the corpus they are asked against (``None``
for our own files, which are asked against the configured articles). A question's gold is either
verbatim spans of the article (our files: a passage answers when it contains one) or exact
character offsets in an article file (PIAF and SQuAD: a passage answers when it covers them).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from qa.settings import default_cache_dir


@dataclass(frozen=True)
class Question:
    """One evaluation question: its text, earlier turns of a conversation, and its gold."""

    id: str
    text: str
    gold: tuple[str, ...] = ()
    kind: str = "answerable"
    article: str | None = None  # with start/end: the gold span by offsets in that article's file
    start: int | None = None
    end: int | None = None
    history: tuple[str, ...] = ()

    @property
    def answerable(self) -> bool:
        """Whether the corpus answers it."""
        return bool(self.gold) or self.article is not None


@dataclass(frozen=True)
class Dataset:
    """Questions and the articles they are about (``None``: the configured articles)."""

    name: str
    questions: list[Question]
    corpus: tuple[Path, ...] | None = None


def read_questions(path: Path) -> list[Question]:
    """Read one of our JSONL files: questions (``q``) or conversations (``turns``).

    A line is ``{"id", "q", "gold": [spans], "kind"}``, or ``{"id", "turns": [...], "gold"}`` whose
    last turn is asked after the others; no ``gold`` (or ``null``) means it must not be answered.

    Raises:
        ValueError: on a line that is not such an object (the message gives the line).
    """
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            turns = item["turns"] if "turns" in item else [item["q"]]
            if not turns or not all(isinstance(t, str) for t in turns):
                raise TypeError("turns/q doit être du texte")
            gold = tuple(item.get("gold") or ())
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"{path}:{number} : ligne invalide ({error})") from error
        default_kind = "conversation" if len(turns) > 1 else ("answerable" if gold else "out-of-scope")
        kind = item.get("kind") or default_kind
        questions.append(
            Question(
                id=str(item.get("id", number)),
                text=turns[-1],
                gold=gold,
                kind=kind,
                history=tuple(turns[:-1]),
            )
        )
    return questions


def read_piaf(folder: Path) -> Dataset:
    """Read the PIAF layout: ``articles/*.md``, ``answerable.jsonl`` (offsets), ``oos.jsonl``.

    Raises:
        ValueError: when the folder lacks articles or a file is malformed.
    """
    corpus = tuple(sorted((folder / "articles").glob("*.md")))
    if not corpus:
        raise ValueError(f"{folder} : pas d'articles (attendu : {folder / 'articles'}/*.md)")
    questions = []
    for name, kind in (("answerable.jsonl", "piaf"), ("oos.jsonl", "out-of-scope")):
        path = folder / name
        if not path.is_file():
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                offsets = {k: item[k] for k in ("article", "start", "end")} if kind == "piaf" else {}
                questions.append(Question(id=str(item["id"]), text=item["q"], kind=kind, **offsets))
            except (json.JSONDecodeError, KeyError, TypeError) as error:
                raise ValueError(f"{path}:{number} : ligne invalide ({error})") from error
    return Dataset(name=folder.name or str(folder), questions=questions, corpus=corpus)


def read_squad(path: Path, workdir: Path | None = None) -> Dataset:
    """Read a SQuAD v1/v2 JSON file (PIAF, FQuAD): one Markdown article per title, offsets kept.

    Each article is written as ``# title``, then its contexts separated by blank lines, into
    ``workdir`` (default: a folder of the cache named after the file's checksum), so that the
    engine reads it like any article and the gold offsets index that file. SQuAD v2 questions
    marked ``is_impossible`` must not be answered.

    Raises:
        ValueError: when the file is not SQuAD-shaped JSON.
    """
    raw = path.read_bytes()
    try:
        data = json.loads(raw)["data"]
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as error:
        raise ValueError(f"{path} : pas un fichier SQuAD ({error})") from error
    folder = workdir or default_cache_dir() / "eval" / hashlib.sha256(raw).hexdigest()[:16]
    folder.mkdir(parents=True, exist_ok=True)
    corpus, questions = [], []
    try:
        for number, entry in enumerate(data, 1):
            article_id = f"{number:03d}_{_slug(entry.get('title', ''))}"
            text, qas = _squad_article(entry, article_id)
            article = folder / f"{article_id}.md"
            if not article.is_file() or article.read_text(encoding="utf-8") != text:
                article.write_text(text, encoding="utf-8", newline="")
            corpus.append(article)
            questions.extend(qas)
    except (KeyError, TypeError, IndexError) as error:
        raise ValueError(f"{path} : entrée SQuAD invalide ({error})") from error
    return Dataset(name=path.stem, questions=questions, corpus=tuple(corpus))


def _squad_article(entry: dict, article_id: str) -> tuple[str, list[Question]]:
    """One SQuAD article as Markdown text, with its questions' offsets into that text."""
    title = " ".join(str(entry.get("title") or article_id).replace("_", " ").split())
    text = f"# {title}\n"
    questions = []
    for paragraph in entry["paragraphs"]:
        context = paragraph["context"].replace("\r\n", "\n").replace("\r", "\n")
        text += "\n"
        base = len(text)
        text += context.strip("\n") + "\n"
        shift = len(context) - len(context.lstrip("\n"))
        for qa in paragraph["qas"]:
            answers = qa.get("answers") or []
            if qa.get("is_impossible") or not answers:
                questions.append(Question(id=str(qa["id"]), text=qa["question"], kind="out-of-scope"))
                continue
            start = base + int(answers[0]["answer_start"]) - shift
            questions.append(
                Question(
                    id=str(qa["id"]),
                    text=qa["question"],
                    kind="squad",
                    article=article_id,
                    start=start,
                    end=start + len(answers[0]["text"]),
                )
            )
    return text, questions


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40] or "article"


def read_dataset(path: Path) -> Dataset:
    """Any supported input: a PIAF folder, a SQuAD ``.json`` file, or one of our JSONL files.

    Raises:
        ValueError: when the path is none of these or cannot be read.
    """
    if path.is_dir():
        return read_piaf(path)
    if not path.is_file():
        raise ValueError(f"{path} : fichier introuvable")
    if path.suffix.lower() == ".json":
        return read_squad(path)
    return Dataset(name=path.stem, questions=read_questions(path))
