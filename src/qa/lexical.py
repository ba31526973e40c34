"""French lexical retrieval: BM25 over stems, with typo-tolerant matching of query words.

Query words are folded (accents, case, elisions), stop words dropped, and stemmed. A word whose
stem the corpus does not know is matched to a known word it is a plausible misspelling of
(:func:`qa.textnorm.is_typo_of`), at a discount. A word French does not know at all may also be a
slip of another form (:meth:`LexicalIndex._slip_of`), or a misspelt function word ("pouruqoi"),
then dropped. The same statistics give the *coverage* of a
question: the share of its information (IDF-weighted) that the corpus contains at all, which is
the strongest single signal that the article does not answer it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from qa.settings import LexicalTuning, Typos
from qa.textnorm import ELIDED, STOP_WORDS, content_words, is_typo_of, stem, surface_forms
from qa.wordinfo import informativeness


@dataclass(frozen=True)
class QueryTerm:
    """One content word of a question and the corpus stem it was matched to, if any."""

    word: str
    stem: str | None
    weight: float
    info: float = 1.0  # how much the word says in French at large (:mod:`qa.wordinfo`)


class LexicalIndex:
    """BM25 over documents given as texts (optionally with extra field terms)."""

    def __init__(
        self,
        texts: list[str],
        extra_terms: list[list[str]] | None = None,
        tuning: LexicalTuning | None = None,
    ) -> None:
        """Index ``texts``; ``extra_terms[i]`` are words added to document ``i`` (metadata labels).

        ``tuning``: BM25's constants and how misspelt words are read (default: the method's).
        """
        self.tuning = tuning or LexicalTuning()
        extra_terms = extra_terms or [[] for _ in texts]
        self.docs: list[Counter[str]] = []
        surface: dict[str, str] = {}
        for text, extra in zip(texts, extra_terms, strict=True):
            words = content_words(text) + [w for e in extra for w in content_words(e)]
            for word in words:
                surface.setdefault(word, stem(word))
            self.docs.append(Counter(stem(w) for w in words))
        self.lengths = np.array([sum(d.values()) for d in self.docs], dtype=np.float32)
        self.average_length = float(self.lengths.mean()) if len(self.docs) else 0.0
        self.df: Counter[str] = Counter(s for d in self.docs for s in d)
        postings: dict[str, list[tuple[int, int]]] = {}
        for doc_id, doc in enumerate(self.docs):
            for term, tf in doc.items():
                postings.setdefault(term, []).append((doc_id, tf))
        self.postings = {
            term: (np.array([d for d, _ in pairs]), np.array([tf for _, tf in pairs], np.float32))
            for term, pairs in postings.items()
        }
        self._by_initial: dict[str, list[tuple[str, str]]] = {}
        for word, word_stem in surface.items():
            self._by_initial.setdefault(word[0], []).append((word, word_stem))
        self._stems_by_initial: dict[str, set[str]] = {}
        for term in self.df:
            self._stems_by_initial.setdefault(term[:1], set()).add(term)

    def idf(self, term: str | None) -> float:
        """BM25 inverse document frequency; a term the corpus lacks gets the largest value."""
        n = len(self.docs)
        df = self.df.get(term, 0) if term else 0
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def analyse(self, question: str) -> list[QueryTerm]:
        """Match each content word of ``question`` to a corpus stem, exactly or as a typo."""
        terms = []
        forms = surface_forms(question)
        unknown, typos = self.tuning.unknown_info, self.tuning.typos
        for word in dict.fromkeys(content_words(question)):
            info = informativeness(forms.get(word, word))
            word_stem = stem(word)
            if word_stem in self.df:
                terms.append(QueryTerm(word=word, stem=word_stem, weight=1.0, info=info))
            elif corrected := self._typo_of(word) or (info >= unknown and self._slip_of(word)):
                terms.append(QueryTerm(word=word, stem=corrected, weight=self.tuning.typo_weight, info=info))
            elif not (info >= unknown and _misspelt_stop_word(word, typos)):
                terms.append(QueryTerm(word=word, stem=None, weight=0.0, info=info))
        return terms

    def _typo_of(self, word: str) -> str | None:
        """The most frequent corpus stem of a word that ``word`` plausibly misspells."""
        typos = self.tuning.typos
        candidates = [s for w, s in self._by_initial.get(word[0], []) if is_typo_of(word, w, typos)]
        return max(candidates, key=lambda s: self.df[s]) if candidates else None

    def _slip_of(self, word: str) -> str | None:
        """The corpus stem behind a word French lacks, read as a slip of another form.

        Its stem misspells a known stem ("hsopitalisation": "hopital"), or it is an elision typed
        without its apostrophe ("loccident": "occident"). Only for unknown words: a French word
        the corpus lacks ("algérie") is not a slip of a near stem ("aller").
        """
        word_stem, typos = stem(word), self.tuning.typos
        if len(word_stem) >= typos.slip_stem:
            known = self._stems_by_initial.get(word[0], ())
            candidates = [s for s in known if is_typo_of(word_stem, s, typos)]
            if candidates:
                return max(candidates, key=lambda s: self.df[s])
        for elided in ELIDED:
            rest = word[len(elided) :]
            if word.startswith(elided) and len(rest) >= typos.elided_rest and rest[0] in "aeiouyh":
                if stem(rest) in self.df:
                    return stem(rest)
        return None

    def scores(self, terms: Sequence[QueryTerm]) -> np.ndarray:
        """BM25 score of every document for analysed query terms."""
        scores = np.zeros(len(self.docs), dtype=np.float32)
        k1, b = self.tuning.k1, self.tuning.b
        norm = k1 * (1 - b + b * self.lengths / max(self.average_length, 1e-9))
        for term in terms:
            if term.stem is None:
                continue
            doc_ids, tf = self.postings[term.stem]
            weight = term.weight * self.idf(term.stem)
            scores[doc_ids] += weight * tf * (k1 + 1) / (tf + norm[doc_ids])
        return scores

    def coverage(self, terms: Sequence[QueryTerm], vocabulary: set[str] | None = None) -> float:
        """IDF-weighted share of the question's words that the corpus contains (0 when none)."""
        total = sum(self.idf(t.stem) for t in terms)
        if total == 0:
            return 0.0
        return sum(t.weight * self.idf(t.stem) for t in terms if t.stem) / total


def _misspelt_stop_word(word: str, typos: Typos) -> bool:
    """Whether ``word`` is a misspelt function word ("pouruqoi", "comemnt")."""
    return any(len(s) >= typos.stop_word_length and is_typo_of(word, s, typos) for s in STOP_WORDS)


def coverage_in(terms: Sequence[QueryTerm], vocabulary: set[str]) -> float:
    """Share of the question's information (:attr:`QueryTerm.info`) that ``vocabulary`` holds.

    ``vocabulary`` is a set of stems; 0 when the question has no content word.

    Independent of the corpus: the weights are French usage, the vocabulary one article's.
    """
    total = sum(t.info for t in terms)
    if total == 0:
        return 0.0
    return sum(t.weight * t.info for t in terms if t.stem and t.stem in vocabulary) / total
