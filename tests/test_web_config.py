"""Web settings from the environment, origin policy, staff password and rate limit."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from qa.web.config import WebSettings, parse_origins
from qa.web.limits import RateLimiter
from qa.web.security import basic_password, cors_options, frame_ancestors, password_matches
from qa.web.server import parse_args


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_defaults():
    settings = WebSettings.from_env({})
    assert (settings.host, settings.port) == ("127.0.0.1", 7860)
    assert settings.feedback_db == Path("data/feedback.sqlite3")
    assert settings.allowed_origins == () and settings.staff_password is None


def test_environment_then_flags():
    env = {
        "GRADIO_SERVER_NAME": "0.0.0.0",
        "GRADIO_SERVER_PORT": "8080",
        "QA_ALLOWED_ORIGINS": "https://www.inserm.fr, https://Exemple.org:8443/",
        "QA_STAFF_PASSWORD": "secret",
        "QA_FEEDBACK_DB": "/tmp/x/f.sqlite3",
        "QA_RATE_LIMIT": "5",
    }
    settings = WebSettings.from_env(env)
    assert (settings.host, settings.port, settings.rate_limit) == ("0.0.0.0", 8080, 5)
    assert settings.allowed_origins == ("https://www.inserm.fr", "https://exemple.org:8443")
    assert settings.staff_password == "secret" and settings.feedback_db == Path("/tmp/x/f.sqlite3")
    flagged = WebSettings.from_env(env, host="127.0.0.2", port=9000)
    assert (flagged.host, flagged.port) == ("127.0.0.2", 9000)
    args = parse_args(["--host", "localhost", "--port", "7000"])
    assert (args.host, args.port) == ("localhost", 7000)
    assert parse_args([]).port is None


@pytest.mark.parametrize("raw", ["abc", "-1", "0"])
def test_bad_port_is_refused_in_french(raw: str):
    with pytest.raises(ValueError, match="entier positif"):
        WebSettings.from_env({"GRADIO_SERVER_PORT": raw})


@pytest.mark.parametrize("raw", ["inserm.fr", "ftp://x.org", "https://x.org/page", "https://x.org?a=1"])
def test_bad_origin_is_refused(raw: str):
    with pytest.raises(ValueError, match="origine invalide"):
        parse_origins(raw)


def test_frame_ancestors_and_cors_follow_the_origins():
    default = WebSettings()
    assert frame_ancestors(default).startswith("frame-ancestors 'self' http://localhost:*")
    assert "http://127.0.0.1:*" in frame_ancestors(default)
    assert "allow_origin_regex" in cors_options(default)
    custom = WebSettings(allowed_origins=("https://www.inserm.fr",))
    assert frame_ancestors(custom) == "frame-ancestors 'self' https://www.inserm.fr"
    assert cors_options(custom)["allow_origins"] == ["https://www.inserm.fr"]
    assert frame_ancestors(WebSettings(allowed_origins=("*",))) == "frame-ancestors *"


def test_basic_password():
    assert basic_password(basic("equipe", "s3cr:et")) == "s3cr:et"
    assert basic_password(basic("", "x")) == "x"
    assert basic_password("Bearer abc") is None
    assert basic_password("Basic !!!") is None
    assert basic_password(None) is None
    assert password_matches("a", "a") and not password_matches("b", "a")
    assert not password_matches(None, "a")
    assert password_matches(None, None)  # no password configured: open


def test_rate_limiter_counts_per_client_and_window():
    limiter = RateLimiter(limit=2, window=60)
    assert limiter.allow("a", now=0) and limiter.allow("a", now=1)
    assert not limiter.allow("a", now=2)
    assert limiter.allow("b", now=2)
    assert limiter.allow("a", now=61)
