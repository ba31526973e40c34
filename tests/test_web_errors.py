"""Every refusal of the web layer has one shape: ``{"error", "detail"}``, no-store, extra headers kept."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from qa.engine import Engine
from qa.web.config import WebSettings
from qa.web.errors import Refusal
from qa.web.server import create_app

JSON = {"content-type": "application/json"}


@pytest.fixture
def client(seed_engine: Engine, tmp_path: Path) -> Iterator[TestClient]:
    # 2: the 400 and the 413 of POST /api/ask fill the limit (neither its 415 nor a malformed Gradio
    # body is counted: a body that is not JSON is refused before the count, a bad one runs nothing)
    settings = WebSettings(feedback_db=tmp_path / "feedback.sqlite3", rate_limit=2, staff_password="secret")
    with TestClient(create_app(seed_engine, settings), base_url="http://127.0.0.1:7860") as client:
        yield client


def assert_refusal(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "detail"} and body["error"] == body["detail"] and body["error"]
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"].startswith("application/json")
    return body["error"]


def test_every_refusal_has_the_one_shape(client: TestClient):
    assert "JSON" in assert_refusal(client.post("/api/ask", content=b"x"), 415)
    assert_refusal(client.post("/api/ask", content=b"{", headers=JSON), 400)
    too_large = client.post("/api/ask", content=b" " * (65 * 1024), headers=JSON)
    assert "64 Ko" in assert_refusal(too_large, 413)
    assert assert_refusal(client.get("/nulle-part"), 404) == "Adresse inconnue."
    assert "Article inconnu" in assert_refusal(client.get("/api/articles/inconnu"), 404)
    staff = client.get("/staff/export.csv")
    assert "mot de passe" in assert_refusal(staff, 401)
    assert staff.headers["www-authenticate"].startswith("Basic ")
    password = {"authorization": "Basic " + base64.b64encode(b"x:secret").decode()}
    assert "Statut inconnu" in assert_refusal(client.get("/staff/export.csv?status=x", headers=password), 422)
    forged = client.get("/healthz", headers={"x-forwarded-for": "pas-une-adresse"})
    assert "X-Forwarded-For" in assert_refusal(forged, 400)
    gradio = client.post("/gradio_api/queue/join", content=b"[]", headers=JSON)
    assert_refusal(gradio, 400)
    limited = client.post("/api/ask", json={"question": "Qui ?"})
    assert "réessayez" in assert_refusal(limited, 429)
    assert 1 <= int(limited.headers["retry-after"]) <= 60


def test_refusal_closes_a_websocket():
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    async def receive() -> dict:
        return {"type": "websocket.connect"}

    asyncio.run(Refusal(404, "Adresse inconnue.").answer({"type": "websocket"}, receive, send))
    assert sent == [{"type": "websocket.close", "code": 1008}]


def test_refusal_keeps_status_message_and_headers():
    refusal = Refusal(503, "Occupé.", {"Retry-After": "5"})
    response = refusal.response()
    assert (refusal.status, refusal.message, str(refusal)) == (503, "Occupé.", "Occupé.")
    assert response.status_code == 503 and response.headers["retry-after"] == "5"
    assert response.body == '{"error":"Occupé.","detail":"Occupé."}'.encode()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"question": 12}, "question"),
        ({"question": "Qui ?", "history": ["Qui ?", {"SECRET": 1}]}, "history"),
        ({"question": "Qui ?", "article": ["SECRET"]}, "article"),
        (["SECRET"], "question"),
        ({"SECRET": "Qui ?"}, "question"),
    ],
)
def test_a_body_that_does_not_fit_names_its_field_in_french_and_never_its_value(
    client: TestClient, body: object, field: str
):
    refused = assert_refusal(client.post("/api/ask", json=body), 422)
    assert f"« {field} »" in refused and "SECRET" not in refused and "Input should" not in refused
