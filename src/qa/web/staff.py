"""The staff page (Gradio Blocks, mounted at ``/staff``): diagnostics and the question log."""

from __future__ import annotations

from urllib.parse import urlencode

import gradio as gr

from qa.feedback import LoggedQuestion
from qa.web.render import esc, render_diagnostics
from qa.web.service import FEEDBACK_OFF, Assistant

STATUS_CHOICES = [("Tous", ""), ("Répondu", "answered"), ("Sans réponse", "no_answer"),
                  ("Conversation", "smalltalk"), ("Invalide", "invalid")]
LOG_HEADERS = ["Heure (UTC)", "Question", "Statut", "Avis"]
VERDICT_LABELS = {"up": "👍 utile", "down": "👎 pas utile", None: ""}


def log_rows(rows: list[LoggedQuestion]) -> list[list[str]]:
    """Turn the log into table rows (plain text cells)."""
    return [[r.asked_at[:19].replace("T", " "), r.question, r.status,
             VERDICT_LABELS.get(r.feedback, "")] for r in rows]


def export_link(status: str) -> str:
    """Render a link to the CSV export of the log, with the current filter."""
    query = f"?{urlencode({'status': status})}" if status else ""
    return (f'<p><a class="qa-cite" href="export.csv{esc(query)}" download>'
            "Télécharger le journal (CSV)</a></p>")


def build_staff(assistant: Assistant) -> gr.Blocks:
    """Build the staff Blocks; access control is HTTP Basic on /staff (``qa.web.middleware``)."""
    title = "Espace équipe — questions sur l'article"
    with gr.Blocks(title=title, analytics_enabled=False) as blocks:
        gr.HTML('<header class="qa-header"><h1>Espace équipe</h1><p class="qa-tagline">'
                "Scores des passages, seuil de non-réponse et raison de chaque décision ; "
                "journal des questions posées.</p></header>")
        with gr.Tab("Diagnostic"):
            with gr.Row(equal_height=True):
                question = gr.Textbox(label="Question à diagnostiquer", scale=5, lines=1,
                                      placeholder="Tapez une question puis Entrée…",
                                      elem_id="qa-staff-question")
                run = gr.Button("Diagnostiquer", variant="primary", scale=1)
            report = gr.HTML(elem_id="qa-staff-report")
            raw = gr.JSON(label="Réponse complète (avec diagnostics)", open=False)
        with gr.Tab("Journal des questions"):
            problem = gr.HTML(_problem(assistant))
            with gr.Row(equal_height=True):
                status = gr.Dropdown(STATUS_CHOICES, value="", label="Filtrer par statut", scale=3)
                refresh = gr.Button("Actualiser", scale=1)
            link = gr.HTML(export_link(""))
            table = gr.Dataframe(headers=LOG_HEADERS, value=[], datatype="str",
                                 label="Questions (les plus récentes d'abord)",
                                 column_widths=["20%", "52%", "14%", "14%"], show_search="search",
                                 interactive=False, wrap=True, elem_id="qa-staff-log")

        def diagnose(text: str) -> tuple[str, dict]:
            result = assistant.diagnose(text or "")
            return render_diagnostics(result), result

        def load_log(chosen: str) -> tuple[list[list[str]], str, str]:
            rows = assistant.store.questions(chosen or None) if assistant.store else []
            return log_rows(rows), export_link(chosen or ""), _problem(assistant)

        private = {"api_visibility": "private"}
        question.submit(diagnose, [question], [report, raw], **private)
        run.click(diagnose, [question], [report, raw], **private)
        for event in (status.change, refresh.click, blocks.load):
            event(load_log, [status], [table, link, problem], **private)
    return blocks


def _problem(assistant: Assistant) -> str:
    if assistant.feedback_enabled:
        return ""
    detail = assistant.store.problem if assistant.store and assistant.store.problem else ""
    return f'<p class="qa-feedback-off" role="status">⚠ {esc(FEEDBACK_OFF)} {esc(detail)}</p>'
