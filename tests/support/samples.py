"""Sample inputs that several test modules feed the code."""

from __future__ import annotations

XSS = "<img src=x onerror=alert(1)>"  # a question, title or log line that must show as text

# An HTML page whose breadcrumb list stands before the title: it belongs to no section.
BREADCRUMBS_PAGE = (
    "<ul><li>Accueil</li><li>Santé</li></ul><h1>Le café et le sommeil</h1>"
    "<p>Le café contient de la caféine. Elle retarde le sommeil.</p>"
)
