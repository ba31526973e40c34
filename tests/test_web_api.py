"""``POST /api/ask`` on bad input (qa.web.api): odd questions get a French message or an answer,
malformed and random bodies a JSON 4xx and never a 5xx, the length limit follows the settings, and
a body that is not JSON gets a 415 and no row in the log; through a TestClient (``api``) and on the
app served in a subprocess (``running``).
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from support.fakes import fake_engine_for
from support.hardening import Running
from support.paths import SEED
from support.samples import CONTRACT
from support.web import client_for

NASTY = [
    # (question, expected status or None for "an ordinary answer", words of the French message)
    ("", "invalid", "vide"),
    ("   \t\n ", "invalid", "vide"),
    ("\x00\x00\x07", "invalid", "vide"),
    ("\u202e\u200b\u2066", "invalid", "vide"),
    ("\ud800", "invalid", "caractères invalides"),
    ("Qui a écrit \udfff ?", "invalid", "caractères invalides"),
    ("a" * 501, "invalid", "trop longue"),
    ("é " * 260, "invalid", "trop longue"),
    ("😀" * 400, "invalid", "aucun mot"),
    ("?!…", "invalid", "aucun mot"),
    ("a" * 500, None, ""),
    ("Anticonstitutionnellementimmunothérapiques" * 10, None, ""),
    ("😀" * 100 + " immunothérapie " + "🔥" * 100, None, ""),
    ("<img src=x onerror=alert(1)>", None, ""),
    ("<script>alert('x')</script> Qui a écrit l'article ?", None, ""),
    ("**gras** [lien](javascript:alert(1)) `code` # titre", None, ""),
    ("Qui\x00 a écrit\u202e l'article\r\n ?", None, ""),
    ("Bonjour", "smalltalk", ""),
]


@pytest.mark.parametrize(("question", "status", "words"), NASTY)
def test_nasty_questions_get_a_message_or_an_answer(
    api: TestClient, question: str, status: str | None, words: str
):
    body = json.dumps({"question": question})  # lone surrogates travel as \\udXXX escapes
    response = api.post("/api/ask", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 200
    answer = response.json()
    assert set(answer) == CONTRACT
    if status is None:
        assert answer["status"] in ("answered", "no_answer")
    else:
        assert answer["status"] == status
    assert words in answer["message"]
    answer["question"].encode("utf-8")  # always encodable: no lone surrogate echoed back


def test_control_and_bidi_characters_are_removed_from_the_echoed_question(api: TestClient):
    answer = api.post("/api/ask", json={"question": "Qui\x00 a écrit\u202e l'article\r\n ?"}).json()
    assert answer["question"] == "Qui a écrit l'article ?"


def test_question_length_limit_is_configurable(tmp_path: Path):
    engine = fake_engine_for((SEED,), tmp_path / "index", max_question_chars=20)
    with client_for(engine, tmp_path) as client:
        answer = client.post("/api/ask", json={"question": "Qui a écrit cet article ?"}).json()
    assert answer["status"] == "invalid" and "20 au plus" in answer["message"]


MALFORMED = [
    b"",
    b"pas du json",
    b"{",
    b'{"question": "Qui ?"',
    b'\xef\xbb\xbf{"question": "Bonjour"}',
    '{"question": "été"}'.encode("latin-1"),
    b"question=Qui",
    b"null",
    b"{}",
    b'{"question": NaN}',
    b'{"question": ' + b"9" * 5000 + b"}",
    b"[" * 50_000 + b"]" * 50_000,  # RecursionError in json.loads: was a 500
    b'{"question": ' + b"[" * 20_000 + b"]" * 20_000 + b"}",
    b'{"question": {"$ne": null}}',
    b'{"question": true}',
    b'{"question": "' + b"a" * (3 * 1024 * 1024) + b'"}',  # megabytes
]


@pytest.mark.parametrize("body", MALFORMED, ids=lambda b: repr(b[:20]))
def test_malformed_bodies_get_a_json_4xx(api: TestClient, body: bytes):
    response = api.post("/api/ask", content=body, headers={"Content-Type": "application/json"})
    assert 400 <= response.status_code < 500
    assert response.json()["error"]


@settings(max_examples=200, deadline=None, database=None)
@given(
    st.one_of(
        st.binary(max_size=300),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
            lambda inner: (
                st.lists(inner, max_size=4)
                | st.dictionaries(st.sampled_from(["question", "q", ""]), inner, max_size=3)
            ),
            max_leaves=12,
        ).map(lambda value: json.dumps(value).encode()),
    )
)
def test_any_body_gets_json_and_never_a_5xx(api: TestClient, body: bytes):
    response = api.post("/api/ask", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code < 500
    payload = response.json()
    assert set(payload) == CONTRACT if response.status_code == 200 else payload["error"]


def test_text_plain_api_ask_gets_415_and_is_not_logged(running: Running):
    before = httpx.get(running.url + "staff/export.csv").text
    response = httpx.post(
        running.url + "api/ask",
        content='{"question": "Qui a écrit l\'article ?"}',
        headers={"Content-Type": "text/plain", "Origin": "https://ailleurs.example"},
        timeout=30,
    )
    assert response.status_code == 415 and "JSON" in response.json()["error"]
    assert httpx.get(running.url + "staff/export.csv").text == before
