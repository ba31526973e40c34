"""The staff page (Gradio Blocks, mounted at ``/staff``): diagnostics, the question log, verifications.

The « Vérifications » tab is :mod:`qa.web.staff_verify`; each row of the log links to it
(« Vérifier », ``?verifier=<n°>``), a plain link: reached with Tab, followed with Enter.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo
from urllib.parse import urlencode

import gradio as gr

from qa.answer import Status
from qa.errors import UnknownArticle
from qa.web.diagnostics import render_diagnostics
from qa.web.errors import unknown_article
from qa.web.export import NEWSROOM_ZONE, local_time
from qa.web.feedback import LoggedQuestion
from qa.web.render import esc, status_label
from qa.web.service import FEEDBACK_OFF, Assistant
from qa.web.staff_verify import TAB_ID, VerificationTab, article_choices

# The engine's statuses (the CSV export accepts exactly those), each with its French word.
STATUS_CHOICES = [("Tous", ""), *((status_label(s.value), s.value) for s in Status)]
LOG_HEADERS = ("Heure", "Question", "Lue à la suite de", "Statut", "Phrase citée", "Avis")
VERDICT_LABELS = {"up": "👍 utile", "down": "👎 pas utile", None: ""}
VERIFY_HEADER = "Vérification"


def log_rows(rows: list[LoggedQuestion], zone: tzinfo = NEWSROOM_ZONE) -> list[list[str]]:
    """Turn the log into table rows (plain text cells, statuses in French, times in ``zone``)."""
    return [
        [
            local_time(r.asked_at, zone),
            r.question,
            r.context or "",
            status_label(r.status),
            r.cited_sentence,
            VERDICT_LABELS.get(r.feedback, ""),
        ]
        for r in rows
    ]


def render_log(rows: list[list[str]], ids: Sequence[int] = ()) -> str:
    """The log as an HTML table; on a phone each row becomes a card (CSS, ``data-label``).

    With the rows' ``ids``, a last column links each question to the « Vérifications » tab.
    """
    if not rows:
        return '<p class="qa-log-empty">Aucune question enregistrée pour ce filtre.</p>'
    headers = (*LOG_HEADERS, VERIFY_HEADER) if ids else LOG_HEADERS
    head = "".join(f'<th scope="col">{esc(h)}</th>' for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td data-label="{esc(h)}">{esc(cell)}</td>' for h, cell in zip(LOG_HEADERS, row, strict=True)
        )
        + (f'<td data-label="{esc(VERIFY_HEADER)}">{verify_link(ids[i])}</td>' if ids else "")
        + "</tr>"
        for i, row in enumerate(rows)
    )
    return (
        '<div class="qa-scroll" role="region" tabindex="0" aria-label="Journal des questions">'
        '<table class="qa-log"><caption>Questions (les plus récentes d’abord)</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


def verify_link(log_id: int) -> str:
    """The link that opens the « Vérifications » tab on the logged question ``log_id``."""
    query = esc(urlencode({TAB_ID: log_id}))
    return (
        f'<a class="qa-cite" href="?{query}">Vérifier<span class="qa-sr"> la question n° {log_id}</span></a>'
    )


def export_link(status: str) -> str:
    """Render a link to the CSV export of the log, with the current filter."""
    query = f"?{urlencode({'status': status})}" if status else ""
    return (
        f'<p><a class="qa-cite" href="export.csv{esc(query)}" download>Télécharger le journal (CSV)</a></p>'
    )


def matching(rows: list[LoggedQuestion], text: str) -> list[LoggedQuestion]:
    """The rows whose question or cited sentence contains ``text`` (case-insensitive)."""
    wanted = (text or "").strip().casefold()
    if not wanted:
        return rows
    return [r for r in rows if wanted in r.question.casefold() or wanted in r.cited_sentence.casefold()]


def build_staff(assistant: Assistant, zone: tzinfo = NEWSROOM_ZONE) -> gr.Blocks:
    """Build the staff Blocks; access control is HTTP Basic on /staff (``qa.web.security.StaffAuth``).

    Times in the log are shown in ``zone`` with their UTC offset, as in the CSV export.
    """
    title = "Questions sur l'article — rédaction"
    with gr.Blocks(title=title, analytics_enabled=False) as blocks:
        gr.HTML(
            '<header class="qa-header"><h1>Espace équipe</h1><p class="qa-tagline">'
            "Scores des passages, seuil de non-réponse et raison de chaque décision ; "
            "journal des questions posées ; réponses vérifiées par la rédaction.</p></header>"
        )
        with gr.Tabs(overflow_behavior="wrap") as tabs:  # on a phone, no « More tabs » menu (English)
            with gr.Tab("Diagnostic", id="diagnostic"):
                with gr.Row(equal_height=True):
                    question = gr.Textbox(
                        label="Question à diagnostiquer",
                        scale=5,
                        lines=1,
                        placeholder="Tapez une question puis Entrée…",
                        elem_id="qa-staff-question",
                        min_width=200,
                    )
                    run = gr.Button("Diagnostiquer", variant="primary", scale=1, min_width=180)
                with gr.Row(equal_height=True):
                    earlier = gr.Textbox(
                        label="Questions précédentes (une par ligne, la plus ancienne d'abord)",
                        lines=2,
                        scale=3,
                        elem_id="qa-staff-history",
                        min_width=200,
                    )
                    scope = gr.Dropdown(
                        scope_choices(assistant),
                        value="",
                        label="Article",
                        scale=2,
                        min_width=160,
                        elem_id="qa-staff-scope",
                    )
                report = gr.HTML(elem_id="qa-staff-report")
            with gr.Tab("Journal des questions", id="journal"):
                problem = gr.HTML(_problem(assistant))
                with gr.Row(equal_height=True):
                    status = gr.Dropdown(
                        STATUS_CHOICES, value="", label="Filtrer par statut", scale=2, min_width=160
                    )
                    search = gr.Textbox(
                        label="Rechercher (question ou phrase citée)",
                        scale=3,
                        lines=1,
                        min_width=200,
                        elem_id="qa-staff-search",
                    )
                    refresh = gr.Button("Actualiser", scale=1, min_width=110)
                link = gr.HTML(export_link(""))
                table = gr.HTML(render_log([]), elem_id="qa-staff-log")
            verification = VerificationTab(assistant, zone)
            verifying = verification.layout()

        def diagnose(text: str, history: str, article: str) -> str:
            turns = [line.strip() for line in (history or "").splitlines() if line.strip()]
            try:
                return render_diagnostics(assistant.diagnose(text or "", turns, article or None))
            except UnknownArticle as error:
                return f'<p role="alert">{esc(str(unknown_article(error.article_id, error.known)))}</p>'

        def load_log(chosen: str, text: str) -> tuple[str, str, str]:
            rows = assistant.store.questions(chosen or None) if assistant.store else []
            shown = matching(rows, text)
            return (
                render_log(log_rows(shown, zone), [r.id for r in shown]),
                export_link(chosen or ""),
                _problem(assistant),
            )

        private = {"api_visibility": "private"}
        question.submit(diagnose, [question, earlier, scope], [report], **private)
        run.click(diagnose, [question, earlier, scope], [report], **private)
        for event in (status.change, search.submit, refresh.click, blocks.load):
            event(load_log, [status, search], [table, link, problem], **private)
        verification.wire(blocks, tabs, verifying)  # after the others: their event numbers stay as they were
        # The articles as of the page's load: an index taken up since (qa.web.reload) is offered.
        blocks.load(lambda: gr.Dropdown(choices=scope_choices(assistant)), None, [scope], **private)
    return blocks


def scope_choices(assistant: Assistant) -> list[tuple[str, str]]:
    """The diagnosis's scopes: every article, or one of the engine in service."""
    return [("Tous les articles", ""), *article_choices(assistant)]


def _problem(assistant: Assistant) -> str:
    if assistant.feedback_enabled:
        return ""
    detail = assistant.store.problem if assistant.store and assistant.store.problem else ""
    return f'<p class="qa-feedback-off" role="status">⚠ {esc(FEEDBACK_OFF)} {esc(detail)}</p>'
