"""The web layer: a FastAPI app with the Gradio chat at ``/``, staff at ``/staff``, a JSON API.

Importing this package quiets Gradio (:func:`qa.web.config.quiet_gradio`: no telemetry, small
queue statistics) before any of its modules imports Gradio.
"""

from qa.web.config import quiet_gradio

quiet_gradio()
