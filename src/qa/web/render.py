"""HTML for the chat's messages; every piece of user or article text is escaped (:func:`esc`).

The output is plain HTML on one line (no raw newline), so that the chat's Markdown renderer passes
it through untouched. Citation links point at ``#p-<article>-<start>-<end>-h-<hs>-<he>``: the
passage and its highlighted sentence, both as offsets into ``Article.source``; the page script
(`qa/web/static/page.js`) turns a click on one into the article tab with that passage highlighted.

The article view is built in :mod:`qa.web.article_view` and the staff diagnostics in
:mod:`qa.web.diagnostics`, both with :func:`esc`; tests/test_web_render.py checks the escaping
of all three.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from urllib.parse import quote

from qa.answer import Answer, Citation
from qa.article import CREDITED, Article
from qa.engine import VAGUE_QUESTION
from qa.textnorm import looks_english
from qa.web.errors import unknown_article

# French typography: an acronym read as a word, of 5+ letters, is written "Inserm", not "INSERM".
ACRONYM_AS_WORD = 5


def esc(text: str) -> str:
    """Escape text for HTML content or attributes; newlines become ``<br>``."""
    return html.escape(text, quote=True).replace("\r\n", "\n").replace("\n", "<br>")


def organisation(name: str) -> str:
    """Write an all-capitals organisation name read as a word with only its initial capital."""
    name = name.strip()
    if name.isupper() and name.isalpha() and len(name) >= ACRONYM_AS_WORD:
        return name.capitalize()
    return name


def source_line(article: Article) -> str:
    """Who signs the article and when, from its metadata: « Inserm, publié le 4 février 2026 »."""
    credited = CREDITED.search(article.credit or "")
    who = organisation(credited.group("who")) if credited else (article.author or "")
    when = article.published or article.date
    if who and when:
        return f"{who}, publié le {when}"
    if when:
        return f"Publié le {when}"
    return who or article.title


def anchor(citation: Citation, key: bool = True) -> str:
    """Return the fragment a citation link points at: the passage and, with ``key``, its sentence.

    The page script marks the sentence in yellow in the article view: only the passage that
    answers has one (``key=False`` for the other passages: the passage alone is highlighted).
    """
    passage = f"p-{citation.article}-{citation.start}-{citation.end}"
    return f"{passage}-h-{citation.highlight_start}-{citation.highlight_end}" if key else passage


def render_header(articles: list[Article]) -> str:
    """Render the page title and the one line saying what the assistant answers."""
    if len(articles) == 1:
        article = articles[0]
        scope = f"l'article « {esc(article.title)} » ({esc(source_line(article))})"
    else:
        titles = ", ".join(f"« {esc(a.title)} »" for a in articles)
        scope = f"{len(articles)} articles : {titles}"
    return (
        '<header class="qa-header"><h1>Questions sur l\'article</h1>'
        f'<p class="qa-tagline">Cet assistant répond à vos questions sur {scope}. '
        "Chaque réponse est citée mot pour mot, avec le passage d'où elle vient.</p></header>"
    )


def short_id(article_id: str, limit: int = 40) -> str:
    """An article id as a message shows it: cut after ``limit`` characters."""
    return article_id if len(article_id) <= limit else article_id[:limit] + "…"


def render_unknown_article(article_id: str, articles: Iterable[Article]) -> str:
    """Render the header of a page whose address names no loaded article (``?article=``).

    For the visitor: what is wrong and that the page will not answer; the site owner finds the
    known ids in the documentation (no raw id list here).
    """
    titles = ", ".join(f"« {esc(a.title)} »" for a in articles)
    return (
        '<header class="qa-header"><h1>Questions sur l\'article</h1>'
        '<div class="qa-scope-error" role="alert">'
        f"<p><strong>Article inconnu : « {esc(short_id(article_id))} ».</strong></p>"
        "<p>L'adresse de cette page désigne un article que l'assistant ne connaît pas : il ne "
        "peut pas répondre ici. Signalez-le au site qui vous a mené à cette page.</p>"
        f"<p>Articles que l'assistant connaît : {titles}.</p></div></header>"
    )


UNKNOWN_ARTICLE_REPLY = (
    "Cette page désigne un article que l'assistant ne connaît pas : il ne peut pas répondre ici."
)


def unknown_article_message(article_id: str, articles: Iterable[Article]) -> str:
    """The French error for an unknown article id (Gradio ``/ask``): the library's, the id cut."""
    return str(unknown_article(article_id, (a.id for a in articles)))


def render_context(earlier: str) -> str:
    """The discreet line saying a follow-up was read after an earlier question."""
    return f'<p class="qa-context">(lue à la suite de : « {esc(earlier)} »)</p>'


# Screen readers hear who speaks (« Vous : », « Réponse : ») before each message; the text is
# visually hidden (``.qa-sr``) and sits outside ``.qa-user`` / ``.qa-answer``, whose text is the
# message itself. Each is a paragraph: a message that starts with a block-level tag is an HTML
# block for the chat's Markdown, so « **gras** » in a question stays text (a <span> would not).
YOU = '<p class="qa-sr">Vous :</p>'
REPLY = '<p class="qa-sr">Réponse :</p>'
PENDING = "Recherche dans l’article…"


def render_question(question: str) -> str:
    """Render a user's question as text, whatever it contains (a lone surrogate becomes "?")."""
    return f'{YOU}<p class="qa-user">{esc(question.encode("utf-8", "replace").decode("utf-8"))}</p>'


def render_pending() -> str:
    """The reply shown while the answer is on its way (replaced by the answer)."""
    return f'{REPLY}<p class="qa-pending" role="status">{PENDING}</p>'


def render_notice(text: str) -> str:
    """A reply that is no answer (an unknown article, a refusal): the text alone, not votable."""
    return f'{REPLY}<div class="qa-answer qa-invalid"><p>{esc(text)}</p></div>'


VERIFIED_BADGE = '<p class="qa-verified">Réponse vérifiée par la rédaction</p>'  # ✓ from page.css
# Replies a reader may vote on: an answer, a decline, related reading (not greetings or errors).
VOTABLE = frozenset({"answered", "no_answer", "related"})
# The staff page's words for each status; an unknown one is shown as it is.
STATUS_LABELS = {
    "answered": "Répondu",
    "no_answer": "Sans réponse",
    "related": "Lecture liée",
    "smalltalk": "Conversation",
    "invalid": "Invalide",
}


def status_label(status: str) -> str:
    """The French word for an answer status (the raw value if it is unknown)."""
    return STATUS_LABELS.get(status, status)


# An English question is answered from a French article, in French: the reply says so, in both.
ENGLISH_HINT = (
    '<p class="qa-context">Réponse en français, citée d’un article en français '
    '<span lang="en">(the answer is quoted in French from a French article)</span>.</p>'
)


def render_answer(answer: Answer, articles: Mapping[str, Article], answer_id: str = "") -> str:
    """Render the chat reply: quoted key sentence and cited passages, related reading, or decline.

    ``answer_id`` travels with the message (``data-qa-id``) so that a vote on it finds its
    answer whatever happened to the conversation since. Dispatches on ``answer.status.value``:
    an unknown status shows the engine's message and its passages, never as the answer.
    """
    status = answer.status.value
    if status == "answered" and answer.passages:
        body = _answered(answer, articles)
    elif status == "no_answer":
        body = _declined(answer, list(articles.values()))
    elif answer.passages:
        body = _related(answer, articles)
    else:
        body = f"<p>{esc(answer.message)}</p>"
    if answer.verified:  # an editor chose this reply: the badge comes before it
        body = VERIFIED_BADGE + body
    if answer.context:
        body = render_context(answer.context) + body
    if status in ("answered", "related", "no_answer") and looks_english(answer.question):
        body = ENGLISH_HINT + body
    classes = f"qa-answer qa-{esc(status)}" + (" qa-votable" if status in VOTABLE else "")
    ident = f' data-qa-id="{esc(answer_id)}"' if answer_id else ""
    return f'{REPLY}<div class="{classes}"{ident}>{body}</div>'


def _cite_link(citation: Citation, label: str, extra: str = "", key: bool = True) -> str:
    title = (
        "Voir le passage cité dans l'article"
        if key
        else f"Voir le passage « {citation.section} » dans l'article"
    )
    href = esc(anchor(citation, key))
    return f'<a class="qa-cite" href="#{href}" title="{esc(title)}"{extra}>{label}</a>'


# Only one citation link per reply is in the Tab order (the first passage's "Voir dans l'article");
# the arrow keys move between a reply's links (page script). The numbers repeat those links.
OUT_OF_TAB_ORDER = ' tabindex="-1"'
# A further passage of an answer is shown (« Autres passages ») only when it adds something: from
# another section than the answer's, sharing words with the question (a lexical score above 0:
# a passage found by meaning alone is most often about another subject), and close to the
# answer's score (within OTHER_PASSAGE_GAP of the fused score).
OTHER_PASSAGE_GAP = 0.1


def other_passages(answer: Answer) -> list[Citation]:
    """The passages of an answer shown under « Autres passages » (see :data:`OTHER_PASSAGE_GAP`)."""
    if not answer.passages:
        return []
    first, *rest = answer.passages
    kept: list[Citation] = []
    for cited in rest:
        sections = {(first.article, first.section), *((c.article, c.section) for c in kept)}
        if (
            (cited.article, cited.section) not in sections
            and cited.scores.lexical > 0
            and cited.score >= first.score - OTHER_PASSAGE_GAP
        ):
            kept.append(cited)
    return kept


def _answered(answer: Answer, articles: Mapping[str, Article]) -> str:
    """One answer: the key sentence, the passage it comes from (marked), then other passages."""
    first = answer.passages[0]
    number = _cite_link(first, "[1]", OUT_OF_TAB_ORDER)
    # The engine's message repeats the key sentence and its section: both are shown below.
    parts = [f'<blockquote class="qa-key"><p>« {esc(first.highlight)} » {number}</p></blockquote>']
    parts.append(_passage_list("Passage cité", [first], articles))
    if others := other_passages(answer):
        parts.append(
            _passage_list("Autres passages", others, articles, mark=False, numbered=False, tab_stop=False)
        )
    return "".join(parts)


def _related(answer: Answer, articles: Mapping[str, Article]) -> str:
    """The article does not say exactly that: the message, then the passage as related reading."""
    return f'<p class="qa-related-note">{esc(answer.message)}</p>' + _passage_list(
        "Lecture liée (ce n’est pas une réponse)", answer.passages, articles, mark=False
    )


def _passage_list(
    title: str,
    citations: list[Citation],
    articles: Mapping[str, Article],
    mark: bool = True,
    numbered: bool = True,
    tab_stop: bool = True,
) -> str:
    """The passages under ``title``.

    ``mark``: the passages answer, their sentence is marked (and the article view marks it);
    ``numbered``: each one's title starts with its number (``[1]``), as the key quote cites it;
    ``tab_stop``: the list's first link is the reply's one Tab stop (the reply's first list).
    """
    items = "".join(
        _passage(c, articles.get(c.article), first=tab_stop and i == 0, mark=mark, numbered=numbered)
        for i, c in enumerate(citations)
    )
    tag = "ol" if numbered else "ul"
    return f'<p class="qa-cited-title">{esc(title)}</p><{tag} class="qa-passages">{items}</{tag}>'


def _passage(
    citation: Citation, article: Article | None, first: bool = False, mark: bool = True, numbered: bool = True
) -> str:
    start = _shown_start(citation, article)
    text = article.source[start : citation.end] if article else citation.text
    base = start if article else citation.start
    marked = _marked(text, base, citation) if mark else esc(text)
    source = esc(source_line(article)) if article else esc(citation.article)
    number = f"{_cite_link(citation, f'[{citation.rank}]', OUT_OF_TAB_ORDER)} " if numbered else ""
    view = _cite_link(citation, "Voir dans l’article", "" if first else OUT_OF_TAB_ORDER, key=mark)
    return (
        f'<li class="qa-passage"><p class="qa-section-title">{number}'
        f"<strong>{esc(citation.section)}</strong></p>"
        f'<p class="qa-passage-text">{marked}</p>'
        f'<p class="qa-source">{source} · {view}</p></li>'
    )


def _shown_start(citation: Citation, article: Article | None) -> int:
    """Skip the section heading at the top of a passage: it is shown as the passage's title."""
    if article is None:
        return citation.start
    for section in article.sections:
        heading = section.heading
        if heading and heading.start == citation.start and heading.end <= citation.highlight_start:
            rest = article.source[heading.end : citation.end]
            return heading.end + len(rest) - len(rest.lstrip())
    return citation.start


def _marked(text: str, base: int, citation: Citation) -> str:
    """``text`` (which starts at ``base`` in the source) with the highlight in ``<mark>``."""
    start, end = citation.highlight_start - base, citation.highlight_end - base
    if not (0 <= start < end <= len(text)) or text[start:end] != citation.highlight:
        found = text.find(citation.highlight) if citation.highlight else -1
        if found < 0:
            return esc(text)
        start, end = found, found + len(citation.highlight)
    return f"{esc(text[:start])}<mark>{esc(text[start:end])}</mark>{esc(text[end:])}"


def covered_topics(articles: Iterable[Article]) -> list[str]:
    """List the headed section titles of the articles: what the assistant answers about."""
    return [s.title for a in articles for s in a.sections if s.kind == "section"]


TOPIC_QUESTION = "Que dit l'article sur {} ?"
TOPIC_ANCHOR = "qa-ask-"  # a subject link's fragment: this, then the question, percent-encoded


def topic_question(topic: str) -> str:
    """The question a click on a subject of the no-answer list asks."""
    return TOPIC_QUESTION.format(topic.strip())


def _topic_link(topic: str) -> str:
    """A subject as a link that asks :func:`topic_question` (the page script sends it)."""
    question = topic_question(topic)
    return (
        f'<a class="qa-topic" href="#{TOPIC_ANCHOR}{esc(quote(question, safe=""))}" '
        f'title="{esc("Demander : " + question)}">{esc(topic)}</a>'
    )


def _declined(answer: Answer, articles: list[Article]) -> str:
    subject = (
        "L'article ne traite" if len(articles) == 1 else "Les articles ne traitent"
    ) + " pas de cette question."
    if answer.message == VAGUE_QUESTION:  # « Pourquoi ? » alone: say how to rephrase
        subject = esc(answer.message)
    # The engine's message says the same in one line; the list below is easier to read.
    parts = [f'<p class="qa-decline"><strong>{subject}</strong></p>']
    topics = "".join(f"<li>{_topic_link(t)}</li>" for t in covered_topics(articles))
    if topics:
        parts.append(
            "<p>Vous pouvez l’interroger sur ces sujets (cliquez pour demander) :</p>"
            f'<ul class="qa-topics">{topics}</ul>'
        )
    return "".join(parts)
