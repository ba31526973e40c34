"""The page's example questions, shown as buttons under the chat.

The usual ones, or, on a page scoped to one article, short ones on its first sections
(« Cancer du sein métastatique : que dit l'article ? »).
"""

from __future__ import annotations

import re

from qa.article import Article
from qa.web.render import covered_topics

EXAMPLES = (
    "Qui a écrit l'article ?",
    "Quand l'article a-t-il été publié ?",
    "Quel type de leucémie est concerné par la découverte ?",
    "Quel rôle joue l'indole-3-carbinol ?",
)
GENERIC_EXAMPLES = 2  # the first examples fit any article; the others are about the seed article
# A scoped page's examples: its first sections' titles, cut before a subtitle (« X : Y »), as
# « X : que dit l'article ? ». A title longer than EXAMPLE_TOPIC_CHARS is cut at a word.
EXAMPLE_QUESTION = "{} : que dit l'article ?"
EXAMPLE_TOPIC_CHARS = 40
SUBTITLE = re.compile(r"\s*[:—–]\s+|\s+-\s+")


def short_topic(title: str) -> str:
    """A section title as an example names it: before its subtitle, at most a few words."""
    head = SUBTITLE.split(title.strip(), maxsplit=1)[0].strip() or title.strip()
    if len(head) <= EXAMPLE_TOPIC_CHARS:
        return head
    cut = head[: EXAMPLE_TOPIC_CHARS + 1].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.'’") or head[:EXAMPLE_TOPIC_CHARS]


def example_question(title: str) -> str:
    """The example question on a section: « Cancer du sein métastatique : que dit l'article ? »."""
    return EXAMPLE_QUESTION.format(short_topic(title))


def scoped_examples(article: Article | None) -> list[str]:
    """The example questions of a page (at most ``len(EXAMPLES)``).

    The usual ones; scoped to one article, the ones that fit any article, then short questions
    on its first subjects.
    """
    if article is None:
        return list(EXAMPLES)
    topics = list(dict.fromkeys(example_question(t) for t in covered_topics([article])))
    return [*EXAMPLES[:GENERIC_EXAMPLES], *topics][: len(EXAMPLES)]
