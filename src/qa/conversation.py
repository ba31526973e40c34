"""Follow-up questions: when a question leans on the conversation, and what it leans on.

"Et les résultats ?", "Sur quoi repose-t-elle ?", "Et chez quel animal ?" name no subject of their
own: they are read after the topic of the conversation (the earlier question, itself resolved the
same way), and the engine searches with both. A question that brings a subject of its own is read
alone, and the old topic does not leak into it: a word the articles do not know ("Quelle est la
capitale de l'Australie ?", "Et les crêpes ?"), a word rare in French that the articles contain
("Et la leucémie, qu'en dit l'article ?"), or two words of the articles that the topic lacks ("Que
contient le café du soir ?"). Nothing is generated: only the search changes, and the
answer is still quoted from the article.
"""

from __future__ import annotations

from collections.abc import Sequence

from qa.lexical import LexicalIndex
from qa.textnorm import content_words, stem
from qa.validation import check_question

NEW_SUBJECT_WORDS = 2  # this many new words the articles contain make a new subject
MAX_TURNS = 5  # earlier questions kept (the API refuses longer histories; the rest is cut)


def history_text(history: Sequence[object]) -> list[str]:
    """The usable earlier questions: strings that pass the question checks, the last few."""
    kept = []
    for item in list(history)[-MAX_TURNS:]:
        checked = check_question(item, 10_000)
        if not checked.problem:
            kept.append(checked.text)
    return kept


class Conversation:
    """Decides whether a question depends on the earlier ones, with the corpus's words."""

    def __init__(self, lexical: LexicalIndex, new_subject_info: float) -> None:
        """Use ``lexical``'s vocabulary; a word at least ``new_subject_info`` rare starts a subject."""
        self.lexical = lexical
        self.new_subject_info = new_subject_info

    def topic(self, history: Sequence[object]) -> str:
        """The conversation's topic before the next question.

        That is the last question that stood on its own, then the questions that leaned on it.
        """
        topic = ""
        for turn in history_text(history):
            topic = f"{topic} {turn}".strip() if topic and self.depends(turn, topic) else turn
        return topic

    def depends(self, question: str, topic: str) -> bool:
        """Whether ``question`` needs ``topic``: it brings no subject of its own.

        A subject of its own is a rare word, or two words that the topic lacks, whether the
        articles contain them or not ("capitale", "Australie"): a word the articles do not know
        is a subject too, not nothing.
        """
        known = {stem(w) for w in content_words(topic)}
        new = [
            t
            for t in self.lexical.analyse(question)
            if (t.stem is None and stem(t.word) not in known) or (t.weight == 1.0 and t.stem not in known)
        ]
        return len(new) < NEW_SUBJECT_WORDS and all(t.info < self.new_subject_info for t in new)
