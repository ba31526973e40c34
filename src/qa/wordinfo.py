"""How much a word says: its rarity in French at large, from ``wordfreq``'s frequency lists.

The no-answer decision weighs a question's words by this, not by their rarity in the loaded
corpus: a corpus-wide IDF changes with every article added, and with a hundred articles nearly
every word occurs somewhere. French usage does not move with the corpus.
"""

from __future__ import annotations

from functools import lru_cache

MOST = 7.0  # a word wordfreq has never seen (a name, a typo, a rare term)
LEAST = 0.5  # the commonest words still count a little


@lru_cache(maxsize=65536)
def informativeness(word: str) -> float:
    """Return ``7 - zipf`` of ``word`` as written (accents kept), within [0.5, 7].

    "le" 0.5, "cancer" 2.3, "ferroptose" 7.
    """
    from wordfreq import zipf_frequency  # 0.2 s of loading, only once a question needs it

    return min(MOST, max(LEAST, MOST - zipf_frequency(word, "fr")))
