"""Questions about the article itself: who wrote it, when, its title, how long it takes to read.

The title, byline and credit line are metadata: they answer these questions and no others. A
question about the content never gets "il y a 1 jour" or an author's name as its answer, however
close the vectors are; a question about the article gets the line that says it.
"""

from __future__ import annotations

import re

from qa.article import Article, PassageKind, Span
from qa.textnorm import content_words, fold

# Words a reader uses to ask about an article's metadata; indexed with the metadata passages so
# that "Qui est l'auteur ?" or "Quand a-t-il été publié ?" meet the byline.
LABELS = {
    "title": "titre title",
    "author": "auteur auteure écrit rédigé journaliste signé author wrote writer",
    "date": "date publié publication paru published",
    "reading_time": "temps lecture durée minutes reading time",
}

# What each field is asked with (folded words), in the order fields are tried.
_FIELD_CUES = (
    ("credit", r"organisme|institut|qui publie|publisher|source|media|journal"),
    (
        "author",
        r"auteure?s?|autrice|ecrit|ecrite|redige|redigee|signe|signee|journaliste|author"
        r"|wrote|written|writer|qui publie|publisher|organisme|source",
    ),
    ("published", r"publie|publiee|publication|paru|parue|date|quand|published|when"),
    ("reading_time", r"lecture|lire|reading|read|minutes?|temps"),
    ("title", r"titre|intitule|title|titled"),
)
_PATTERNS = [(field, re.compile(rf"\b(?:{cues})\b")) for field, cues in _FIELD_CUES]
# Content words that still leave a question about the article itself ("Combien de temps faut-il
# pour lire l'article ?"): the cues, and words naming the article.
_ABOUT_ARTICLE = frozenset(
    "auteur auteure auteurs autrice ecrit ecrite redige redigee signe signee journaliste author "
    "wrote written writer publie publiee publication paru parue date published titre intitule "
    "title titled lecture lire reading read minute minutes temps time combien long longueur "
    "organisme institut source publisher media journal papier page"
    " resultats etude etudes travaux recherches informations nouvelles".split()
)


def asked_fields(question: str) -> list[str]:
    """The metadata fields ``question`` asks for, when it asks about the article itself.

    Empty when any content word of the question is about something else ("Pour quelle journée
    l'article a-t-il été écrit ?" is about the content, "Qui est l'auteur ?" is not).
    """
    words = content_words(question)
    if not words or any(w not in _ABOUT_ARTICLE for w in words):
        return []
    folded = fold(question)
    return [field for field, pattern in _PATTERNS if pattern.search(folded)]


def field_line(article: Article, field: str) -> tuple[int, Span] | None:
    """The metadata passage (its index) and line that hold ``field`` of ``article``, if any."""
    value = article.title if field == "title" else getattr(article, field, None)
    if field in ("published", "credit") and article.credit:
        value = article.credit
    if not value:
        return None
    for number, passage in enumerate(article.passages):
        if passage.kind != PassageKind.METADATA:
            continue
        for span in passage.sentences:
            if value in article.text(span):
                return number, span
    return None
