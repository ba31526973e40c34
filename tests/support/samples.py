"""Sample inputs that several test modules feed the code, and the keys of an answer they expect."""

from __future__ import annotations

CONTRACT = {"question", "status", "message", "passages", "verified"}  # an answer's JSON, on the API and `qa`

XSS = "<img src=x onerror=alert(1)>"  # a question, title or log line that must show as text

# An HTML page whose breadcrumb list stands before the title: it belongs to no section.
BREADCRUMBS_PAGE = (
    "<ul><li>Accueil</li><li>Santé</li></ul><h1>Le café et le sommeil</h1>"
    "<p>Le café contient de la caféine. Elle retarde le sommeil.</p>"
)

# An answered reply as the question log stores it (tests of the store and of its CSV export).
LOGGED_ANSWER = {
    "question": "Sur quel animal l'approche a-t-elle été testée ?",
    "status": "answered",
    "message": "D'après l'article …",
    "passages": [
        {
            "rank": 1,
            "article": "a1",
            "section": "Immunothérapie",
            "text": "long texte",
            "highlight": "chez la souris",
            "start": 10,
            "end": 90,
            "score": 0.91,
        }
    ],
}
