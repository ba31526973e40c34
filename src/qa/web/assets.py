"""The page's own CSS and scripts, read from ``qa/web/static/``: no CDN, no web font, nothing fetched.

- ``head.js`` and ``head.css``: inline in every page's ``<head>`` (:func:`head_html`), before
  Gradio's front end starts (the head script gets the response's CSP nonce, qa.web.gradio.french_page);
- ``page.js``: the public page's script (Gradio's ``js``), one function expression;
- ``page.css``: both pages' CSS (Gradio's ``css``);
- ``scope.js``: the public page's load event (Gradio's ``js`` of that event), one function expression.

Each file is read once (package data, :mod:`importlib.resources`).
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from qa.web.render import esc

SYSTEM_FONTS = (
    "system-ui",
    "-apple-system",
    "Segoe UI",
    "Roboto",
    "Noto Sans",
    "Liberation Sans",
    "DejaVu Sans",
    "Arial",
    "sans-serif",
)
SYSTEM_MONO_FONTS = ("ui-monospace", "DejaVu Sans Mono", "Liberation Mono", "Consolas", "monospace")
STATIC = "static"
# What would end an inline <script> or <style> early.
CLOSERS = ("</script", "</style", "<!--")


@cache
def static_text(name: str) -> str:
    """Return the text of ``qa/web/static/<name>`` (read once)."""
    return files(__package__).joinpath(STATIC, name).read_text(encoding="utf-8")


def _inline(name: str) -> str:
    """A file inlined in the page's ``<head>``: it must not close its element early."""
    text = static_text(name)
    lowered = text.lower()
    for closer in CLOSERS:
        if closer in lowered:
            raise ValueError(f"{name} contient {closer!r} : il ne peut pas être inséré dans la page")
    return text


def head_html(title: str) -> str:
    """Return what :class:`qa.web.gradio.FrenchPage` inserts after ``<head>``."""
    return (
        f"<script>{_inline('head.js')}</script><style>{_inline('head.css')}</style>"
        f"<title>{esc(title)}</title>"
        '<meta name="description" content="Questions et réponses citées sur un article.">'
    )


CITATION_SCRIPT = static_text("page.js")
SCOPE_SCRIPT = static_text("scope.js")
CSS = static_text("page.css")
