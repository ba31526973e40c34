"""BM25 over French stems, typo matching and the coverage of a question."""

from __future__ import annotations

import numpy as np
import pytest
from support.paths import SEED

from qa.article import load_article
from qa.lexical import LexicalIndex
from qa.settings import LexicalTuning

TYPO_WEIGHT = LexicalTuning().typo_weight

DOCS = [
    "Les cellules souches leucémiques utilisent le fer de façon particulière.",
    "Un anticorps-médicament pour le cancer du sein métastatique.",
    "L'indole-3-carbinol, issu des choux, renforce l'immunothérapie.",
    "La Journée mondiale contre le cancer mobilise l'Inserm.",
]


@pytest.fixture(scope="module")
def index() -> LexicalIndex:
    return LexicalIndex(DOCS)


def ranking(index: LexicalIndex, question: str) -> list[int]:
    scores = index.scores(index.analyse(question))
    return [int(i) for i in np.argsort(-scores, kind="stable") if scores[i] > 0]


@pytest.mark.parametrize(
    ("question", "best"),
    [
        ("cellules souches et fer", 0),
        ("anticorps pour le sein", 1),
        ("choux immunothérapie", 2),
        ("journée mondiale", 3),
        # accents, case, elisions, inflections
        ("LEUCEMIQUE", 0),
        ("l’immunotherapie des chou", 2),
        ("Quel médicament ?", 1),
        ("metastatiques", 1),
        # typos
        ("cancer du sien metastatik", 1),
        ("imunotherapie", 2),
        ("indole 3 carbinol", 2),
    ],
)
def test_bm25_ranks_the_document_with_the_words_first(index: LexicalIndex, question: str, best: int) -> None:
    assert ranking(index, question)[0] == best


def test_shared_word_scores_less_than_rare_word(index: LexicalIndex) -> None:
    # "cancer" is in two documents, "sein" in one: the rarer word is worth more
    cancer = index.scores(index.analyse("cancer"))
    sein = index.scores(index.analyse("sein"))
    assert sein.max() > cancer.max() > 0
    assert (cancer > 0).sum() == 2


def test_unrelated_question_scores_nothing(index: LexicalIndex) -> None:
    assert ranking(index, "hauteur de la tour Eiffel") == []
    assert not index.scores(index.analyse("que qui quoi ?")).any()


def test_analyse_reports_matches(index: LexicalIndex) -> None:
    terms = {t.word: t for t in index.analyse("sein sien tour 2025")}
    assert terms["sein"].weight == 1.0 and terms["sein"].stem
    assert terms["sien"].stem == terms["sein"].stem and terms["sien"].weight == TYPO_WEIGHT
    assert terms["tour"].stem is None and terms["tour"].weight == 0.0
    assert terms["2025"].stem is None


def test_words_french_lacks_are_read_as_slips() -> None:
    index = LexicalIndex(
        ["Les patients hospitalisés.", "L'Occident découvre la peinture.", "Ils vont aller voter."]
    )
    terms = {t.word: t for t in index.analyse("pouruqoi loccident hsopitalisation algerie")}
    assert "pouruqoi" not in terms  # a misspelt "pourquoi" says nothing about the topic
    assert terms["loccident"].stem == index.analyse("occident")[0].stem  # "l'occident" unspaced
    assert terms["hsopitalisation"].stem == index.analyse("hospitalisés")[0].stem
    assert terms["loccident"].weight == terms["hsopitalisation"].weight == TYPO_WEIGHT
    # a French word the corpus lacks is not a slip of a near stem ("algerie" / "aller")
    assert terms["algerie"].stem is None


def test_analyse_deduplicates_words(index: LexicalIndex) -> None:
    assert [t.word for t in index.analyse("fer fer Fer")] == ["fer"]


def test_typo_matches_score_less_than_exact(index: LexicalIndex) -> None:
    exact = index.scores(index.analyse("immunotherapie"))
    typo = index.scores(index.analyse("imunotherapie"))
    assert 0 < typo[2] < exact[2]


def test_coverage(index: LexicalIndex) -> None:
    assert index.coverage(index.analyse("hauteur tour Eiffel")) == 0.0
    assert index.coverage(index.analyse("cellules souches fer")) == pytest.approx(1.0)
    assert index.coverage(index.analyse("que quoi ?")) == 0.0  # no content word at all
    mixed = index.coverage(index.analyse("cellules souches de la tour Eiffel"))
    assert 0.0 < mixed < 1.0
    typo = index.coverage(index.analyse("imunotherapie"))
    assert typo == pytest.approx(TYPO_WEIGHT)


def test_coverage_grows_with_known_words(index: LexicalIndex) -> None:
    values = [
        index.coverage(index.analyse(q))
        for q in (
            "tour Eiffel paris",
            "fer tour Eiffel",
            "fer cellules Eiffel",
            "fer cellules souches",
        )
    ]
    assert values == sorted(values) and values[0] < values[-1]


def test_extra_terms_are_searchable() -> None:
    index = LexicalIndex(["Jean Pierre Meo", "Le fer des cellules."], [["auteur journaliste"], []])
    assert ranking(index, "Qui est l'auteur ?") == [0]


def test_on_the_seed_sections() -> None:
    article = load_article(SEED)
    texts = [article.text(s) for s in article.sections]
    index = LexicalIndex(texts)
    titles = [s.title for s in article.sections]
    best = ranking(index, "leucemie fer")[0]
    assert titles[best].startswith("Leucémie")
    best = ranking(index, "choux")[0]
    assert titles[best].startswith("Choux")
    assert index.coverage(index.analyse("Quelle est la population du Canada ?")) < 0.5


def test_empty_corpus() -> None:
    index = LexicalIndex([])
    terms = index.analyse("cancer")
    assert index.scores(terms).shape == (0,)
    assert index.coverage(terms) == 0.0
