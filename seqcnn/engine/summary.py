"""Per-layer model summary: output shapes, parameters, MACs, activation memory, receptive field.

``summary(model, input_size)`` runs one forward pass on a dummy batch and returns a
:class:`Summary`: one :class:`LayerRow` per leaf module that runs (plus one per conv/pool/linear
*function* called directly in a container's ``forward``), and totals. It fixes the usual
disagreements between summary tools (torchinfo, fvcore, thop, torch-scan):

* **parameters are unique**: a tied weight (the same ``nn.Parameter`` in two modules) is counted
  once, in the row of the first module that uses it; ``total_params`` is the number of unique
  parameter elements of the whole model (``trainable_params`` those with ``requires_grad``);
* **MACs** (multiply–accumulates, *not* FLOPs; FLOPs ≈ 2 × MACs) are counted on the
  convolution and linear *operations* that run, so containers are never double-counted:
  convolution ``out_elements · (C_in / groups) · prod(kernel)``, transposed convolution
  ``in_elements · (C_out / groups) · prod(kernel)``, linear ``out_elements · in_features``
  (leading dimensions included). Bias additions, normalisation, activations, pooling and
  matmuls outside ``F.linear`` (e.g. attention scores) are not counted. MACs are per example;
* **activation elements** follow the VGG memory table of the lecture seed (Karpathy's CS231n
  notes): the input plus the output of every convolution, pooling, linear (and embedding)
  layer, per example. ReLU / batch-norm / dropout outputs are not counted (they are commonly
  computed in place); a row's ``activation_elements`` is what it adds to the total.
  ``Summary.activation_bytes`` assumes 4 bytes per element (float32);
* the **receptive field** (Araujo et al., Distill 2019) is propagated per tensor through the
  whole graph, also through operations outside modules (``torch.cat``, ``+``, ``F.pad``,
  slicing, ``view``): every torch function call is intercepted with a
  :class:`~torch.overrides.TorchFunctionMode`; convolutions and poolings apply
  ``rf_out = rf_in + (k − 1) · d · jump_in`` and ``jump_out = jump_in · s`` per spatial
  dimension; every other op gives its outputs the element-wise maximum over its inputs, so
  parallel branches (Inception, residual shortcuts) report the widest one. Global poolings
  (adaptive pooling to 1, a window covering the whole input, ``Global*``/``KMax*``/
  ``*MaxOverTime`` modules) end the spatial extent: their outputs carry no receptive field.
  ``Summary.receptive_field`` is the maximum over the remaining conv/pool rows, i.e. that of the
  last spatial layer, w.r.t. the input, as an int (the largest over the spatial dimensions;
  ``receptive_field_per_dim`` keeps ``(rf_h, rf_w)``). Approximations: subsampling by slicing
  (``x[..., ::2]``) and interpolation do not change the jump; a transposed convolution divides
  it by its stride.

Integer inputs (``dtype=torch.long``, e.g. token ids for an ``nn.Embedding``) are filled with
ones (a valid, non-padding id for any vocabulary of 2 or more); float inputs with a seeded
standard normal sample. The model runs in eval mode under ``torch.no_grad()``; the training
flags of all sub-modules are restored and all hooks removed afterwards, also on error.
"""
from __future__ import annotations

import math
import numbers
import re
from dataclasses import asdict, dataclass
from fractions import Fraction

import torch
from torch import nn
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_flatten
from torch.utils.weak import WeakIdKeyDictionary

from .device import resolve_device

__all__ = ["LayerRow", "Summary", "summary", "InputSizeError"]

#: categories whose outputs count as activation memory (the seed's VGG table)
COUNTED_CATEGORIES = ("conv", "pool", "linear", "embedding")


# --------------------------------------------------------------------------- result types
@dataclass(frozen=True)
class LayerRow:
    """One leaf module call (or one conv/pool/linear function called outside a leaf)."""

    name: str  #: dotted module name (``features.0``); functional rows: ``parent.<function>``
    kind: str  #: module class name (``Conv2d``) or function name (``max_pool2d``)
    output_shape: tuple  #: shape of the (first) output tensor, batch dimension included
    params: int  #: parameters first seen in this row (tied/shared weights counted once overall)
    macs: int  #: multiply-accumulates per example
    activation_elements: int  #: output elements per example if conv/pool/linear/embedding, else 0
    receptive_field: int | None  #: w.r.t. the input, max over spatial dims; None if not spatial
    category: str = "other"  #: "conv", "pool", "linear", "embedding" or "other"
    receptive_field_per_dim: tuple | None = None  #: one entry per spatial dimension
    trainable_params: int = 0  #: the part of ``params`` with ``requires_grad``


@dataclass(frozen=True)
class Summary:
    """Result of :func:`summary`. ``str(summary)`` is an aligned table with totals."""

    rows: tuple
    total_params: int
    trainable_params: int
    total_macs: int
    activation_elements: int
    receptive_field: int | None
    receptive_field_per_dim: tuple | None = None
    input_shapes: tuple = ()
    input_elements: int = 0
    output_shapes: tuple = ()  #: shapes of the model's output tensor(s)
    batch_size: int = 1
    model_name: str = ""
    bytes_per_element: int = 4

    @property
    def flops(self) -> int:
        """FLOPs counted as 2 × MACs (one multiply plus one add)."""
        return 2 * self.total_macs

    @property
    def activation_bytes(self) -> int:
        """Forward activation memory per example at :attr:`bytes_per_element` (4: float32)."""
        return self.activation_elements * self.bytes_per_element

    @property
    def non_trainable_params(self) -> int:
        return self.total_params - self.trainable_params

    def to_dict(self) -> dict:
        """JSON-serialisable dict: totals plus ``rows`` as a list of dicts."""
        out = {
            "model": self.model_name,
            "input_shapes": [list(s) for s in self.input_shapes],
            "output_shapes": [list(s) for s in self.output_shapes],
            "batch_size": self.batch_size,
            "total_params": self.total_params,
            "trainable_params": self.trainable_params,
            "total_macs": self.total_macs,
            "flops": self.flops,
            "input_elements": self.input_elements,
            "activation_elements": self.activation_elements,
            "activation_bytes": self.activation_bytes,
            "receptive_field": self.receptive_field,
            "receptive_field_per_dim": list(self.receptive_field_per_dim) if self.receptive_field_per_dim else None,
        }
        rows = []
        for row in self.rows:
            d = asdict(row)
            d["output_shape"] = _jsonable_shape(row.output_shape)
            if d["receptive_field_per_dim"] is not None:
                d["receptive_field_per_dim"] = list(d["receptive_field_per_dim"])
            rows.append(d)
        out["rows"] = rows
        return out

    def __str__(self) -> str:
        header = ("Layer", "Kind", "Output shape", "Params", "MACs", "Act. elems", "RF")
        body = [
            (
                row.name,
                row.kind,
                _format_shape(row.output_shape),
                f"{row.params:,}" if row.params else "-",
                _human(row.macs) if row.macs else "-",
                f"{row.activation_elements:,}" if row.activation_elements else "-",
                _format_rf(row.receptive_field_per_dim),
            )
            for row in self.rows
        ]
        body.insert(0, ("(input)", "", ", ".join(_format_shape(s) for s in self.input_shapes), "-", "-",
                        f"{self.input_elements:,}", "1"))
        widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
        right = {3, 4, 5, 6}

        def fmt(r):
            return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths)))

        rule = "=" * len(fmt(header))
        lines = [f"{self.model_name} summary (batch_size={self.batch_size}; MACs and activations per example)",
                 rule, fmt(header), "-" * len(rule)]
        lines += [fmt(r) for r in body]
        lines.append(rule)
        lines.append(f"Output: {', '.join(_format_shape(s) for s in self.output_shapes) or '-'}")
        lines.append(
            f"Total params: {self.total_params:,} (trainable {self.trainable_params:,}, "
            f"non-trainable {self.non_trainable_params:,})"
        )
        lines.append(f"Total MACs: {_human(self.total_macs)} ({self.total_macs:,}); FLOPs = 2 × MACs = {_human(self.flops)}")
        lines.append(
            f"Activations: {self.activation_elements:,} elements = {self.activation_bytes / 1e6:.2f} MB forward "
            f"at {self.bytes_per_element} bytes/element (input + conv/pool/linear outputs)"
        )
        lines.append(f"Receptive field: {_format_rf(self.receptive_field_per_dim)} (last spatial layer, w.r.t. the input)")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"Summary(model={self.model_name!r}, rows={len(self.rows)}, total_params={self.total_params}, "
            f"total_macs={self.total_macs}, activation_elements={self.activation_elements}, "
            f"receptive_field={self.receptive_field})"
        )


def _human(n: int) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.2f} {unit}"
    return str(n)


def _format_shape(shape) -> str:
    if isinstance(shape, list):
        return ", ".join(_format_shape(s) for s in shape)
    return "(" + ", ".join(str(s) for s in shape) + ")"


def _jsonable_shape(shape):
    if isinstance(shape, list):
        return [list(s) for s in shape]
    return list(shape)


def _format_rf(per_dim) -> str:
    if per_dim is None:
        return "-"
    if len(set(per_dim)) == 1:
        return str(per_dim[0])
    return "×".join(str(v) for v in per_dim)


# --------------------------------------------------------------------------- receptive-field info
@dataclass(frozen=True)
class _RF:
    """Receptive field and jump per spatial dimension (length 1 = same for every dimension)."""

    rf: tuple
    jump: tuple

    def expand(self, n: int) -> "_RF":
        if len(self.rf) == n:
            return self
        if len(self.rf) == 1:
            return _RF(self.rf * n, self.jump * n)
        if len(self.rf) > n:
            return _RF(self.rf[-n:], self.jump[-n:])
        return _RF((max(self.rf),) * n, (max(self.jump),) * n)

    def step(self, kernel, stride, dilation) -> "_RF":
        n = len(kernel)
        base = self.expand(n)
        rf = tuple(r + (k - 1) * d * j for r, j, k, d in zip(base.rf, base.jump, kernel, dilation))
        jump = tuple(j * s for j, s in zip(base.jump, stride))
        return _RF(rf, jump)

    def report(self, n: int) -> tuple:
        return tuple(int(math.ceil(r)) for r in self.expand(n).rf)


_INPUT_RF = _RF((1,), (1,))


def _combine(infos):
    infos = [i for i in infos if i is not None]
    if not infos:
        return None
    if len(infos) == 1:
        return infos[0]
    n = max(len(i.rf) for i in infos)
    infos = [i.expand(n) for i in infos]
    return _RF(
        tuple(max(i.rf[d] for i in infos) for d in range(n)),
        tuple(max(i.jump[d] for i in infos) for d in range(n)),
    )


def _ntuple(value, n: int) -> tuple:
    if value is None:
        return None
    if isinstance(value, (tuple, list)):
        if len(value) == 0:
            return None
        if len(value) == 1:
            return (int(value[0]),) * n
        return tuple(int(v) for v in value[-n:])
    return (int(value),) * n


_CONV = re.compile(r"^conv([123])d$")
_CONV_T = re.compile(r"^conv_transpose([123])d$")
_MAX_POOL = re.compile(r"^_?max_pool([123])d(_with_indices)?$")
_AVG_POOL = re.compile(r"^avg_pool([123])d$")
_LP_POOL = re.compile(r"^lp_pool([123])d$")
_ADAPTIVE = re.compile(r"^adaptive_(avg|max)_pool([123])d(_with_indices)?$")


def _arg(args, kwargs, i, key, default=None):
    if len(args) > i:
        return args[i]
    return kwargs.get(key, default)


def _op_spec(name: str, fmodule, args, kwargs, out):
    """Classify one torch function call.

    Returns ``(category, spec)`` where category is "conv", "conv_t", "pool", "adaptive",
    "linear", "embedding" or None, and spec is ``(kernel, stride, dilation, padding)`` per
    spatial dimension for the spatial ones."""
    if m := _CONV.match(name):
        n = int(m.group(1))
        w = _arg(args, kwargs, 1, "weight")
        kernel = tuple(w.shape[2:])
        return "conv", (kernel, _ntuple(_arg(args, kwargs, 3, "stride", 1), n),
                        _ntuple(_arg(args, kwargs, 5, "dilation", 1), n), None)
    if m := _CONV_T.match(name):
        n = int(m.group(1))
        w = _arg(args, kwargs, 1, "weight")
        return "conv_t", (tuple(w.shape[2:]), _ntuple(_arg(args, kwargs, 3, "stride", 1), n),
                          _ntuple(_arg(args, kwargs, 7, "dilation", 1), n), None)
    if m := _MAX_POOL.match(name):
        n = int(m.group(1))
        kernel = _ntuple(_arg(args, kwargs, 1, "kernel_size"), n)
        stride = _ntuple(_arg(args, kwargs, 2, "stride"), n) or kernel
        return "pool", (kernel, stride, _ntuple(_arg(args, kwargs, 4, "dilation", 1), n),
                        _ntuple(_arg(args, kwargs, 3, "padding", 0), n))
    if m := _AVG_POOL.match(name):
        n = int(m.group(1))
        kernel = _ntuple(_arg(args, kwargs, 1, "kernel_size"), n)
        stride = _ntuple(_arg(args, kwargs, 2, "stride"), n) or kernel
        return "pool", (kernel, stride, (1,) * n, _ntuple(_arg(args, kwargs, 3, "padding", 0), n))
    if m := _LP_POOL.match(name):
        n = int(m.group(1))
        kernel = _ntuple(_arg(args, kwargs, 2, "kernel_size"), n)
        stride = _ntuple(_arg(args, kwargs, 3, "stride"), n) or kernel
        return "pool", (kernel, stride, (1,) * n, (0,) * n)
    if m := _ADAPTIVE.match(name):
        n = int(m.group(2))
        x = args[0] if args else kwargs.get("input")
        y = out[0] if isinstance(out, (tuple, list)) else out
        sizes_in, sizes_out = tuple(x.shape[-n:]), tuple(y.shape[-n:])
        kernel, stride = [], []
        for i, o in zip(sizes_in, sizes_out):
            # adaptive windows: [floor(j·i/o), ceil((j+1)·i/o)); exact when o divides i
            kernel.append(max(-(-((j + 1) * i) // o) - (j * i) // o for j in range(o)))
            stride.append(max(1, i // o))
        return "adaptive", (tuple(kernel), tuple(stride), (1,) * n, (0,) * n)
    if name == "unfold" and fmodule == "torch.nn.functional":
        return "pool_like", (_ntuple(_arg(args, kwargs, 1, "kernel_size"), 2),
                             _ntuple(_arg(args, kwargs, 4, "stride", 1), 2),
                             _ntuple(_arg(args, kwargs, 2, "dilation", 1), 2),
                             _ntuple(_arg(args, kwargs, 3, "padding", 0), 2))
    if name == "linear":
        return "linear", None
    if name in ("embedding", "embedding_bag"):
        return "embedding", None
    return None, None


def _first_tensor(obj):
    for leaf in tree_flatten(obj)[0]:
        if isinstance(leaf, torch.Tensor):
            return leaf
    return None


def _output_tensors(obj) -> list:
    return [leaf for leaf in tree_flatten(obj)[0] if isinstance(leaf, torch.Tensor)]


def _module_category(module: nn.Module) -> str | None:
    from torch.nn.modules import conv as _conv
    from torch.nn.modules import pooling as _pool

    if isinstance(module, _conv._ConvNd):
        return "conv"
    pools = (_pool._MaxPoolNd, _pool._AvgPoolNd, _pool._AdaptiveAvgPoolNd, _pool._AdaptiveMaxPoolNd,
             _pool._LPPoolNd, nn.FractionalMaxPool2d, nn.FractionalMaxPool3d)
    if isinstance(module, pools):
        return "pool"
    if isinstance(module, (nn.Linear, nn.Bilinear)):
        return "linear"
    if isinstance(module, (nn.Embedding, nn.EmbeddingBag)):
        return "embedding"
    lname = type(module).__name__.lower()
    if "pool" in lname or "maxovertime" in lname:
        return "pool"
    return None


def _is_global_module(module: nn.Module) -> bool:
    lname = type(module).__name__.lower()
    return "global" in lname or "kmax" in lname or "maxovertime" in lname


# --------------------------------------------------------------------------- the tracer
class _Frame:
    __slots__ = ("module", "name", "leaf", "macs", "ops", "in_info", "fn_counts")

    def __init__(self, module, name, leaf, in_info):
        self.module, self.name, self.leaf, self.in_info = module, name, leaf, in_info
        self.macs = 0
        self.ops = set()
        self.fn_counts = {}


class _Tracer(TorchFunctionMode):
    """Intercepts every torch function call to propagate receptive fields and count MACs."""

    def __init__(self, batch_size: int):
        super().__init__()
        self.batch = batch_size
        # tensor -> _RF | None, keyed by identity; entries die with their tensors
        self.info = WeakIdKeyDictionary()
        self.stack: list[_Frame] = []
        self.rows: list[LayerRow] = []
        self.seen_params: set[int] = set()
        self.root_fn_counts: dict[str, int] = {}
        self.busy = False

    # -- tensor bookkeeping
    def get(self, t):
        return self.info.get(t)

    def set(self, t, rf):
        self.info[t] = rf

    def per_example(self, numel: int) -> int:
        return numel // self.batch

    def new_params(self, params) -> tuple[int, int]:
        total = trainable = 0
        for p in params:
            if id(p) in self.seen_params:
                continue
            self.seen_params.add(id(p))
            total += p.numel()
            trainable += p.numel() if p.requires_grad else 0
        return total, trainable

    # -- the hook into torch
    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        if not self.busy:
            self.busy = True
            try:
                self.on_op(func, args, kwargs, out)
            finally:
                self.busy = False
        return out

    def on_op(self, func, args, kwargs, out):
        outs = _output_tensors(out)
        if not outs:
            return
        name = getattr(func, "__name__", "")
        category, spec = _op_spec(name, getattr(func, "__module__", None), args, kwargs, out)
        inputs = [t for t in tree_flatten((args, kwargs))[0] if isinstance(t, torch.Tensor)]
        if category is None:
            rf = _combine([self.get(t) for t in inputs])
            for t in outs:
                self.set(t, rf)
            return

        x = args[0] if args else _first_tensor(kwargs)
        in_rf = self.get(x) if isinstance(x, torch.Tensor) else None
        macs = 0
        y = outs[0]
        if category in ("linear", "embedding"):
            rf = in_rf
            if category == "linear":
                w = _arg(args, kwargs, 1, "weight")
                macs = self.per_example(y.numel()) * int(w.shape[-1])
        else:
            kernel, stride, dilation, padding = spec
            n = len(kernel)
            if in_rf is None:
                rf = None
            elif category == "conv_t":
                base = in_rf.expand(n)
                rf = _RF(
                    tuple(r + (math.ceil(((k - 1) * d + 1) / s) - 1) * j
                          for r, j, k, s, d in zip(base.rf, base.jump, kernel, stride, dilation)),
                    tuple(Fraction(j) / s for j, s in zip(base.jump, stride)),
                )
            else:
                rf = in_rf.step(kernel, stride, dilation)
            if category in ("pool", "adaptive") and _is_global_window(x, y, kernel, padding or (0,) * n):
                rf = None
            w = _arg(args, kwargs, 1, "weight") if category in ("conv", "conv_t") else None
            if category == "conv":
                macs = self.per_example(y.numel()) * int(w.shape[1]) * math.prod(kernel)
            elif category == "conv_t":
                macs = self.per_example(x.numel()) * int(w.shape[1]) * math.prod(kernel)
        for t in outs:
            self.set(t, rf)

        kind = {"conv_t": "conv", "adaptive": "pool", "pool_like": "pool"}.get(category, category)
        frame = self.stack[-1] if self.stack else None
        if frame is not None and frame.leaf:
            frame.macs += macs
            frame.ops.add(kind)
            return
        # a conv/pool/linear function called outside any leaf module: a row of its own
        params, trainable = self.new_params(t for t in inputs if isinstance(t, nn.Parameter))
        parent = frame.name if frame is not None else ""
        counts = frame.fn_counts if frame is not None else self.root_fn_counts
        counts[name] = counts.get(name, 0) + 1
        row_name = f"{parent}.{name}" if parent else name
        if counts[name] > 1:
            row_name += f":{counts[name]}"
        self.rows.append(self.make_row(row_name, name, y, params, trainable, macs, kind, rf))

    def make_row(self, name, kind, y, params, trainable, macs, category, rf) -> LayerRow:
        spatial = y.dim() >= 3 and rf is not None and category != "linear"
        per_dim = rf.report(y.dim() - 2) if spatial else None
        return LayerRow(
            name=name,
            kind=kind,
            output_shape=tuple(y.shape),
            params=params,
            macs=int(macs),
            activation_elements=self.per_example(y.numel()) if category in COUNTED_CATEGORIES else 0,
            receptive_field=max(per_dim) if per_dim else None,
            category=category,
            receptive_field_per_dim=per_dim,
            trainable_params=trainable,
        )

    # -- module hooks
    def pre_hook(self, name):
        def hook(module, args):
            self.busy = True
            try:
                leaf = next(iter(module.children()), None) is None
                x = _first_tensor(args)
                self.stack.append(_Frame(module, name, leaf, self.get(x) if x is not None else None))
            finally:
                self.busy = False

        return hook

    def post_hook(self, name):
        def hook(module, args, output):
            self.busy = True
            try:
                frame = self.stack.pop()
                if frame.module is not module:  # pragma: no cover - defensive
                    raise RuntimeError(f"summary: unbalanced module hooks around {name!r}")
                if frame.leaf:
                    self.leaf_row(frame, output)
            finally:
                self.busy = False

        return hook

    def leaf_row(self, frame: _Frame, output):
        module = frame.module
        y = _first_tensor(output)
        category = _module_category(module)
        if category is None:
            for candidate in ("conv", "linear", "pool", "embedding"):
                if candidate in frame.ops:
                    category = candidate
                    break
            else:
                category = "other"
        params, trainable = self.new_params(module.parameters())
        if y is None:
            self.rows.append(LayerRow(frame.name, type(module).__name__, (), params, frame.macs, 0, None,
                                      category, None, trainable))
            return
        rf = self.get(y)
        if _is_global_module(module):
            rf = None
        elif category in ("conv", "pool") and not frame.ops and frame.in_info is not None:
            # a custom conv/pool whose windows are built by hand: fall back to its attributes
            rf = _attribute_step(module, frame.in_info, y.dim() - 2, category) or rf
        for t in _output_tensors(output):
            self.set(t, rf)
        self.rows.append(self.make_row(frame.name, type(module).__name__, y, params, trainable,
                                       frame.macs, category, rf))


def _is_global_window(x, y, kernel, padding) -> bool:
    """True when every output position of a pooling sees the whole input (global pooling)."""
    n = len(kernel)
    if x is None or y.dim() < n or any(s != 1 for s in y.shape[-n:]):
        return False
    return all(k >= size + 2 * p for k, size, p in zip(kernel, x.shape[-n:], padding))


def _attribute_step(module, in_info: _RF, n: int, category: str):
    kernel = getattr(module, "kernel_size", None)
    if kernel is None or n < 1:
        return None
    try:
        kernel = _ntuple(kernel, n)
        stride = _ntuple(getattr(module, "stride", None), n) or (kernel if category == "pool" else (1,) * n)
        dilation = _ntuple(getattr(module, "dilation", 1), n) or (1,) * n
    except (TypeError, ValueError):
        return None
    return in_info.step(kernel, stride, dilation)


# --------------------------------------------------------------------------- the public function
def _is_int(v) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _make_inputs(input_size, dtype, batch_size, device):
    """Return a list of input tensors (batch dimension first)."""
    if isinstance(input_size, torch.Tensor):
        return [input_size.to(device)]
    if not isinstance(input_size, (tuple, list)):
        if _is_int(input_size):
            input_size = (input_size,)
        else:
            raise TypeError(
                "input_size must be a tuple of ints without the batch dimension (e.g. (3, 224, 224)), "
                f"a tuple of such tuples for several inputs, or a tensor; got {type(input_size).__name__}"
            )
    if len(input_size) > 0 and all(isinstance(s, torch.Tensor) for s in input_size):
        return [s.to(device) for s in input_size]
    multi = len(input_size) > 0 and all(isinstance(s, (tuple, list)) for s in input_size)
    sizes = list(input_size) if multi else [input_size]
    if isinstance(dtype, (tuple, list)):
        if len(dtype) != len(sizes):
            raise ValueError(f"dtype has {len(dtype)} entries but input_size describes {len(sizes)} inputs")
        dtypes = list(dtype)
    else:
        dtypes = [dtype] * len(sizes)
    generator = torch.Generator().manual_seed(0)
    tensors = []
    for k, (size, dt) in enumerate(zip(sizes, dtypes)):
        where = f"input_size[{k}]" if multi else "input_size"
        if not all(_is_int(s) for s in size):
            raise TypeError(f"{where} must contain ints (sizes without the batch dimension), got {size!r}")
        if any(s < 1 for s in size):
            raise ValueError(f"{where} must contain positive sizes, got {tuple(size)!r}")
        if not isinstance(dt, torch.dtype):
            raise TypeError(f"dtype must be a torch.dtype (or one per input), got {dt!r}")
        shape = (batch_size, *(int(s) for s in size))
        if dt.is_floating_point or dt.is_complex:
            t = torch.randn(shape, generator=generator).to(dt)
        elif dt == torch.bool:
            t = torch.ones(shape, dtype=torch.bool)
        else:  # token ids: 1 is a valid, non-padding id for any vocabulary of size >= 2
            t = torch.ones(shape, dtype=dt)
        tensors.append(t.to(device))
    return tensors


class InputSizeError(ValueError, RuntimeError):
    """The dummy input built from ``input_size`` does not fit the model (a ``ValueError``; also a
    ``RuntimeError``, the class of torch's own shape errors, for callers that caught those)."""


# torch's messages when an input has the wrong rank, channels, size or dtype
_SHAPE_ERROR = re.compile(r"shape|size|dimension|channels|expected|mat1|must match|scalar type|indices",
                          re.IGNORECASE)
_RANK = {nn.Conv1d: 2, nn.Conv2d: 3, nn.Conv3d: 4, nn.ConvTranspose1d: 2, nn.ConvTranspose2d: 3,
         nn.ConvTranspose3d: 4, nn.BatchNorm1d: None, nn.BatchNorm2d: 3, nn.BatchNorm3d: 4}


def _first_layer(model: nn.Module):
    """The first registered sub-module with ``in_channels``, ``in_features`` or
    ``num_embeddings`` (the layer that sees the input), or None."""
    def takes_input(module):
        return isinstance(module, nn.Embedding) or any(hasattr(module, a) for a in ("in_channels", "in_features"))

    leaves = [m for m in model.modules() if not any(True for _ in m.children())]
    return next((m for m in leaves if takes_input(m)), None) or \
        next((m for m in model.modules() if m is not model and takes_input(m)), None)


def _expectation(layer) -> tuple[str, tuple | None]:
    """(what ``layer`` expects in words, an example per-example ``input_size`` or None)."""
    if isinstance(layer, nn.Embedding):
        return (f"{type(layer).__name__}(num_embeddings={layer.num_embeddings}) takes token ids: "
                "input_size=(L,) with dtype=torch.long", None)
    if hasattr(layer, "in_channels"):
        c = int(layer.in_channels)
        rank = next((r for k, r in _RANK.items() if isinstance(layer, k)), None)
        if rank is None:
            kernel = getattr(layer, "kernel_size", None)
            rank = 1 + len(kernel) if isinstance(kernel, (tuple, list)) else None
        example = {2: f"({c}, L)", 3: f"({c}, H, W)", 4: f"({c}, D, H, W)"}.get(rank, f"({c}, ...)")
        return f"{type(layer).__name__} with in_channels={c}: input_size={example}", None
    f = int(layer.in_features)
    return f"{type(layer).__name__} with in_features={f}: input_size=({f},)", (f,)


def _fits(model, input_size, dtype, batch_size, device) -> bool:
    """Whether ``model`` runs on a dummy batch of ``input_size`` (modes restored)."""
    flags = {m: m.training for m in model.modules()}
    try:
        model.eval()
        with torch.no_grad():
            model(*_make_inputs(input_size, dtype, batch_size, device))
        return True
    except Exception:
        return False
    finally:
        for module, flag in flags.items():
            module.training = flag


def _input_size_error(model, input_size, inputs, exc, retry=None) -> InputSizeError:
    fed = ", ".join(str(tuple(t.shape)) for t in inputs)
    first = " ".join(str(exc).strip().splitlines()[0].split()) if str(exc).strip() else type(exc).__name__
    parts = [f"the model does not accept input_size={tuple(input_size) if isinstance(input_size, list) else input_size!r} "
             f"(fed as a batch of shape {fed}): {first}."]
    layer = _first_layer(model)
    if layer is not None:
        parts.append(f"Its first layer is {_expectation(layer)[0]}.")
    parts.append("input_size is the size of ONE example, WITHOUT the batch dimension (summary adds it; "
                 "batch_size= sets it)")
    if (isinstance(input_size, (tuple, list)) and len(input_size) >= 2 and all(_is_int(v) for v in input_size)
            and retry is not None and retry(tuple(input_size[1:]))):
        parts[-1] += (f"; torchinfo's habit puts the batch first: input_size={tuple(input_size[1:])} works "
                      "for this model")
    else:
        parts[-1] += "."
    return InputSizeError(" ".join(parts))


def summary(model, input_size, *, dtype=torch.float32, device=None, batch_size: int = 1) -> Summary:
    """Run ``model`` once on a dummy batch and tabulate every leaf layer.

    Parameters
    ----------
    model : nn.Module
    input_size : tuple of int, tuple of tuples, or Tensor(s)
        Size of ONE example, without the batch dimension: ``(C, L)`` for 1D, ``(C, H, W)`` for
        images, ``(L,)`` for token ids. Several inputs: a tuple of such tuples (the model is
        called as ``model(*inputs)``). A tensor (or tuple of tensors) is used as given, batch
        dimension included (e.g. token ids plus a mask).
    dtype : torch.dtype or tuple of dtypes, default float32
        ``torch.long`` for embedding models (ids filled with 1).
    device : None, "auto", "cpu", "cuda", torch.device
        Where the dummy input is created; None = the device of the model's first parameter
        (or the CPU). The model is not moved.
    batch_size : int, default 1
        Batch used for the forward pass (shows in ``output_shape``; MACs and activation
        elements are always per example).

    Raises
    ------
    InputSizeError
        (a ``ValueError``) when the forward pass fails on the input's shape or dtype: the message
        gives ``input_size``, the shape fed, the first layer's ``in_channels``/``in_features``
        and that ``input_size`` excludes the batch dimension (``(1, 3, 224, 224)`` → try
        ``(3, 224, 224)``). Other errors of the model's forward propagate unchanged.

    Returns
    -------
    Summary
        ``rows``, ``total_params`` (unique), ``trainable_params``, ``total_macs``,
        ``activation_elements`` (input + conv/pool/linear/embedding outputs, per example),
        ``receptive_field`` (last spatial layer, max over branches and dimensions);
        ``str()`` prints the table.

    Examples
    --------
    >>> net = nn.Sequential(nn.Conv2d(3, 10, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2))
    >>> s = summary(net, (3, 32, 32))
    >>> s.total_params, s.rows[0].output_shape, s.receptive_field
    (760, (1, 10, 32, 32), 6)
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not _is_int(batch_size):
        raise TypeError(f"batch_size must be an int, got {type(batch_size).__name__}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    dev = _summary_device(model, device)
    inputs = _make_inputs(input_size, dtype, batch_size, dev)
    batch = int(inputs[0].shape[0]) if inputs and inputs[0].dim() > 0 else 1
    batch = max(batch, 1)
    tracer = _Tracer(batch)
    output, failure = _traced_forward(model, inputs, tracer)
    if failure is not None:
        retry = None if isinstance(input_size, torch.Tensor) else \
            (lambda size: _fits(model, size, dtype, batch_size, dev))
        raise _input_size_error(model, input_size, inputs, failure, retry) from failure
    return _assemble(model, tuple(tracer.rows), inputs, output, batch)


def _summary_device(model: nn.Module, device) -> torch.device:
    """``device`` resolved; None → the device of the model's first parameter (or buffer), else the CPU."""
    if device is not None:
        return resolve_device(device)
    first = next(iter(model.parameters()), None)
    if first is None:
        first = next(iter(model.buffers()), None)
    return first.device if first is not None else torch.device("cpu")


def _traced_forward(model: nn.Module, inputs, tracer: "_Tracer"):
    """One eval-mode, no-grad forward pass with the tracer's hooks on every module; hooks removed
    and training flags restored afterwards. Returns ``(output, None)``, or ``(None, exc)`` when
    the pass failed on the input's shape (any other error propagates)."""
    names = {m: n for n, m in model.named_modules()}
    flags = {m: m.training for m in model.modules()}
    handles = []
    try:
        for module, name in names.items():
            label = name or type(model).__name__
            handles.append(module.register_forward_pre_hook(tracer.pre_hook(label)))
            handles.append(module.register_forward_hook(tracer.post_hook(label)))
        model.eval()
        for t in inputs:
            tracer.set(t, _INPUT_RF)
        with torch.no_grad(), tracer:
            try:
                return model(*inputs), None
            except (RuntimeError, ValueError, IndexError) as exc:
                if isinstance(exc, InputSizeError) or not _SHAPE_ERROR.search(str(exc)):
                    raise  # not about the input's shape: the model's own error, unchanged
                return None, exc
    finally:
        for h in handles:
            h.remove()
        for module, flag in flags.items():
            module.training = flag


def _assemble(model: nn.Module, rows: tuple, inputs, output, batch: int) -> Summary:
    """The :class:`Summary` of a traced pass: totals over unique parameters, activation
    elements, receptive field of the last spatial layer."""
    unique = {id(p): p for p in model.parameters()}
    total_params = sum(p.numel() for p in unique.values())
    trainable = sum(p.numel() for p in unique.values() if p.requires_grad)
    input_elements = sum(t.numel() for t in inputs) // batch
    spatial = [r for r in rows if r.category in ("conv", "pool") and r.receptive_field_per_dim is not None]
    rf_per_dim = None
    if spatial:
        n = max(len(r.receptive_field_per_dim) for r in spatial)
        rf_per_dim = tuple(
            max(r.receptive_field_per_dim[d] if len(r.receptive_field_per_dim) == n else max(r.receptive_field_per_dim)
                for r in spatial)
            for d in range(n)
        )
    return Summary(
        rows=rows,
        total_params=total_params,
        trainable_params=trainable,
        total_macs=sum(r.macs for r in rows),
        activation_elements=input_elements + sum(r.activation_elements for r in rows),
        receptive_field=max(rf_per_dim) if rf_per_dim else None,
        receptive_field_per_dim=rf_per_dim,
        input_shapes=tuple(tuple(t.shape) for t in inputs),
        input_elements=input_elements,
        output_shapes=tuple(tuple(t.shape) for t in _output_tensors(output)),
        batch_size=batch,
        model_name=type(model).__name__,
    )
