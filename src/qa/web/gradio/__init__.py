"""The Gradio guards: every module of the app that reads Gradio's internals, in one package.

Each depends on how Gradio 6.31 works inside (its routes, its request bodies, its page template,
its chat format, what it prints); docs/web.md ("Gradio guards") says why each exists and what it
reads. Gradio is pinned to 6.31: on an upgrade, the route-listing test of
``tests/test_web_gradio_guards.py`` names every route that changed.

- :class:`AllowedRoutes` (:mod:`.routes`): only the listed routes answer.
- :class:`GradioBodies` (:mod:`.bodies`): every Gradio POST body checked and bounded.
- :func:`bound_chat` (:mod:`.chat`): the chat's messages cut to a fixed size.
- :class:`FrenchPage` (:mod:`.french_page`): Gradio's page in French, with the CSP nonce.
- :func:`route_gradio_output` (:mod:`.output`): Gradio's prints and tracebacks through logging.
"""

from qa.web.gradio.bodies import GradioBodies
from qa.web.gradio.chat import bound_chat
from qa.web.gradio.french_page import FrenchPage
from qa.web.gradio.output import route_gradio_output
from qa.web.gradio.routes import AllowedRoutes

__all__ = ["AllowedRoutes", "FrenchPage", "GradioBodies", "bound_chat", "route_gradio_output"]
