"""The loaded articles as the answer path sees them: every passage in one numbering.

Passages of all articles are numbered together (``i``); for each the corpus keeps its article, its
kind (metadata, summary, body), its units in the index, its words for BM25 and its sentences'
stems for the highlight; for each article, its vocabulary and its content passages, where the
evidence for a decision is sought.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from qa.article import Article, Passage, PassageKind
from qa.index import PassageIndex
from qa.lexical import LexicalIndex, QueryTerm
from qa.metadata import LABELS
from qa.settings import LexicalTuning
from qa.textnorm import content_words, stem


def _search_text(article: Article, passage: Passage) -> tuple[str, list[str]]:
    """A passage's text for BM25, and the extra words it is found by.

    Body text is also found by its article's title (the subject a paragraph leaves implicit),
    metadata by the labels of its fields.
    """
    text = article.text(passage)
    if passage.kind != PassageKind.METADATA:
        return text, [article.title]
    return text, [label for key, label in LABELS.items() if getattr(article, key, None)]


class Corpus:
    """Articles, their index, and the per-passage tables the ranking, decision and highlight read."""

    def __init__(
        self, articles: list[Article], index: PassageIndex, lexical: LexicalTuning | None = None
    ) -> None:
        """Number every passage of ``articles`` and index their words (BM25 tuned by ``lexical``)."""
        self.articles = articles
        self.index = index
        self.passages: list[tuple[int, int]] = [
            (a, p) for a, article in enumerate(articles) for p in range(len(article.passages))
        ]
        position = {key: i for i, key in enumerate(self.passages)}
        self.unit_passage = np.array([position[(u.article, u.passage)] for u in index.units], dtype=int)
        self.passage_units = [np.flatnonzero(self.unit_passage == i) for i in range(len(self.passages))]
        self.passage_article = np.array([a for a, _ in self.passages], dtype=int)
        # Each passage's kind (PassageKind's values), for the priors' vectorised comparisons.
        self.kinds = np.array([self.passage(i).kind for i in range(len(self.passages))], dtype=np.int8)
        self.vectors = index.vectors()
        searchable = [_search_text(articles[a], articles[a].passages[p]) for a, p in self.passages]
        self.lexical = LexicalIndex([t for t, _ in searchable], [extra for _, extra in searchable], lexical)
        # Stems of every highlight candidate, once: the highlight compares them with each question.
        self.sentence_stems = [
            [
                frozenset(stem(w) for w in content_words(self.article(i).text(span)))
                for span in self.passage(i).sentences
            ]
            for i in range(len(self.passages))
        ]
        self.article_stems: list[set[str]] = [set() for _ in articles]
        self.article_passages: list[list[int]] = [[] for _ in articles]
        self.article_df: list[Counter[str]] = [Counter() for _ in articles]  # content passages per stem
        content: set[str] = set()
        for i, (a, _) in enumerate(self.passages):
            self.article_stems[a].update(self.lexical.docs[i])
            if self.kinds[i] != PassageKind.METADATA:
                self.article_passages[a].append(i)
                self.article_df[a].update(self.lexical.docs[i].keys())
                content.update(self.lexical.docs[i])
        # Words only the metadata holds (an author's name; not the labels it is indexed with).
        self.metadata_only = {
            stem(w)
            for i in range(len(self.passages))
            if self.kinds[i] == PassageKind.METADATA
            for w in content_words(self.text(i))
        } - content

    def passage(self, i: int) -> Passage:
        """Passage ``i``."""
        a, p = self.passages[i]
        return self.articles[a].passages[p]

    def article(self, i: int) -> Article:
        """The article of passage ``i``."""
        return self.articles[self.passages[i][0]]

    def text(self, i: int) -> str:
        """The verbatim text of passage ``i``."""
        return self.article(i).text(self.passage(i))

    def best_unit(self, i: int, vector: np.ndarray) -> float:
        """Passage ``i``'s dense score: the best cosine of its units with a question's ``vector``."""
        return float((self.vectors[self.passage_units[i]] @ vector).max())

    def names_metadata(self, terms: Sequence[QueryTerm]) -> bool:
        """Whether the question names something only the metadata holds (an author's name)."""
        return any(t.stem in self.metadata_only for t in terms)
