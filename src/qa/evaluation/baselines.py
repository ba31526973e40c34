"""Reference systems measured beside the engine, in the same run and on the same passages.

- :class:`Naive`: the design card as written: e5 over whole sections, the three nearest shown,
  always "answered", the section's first sentence as highlight.
- :class:`Bm25`: French BM25 alone over the engine's passages, always "answered", the sentence
  sharing most of the question's (IDF-weighted) words as highlight.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from qa.answer import Answer, Citation, Scores, Status
from qa.article import Article, Span
from qa.engine import Engine

SHOWN = 3


def _citation(
    *, rank: int, article: Article, title: str, span: Span, sentence: Span, score: float
) -> Citation:
    """``span`` of ``article`` cited at ``rank`` under ``title``, ``sentence`` marked, scored ``score``."""
    return Citation(
        rank=rank,
        article=article.id,
        section=title,
        text=article.text(span),
        highlight=article.text(sentence),
        start=span.start,
        end=span.end,
        score=score,
        highlight_start=sentence.start,
        highlight_end=sentence.end,
        scores=Scores(dense=score, lexical=0.0, fused=score),
    )


class Naive:
    """e5 over whole sections (the header included), nearest first, never declines."""

    def __init__(self, engine: Engine) -> None:
        """Embed every section of the engine's articles whole."""
        self.encoder = engine.encoder
        self.sections = [
            (article, section)
            for article in engine.articles
            for section in article.sections
            if section.sentences
        ]
        texts = [article.text(section) for article, section in self.sections]
        self.vectors = self.encoder.encode_passages(texts)

    def ask(self, question: object, history: Sequence[str] = ()) -> Answer:
        """The three nearest sections."""
        text = str(question)
        query = self.encoder.encode_queries([text])[0]
        scores = self.vectors @ query
        citations = []
        for rank, i in enumerate(np.argsort(-scores)[:SHOWN], 1):
            article, section = self.sections[i]
            citations.append(
                _citation(
                    rank=rank,
                    article=article,
                    title=section.title,
                    span=Span(section.start, section.end),
                    sentence=section.sentences[0],
                    score=float(scores[i]),
                )
            )
        return Answer(question=text, status=Status.ANSWERED, message="", passages=citations)


class Bm25:
    """BM25 over the engine's passages, never declines."""

    def __init__(self, engine: Engine) -> None:
        """Reuse the engine's lexical index, passages and sentence stems."""
        self.engine = engine

    def ask(self, question: object, history: Sequence[str] = ()) -> Answer:
        """The three best passages by BM25."""
        corpus, text = self.engine.corpus, str(question)
        terms = corpus.lexical.analyse(text)
        scores = corpus.lexical.scores(terms)
        wanted = {t.stem: corpus.lexical.idf(t.stem) for t in terms if t.stem}
        citations = []
        for rank, i in enumerate(np.argsort(-scores, kind="stable")[:SHOWN], 1):
            passage = corpus.passage(i)
            overlaps = [sum(v for k, v in wanted.items() if k in stems) for stems in corpus.sentence_stems[i]]
            sentence = passage.sentences[int(np.argmax(overlaps))]
            citations.append(
                _citation(
                    rank=rank,
                    article=corpus.article(i),
                    title=passage.title,
                    span=Span(passage.start, passage.end),
                    sentence=sentence,
                    score=float(scores[i]),
                )
            )
        return Answer(question=text, status=Status.ANSWERED, message="", passages=citations)
