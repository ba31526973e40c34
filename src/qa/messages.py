"""What the assistant says around the quoted text: answered, related reading, no answer, too vague."""

from __future__ import annotations

from qa.answer import Citation
from qa.article import METADATA_TITLE, Article

VAGUE_QUESTION = (
    "Votre question ne dit pas de quoi elle parle. Précisez le sujet, par exemple : "
    "« Pourquoi les cellules souches leucémiques résistent-elles aux traitements ? »"
)


def answered(citation: Citation, article: Article) -> str:
    """The answer: the highlighted sentence, quoted, under its section (and the date, for metadata)."""
    message = f"D'après l'article (« {citation.section} ») : « {citation.highlight} »"
    if citation.section == METADATA_TITLE and article.published and article.published not in message:
        message += f" (article publié le {article.published})"
    return message


def related(citation: Citation) -> str:
    """The article lacks what the question asks for; the closest passage is offered as reading."""
    return (
        "L'article ne le précise pas. Le passage le plus proche, à lire pour le contexte : "
        f"« {citation.section} »."
    )


def no_answer(articles: list[Article]) -> str:
    """The articles do not answer; what they are about instead (their sections' titles)."""
    topics = [s.title for a in articles for s in a.sections if s.kind == "section"]
    listed = " ; ".join(topics[:8])
    if not listed:
        return "L'article ne répond pas à cette question."
    return f"L'article ne répond pas à cette question. Il traite de : {listed}."
