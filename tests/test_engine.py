"""The engine with the fake encoder: the JSON contract, invalid input, smalltalk, decisions, threads."""

from __future__ import annotations

import json
import random
import threading
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.fakes import FakeEncoder, fake_engine_for
from support.paths import DATA, REPO, SEED, SHARED_EVAL
from support.samples import BREADCRUMBS_PAGE

from qa.answer import Answer, Status
from qa.answer_type import AnswerType, expected_type, has_evidence
from qa.article import PassageKind
from qa.engine import Engine, Settings
from qa.evaluation.datasets import read_questions
from qa.settings import DecisionTuning, Tuning

LENIENT = Tuning(
    decision=DecisionTuning(answer_threshold=1e-9, english_threshold=-1.0)
)  # every threshold away

STATUSES = {s.value for s in Status}
ANSWER_KEYS = {"question", "status", "message", "passages", "verified"}
PASSAGE_KEYS = {"rank", "article", "section", "text", "highlight", "start", "end", "score"}

HAND_QUESTIONS = [
    "Quels résultats pour l'anticorps-médicament dans le cancer du sein ?",
    "Qui est l'auteur ?",
    "Quand l'article a-t-il été publié ?",
    "Combien de temps de lecture ?",
    "leucemie fer",
    "cancer du sien metastatik",
    "indole 3 carbinol",
    "What did researchers find about leukemia stem cells?",
    "Quelle est la hauteur de la tour Eiffel ?",
    "CHOUX ET IMMUNOTHÉRAPIE",
    "ferroptose",
    "souris",
    "a",
    "2025",
    "Qu'est-ce que c'est ?",
    "Bonjour, que soigne l'anticorps ?",
    "x" * 500,
    " ".join(["cancer"] * 70),
]


def eval_questions() -> list[str]:
    files = sorted((REPO / "eval").glob("*.jsonl"))
    if SHARED_EVAL.is_dir():
        files += sorted(SHARED_EVAL.glob("*.jsonl"))
    return [q.text for path in files for q in read_questions(path)]


def check_contract(engine: Engine, answer: Answer) -> dict:
    """Assert the JSON contract for one answer; return its (JSON round-tripped) dict."""
    out = json.loads(json.dumps(answer.to_dict(), ensure_ascii=False).encode("utf-8"))
    assert set(out) == ANSWER_KEYS
    assert out["status"] in STATUSES
    assert isinstance(out["message"], str) and out["message"].strip()
    assert isinstance(out["question"], str)
    passages = out["passages"]
    if out["status"] in ("invalid", "smalltalk"):
        assert passages == []
    else:
        assert 1 <= len(passages) <= engine.settings.passages
    assert [p["rank"] for p in passages] == list(range(1, len(passages) + 1))
    seen = set()
    for passage, citation in zip(passages, answer.passages, strict=True):
        assert set(passage) == PASSAGE_KEYS
        article = engine.article_by_id(passage["article"])
        assert article.source[passage["start"] : passage["end"]] == passage["text"]
        assert passage["highlight"] and passage["highlight"] in passage["text"]
        assert passage["start"] <= citation.highlight_start < citation.highlight_end <= passage["end"]
        assert article.source[citation.highlight_start : citation.highlight_end] == passage["highlight"]
        cited = next(p for p in article.passages if (p.start, p.end) == (passage["start"], passage["end"]))
        assert passage["section"] == cited.title
        assert isinstance(passage["score"], float)
        seen.add((passage["article"], passage["start"]))
    assert len(seen) == len(passages)  # never the same passage twice
    scores = [p["score"] for p in passages]
    assert scores == sorted(scores, reverse=True)
    return out


# --- the contract ---------------------------------------------------------------------------------


@pytest.mark.parametrize("question", HAND_QUESTIONS)
def test_contract_on_hand_questions(seed_engine: Engine, question: str) -> None:
    out = check_contract(seed_engine, seed_engine.ask(question))
    assert out["question"] == question
    assert out["status"] in ("answered", "related", "no_answer")


def test_contract_on_every_evaluation_question(seed_engine: Engine) -> None:
    questions = eval_questions()
    assert len(questions) >= 100
    statuses = {check_contract(seed_engine, seed_engine.ask(q))["status"] for q in questions}
    assert statuses <= {"answered", "related", "no_answer"}


@settings(max_examples=150, deadline=None, database=None)
@given(st.text(max_size=600))
def test_contract_on_any_text(seed_engine: Engine, question: str) -> None:
    check_contract(seed_engine, seed_engine.ask(question))


@settings(max_examples=60, deadline=None, database=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "cancer",
                "sein",
                "fer",
                "l'",
                "Choux",
                "?",
                "é",
                "-",
                "souches",
                "\u202e",
                "\x00",
                "\t",
                "qu'",
                "2025",
                "☃",
                "immunothérapie",
            ]
        ),
        max_size=30,
    )
)
def test_contract_on_article_like_words(seed_engine: Engine, parts: list[str]) -> None:
    check_contract(seed_engine, seed_engine.ask(" ".join(parts)))


def test_diagnostics(seed_engine: Engine) -> None:
    answer = seed_engine.ask("leucemie fer")
    out = answer.to_dict(diagnostics=True)
    assert set(out) == ANSWER_KEYS | {"decision"}
    decision = out["decision"]
    assert set(decision) == {
        "answerable",
        "reason",
        "coverage",
        "dense",
        "confidence",
        "threshold",
        "contrast",
        "missing",
        "related",
        "signals",
        "contributions",
    }
    assert decision["answerable"] == (out["status"] == "answered")
    above = decision["confidence"] >= decision["threshold"]
    vetoed = "mais la question demande" in decision["reason"]  # the answer-type check
    assert decision["answerable"] == (above and not vetoed)
    assert decision["related"] == vetoed
    assert 0.0 <= decision["coverage"] <= 1.0 and decision["reason"]
    model = seed_engine.model
    assert decision["threshold"] == pytest.approx(model.threshold, abs=1e-4)
    assert 0.0 <= decision["confidence"] <= 1.0  # a probability, calibrated (qa.learn.train)
    assert decision["confidence"] == pytest.approx(model.probability(decision["signals"]), abs=2e-3)
    assert set(decision["contributions"]) == set(model.names)
    for passage in out["passages"]:
        scores = passage["scores"]
        assert set(scores) == {"dense", "lexical", "fused"}
        assert passage["score"] == pytest.approx(scores["fused"], abs=1e-4)
        assert scores["dense"] <= decision["dense"] + 1e-4
        assert (
            passage["text"][
                passage["highlight_start"] - passage["start"] : passage["highlight_end"] - passage["start"]
            ]
            == passage["highlight"]
        )
    assert json.dumps(out)
    plain = answer.to_dict()
    assert "decision" not in plain and "scores" not in plain["passages"][0]


def test_english_question_judged_on_dense_score(seed_engine: Engine) -> None:
    decision = seed_engine.ask("What did researchers find about leukemia stem cells?").decision
    assert decision.threshold == seed_engine.tuning.decision.english_threshold
    assert "anglais" in decision.reason


# --- what the engine finds ------------------------------------------------------------------------


def test_every_sentence_asked_verbatim_is_found_and_highlighted(seed_engine: Engine) -> None:
    article = seed_engine.articles[0]
    for passage in article.passages:
        if passage.kind == PassageKind.METADATA:
            continue
        for span in passage.sentences:
            sentence = article.text(span)
            answer = seed_engine.ask(sentence)
            assert answer.status == Status.ANSWERED, sentence
            top = answer.passages[0]
            assert (top.start, top.end) == (passage.start, passage.end), sentence
            assert sentence in top.highlight
            assert sentence in answer.message


def test_keywords_find_their_section(seed_engine: Engine) -> None:
    for question, heading in [
        ("leucemie fer", "Leucémie"),
        ("choux indole", "Choux"),
        ("tri therapie cellules B", "Cancers du sang"),
    ]:
        assert seed_engine.ask(question).passages[0].section.startswith(heading), question


class ConstantEncoder(FakeEncoder):
    """Every text gets the same vector: dense scores all tie, so only BM25 can order sections."""

    def _vector(self, text: str):
        return super()._vector("constante")


@pytest.mark.parametrize(
    ("question", "heading"),
    [
        ("ferroptose", "Cellules cancéreuses résistantes"),
        ("souris", "L'immunothérapie"),
        ("cancer du sien metastatik", "Cancer du sein"),
        ("LEUCEMIE AIGUE", "Leucémie"),
        ("l’indole-3-carbinol", "Choux"),
    ],
)
def test_lexical_score_breaks_dense_ties(tmp_path: Path, question: str, heading: str) -> None:
    engine = Engine.load(Settings(articles=(SEED,), index_dir=tmp_path / "index"), encoder=ConstantEncoder())
    answer = engine.ask(question)
    top = answer.to_dict(diagnostics=True)["passages"][0]
    assert top["section"].startswith(heading)
    assert top["scores"]["lexical"] > 0
    assert top["scores"]["fused"] == pytest.approx(
        top["scores"]["dense"] + engine.tuning.ranking.lexical_weight
    )


def test_unrelated_question_gets_no_answer(seed_engine: Engine) -> None:
    answer = seed_engine.ask("Quelle est la hauteur de la tour Eiffel ?")
    assert answer.status == Status.NO_ANSWER
    assert answer.message.startswith("L'article ne répond pas à cette question.")
    assert all(s.title in answer.message for s in seed_engine.articles[0].sections[2:])
    assert answer.passages  # the closest passages are still shown, marked as not answering


def test_lower_threshold_answers_more(tmp_path: Path) -> None:
    question = "Quelle est la hauteur de la tour Eiffel ?"
    strict = fake_engine_for((SEED,), tmp_path / "index")
    lenient = fake_engine_for(
        (SEED,),
        tmp_path / "index",
        tuning=Tuning(decision=DecisionTuning(answer_threshold=1e-9, english_threshold=-1.0)),
    )
    assert strict.ask(question).status == Status.NO_ANSWER
    assert lenient.ask(question).status == Status.ANSWERED


def test_number_of_passages_follows_settings(tmp_path: Path) -> None:
    engine = fake_engine_for((SEED,), tmp_path / "index", passages=5)
    assert len(engine.ask("cellules cancéreuses").passages) == 5
    engine = fake_engine_for((SEED,), tmp_path / "index", passages=1)
    assert len(engine.ask("cellules cancéreuses").passages) == 1


@pytest.mark.parametrize(
    "question",
    [
        "Qui est l'auteur ?",
        "Quelle est la date de publication ?",
        "temps de lecture",
        "Who is the author?",
    ],
)
def test_metadata_words_meet_the_header(seed_engine: Engine, question: str) -> None:
    # the byline says neither "auteur" nor "publication": the header is indexed with those labels
    lexical = seed_engine.corpus.lexical.scores(seed_engine.corpus.lexical.analyse(question))
    assert lexical.max() > 0
    metadata = {
        i
        for i, (a, p) in enumerate(seed_engine.corpus.passages)
        if seed_engine.articles[a].passages[p].kind == PassageKind.METADATA
    }
    assert set(np.flatnonzero(lexical > 0).tolist()) <= metadata


# --- invalid input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "question",
    [
        "",
        "   \n\t ",
        "\u200b\u200b",
        "x" * 501,
        "mot " * 130,
        "😀🎉🚀",
        "?!… ...",
        "¿¡«»—",
        "\x00\x01\x02",
        None,
        42,
        b"cancer",
        ["cancer"],
        {"q": "cancer"},
    ],
    ids=[
        "empty",
        "blank",
        "invisible",
        "501-chars",
        "520-chars",
        "emoji",
        "punctuation",
        "symbols",
        "controls",
        "none",
        "int",
        "bytes",
        "list",
        "dict",
    ],
)
def test_invalid_input(seed_engine: Engine, question: object) -> None:
    answer = seed_engine.ask(question)
    assert answer.status == Status.INVALID
    assert answer.passages == [] and answer.decision is None
    assert "question" in answer.message.lower()  # a French sentence about the question
    out = check_contract(seed_engine, answer)
    assert out["question"] == (question if isinstance(question, str) else "")


def test_length_limit_counts_cleaned_text(seed_engine: Engine) -> None:
    assert seed_engine.ask("a" * 500).status != Status.INVALID
    assert seed_engine.ask("  " + "a" * 500 + "\u200b" * 10 + "  ").status != Status.INVALID
    assert "501" in seed_engine.ask("a" * 501).message


def test_length_limit_follows_settings(tmp_path: Path) -> None:
    engine = fake_engine_for((SEED,), tmp_path / "index", max_question_chars=20)
    assert engine.ask("leucemie fer").status != Status.INVALID
    assert engine.ask("leucemie fer " * 3).status == Status.INVALID


def test_lone_surrogate_is_invalid(seed_engine: Engine) -> None:
    for question in ("\ud800", "cancer \udcff du sein"):
        answer = seed_engine.ask(question)
        assert answer.status == Status.INVALID and answer.passages == []
        assert "caractères invalides" in answer.message


def test_lone_surrogate_answer_encodes_as_utf8(seed_engine: Engine) -> None:
    json.dumps(seed_engine.ask("\ud800").to_dict(), ensure_ascii=False).encode("utf-8")


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("leucemie\x00 fer", "leucemie fer"),
        ("\x1b[31mleucemie fer\x1b[0m", "[31mleucemie fer [0m"),
        ("\u202eleucemie fer\u202c", "leucemie fer"),
        ("leu\u200bcemie\u2066 fer", "leucemie fer"),
        ("\ufeffleucemie\r\nfer\x7f", "leucemie fer"),
        ("le\u0301ucemie fer", "léucemie fer"),  # NFC
    ],
)
def test_control_and_invisible_characters_are_cleaned(seed_engine: Engine, raw: str, clean: str) -> None:
    answer = seed_engine.ask(raw)
    assert answer.status in (Status.ANSWERED, Status.NO_ANSWER)
    assert answer.question == clean
    assert all(unicodedata.category(c) not in ("Cc", "Cf") for c in answer.question)
    check_contract(seed_engine, answer)
    same = seed_engine.ask(clean)
    assert [p.to_dict() for p in answer.passages] == [p.to_dict() for p in same.passages]


# --- smalltalk ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "question",
    [
        "Bonjour",
        "bonjour !",
        "merci !",
        "Merci beaucoup.",
        "au revoir",
        "Au revoir !",
        "SALUT",
        "Bonjour bonjour",
        "  \x00Bonjour\u200b ",
        "Qui es-tu ?",
        "ça va ?",
    ],
)
def test_smalltalk(seed_engine: Engine, question: str) -> None:
    answer = seed_engine.ask(question)
    assert answer.status == Status.SMALLTALK
    assert answer.passages == [] and answer.message
    check_contract(seed_engine, answer)


def test_smalltalk_replies_differ_by_intent(seed_engine: Engine) -> None:
    replies = {seed_engine.ask(q).message for q in ("Bonjour", "merci", "au revoir")}
    assert len(replies) == 3


@pytest.mark.parametrize(
    "question",
    [
        "Bonjour, que soigne l'anticorps ?",
        "merci pour le fer",
        "Salut, qui est l'auteur ?",
        "revoir le traitement",
    ],
)
def test_questions_with_greetings_are_answered(seed_engine: Engine, question: str) -> None:
    assert seed_engine.ask(question).status in (Status.ANSWERED, Status.NO_ANSWER)


# --- settings and loading -------------------------------------------------------------------------


def test_settings_from_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("QA_ARTICLES", f"{SEED}:{DATA}")
    monkeypatch.setenv("QA_INDEX_DIR", str(tmp_path / "ix"))
    monkeypatch.setenv("QA_MODEL", "autre")
    monkeypatch.setenv("QA_MAX_CHARS", "80")
    settings = Settings.from_env()
    assert settings.articles == (SEED, DATA)
    assert settings.index_dir == tmp_path / "ix"
    assert (settings.model, settings.max_question_chars) == ("autre", 80)
    for name in ("QA_ARTICLES", "QA_INDEX_DIR", "QA_MODEL", "QA_MAX_CHARS"):
        monkeypatch.delenv(name)
    assert Settings.from_env() == Settings()


def test_engine_with_every_article_format(tmp_path: Path) -> None:
    engine = fake_engine_for((SEED, DATA), tmp_path / "index")
    assert len(engine.articles) == 3
    with pytest.raises(KeyError):
        engine.article_by_id("absent")
    for question in HAND_QUESTIONS + ["Combien de tasses de café ?", "vélo pollution"]:
        check_contract(engine, engine.ask(question))
    assert engine.ask("vélo pollution").passages[0].article == "velo_ville"
    assert engine.ask("cafe sommeil profond").passages[0].article == "cafe_sommeil"


def test_engine_is_reused_across_loads(tmp_path: Path) -> None:
    fake_engine_for((SEED,), tmp_path / "index")
    encoder = FakeEncoder()
    Engine.load(Settings(articles=(SEED,), index_dir=tmp_path / "index"), encoder=encoder)
    assert encoder.passage_calls == 0


def test_html_breadcrumbs_never_highlight_outside_the_passage(tmp_path: Path) -> None:
    page = tmp_path / "fil.html"
    page.write_text(BREADCRUMBS_PAGE, encoding="utf-8")
    engine = fake_engine_for((page,), tmp_path / "index")
    check_contract(engine, engine.ask("Accueil Santé"))


# --- answer types ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Quand l'article a-t-il été publié ?", AnswerType.DATE),
        ("En quelle année ?", AnswerType.DATE),
        ("Combien de temps dure le traitement ?", AnswerType.DATE),
        ("How long does it last?", AnswerType.DATE),
        ("Combien coûte le traitement ?", AnswerType.PRICE),
        ("Quel est le prix du médicament ?", AnswerType.PRICE),
        ("How much does it cost?", AnswerType.PRICE),
        ("Combien de patientes ?", AnswerType.QUANTITY),
        ("Quelle proportion des tumeurs a diminué ?", AnswerType.QUANTITY),
        ("How many patients?", AnswerType.QUANTITY),
        ("Quel est le nom de l'anticorps ?", AnswerType.NAME),
        ("Comment s'appelle la molécule ?", AnswerType.NAME),
        ("Où se trouve le siège de l'Inserm ?", AnswerType.PLACE),
        ("Dans quel hôpital soigne-t-on la leucémie ?", AnswerType.PLACE),
        ("Quand la molécule manque, que deviennent les traitements ?", None),
        ("When did the study start?", AnswerType.DATE),
        ("Qui est l'auteur ?", None),
        ("leucemie fer", None),
        ("Comment agit la tri-thérapie ?", None),
    ],
)
def test_expected_type(question: str, kind: AnswerType | None) -> None:
    assert expected_type(question) == kind


@pytest.mark.parametrize(
    ("kind", "passage", "expected"),
    [
        (AnswerType.DATE, "Publié le 4 février 2026", True),
        (AnswerType.DATE, "il y a 1 jour", True),
        (AnswerType.DATE, "3 min de lecture", True),
        (AnswerType.DATE, "Les premières cuillères datent du XVIe siècle.", True),  # a century
        (AnswerType.DATE, "Il arrive à Rouen en 1572.", True),
        (AnswerType.DATE, "Les résultats sont prometteurs.", False),
        (AnswerType.PRICE, "Le traitement coûte 300 €.", True),
        (AnswerType.PRICE, "Il est remboursé par la Sécurité sociale.", True),
        (AnswerType.PRICE, "Les résultats sont prometteurs.", False),
        (AnswerType.QUANTITY, "Plus de la moitié d'entre elles.", True),
        (AnswerType.QUANTITY, "40 % des patientes.", True),
        (AnswerType.QUANTITY, "Les résultats sont prometteurs.", False),
        (AnswerType.NAME, "Un nouvel anticorps-médicament a montré une activité.", False),
        (AnswerType.NAME, "Le médicament, appelé Enhertu, a montré une activité.", True),
        (AnswerType.NAME, "Les chercheurs testent le T-DXd chez la souris.", True),
        (AnswerType.NAME, "Elle repose sur la ferroptose, un processus naturel.", True),  # a term
        (AnswerType.NAME, "Elle repose sur un processus naturel des cellules.", False),
        (AnswerType.PLACE, "Les chercheurs de l'Inserm ont testé la molécule.", False),
        (AnswerType.PLACE, "Les chercheurs de l'Inserm, à Lyon, ont testé la molécule.", True),
        (AnswerType.PLACE, "Il s'installe en Normandie, puis dans l'Ohio.", True),
        # capitalised, but not a place: an event, the start of a line of furniture
        (AnswerType.PLACE, "En cette Journée mondiale, l'institut publie - Publié le 4 février.", False),
    ],
)
def test_has_evidence(kind: AnswerType, passage: str, expected: bool) -> None:
    # a name or place already in the question does not count as the answer
    assert has_evidence(kind, passage, "Où se trouve le siège de l'Inserm ?", DecisionTuning()) == expected


@pytest.mark.parametrize(
    "question",
    [
        "Que deviennent les immunothérapies quand la molécule issue des choux manque ?",
        "When cancer cells die differently, does the immune system react?",
    ],
)
def test_conjunction_when_does_not_ask_for_a_date(question: str) -> None:
    assert expected_type(question) is None


def test_answer_type_vetoes_a_passage_without_the_fact(tmp_path: Path) -> None:
    # with every threshold out of the way, only the answer-type check can refuse
    engine = fake_engine_for(
        (SEED,),
        tmp_path / "index",
        tuning=Tuning(decision=DecisionTuning(answer_threshold=1e-9, english_threshold=-1.0)),
    )
    answer = engine.ask("Combien coûte le traitement des cellules souches leucémiques ?")
    assert answer.status == Status.RELATED  # on topic, without the fact: offered as related reading
    assert answer.message.startswith("L'article ne le précise pas.")
    assert answer.passages and "prix" in answer.decision.reason
    assert engine.ask("Quelles cellules souches leucémiques ?").status == Status.ANSWERED


def test_engine_gives_the_same_answers_from_16_threads(tmp_path: Path):
    engine = fake_engine_for((SEED,), tmp_path / "index")
    rng = random.Random(3)
    base = [
        "Qui a écrit l'article ?",
        "leucemie fer",
        "Bonjour",
        "",
        "cancer du sien metastatik",
        "Quelle est la hauteur de la tour Eiffel ?",
        "What about leukemia stem cells?",
    ]
    # new words every time, so that the stem cache does not hide a race
    questions = [
        f"{rng.choice(base)} {''.join(rng.choice('aeioubcdfglmnprst') for _ in range(9))}" for _ in range(320)
    ]
    expected = [engine.ask(q).to_dict(diagnostics=True) for q in questions]
    results: dict[int, dict] = {}

    def work(offset: int) -> None:
        for i in range(offset, len(questions), 16):
            results[i] = engine.ask(questions[i]).to_dict(diagnostics=True)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [results[i] for i in range(len(questions))] == expected
