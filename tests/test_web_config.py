"""Web settings from the environment, origin policy, staff password and rate limit."""

from __future__ import annotations

import base64
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.paths import REPO

from qa.web.config import WebSettings, parse_origins, quiet_gradio
from qa.web.limits import RateLimiter
from qa.web.security import (
    basic_password,
    content_security_policy,
    cors_options,
    frame_ancestors,
    host_allowed,
    password_matches,
)
from qa.web.server import parse_args
from qa.web.timeouts import limits_of, protocol_for


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
    limiter = RateLimiter(limit=2, window=1)
    assert limiter.allow("a") and limiter.allow("a")
    assert not limiter.allow("a")
    assert limiter.allow("b")
    time.sleep(1.05)
    assert limiter.allow("a")


def test_guard_settings_from_the_environment():
    defaults = WebSettings.from_env({})
    limits = (defaults.body_timeout, defaults.max_client_connections, defaults.max_client_streams)
    assert limits == (10, 100, 50)
    assert defaults.allowed_hosts == () and defaults.public_url is None
    assert defaults.hosts() == {"localhost", "127.0.0.1", "::1"}
    env = {
        "QA_BODY_TIMEOUT": "3",
        "QA_MAX_CLIENT_CONNECTIONS": "20",
        "QA_MAX_CLIENT_STREAMS": "7",
        "QA_ALLOWED_HOSTS": "Questions.Example.org:8443, *.inserm.fr",
        "QA_PUBLIC_URL": "https://qa.example.org/",
        "GRADIO_SERVER_NAME": "10.0.0.5",
    }
    settings = WebSettings.from_env(env)
    assert (settings.body_timeout, settings.max_client_connections, settings.max_client_streams) == (3, 20, 7)
    assert settings.allowed_hosts == ("questions.example.org", "*.inserm.fr")
    assert settings.public_url == "https://qa.example.org"
    hosts = {"questions.example.org", "*.inserm.fr", "qa.example.org", "10.0.0.5", "localhost"}
    assert settings.hosts() >= hosts
    assert "0.0.0.0" not in WebSettings.from_env({"GRADIO_SERVER_NAME": "0.0.0.0"}).hosts()
    for name, raw in (
        ("QA_ALLOWED_HOSTS", "a b"),
        ("QA_ALLOWED_HOSTS", "<x>"),
        ("QA_PUBLIC_URL", "qa.example.org"),
        ("QA_PUBLIC_URL", "https://x.org/?a=1"),
        ("QA_PUBLIC_URL", "https://x.org/qa"),
        ("QA_BODY_TIMEOUT", "0"),
        ("QA_MAX_CLIENT_STREAMS", "x"),
    ):
        with pytest.raises(ValueError, match=name):
            WebSettings.from_env({name: raw})


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("127.0.0.1:7860", True),
        ("localhost", True),
        ("LOCALHOST.:80", True),
        ("[::1]:7860", True),
        ("www.inserm.fr", True),
        ("inserm.fr", False),
        ("evil.example", False),
        ("evil.example:7860", False),
        ("127.0.0.1.evil.example", False),
        ("", False),
        ("[::1", False),
    ],
)
def test_host_allowed(host: str, allowed: bool):
    assert host_allowed(host, frozenset({"localhost", "127.0.0.1", "::1", "*.inserm.fr"})) is allowed
    assert host_allowed(host, frozenset({"*"}))


def test_the_whole_csp_names_every_source_and_keeps_frame_ancestors():
    policy = content_security_policy(WebSettings(allowed_origins=("https://www.inserm.fr",)))
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["frame-ancestors"] == "'self' https://www.inserm.fr"
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self' 'nonce-{nonce}' 'unsafe-eval'"
    assert directives["object-src"] == "'none'" and directives["base-uri"] == "'none'"
    assert "'unsafe-inline'" in directives["style-src"] and "'unsafe-inline'" not in directives["script-src"]


def test_the_timezone_of_the_staff_log_is_a_known_zone():
    assert WebSettings.from_env({}).timezone == "Europe/Paris"
    assert WebSettings.from_env({"QA_TIMEZONE": "UTC"}).zone.key == "UTC"
    with pytest.raises(ValueError, match="QA_TIMEZONE"):
        WebSettings.from_env({"QA_TIMEZONE": "Lune/Tranquillité"})


def test_the_trusted_proxies_and_the_limits_of_connections_come_from_the_settings():
    assert WebSettings.from_env({}).forwarded_allow_ips == "127.0.0.1,::1"  # uvicorn's default
    env = {"FORWARDED_ALLOW_IPS": "10.0.0.0/8", "QA_HEADER_TIMEOUT": "2", "QA_MAX_CLIENT_CONNECTIONS": "3"}
    limits = limits_of(WebSettings.from_env(env))
    assert (limits.header_timeout, limits.max_per_address) == (2.0, 3)
    assert "10.2.3.4" in limits.trusted and "127.0.0.1" not in limits.trusted
    assert protocol_for(WebSettings(header_timeout=7)).web_settings.header_timeout == 7


def test_quiet_gradio_turns_telemetry_off_and_keeps_the_callers_statistics_settings():
    env = {"GRADIO_ANALYTICS_ENABLED": "True", "GRADIO_ANALYTICS_MAX_EVENTS": "7"}
    quiet_gradio(env)
    assert env == {
        "GRADIO_ANALYTICS_ENABLED": "False",
        "GRADIO_ANALYTICS_MAX_EVENTS": "7",
        "GRADIO_ANALYTICS_CACHE_FREQUENCY": "1000",
    }


def test_the_web_layer_reads_no_setting_on_import_and_quiets_gradio_before_importing_it():
    """A bad setting in the environment breaks no import; Gradio comes after quiet_gradio()."""
    code = (
        "import os, sys; import qa.web; assert 'gradio' not in sys.modules, 'gradio before quiet_gradio';"
        "assert os.environ['GRADIO_ANALYTICS_ENABLED'] == 'False';"
        "import qa.web.timeouts, qa.web.proxies, qa.web.asgi, qa.web.server; print('ok')"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(REPO / "src"),
        "QA_HEADER_TIMEOUT": "lent",
        "QA_MAX_CLIENT_CONNECTIONS": "beaucoup",
        "FORWARDED_ALLOW_IPS": "n'importe quoi",
    }
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-1000:]
