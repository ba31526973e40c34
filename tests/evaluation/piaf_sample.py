"""A PIAF folder of two one-paragraph articles, for the data set and suite tests."""

from __future__ import annotations

import json
from pathlib import Path

PARAGRAPHS = [
    "Le café contient de la caféine, qui retarde l'endormissement de plusieurs heures.",
    "Le vélo en ville réduit la pollution de l'air et le bruit des rues.",
]


def write_piaf(folder: Path) -> None:
    (folder / "articles").mkdir(parents=True)
    for number, text in enumerate(PARAGRAPHS, 1):
        title = ["Café", "Vélo"][number - 1]
        (folder / "articles" / f"piaf_{number:03d}.md").write_text(f"# {title}\n\n{text}\n", encoding="utf-8")
    source = (folder / "articles" / "piaf_001.md").read_text(encoding="utf-8")
    start = source.index("caféine")
    rows = [
        {
            "id": "p1",
            "q": "Que contient le café ?",
            "article": "piaf_001",
            "start": start,
            "end": start + len("caféine"),
            "answer": "caféine",
        }
    ]
    (folder / "answerable.jsonl").write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    (folder / "oos.jsonl").write_text(
        json.dumps({"id": "o1", "q": "Qui a peint la Joconde ?", "from_title": "Joconde"}), encoding="utf-8"
    )
