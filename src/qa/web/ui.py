"""The public page (Gradio Blocks): the chat, the article, and the named ``/ask`` API endpoint."""

from __future__ import annotations

from typing import Any

import gradio as gr

from qa.web.limits import Busy
from qa.web.render import esc, render_answer, render_article, render_header, render_question
from qa.web.service import FEEDBACK_OFF, Assistant

PAGE_TITLE = "Questions sur l'article — assistant citant ses sources"
EXAMPLES = (
    "Qui a écrit l'article ?",
    "Quand l'article a-t-il été publié ?",
    "Quel type de leucémie est concerné par la découverte ?",
    "Quel rôle joue l'indole-3-carbinol ?",
)
PLACEHOLDER = "Posez votre question sur l'article, puis appuyez sur Entrée…"


def feedback_note(assistant: Assistant) -> str:
    """Render the warning shown while votes and the log cannot be stored (else empty)."""
    if assistant.feedback_enabled:
        return ""
    return f'<p class="qa-feedback-off" role="status">⚠ {esc(FEEDBACK_OFF)}</p>'


def note_update(assistant: Assistant) -> gr.HTML:
    """Update the feedback note: shown only while feedback is off."""
    note = feedback_note(assistant)
    return gr.HTML(note, visible=bool(note))


def build_public(assistant: Assistant) -> gr.Blocks:
    """Build the public Blocks: title, chat, examples, votes, article tab, ``/ask`` endpoint."""
    articles = list(assistant.articles.values())
    with gr.Blocks(title=PAGE_TITLE, analytics_enabled=False) as blocks:
        gr.HTML(render_header(articles), elem_id="qa-header")
        note = gr.HTML(feedback_note(assistant), elem_id="qa-feedback-note",
                       visible=not assistant.feedback_enabled)
        entries = gr.State([])  # per chat message: None (user) or {"log_id", "answer"} (assistant)
        with gr.Tabs(elem_id="qa-tabs"):
            with gr.Tab("Questions", id="chat", elem_id="qa-tab-chat"):
                chat = _chat_panel(assistant, note, entries)
            with gr.Tab("Article", id="article", elem_id="qa-tab-article"):
                for article in articles:
                    gr.HTML(render_article(article), elem_classes=["qa-article-view"])
        _voting(assistant, chat, entries, note)

        async def ask(question: str) -> dict:
            """Answer a question about the article with the JSON contract."""
            try:
                answer, _ = await assistant.ask_async(question)
            except Busy as busy:
                raise gr.Error(busy.message) from busy
            return answer.to_dict()

        gr.api(ask, api_name="ask")
    return blocks


def _chat_panel(assistant: Assistant, note: gr.HTML, entries: gr.State) -> gr.Chatbot:
    chat = gr.Chatbot(
        label="Conversation", elem_id="qa-chat", height="68vh", min_height=360, latex_delimiters=[],
        autoscroll=False,  # the page script scrolls to the new question instead of the bottom
        buttons=["copy"], feedback_options=("Like", "Dislike"),
        placeholder="Les réponses citent l'article mot pour mot. Essayez une question ci-dessous.",
    )
    with gr.Row(equal_height=True):
        question = gr.Textbox(
            label="Votre question", placeholder=PLACEHOLDER, lines=1, max_lines=4, scale=5,
            elem_id="qa-question", autofocus=True, submit_btn=False,
        )
        send = gr.Button("Envoyer", variant="primary", scale=1, elem_id="qa-send")
    with gr.Row():
        gr.Markdown("**Exemples de questions :**")
        examples = [gr.Button(text, size="sm", variant="secondary") for text in EXAMPLES]
    clear = gr.Button("Effacer la conversation", variant="secondary", size="sm", elem_id="qa-clear")

    def respond(text: str, history: list, kept: list) -> tuple[str, list, list, gr.HTML]:
        if not (text or "").strip():
            return "", history, kept, note_update(assistant)
        answer, log_id = assistant.ask(text)
        reply = render_answer(answer, assistant.articles)
        history = [*history, {"role": "user", "content": render_question(answer.question)},
                   {"role": "assistant", "content": reply}]
        kept = [*kept, None, {"log_id": log_id, "answer": answer.to_dict()}]
        return "", history, kept, note_update(assistant)

    outputs = [question, chat, entries, note]
    private: dict[str, Any] = {"api_visibility": "private", "show_progress": "minimal"}
    question.submit(respond, [question, chat, entries], outputs, **private)
    send.click(respond, [question, chat, entries], outputs, **private)
    for button, text in zip(examples, EXAMPLES, strict=True):
        button.click(_preset(respond, text), [chat, entries], outputs, **private)
    clear.click(lambda: ("", [], [], note_update(assistant)), None, outputs, **private)
    return chat


def _voting(assistant: Assistant, chat: gr.Chatbot, entries: gr.State, note: gr.HTML) -> None:
    def vote(kept: list, data: gr.LikeData) -> gr.HTML:
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        entry = kept[index] if isinstance(index, int) and 0 <= index < len(kept) else None
        if not entry or data.liked is None or data.liked == "":
            return note_update(assistant)
        liked = data.liked is True or data.liked == "Like"
        if assistant.record_feedback(entry["log_id"], entry["answer"], liked):
            gr.Info("Merci, votre avis est enregistré.")
        else:
            gr.Warning("Votre avis n'a pas pu être enregistré : retours désactivés.")
        return note_update(assistant)

    chat.like(vote, [entries], [note], api_visibility="private")


def _preset(respond: Any, text: str) -> Any:
    """``respond`` with the question fixed (an example button)."""

    def ask_example(history: list, kept: list) -> tuple[str, list, list, gr.HTML]:
        return respond(text, history, kept)

    return ask_example
