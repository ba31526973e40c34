"""The short, bounded load test run in CI: bursts of 16 clients on both endpoints of the real app.

It drives ``bench/load.py`` (the script behind the one-minute figures of docs/reliability.md)
against the session's live app: 16 clients x 25 questions on ``POST /api/ask``, then 16 Gradio
clients on ``/ask``. No 5xx, no dropped connection, every answer in the contract, and the server
answers normally afterwards.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

import httpx
import pytest
from support.paths import REPO
from support.web import App

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("qa_bench_load", REPO / "bench" / "load.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


def answers_normally(app: App) -> None:
    response = httpx.post(
        app.url + "api/ask", timeout=30, json={"question": "Quel élément catalyse la ferroptose ?"}
    )
    assert response.status_code == 200 and response.json()["status"] == "answered"
    assert httpx.get(app.url + "healthz", timeout=30).status_code == 200


def check(summary: dict, requests: int) -> None:
    assert summary["requests"] == requests, summary
    assert summary["server_errors_5xx"] == 0, summary
    assert summary["connection_errors"] == 0, summary
    assert summary["other_errors"] == {}, summary
    assert summary["broken_contract"] == 0, summary
    assert summary["statuses"] == {"200": requests}, summary


def test_burst_of_16_clients_x_25_questions_on_the_api(live_app: App, load: ModuleType):
    report = load.run("api", live_app.url, clients=16, requests=16 * 25)
    check(report.summary(), 16 * 25)
    answers_normally(live_app)


def test_burst_of_16_gradio_clients(live_app: App, load: ModuleType):
    report = load.run("gradio", live_app.url, clients=16, requests=16 * 4)
    check(report.summary(), 16 * 4)
    answers_normally(live_app)


def test_load_script_bounds_and_reports(live_app: App, load: ModuleType, capsys: pytest.CaptureFixture):
    code = load.main(["--url", live_app.url, "--clients", "2", "--seconds", "1", "--endpoint", "api"])
    out = capsys.readouterr().out
    assert code == 0
    assert "[api] 2 clients" in out and "p95" in out and "5xx 0" in out
