"""A small byte-level BPE tokenizer in the Hugging Face `tokenizer.json` format, for the tiny TEST bundle only.

ByteLevel pre-tokenizer/decoder (GPT-2 byte-to-unicode alphabet, like Phi's tokenizer), a BPE model with 256
byte tokens plus merges learned deterministically from a fixed corpus, `<|endoftext|>` and `[SEG]` as added
special tokens. Loadable by @huggingface/tokenizers (and by the Rust `tokenizers`).
"""
from __future__ import annotations

import re
from collections import Counter
from typing import Any

SEG_TOKEN = "[SEG]"
EOS_TOKEN = "<|endoftext|>"

_CORPUS = (
    "[INST] <<SYS>>\nYou are a helpful language and vision assistant. You are able to understand the visual "
    "content that the user provides, and assist the user with a variety of tasks using natural language.\n"
    "<</SYS>>\n\nThis is an image , Please doing Reasoning Segmentation according to the following instruction:\n"
    " Where could the planes park? Which area is the harbour? Find the roads, buildings, rivers and fields. "
    "Where is the water in this image? Which parts of the scene are vegetation?"
)


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable unicode character map."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def _pretokenize(text: str) -> list[str]:
    # close enough to GPT-2's pattern for learning merges; encoding itself is done by the tokenizer library
    return re.findall(r"'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?[^\s\w]+|\s+(?!\S)|\s+", text)


def build_tokenizer(vocab_size: int) -> tuple[dict[str, Any], int]:
    """Returns (tokenizer.json object, [SEG] id). Ids: 256 bytes, merges, then <|endoftext|>, [SEG]."""
    b2u = bytes_to_unicode()
    vocab: dict[str, int] = {b2u[b]: b for b in range(256)}
    n_merges = vocab_size - 256 - 2
    words = Counter(tuple(b2u[b] for b in w.encode("utf-8")) for w in _pretokenize(_CORPUS))
    merges: list[str] = []
    while len(merges) < n_merges:
        pairs: Counter[tuple[str, str]] = Counter()
        for w, c in words.items():
            for a, b in zip(w, w[1:]):
                pairs[(a, b)] += c
        if not pairs:
            break
        (a, b), _ = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))
        merges.append(f"{a} {b}")
        vocab[a + b] = len(vocab)
        new_words: Counter[tuple[str, ...]] = Counter()
        for w, c in words.items():
            out: list[str] = []
            i = 0
            while i < len(w):
                if i + 1 < len(w) and w[i] == a and w[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            new_words[tuple(out)] += c
        words = new_words
    eos_id, seg_id = len(vocab), len(vocab) + 1
    if seg_id >= vocab_size:
        raise ValueError("vocab too small")
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}

    def added(i: int, content: str) -> dict[str, Any]:
        return {"id": i, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
                "normalized": False, "special": True}

    tok = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [added(eos_id, EOS_TOKEN), added(seg_id, SEG_TOKEN)],
        "normalizer": None,
        "pre_tokenizer": byte_level,
        "post_processor": byte_level,
        "decoder": byte_level,
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "vocab": vocab,
                  "merges": merges},
    }
    return tok, seg_id
