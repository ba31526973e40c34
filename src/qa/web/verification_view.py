"""What the staff page shows of verifications: the choices to pick from, a preview, the list.

Plain functions (no Gradio): :mod:`qa.web.staff_verify` lays them out. Choices are ``(label,
value)`` pairs whose values are strings (Gradio's dropdowns and radios, as the app's request
checks expect them); a span travels as ``"start-end"`` (offsets into ``Article.source``). The
preview is the chat's own rendering (:func:`qa.web.render.render_answer`) of the reply the
engine will give, so the editor sees exactly what visitors will.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import tzinfo

from qa.answer import Answer, Verified
from qa.article import Article, Passage, Span
from qa.verified import Verification, section_title, verified_answer
from qa.web.export import local_time
from qa.web.feedback import LoggedQuestion, now
from qa.web.render import esc, render_answer, render_question
from qa.web.verifications import StoredVerification

PASSAGE, ABSENT = "passage", "absent"
VERDICT_CHOICES = [("Un passage de l'article répond", PASSAGE), ("L'article ne le dit pas", ABSENT)]
WHOLE_PASSAGE = ("Tout le passage", "")
LIST_HEADERS = ("N°", "État", "Auteur", "Date", "Question", "Réponse choisie")
SNIPPET_CHARS = 90  # of a passage's text, in its label
SPAN = re.compile(r"(\d{1,9})-(\d{1,9})")


def refusal(error: Exception) -> str:
    """The French sentence that says why a verification was refused (the library's reason in it)."""
    reason = str(error).strip().rstrip(".")
    if reason[1:2].islower():  # « Votre question… » reads « votre question… » after the colon
        reason = reason[:1].lower() + reason[1:]
    return f"Vérification refusée : {reason}."


def cut_text(text: str, limit: int = SNIPPET_CHARS) -> str:
    """``text`` on one line, cut to ``limit`` characters at a word (« … » marking a cut)."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    return line[:limit].rsplit(" ", 1)[0] + "…"


def span_value(span: Span | Passage) -> str:
    """A span as a choice's value: ``"start-end"``."""
    return f"{span.start}-{span.end}"


def parse_span(value: object) -> Span | None:
    """The span of a choice's value (``None`` for anything else, ``""`` included)."""
    found = SPAN.fullmatch(value) if isinstance(value, str) else None
    return Span(int(found[1]), int(found[2])) if found else None


def log_choices(rows: Sequence[LoggedQuestion]) -> list[tuple[str, str]]:
    """The logged questions to verify, newest first: ``("n° 12 — Qui ?", "12")``."""
    return [(f"n° {r.id} — {cut_text(r.question)}", str(r.id)) for r in rows]


def passage_text(article: Article, passage: Passage) -> str:
    """A passage's text without its heading (the heading is its title)."""
    text = article.source[passage.start : passage.end]
    return text.removeprefix(passage.title).strip() or text


def passage_choices(article: Article | None) -> list[tuple[str, str]]:
    """The passages of ``article`` to choose from: its section's title, then how its text starts."""
    if article is None:
        return []
    return [
        (f"{p.title} — « {cut_text(passage_text(article, p))} »", span_value(p)) for p in article.passages
    ]


def sentence_choices(article: Article | None, passage: Span | None) -> list[tuple[str, str]]:
    """The sentences of the chosen passage that may be marked, after « Tout le passage »."""
    chosen = next(
        (
            p
            for p in (article.passages if article else ())
            if passage and span_value(p) == span_value(passage)
        ),
        None,
    )
    if article is None or chosen is None:
        return [WHOLE_PASSAGE]
    sentences = [(cut_text(article.text(s), 140), span_value(s)) for s in chosen.sentences]
    return [WHOLE_PASSAGE, *sentences]


def verified_reply(
    question: str,
    context: str | None,
    article: Article | None,
    passage: Span | None,
    highlight: Span | None,
    verified: Verified,
) -> Answer:
    """The reply a verification would give, built by the engine's own :func:`qa.verified.verified_answer`.

    A passage: answered, the passage quoted under its section's title, the marked sentence (the
    whole passage without one) as the key quote; ``None``: "absent", not answered.
    """
    draft = Verification(
        id=verified.id,
        question=question,
        context=context,
        article=article.id if article and passage else None,
        passage=passage if article else None,
        highlight=highlight if article and passage else None,
        checksum=article.sha256 if article else None,
        author="",
        at=verified.at,
    )
    return verified_answer(draft, question, article=article if passage else None, context=context)


def render_preview(
    question: str,
    context: str | None,
    article: Article | None,
    passage: Span | None,
    highlight: Span | None,
    articles: Mapping[str, Article],
) -> str:
    """What visitors will see once the verification is saved: their question and the reply."""
    title = '<p class="qa-cited-title">Aperçu : ce que verront les lecteurs</p>'
    if article is not None and passage is None:
        return title + '<p class="qa-preview-empty">Choisissez le passage qui répond.</p>'
    reply = verified_reply(question, context, article, passage, highlight, Verified(id=0, at=now()))
    asked = render_question(question) if question.strip() else ""
    return f'{title}<div class="qa-preview">{asked}{render_answer(reply, articles)}</div>'


def state_of(record: StoredVerification, stale: frozenset[int], zone: tzinfo) -> str:
    """« en vigueur », « retirée » (when, by whom) or « périmée » (its article changed since)."""
    if record.withdrawn:
        return f"retirée le {local_time(record.withdrawn.at, zone)} par {record.withdrawn.by}"
    return "périmée" if record.verification.id in stale else "en vigueur"


def chosen_answer(record: StoredVerification, articles: Mapping[str, Article]) -> str:
    """The answer an editor chose, as HTML: the passage with its marked sentence, or « ne le dit pas »."""
    v = record.verification
    article = articles.get(v.article or "")
    if v.absent:
        return "<em>L'article ne le dit pas.</em>"
    if article is None or article.sha256 != v.checksum or v.passage is None:
        return "<em>Passage d'un texte modifié depuis : la vérification ne s'applique plus.</em>"
    title, marked = section_title(article, v.passage), v.highlight or v.passage
    before = article.source[v.passage.start : marked.start]
    if marked != v.passage and before.startswith(title):  # the heading is shown as the title
        before = before.removeprefix(title).lstrip()
    after = article.source[marked.end : v.passage.end]
    return (
        f"<strong>{esc(title)}</strong><br>{esc(before)}<mark>{esc(article.text(marked))}</mark>{esc(after)}"
    )


def render_verifications(
    records: Sequence[StoredVerification],
    articles: Mapping[str, Article],
    stale: frozenset[int],
    zone: tzinfo,
) -> str:
    """The verifications as an HTML table, newest first (a card a row on a phone, as the log)."""
    if not records:
        return '<p class="qa-log-empty">Aucune vérification enregistrée.</p>'
    rows = []
    for record in records:
        v = record.verification
        question = esc(v.question) + (
            f'<br><span class="qa-context">(lue à la suite de : « {esc(v.context)} »)</span>'
            if v.context
            else ""
        )
        cells = (
            str(v.id),
            esc(state_of(record, stale, zone)),
            esc(v.author),
            esc(local_time(v.at, zone)),
            question,
            chosen_answer(record, articles),
        )
        rows.append(
            "<tr>"
            + "".join(f'<td data-label="{esc(h)}">{c}</td>' for h, c in zip(LIST_HEADERS, cells, strict=True))
            + "</tr>"
        )
    head = "".join(f'<th scope="col">{esc(h)}</th>' for h in LIST_HEADERS)
    return (
        '<div class="qa-scroll" role="region" tabindex="0" aria-label="Vérifications">'
        '<table class="qa-log qa-verifications"><caption>Vérifications (les plus récentes d’abord)</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def withdraw_choices(records: Sequence[StoredVerification]) -> list[tuple[str, str]]:
    """The verifications that may be withdrawn (those in force, stale ones included)."""
    return [
        (f"n° {r.verification.id} — {cut_text(r.verification.question)}", str(r.verification.id))
        for r in records
        if r.in_force
    ]
