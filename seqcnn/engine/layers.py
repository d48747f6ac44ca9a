"""Building blocks shared by the text, signal and image models: activations by name, convolutions
with exact "same" padding, conv → BN → activation blocks, local response normalisation (AlexNet),
NiN's mlpconv and weight initialisation by name.

Pooling (:mod:`seqcnn.engine.pooling`) and the Inception / residual blocks
(:mod:`seqcnn.engine.blocks`) live in their own files and are re-exported here, so
``from seqcnn.engine.layers import X`` works for every public name of the catalogue.

Shapes: ``(N, C, L)`` for ``dims=1`` and ``(N, C, H, W)`` for ``dims=2`` everywhere.

Sources: Krizhevsky, Sutskever & Hinton 2012 (AlexNet, local response normalisation);
Lin, Chen & Yan 2014 (Network in Network, mlpconv); Ioffe & Szegedy 2015 (batch norm);
He et al. 2015 (Kaiming initialisation); Glorot & Bengio 2010 (Xavier initialisation);
He et al. 2016 "Identity mappings" (pre-activation order).
"""
from __future__ import annotations

import numbers
from collections import OrderedDict
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "ACTIVATIONS",
    "get_activation",
    "SameConv1d",
    "SameConv2d",
    "SameConv",
    "make_conv",
    "make_norm",
    "ConvBlock",
    "LocalResponseNorm",
    "MLPConv",
    "WeightScalingDropout",
    "make_dropout",
    "DROPOUT_SCALINGS",
    "init_weights",
    "INIT_SCHEMES",
]

# ----------------------------------------------------------------------------- helpers


def _check_dims(dims) -> int:
    if isinstance(dims, bool) or not isinstance(dims, numbers.Integral) or int(dims) not in (1, 2):
        raise ValueError(f"dims must be 1 (N, C, L) or 2 (N, C, H, W), got {dims!r}")
    return int(dims)


def _tuple(value, dims: int, name: str, *, minimum: int = 1) -> tuple:
    """Expand an int to a ``dims``-tuple and check every entry is an int >= ``minimum``."""
    if isinstance(value, (list, tuple)):
        vals = tuple(value)
        if len(vals) != dims:
            raise ValueError(f"{name} must be an int or a tuple of {dims} ints, got {value!r}")
    else:
        vals = (value,) * dims
    if any(isinstance(v, bool) or not isinstance(v, numbers.Integral) for v in vals):
        raise TypeError(f"{name} must be an int or a tuple of ints, got {value!r}")
    vals = tuple(int(v) for v in vals)
    for v in vals:
        if v < minimum:
            raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return vals


def _check_channels(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    value = int(value)
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return value


def _same_pad(kernel_size: int, dilation: int = 1) -> tuple[int, int]:
    """(left, right) zero padding that keeps the length of a stride-1 convolution.

    total = dilation·(kernel_size − 1), left = total // 2, right = total − left (the extra zero
    goes to the right for even totals, like ``seqcnn.engine.shapes.same_padding`` and torch's
    ``padding="same"``).
    """
    total = dilation * (kernel_size - 1)
    left = total // 2
    return left, total - left


# ----------------------------------------------------------------------------- activations

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu", "gelu", "identity")


def get_activation(name="relu", **kwargs) -> nn.Module:
    """Return a fresh activation module by name.

    ``name``: one of ``sigmoid, tanh, relu, leaky_relu, prelu, elu, gelu, identity`` (or ``None``
    for identity; case-insensitive, ``-`` and ``_`` interchangeable). Keyword arguments go to the
    torch module (``negative_slope`` for leaky_relu, ``num_parameters``/``init`` for prelu,
    ``alpha`` for elu, ``approximate`` for gelu, ``inplace`` for relu/leaky_relu/elu).
    An ``nn.Module`` instance is returned as is. Unknown names raise ``ValueError``.
    """
    if name is None:
        return nn.Identity()
    if isinstance(name, nn.Module):
        return name
    if not isinstance(name, str):
        raise TypeError(f"activation must be a string, None or an nn.Module, got {type(name).__name__}")
    key = name.lower().replace("-", "_")
    table = {
        "sigmoid": nn.Sigmoid,
        "tanh": nn.Tanh,
        "relu": nn.ReLU,
        "leaky_relu": nn.LeakyReLU,
        "leakyrelu": nn.LeakyReLU,
        "prelu": nn.PReLU,
        "elu": nn.ELU,
        "gelu": nn.GELU,
        "identity": nn.Identity,
        "linear": nn.Identity,
        "none": nn.Identity,
    }
    if key not in table:
        raise ValueError(f"activation={name!r} is not known; choose one of {', '.join(ACTIVATIONS)} (or None)")
    try:
        return table[key](**kwargs)
    except TypeError as exc:
        raise TypeError(f"activation={name!r} does not accept {sorted(kwargs)}: {exc}") from exc


# ----------------------------------------------------------------------------- convolutions


class SameConv:
    """Convolution with exact "same" zero padding, for any kernel size and dilation.

    ``SameConv(in_channels, out_channels, kernel_size, *, dims=2, stride=1, dilation=1, groups=1,
    bias=True)`` builds a :class:`SameConv1d` or :class:`SameConv2d`; ``SameConv[dims]`` is that
    class; ``isinstance(m, SameConv)`` recognises both. The modules stay ``nn.Conv1d``/``nn.Conv2d``
    (``kernel_size``, ``stride``, ``dilation`` work for summaries); when the padding is symmetric
    it is done by the conv itself (``.padding``), otherwise ``.same_padding`` holds the ``F.pad``
    tuple applied in ``forward``.
    """

    same_padding: tuple | None

    def __new__(cls, *args, dims=None, **kwargs):
        if cls is SameConv:
            cls = SameConv[2 if dims is None else dims]
        return nn.Module.__new__(cls)

    def __class_getitem__(cls, dims):
        return {1: SameConv1d, 2: SameConv2d}[_check_dims(dims)]

    def _setup_same(self, pads: Sequence[tuple[int, int]]) -> None:
        # pads: one (left, right) per spatial dim, in the order of the dims (H, W).
        if all(left == right for left, right in pads):
            self.padding = tuple(left for left, _ in pads)
            self.same_padding = None
        else:
            self.padding = (0,) * len(pads)
            flat: list[int] = []
            for left, right in reversed(pads):  # F.pad wants the last dim first
                flat += [left, right]
            self.same_padding = tuple(flat)
        self._pads = tuple(tuple(p) for p in pads)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D401
        if self.same_padding is not None:
            x = F.pad(x, self.same_padding)
        return self._conv_forward(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", same_padding={self._pads}"


class SameConv1d(SameConv, nn.Conv1d):
    """``nn.Conv1d`` with padding ``(left, right)`` chosen so that ``L_out = ceil(L / stride)``
    (``L_out = L`` for stride 1) for any kernel size and dilation: total = d·(k−1),
    left = total // 2, right = total − left. (N, C_in, L) → (N, C_out, L).

    Build it through :func:`make_conv` (``padding="same"``) which only allows stride 1; the
    residual blocks use ``stride > 1`` to get ``ceil(L / stride)`` like their 1×1 shortcuts.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, dilation=1, groups=1, bias=True,
                 device=None, dtype=None, *, dims=None):
        if dims not in (None, 1):
            raise ValueError(f"dims must be 1 for SameConv1d, got {dims!r}")
        nn.Conv1d.__init__(self, in_channels, out_channels, kernel_size, stride=stride, padding=0,
                           dilation=dilation, groups=groups, bias=bias, device=device, dtype=dtype)
        self._setup_same([_same_pad(self.kernel_size[0], self.dilation[0])])


class SameConv2d(SameConv, nn.Conv2d):
    """``nn.Conv2d`` with exact "same" padding per spatial dim (see :class:`SameConv1d`).
    (N, C_in, H, W) → (N, C_out, H, W) for stride 1."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, dilation=1, groups=1, bias=True,
                 device=None, dtype=None, *, dims=None):
        if dims not in (None, 2):
            raise ValueError(f"dims must be 2 for SameConv2d, got {dims!r}")
        nn.Conv2d.__init__(self, in_channels, out_channels, kernel_size, stride=stride, padding=0,
                           dilation=dilation, groups=groups, bias=bias, device=device, dtype=dtype)
        self._setup_same([_same_pad(k, d) for k, d in zip(self.kernel_size, self.dilation)])


def make_conv(dims, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
              bias=True) -> nn.Module:
    """Return ``nn.Conv1d`` (``dims=1``) or ``nn.Conv2d`` (``dims=2``).

    ``padding``: an int, a tuple (one per spatial dim) or ``"same"``. ``"same"`` needs
    ``stride=1`` and keeps the length for any kernel size, odd or even, and any dilation by
    padding d·(k−1) zeros split left = total // 2, right = total − left (asymmetric when the
    total is odd, via :class:`SameConv1d` / :class:`SameConv2d`, which are subclasses of
    ``nn.Conv1d`` / ``nn.Conv2d``). Bad arguments raise ``ValueError``/``TypeError`` naming them.
    """
    dims = _check_dims(dims)
    in_channels = _check_channels(in_channels, "in_channels")
    out_channels = _check_channels(out_channels, "out_channels")
    ks = _tuple(kernel_size, dims, "kernel_size")
    st = _tuple(stride, dims, "stride")
    dl = _tuple(dilation, dims, "dilation")
    groups = _check_channels(groups, "groups")
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"groups={groups} must divide in_channels={in_channels} and out_channels={out_channels}")
    if isinstance(padding, str):
        if padding != "same":
            raise ValueError(f"padding must be an int, a tuple of ints or 'same', got {padding!r}")
        if any(s != 1 for s in st):
            raise ValueError(f"padding='same' needs stride=1, got stride={stride!r}")
        return SameConv[dims](in_channels, out_channels, ks, stride=1, dilation=dl, groups=groups, bias=bias)
    pd = _tuple(padding, dims, "padding", minimum=0)
    conv_cls = nn.Conv1d if dims == 1 else nn.Conv2d
    return conv_cls(in_channels, out_channels, ks, stride=st, padding=pd, dilation=dl, groups=groups, bias=bias)


def make_norm(norm, dims: int, num_features: int) -> nn.Module | None:
    """``"batch"`` → ``nn.BatchNorm1d/2d(num_features)``; ``None``/``"none"`` → ``None``."""
    if norm is None or norm == "none":
        return None
    if norm == "batch":
        return (nn.BatchNorm1d if dims == 1 else nn.BatchNorm2d)(num_features)
    raise ValueError(f"norm must be 'batch' or None, got {norm!r}")


class ConvBlock(nn.Sequential):
    """Convolution, batch norm and activation in either order.

    ``order="post"`` (classic, Ioffe & Szegedy 2015): conv → BN → activation.
    ``order="pre"`` (pre-activation ResNets, He et al. 2016): BN(in_channels) → activation → conv.

    ``bias=None`` means: a bias only when there is no batch norm (``norm=None``); in the "post"
    order BN's shift makes the bias redundant, in the "pre" order the next layer is usually a BN
    of the next pre-activation block. Pass ``bias=True`` to force one.
    Submodules are named ``conv``, ``norm`` (absent when ``norm=None``) and ``act``; the block
    is an ``nn.Sequential`` in forward order. Shapes: (N, C_in, L) → (N, C_out, L') for
    ``dims=1``, (N, C_in, H, W) → (N, C_out, H', W') for ``dims=2``.
    """

    def __init__(self, in_channels, out_channels, kernel_size, *, dims=2, stride=1, padding=0, dilation=1,
                 groups=1, norm="batch", activation="relu", order="post", bias=None):
        dims = _check_dims(dims)
        if order not in ("post", "pre"):
            raise ValueError(f"order must be 'post' (conv-BN-act) or 'pre' (BN-act-conv), got {order!r}")
        if bias is None:
            bias = norm is None or norm == "none"
        conv = make_conv(dims, in_channels, out_channels, kernel_size, stride=stride, padding=padding,
                         dilation=dilation, groups=groups, bias=bool(bias))
        act = get_activation(activation)
        if order == "post":
            bn = make_norm(norm, dims, out_channels)
            parts = [("conv", conv), ("norm", bn), ("act", act)]
        else:
            bn = make_norm(norm, dims, in_channels)
            parts = [("norm", bn), ("act", act), ("conv", conv)]
        super().__init__(OrderedDict((k, m) for k, m in parts if m is not None))
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.dims = dims
        self.order = order


# ----------------------------------------------------------------------------- normalisation


class LocalResponseNorm(nn.LocalResponseNorm):
    """Local response normalisation across channels, AlexNet's formula (Krizhevsky et al. 2012, §3.3):

        b_i = a_i / (k + α · Σ_{j=max(0, i−n/2)}^{min(C−1, i+n/2)} a_j²)^β

    with the paper's defaults n=5, α=1e-4, β=0.75, k=2. ``alpha`` here is the PAPER's α: torch's
    ``nn.LocalResponseNorm`` divides α by ``size`` (it averages the squares), so this class calls
    it with ``alpha · size``. ``self.alpha`` keeps the paper's value. Works on (N, C, L) and
    (N, C, H, W).
    """

    def __init__(self, size: int = 5, alpha: float = 1e-4, beta: float = 0.75, k: float = 2.0):
        _check_channels(size, "size")
        super().__init__(size, alpha=alpha, beta=beta, k=k)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() < 3:
            raise ValueError(f"LocalResponseNorm expects (N, C, L) or (N, C, H, W), got shape {tuple(x.shape)}")
        return F.local_response_norm(x, self.size, self.alpha * self.size, self.beta, self.k)

    def extra_repr(self) -> str:
        return (f"size={self.size}, alpha={self.alpha} (paper convention: not divided by size), "
                f"beta={self.beta}, k={self.k}")


# ----------------------------------------------------------------------------- NiN


class MLPConv(nn.Sequential):
    """Network-in-Network "mlpconv" block (Lin, Chen & Yan 2014): a k×k convolution followed by
    1×1 convolutions, each followed by ReLU (a small MLP slid over the input).

    ``channels=(c1, c2, c3)``: c1 filters of size ``kernel_size``, then 1×1 convs to c2 and c3
    (any length >= 1 works). ``batch_norm=True`` inserts BN before each ReLU (not in the paper,
    default off). (N, C_in, H, W) → (N, c3, H', W'); ``dims=1`` for (N, C, L).
    """

    def __init__(self, in_channels, channels=(192, 160, 96), kernel_size=5, stride=1, padding=0, dims=2,
                 batch_norm=False):
        dims = _check_dims(dims)
        _check_channels(in_channels, "in_channels")
        channels = tuple(channels)
        if not channels:
            raise ValueError("channels must hold at least one channel count")
        layers = []
        prev = in_channels
        for i, c in enumerate(channels):
            _check_channels(c, "channels")
            first = i == 0
            layers.append(ConvBlock(prev, c, kernel_size if first else 1, dims=dims,
                                    stride=stride if first else 1, padding=padding if first else 0,
                                    norm="batch" if batch_norm else None, activation="relu"))
            prev = c
        super().__init__(*layers)
        self.in_channels = in_channels
        self.out_channels = channels[-1]


# ----------------------------------------------------------------------------- dropout

DROPOUT_SCALINGS = ("train", "test")


def _check_dropout_p(p) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p < 1:
        raise ValueError(f"dropout probability must be in [0, 1), got {p!r}")
    return float(p)


class WeightScalingDropout(nn.Module):
    """Dropout in its original form (Hinton et al. 2012; Srivastava et al. 2014, §10): in training
    each unit is zeroed with probability ``p`` and **not** rescaled; at evaluation every output is
    multiplied by ``1 − p`` (the "weight scaling inference rule"). Kim (2014)'s Theano code uses it.

    ``nn.Dropout`` ("inverted" dropout) divides by ``1 − p`` in training instead. The two compute
    the same function in expectation but parameterise the next layer differently: with this form
    the next layer's weights ``W`` are ``1 / (1 − p)`` times those of the inverted form, so a
    max-norm limit on them (Kim's 3 on the output layer) and an optimiser's step sizes mean what
    the paper means. Any shape; ``p = 0`` is the identity.
    """

    def __init__(self, p: float = 0.5):
        super().__init__()
        self.p = _check_dropout_p(p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.p == 0.0:
            return x
        if self.training:
            return x * torch.empty_like(x).bernoulli_(1.0 - self.p)
        return x * (1.0 - self.p)

    def extra_repr(self) -> str:
        return f"p={self.p}, scaling at test time"


def make_dropout(p: float, scaling: str = "train") -> nn.Module:
    """``scaling="train"``: ``nn.Dropout`` (inverted: kept units ÷ (1 − p) in training);
    ``"test"``: :class:`WeightScalingDropout` (outputs × (1 − p) at evaluation, Kim's form)."""
    if scaling not in DROPOUT_SCALINGS:
        raise ValueError(f"dropout scaling must be one of {DROPOUT_SCALINGS}, got {scaling!r}")
    if scaling == "test":
        return WeightScalingDropout(p)
    return nn.Dropout(_check_dropout_p(p))


# ----------------------------------------------------------------------------- initialisation

INIT_SCHEMES = ("kaiming", "he", "xavier", "glorot", "normal")


def init_weights(module: nn.Module, scheme: str = "kaiming", nonlinearity: str = "relu", *,
                 std: float = 0.01, zero_init_residual: bool = False) -> nn.Module:
    """Initialise every conv and linear layer inside ``module`` by name; returns ``module``.

    - ``"kaiming"``/``"he"`` (He et al. 2015): convs ``kaiming_normal_(mode="fan_out")`` as in
      torchvision, linears ``kaiming_normal_(mode="fan_in")``; ``nonlinearity`` sets the gain.
    - ``"xavier"``/``"glorot"`` (Glorot & Bengio 2010): ``xavier_uniform_`` with the gain of
      ``nonlinearity`` (``"linear"``/``"sigmoid"`` → 1, ``"tanh"`` → 5/3, ``"relu"`` → √2).
    - ``"normal"``: N(0, ``std``²), ``std=0.01`` as in AlexNet/VGG.
    Biases are set to 0, batch/group/layer norm to weight 1 and bias 0. ``zero_init_residual``
    zeroes the last BN γ of every residual block (Goyal et al. 2017), via ``zero_init_last()``.
    Embeddings are left alone.
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be an nn.Module, got {type(module).__name__}")
    if scheme not in INIT_SCHEMES:
        raise ValueError(f"scheme={scheme!r} is not known; choose one of {', '.join(INIT_SCHEMES)}")
    try:
        gain = nn.init.calculate_gain(nonlinearity)
    except ValueError as exc:
        raise ValueError(f"nonlinearity={nonlinearity!r} is not supported by torch.nn.init ({exc})") from exc
    convs = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d)
    norms = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.GroupNorm, nn.LayerNorm)
    for m in module.modules():
        if isinstance(m, convs) or isinstance(m, nn.Linear):
            is_conv = isinstance(m, convs)
            if scheme in ("kaiming", "he"):
                nn.init.kaiming_normal_(m.weight, mode="fan_out" if is_conv else "fan_in",
                                        nonlinearity=nonlinearity)
            elif scheme in ("xavier", "glorot"):
                nn.init.xavier_uniform_(m.weight, gain=gain)
            else:
                nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, norms):
            if getattr(m, "weight", None) is not None:
                nn.init.ones_(m.weight)
            if getattr(m, "bias", None) is not None:
                nn.init.zeros_(m.bias)
    if zero_init_residual:
        for m in module.modules():
            if callable(getattr(m, "zero_init_last", None)):
                m.zero_init_last()
    return module


# ----------------------------------------------------------------------------- re-exports
# Pooling and blocks live in their own files (they import the helpers above); they are
# re-exported lazily (PEP 562) so that importing either submodule first never hits a cycle.

_POOLING_NAMES = (
    "POOL_KINDS", "make_pool", "StochasticPool1d", "StochasticPool2d", "stochastic_pool",
    "GlobalAvgPool", "GlobalMaxPool", "global_avg_pool", "global_max_pool",
    "masked_max_over_time", "MaskedMaxOverTime", "conv_window_mask", "KMaxPool", "kmax_pool",
    "dynamic_k",
)
_BLOCK_NAMES = (
    "InceptionModule", "ResidualBlock", "BasicBlock", "Bottleneck", "SHORTCUTS",
)
__all__ += list(_POOLING_NAMES) + list(_BLOCK_NAMES)


def __getattr__(name):
    if name in _POOLING_NAMES:
        from . import pooling

        return getattr(pooling, name)
    if name in _BLOCK_NAMES:
        from . import blocks

        return getattr(blocks, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_POOLING_NAMES) | set(_BLOCK_NAMES))
