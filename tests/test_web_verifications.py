"""Staff-verified answers, web side: the store, the staff API, and the engine answering from them.

Each test builds its own engine (the real one, fake encoder, over a copy of the seed article):
an engine holds the verifications it was given, so the session's shared ``seed_engine`` is not
used here. Questions are chosen by what this engine does without verifications (checked first).
"""

from __future__ import annotations

import base64
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from support.fakes import fake_engine_for
from support.paths import SEED
from support.web import serving

import qa.web.service
from qa.article import Span
from qa.engine import Engine
from qa.web.config import WebSettings
from qa.web.feedback import FeedbackStore
from qa.web.server import create_app
from qa.web.service import Assistant
from qa.web.verifications import VerificationStore, Withdrawal

DECLINED = "Combien de souris ont été utilisées ?"  # declined by this engine: a verification answers it
REWORDED = "combien de souris ont ete utilisees ?"  # the same question, no accents, lower case
ANSWERED = "Qui a écrit l'article ?"  # answered by this engine: an "absent" verification declines it
UNRELATED = "Quel rôle joue l'indole-3-carbinol ?"
JSON = {"Content-Type": "application/json"}
V3_SCHEMA = """
CREATE TABLE questions (id INTEGER PRIMARY KEY AUTOINCREMENT, asked_at TEXT NOT NULL,
    question TEXT NOT NULL, status TEXT NOT NULL, passages TEXT NOT NULL, context TEXT);
CREATE TABLE feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, question_id INTEGER REFERENCES questions(id),
    given_at TEXT NOT NULL, question TEXT NOT NULL, passages TEXT NOT NULL, status TEXT NOT NULL,
    verdict TEXT NOT NULL CHECK (verdict IN ('up', 'down', 'none')));
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO questions (asked_at, question, status, passages, context)
    VALUES ('2026-11-30T10:00:00+00:00', 'Ancienne question ?', 'answered', '[]', NULL);
INSERT INTO feedback (question_id, given_at, question, passages, status, verdict)
    VALUES (1, '2026-11-30T10:01:00+00:00', 'Ancienne question ?', '[]', 'answered', 'up');
PRAGMA user_version=3;
"""


def auth(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    articles = tmp_path / "articles"
    articles.mkdir()
    shutil.copy(SEED, articles / SEED.name)
    return fake_engine_for((articles,), tmp_path / "index")


@pytest.fixture(scope="module")
def refusing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    """One app for the requests it must refuse (none is stored): its client and its article's id."""
    engine = fake_engine_for((SEED,), tmp_path_factory.mktemp("refusing") / "index")
    with app_over(engine, tmp_path_factory.mktemp("refusing-db") / "f.sqlite3") as client:
        yield client, engine.articles[0].id


@contextmanager
def app_over(engine: Engine, db: Path, **options: object) -> Iterator[TestClient]:
    settings = WebSettings(feedback_db=db, rate_limit=1000, **options)
    with TestClient(create_app(engine, settings), base_url="http://127.0.0.1:7860") as client:
        yield client


def ask(client: TestClient, question: str) -> dict:
    return client.post("/api/ask", json={"question": question}).json()


def chosen(engine: Engine) -> tuple[str, Span, Span]:
    """An article, a passage of it and its second sentence (the one to mark)."""
    article = engine.articles[0]
    passage = next(p for p in article.passages if len(p.sentences) >= 2 and p.kind > 0)
    return article.id, Span(passage.start, passage.end), passage.sentences[1]


# --- the store -------------------------------------------------------------------------------------


def test_add_withdraw_and_list_newest_first(engine: Engine, tmp_path: Path):
    store = VerificationStore(FeedbackStore(tmp_path / "f.sqlite3"))
    article = engine.articles[0]
    assert store.version() == (0, 0) and store.records() == []
    first = store.add("Qui ?", None, article, Span(0, 50), Span(0, 20), " equipe ")
    absent = store.add("Et la tour Eiffel ?", "Qui ?", None, None, None, "")
    assert first and absent and first.verification.checksum == article.sha256
    assert (first.verification.author, absent.verification.author) == ("equipe", "staff")
    assert absent.verification.absent and absent.verification.context == "Qui ?"
    assert store.withdraw(first.verification.id, "chef") is Withdrawal.DONE
    assert store.withdraw(first.verification.id, "chef") is Withdrawal.ALREADY
    assert (
        store.withdraw(999, "chef") is Withdrawal.UNKNOWN and store.withdraw(2**70, "x") is Withdrawal.UNKNOWN
    )
    newest, oldest = store.records()
    assert newest == absent and newest.in_force
    assert oldest.verification == first.verification and not oldest.in_force
    assert oldest.withdrawn and oldest.withdrawn.by == "chef" and oldest.withdrawn.at.endswith("+00:00")
    assert store.get(first.verification.id) == oldest and store.get(42) is None
    assert store.version() == (2, 1)


def test_nothing_is_ever_updated_or_deleted(tmp_path: Path):
    path = tmp_path / "f.sqlite3"
    store = VerificationStore(FeedbackStore(path))
    added = store.add("Qui ?", None, None, None, None, "equipe")
    assert added and store.withdraw(added.verification.id, "equipe") is Withdrawal.DONE
    with sqlite3.connect(path) as conn:
        for statement in (
            "UPDATE verifications SET question = 'autre'",
            "DELETE FROM verifications",
            "UPDATE verification_withdrawals SET author = 'autre'",
            "DELETE FROM verification_withdrawals",
        ):
            with pytest.raises(sqlite3.DatabaseError):
                conn.execute(statement)
    assert store.records()[0].verification.question == "Qui ?"


def test_verifications_survive_reopening(engine: Engine, tmp_path: Path):
    path = tmp_path / "f.sqlite3"
    added = VerificationStore(FeedbackStore(path)).add(
        "Qui ?", None, engine.articles[0], Span(0, 9), None, "a"
    )
    [again] = VerificationStore(FeedbackStore(path)).records()
    assert added and again.verification == added.verification


def test_a_v3_file_is_upgraded_in_place(tmp_path: Path):
    path = tmp_path / "v3.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.executescript(V3_SCHEMA)
    feedback = FeedbackStore(path)
    assert feedback.available
    [old] = feedback.questions()
    assert (old.question, old.feedback) == ("Ancienne question ?", "up")  # rows kept
    store = VerificationStore(feedback)
    assert store.add("Qui ?", None, None, None, None, "equipe") is not None
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 4
    assert len(store.records()) == 1 and feedback.feedback_count() == 1


def test_a_store_that_cannot_write_says_so_and_never_raises(tmp_path: Path):
    path = tmp_path / "f.sqlite3"
    feedback = FeedbackStore(path, timeout=0.2)
    store = VerificationStore(feedback)
    added = store.add("Qui ?", None, None, None, None, "a")
    blocker = sqlite3.connect(path)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        assert store.add("Quoi ?", None, None, None, None, "a") is None
        assert store.withdraw(added.verification.id, "a") is Withdrawal.FAILED
        assert not feedback.available and "locked" in (feedback.problem or "")
    finally:
        blocker.rollback()
        blocker.close()
    assert [r.in_force for r in store.records()] == [True]  # the refused writes left nothing
    blocker_file = tmp_path / "un-fichier"
    blocker_file.write_text("pas un dossier")
    gone = VerificationStore(FeedbackStore(blocker_file / "f.sqlite3"))
    assert gone.add("Qui ?", None, None, None, None, "a") is None
    assert gone.withdraw(1, "a") is Withdrawal.FAILED
    assert gone.records() == [] and gone.version() is None


# --- the staff API ---------------------------------------------------------------------------------


def test_the_api_records_lists_and_withdraws(engine: Engine, tmp_path: Path):
    article, passage, sentence = chosen(engine)
    source = engine.articles[0].source
    with app_over(engine, tmp_path / "f.sqlite3") as client:
        body = {"question": DECLINED, "article": article, "start": passage.start, "end": passage.end}
        body |= {"highlight_start": sentence.start, "highlight_end": sentence.end}
        created = client.post("/staff/api/verifications", json=body, headers=auth("marie", "x"))
        assert created.status_code == 201
        shown = created.json()
        assert shown["text"] == source[passage.start : passage.end]
        assert (shown["verdict"], shown["author"], shown["withdrawn"], shown["stale"]) == (
            "passage",
            "marie",
            None,
            False,
        )
        assert (shown["highlight_start"], shown["highlight_end"]) == (sentence.start, sentence.end)
        absent = client.post("/staff/api/verifications", json={"question": ANSWERED, "verdict": "absent"})
        assert (
            absent.status_code == 201 and absent.json()["author"] == "staff" and absent.json()["text"] is None
        )
        listed = client.get("/staff/api/verifications").json()
        assert [v["id"] for v in listed] == [absent.json()["id"], shown["id"]]
        withdrawn = client.post(
            f"/staff/api/verifications/{shown['id']}/withdraw", headers=JSON | auth("paul", "x")
        )
        assert withdrawn.status_code == 200 and withdrawn.json()["withdrawn"]["by"] == "paul"
        again = client.post(f"/staff/api/verifications/{shown['id']}/withdraw", headers=JSON)
        assert again.status_code == 409 and "déjà retirée" in again.json()["error"]
        unknown = client.post("/staff/api/verifications/999/withdraw", headers=JSON)
        assert unknown.status_code == 404 and "aucune ne porte le n° 999" in unknown.json()["error"]
        assert client.get("/staff/api/verifications").json()[1]["withdrawn"]["by"] == "paul"
        plain = client.post("/staff/api/verifications", content=b"{}", headers={"Content-Type": "text/plain"})
        assert plain.status_code == 415


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"question": "  ", "verdict": "absent"}, "question est vide"),
        ({"question": "Qui ?", "verdict": "peut-être"}, "verdict inconnu"),
        ({"question": "Qui ?", "article": "inconnu", "start": 0, "end": 9}, "article inconnu"),
        ({"question": "Qui ?", "article": "ARTICLE", "start": 0, "end": 10**7}, "sortent du texte"),
        ({"question": "Qui ?", "article": "ARTICLE", "start": 9, "end": 3}, "sortent du texte"),
        (
            {
                "question": "Qui ?",
                "article": "ARTICLE",
                "start": 0,
                "end": 9,
                "highlight_start": 5,
                "highlight_end": 30,
            },
            "phrase marquée",
        ),
        ({"question": "Qui ?", "article": "ARTICLE", "start": True, "end": 9}, "« start »"),
        ({"question": "Qui ?", "article": "ARTICLE", "start": "0", "end": 9}, "« start »"),
        ({"question": 3, "verdict": "absent"}, "« question »"),
        ({"verdict": "absent"}, "question"),
    ],
)
def test_a_bad_verification_gets_a_french_4xx(refusing: tuple[TestClient, str], body: dict, words: str):
    client, article = refusing
    body = {k: article if v == "ARTICLE" else v for k, v in body.items()}
    response = client.post("/staff/api/verifications", json=body)
    assert response.status_code == 422
    assert words in response.json()["error"]
    assert client.get("/staff/api/verifications").json() == []


def test_the_api_needs_the_staff_password(engine: Engine, tmp_path: Path):
    with app_over(engine, tmp_path / "f.sqlite3", staff_password="s3cret") as client:
        for method, path in (
            ("GET", "/staff/api/verifications"),
            ("POST", "/staff/api/verifications"),
            ("POST", "/staff/api/verifications/1/withdraw"),
        ):
            for headers in (JSON, JSON | auth("marie", "faux")):
                response = client.request(
                    method, path, json={"question": "Qui ?", "verdict": "absent"}, headers=headers
                )
                assert response.status_code == 401 and "mot de passe" in response.json()["error"]
        ok = client.post(
            "/staff/api/verifications",
            json={"question": "Qui ?", "verdict": "absent"},
            headers=auth("marie", "s3cret"),
        )
        assert ok.status_code == 201 and ok.json()["author"] == "marie"


def test_a_store_that_cannot_write_is_a_french_503(engine: Engine, tmp_path: Path):
    blocker = tmp_path / "un-fichier"
    blocker.write_text("pas un dossier")
    with app_over(engine, blocker / "f.sqlite3") as client:
        response = client.post("/staff/api/verifications", json={"question": "Qui ?", "verdict": "absent"})
        assert response.status_code == 503 and "Vérifications indisponibles" in response.json()["error"]
        assert client.post("/staff/api/verifications/1/withdraw", headers=JSON).status_code == 503
        assert ask(client, "Bonjour")["status"] == "smalltalk"  # and the app keeps answering


# --- the engine answers from them ------------------------------------------------------------------


def test_verified_answers_apply_stop_when_withdrawn_and_survive_a_restart(engine: Engine, tmp_path: Path):
    db = tmp_path / "f.sqlite3"
    article, passage, sentence = chosen(engine)
    with app_over(engine, db) as client:
        before = {q: ask(client, q) for q in (REWORDED, ANSWERED, UNRELATED)}
        assert before[REWORDED]["status"] == "no_answer" and before[ANSWERED]["status"] == "answered"
        body = {"question": DECLINED, "article": article, "start": passage.start, "end": passage.end}
        body |= {"highlight_start": sentence.start, "highlight_end": sentence.end}
        made = client.post("/staff/api/verifications", json=body).json()
        client.post("/staff/api/verifications", json={"question": ANSWERED, "verdict": "absent"})
        answer = ask(client, REWORDED)
        assert answer["status"] == "answered" and answer["verified"] == {"id": made["id"], "at": made["at"]}
        cited = answer["passages"][0]
        assert (cited["article"], cited["start"], cited["end"]) == (article, passage.start, passage.end)
        assert cited["highlight"] == engine.articles[0].text(sentence)
        declined = ask(client, ANSWERED.lower())
        assert declined["status"] == "no_answer" and declined["verified"] and declined["passages"] == []
        assert ask(client, UNRELATED) == before[UNRELATED] and before[UNRELATED]["verified"] is None
    restarted = fake_engine_for(
        tuple({p.parent for p in [Path(engine.articles[0].path)]}), tmp_path / "index2"
    )
    with app_over(restarted, db) as client:  # a new process: the verifications come from the file
        assert ask(client, REWORDED)["verified"]["id"] == made["id"]
        client.post(f"/staff/api/verifications/{made['id']}/withdraw", headers=JSON)
        assert ask(client, REWORDED) == before[REWORDED]


def test_a_changed_article_makes_its_verifications_stale(engine: Engine, tmp_path: Path):
    db = tmp_path / "f.sqlite3"
    article, passage, _ = chosen(engine)
    with app_over(engine, db) as client:
        body = {"question": DECLINED, "article": article, "start": passage.start, "end": passage.end}
        assert client.post("/staff/api/verifications", json=body).status_code == 201
    path = Path(engine.articles[0].path)
    path.write_text(path.read_text(encoding="utf-8") + "\nUne phrase ajoutée depuis.\n", encoding="utf-8")
    changed = fake_engine_for((path.parent,), tmp_path / "index2")
    with app_over(changed, db) as client:
        [shown] = client.get("/staff/api/verifications").json()
        assert shown["stale"] is True and shown["text"] is None
        assert ask(client, REWORDED)["verified"] is None


def test_another_process_sharing_the_file_sees_new_verifications(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    db = tmp_path / "f.sqlite3"
    other = fake_engine_for((Path(engine.articles[0].path).parent,), tmp_path / "index2")
    here, there = Assistant(engine, FeedbackStore(db)), Assistant(other, FeedbackStore(db))
    assert there.ask(REWORDED)[0].verified is None
    article, passage, _ = chosen(engine)
    made = here.verify(DECLINED, author="a", article=article, start=passage.start, end=passage.end)
    assert made and here.ask(REWORDED)[0].verified is not None
    monkeypatch.setattr(qa.web.service, "REFRESH_SECONDS", 0.0)  # instead of waiting 2 s
    assert there.ask(REWORDED)[0].verified.id == made.verification.id
    assert there.withdraw(made.verification.id, "b") is Withdrawal.DONE
    assert here.ask(REWORDED)[0].verified is None


# --- with the real model, over HTTP -----------------------------------------------------------------


def test_the_staff_api_corrects_the_real_engine_over_http(real_engine: Engine, tmp_path: Path):
    """A running app with the real model: a declined follow-up verified, a wrong answer said absent."""
    engine = Engine(real_engine.articles, real_engine.encoder, real_engine.index, real_engine.settings)
    article = engine.articles[0]
    passage = next(p for p in article.passages if "modèles animaux" in article.text(p))
    topic = ["Qu'est-ce que l'indole-3-carbinol ?"]
    follow_up, wrong = (
        "Et chez quels modèles a-t-on vu l'effet ?",
        "Quel hôpital a mené l'essai de l'anticorps-médicament ?",
    )
    auth = {"Authorization": "Basic " + base64.b64encode(b"lea:secret").decode()}
    with serving(engine, tmp_path / "feedback.sqlite3", staff_password="secret", rate_limit=10_000) as app:

        def ask(question: str, history: list[str] | None = None) -> dict:
            body = {"question": question, "history": history or []}
            return httpx.post(app.url + "api/ask", json=body, timeout=60).json()

        before = {
            q: ask(q, h)
            for q, h in ((follow_up, topic), (wrong, None), ("Qu'est-ce que la ferroptose ?", None))
        }
        assert before[follow_up]["status"] == "no_answer" and before[wrong]["status"] == "answered"
        verifications = app.url + "staff/api/verifications"
        assert httpx.post(verifications, json={"question": wrong, "verdict": "absent"}).status_code == 401
        body = {"question": follow_up, "history": topic, "article": article.id, "start": passage.start}
        made = httpx.post(verifications, json=body | {"end": passage.end}, headers=auth).json()
        assert made["context"] == engine.context_of(follow_up, topic) and made["author"] == "lea"
        absent = httpx.post(verifications, json={"question": wrong, "verdict": "absent"}, headers=auth).json()

        answered = ask("et chez quels modeles a-t-on vu l'effet", topic)
        assert answered["status"] == "answered" and answered["verified"] == {
            "id": made["id"],
            "at": made["at"],
        }
        assert answered["passages"][0]["text"] == article.text(passage)
        declined = ask("Dans quel hôpital l'essai de l'anticorps-médicament a-t-il eu lieu ?")
        assert declined["status"] == "no_answer" and declined["verified"]["id"] == absent["id"]
        assert ask("Qu'est-ce que la ferroptose ?") == before["Qu'est-ce que la ferroptose ?"]

        withdrawn = httpx.post(f"{verifications}/{absent['id']}/withdraw", headers=auth | JSON)
        assert withdrawn.status_code == 200
        assert ask(wrong) == before[wrong]
