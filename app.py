"""Start the web app: ``python app.py [--host HOST] [--port PORT]`` (default 127.0.0.1:7860).

The environment variables ``GRADIO_SERVER_NAME``/``GRADIO_SERVER_PORT``, ``QA_ALLOWED_ORIGINS``,
``QA_STAFF_PASSWORD`` and ``QA_FEEDBACK_DB`` configure it; see ``docs/web.md``.
"""

import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent / "src"
if SRC.is_dir() and str(SRC) not in sys.path:
    sys.path.insert(0, str(SRC))  # run from a checkout even before `pip install -e .`

from qa.web.server import main  # noqa: E402 - qa.web quiets Gradio before importing it

if __name__ == "__main__":
    sys.exit(main())
