"""The question log as a CSV file that a French spreadsheet opens as it is.

A French-locale Excel or LibreOffice splits cells on ``;`` and reads a decimal comma; it reads
UTF-8 only after a byte-order mark. So the export has ``;`` between cells, a BOM, French column
names and values (« Répondu », « utile »), times in the newsroom's time zone with their UTC
offset, and decimal commas. Text a spreadsheet would run as a formula is neutralised.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

from qa.web.diagnostics import french_number
from qa.web.feedback import LoggedQuestion
from qa.web.render import status_label

BOM = "\ufeff"
NEWSROOM_ZONE = ZoneInfo("Europe/Paris")  # the default of QA_TIMEZONE
COLUMNS = (
    "N°",
    "Heure",
    "Question",
    "Lue à la suite de",
    "Statut",
    "Avis",
    "Phrase citée",
    "Passages cités",
    "Score du premier passage",
)
VERDICT_WORDS = {"up": "utile", "down": "pas utile"}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
MINUS_LOOKALIKES = "\u2212\u2010\u2011\u2012\u2013\u2014"  # not folded to "-" by NFKC


def local_time(stamp: str, zone: tzinfo) -> str:
    """``2026-12-03T14:38:01+00:00`` → ``2026-12-03 15:38:01 +01:00`` in ``zone`` (text kept if odd)."""
    try:
        moment = datetime.fromisoformat(stamp).astimezone(zone)
    except ValueError:
        return stamp
    offset = moment.strftime("%z")
    return f"{moment:%Y-%m-%d %H:%M:%S} {offset[:3]}:{offset[3:]}"


def decimal(value: object) -> str:
    """A score with a decimal comma (``0,9100``); ``""`` for anything that is not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return ""
    return french_number(value)


def cited(passages: list[dict]) -> str:
    """Where each cited passage lies: ``Section (article a1, caractères 10-90)``, one per line."""
    places = []
    for p in passages:
        if isinstance(p, dict):
            places.append(
                f"{p.get('section', '')} (article {p.get('article', '')},"
                f" caractères {p.get('start', '')}-{p.get('end', '')})"
            )
    return "\n".join(places)


def french_csv(rows: Iterable[LoggedQuestion], zone: tzinfo) -> str:
    """The log as CSV text for a French spreadsheet: BOM, ``;``, French labels, local times."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        first = row.passages[0] if row.passages and isinstance(row.passages[0], dict) else {}
        cells = (
            row.id,
            local_time(row.asked_at, zone),
            row.question,
            row.context or "",
            status_label(row.status),
            VERDICT_WORDS.get(row.feedback or "", ""),
            row.cited_sentence,
            cited(row.passages),
            decimal(first.get("score")),
        )
        writer.writerow([neutralised(value) for value in cells])
    return BOM + out.getvalue()


def neutralised(value: object) -> object:
    """Neutralise text that a spreadsheet would run as a formula (CSV injection) with a quote.

    The test is made after removing invisible characters (soft hyphen, format and other
    zero-width characters, spaces) and on the compatibility form, so full-width ``＝`` counts as
    ``=``; each ``;``-separated piece is checked too, in case a spreadsheet splits on ``;`` despite
    the quotes.
    """
    if not isinstance(value, str):
        return value
    pieces = value.split(";")
    return ";".join("'" + piece if _formula(piece) else piece for piece in pieces)


def _formula(text: str) -> bool:
    """Whether ``text`` starts like a formula once invisible characters are left out."""
    shown = next(
        (ch for ch in text if ch in "\t\r\n" or unicodedata.category(ch) not in ("Cf", "Zs", "Mn")), ""
    )
    return bool(shown) and (
        unicodedata.normalize("NFKC", shown).startswith(FORMULA_STARTS) or shown in MINUS_LOOKALIKES
    )
