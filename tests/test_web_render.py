"""HTML rendering of answers and articles: escaping, marks, citations, source line."""

from __future__ import annotations

import re
from dataclasses import replace
from html.parser import HTMLParser
from urllib.parse import unquote

from support.samples import XSS

from qa.answer import Answer, Citation, Decision, Scores, Status, Verified
from qa.article import Article
from qa.engine import VAGUE_QUESTION
from qa.web.article_view import render_article
from qa.web.diagnostics import render_diagnostics
from qa.web.render import (
    anchor,
    esc,
    organisation,
    other_passages,
    render_answer,
    render_header,
    render_notice,
    render_pending,
    render_question,
    render_unknown_article,
    source_line,
    status_label,
    topic_question,
    unknown_article_message,
)


def citation(article: Article, section_index: int, sentence_index: int, rank: int = 1) -> Citation:
    """A citation of one section of ``article`` highlighting one of its sentences."""
    section = article.sections[section_index]
    sentence = section.sentences[sentence_index]
    return Citation(
        rank=rank,
        article=article.id,
        section=section.title,
        text=article.text(section),
        highlight=article.text(sentence),
        start=section.start,
        end=section.end,
        score=0.9,
        highlight_start=sentence.start,
        highlight_end=sentence.end,
        scores=Scores(0.88, 4.2, 0.91),
    )


def answered(article: Article, question: str = "Sur quel animal ?") -> Answer:
    """An answer citing two sections of ``article``."""
    cites = [citation(article, 5, 2, rank=1), citation(article, 3, 1, rank=2)]
    decision = Decision(True, "au-dessus du seuil", 0.8, 0.9, 0.9, 0.82)
    return Answer(question, Status.ANSWERED, "D'après l'article …", cites, decision)


class Collector(HTMLParser):
    """Tags, attributes and text of an HTML fragment."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(fragment: str) -> Collector:
    collector = Collector()
    collector.feed(fragment)
    return collector


def test_source_line_comes_from_the_article_metadata(seed_article: Article):
    assert source_line(seed_article) == "Inserm, publié le 4 février 2026"
    other = replace(
        seed_article, credit="Article rédigé par CNRS - Publié le 3 mars 2025", published="3 mars 2025"
    )
    assert source_line(other) == "CNRS, publié le 3 mars 2025"
    anonymous = replace(seed_article, credit=None, published=None, date=None)
    assert source_line(anonymous) == "Jean Pierre Meo"
    assert organisation("INSERM") == "Inserm" and organisation("CNRS") == "CNRS"


def test_header_says_what_it_answers(seed_article: Article):
    header = render_header([seed_article])
    assert "Inserm, publié le 4 février 2026" in header
    assert esc(seed_article.title) in header


def test_answer_quotes_marks_and_cites(seed_article: Article):
    """One answer: the key sentence cites [1] alone; only its passage is marked; the other
    passage comes under « Autres passages », unmarked and unnumbered, still with its link."""
    answer = answered(seed_article)
    html = render_answer(answer, {seed_article.id: seed_article})
    assert "\n" not in html
    first, other = answer.passages
    assert f"« {esc(first.highlight)} »" in html
    assert re.findall(r"<mark>(.*?)</mark>", html) == [esc(first.highlight)]
    key = html[html.index('<blockquote class="qa-key">') : html.index("</blockquote>")]
    assert "[1]" in key and "[2]" not in html
    links = [a for tag, a in parse(html).tags if tag == "a"]
    assert {a["href"] for a in links} == {"#" + anchor(first), "#" + anchor(other, key=False)}
    assert html.index("Passage cité") < html.index("Autres passages")
    assert html.count("Inserm, publié le 4 février 2026") == 2
    assert html.count("Voir dans l’article") == 2
    # The section heading is the passage's title, not repeated inside its text.
    assert html.count(esc(first.section)) == 1


def test_other_passages_only_when_they_add_something(seed_article: Article):
    first, other = answered(seed_article).passages
    same_section = replace(citation(seed_article, 5, 0, rank=2))
    by_meaning_only = replace(other, rank=3, scores=Scores(0.88, 0.0, 0.88))
    far_below = replace(citation(seed_article, 4, 0, rank=4), score=first.score - 0.2)
    answer = Answer(
        "Sur quel animal ?", Status.ANSWERED, "…", [first, same_section, by_meaning_only, far_below]
    )
    assert other_passages(answer) == []
    assert "Autres passages" not in render_answer(answer, {seed_article.id: seed_article})
    assert other_passages(replace(answer, passages=[first, other, other])) == [other]  # no repeat


def test_anchor_names_the_passage_and_its_sentence(seed_article: Article):
    # the page script reads these numbers back to highlight and scroll to the passage
    cited = citation(seed_article, 6, 1)
    assert anchor(cited) == (
        f"p-{seed_article.id}-{cited.start}-{cited.end}-h-{cited.highlight_start}-{cited.highlight_end}"
    )


def test_no_answer_lists_the_covered_sections(seed_article: Article):
    answer = Answer(
        "Quelle est la hauteur de la tour Eiffel ?", Status.NO_ANSWER, "…", [citation(seed_article, 1, 0)]
    )
    html = render_answer(answer, {seed_article.id: seed_article})
    assert "L'article ne traite pas de cette question." in html
    titles = [s.title for s in seed_article.sections if s.kind == "section"]
    assert all(esc(t) in html for t in titles)
    assert "<mark>" not in html  # nearest passages are not presented as an answer


def test_smalltalk_and_invalid_are_shown_as_is(seed_article: Article):
    for status in (Status.SMALLTALK, Status.INVALID):
        html = render_answer(Answer("Bonjour", status, "Bonjour ! <b>Posez</b> une question."), {})
        assert "Bonjour ! &lt;b&gt;Posez&lt;/b&gt; une question." in html


def test_everything_is_escaped(seed_article: Article):
    assert render_question(XSS) == (
        '<p class="qa-sr">Vous :</p><p class="qa-user">&lt;img src=x onerror=alert(1)&gt;</p>'
    )
    evil = replace(seed_article, title=XSS, source=seed_article.source)
    assert "<img" not in render_header([evil])
    cited = replace(citation(seed_article, 5, 1), section=XSS, highlight=XSS, text=XSS)
    answer = Answer(XSS, Status.ANSWERED, XSS, [cited])
    html = render_answer(answer, {})  # unknown article: falls back on the citation's own text
    assert "<img" not in html and not any(tag == "img" for tag, _ in parse(html).tags)
    assert "<img" not in render_answer(Answer(XSS, Status.NO_ANSWER, XSS), {evil.id: evil})


def test_article_view_keeps_offsets(seed_article: Article):
    html = render_article(seed_article)
    spans = [(a, tag) for tag, a in parse(html).tags if "data-start" in a]
    assert len(spans) >= sum(len(s.sentences) for s in seed_article.sections)
    # Every sentence element holds exactly its slice of the source (escaped).
    for attrs, tag in spans:
        if tag == "section":
            continue
        start, end = int(attrs["data-start"]), int(attrs["data-end"])
        piece = esc(seed_article.source[start:end])
        assert f'data-start="{start}" data-end="{end}">{piece}</' in html
    section_ids = {a["id"] for tag, a in parse(html).tags if tag == "section"}
    assert {f"p-{seed_article.id}-{s.start}-{s.end}" for s in seed_article.sections} == section_ids
    assert "Source : Inserm, publié le 4 février 2026" in html


def test_diagnostics_show_scores_threshold_and_reason(seed_article: Article):
    report = answered(seed_article).to_dict(diagnostics=True)
    html = render_diagnostics(report)
    for text in (
        "Dense",
        "Lexical",
        "Fusionné",
        "0,8800",
        "4,2000",
        "0,9100",
        "Seuil de non-réponse",
        "0,8200",
        "au-dessus du seuil",
    ):
        assert text in html


def test_answer_carries_its_id_and_one_tab_stop(seed_article: Article):
    html = render_answer(answered(seed_article), {seed_article.id: seed_article}, "ab" * 16)
    assert f'data-qa-id="{"ab" * 16}"' in html and "qa-votable" in html
    links = [a for tag, a in parse(html).tags if tag == "a"]
    assert len(links) == 4 and [a.get("tabindex") for a in links].count(None) == 1
    for status in (Status.SMALLTALK, Status.INVALID):
        assert "qa-votable" not in render_answer(Answer("Bonjour", status, "Bonjour !"), {})


def test_related_reading_is_never_presented_as_the_answer(seed_article: Article):
    """A status the engine may add: its message, then the passage as related reading."""
    related = (
        Status.__members__.get("RELATED") or type("Related", (), {"value": "related"})()
    )  # the engine's enum may not have it yet
    answer = Answer(
        "Combien de patients ?",
        related,
        "L'article ne le dit pas exactement.",
        [citation(seed_article, 5, 2)],
    )
    html = render_answer(answer, {seed_article.id: seed_article})
    assert esc("L'article ne le dit pas exactement.") in html
    assert "Lecture liée" in html and "qa-related" in html and "qa-votable" in html
    assert "D'après l'article" not in html and 'class="qa-key"' not in html
    assert "<mark>" not in html  # no sentence singled out as if it answered


def test_diagnostics_in_french_with_the_raw_json(seed_article: Article):
    html = render_diagnostics(answered(seed_article).to_dict(diagnostics=True))
    assert "Statut : <strong>Répondu</strong>" in html
    assert "<details" in html and "&quot;highlight_start&quot;" in html
    assert status_label("related") == "Lecture liée" and status_label("autre") == "autre"


def test_subjects_of_a_no_answer_ask_about_them(seed_article: Article):
    answer = Answer("Quelle est la hauteur de la tour Eiffel ?", Status.NO_ANSWER, "…")
    html = render_answer(answer, {seed_article.id: seed_article})
    links = [(attrs, text) for _, attrs, text in _links(html)]
    titles = [s.title for s in seed_article.sections if s.kind == "section"]
    assert [text for _, text in links] == titles
    for (attrs, _), title in zip(links, titles, strict=True):
        assert attrs["class"] == "qa-topic"
        assert unquote(attrs["href"].removeprefix("#qa-ask-")) == topic_question(title)
    assert topic_question("Des conseils simples") == "Que dit l'article sur Des conseils simples ?"


def test_a_vague_question_says_how_to_rephrase(seed_article: Article):
    html = render_answer(
        Answer("Pourquoi ?", Status.NO_ANSWER, VAGUE_QUESTION), {seed_article.id: seed_article}
    )
    assert esc(VAGUE_QUESTION) in html and "ne traite pas" not in html
    assert 'class="qa-topic"' in html


def test_a_follow_up_says_which_question_it_was_read_after(seed_article: Article):
    earlier = "Que sait-on sur <b>l'indole-3-carbinol</b> ?"
    html = render_answer(answered(seed_article).with_context(earlier), {seed_article.id: seed_article})
    assert f'<p class="qa-context">(lue à la suite de : « {esc(earlier)} »)</p>' in html
    assert "qa-context" not in render_answer(answered(seed_article), {seed_article.id: seed_article})


def test_unknown_article_header_is_french_and_escaped(seed_article: Article):
    html = render_unknown_article(XSS, [seed_article])
    assert "Article inconnu" in html and 'role="alert"' in html and "<img" not in html
    assert seed_article.id not in html and esc(seed_article.title) in html  # titles, not raw ids
    assert "…" in render_unknown_article("x" * 300, [seed_article])
    assert unknown_article_message("absent", [seed_article]) == (
        f"Article inconnu : absent. Articles : {seed_article.id}."
    )


def _links(html: str) -> list[tuple[str, dict, str]]:
    """The ``<a>`` of ``html``: tag, attributes, text."""
    from html.parser import HTMLParser

    found: list[tuple[str, dict, str]] = []

    class Links(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list) -> None:
            if tag == "a":
                found.append((tag, dict(attrs), ""))

        def handle_data(self, data: str) -> None:
            if found and found[-1][2] == "" and self.lasttag == "a":
                found[-1] = (found[-1][0], found[-1][1], data)

    Links().feed(html)
    return found


def test_diagnostics_list_the_learned_decisions_signals(seed_article: Article):
    report = answered(seed_article).to_dict(diagnostics=True)
    report["decision"] |= {
        "signals": {"dense": 0.88, "specific_coverage": 0.5},
        "contributions": {"dense": 0.5},
    }
    html = render_diagnostics(report)
    assert "Signaux (valeur, part du logit)" in html
    assert "dense 0,880 (+0,50), specific_coverage 0,500" in html


def test_diagnostics_name_the_question_a_follow_up_was_read_after(seed_article: Article):
    report = answered(seed_article).with_context("Qu'est-ce que la ferroptose ?").to_dict(diagnostics=True)
    html = render_diagnostics(report)
    assert "<dt>Lue à la suite de</dt><dd>Qu&#x27;est-ce que la ferroptose ?</dd>" in html
    assert "Lue à la suite de" not in render_diagnostics(answered(seed_article).to_dict(diagnostics=True))


def test_an_english_question_is_told_the_answer_is_french(seed_article: Article):
    english = replace(answered(seed_article), question="What did researchers find about leukemia stem cells?")
    html = render_answer(english, {seed_article.id: seed_article})
    assert "Réponse en français" in html and '<span lang="en">' in html
    assert "Réponse en français" not in render_answer(answered(seed_article), {seed_article.id: seed_article})


def test_screen_readers_hear_who_speaks(seed_article: Article):
    """« Vous : » before a question, « Réponse : » before a reply or the pending one (hidden text)."""
    assert render_question("Bonjour ?").startswith('<p class="qa-sr">Vous :</p>')
    html = render_answer(answered(seed_article), {seed_article.id: seed_article})
    assert html.startswith('<p class="qa-sr">Réponse :</p><div class="qa-answer')
    pending = render_pending()
    assert "Recherche dans l’article…" in pending and 'class="qa-pending"' in pending
    assert "qa-answer" not in pending  # a pending reply is no answer (no votes, not counted)
    notice = render_notice("Article <b>inconnu</b>")
    assert "&lt;b&gt;" in notice and "qa-votable" not in notice


def test_a_verified_reply_says_so_above_the_quote(seed_article: Article):
    articles = {seed_article.id: seed_article}
    plain = render_answer(answered(seed_article), articles)
    assert "qa-verified" not in plain and "vérifiée" not in plain
    verified = render_answer(
        replace(answered(seed_article), verified=Verified(3, "2026-12-03T10:00:00+00:00")), articles
    )
    badge = verified.index('<p class="qa-verified">Réponse vérifiée par la rédaction</p>')
    assert badge < verified.index("qa-key") and "✓" not in verified  # the mark is CSS, not read
    absent = Answer("Combien ?", Status.NO_ANSWER, "", verified=Verified(4, "2026-12-03T10:00:00+00:00"))
    declined = render_answer(absent, articles)
    assert declined.index("Réponse vérifiée") < declined.index("ne traite pas de cette question")


def test_render_question_survives_lone_surrogates():
    assert render_question("a\ud800b <b>").endswith('<p class="qa-user">a?b &lt;b&gt;</p>')
