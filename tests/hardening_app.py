"""The app served exactly as ``python app.py`` serves it, on the seed article with the fake encoder.

``python tests/hardening_app.py PORT INDEX_DIR``: same logging set-up, same uvicorn options and
protocol (``qa.web.server.serve``), settings from the environment; only the engine differs (no
model to load). Started by ``support.hardening`` for the tests that probe the live app; holds no test.
"""

from __future__ import annotations

import logging.config
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from support.fakes import fake_engine_for  # noqa: E402
from support.paths import SEED  # noqa: E402

from qa.web import server  # noqa: E402
from qa.web.config import WebSettings  # noqa: E402


def main(argv: list[str]) -> None:
    """Serve on ``127.0.0.1:PORT`` until terminated."""
    port, index_dir = int(argv[0]), Path(argv[1])
    logging.config.dictConfig(server.log_config())
    settings = WebSettings.from_env(host="127.0.0.1", port=port)
    server.serve(server.create_app(fake_engine_for((SEED,), index_dir), settings), settings)


if __name__ == "__main__":
    main(sys.argv[1:])
