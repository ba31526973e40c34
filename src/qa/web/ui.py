"""The public page (Gradio Blocks): the chat, the article, and the named ``/ask`` API endpoint.

Longer than 250 lines on purpose: one Gradio Blocks layout, whose events must be wired inside the
same ``with gr.Blocks()`` context as the components they read and write.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import gradio as gr

from qa.article import Article
from qa.web.article_view import render_article, render_back_link
from qa.web.assets import SCOPE_SCRIPT
from qa.web.errors import Refusal
from qa.web.examples import EXAMPLES, scoped_examples
from qa.web.feedback import cited_passages
from qa.web.history import bound_history, parse_history
from qa.web.render import (
    UNKNOWN_ARTICLE_REPLY,
    VOTABLE,
    esc,
    render_answer,
    render_header,
    render_notice,
    render_pending,
    render_question,
    render_unknown_article,
    unknown_article_message,
)
from qa.web.service import FEEDBACK_OFF, Assistant

PAGE_TITLE = "Questions sur l'article — assistant citant ses sources"
PLACEHOLDER = "Posez votre question, puis appuyez sur Entrée…"
UNKNOWN_PLACEHOLDER = "Article inconnu : cette page ne peut pas répondre."
# A session remembers this many of its answers for votes (older ones can no longer be voted on).
KEPT_ANSWERS = 200
ANSWER_ID = re.compile(r'data-qa-id="([0-9a-f]{32})"')


def feedback_note(assistant: Assistant) -> str:
    """Render the warning shown while votes and the log cannot be stored (else empty)."""
    if assistant.feedback_enabled:
        return ""
    return f'<p class="qa-feedback-off" role="status">⚠ {esc(FEEDBACK_OFF)}</p>'


def note_update(assistant: Assistant) -> gr.HTML:
    """Update the feedback note: shown only while feedback is off."""
    note = feedback_note(assistant)
    return gr.HTML(note, visible=bool(note))


def answer_id_in(message: object) -> str | None:
    """The answer id carried by a chat message (its HTML, or Gradio's list/dict forms of it)."""
    found = ANSWER_ID.findall(str(message))
    return found[-1] if found else None


def build_public(assistant: Assistant) -> gr.Blocks:
    """Build the public Blocks: title, chat, examples, votes, article tab, ``/ask`` endpoint."""
    articles = list(assistant.articles.values())
    with gr.Blocks(title=PAGE_TITLE, analytics_enabled=False) as blocks:
        header = gr.HTML(render_header(articles), elem_id="qa-header")
        note = gr.HTML(
            feedback_note(assistant), elem_id="qa-feedback-note", visible=not assistant.feedback_enabled
        )
        answers = gr.State({})  # answer id -> {"log_id", "answer"}: what a vote refers to
        scope = gr.State(None)  # the article of ``?article=ID`` (checked), or None: every article
        hint = gr.Textbox(visible=False)  # ``?article=`` as the browser read it (SCOPE_SCRIPT)
        with gr.Tabs(elem_id="qa-tabs"):
            with gr.Tab("Questions", id="chat", elem_id="qa-tab-chat"):
                chat, status, examples, asked, question, send = _chat_panel(assistant, note, answers, scope)
            with gr.Tab("Article", id="article", elem_id="qa-tab-article"):
                gr.HTML(render_back_link(), elem_classes=["qa-back-top"])
                # Rendered again at each page load: an index taken up since (qa.web.reload) shows.
                view = gr.HTML(render_articles(articles), elem_classes=["qa-article-view"])
                gr.HTML(render_back_link(), elem_classes=["qa-back-bottom"])
        _voting(assistant, chat, answers, [note, status])
        # The chat's own 🗑 is hidden (page CSS: one clear control, « Effacer la conversation »);
        # should it be used, it forgets the earlier questions too.
        chat.clear(lambda: [], None, [asked], api_visibility="private")

        def load_scope(value: str | None, request: gr.Request) -> list:
            """Scope the page to ``?article=ID``: the state, the header, the article views.

            An unknown id: the page says so and cannot be used (no examples, no article tab, the
            question box disabled): answering from other articles, next to the article the
            visitor reads on the host page, would mislead.
            """
            article = page_scope(value, request)
            current = assistant.articles  # those of the engine in service, as of now
            usable = [gr.Textbox(interactive=True), gr.Button(interactive=True)]
            if article is None:
                everything = list(current.values())
                shown = render_articles(everything)
                return [None, render_header(everything), shown, *example_buttons(None), *usable]
            if article not in current:
                closed = [
                    gr.Textbox(interactive=False, placeholder=UNKNOWN_PLACEHOLDER),
                    gr.Button(interactive=False),
                ]  # the tabs are hidden by the page CSS (a header with .qa-scope-error)
                header_html = render_unknown_article(article, list(current.values()))
                return [article, header_html, "", *example_buttons(None, shown=False), *closed]
            found = current[article]
            shown = render_articles([found])
            return [article, render_header([found]), shown, *example_buttons(found), *usable]

        blocks.load(
            load_scope,
            [hint],
            [scope, header, view, *examples, question, send],
            js=SCOPE_SCRIPT,
            api_visibility="private",
            show_progress="hidden",
        )

        async def ask(question: str, history: list[str] | None = None, article: str | None = None) -> dict:
            """Answer a question about the article with the JSON contract.

            ``history``: the earlier questions, oldest first (the last few are used);
            ``article``: the id of the only article to search (an unknown one is an error).
            """
            try:
                earlier = parse_history(history, assistant.max_history, assistant.max_question_chars)
            except Refusal as refused:
                raise gr.Error(refused.message) from refused
            if article is not None and (not isinstance(article, str) or article not in assistant.articles):
                raise gr.Error(unknown_article_message(str(article), list(assistant.articles.values())))
            try:
                answer, _ = await assistant.ask_async(question, earlier, article)
            except Refusal as refused:  # the gate: busy or too slow
                raise gr.Error(refused.message) from refused
            return answer.to_dict()

        gr.api(ask, api_name="ask")
    return blocks


def render_articles(articles: list[Article]) -> str:
    """The « Article » tab's view: each article whole, one after the other (``page.js`` finds one by id)."""
    return "".join(render_article(article) for article in articles)


def page_scope(value: str | None, request: gr.Request | None) -> str | None:
    """The article a page asks for (``None``: every article).

    What the browser read (``SCOPE_SCRIPT``), else the query of the request.
    """
    if value is None and request is not None:
        value = dict(getattr(request, "query_params", {}) or {}).get("article")
    value = (value or "").strip()
    return value or None


def vote_status(text: str) -> str:
    """Render the line that confirms a vote (or says it failed), read out by screen readers."""
    return f'<p class="qa-vote-status">{esc(text)}</p>' if text else ""


def example_buttons(article: Article | None, shown: bool = True) -> list[gr.Button]:
    """Updates of the example buttons for :func:`scoped_examples` (unused ones hidden)."""
    texts = scoped_examples(article) if shown else []
    return [
        gr.Button(texts[i] if i < len(texts) else "", visible=i < len(texts)) for i in range(len(EXAMPLES))
    ]


def earlier_questions(asked: list | None, answer: object, max_items: int) -> list[str]:
    """The chat's questions to read the next one after (the last ``max_items``).

    ``asked`` plus this answer's question when it is about the article (not a greeting or an
    invalid text).
    """
    kept = [q for q in (asked or []) if isinstance(q, str)]
    if getattr(getattr(answer, "status", None), "value", "") in VOTABLE:
        kept.append(answer.question)
    return kept[-max_items:] if max_items > 0 else []


def scoped_articles(assistant: Assistant, article: str | None) -> dict:
    """The articles a chat answers from: the one of its scope, or all."""
    every = assistant.articles
    return every if article is None else {article: every[article]}


def _chat_panel(
    assistant: Assistant, note: gr.HTML, answers: gr.State, scope: gr.State
) -> tuple[gr.Chatbot, gr.HTML, list[gr.Button], gr.State, gr.Textbox, gr.Button]:
    # No fixed height: the empty chat is short (examples in view), a long one scrolls inside.
    chat = gr.Chatbot(
        label="Conversation",
        elem_id="qa-chat",
        height=None,
        max_height="68vh",
        min_height=150,
        latex_delimiters=[],
        autoscroll=False,  # the page script scrolls to the new question instead of the bottom
        buttons=["copy"],
        feedback_options=("Like", "Dislike"),
        placeholder="Les réponses citent l'article mot pour mot. Essayez une question ci-dessous.",
    )
    # Votes are confirmed here, under the chat (Gradio's toasts nest a button in a button).
    status = gr.HTML("", elem_id="qa-vote-status")
    with gr.Row(equal_height=True, elem_id="qa-ask-row"):
        # No autofocus: embedded, it would scroll the host page (the page script focuses the box
        # when the page is not framed).
        question = gr.Textbox(
            label="Votre question",
            placeholder=PLACEHOLDER,
            lines=1,
            max_lines=4,
            scale=5,
            elem_id="qa-question",
            submit_btn=False,
            min_width=180,
        )
        send = gr.Button("Envoyer", variant="primary", scale=1, elem_id="qa-send", min_width=96)
    with gr.Column(elem_id="qa-examples"):
        gr.Markdown("**Exemples de questions :**")
        with gr.Row(elem_id="qa-example-buttons"):
            examples = [
                gr.Button(text, size="sm", variant="secondary", scale=0, min_width=0) for text in EXAMPLES
            ]
    clear = gr.Button("Effacer la conversation", variant="secondary", size="sm", elem_id="qa-clear")
    asked = gr.State([])  # the chat's earlier questions about the article, oldest first (the last few)

    def respond(text: str, history: list, kept: dict, earlier: list, article: str | None) -> Iterator[tuple]:
        """Show the question at once with a French pending reply, then its answer in its place.

        A generator: one event (one question against the rate limit), two updates. Gradio's own
        progress (« processing », « queue: 1/1 », its pending bubble) is hidden.
        """
        if not (text or "").strip():
            yield "", history, kept, note_update(assistant), "", earlier
            return
        history = _settled(history)
        asked_now = [*history, {"role": "user", "content": render_question(text)}]
        yield (
            "",
            [*asked_now, {"role": "assistant", "content": render_pending()}],
            kept,
            gr.skip(),
            "",
            earlier,
        )
        if article is not None and article not in assistant.articles:
            reply = render_notice(UNKNOWN_ARTICLE_REPLY)
            yield (
                "",
                [*asked_now, {"role": "assistant", "content": reply}],
                kept,
                note_update(assistant),
                "",
                earlier,
            )
            return
        turns = assistant.max_history
        answer, log_id = assistant.ask(
            text, bound_history(earlier or [], turns, assistant.max_question_chars), article
        )
        ident = uuid.uuid4().hex
        reply = render_answer(answer, scoped_articles(assistant, article), ident)
        history = [
            *history,
            {"role": "user", "content": render_question(answer.question)},
            {"role": "assistant", "content": reply},
        ]
        if answer.status.value in VOTABLE:
            kept = _remember(kept, ident, {"log_id": log_id, "answer": vote_record(answer.to_dict())})
        yield "", history, kept, note_update(assistant), "", earlier_questions(earlier, answer, turns)

    outputs = [question, chat, answers, note, status, asked]
    private: dict[str, Any] = {"api_visibility": "private", "show_progress": "hidden"}
    question.submit(respond, [question, chat, answers, asked, scope], outputs, **private)
    send.click(respond, [question, chat, answers, asked, scope], outputs, **private)
    for button in examples:  # an example asks its own label (set per article by the page's load)
        button.click(respond, [button, chat, answers, asked, scope], outputs, **private)
    # The answers stay remembered: a vote names its answer by id, not by its place in the chat.
    clear.click(
        lambda: ("", [], note_update(assistant), "", []),
        None,
        [question, chat, note, status, asked],
        **private,
    )
    return chat, status, examples, asked, question, send


def _settled(history: list) -> list:
    """``history`` without a pending reply left behind (its answer never came: refused, cut off)."""
    return [
        m for m in history or [] if not (isinstance(m, dict) and "qa-pending" in str(m.get("content", "")))
    ]


def vote_record(answer: dict) -> dict:
    """What a vote stores about its answer (no passage text: a session keeps up to 200 of these)."""
    return {
        "question": answer.get("question", ""),
        "status": answer.get("status", ""),
        "passages": cited_passages(answer),
    }


def _remember(kept: dict, ident: str, entry: dict) -> dict:
    """``kept`` plus ``ident``, keeping only the latest :data:`KEPT_ANSWERS` answers."""
    kept = {**kept, ident: entry}
    while len(kept) > KEPT_ANSWERS:
        kept.pop(next(iter(kept)))
    return kept


def _voting(assistant: Assistant, chat: gr.Chatbot, answers: gr.State, outputs: list) -> None:
    """``outputs``: the feedback note and the vote status line."""

    def vote(kept: dict, data: gr.LikeData) -> tuple[gr.HTML, str]:
        ident = answer_id_in(data.value)
        entry = kept.get(ident) if ident else None
        if not entry:
            return note_update(assistant), ""
        # a second click on the same thumb takes the vote back: Gradio then sends no verdict
        liked = None if data.liked is None or data.liked == "" else data.liked is True or data.liked == "Like"
        if assistant.record_feedback(entry["log_id"], entry["answer"], liked):
            text = "Votre avis est retiré." if liked is None else "Merci, votre avis est enregistré."
        else:
            text = "Votre avis n'a pas pu être enregistré : retours désactivés."
        return note_update(assistant), vote_status(text)

    # No progress shown: the status line keeps its full contrast while the vote is on its way.
    chat.like(vote, [answers], outputs, api_visibility="private", show_progress="hidden")
