"""Token ↔ id vocabulary with reserved ``<pad>`` = 0 and ``<unk>`` = 1.

Ids are assigned by decreasing training frequency, ties broken alphabetically, so a vocabulary
built twice from the same data is identical. ``min_freq=1`` keeps every training word (Kim 2014;
castor#58 lost accuracy with a higher threshold).
"""
from __future__ import annotations

from collections import Counter
from typing import Iterable

__all__ = ["Vocabulary", "PAD", "UNK", "PAD_ID", "UNK_ID"]

PAD, UNK = "<pad>", "<unk>"
PAD_ID, UNK_ID = 0, 1


class Vocabulary:
    """``itos`` (list) and ``stoi`` (dict); ``encode(tokens, oov="unk"|"drop")``."""

    def __init__(self, tokens: Iterable[str] = ()):
        self.itos: list[str] = [PAD, UNK]
        self.stoi: dict[str, int] = {PAD: PAD_ID, UNK: UNK_ID}
        self.freqs: dict[str, int] = {}
        for t in tokens:
            self.add(t)

    @classmethod
    def build(cls, token_lists: Iterable[Iterable[str]], *, min_freq: int = 1, max_size: int | None = None):
        if isinstance(min_freq, bool) or not isinstance(min_freq, int) or min_freq < 1:
            raise ValueError(f"min_freq must be an integer >= 1, got {min_freq!r}")
        if max_size is not None and (isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 1):
            raise ValueError(f"max_size must be None or an integer >= 1, got {max_size!r}")
        counts = Counter()
        for toks in token_lists:
            counts.update(toks)
        counts.pop(PAD, None)
        counts.pop(UNK, None)
        items = sorted(((w, c) for w, c in counts.items() if c >= min_freq), key=lambda wc: (-wc[1], wc[0]))
        if max_size is not None:
            items = items[:max_size]
        vocab = cls()
        for w, c in items:
            vocab.add(w)
            vocab.freqs[w] = c
        return vocab

    def add(self, token: str) -> int:
        idx = self.stoi.get(token)
        if idx is None:
            idx = len(self.itos)
            self.itos.append(token)
            self.stoi[token] = idx
        return idx

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token) -> bool:
        return token in self.stoi

    def __eq__(self, other) -> bool:
        return isinstance(other, Vocabulary) and self.itos == other.itos

    def encode(self, tokens: Iterable[str], oov: str = "unk") -> list[int]:
        if oov == "unk":
            get = self.stoi.get
            return [get(t, UNK_ID) for t in tokens]
        if oov == "drop":
            return [self.stoi[t] for t in tokens if t in self.stoi]
        raise ValueError(f"oov must be 'unk' or 'drop', got {oov!r}")

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.itos[int(i)] for i in ids]

    def to_dict(self) -> dict:
        return {"itos": list(self.itos)}

    @classmethod
    def from_dict(cls, d: dict) -> "Vocabulary":
        itos = list(d["itos"])
        if itos[:2] != [PAD, UNK]:
            raise ValueError(f"vocabulary must start with {PAD!r}, {UNK!r}; got {itos[:2]}")
        vocab = cls()
        for t in itos[2:]:
            vocab.add(t)
        if len(vocab) != len(itos):
            raise ValueError("vocabulary has duplicate tokens")
        return vocab

    def __repr__(self) -> str:
        return f"Vocabulary(size={len(self)})"
