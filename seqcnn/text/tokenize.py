"""Tokenizers: Kim's cleaning regexes, whitespace, characters, trainable sub-words, callables.

Every tokenizer is a callable ``tokenizer(text) -> list[str]`` with ``to_config()`` returning a
JSON-able dict, and :func:`tokenizer_from_config` rebuilds it, so the exact tokenizer travels
inside a saved model.

``"kim"`` re-implements the behaviour of the ``clean_str`` function of Kim (2014)'s code
(written here from its description, not copied):

1. every character outside ``A-Z a-z 0-9 ( ) , ! ? ' ` `` becomes a space (so ``.``, ``-``,
   ``:``, ``/`` and all non-ASCII letters disappear: ``crème`` → ``cr me``, a URL falls apart
   into its words);
2. the English clitics ``'s 've n't 're 'd 'll`` are split off as tokens (``don't`` → ``do n't``,
   the Penn-Treebank split that the SST files already use);
3. ``, ! ( ) ?`` become tokens of their own;
4. runs of whitespace collapse, and the text is lower-cased — except for TREC, where Kim keeps
   case (``lowercase=False``; the ``"trec"`` preset).

Deviation: Kim's replacement strings produce the tokens ``\\(``, ``\\)`` and ``\\?`` with a
literal backslash (a Python escape quirk); we emit ``(``, ``)`` and ``?``. The vocabulary is
built from the same tokenizer at fit and predict time, so this changes nothing but the look.
"""
from __future__ import annotations

import json
import re
from typing import Callable, Iterable

__all__ = ["KimTokenizer", "WhitespaceTokenizer", "CharTokenizer", "SubwordTokenizer",
           "CallableTokenizer", "make_tokenizer", "tokenizer_from_config", "kim_clean", "TOKENIZERS"]

TOKENIZERS = ("kim", "whitespace", "char", "wordpiece", "bpe")

_KIM_RULES = [
    (re.compile(r"[^A-Za-z0-9(),!?'`]"), " "),
    (re.compile(r"'s"), " 's"),
    (re.compile(r"'ve"), " 've"),
    (re.compile(r"n't"), " n't"),
    (re.compile(r"'re"), " 're"),
    (re.compile(r"'d"), " 'd"),
    (re.compile(r"'ll"), " 'll"),
    (re.compile(r","), " , "),
    (re.compile(r"!"), " ! "),
    (re.compile(r"\("), " ( "),
    (re.compile(r"\)"), " ) "),
    (re.compile(r"\?"), " ? "),
    (re.compile(r"\s{2,}"), " "),
]


def kim_clean(text: str, lowercase: bool = True) -> str:
    """Kim's ``clean_str`` (see the module docstring): returns the cleaned, space-joined string."""
    for pattern, repl in _KIM_RULES:
        text = pattern.sub(repl, text)
    text = text.strip()
    return text.lower() if lowercase else text


class _Base:
    kind = ""

    def __init__(self, lowercase: bool = True):
        self.lowercase = bool(lowercase)

    def fit(self, texts: Iterable[str]):
        return self

    @property
    def trainable(self) -> bool:
        return False

    def to_config(self) -> dict:
        return {"kind": self.kind, "lowercase": self.lowercase}

    def __repr__(self):
        return f"{type(self).__name__}(lowercase={self.lowercase})"


class KimTokenizer(_Base):
    """Kim (2014)'s cleaning regexes, then a split on spaces."""
    kind = "kim"

    def __call__(self, text: str) -> list[str]:
        cleaned = kim_clean(text, self.lowercase)
        return cleaned.split(" ") if cleaned else []


class WhitespaceTokenizer(_Base):
    """Split on runs of whitespace (for pre-tokenized files such as SST)."""
    kind = "whitespace"

    def __init__(self, lowercase: bool = False):
        super().__init__(lowercase)

    def __call__(self, text: str) -> list[str]:
        return (text.lower() if self.lowercase else text).split()


class CharTokenizer(_Base):
    """One token per character (Zhang, Zhao & LeCun 2015 work on characters)."""
    kind = "char"

    def __call__(self, text: str) -> list[str]:
        return list(text.lower() if self.lowercase else text)


class SubwordTokenizer(_Base):
    """A WordPiece or byte-pair-encoding tokenizer trained on the training texts with the
    ``tokenizers`` library; serialised as its JSON string inside the model's config."""

    def __init__(self, kind: str = "wordpiece", vocab_size: int = 8000, lowercase: bool = True,
                 min_frequency: int = 2, _json: str | None = None):
        super().__init__(lowercase)
        if kind not in ("wordpiece", "bpe"):
            raise ValueError(f"tokenizer kind must be 'wordpiece' or 'bpe', got {kind!r}")
        if isinstance(vocab_size, bool) or not isinstance(vocab_size, int) or vocab_size < 10:
            raise ValueError(f"vocab_size must be an integer >= 10, got {vocab_size!r}")
        self.kind = kind
        self.vocab_size = vocab_size
        self.min_frequency = min_frequency
        self._tok = None
        if _json is not None:
            from tokenizers import Tokenizer

            self._tok = Tokenizer.from_str(_json)

    @property
    def trainable(self) -> bool:
        return True

    def fit(self, texts: Iterable[str]):
        from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

        if self.kind == "wordpiece":
            tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
            trainer = trainers.WordPieceTrainer(vocab_size=self.vocab_size, min_frequency=self.min_frequency,
                                                special_tokens=["[UNK]"], show_progress=False)
        else:
            tok = Tokenizer(models.BPE(unk_token="[UNK]"))
            trainer = trainers.BpeTrainer(vocab_size=self.vocab_size, min_frequency=self.min_frequency,
                                          special_tokens=["[UNK]"], show_progress=False)
        norms = [normalizers.NFKC()] + ([normalizers.Lowercase()] if self.lowercase else [])
        tok.normalizer = normalizers.Sequence(norms)
        tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Whitespace()])
        tok.train_from_iterator(list(texts), trainer=trainer)
        self._tok = tok
        return self

    def __call__(self, text: str) -> list[str]:
        if self._tok is None:
            raise ValueError(f"the {self.kind!r} tokenizer must be trained (fit) before use")
        return self._tok.encode(text).tokens

    def to_config(self) -> dict:
        cfg = {"kind": self.kind, "lowercase": self.lowercase, "vocab_size": self.vocab_size,
               "min_frequency": self.min_frequency}
        if self._tok is not None:
            cfg["json"] = self._tok.to_str()
        return cfg


class CallableTokenizer(_Base):
    """Wrap a user function ``text -> list[str]``. It can be saved only when it is a module-level
    function; the artifact records its name (``"module:qualname"``) but never imports it: a
    tampered ``config.json`` could otherwise name any function (``os:system``) and have it called
    on every input. The caller hands the function back on load
    (``TextCNNClassifier.load(path, tokenizer=func)``), and its name must match the saved one."""
    kind = "callable"

    def __init__(self, func: Callable[[str], list]):
        super().__init__(False)
        self.func = func

    def __call__(self, text: str) -> list[str]:
        out = self.func(text)
        if isinstance(out, str) or not isinstance(out, (list, tuple)):
            raise TypeError(f"the tokenizer callable must return a list of strings, got {type(out).__name__}")
        return [str(t) for t in out]

    def to_config(self) -> dict:
        module = getattr(self.func, "__module__", None)
        qualname = getattr(self.func, "__qualname__", None)
        if not module or not qualname or "<" in qualname or module == "__main__":
            raise ValueError(f"tokenizer callable {self.func!r} cannot be saved: only module-level "
                             "functions importable by name can (not lambdas, closures or __main__ functions)")
        return {"kind": "callable", "target": f"{module}:{qualname}"}


def make_tokenizer(spec="kim", *, lowercase=None, **kwargs):
    """Build a tokenizer from a name in :data:`TOKENIZERS`, a callable, or a tokenizer object.

    ``lowercase=None`` uses the default of the kind (on for kim/char/sub-words, off for
    whitespace). Extra keyword arguments go to :class:`SubwordTokenizer` (``vocab_size``)."""
    if isinstance(spec, _Base):
        return spec
    if isinstance(spec, str):
        if spec not in TOKENIZERS:
            raise ValueError(f"tokenizer must be one of {TOKENIZERS} or a callable, got {spec!r}")
        lc = {} if lowercase is None else {"lowercase": bool(lowercase)}
        if spec in ("wordpiece", "bpe"):
            return SubwordTokenizer(spec, **lc, **kwargs)
        if kwargs:
            raise ValueError(f"tokenizer {spec!r} takes no options, got {sorted(kwargs)}")
        return {"kim": KimTokenizer, "whitespace": WhitespaceTokenizer, "char": CharTokenizer}[spec](**lc)
    if callable(spec):
        return CallableTokenizer(spec)
    raise TypeError(f"tokenizer must be a name {TOKENIZERS} or a callable, got {type(spec).__name__}")


def callable_target(func) -> str:
    """The ``"module:qualname"`` name under which a tokenizer function is saved."""
    return CallableTokenizer(func).to_config()["target"]


def tokenizer_from_config(cfg: dict, *, callables: dict | None = None):
    """Inverse of ``tokenizer.to_config()``.

    A ``"callable"`` tokenizer is looked up in ``callables`` (``{"module:qualname": func}``,
    supplied by the caller), never imported by name from the config (see
    :class:`CallableTokenizer`)."""
    kind = cfg.get("kind")
    if kind == "callable":
        target = cfg.get("target")
        if not callables or target not in callables:
            raise ValueError(
                f"this model was saved with the custom tokenizer {target!r}; for safety it is not "
                f"imported from the artifact. Pass the function when loading, e.g. "
                f"TextCNNClassifier.load(path, tokenizer=<{target}>)")
        return CallableTokenizer(callables[target])
    if kind in ("wordpiece", "bpe"):
        return SubwordTokenizer(kind, vocab_size=cfg.get("vocab_size", 8000), lowercase=cfg.get("lowercase", True),
                                min_frequency=cfg.get("min_frequency", 2), _json=cfg.get("json"))
    if kind in ("kim", "whitespace", "char"):
        return make_tokenizer(kind, lowercase=cfg.get("lowercase"))
    raise ValueError(f"unknown tokenizer kind in config: {json.dumps(cfg)[:200]}")
