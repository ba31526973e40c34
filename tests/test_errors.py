"""The library's errors: one family, each still the built-in type callers caught before."""

from __future__ import annotations

import pytest
from support.paths import SEED

from qa.article import load_articles
from qa.errors import ArticleError, IndexProblem, ModelUnavailable, QAError, UnknownArticle


def test_unknown_article_is_a_key_error_with_its_french_message() -> None:
    error = UnknownArticle("absent", ["a", "b"])
    assert isinstance(error, KeyError) and isinstance(error, QAError)
    assert str(error) == "Article inconnu : absent. Articles : a, b."
    assert str(UnknownArticle("absent")) == "Article inconnu : absent."


def test_each_error_keeps_its_old_built_in_type() -> None:
    assert issubclass(ArticleError, ValueError) and issubclass(ModelUnavailable, RuntimeError)
    assert all(issubclass(kind, QAError) for kind in (ArticleError, ModelUnavailable, IndexProblem))


def test_engine_raises_unknown_article(seed_engine) -> None:
    with pytest.raises(UnknownArticle, match=f"Articles : {SEED.stem}"):
        seed_engine.ask("Qui ?", article="absent")


def test_missing_articles_raise_article_error(tmp_path) -> None:
    with pytest.raises(ArticleError, match="aucun article trouvé"):
        load_articles([tmp_path])
