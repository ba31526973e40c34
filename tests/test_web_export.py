"""The question log's CSV export, as a French-locale spreadsheet opens it."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from support.samples import LOGGED_ANSWER as ANSWER

from qa.web.export import BOM, COLUMNS, french_csv, local_time
from qa.web.feedback import FeedbackStore

PARIS = ZoneInfo("Europe/Paris")


def spreadsheet(text: str) -> list[list[str]]:
    """Read the export as a French spreadsheet does: a BOM, then cells split on ``;``."""
    assert text.startswith(BOM)
    return list(csv.reader(io.StringIO(text[len(BOM) :]), delimiter=";"))


def test_a_french_spreadsheet_reads_columns_labels_times_and_decimal_commas(tmp_path: Path):
    store = FeedbackStore(tmp_path / "f.sqlite3")
    store.record_feedback(store.log_question(ANSWER), ANSWER, "down")
    store.log_question(
        {"question": "Et chez l'homme ?", "status": "no_answer", "passages": [], "context": {"from": "Q1"}}
    )
    header, declined, answered = spreadsheet(french_csv(store.questions(), PARIS))
    assert tuple(header) == COLUMNS and len(declined) == len(answered) == len(COLUMNS)
    row = dict(zip(COLUMNS, answered, strict=True))
    assert row["Question"] == ANSWER["question"] and row["Statut"] == "Répondu"
    assert row["Avis"] == "pas utile" and row["Phrase citée"] == "chez la souris"
    assert row["Passages cités"] == "Immunothérapie (article a1, caractères 10-90)"
    assert row["Score du premier passage"] == "0,9100"
    assert row["Heure"][-6:] in ("+01:00", "+02:00") and row["Heure"][4] == "-"
    row = dict(zip(COLUMNS, declined, strict=True))
    assert row["Statut"] == "Sans réponse" and row["Avis"] == "" and row["Phrase citée"] == ""
    assert row["Lue à la suite de"] == "Q1" and row["Score du premier passage"] == ""


def test_times_are_local_with_their_offset_summer_and_winter():
    assert local_time("2026-12-03T14:38:01+00:00", PARIS) == "2026-12-03 15:38:01 +01:00"
    assert local_time("2026-07-01T10:00:00+00:00", PARIS) == "2026-07-01 12:00:00 +02:00"
    assert local_time("2026-07-01T10:00:00+00:00", ZoneInfo("UTC")) == "2026-07-01 10:00:00 +00:00"
    assert local_time("pas une date", PARIS) == "pas une date"


def test_a_taken_back_vote_shows_no_verdict(tmp_path: Path):
    store = FeedbackStore(tmp_path / "f.sqlite3")
    log_id = store.log_question(ANSWER)
    store.record_feedback(log_id, ANSWER, "up")
    store.record_feedback(log_id, ANSWER, "none")
    [row] = spreadsheet(french_csv(store.questions(), PARIS))[1:]
    assert row[COLUMNS.index("Avis")] == ""


def test_an_unusable_store_exports_the_header_only(tmp_path: Path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    store = FeedbackStore(blocker / "feedback.sqlite3")
    assert spreadsheet(french_csv(store.questions(), PARIS)) == [list(COLUMNS)]


@pytest.mark.parametrize(
    "question",
    [
        "=1+1",
        'a;=HYPERLINK("http://x")',
        "\u00ad=1+1",
        "\u061c+1",
        "\u180e-1",
        "\uff1d1+1",
        "\u200b@SUM(A1)",
        "\ufeff=1",
        " =1",
        "\u2212 1",
        "x ; -2+3",
    ],
)
def test_formulas_are_neutralised_behind_invisible_characters_and_lookalikes(tmp_path: Path, question: str):
    store = FeedbackStore(tmp_path / "f.sqlite3")
    store.log_question({"question": question, "status": "no_answer", "passages": []})
    [row] = spreadsheet(french_csv(store.questions(), PARIS))[1:]
    cell = row[COLUMNS.index("Question")]
    for piece in cell.split(";"):
        visible = "".join(ch for ch in piece if ch.isprintable() and not ch.isspace() and ch != "\u00ad")
        assert not visible or visible[0] not in "=+-@＝−", cell
