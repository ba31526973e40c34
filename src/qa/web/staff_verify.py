"""The staff page's « Vérifications » tab: verify a question, preview the reply, list and withdraw.

An editor picks a logged question (or types one, with the questions before it), then either the
passage of an article that answers it (and, if they like, the sentence to mark) or « L'article
ne le dit pas »; the preview is the chat's reply as visitors will see it. The list below shows
every verification: en vigueur, retirée, or périmée (its article changed since: it no longer
applies). A « Vérifier » link of the question log opens this tab on that question
(``?verifier=<n°>``). Every handler answers in French; none lets an error reach the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo

import gradio as gr

from qa.article import Span
from qa.verified import ABSENT, VerificationError
from qa.web.feedback import LoggedQuestion
from qa.web.render import esc
from qa.web.security import staff_name
from qa.web.service import Assistant
from qa.web.verification_view import (
    PASSAGE,
    VERDICT_CHOICES,
    WHOLE_PASSAGE,
    log_choices,
    parse_span,
    passage_choices,
    refusal,
    render_preview,
    render_verifications,
    sentence_choices,
    withdraw_choices,
)
from qa.web.verifications import Withdrawal

TAB_ID = "verifier"  # the tab's id, and the query parameter that opens it on a logged question
LOGGED_CHOICES = 200  # the latest logged questions offered to verify
INTRO = (
    '<p class="qa-tagline">Corrigez l’assistant : choisissez une question, puis le passage de '
    "l’article qui y répond (et, si vous le souhaitez, la phrase à marquer), ou « L’article ne le "
    "dit pas ». Toute question de même sens recevra ensuite cette réponse, citée mot pour mot.</p>"
)
LEGEND = (
    '<p class="qa-tagline">« Périmée » : le texte de l’article a changé depuis la vérification ; '
    "elle ne s’applique plus. Vérifiez de nouveau la question si besoin.</p>"
)
NOT_STORED = "Vérification non enregistrée : le fichier du journal ne peut pas être écrit."
NOT_WITHDRAWN = "Vérification non retirée : le fichier du journal ne peut pas être écrit."
NO_STORE = "Vérifications indisponibles : le journal des questions n'est pas enregistré."


def message(text: str, alert: bool = False) -> str:
    """A handler's outcome: a status line (``alert`` for a refusal)."""
    role = "alert" if alert else "status"
    return f'<p class="qa-verify-outcome" role="{role}">{esc(text)}</p>'


def turns(earlier: str | None) -> list[str]:
    """The earlier questions typed one a line, oldest first."""
    return [line.strip() for line in (earlier or "").splitlines() if line.strip()]


def author_of(request: gr.Request | None) -> str:
    """Who acts: the Basic-auth user name of the page's request, else ``staff``."""
    headers = getattr(request, "headers", None) or {}
    return staff_name(headers.get("authorization"))


def article_choices(assistant: Assistant) -> list[tuple[str, str]]:
    """The articles of the engine in service, as a dropdown's (title, id) choices."""
    return [(a.title, a.id) for a in assistant.articles.values()]


@dataclass(frozen=True)
class Parts:
    """The tab's components."""

    tab: gr.Tab
    logged: gr.Dropdown
    form: tuple  # question, earlier, verdict, article, passage, sentence: the handlers' order
    preview: gr.HTML
    save: gr.Button
    outcome: gr.HTML
    listing: gr.HTML
    chosen: gr.Dropdown
    withdraw: gr.Button


class VerificationTab:
    """The tab's components and handlers: :meth:`layout` inside the staff page's tabs, then :meth:`wire`.

    Its events are wired after the page's others, so that those keep their numbers (``fn_index``).
    """

    def __init__(self, assistant: Assistant, zone: tzinfo) -> None:
        """Serve ``assistant``'s verifications; times shown in ``zone``, as the log's."""
        self.assistant = assistant
        self.zone = zone

    def layout(self) -> Parts:
        """The tab and its components (inside the page's ``gr.Tabs``)."""
        first = next(iter(self.assistant.articles.values()), None)
        with gr.Tab("Vérifications", id=TAB_ID, elem_id="qa-verify-tab") as tab:
            gr.HTML(INTRO)
            logged = gr.Dropdown(
                [], value=None, label="Question du journal (facultatif)", elem_id="qa-verify-logged"
            )
            question = gr.Textbox(label="Question à vérifier", lines=1, elem_id="qa-verify-question")
            earlier = gr.Textbox(
                label="Questions précédentes (une par ligne, la plus ancienne d'abord)",
                lines=2,
                elem_id="qa-verify-history",
            )
            verdict = gr.Radio(VERDICT_CHOICES, value=PASSAGE, label="Réponse", elem_id="qa-verify-verdict")
            article = gr.Dropdown(
                article_choices(self.assistant),
                value=first.id if first else None,
                label="Article",
                elem_id="qa-verify-article",
            )
            passage = gr.Radio(
                passage_choices(first), value=None, label="Passage qui répond", elem_id="qa-verify-passage"
            )
            sentence = gr.Radio(
                [WHOLE_PASSAGE], value="", label="Phrase à marquer (facultatif)", elem_id="qa-verify-sentence"
            )
            empty = render_preview("", None, first, None, None, self.assistant.articles)
            preview = gr.HTML(empty, elem_id="qa-verify-preview")
            save = gr.Button("Enregistrer la vérification", variant="primary", elem_id="qa-verify-save")
            outcome = gr.HTML(elem_id="qa-verify-outcome")
            listing = gr.HTML(elem_id="qa-verify-list")
            gr.HTML(LEGEND)
            with gr.Row(equal_height=True):
                chosen = gr.Dropdown(
                    [],
                    value=None,
                    label="Vérification à retirer",
                    scale=3,
                    min_width=200,
                    elem_id="qa-verify-chosen",
                )
                withdraw = gr.Button("Retirer", scale=1, min_width=110, elem_id="qa-verify-withdraw")
        form = (question, earlier, verdict, article, passage, sentence)
        return Parts(tab, logged, form, preview, save, outcome, listing, chosen, withdraw)

    def wire(self, blocks: gr.Blocks, tabs: gr.Tabs, p: Parts) -> None:
        """The events of the tab laid out as ``p``; the page's load opens it on ``?verifier=<n°>``."""
        question, earlier, verdict, article, passage, sentence = p.form
        form, lists = list(p.form), [p.listing, p.chosen]
        private = {"api_visibility": "private"}
        chosen = [article, passage, p.preview]  # the first article of the engine in service
        blocks.load(self.opened, None, [tabs, p.logged, question, earlier, *lists, *chosen], **private)
        p.tab.select(self.refreshed, None, [p.logged, *lists], **private)
        p.logged.change(self.from_log, [p.logged], [question, earlier], **private)
        article.change(self.choose_article, [article], [passage, sentence], **private)
        passage.change(self.choose_passage, [article, passage], [sentence], **private)
        verdict.change(self.choose_verdict, [verdict], [article, passage, sentence], **private)
        for event in (verdict.change, passage.change, sentence.change, question.blur, question.submit):
            # One preview at a time, in order: the last choice's is the one left shown.
            event(
                self.preview,
                form,
                [p.preview],
                concurrency_id="qa-verify-preview",
                concurrency_limit=1,
                **private,
            )
        p.save.click(self.save, form, [p.outcome, *lists], **private)
        p.withdraw.click(self.withdraw, [p.chosen], [p.outcome, *lists], **private)

    # --- handlers (Gradio passes the inputs' values; updates are components) --------------------

    def listed(self) -> tuple[str, gr.Dropdown]:
        """The list of verifications, and those that may be withdrawn."""
        self.assistant.refresh()
        records = self.assistant.verification_records()
        html = render_verifications(records, self.assistant.articles, self.assistant.stale, self.zone)
        return html, gr.Dropdown(choices=withdraw_choices(records), value=None)

    def _logged(self) -> list:
        store = self.assistant.store
        return store.questions(limit=LOGGED_CHOICES) if store else []

    def _row(self, log_id: object) -> LoggedQuestion | None:
        store = self.assistant.store
        wanted = str(log_id or "")
        return store.question(int(wanted)) if store and wanted.isdigit() and len(wanted) <= 12 else None

    def opened(self, request: gr.Request) -> tuple:
        """The page's load: the lists, and this tab open on ``?verifier=<n°>`` when asked."""
        rows = self._logged()
        row = self._row(request.query_params.get(TAB_ID))
        if row is None:
            picked = gr.Dropdown(choices=log_choices(rows))
            return (gr.skip(), picked, gr.skip(), gr.skip(), *self.listed(), *self.articles_now())
        choices = log_choices([row, *(r for r in rows if r.id != row.id)])
        picked = gr.Dropdown(choices=choices, value=str(row.id))
        opened = (gr.Tabs(selected=TAB_ID), picked, row.question, row.context or "")
        return (*opened, *self.listed(), *self.articles_now())

    def articles_now(self) -> tuple:
        """The articles of the engine in service, the first chosen: an index taken up since shows."""
        articles = self.assistant.articles
        first = next(iter(articles.values()), None)
        return (
            gr.Dropdown(choices=article_choices(self.assistant), value=first.id if first else None),
            gr.Radio(choices=passage_choices(first), value=None),
            render_preview("", None, first, None, None, articles),
        )

    def refreshed(self) -> tuple:
        """The tab opened: the latest logged questions and verifications."""
        return (gr.Dropdown(choices=log_choices(self._logged())), *self.listed())

    def from_log(self, log_id: str | None) -> tuple:
        """A logged question picked: its text and the question it was read after."""
        row = self._row(log_id)
        return (row.question, row.context or "") if row else (gr.skip(), gr.skip())

    def choose_article(self, article_id: str | None) -> tuple:
        """An article chosen: its passages, none chosen yet."""
        article = self.assistant.articles.get(article_id or "")
        return gr.Radio(choices=passage_choices(article), value=None), gr.Radio(
            choices=[WHOLE_PASSAGE], value=""
        )

    def choose_passage(self, article_id: str | None, passage: str | None) -> gr.Radio:
        """A passage chosen: its sentences, to mark one (or none)."""
        article = self.assistant.articles.get(article_id or "")
        return gr.Radio(choices=sentence_choices(article, parse_span(passage)), value="")

    def choose_verdict(self, verdict: str | None) -> tuple:
        """« L'article ne le dit pas » hides the choice of a passage."""
        shown = verdict != ABSENT
        return gr.Dropdown(visible=shown), gr.Radio(visible=shown), gr.Radio(visible=shown)

    def preview(
        self, question: str, earlier: str, verdict: str, article_id: str, passage: str, sentence: str
    ) -> str:
        """The reply visitors will see (the chat's own rendering)."""
        article = None if verdict == ABSENT else self.assistant.articles.get(article_id or "")
        context = self.assistant.context_of(question or "", turns(earlier))
        spans = parse_span(passage), parse_span(sentence)
        return render_preview(question or "", context, article, *spans, self.assistant.articles)

    def save(
        self,
        question: str,
        earlier: str,
        verdict: str,
        article_id: str,
        passage: str,
        sentence: str,
        request: gr.Request,
    ) -> tuple:
        """« Enregistrer la vérification »: the outcome, and the lists again."""
        absent = verdict == ABSENT
        choice = (None, None, None) if absent else (article_id, parse_span(passage), parse_span(sentence))
        saved = _saved(self.assistant, question, turns(earlier), *choice, author=author_of(request))
        return (saved, *self.listed())

    def withdraw(self, verification: str | None, request: gr.Request) -> tuple:
        """« Retirer »: the outcome, and the lists again."""
        return (_withdrawn(self.assistant, verification, author_of(request)), *self.listed())


def _saved(
    assistant: Assistant,
    question: str | None,
    earlier: list[str],
    article_id: str | None,
    passage: Span | None,
    marked: Span | None,
    *,
    author: str,
) -> str:
    """Record a verification (``article_id`` ``None``: « L'article ne le dit pas »); the French outcome."""
    if assistant.verifications is None:
        return message(NO_STORE, alert=True)
    if article_id is not None and passage is None:
        return message("Vérification refusée : choisissez le passage qui répond.", alert=True)
    try:
        stored = assistant.verify(
            question or "",
            earlier,
            author=author,
            article=article_id,
            start=passage.start if passage else None,
            end=passage.end if passage else None,
            highlight_start=marked.start if marked else None,
            highlight_end=marked.end if marked else None,
            verdict=None if article_id is not None else ABSENT,
        )
    except VerificationError as error:
        return message(refusal(error), alert=True)
    if stored is None:
        return message(NOT_STORED, alert=True)
    return message(
        f"Vérification n° {stored.verification.id} enregistrée : les questions de même sens "
        "reçoivent désormais cette réponse."
    )


def _withdrawn(assistant: Assistant, verification: str | None, author: str) -> str:
    """Withdraw the chosen verification; the French outcome."""
    if not verification or not verification.isdigit() or len(verification) > 12:
        return message("Choisissez d'abord la vérification à retirer.", alert=True)
    number = int(verification)
    outcomes = {
        Withdrawal.DONE: (f"Vérification n° {number} retirée : elle ne s'applique plus.", False),
        Withdrawal.UNKNOWN: (f"Aucune vérification ne porte le n° {number}.", True),
        Withdrawal.ALREADY: (f"La vérification n° {number} était déjà retirée.", True),
        Withdrawal.FAILED: (NOT_WITHDRAWN, True),
    }
    text, alert = outcomes[assistant.withdraw(number, author)]
    return message(text, alert=alert)
