"""The assembled app without the model: routes, errors, headers, CORS, staff access, feedback off.

The engine is the real one over the seed article with the fake encoder (``seed_engine`` from
``conftest.py``), so statuses other than smalltalk and invalid are not asserted here.
"""

from __future__ import annotations

import base64
import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from gradio_client import Client
from support.web import LiveServer, free_port

from qa.engine import Engine
from qa.web.config import WebSettings
from qa.web.export import COLUMNS
from qa.web.server import create_app

CONTRACT = {"question", "status", "message", "passages", "verified"}
PASSAGE = {"rank", "article", "section", "text", "highlight", "start", "end", "score"}
HTML = {"Accept": "text/html,application/xhtml+xml", "Accept-Encoding": "gzip, br"}


def auth(password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"equipe:{password}".encode()).decode()}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("app") / "feedback.sqlite3"


def client_for(engine: Engine, settings: WebSettings) -> TestClient:
    return TestClient(create_app(engine, settings), base_url="http://127.0.0.1:7860")


@pytest.fixture(scope="module")
def client(seed_engine: Engine, db: Path) -> Iterator[TestClient]:
    with client_for(seed_engine, WebSettings(feedback_db=db, rate_limit=1000)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def guarded(seed_engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = WebSettings(
        feedback_db=tmp_path_factory.mktemp("g") / "f.sqlite3",
        rate_limit=2,
        staff_password="s3cret",
        allowed_origins=("https://www.inserm.fr",),
    )
    with client_for(seed_engine, settings) as test_client:
        yield test_client


def assert_contract(body: dict, engine: Engine) -> None:
    assert CONTRACT <= set(body) <= CONTRACT | {"context"}
    assert body["status"] in {"answered", "related", "no_answer", "invalid", "smalltalk"}
    for passage in body["passages"]:
        assert set(passage) == PASSAGE
        source = engine.article_by_id(passage["article"]).source
        assert source[passage["start"] : passage["end"]] == passage["text"]
        assert passage["highlight"] in passage["text"]


def test_healthz(client: TestClient):
    body = client.get("/healthz").json()
    assert body["articles"] == 1 and body["index"] and body["model"] == "fake"
    assert body["feedback"] is True


def test_post_api_ask_returns_the_contract(client: TestClient, seed_engine: Engine):
    response = client.post("/api/ask", json={"question": "Sur quel animal a-t-on testé ?"})
    assert response.status_code == 200
    assert_contract(response.json(), seed_engine)
    assert client.post("/api/ask", json={"question": "Bonjour"}).json()["status"] == "smalltalk"
    empty = client.post("/api/ask", json={"question": "   "}).json()
    assert empty["status"] == "invalid" and "vide" in empty["message"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"pas du json", 400),
        (b"", 400),
        (b"\xff\xfe{}", 400),
        (b'["Qui ?"]', 422),
        (b'"Qui ?"', 422),
        (b'{"q": "Qui ?"}', 422),
        (b'{"question": 12}', 422),
        (b'{"question": null}', 422),
        (b'{"question": ["a"]}', 422),
        (b'{"question": "' + b"a" * (70 * 1024) + b'"}', 413),
    ],
)
def test_malformed_bodies_get_a_french_4xx(client: TestClient, body: bytes, status: int):
    response = client.post("/api/ask", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == status
    message = response.json()["error"]
    assert any(word in message for word in ("question", "JSON", "volumineuse"))


def test_oversized_stream_without_length_is_refused(client: TestClient):
    def chunks() -> Iterator[bytes]:
        yield b'{"question": "'
        for _ in range(80):
            yield b"a" * 1024
        yield b'"}'

    response = client.post("/api/ask", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413


def test_security_headers_everywhere(client: TestClient):
    for method, path in (
        ("GET", "/"),
        ("GET", "/healthz"),
        ("POST", "/api/ask"),
        ("GET", "/nulle-part"),
        ("GET", "/staff/"),
        ("GET", "/gradio.js"),
        ("GET", "/config"),
    ):
        response = client.request(method, path, headers=HTML)
        assert response.status_code < 500, path
        headers = response.headers
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["referrer-policy"] == "same-origin", path
        assert headers["content-security-policy"].startswith("frame-ancestors 'self' "), path
        assert "http://localhost:*" in headers["content-security-policy"]
        assert "x-frame-options" not in headers


@pytest.mark.parametrize("headers", [HTML, {"Accept": "*/*"}, {}])
def test_page_is_french(client: TestClient, headers: dict):
    page = client.get("/", headers=headers)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    head = page.text[:2000]
    assert 'lang="fr"' in head and 'lang="en"' not in head
    assert '"fr-FR"' in head  # Gradio's own strings follow navigator.language: made French
    assert "Questions sur l" in page.text and "Votre question" in page.text
    assert "fonts.googleapis" not in page.text and "cdn." not in page.text


def test_cors_allows_localhost_origins_only_by_default(client: TestClient):
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    ok = client.options("/api/ask", headers={"Origin": "http://localhost:5500", **preflight})
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == "http://localhost:5500"
    evil = client.options("/api/ask", headers={"Origin": "https://evil.example", **preflight})
    assert evil.status_code == 400 and "access-control-allow-origin" not in evil.headers
    simple = client.post("/api/ask", json={"question": "Bonjour"}, headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in simple.headers


def test_configured_origins_replace_the_default(guarded: TestClient):
    assert guarded.get("/healthz").headers["content-security-policy"] == (
        "frame-ancestors 'self' https://www.inserm.fr"
    )
    preflight = {"Access-Control-Request-Method": "POST"}
    allowed = guarded.options("/api/ask", headers={"Origin": "https://www.inserm.fr", **preflight})
    assert allowed.headers["access-control-allow-origin"] == "https://www.inserm.fr"
    local = guarded.options("/api/ask", headers={"Origin": "http://localhost:5500", **preflight})
    assert "access-control-allow-origin" not in local.headers


def test_staff_is_open_without_a_password(client: TestClient):
    assert client.get("/staff/", headers=HTML).status_code == 200
    assert client.get("/staff/export.csv").status_code == 200


def test_staff_needs_the_password_when_set(guarded: TestClient):
    for path in ("/staff", "/staff/", "/staff/export.csv", "/staff/config", "/staff/gradio_api/info"):
        refused = guarded.get(path, follow_redirects=False)
        assert refused.status_code == 401, path
        assert refused.headers["www-authenticate"].startswith("Basic ")
        assert "mot de passe" in refused.json()["error"]
        assert guarded.get(path, headers=auth("faux"), follow_redirects=False).status_code == 401
    assert guarded.get("/staff/", headers={**HTML, **auth("s3cret")}).status_code == 200
    assert guarded.get("/staff/export.csv", headers=auth("s3cret")).status_code == 200
    assert guarded.get("/", headers=HTML).status_code == 200  # the public page stays public


def test_question_log_csv_export(client: TestClient):
    client.post("/api/ask", json={"question": "Qui a rédigé l'article ?"})
    client.post("/api/ask", json={"question": "Merci"})
    response = client.get("/staff/export.csv")
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert response.text.startswith("\ufeff")  # a French spreadsheet reads UTF-8 after a BOM
    rows = list(csv.reader(io.StringIO(response.text[1:]), delimiter=";"))
    assert tuple(rows[0]) == COLUMNS
    questions = [r[COLUMNS.index("Question")] for r in rows[1:]]
    assert "Qui a rédigé l'article ?" in questions and "Merci" in questions
    only = client.get("/staff/export.csv?status=smalltalk").text[1:]
    smalltalk = list(csv.reader(io.StringIO(only), delimiter=";"))
    assert {r[COLUMNS.index("Statut")] for r in smalltalk[1:]} == {"Conversation"}
    assert client.get("/staff/export.csv?status=autre").status_code == 422


def test_rate_limit(guarded: TestClient):
    codes = [guarded.post("/api/ask", json={"question": "Bonjour"}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert "réessayez" in guarded.post("/api/ask", json={"question": "Bonjour"}).json()["error"]


def test_article_route(client: TestClient, seed_engine: Engine):
    article = seed_engine.articles[0]
    body = client.get(f"/api/articles/{article.id}").json()
    assert body["title"] == article.title and body["source"] == article.source
    assert [s["title"] for s in body["sections"]] == [s.title for s in article.sections]
    missing = client.get("/api/articles/inconnu")
    assert missing.status_code == 404 and "inconnu" in missing.json()["error"]


def test_web_component_script_is_served_locally(client: TestClient):
    script = client.get("/gradio.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    target = script.text.split('"')[1]  # import("./assets/index-….js")
    assert client.get(target.lstrip(".")).status_code == 200


def test_unwritable_feedback_keeps_answering(seed_engine: Engine, tmp_path: Path):
    blocker = tmp_path / "un-fichier"
    blocker.write_text("pas un dossier")
    settings = WebSettings(feedback_db=blocker / "feedback.sqlite3")
    with client_for(seed_engine, settings) as broken:
        assert broken.post("/api/ask", json={"question": "Bonjour"}).json()["status"] == "smalltalk"
        assert broken.get("/healthz").json()["feedback"] is False
        assert "Retours désactivés" in broken.get("/", headers=HTML).text
        assert broken.get("/staff/export.csv").status_code == 200  # empty log, not an error


def test_gradio_client_named_endpoint(seed_engine: Engine, db: Path):
    port = free_port()
    app = create_app(seed_engine, WebSettings(port=port, feedback_db=db))
    server = LiveServer(app, port).start()
    try:
        client = Client(server.url, verbose=False)
        assert "/ask" in client.view_api(print_info=False, return_format="dict")["named_endpoints"]
        body = client.predict("Bonjour", api_name="/ask")
        assert body["status"] == "smalltalk" and set(body) == CONTRACT
        assert_contract(client.predict("Qui a rédigé l'article ?", api_name="/ask"), seed_engine)
    finally:
        server.stop()


def test_api_history_and_article(client: TestClient, seed_engine: Engine) -> None:
    earlier = "Que sait-on sur l'indole-3-carbinol et les choux ?"
    alone = client.post("/api/ask", json={"question": "Et sans elle, que se passe-t-il ?"}).json()
    follow = client.post(
        "/api/ask", json={"question": "Et sans elle, que se passe-t-il ?", "history": ["Bonjour", earlier]}
    ).json()
    assert_contract(follow, seed_engine)
    assert "context" not in alone and follow["context"] == {"from": earlier}
    # more than five earlier questions: the last five are kept, nothing is refused
    long = client.post(
        "/api/ask", json={"question": "Et sans elle ?", "history": ["x" * 900] * 30 + [earlier]}
    )
    assert long.status_code == 200 and long.json()["context"] == {"from": earlier}
    scoped = client.post("/api/ask", json={"question": "leucemie fer", "article": "000_77dfe58a8330a326"})
    assert {p["article"] for p in scoped.json()["passages"]} == {"000_77dfe58a8330a326"}


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"question": "fer", "history": "Parlez-moi du fer."}, 422, "history"),
        ({"question": "fer", "history": [1, 2]}, 422, "history"),
        ({"question": "fer", "history": {"q": "x"}}, 422, "history"),
        ({"question": "fer", "article": 3}, 422, "article"),
        ({"question": "fer", "article": "absent"}, 404, "Article inconnu : absent"),
    ],
)
def test_api_history_and_article_errors(client: TestClient, body: dict, status: int, words: str) -> None:
    response = client.post("/api/ask", json=body)
    assert response.status_code == status
    assert words in response.json()["error"]


def test_gradio_ask_with_history_and_article(tmp_path: Path):
    """Gradio ``/ask`` has the contract of ``POST /api/ask``: history, article, French errors."""
    import httpx
    from support.fakes import fake_engine_for
    from support.paths import DATA, SEED

    engine = fake_engine_for((SEED, DATA / "cafe_sommeil.md"), tmp_path / "index")
    port = free_port()
    server = LiveServer(
        create_app(engine, WebSettings(port=port, feedback_db=tmp_path / "f.sqlite3")), port
    ).start()
    try:
        client = Client(server.url, verbose=False)
        parameters = client.view_api(print_info=False, return_format="dict")["named_endpoints"]["/ask"]
        assert [p["parameter_name"] for p in parameters["parameters"]] == ["question", "history", "article"]
        earlier = "Que sait-on sur l'indole-3-carbinol et les choux ?"
        follow = client.predict("Et sans elle, que se passe-t-il ?", ["Bonjour", earlier], api_name="/ask")
        assert_contract(follow, engine)
        assert follow["context"] == {"from": earlier}
        assert "context" not in client.predict("Et sans elle, que se passe-t-il ?", api_name="/ask")
        # the same answer as POST /api/ask with the same history
        same = httpx.post(
            server.url + "api/ask",
            json={"question": "Et sans elle, que se passe-t-il ?", "history": ["Bonjour", earlier]},
        ).json()
        assert same == follow
        scoped = client.predict(question="leucemie fer cafe", article="cafe_sommeil", api_name="/ask")
        assert scoped["passages"] and {p["article"] for p in scoped["passages"]} == {"cafe_sommeil"}
        with pytest.raises(Exception, match="Article inconnu : absent"):
            client.predict(question="fer", article="absent", api_name="/ask")
        refused = httpx.post(server.url + "gradio_api/call/ask", json={"data": ["fer", [1, 2], None]})
        assert refused.status_code == 422 and "history" in refused.json()["error"]
        wrong = httpx.post(server.url + "gradio_api/call/ask", json={"data": ["fer", None, 3]})
        event = wrong.json()["event_id"]
        stream = httpx.get(server.url + f"gradio_api/call/ask/{event}").text
        assert "event: error" in stream and "Article inconnu : 3" in stream
    finally:
        server.stop()
