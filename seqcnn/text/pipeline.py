"""``TextPipeline``: raw string → tokens → ids, fitted once and saved with the model, so that
``fit`` and ``predict`` (in this process or a fresh one) preprocess identically.

Presets (Kim 2014): ``"kim2014"`` = Kim's cleaning, lower-cased, ``min_freq=1``, unknown words
→ ``<unk>``; ``"trec"`` = the same without lower-casing (Kim keeps case for TREC).
"""
from __future__ import annotations

import json
from typing import Iterable, Sequence

import numpy as np

from .tokenize import make_tokenizer, tokenizer_from_config
from .vocab import Vocabulary

__all__ = ["TextPipeline", "PRESETS"]

PRESETS = {
    "kim2014": {"tokenizer": "kim", "lowercase": True, "min_freq": 1, "oov": "unk"},
    "trec": {"tokenizer": "kim", "lowercase": False, "min_freq": 1, "oov": "unk"},
}


class TextPipeline:
    """Clean → tokenize → numericalize.

    Parameters
    ----------
    tokenizer : ``"kim"``, ``"whitespace"``, ``"char"``, ``"wordpiece"``, ``"bpe"``, a callable
        ``text -> list[str]`` or a tokenizer object from :mod:`seqcnn.text.tokenize`.
    lowercase : None (the tokenizer's default) or bool.
    min_freq, max_size : vocabulary limits.
    oov : ``"unk"`` (unknown tokens → id 1) or ``"drop"`` (removed).
    max_len : truncate id sequences to this many tokens (None: never).
    tokenizer_kwargs : options for sub-word tokenizers (``vocab_size``).
    """

    def __init__(self, tokenizer="kim", *, lowercase=None, min_freq=1, max_size=None, oov="unk",
                 max_len=None, tokenizer_kwargs=None):
        if oov not in ("unk", "drop"):
            raise ValueError(f"oov must be 'unk' or 'drop', got {oov!r}")
        if max_len is not None and (isinstance(max_len, bool) or not isinstance(max_len, int) or max_len < 1):
            raise ValueError(f"max_len must be None or an integer >= 1, got {max_len!r}")
        self.tokenizer = make_tokenizer(tokenizer, lowercase=lowercase, **dict(tokenizer_kwargs or {}))
        self.min_freq = min_freq
        self.max_size = max_size
        self.oov = oov
        self.max_len = max_len
        self.vocab: Vocabulary | None = None

    @classmethod
    def from_preset(cls, name: str, **overrides) -> "TextPipeline":
        if name not in PRESETS:
            raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {name!r}")
        return cls(**{**PRESETS[name], **overrides})

    # ------------------------------------------------------------------ fitting
    def fit(self, texts: Sequence[str]) -> "TextPipeline":
        texts = _check_texts(texts)
        if self.tokenizer.trainable:
            self.tokenizer.fit(texts)
        self.vocab = Vocabulary.build((self.tokenizer(t) for t in texts), min_freq=self.min_freq,
                                      max_size=self.max_size)
        return self

    def extend_vocab(self, words: Iterable[str]) -> int:
        """Add ``words`` (e.g. of a pretrained table) to the vocabulary; returns how many were new."""
        self._check_fitted()
        before = len(self.vocab)
        for w in words:
            self.vocab.add(w)
        return len(self.vocab) - before

    # ------------------------------------------------------------------ applying
    def tokenize(self, text: str) -> list[str]:
        if not isinstance(text, str):
            raise TypeError(f"texts must be strings, got {type(text).__name__}")
        return self.tokenizer(text)

    def encode(self, text: str) -> np.ndarray:
        """One text → int64 ids (N_tokens,) (possibly empty)."""
        self._check_fitted()
        ids = self.vocab.encode(self.tokenize(text), self.oov)
        if self.max_len is not None:
            ids = ids[: self.max_len]
        return np.asarray(ids, dtype=np.int64)

    def encode_with_tokens(self, text: str) -> tuple[np.ndarray, list[str]]:
        """Ids and the surface token of each id (unknown words keep their own spelling)."""
        self._check_fitted()
        toks = self.tokenize(text)
        if self.oov == "drop":
            toks = [t for t in toks if t in self.vocab]
        if self.max_len is not None:
            toks = toks[: self.max_len]
        return np.asarray(self.vocab.encode(toks, "unk"), dtype=np.int64), toks

    def transform(self, texts: Sequence[str]) -> list[np.ndarray]:
        texts = _check_texts(texts)
        return [self.encode(t) for t in texts]

    def fit_transform(self, texts):
        return self.fit(texts).transform(texts)

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict:
        self._check_fitted()
        return {"tokenizer": self.tokenizer.to_config(), "min_freq": self.min_freq, "max_size": self.max_size,
                "oov": self.oov, "max_len": self.max_len, "vocab": self.vocab.to_dict()}

    @classmethod
    def from_dict(cls, d: dict, *, callables: dict | None = None) -> "TextPipeline":
        """``callables``: ``{"module:qualname": func}`` for a custom tokenizer (never imported)."""
        pipe = cls.__new__(cls)
        pipe.tokenizer = tokenizer_from_config(d["tokenizer"], callables=callables)
        pipe.min_freq = d.get("min_freq", 1)
        pipe.max_size = d.get("max_size")
        pipe.oov = d.get("oov", "unk")
        pipe.max_len = d.get("max_len")
        pipe.vocab = Vocabulary.from_dict(d["vocab"])
        return pipe

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)

    @classmethod
    def from_json(cls, s: str) -> "TextPipeline":
        return cls.from_dict(json.loads(s))

    def _check_fitted(self):
        if self.vocab is None:
            raise ValueError("this TextPipeline is not fitted yet; call fit(texts) first")

    def __repr__(self):
        size = len(self.vocab) if self.vocab is not None else "unfitted"
        return f"TextPipeline(tokenizer={self.tokenizer!r}, vocab={size}, oov={self.oov!r})"


def _check_texts(texts, name="texts") -> list[str]:
    if isinstance(texts, str):
        raise TypeError(f"{name} must be a sequence of strings, not a single string")
    try:
        seq = list(texts)
    except TypeError:
        raise TypeError(f"{name} must be a sequence of strings, got {type(texts).__name__}") from None
    for i, t in enumerate(seq):
        if not isinstance(t, str):
            raise TypeError(f"{name}[{i}] must be a str, got {type(t).__name__}")
    return seq
