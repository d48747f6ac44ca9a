"""Text CNNs as plain ``nn.Module``\\ s: ``forward(ids (N, L) long) -> logits (N, K)``,
``forward_features(ids)`` → the feature map before global pooling (N, C, L'), and
``forward_head(map, pre_logits=False)`` → pooling and classifier: logits (N, K), or the pre-logit
vector (N, F) with ``pre_logits=True`` (timm's interface, as every registered network). The
max-over-time networks (Kim, DPCNN, the contextual CNN) mark the positions their pooling must
skip (windows of padding only) with −inf in the map, so ``forward_head``'s plain max is the
masked max (:func:`~seqcnn.engine.pooling.max_over_time`; a row of padding only pools to 0).

- :class:`KimCNN` — Kim, "Convolutional Neural Networks for Sentence Classification", EMNLP
  2014: embeddings (rand / static / non-static / multichannel) → one Conv1d bank per filter width
  → ReLU → max-over-time → concat → dropout → linear (max-norm 3 on its rows, applied by the
  trainer). Max-over-time is *masked*: windows made only of padding never win and an all-pad row
  pools to 0, so logits do not depend on the batch a sentence is in. Initialisation follows Kim's
  code: U[−0.25, 0.25] random embeddings, Glorot-uniform convolutions with zero biases, and a
  zero-initialised output layer. ``dropout_scaling="test"`` is Kim's dropout (no rescaling in
  training, × (1 − p) at evaluation; the estimator's default); the module's default is
  PyTorch's inverted ``nn.Dropout``.
- :class:`ContextualCNN` — the same CNN over frozen contextual vectors (a transformer's last
  hidden states, one per word piece; :mod:`seqcnn.text.contextual` computes and caches them),
  optionally beside a trainable word-piece embedding channel.
- :class:`CharCNN` — Zhang, Zhao & LeCun, "Character-level Convolutional Networks for Text
  Classification", NIPS 2015, the *small* configuration (6 convs of 256 maps, kernels 7,7,3,3,3,3,
  max-pool 3 after convs 1, 2 and 6, two FC layers of 1024 with dropout 0.5, N(0, 0.05) init).
  Deviations: the alphabet is learned from the training data (the paper fixes 70 characters) and
  characters are not reversed; the input length (paper: 1014) is a parameter and shorter inputs
  are zero-padded inside the model, so any text works.
- :class:`DPCNN` — Johnson & Zhang, "Deep Pyramid Convolutional Neural Networks for Text
  Categorization", ACL 2017: region embedding (a width-3 conv over word vectors), two
  pre-activation 3-convs, then ``num_blocks`` blocks of [max-pool 3 stride 2 → two pre-activation
  3-convs + identity shortcut] at a fixed number of maps (250), halving the length each time, then
  max-over-time and a linear layer. Deviations: the region embedding is learned from scratch (no
  unsupervised tv-embeddings); a fixed block count (default 6) rather than "until length 1";
  padding is masked at every stage (pads are re-zeroed after each conv and never win a pool).
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from seqcnn.engine.pooling import conv_window_mask, masked_max_over_time, max_over_time
from seqcnn.engine.layers import WeightScalingDropout, make_dropout

__all__ = ["KimCNN", "ContextualCNN", "CharCNN", "DPCNN", "MODES", "KIM_MODES", "CONTEXTUAL_MODES", "ARCHS"]

KIM_MODES = ("rand", "static", "non-static", "multichannel")
CONTEXTUAL_MODES = ("contextual", "contextual-multichannel")
MODES = KIM_MODES + CONTEXTUAL_MODES
ARCHS = ("kim", "char", "dpcnn")


def _check_ids(ids):
    if not isinstance(ids, torch.Tensor) or ids.dim() != 2 or ids.dtype not in (torch.long, torch.int32, torch.int64):
        shape = tuple(ids.shape) if isinstance(ids, torch.Tensor) else type(ids).__name__
        raise ValueError(f"ids must be a (N, L) integer tensor, got {shape}"
                         f"{' ' + str(ids.dtype) if isinstance(ids, torch.Tensor) else ''}")
    return ids.long()


def _bank_map(maps) -> torch.Tensor:
    """Per-width ``(ReLU map (N, F, L − w + 1), valid-window mask (N, L − w + 1))`` → one map
    (N, F·|W|, L − min(W) + 1): the banks' channels side by side, invalid windows and the
    positions past a wider bank's end at −inf (never picked by max-over-time)."""
    length = max(h.shape[2] for h, _ in maps)
    neg = float("-inf")
    return torch.cat([F.pad(h.masked_fill(~m.unsqueeze(1), neg), (0, length - h.shape[2]), value=neg)
                      for h, m in maps], dim=1)


class _ShiftSum(torch.autograd.Function):
    """y[n, t, f] = Σ_k z[n, t + k, k·F + f] for z (N, L, w·F) → y (N, L − w + 1, F).

    Autograd of the equivalent slicing code zero-fills a full-size gradient per tap; this
    backward writes each tap's gradient into one buffer."""

    @staticmethod
    def forward(ctx, z, w):
        N, L, wf = z.shape
        ctx.shape = (N, L, w, wf // w)
        return _shift_sum_(z, w)

    @staticmethod
    def backward(ctx, gy):
        N, L, w, nf = ctx.shape
        L_out = L - w + 1
        gz = gy.new_zeros(N, L, w, nf)
        for k in range(w):
            gz[:, k:k + L_out, k, :] = gy
        return gz.view(N, L, w * nf), None


def _scatter_real_rows(xw: torch.Tensor, rows: torch.Tensor, token_mask: torch.Tensor) -> torch.Tensor:
    """(R, C) products of the real tokens → (N, L, C) with zeros at the pads; every row is
    written once (no zero-fill pass). Not differentiable: for ``no_grad`` and autograd functions."""
    N, L = token_mask.shape
    z = xw.new_empty(N * L, xw.shape[1]).index_copy_(0, rows, xw)
    z.index_fill_(0, (~token_mask).reshape(-1).nonzero().squeeze(1), 0.0)
    return z.view(N, L, -1)


def _shift_sum_(z: torch.Tensor, w: int) -> torch.Tensor:
    """:class:`_ShiftSum`'s forward without autograd: one output allocation, taps added in place."""
    N, L, wf = z.shape
    nf = wf // w
    L_out = L - w + 1
    zw = z.unflatten(2, (w, nf))  # a view, also of a column slice of the fused buffer
    if w == 1:
        return zw[:, :, 0, :].clone()
    y = torch.add(zw[:, 0:L_out, 0, :], zw[:, 1:1 + L_out, 1, :])
    for k in range(2, w):
        y.add_(zw[:, k:k + L_out, k, :])
    return y


class _BankMaxPool(torch.autograd.Function):
    """Every bank's bias + ReLU + masked max-over-time, from the fused tap products.

    Input ``xw`` (R, Σ_w w·F): the products x·W of the R real tokens (rows ``rows`` of the
    flattened (N, L) batch) with every tap of every width, side by side as in
    :meth:`KimCNN._fused_weight`. Output: pooled features (N, Σ_w F) — the same function as
    conv → ReLU → masked max-over-time.

    The point is the backward: max-over-time sends each feature's gradient to one window, so
    the gradient of ``xw`` has at most N·F·w non-zeros per width, written by one ``index_put_``
    — instead of autograd's dense (N, L, Σw·F) buffers for the pooling, the ReLU, the
    shift-sum and the scatter of the real rows.
    """

    @staticmethod
    def forward(ctx, xw, bias, rows, token_mask, widths, nf):
        C = xw.shape[1]
        z = _scatter_real_rows(xw, rows, token_mask)  # (N, L, C)
        pooled, argmax, off = [], [], 0
        for i, w in enumerate(widths):
            y = _shift_sum_(z[:, :, off:off + w * nf], w).add_(bias[i * nf:(i + 1) * nf]).relu_()  # (N, L_out, F)
            y.mul_(conv_window_mask(token_mask, w).unsqueeze(2))  # invalid windows → 0 (values are ≥ 0)
            val, idx = y.max(dim=1)  # (N, F)
            pooled.append(val)
            argmax.append(idx)
            off += w * nf
        out = torch.cat(pooled, dim=1)
        ctx.save_for_backward(rows, token_mask, out, *argmax)
        ctx.meta = (tuple(widths), nf, C, xw.shape[0])
        ctx.mark_non_differentiable()
        return out

    @staticmethod
    def backward(ctx, g):
        rows, token_mask, out, *argmax = ctx.saved_tensors
        widths, nf, C, R = ctx.meta
        N, L = token_mask.shape
        g = g * (out > 0)  # ReLU: windows that pooled to 0 (clamped or masked) pass nothing back
        gb = g.sum(0)
        pos2row = torch.full((N * L,), -1, dtype=torch.long, device=g.device)
        pos2row[rows] = torch.arange(R, device=g.device)
        pos2row = pos2row.view(N, L)
        n_idx = torch.arange(N, device=g.device).view(N, 1, 1)
        f_idx = torch.arange(nf, device=g.device).view(1, nf, 1)
        gxw = g.new_zeros(R, C)
        off = 0
        for i, (w, idx) in enumerate(zip(widths, argmax)):
            taps = torch.arange(w, device=g.device).view(1, 1, w)
            r = pos2row[n_idx, idx.unsqueeze(2) + taps]  # (N, F, w): the row of tap k's token
            col = off + taps * nf + f_idx  # (1, F, w)
            gi = g[:, i * nf:(i + 1) * nf].unsqueeze(2).expand(N, nf, w)
            keep = r >= 0
            gxw.index_put_((r[keep], col.expand(N, nf, w)[keep]), gi[keep], accumulate=True)
            off += w * nf
        return gxw, gb, None, None, None, None


def _check_widths(filter_sizes) -> tuple:
    widths = tuple(int(w) for w in filter_sizes)
    if not widths or min(widths) < 1:
        raise ValueError(f"filter_sizes must be a non-empty sequence of ints >= 1, got {widths!r}")
    return widths


def _initial_matrix(vocab_size: int, embedding_dim: int, pretrained, padding_idx: int) -> torch.Tensor:
    """The (vocab_size, embedding_dim) starting embedding matrix: a copy of ``pretrained`` (shape
    checked), or Kim's U[−0.25, 0.25] draw; the ``<pad>`` row zero."""
    if pretrained is not None:
        pretrained = torch.as_tensor(pretrained, dtype=torch.float32)
        if tuple(pretrained.shape) != (vocab_size, embedding_dim):
            raise ValueError(f"pretrained must be ({vocab_size}, {embedding_dim}), got {tuple(pretrained.shape)}")
    else:
        pretrained = torch.empty(vocab_size, embedding_dim).uniform_(-0.25, 0.25)
    pretrained = pretrained.clone()
    pretrained[padding_idx] = 0.0
    return pretrained


def _embedding_of(matrix: torch.Tensor, padding_idx: int, sparse: bool = False) -> nn.Embedding:
    emb = nn.Embedding(matrix.shape[0], matrix.shape[1], padding_idx=padding_idx, sparse=sparse)
    with torch.no_grad():
        emb.weight.copy_(matrix)
    return emb


class _KimBanks(nn.Module):
    """Kim's banks and head, shared by :class:`KimCNN` and :class:`ContextualCNN`: one ``Conv1d``
    per width (Glorot uniform as in Kim's Theano code, fan_in = C·w, fan_out = F·w; zero bias),
    masked max-over-time, dropout, a zero-initialised linear layer (N, F·|W|) → (N, K)."""

    def _build_banks(self, in_channels: int, num_classes: int, dropout: float, dropout_scaling: str) -> None:
        nf = self.num_filters
        self.convs = nn.ModuleList(nn.Conv1d(in_channels, nf, w) for w in self.filter_sizes)
        for conv, w in zip(self.convs, self.filter_sizes):
            bound = math.sqrt(6.0 / (in_channels * w + nf * w))
            nn.init.uniform_(conv.weight, -bound, bound)
            nn.init.zeros_(conv.bias)
        self.dropout = make_dropout(dropout, dropout_scaling)
        self.num_features = nf * len(self.filter_sizes)
        self.fc = nn.Linear(self.num_features, num_classes)
        nn.init.zeros_(self.fc.weight)
        nn.init.zeros_(self.fc.bias)

    @property
    def max_width(self) -> int:
        return max(self.filter_sizes)

    def output_weight(self) -> torch.Tensor:
        """The output layer's weight as evaluation applies it to the pooled features, (C, F·|W|):
        ``fc.weight`` under inverted dropout, ``(1 − p) · fc.weight`` under Kim's form."""
        w = self.fc.weight
        return w * (1.0 - self.dropout.p) if isinstance(self.dropout, WeightScalingDropout) else w

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False, *aux) -> torch.Tensor:
        """Map (N, F·|W|, L') from ``forward_features`` → max-over-time (N, F·|W|) → dropout (the
        pre-logit vector with ``pre_logits=True``) → logits (N, K); auxiliary inputs (the
        contextual CNN's ``hidden``) are not needed here."""
        return self._classify(max_over_time(x), pre_logits)

    def _classify(self, pooled: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        pooled = self.dropout(pooled)
        return pooled if pre_logits else self.fc(pooled)


class KimCNN(_KimBanks):
    """Kim (2014)'s sentence CNN.

    Parameters
    ----------
    vocab_size, num_classes : ints.
    embedding_dim : 300 in the paper (word2vec's size).
    filter_sizes, num_filters : widths (3, 4, 5) with 100 maps each.
    dropout : 0.5, on the concatenated pooled features.
    dropout_scaling : ``"train"`` (``nn.Dropout``, inverted) or ``"test"``
        (:class:`~seqcnn.engine.layers.WeightScalingDropout`, Kim's form: no rescaling in
        training, features × (1 − p) at evaluation, so ``fc.weight`` is Kim's ``W`` and the
        max-norm 3 limit on its rows is his).
    mode : ``"rand"`` (random, trained), ``"static"`` (pretrained, frozen), ``"non-static"``
        (pretrained, fine-tuned) or ``"multichannel"`` (a frozen and a fine-tuned copy of the same
        matrix; each filter spans both channels and their responses are summed).
    pretrained : (vocab_size, embedding_dim) tensor for the non-rand modes (random if None).
    padding_idx : id of ``<pad>``; its embedding row is zero and receives no gradient.
    fused : compute every bank with one matrix product over the real tokens (see
        :meth:`feature_maps`) instead of one ``Conv1d`` call per width — the same function (the
        weights stay in the Conv1d banks), faster: in training, bias + ReLU + masked max-over-time
        is one autograd function (:class:`_BankMaxPool`) with a sparse backward; at inference the
        post-processing runs in place.
    sparse : sparse embedding gradients (only touched rows; pair with
        :class:`~seqcnn.text.optim.LazyAdadelta`).

    Input ``ids`` (N, L), normally padded by the collate with ``max(filter_sizes) − 1`` zeros per
    side; inputs shorter than the widest filter are padded here, so any input works.
    """

    inference_chunk_elements = 2 * 1024 * 1024  # fused inference sub-batch budget (floats)

    def __init__(self, vocab_size: int, num_classes: int, *, embedding_dim: int = 300,
                 filter_sizes: Sequence[int] = (3, 4, 5), num_filters: int = 100, dropout: float = 0.5,
                 mode: str = "rand", pretrained: torch.Tensor | None = None, padding_idx: int = 0,
                 fused: bool = False, sparse: bool = False, dropout_scaling: str = "train"):
        super().__init__()
        if mode not in KIM_MODES:
            raise ValueError(f"mode must be one of {KIM_MODES}, got {mode!r}")
        filter_sizes = _check_widths(filter_sizes)
        if num_classes < 1 or vocab_size < 2:
            raise ValueError(f"need vocab_size >= 2 and num_classes >= 1, got {vocab_size}, {num_classes}")
        self.mode = mode
        self.filter_sizes = filter_sizes
        self.num_filters = int(num_filters)
        self.padding_idx = padding_idx
        self.fused = bool(fused)
        self.num_classes = num_classes
        pretrained = _initial_matrix(vocab_size, embedding_dim, pretrained, padding_idx)
        self.embedding = _embedding_of(pretrained, padding_idx, sparse)
        self.embedding.weight.requires_grad_(mode in ("rand", "non-static", "multichannel"))
        self.static_embedding = None
        if mode == "multichannel":
            self.static_embedding = _embedding_of(pretrained, padding_idx)
            self.static_embedding.weight.requires_grad_(False)
        self._build_banks(embedding_dim * (2 if mode == "multichannel" else 1), num_classes, dropout,
                          dropout_scaling)

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        """(N, L) → (N, C·E, L) with C = 2 channels for multichannel."""
        x = self.embedding(ids)  # (N, L, E)
        if self.static_embedding is not None:
            x = torch.cat([self.static_embedding(ids), x], dim=2)  # (N, L, 2E)
        return x.transpose(1, 2)

    def _pad_short(self, ids):
        if ids.shape[1] < self.max_width:
            ids = F.pad(ids, (0, self.max_width - ids.shape[1]), value=self.padding_idx)
        return ids

    def _fused_weight(self) -> torch.Tensor:
        """Every bank's taps side by side, (C·E, Σ_w w·F), column (k, f) of width w = W_f[:, k].

        Under ``no_grad`` the matrix is cached until a weight changes (in-place updates bump the
        tensors' version counters; ``.to()`` and ``load_state_dict`` are caught the same way)."""
        def build():
            return torch.cat([c.weight.permute(1, 2, 0).reshape(c.in_channels, -1) for c in self.convs], dim=1)
        if torch.is_grad_enabled():
            return build()
        key = tuple((c.weight._version, c.weight.data_ptr(), c.weight.device, c.weight.dtype) for c in self.convs)
        cache = self.__dict__.get("_fused_weight_cache")
        if cache is None or cache[0] != key:
            cache = (key, build())
            self.__dict__["_fused_weight_cache"] = cache
        return cache[1]

    def feature_maps(self, ids: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Per width: (ReLU conv outputs (N, F, L−w+1), valid-window mask (N, L−w+1))."""
        ids = self._pad_short(_check_ids(ids))
        token_mask = ids != self.padding_idx  # (N, L)
        masks = [conv_window_mask(token_mask, w) for w in self.filter_sizes]
        if not self.fused:
            x = self.embed(ids)  # (N, C, L)
            return [(F.relu(conv(x)), m) for conv, m in zip(self.convs, masks)]
        # Fused bank as one GEMM: Z[n, t, (k, f)] = x[n, t] · W_f[:, k] for every width and tap k,
        # then y[n, t, f] = b_f + Σ_k Z[n, t + k, (k, f)]. Same function as the convolutions, but
        # one large matrix product instead of three small oneDNN convolutions (faster on CPU).
        # The <pad> embedding is exactly zero, so Z is zero at padding positions: only real tokens
        # enter the matrix product (its FLOPs are the useful ones) and are scattered back.
        N, L = ids.shape
        rows, xw = self._real_token_products(ids, token_mask)
        if torch.is_grad_enabled():
            z = xw.new_zeros(N * L, xw.shape[1]).index_copy(0, rows, xw).view(N, L, -1)  # (N, L, Σw·F)
        else:
            z = _scatter_real_rows(xw, rows, token_mask)
        outs, off, nf = [], 0, self.num_filters
        for conv, w, m in zip(self.convs, self.filter_sizes, masks):
            if torch.is_grad_enabled():
                y = F.relu(_ShiftSum.apply(z[:, :, off:off + w * nf], w) + conv.bias)  # (N, L_out, F)
            else:
                y = _shift_sum_(z[:, :, off:off + w * nf], w).add_(conv.bias).relu_()
            outs.append((y.transpose(1, 2), m))  # (N, F, L_out)
            off += w * nf
        return outs

    def forward_features(self, ids: torch.Tensor) -> torch.Tensor:
        """(N, L) → the banks' ReLU maps before pooling, (N, num_filters · len(filter_sizes),
        L − min(filter_sizes) + 1) (after the short-input padding): width ``filter_sizes[i]`` in
        channels ``[i·F, (i+1)·F)``; windows of padding only, and the positions past a wider
        bank's last window, hold −inf. ``forward_head`` pools it; :meth:`pooled_features` is
        the same pooled vector computed without the map (the fused path ``forward`` takes)."""
        return _bank_map(self.feature_maps(ids))

    def pooled_features(self, ids: torch.Tensor) -> torch.Tensor:
        """(N, L) → masked max-over-time features (N, num_filters · len(filter_sizes)), equal to
        ``max_over_time(forward_features(ids))``; with ``fused``, pooled with the bank (in
        training by :class:`_BankMaxPool`, at inference in place)."""
        if self.fused and torch.is_grad_enabled():
            return self._fused_pool_train(ids)
        maps = self.feature_maps(ids)
        if self.fused and not torch.is_grad_enabled():
            # Inference: the maps are ReLU outputs (≥ 0) in a (N, L_out, F) buffer of our own, so
            # zeroing the invalid windows in place and taking the plain max is the masked max
            # (an all-pad row pools to 0 as well) without a masked copy.
            return torch.cat([h.transpose(1, 2).mul_(m.unsqueeze(2)).amax(dim=1) for h, m in maps], dim=1)
        return torch.cat([masked_max_over_time(h, m) for h, m in maps], dim=1)

    def _real_token_products(self, ids: torch.Tensor, token_mask: torch.Tensor):
        """The fused GEMM: (rows (R,) of the real tokens in the flattened (N, L) batch, their
        embeddings times every tap of every width (R, Σw·F))."""
        rows = token_mask.reshape(-1).nonzero().squeeze(1)
        tok = ids.reshape(-1).index_select(0, rows)
        x = self.embedding(tok)  # (R, E)
        if self.static_embedding is not None:
            x = torch.cat([self.static_embedding(tok), x], dim=1)  # (R, 2E)
        return rows, x @ self._fused_weight()

    def _fused_pool_train(self, ids: torch.Tensor) -> torch.Tensor:
        """Training path of the fused bank: GEMM over real tokens, then :class:`_BankMaxPool`."""
        ids = self._pad_short(_check_ids(ids))
        token_mask = ids != self.padding_idx
        rows, xw = self._real_token_products(ids, token_mask)
        bias = torch.cat([c.bias for c in self.convs])
        return _BankMaxPool.apply(xw, bias, rows, token_mask, self.filter_sizes, self.num_filters)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """(N, L) → logits (N, K): ``forward_head(forward_features(ids))``, computed through
        :meth:`pooled_features` (no map is built)."""
        ids = _check_ids(ids)
        if self.fused and not torch.is_grad_enabled() and ids.shape[0] > 1:
            # Inference: sub-batches whose (N, L, Σw·F) intermediate stays ≤ 8 MB. Freshly
            # allocated large buffers page-fault on every call; small ones are reused from cache.
            # Rows are independent, so the logits are the same as in one pass.
            per_row = ids.shape[1] * self.num_filters * sum(self.filter_sizes)
            chunk = max(1, self.inference_chunk_elements // max(per_row, 1))
            if ids.shape[0] > chunk:
                return torch.cat([self._classify(self.pooled_features(part)) for part in ids.split(chunk)])
        return self._classify(self.pooled_features(ids))

    @torch.no_grad()
    def winners(self, ids: torch.Tensor):
        """For explanations: per width, the pooled activation (N, F) and the arg-max window (N, F)
        (−1 where no window is valid)."""
        out = []
        for h, m in self.feature_maps(ids):
            masked = h.masked_fill(~m.unsqueeze(1), float("-inf"))
            vals, idx = masked.max(dim=2)
            valid = m.any(dim=1, keepdim=True)
            out.append((torch.where(valid, vals, torch.zeros_like(vals)), torch.where(valid, idx, torch.full_like(idx, -1))))
        return out


class ContextualCNN(_KimBanks):
    """Kim's CNN whose input is given vectors rather than looked-up embeddings.

    ``forward(ids (N, L) long, hidden (N, L, context_dim) float) -> logits (N, K)``: ``hidden``
    holds one frozen contextual vector per word piece (zeros at padding), ``ids`` the pieces'
    ids (``padding_idx`` marks padding: the mask). With ``vocab_size`` given, a trainable
    embedding channel (``embedding_dim``, initialised from ``pretrained`` or U[−0.25, 0.25])
    is concatenated to the contextual one, so each filter spans ``context_dim + embedding_dim``
    input channels (Kim's multichannel: the responses of both channels summed). Then, as
    :class:`KimCNN`: one bank per width (Glorot-uniform, zero bias) → ReLU → masked
    max-over-time (the fused GEMM over real tokens and :class:`_BankMaxPool`) → dropout →
    linear (zero-initialised; max-norm on its rows applied by the trainer).
    """

    def __init__(self, num_classes: int, *, context_dim: int = 384, filter_sizes: Sequence[int] = (3, 4, 5),
                 num_filters: int = 100, dropout: float = 0.5, vocab_size: int | None = None,
                 embedding_dim: int = 300, pretrained: torch.Tensor | None = None, padding_idx: int = 0,
                 sparse: bool = False, dropout_scaling: str = "train"):
        super().__init__()
        filter_sizes = _check_widths(filter_sizes)
        if num_classes < 1 or context_dim < 1:
            raise ValueError(f"need num_classes >= 1 and context_dim >= 1, got {num_classes}, {context_dim}")
        self.filter_sizes = filter_sizes
        self.num_filters = int(num_filters)
        self.padding_idx = padding_idx
        self.context_dim = int(context_dim)
        self.num_classes = num_classes
        self.embedding = None
        in_channels = self.context_dim
        if vocab_size is not None:
            self.embedding = _embedding_of(_initial_matrix(vocab_size, embedding_dim, pretrained, padding_idx),
                                           padding_idx, sparse)
            in_channels += embedding_dim
        self._build_banks(in_channels, num_classes, dropout, dropout_scaling)

    def _check_inputs(self, ids, hidden):
        ids = _check_ids(ids)
        if not isinstance(hidden, torch.Tensor) or hidden.dim() != 3 or tuple(hidden.shape[:2]) != tuple(ids.shape) \
                or hidden.shape[2] != self.context_dim:
            shape = tuple(hidden.shape) if isinstance(hidden, torch.Tensor) else type(hidden).__name__
            raise ValueError(f"hidden must be (N, L, {self.context_dim}) matching ids {tuple(ids.shape)}, got {shape}")
        if ids.shape[1] < self.max_width:
            extra = self.max_width - ids.shape[1]
            ids = F.pad(ids, (0, extra), value=self.padding_idx)
            hidden = F.pad(hidden, (0, 0, 0, extra))
        return ids, hidden.float()

    def forward_features(self, ids: torch.Tensor, hidden: torch.Tensor) -> torch.Tensor:
        """(N, L), (N, L, H) → the banks' ReLU maps before pooling (N, num_filters ·
        len(filter_sizes), L − min(filter_sizes) + 1), laid out and masked as
        :meth:`KimCNN.forward_features` (−inf at windows of padding only)."""
        ids, hidden = self._check_inputs(ids, hidden)
        x = hidden
        if self.embedding is not None:
            x = torch.cat([x, self.embedding(ids)], dim=2)  # (N, L, H + E)
        x = x.transpose(1, 2)
        token_mask = ids != self.padding_idx
        return _bank_map([(F.relu(conv(x)), conv_window_mask(token_mask, w))
                          for conv, w in zip(self.convs, self.filter_sizes)])

    def pooled_features(self, ids: torch.Tensor, hidden: torch.Tensor) -> torch.Tensor:
        """(N, L), (N, L, H) → masked max-over-time features (N, num_filters · len(filter_sizes)),
        through the fused GEMM over the real tokens and :class:`_BankMaxPool` (no map built)."""
        ids, hidden = self._check_inputs(ids, hidden)
        N, L = ids.shape
        token_mask = ids != self.padding_idx
        rows = token_mask.reshape(-1).nonzero().squeeze(1)
        x = hidden.reshape(N * L, -1).index_select(0, rows)  # (R, H)
        if self.embedding is not None:
            x = torch.cat([x, self.embedding(ids.reshape(-1).index_select(0, rows))], dim=1)  # (R, H + E)
        weight = torch.cat([c.weight.permute(1, 2, 0).reshape(c.in_channels, -1) for c in self.convs], dim=1)
        bias = torch.cat([c.bias for c in self.convs])
        return _BankMaxPool.apply(x @ weight, bias, rows, token_mask, self.filter_sizes, self.num_filters)

    def forward(self, ids: torch.Tensor, hidden: torch.Tensor) -> torch.Tensor:
        """Logits (N, K) = ``forward_head(forward_features(ids, hidden))``, through
        :meth:`pooled_features`."""
        return self._classify(self.pooled_features(ids, hidden))


class CharCNN(nn.Module):
    """Zhang, Zhao & LeCun (2015), small configuration, on character ids (N, L).

    Parameters: ``vocab_size`` (alphabet incl. ``<pad>``=0 and ``<unk>``=1, both encoded as the
    all-zero vector as in the paper), ``num_classes``, ``input_length`` (1014 in the paper; the
    minimum is 123 with the paper's kernels), ``num_features`` (256; 1024 is the large model),
    ``fc_dim`` (1024), ``dropout`` (0.5), ``dropout_scaling`` (``"train"``: inverted
    ``nn.Dropout``; ``"test"``: :class:`~seqcnn.engine.layers.WeightScalingDropout`). Inputs are
    truncated / zero-padded to ``input_length``.
    """

    CONV_TABLE = ((7, 3), (7, 3), (3, None), (3, None), (3, None), (3, 3))  # (kernel, max-pool after)

    def __init__(self, vocab_size: int, num_classes: int, *, input_length: int = 1014, num_features: int = 256,
                 fc_dim: int = 1024, dropout: float = 0.5, padding_idx: int = 0, dropout_scaling: str = "train"):
        super().__init__()
        self.vocab_size = vocab_size
        self.input_length = int(input_length)
        self.padding_idx = padding_idx
        layers, channels, length = [], vocab_size, self.input_length
        for k, pool in self.CONV_TABLE:
            layers += [nn.Conv1d(channels, num_features, k), nn.ReLU(inplace=True)]
            length = length - k + 1
            if pool:
                layers.append(nn.MaxPool1d(pool))
                length //= pool
            channels = num_features
            if length < 1:
                raise ValueError(f"input_length={input_length} is too short for CharCNN's six convolutions")
        self.features = nn.Sequential(*layers)
        self.num_features = num_features * length
        self.classifier = nn.Sequential(
            nn.Linear(self.num_features, fc_dim), nn.ReLU(inplace=True), make_dropout(dropout, dropout_scaling),
            nn.Linear(fc_dim, fc_dim), nn.ReLU(inplace=True), make_dropout(dropout, dropout_scaling),
        )
        self.fc = nn.Linear(fc_dim, num_classes)
        for m in self.modules():
            if isinstance(m, (nn.Conv1d, nn.Linear)):
                nn.init.normal_(m.weight, 0.0, 0.05)
                nn.init.zeros_(m.bias)

    def one_hot(self, ids: torch.Tensor) -> torch.Tensor:
        """(N, L) → (N, V, input_length) one-hot, zero for ``<pad>``/``<unk>`` and past the end."""
        ids = _check_ids(ids)[:, : self.input_length]
        if ids.shape[1] < self.input_length:
            ids = F.pad(ids, (0, self.input_length - ids.shape[1]), value=self.padding_idx)
        x = F.one_hot(ids.clamp(0, self.vocab_size - 1), self.vocab_size).to(torch.float32)
        x[..., :2] = 0.0
        return x.transpose(1, 2)

    def forward_features(self, ids):
        """(N, L) → the last conv stage's map (N, num_features, L') (no global pooling here)."""
        return self.features(self.one_hot(ids))

    def forward_head(self, x, pre_logits: bool = False):
        """Map → flatten → the two FC layers (pre-logits (N, fc_dim)) → logits (N, K)."""
        x = self.classifier(x.flatten(1))
        return x if pre_logits else self.fc(x)

    def forward(self, ids):
        return self.forward_head(self.forward_features(ids))


class _PreActConv(nn.Module):
    """ReLU → 3-conv ("same" padding) → re-zero padding positions."""

    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv1d(channels, channels, 3, padding=1)

    def forward(self, x, mask):
        return self.conv(F.relu(x)) * mask


class _DPBlock(nn.Module):
    def __init__(self, channels, downsample=True):
        super().__init__()
        self.downsample = downsample
        self.conv1 = _PreActConv(channels)
        self.conv2 = _PreActConv(channels)

    def forward(self, x, mask):
        if self.downsample:
            # max-pool 3 / stride 2 over valid positions only
            neg = x.masked_fill(mask == 0, float("-inf"))
            x = F.max_pool1d(neg, 3, stride=2, padding=1, ceil_mode=True)
            mask = F.max_pool1d(mask, 3, stride=2, padding=1, ceil_mode=True)
            x = torch.where(mask > 0, x, torch.zeros_like(x))
        return x + self.conv2(self.conv1(x, mask), mask), mask


class DPCNN(nn.Module):
    """Johnson & Zhang (2017)'s deep pyramid CNN on word ids (N, L); see the module docstring.

    Parameters: ``vocab_size``, ``num_classes``, ``embedding_dim`` (300), ``num_filters`` (250),
    ``num_blocks`` (6 downsampling blocks), ``dropout`` (0.5 before the output layer),
    ``pretrained`` (initial embedding matrix), ``sparse``, ``dropout_scaling`` (as :class:`KimCNN`).
    """

    def __init__(self, vocab_size: int, num_classes: int, *, embedding_dim: int = 300, num_filters: int = 250,
                 num_blocks: int = 6, dropout: float = 0.5, pretrained=None, padding_idx: int = 0,
                 freeze_embedding: bool = False, sparse: bool = False, dropout_scaling: str = "train"):
        super().__init__()
        self.padding_idx = padding_idx
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=padding_idx, sparse=sparse)
        with torch.no_grad():
            if pretrained is not None:
                self.embedding.weight.copy_(torch.as_tensor(pretrained, dtype=torch.float32))
            else:
                self.embedding.weight.uniform_(-0.25, 0.25)
            self.embedding.weight[padding_idx] = 0.0
        self.embedding.weight.requires_grad_(not freeze_embedding)
        self.region = nn.Conv1d(embedding_dim, num_filters, 3, padding=1)
        self.stem = _DPBlock(num_filters, downsample=False)
        self.blocks = nn.ModuleList(_DPBlock(num_filters) for _ in range(num_blocks))
        self.dropout = make_dropout(dropout, dropout_scaling)
        self.num_features = num_filters
        self.fc = nn.Linear(num_filters, num_classes)

    def forward_features(self, ids):
        """(N, L) → the last block's map before pooling (N, num_filters, L'), L' = L halved
        (rounded up) ``num_blocks`` times; positions whose window holds padding only are −inf."""
        ids = _check_ids(ids)
        mask = (ids != self.padding_idx).to(torch.float32).unsqueeze(1)  # (N, 1, L)
        x = self.region(self.embedding(ids).transpose(1, 2)) * mask  # (N, F, L)
        x, mask = self.stem(x, mask)
        for block in self.blocks:
            x, mask = block(x, mask)
        return x.masked_fill(mask == 0, float("-inf"))

    def forward_head(self, x, pre_logits: bool = False):
        """Map → max-over-time (N, F) → dropout (the pre-logit vector with ``pre_logits=True``)
        → logits (N, K)."""
        x = self.dropout(max_over_time(x))
        return x if pre_logits else self.fc(x)

    def forward(self, ids):
        return self.forward_head(self.forward_features(ids))
