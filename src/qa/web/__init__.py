"""The web layer: a FastAPI app with the Gradio chat at ``/``, staff at ``/staff``, a JSON API.

Importing this package turns Gradio's telemetry off before Gradio is imported: the app must work,
and stay quiet, on a machine with no internet. It also shrinks the per-event statistics that
Gradio's queue keeps for its monitoring page (off here): by default it holds the last 10,000
events and recomputes a pandas summary of them after every event, which is wasted time under load.
"""

import os

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "100")
os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "1000")
