"""Who may call the app and enter ``/staff`` (qa.web.security): the security headers on refusals
(429, 404, 413) and on a refused CORS request, and ``/staff`` with its CSV export closed without the
password.
"""

from __future__ import annotations

import base64
from pathlib import Path

from support.web import client_for

from qa.engine import Engine


def test_security_headers_on_refusals(seed_engine: Engine, tmp_path: Path):
    settings_ = {"rate_limit": 1, "allowed_origins": ("https://www.inserm.fr",)}
    with client_for(seed_engine, tmp_path, **settings_) as client:
        client.post("/api/ask", json={"question": "Bonjour"})
        for response in (
            client.post("/api/ask", json={"question": "Bonjour"}),  # 429
            client.get("/monitoring"),  # 404
            client.post("/gradio_api/reset", content=b"x" * (3 << 20)),
        ):  # 413
            assert response.status_code in (404, 413, 429)
            assert response.headers["content-security-policy"] == (
                "frame-ancestors 'self' https://www.inserm.fr"
            )
            assert response.headers["referrer-policy"] == "same-origin"
        cors = client.post("/api/ask", json={"question": "x"}, headers={"Origin": "https://www.inserm.fr"})
        assert cors.status_code == 429 and cors.headers["access-control-allow-origin"]


def test_staff_and_csv_closed_with_a_password(seed_engine: Engine, tmp_path: Path):
    with client_for(seed_engine, tmp_path, staff_password="s3cret") as client:
        for path in (
            "/staff/",
            "/staff/export.csv",
            "/staff/gradio_api/queue/join",
            "/staff/config",
            "/staff/gradio_api/info",
        ):
            assert client.request("POST" if "join" in path else "GET", path).status_code == 401
        token = base64.b64encode(b"x:s3cret").decode()
        ok = client.get("/staff/export.csv", headers={"Authorization": f"Basic {token}"})
        assert ok.status_code == 200
