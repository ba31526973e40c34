"""French text normalisation for lexical matching: accents, elisions, stop words, stems, typos."""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache

import snowballstemmer
from rapidfuzz.distance import OSA

from qa.settings import Typos

APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'"})
LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss"})
WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*", re.UNICODE)
ELIDED = ("jusqu", "lorsqu", "puisqu", "quoiqu", "qu", "l", "d", "j", "m", "n", "s", "t", "c")
ELISION = re.compile(rf"^(?:{'|'.join(ELIDED)})'(?=\w)")
LONGEST_WORD = 40  # a longer "word" is noise (a URL, a key mash) and never matches anything

# Function words of French and English questions: they carry no topic. English is listed because
# some visitors ask in English; its content words then still meet the article's loanwords.
STOP_WORDS = frozenset(
    """
    a ai aie aient aies ait alors as au aucun aucune aupres auquel aura aurai auraient aurais
    aurait auras aurez auriez aurions aurons auront aussi autre autres aux auxquelles auxquels avaient
    avais avait avant avec avez aviez avions avoir avons ayant ayez ayons c ca car ce ceci cela celle
    celles celui cependant certain certaine certaines certains ces cet cette ceux chacun chaque chez
    combien comme comment d dans de depuis des desquelles desquels dois doit donc dont du duquel
    elle elles il ils en encore entre es est et etaient etais etait etant ete etes etiez etions etre eu eue
    eues eurent eus eusse eut eux faire fait faut font fut j je jusqu l la laquelle le lequel les
    lesquelles lesquels leur leurs lui m ma mais me meme memes mes moi mon n ne ni non nos notre nous
    on ont ou par parce pas peu peut peuvent plus pour pourquoi puis qu quand que quel quelle quelles
    quels qui quoi s sa sans se sera serait ses si soi soient sois soit sommes son sont sous
    suis sur t ta te tes toi ton tous tout toute toutes tres tu un une unes uns va vers voici voila
    vont vos votre vous y dit dire parle parlent parler article texte fera feront ferait
    feraient fais pendant apres durant lors contre selon vraiment ici aujourd hui
    passe exactement precisement concretement reellement justement ensuite egalement notamment surtout plutot
    citer cite citez mentionne mentionnee mentionnes mentionnees evoque evoquee evoques evoquees
    about above after again all am an and any are as at be been being but by can could did do does
    doing for from had has have having he her here how i if in into is it its me more most my no nor
    not of on or other our out over own same she should so some such than that the their them then
    there these they this those through to too under until up very was we were what when where which
    while who whom why will with would you your tell say said
    """.split()
)

_STEMMERS = threading.local()  # a Snowball stemmer keeps the word in its state: one per thread


def fold(text: str) -> str:
    """Lower-case, fold accents, ligatures and typographic apostrophes: ``L’Œuvre`` -> ``l'oeuvre``."""
    text = text.translate(APOSTROPHES).translate(LIGATURES)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def words(text: str) -> list[str]:
    """Split folded ``text`` into words, elisions removed and compounds split at hyphens."""
    out = []
    for match in WORD.finditer(fold(text)):
        word = ELISION.sub("", match.group())
        out.extend(part for part in word.split("'") if part and len(part) <= LONGEST_WORD)
    return out


def surface_forms(text: str) -> dict[str, str]:
    """Each folded word of ``text`` and the word as written (lower-cased, accents kept)."""
    forms: dict[str, str] = {}
    for match in WORD.finditer(text.translate(APOSTROPHES).lower()):
        word = ELISION.sub("", match.group())
        for part in word.split("'"):
            if part:
                forms.setdefault(fold(part), part)
    return forms


def content_words(text: str) -> list[str]:
    """Words of ``text`` that carry meaning: no stop words, no single letters."""
    return [w for w in words(text) if w not in STOP_WORDS and (len(w) > 1 or w.isdigit())]


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Snowball French stem of a folded word, trimmed of a final plural or feminine mark."""
    stemmer = getattr(_STEMMERS, "french", None)
    if stemmer is None:
        stemmer = _STEMMERS.french = snowballstemmer.stemmer("french")
    stemmed = stemmer.stemWord(word)
    return stemmed[:-1] if len(stemmed) > 4 and stemmed[-1] in "se" else stemmed


def typo_budget(word: str, typos: Typos) -> int:
    """How many edits a word of this length may carry and still be recognised."""
    if len(word) < typos.min_length:
        return 0
    return 1 if len(word) < typos.two_edits_from else 2


def is_typo_of(query_word: str, known_word: str, typos: Typos) -> bool:
    """Whether ``query_word`` plausibly is a misspelling or variant of ``known_word``.

    Two tests: a small edit distance scaled by length (``sien`` / ``sein``), or a long shared
    beginning that covers nearly all of the query word (``metastatik`` / ``metastatiques``). The
    distance counts insertions, deletions, substitutions and transpositions of neighbours, each
    substring edited once (optimal string alignment); ``typos`` holds the budgets.
    """
    if query_word == known_word or query_word.isdigit() or known_word.isdigit():
        return query_word == known_word
    if query_word[0] != known_word[0]:  # typing slips rarely hit the first letter
        return False
    budget = typo_budget(query_word, typos)
    if budget and OSA.distance(query_word, known_word, score_cutoff=budget) <= budget:
        return True
    shared = 0
    for ca, cb in zip(query_word, known_word, strict=False):
        if ca != cb:
            break
        shared += 1
    return shared >= typos.shared_prefix and shared >= len(query_word) - typos.prefix_slack


_ENGLISH_MARKERS = frozenset(
    "the what which who how why when where is are was were does did do of about can could "
    "should would with from this that these those there their find found".split()
)
_FRENCH_MARKERS = frozenset(
    "le la les des du de un une est sont que qui quoi quel quelle quels quelles comment pourquoi "
    "ou et en au aux dans pour sur avec ce cette ces il elle".split()
)


def looks_english(text: str) -> bool:
    """Whether ``text`` reads as English rather than French, by counting function words."""
    tokens = words(text)
    english = sum(t in _ENGLISH_MARKERS for t in tokens)
    french = sum(t in _FRENCH_MARKERS for t in tokens)
    return english >= 2 and english > french
