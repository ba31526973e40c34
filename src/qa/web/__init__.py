"""The web layer: a FastAPI app with the Gradio chat at ``/``, staff at ``/staff``, a JSON API.

Importing this package turns Gradio's telemetry off before Gradio is imported: the app must work,
and stay quiet, on a machine with no internet.
"""

import os

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
