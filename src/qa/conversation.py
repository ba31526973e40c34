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
from qa.settings import ConversationTuning
from qa.textnorm import content_words, stem
from qa.validation import check_question

LONGEST_TURN = 10_000  # characters of an earlier question still read (the web keeps far fewer)


def history_text(history: Sequence[object], max_turns: int) -> list[str]:
    """The usable earlier questions: strings that pass the question checks, the last ``max_turns``.

    ``max_turns``: :attr:`qa.settings.ConversationTuning.max_turns`.
    """
    kept = []
    for item in list(history)[-max_turns:]:
        checked = check_question(item, LONGEST_TURN)
        if not checked.problem:
            kept.append(checked.text)
    return kept


class Conversation:
    """Decides whether a question depends on the earlier ones, with the corpus's words."""

    def __init__(self, lexical: LexicalIndex, tuning: ConversationTuning) -> None:
        """Use ``lexical``'s vocabulary; ``tuning`` says what makes a new subject and how far back to read."""
        self.lexical = lexical
        self.tuning = tuning

    def topic(self, history: Sequence[object]) -> str:
        """The conversation's topic before the next question.

        That is the last question that stood on its own, then the questions that leaned on it.
        """
        topic = ""
        for turn in history_text(history, self.tuning.max_turns):
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
        rare = self.tuning.new_subject_info
        return len(new) < self.tuning.new_subject_words and all(t.info < rare for t in new)
