"""French normalisation: folding, elisions, compounds, stop words, stems, typos, language guess."""

from __future__ import annotations

import random
import sys
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz.distance import OSA

from qa.settings import Typos
from qa.textnorm import (
    LONGEST_WORD,
    STOP_WORDS,
    content_words,
    fold,
    is_typo_of,
    looks_english,
    stem,
    words,
)

TYPOS = Typos()  # the method's budgets


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("L’Œuvre", "l'oeuvre"),
        ("ÉLÉMENT Général", "element general"),
        ("aigüe myéloïde", "aigue myeloide"),
        ("cœur, Æsir, Straße", "coeur, aesir, strasse"),
        ("l‘école d`été d´hiver lʼan", "l'ecole d'ete d'hiver l'an"),
        ("ﬁn", "fin"),  # compatibility ligature
    ],
)
def test_fold(raw: str, folded: str) -> None:
    assert fold(raw) == folded


def test_words_drop_elisions() -> None:
    assert words("l’anticorps d'une qu'il jusqu'à lorsqu'elle s'agit c'est j'ai n'a") == [
        "anticorps",
        "une",
        "il",
        "a",
        "elle",
        "agit",
        "est",
        "ai",
        "a",
    ]


def test_words_split_compounds_and_keep_digits() -> None:
    assert words("anticorps-médicament indole-3-carbinol tri-thérapie") == [
        "anticorps",
        "medicament",
        "indole",
        "3",
        "carbinol",
        "tri",
        "therapie",
    ]


def test_words_ignore_punctuation_and_underscores() -> None:
    assert words("«Bonjour» — (cancer) ; snake_case!") == ["bonjour", "cancer", "snake", "case"]


def test_words_drop_overlong_tokens() -> None:
    assert words("a" * (LONGEST_WORD + 1) + " cancer " + "b" * LONGEST_WORD) == [
        "cancer",
        "b" * LONGEST_WORD,
    ]


def test_content_words_remove_stop_words() -> None:
    assert content_words("Qu'est-ce que l'article dit sur le cancer du sein ?") == [
        "cancer",
        "sein",
    ]
    assert content_words("What does the article say about leukemia?") == ["leukemia"]
    assert content_words("indole 3 carbinol") == ["indole", "3", "carbinol"]
    # a quiz's instructions are about the text, not the topic
    assert content_words("Citez la molécule mentionnée dans le texte.") == ["molecule"]
    assert content_words("x y z") == []


def test_stop_words_are_folded() -> None:
    # words() folds before comparing, so a stop word with an accent would never match
    assert all(w == fold(w) for w in STOP_WORDS)


def test_stem_conflates_inflections() -> None:
    assert stem("cellules") == stem("cellule")
    assert stem("metastatiques") == stem("metastatique")
    assert stem("therapies") == stem("therapie")
    assert stem("cancer") != stem("chercheur")


@pytest.mark.parametrize(
    ("typed", "known"),
    [
        ("sien", "sein"),  # transposition
        ("metastatik", "metastatiques"),  # long shared beginning
        ("leucemei", "leucemie"),
        ("imunotherapie", "immunotherapie"),
        ("cancre", "cancer"),
    ],
)
def test_typos_recognised(typed: str, known: str) -> None:
    assert is_typo_of(typed, known, TYPOS)


@pytest.mark.parametrize(
    ("typed", "known"),
    [
        ("dein", "sein"),  # the first letter must match
        ("fer", "fee"),  # short words must be exact
        ("2024", "2025"),  # digits are exact
        ("12", "123"),
        ("soleil", "sommeil"),  # too far
        ("metabolisme", "metastatiques"),
    ],
)
def test_non_typos_rejected(typed: str, known: str) -> None:
    assert not is_typo_of(typed, known, TYPOS)


def test_typo_relation_holds_for_identical_words() -> None:
    assert is_typo_of("cancer", "cancer", TYPOS) and is_typo_of("2025", "2025", TYPOS)


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [("sein", "sien", 1), ("chat", "chats", 1), ("abc", "abc", 0), ("kitten", "sitting", 3)],
)
def test_typo_distance(a: str, b: str, distance: int) -> None:
    """The distance is_typo_of reads: rapidfuzz's optimal string alignment, capped at the budget."""
    assert OSA.distance(a, b, score_cutoff=5) == distance
    if distance:  # with a smaller limit, the answer is "over the limit"
        assert OSA.distance(a, b, score_cutoff=distance - 1) == distance


@settings(max_examples=300, database=None)
@given(st.text(max_size=12), st.text(max_size=12), st.integers(0, 3))
def test_typo_distance_limit_keeps_the_verdict(a: str, b: str, limit: int) -> None:
    full = OSA.distance(a, b, score_cutoff=100)
    capped = OSA.distance(a, b, score_cutoff=limit)
    assert (capped <= limit) == (full <= limit)  # what callers rely on
    if full <= limit:
        assert capped == full
    assert full == OSA.distance(b, a, score_cutoff=100)


def test_typo_distance_returns_limit_plus_one_when_over() -> None:
    assert OSA.distance("11", "00000", score_cutoff=3) == 4


def optimal_string_alignment(a: str, b: str) -> int:
    """The textbook distance: insertions, deletions, substitutions, neighbours swapped once."""
    d = [[i + j if not i or not j else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


@settings(max_examples=300, database=None)
@given(st.text("abcé", max_size=9), st.text("abcé", max_size=9))
def test_typo_distance_is_the_optimal_string_alignment(a: str, b: str) -> None:
    assert OSA.distance(a, b) == optimal_string_alignment(a, b)
    assert OSA.distance("ca", "abc") == 3  # a swapped pair is not edited again (2 with Damerau)


@pytest.mark.parametrize(
    "question",
    [
        "What did researchers find about leukemia stem cells?",
        "How does the new antibody drug work?",
        "Which molecules come from food?",
    ],
)
def test_looks_english(question: str) -> None:
    assert looks_english(question)


@pytest.mark.parametrize(
    "question",
    [
        "Quels résultats pour l'anticorps-médicament dans le cancer du sein ?",
        "Qui est l'auteur ?",
        "leucemie fer",
        "Le thé et le café, est-ce que c'est bon ?",
        "the",
    ],
)
def test_looks_french(question: str) -> None:
    assert not looks_english(question)


def test_stemming_is_thread_safe():
    """Snowball stemmers keep state; one shared between threads gave wrong stems and IndexError."""
    rng = random.Random(7)
    words = [
        "".join(rng.choice("abcdefgilmnoprstuvé") for _ in range(rng.randint(5, 12)))
        + rng.choice(["ement", "ations", "issements", "euses", "ités", "ir"])
        for _ in range(6000)
    ]
    raw = stem.__wrapped__  # bypass the cache: every call really stems
    expected = [raw(w) for w in words]
    wrong: list[str] = []
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            wrong.extend(w for w, e in zip(words[offset::8], expected[offset::8], strict=True) if raw(w) != e)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert errors == [] and wrong == []
