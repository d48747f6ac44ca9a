"""The one training loop every seqcnn estimator uses.

A :class:`Trainer` holds the recipe (optimiser, schedule, epochs, batch size, constraints,
device tricks); :meth:`Trainer.fit` runs it on a model and a dataset, keeping the weights of
the best validation epoch. Data stay model-agnostic: a dataset is anything indexable with
``len``; ``collate_fn(items) -> (inputs_tuple, targets)`` builds a batch, and the model is
called as ``model(*inputs)`` returning logits ``(N, K)`` (or ``(main, aux1, ...)`` during
training, as GoogLeNet's auxiliary heads do: loss = CE(main) + ``aux_weight``·ΣCE(aux)).

Test data are never an argument here: early stopping and best-epoch selection use
``val_data``, which estimators carve out of the training data.

Distributed: launched by ``torchrun`` (``WORLD_SIZE`` > 1), the loop wraps the model in
DistributedDataParallel (NCCL on CUDA, Gloo on CPU). Every rank draws the same global batches
and takes its own slice of each, and the loss is normalised by the *global* batch weight, so the
averaged gradient equals a single-process step on the same global batch. Metrics are summed
across ranks; only rank 0 shows progress and writes checkpoints.
"""
from __future__ import annotations

import contextlib
import copy
import dataclasses
import math
import os
import time
import warnings
from typing import Callable, Iterable, Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import default_collate

from .checkpoint import check_output_path, load_training_state, save_training_state
from .device import cudnn_benchmark, resolve_device

__all__ = [
    "Trainer",
    "build_optimizer",
    "build_scheduler",
    "default_collate_fn",
    "random_batches",
    "apply_max_norm",
    "compute_class_weight",
    "EarlyStop",
    "recalibrate_batchnorm",
]

OPTIMIZERS = ("sgd", "adam", "adamw", "adadelta")
SCHEDULES = (None, "plateau", "step", "cosine")
MONITORS = ("val_loss", "val_acc", "train_loss", "train_acc")


class EarlyStop(Exception):
    """Raise from a callback to end training after the current epoch (weights are kept)."""


# --------------------------------------------------------------------------- building blocks
def build_optimizer(spec, model: nn.Module, lr=None, **kwargs) -> torch.optim.Optimizer:
    """Optimiser by name, with the classic defaults of each.

    - ``"sgd"``: lr 0.1, momentum 0.9, ``nesterov``, ``weight_decay`` (AlexNet/ResNet recipe);
    - ``"adam"``: lr 1e-3; ``"adamw"``: lr 1e-3, weight_decay 1e-2;
    - ``"adadelta"``: lr 1.0, ``rho`` 0.95, ``eps`` 1e-6 (Kim 2014, after Zeiler 2012).

    A callable ``spec(model) -> Optimizer`` is used as is (e.g. a lazy sparse Adadelta).
    Only parameters with ``requires_grad`` are optimised (frozen embeddings stay frozen).
    """
    if callable(spec) and not isinstance(spec, str):
        opt = spec(model)
        if not isinstance(opt, torch.optim.Optimizer):
            raise TypeError("optimizer callable must return a torch.optim.Optimizer")
        return opt
    if not isinstance(spec, str) or spec.lower() not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS} or a callable, got {spec!r}")
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("the model has no trainable parameters")
    name = spec.lower()
    if lr is not None and (not isinstance(lr, (int, float)) or isinstance(lr, bool) or not lr > 0):
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    kw = dict(kwargs)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr or 0.1, momentum=kw.pop("momentum", 0.9),
                               nesterov=kw.pop("nesterov", False),
                               weight_decay=kw.pop("weight_decay", 0.0), **kw)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr or 1e-3, **kw)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr or 1e-3, weight_decay=kw.pop("weight_decay", 1e-2), **kw)
    return torch.optim.Adadelta(params, lr=lr or 1.0, rho=kw.pop("rho", 0.95), eps=kw.pop("eps", 1e-6), **kw)


def build_scheduler(spec, optimizer, *, max_epochs: int, steps_per_epoch: int, mode: str = "min", **kwargs):
    """Learning-rate schedule by name; returns ``(scheduler, per_step)``.

    - ``"plateau"``: ÷10 when the monitored validation metric stops improving for
      ``patience`` (default 10) epochs (AlexNet, ResNet); min_lr 1e-6 by default;
    - ``"step"``: ×``gamma`` (0.1) every ``step_size`` (30) epochs;
    - ``"cosine"``: linear warm-up over ``warmup_epochs`` (0) then cosine decay to 0, per step.
    """
    if spec is None:
        return None, False
    if spec == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, mode=mode, factor=kwargs.get("factor", 0.1), patience=kwargs.get("patience", 10),
            min_lr=kwargs.get("min_lr", 1e-6)), False
    if spec == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=kwargs.get("step_size", 30),
                                               gamma=kwargs.get("gamma", 0.1)), False
    if spec == "cosine":
        total = max(1, max_epochs * steps_per_epoch)
        warm = int(kwargs.get("warmup_epochs", 0) * steps_per_epoch)

        def factor(step):
            if warm and step < warm:
                return (step + 1) / warm
            progress = (step - warm) / max(1, total - warm)
            return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))

        return torch.optim.lr_scheduler.LambdaLR(optimizer, factor), True
    raise ValueError(f"schedule must be one of {SCHEDULES}, got {spec!r}")


def default_collate_fn(items):
    """Items ``(x, ..., y)`` → ``((x, ...), y)``; a bare tensor item → ``((x,), None)``."""
    first = items[0]
    if isinstance(first, (tuple, list)):
        batch = default_collate(list(items))
        if len(first) == 1:
            return (batch[0],), None
        return tuple(batch[:-1]), batch[-1]
    return (default_collate(list(items)),), None


def random_batches(n: int, batch_size: int, shuffle: bool, generator: torch.Generator | None):
    """Index batches over ``n`` items; a trailing batch of one is merged into the previous one
    (batch norm cannot normalise a single example)."""
    order = torch.randperm(n, generator=generator).tolist() if shuffle else list(range(n))
    batches = [order[i:i + batch_size] for i in range(0, n, batch_size)]
    if len(batches) > 1 and len(batches[-1]) == 1:
        batches[-2].extend(batches.pop())
    return batches


@torch.no_grad()
def apply_max_norm(model: nn.Module, max_norm: dict) -> None:
    """Rescale rows of the named weights whose L2 norm exceeds the limit (Hinton et al. 2012;
    Kim 2014 uses 3 on the output layer's rows). Rows are dim 0 (one per output unit)."""
    params = dict(model.named_parameters())
    for name, limit in max_norm.items():
        if name not in params:
            raise ValueError(f"max_norm names parameter {name!r}, which the model does not have "
                             f"(has: {sorted(params)[:8]}...)")
        w = params[name]
        flat = w.view(w.shape[0], -1)
        norms = flat.norm(dim=1, keepdim=True)
        scale = torch.clamp(limit / (norms + 1e-12), max=1.0)
        flat.mul_(scale)


def compute_class_weight(class_weight, y_enc: np.ndarray, n_classes: int, classes=None) -> torch.Tensor | None:
    """``None`` | ``"balanced"`` (n / (K · count_k), as scikit-learn) | dict label → weight."""
    if class_weight is None:
        return None
    counts = np.bincount(np.asarray(y_enc, dtype=np.int64), minlength=n_classes).astype(np.float64)
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise ValueError(f"class_weight must be None, 'balanced' or a dict, got {class_weight!r}")
        w = np.where(counts > 0, counts.sum() / (n_classes * np.maximum(counts, 1)), 1.0)
    elif isinstance(class_weight, dict):
        w = np.ones(n_classes)
        lookup = list(classes) if classes is not None else list(range(n_classes))
        for label, value in class_weight.items():
            if label not in lookup:
                raise ValueError(f"class_weight has label {label!r}, which is not among the classes {lookup}")
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"class_weight[{label!r}] must be a finite non-negative number, got {value!r}")
            w[lookup.index(label)] = float(value)
    else:
        raise TypeError(f"class_weight must be None, 'balanced' or a dict, got {type(class_weight).__name__}")
    return torch.tensor(w, dtype=torch.float32)


def _to_device(obj, device, channels_last=False, non_blocking=False):
    if isinstance(obj, torch.Tensor):
        if device.type == "cuda" and not obj.is_pinned() and obj.device.type == "cpu":
            obj = obj.pin_memory()
            non_blocking = True
        obj = obj.to(device, non_blocking=non_blocking)
        if channels_last and obj.dim() == 4 and obj.is_floating_point():
            obj = obj.contiguous(memory_format=torch.channels_last)
        return obj
    if isinstance(obj, (tuple, list)):
        return type(obj)(_to_device(o, device, channels_last, non_blocking) for o in obj)
    return obj


def _main_output(out):
    return out[0] if isinstance(out, (tuple, list)) else out


@torch.no_grad()
def recalibrate_batchnorm(model: nn.Module, batches: Iterable) -> int:
    """"Precise BN" (Wu & Johnson 2021, *Rethinking "Batch" in BatchNorm*): replace the running
    statistics of every batch-norm layer by their exact average over ``batches`` (each an
    ``inputs`` tuple, already on the model's device), computed with the final weights.

    The exponential moving average that training leaves behind lags the weights; on tiny data
    sets trained briefly (a few batches per epoch), the lag costs a lot of accuracy at
    evaluation. Returns the number of layers recalibrated (0: nothing to do).
    """
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)
             and m.track_running_stats]
    if not norms:
        return 0
    momenta = [m.momentum for m in norms]
    was_training = model.training
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the batches seen
    model.train()
    try:
        for inputs in batches:
            model(*inputs)
    finally:
        for m, mom in zip(norms, momenta):
            m.momentum = mom
        model.train(was_training)
    return len(norms)


# --------------------------------------------------------------------------- distributed helpers
class _Dist:
    def __init__(self):
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.enabled = self.world > 1
        self.rank = int(os.environ.get("RANK", "0")) if self.enabled else 0
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0")) if self.enabled else 0

    def setup(self, device: torch.device) -> torch.device:
        if not self.enabled:
            return device
        import torch.distributed as dist

        if device.type == "cuda":
            device = torch.device("cuda", self.local_rank)
            torch.cuda.set_device(device)
        if not dist.is_initialized():
            dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
        self.rank = dist.get_rank()
        self.world = dist.get_world_size()
        return device

    def all_sum(self, values: Sequence[float], device) -> list[float]:
        if not self.enabled:
            return list(values)
        import torch.distributed as dist

        t = torch.tensor(list(values), dtype=torch.float64, device=device)
        dist.all_reduce(t)
        return t.tolist()

    def barrier(self):
        if self.enabled:
            import torch.distributed as dist

            dist.barrier()

    @property
    def is_main(self) -> bool:
        return self.rank == 0


# --------------------------------------------------------------------------- one run's state
@dataclasses.dataclass
class _Run:
    """What :meth:`Trainer.fit` carries from epoch to epoch."""

    model: nn.Module
    train_model: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: object
    per_step: bool
    scaler: object
    collate: Callable
    batch_sampler: Callable | None
    better: Callable
    start_epoch: int = 0
    best_score: float | None = None
    best_state: dict | None = None
    bad_epochs: int = 0


def _comparison(mode: str, ties: str) -> Callable:
    """``better(score, best)`` for a monitor minimised (``mode="min"``) or maximised; with
    ``ties="later"`` an equal score counts as better."""
    if ties == "later":
        return (lambda a, b: a <= b) if mode == "min" else (lambda a, b: a >= b)
    return (lambda a, b: a < b) if mode == "min" else (lambda a, b: a > b)


# --------------------------------------------------------------------------- trainer
class Trainer:
    """The training recipe; see the module docstring.

    Parameters
    ----------
    optimizer, lr, optimizer_kwargs : see :func:`build_optimizer`.
    schedule, schedule_kwargs : see :func:`build_scheduler`.
    max_epochs, batch_size : ints ≥ 1.
    max_norm : ``{parameter_name: limit}``, row-wise L2 constraint applied after every step.
    grad_clip : clip the global gradient norm to this value.
    class_weight : tensor (K,) of per-class loss weights.
    patience : stop after this many epochs without improvement of ``monitor`` (None: never).
    monitor : ``"val_loss"`` (min) or ``"val_acc"`` (max), used for best-epoch and plateau; or
        ``"train_loss"`` / ``"train_acc"``: the same on the running training figures of each
        epoch, which needs no ``val_data`` (the UCR papers' protocol: Keras'
        ``ModelCheckpoint(monitor="loss")`` and ``ReduceLROnPlateau(monitor="loss")``). A
        ``val_*`` monitor without ``val_data`` tracks nothing: no best epoch, no plateau steps.
    ties : ``"earlier"`` (default) keeps the first epoch that reached the best monitored value;
        ``"later"`` lets an equal value replace it (Kim 2014's ``if val_perf >= best_val_perf``),
        which matters for accuracy, a coarse metric that ties often on small validation sets.
    restore_best : load the best epoch's weights at the end (needs ``val_data`` for a ``val_*``
        monitor).
    device : ``"auto"``/``"cpu"``/``"cuda"``/torch.device.
    amp : ``None``, ``"bf16"`` or ``"fp16"`` autocast (fp16 with a GradScaler; CUDA only for fp16).
    channels_last : NHWC memory format for 4-D inputs and the model (CUDA/CPU conv speed-up).
    compile : ``torch.compile`` the model for training.
    varying_lengths : inputs change length between batches → keep ``cudnn.benchmark`` off.
    callbacks : callables ``cb(trainer, epoch, logs)`` run after each epoch; raise
        :class:`EarlyStop` to stop, any other exception aborts (the checkpoint of the last
        finished epoch stays on disk).
    checkpoint_dir : write a resumable checkpoint there after every epoch;
        ``fit(..., resume=True)`` continues from it.
    loss_fn : ``loss_fn(outputs, targets) -> per-sample losses (N,)``; default cross-entropy.
    multilabel, pos_weight : ``multilabel=True``: targets are float indicator rows ``(N, L)``,
        the loss is binary cross-entropy on independent sigmoid outputs (summed over labels, the
        gradient scale of cross-entropy, which Adadelta's ε-damped first steps need;
        ``pos_weight`` (L,) weighs positive targets) and "accuracy" is subset accuracy (every
        label of a row right at probability 0.5).
    precise_bn : ``True``: after training (and after restoring the best epoch), recompute
        batch-norm statistics over the training data with the final weights
        (:func:`recalibrate_batchnorm`); helps short runs on small data sets. ``"epoch"``: also
        before every validation pass, so that the best epoch is chosen with exact statistics
        (costs one forward pass over the training data per epoch).
    """

    def __init__(self, *, optimizer="adam", lr=None, optimizer_kwargs=None, schedule=None,
                 schedule_kwargs=None, max_epochs=10, batch_size=32, max_norm=None, grad_clip=None,
                 class_weight=None, patience=None, monitor="val_loss", restore_best=True,
                 device="auto", amp=None, channels_last=False, compile=False, verbose=1, seed=0,
                 varying_lengths=False, callbacks=(), checkpoint_dir=None, loss_fn=None,
                 aux_weight=0.3, desc="train", precise_bn=False, ties="earlier",
                 multilabel=False, pos_weight=None):
        for name, value in (("max_epochs", max_epochs), ("batch_size", batch_size)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if monitor not in MONITORS:
            raise ValueError(f"monitor must be one of {MONITORS}, got {monitor!r}")
        if ties not in ("earlier", "later"):
            raise ValueError(f"ties must be 'earlier' or 'later', got {ties!r}")
        if amp not in (None, "bf16", "fp16"):
            raise ValueError(f"amp must be None, 'bf16' or 'fp16', got {amp!r}")
        if schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
        if precise_bn not in (False, True, "epoch"):
            raise ValueError(f"precise_bn must be False, True or 'epoch', got {precise_bn!r}")
        if patience is not None and (not isinstance(patience, (int, np.integer)) or patience < 1):
            raise ValueError(f"patience must be None or an integer >= 1, got {patience!r}")
        if grad_clip is not None and not grad_clip > 0:
            raise ValueError(f"grad_clip must be None or > 0, got {grad_clip!r}")
        self.optimizer = optimizer
        self.lr = lr
        self.optimizer_kwargs = dict(optimizer_kwargs or {})
        self.schedule = schedule
        self.schedule_kwargs = dict(schedule_kwargs or {})
        self.max_epochs = int(max_epochs)
        self.batch_size = int(batch_size)
        self.max_norm = dict(max_norm or {})
        self.grad_clip = grad_clip
        self.class_weight = class_weight
        self.patience = patience
        self.monitor = monitor
        self.restore_best = restore_best
        self.device = resolve_device(device)
        self.amp = amp
        self.channels_last = channels_last
        self.compile = compile
        self.verbose = verbose
        self.seed = int(seed)
        self.varying_lengths = varying_lengths
        self.callbacks = list(callbacks)
        self.checkpoint_dir = checkpoint_dir
        self.loss_fn = loss_fn
        self.aux_weight = aux_weight
        self.desc = desc
        self.precise_bn = precise_bn
        self.ties = ties
        self.multilabel = bool(multilabel)
        self.pos_weight = None if pos_weight is None else torch.as_tensor(pos_weight, dtype=torch.float32)
        self.history: list[dict] = []
        self.best_epoch: int | None = None
        self._dist = _Dist()

    # ------------------------------------------------------------------ pieces
    def _autocast(self):
        if self.amp is None:
            return contextlib.nullcontext()
        dtype = torch.bfloat16 if self.amp == "bf16" else torch.float16
        if self.device.type != "cuda" and self.amp == "fp16":
            raise ValueError("amp='fp16' needs CUDA; use amp='bf16' or None on the CPU")
        return torch.autocast(device_type=self.device.type, dtype=dtype)

    def _targets(self, targets):
        targets = targets.to(self.device)
        return targets.float() if self.multilabel else targets.long()

    def _bce(self, out, targets):
        pw = None if self.pos_weight is None else self.pos_weight.to(targets.device)
        return F.binary_cross_entropy_with_logits(out.float(), targets, pos_weight=pw, reduction="none").sum(1)

    def _n_correct(self, out, targets) -> float:
        if self.multilabel:
            return float(((out > 0) == (targets > 0.5)).all(dim=1).sum())
        return float((out.argmax(dim=1) == targets).sum())

    def _per_sample_loss(self, out, targets):
        weight = self.class_weight.to(self.device) if self.class_weight is not None else None
        if self.loss_fn is not None:
            return self.loss_fn(out, targets)
        if self.multilabel:
            outs = out if isinstance(out, (tuple, list)) else (out,)
            return sum((1.0 if i == 0 else self.aux_weight) * self._bce(o, targets) for i, o in enumerate(outs))
        if isinstance(out, (tuple, list)):
            loss = F.cross_entropy(out[0].float(), targets, weight=weight, reduction="none")
            for aux in out[1:]:
                loss = loss + self.aux_weight * F.cross_entropy(aux.float(), targets, weight=weight,
                                                                reduction="none")
            return loss
        return F.cross_entropy(out.float(), targets, weight=weight, reduction="none")

    def _sample_weights(self, targets):
        if self.class_weight is None or self.multilabel:
            return torch.ones(targets.shape[0], device=targets.device)
        return self.class_weight.to(targets.device)[targets]

    def _batches(self, n, batch_sampler, shuffle, epoch):
        gen = torch.Generator()
        gen.manual_seed(self.seed * 1_000_003 + epoch)
        if batch_sampler is None:
            return random_batches(n, self.batch_size, shuffle, gen)
        return [list(b) for b in batch_sampler(n, self.batch_size, shuffle, gen)]

    # ------------------------------------------------------------------ fit
    def fit(self, model: nn.Module, train_data, val_data=None, *, collate_fn: Callable | None = None,
            batch_sampler: Callable | None = None, resume: bool = False) -> list[dict]:
        """Train ``model`` in place; returns the per-epoch history (also ``self.history``).

        On CUDA, ``cudnn.benchmark`` is on for the run (off with ``varying_lengths``) and put
        back as it was afterwards."""
        if len(train_data) == 0:
            raise ValueError("train_data is empty")
        self.device = self._dist.setup(self.device)
        flag = (not self.varying_lengths) if self.device.type == "cuda" else torch.backends.cudnn.benchmark
        with cudnn_benchmark(flag):
            run = self._setup_run(model, train_data, collate_fn or default_collate_fn, batch_sampler, resume)
            for epoch in range(run.start_epoch, self.max_epochs):
                logs = self._run_epoch(run, train_data, val_data, epoch)
                if self._end_epoch(run, epoch, logs):
                    break
            if self.restore_best and run.best_state is not None:
                model.load_state_dict(run.best_state)
            if self.precise_bn:
                self._recalibrate(model, train_data, run.collate, batch_sampler, self.max_epochs)
        return self.history

    def _setup_run(self, model, train_data, collate, batch_sampler, resume) -> "_Run":
        """Model on the device, optimiser, schedule, scaler, DDP/compile wrapping, resumed state."""
        model.to(self.device)
        if self.channels_last:
            model.to(memory_format=torch.channels_last)
        optimizer = build_optimizer(self.optimizer, model, self.lr, **self.optimizer_kwargs)
        n_batches = len(self._batches(len(train_data), batch_sampler, True, 0))
        mode = "min" if self.monitor.endswith("_loss") else "max"
        scheduler, per_step = build_scheduler(self.schedule, optimizer, max_epochs=self.max_epochs,
                                              steps_per_epoch=n_batches, mode=mode, **self.schedule_kwargs)
        use_scaler = self.amp == "fp16" and self.device.type == "cuda"
        run = _Run(model=model, train_model=self._wrap(model), optimizer=optimizer, scheduler=scheduler,
                   per_step=per_step, scaler=torch.amp.GradScaler("cuda") if use_scaler else None,
                   collate=collate, batch_sampler=batch_sampler, better=_comparison(mode, self.ties))
        self.history = []
        if self.checkpoint_dir is not None and self._dist.is_main:
            # before the first epoch: a foreign folder or file as checkpoint_dir is refused, untouched
            check_output_path(self.checkpoint_dir, kind="checkpoint", overwrite=True)
        if resume and self.checkpoint_dir is not None and os.path.isdir(self.checkpoint_dir):
            run.start_epoch, run.best_score, run.best_state, run.bad_epochs = self._restore(
                model, optimizer, scheduler, run.scaler)
        return run

    def _wrap(self, model):
        """The module the training steps call: DDP under ``torchrun``, compiled on request."""
        train_model = model
        if self._dist.enabled:
            from torch.nn.parallel import DistributedDataParallel as DDP

            if self.batch_size < self._dist.world:
                raise ValueError(f"batch_size ({self.batch_size}) must be >= the number of processes "
                                 f"({self._dist.world})")
            train_model = DDP(model, device_ids=[self.device.index] if self.device.type == "cuda" else None)
        return torch.compile(train_model) if self.compile else train_model

    def _run_epoch(self, run: "_Run", train_data, val_data, epoch: int) -> dict:
        """One training pass, the validation pass, best-epoch tracking and the epoch's schedule step."""
        t0 = time.perf_counter()
        train_loss, train_acc = self._train_epoch(run.train_model, run.model, train_data, run.collate,
                                                  run.batch_sampler, run.optimizer,
                                                  run.scheduler if run.per_step else None, run.scaler, epoch)
        logs = {"epoch": epoch + 1, "train_loss": train_loss, "train_acc": train_acc,
                "lr": run.optimizer.param_groups[0]["lr"]}
        has_val = val_data is not None and len(val_data) > 0
        if has_val:
            if self.precise_bn == "epoch":
                self._recalibrate(run.model, train_data, run.collate, run.batch_sampler, epoch)
            val_loss, val_acc = self.evaluate(run.model, val_data, collate_fn=run.collate,
                                              batch_sampler=run.batch_sampler)
            logs.update(val_loss=val_loss, val_acc=val_acc)
        plateau = isinstance(run.scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)
        if has_val or self.monitor.startswith("train_"):
            score = logs[self.monitor]
            if run.best_score is None or run.better(score, run.best_score):
                run.best_score, run.bad_epochs, self.best_epoch = score, 0, epoch + 1
                run.best_state = {k: v.detach().to("cpu", copy=True) for k, v in run.model.state_dict().items()}
            else:
                run.bad_epochs += 1
            if run.scheduler is not None and not run.per_step and plateau:
                run.scheduler.step(score)
            elif run.scheduler is not None and not run.per_step:
                run.scheduler.step()
        elif run.scheduler is not None and not run.per_step and not plateau:
            run.scheduler.step()
        logs["seconds"] = time.perf_counter() - t0
        return logs

    def _end_epoch(self, run: "_Run", epoch: int, logs: dict) -> bool:
        """Record, print and checkpoint the epoch, run the callbacks; True when training stops."""
        self.history.append(logs)
        if self.verbose and self._dist.is_main:
            self._print_epoch(logs)
        if self.checkpoint_dir is not None:
            if self._dist.is_main:
                self._save(run.model, run.optimizer, run.scheduler, run.scaler, epoch, run.best_score,
                           run.best_state, run.bad_epochs)
            self._dist.barrier()
        stop = self.patience is not None and run.bad_epochs >= self.patience
        for cb in self.callbacks:
            try:
                cb(self, epoch + 1, logs)
            except EarlyStop:
                stop = True
        return stop

    def _recalibrate(self, model, train_data, collate, batch_sampler, epoch):
        batches = self._batches(len(train_data), batch_sampler, True, epoch + 7919)
        recalibrate_batchnorm(model, (_to_device(collate([train_data[i] for i in idx])[0], self.device,
                                                 self.channels_last) for idx in batches))

    def _train_epoch(self, train_model, model, data, collate, batch_sampler, optimizer, step_scheduler,
                     scaler, epoch):
        train_model.train()
        batches = self._batches(len(data), batch_sampler, True, epoch)
        rank, world = self._dist.rank, self._dist.world
        total_loss = total_correct = total_n = 0.0
        bar = None
        if self.verbose and self._dist.is_main:
            from tqdm.auto import tqdm

            # verbose=1: the per-batch bar only on a terminal (logs get the epoch lines);
            # verbose>=2: always, and kept on screen.
            bar = tqdm(total=len(batches), desc=f"{self.desc} epoch {epoch + 1}/{self.max_epochs}",
                       leave=self.verbose >= 2, dynamic_ncols=True,
                       disable=None if self.verbose < 2 else False)
        for global_idx in batches:
            idx = global_idx[rank::world] if self._dist.enabled else global_idx
            inputs, targets = collate([data[i] for i in idx])
            if targets is None:
                raise ValueError("collate_fn returned no targets for training data")
            inputs = _to_device(inputs, self.device, self.channels_last)
            targets = self._targets(targets)
            weights = self._sample_weights(targets)
            if self._dist.enabled:
                # Normalise by the weight of the whole global batch: DDP then averages
                # gradients over ranks, so multiply back by the world size.
                denom = self._dist.all_sum([float(weights.sum())], self.device)[0] / world
            else:
                denom = float(weights.sum())
            with self._autocast():
                out = train_model(*inputs)
            losses = self._per_sample_loss(out, targets)
            loss = losses.sum() / max(denom, 1e-12)
            optimizer.zero_grad(set_to_none=True)
            if scaler is not None:
                scaler.scale(loss).backward()
                if self.grad_clip:
                    scaler.unscale_(optimizer)
                    torch.nn.utils.clip_grad_norm_(model.parameters(), self.grad_clip)
                scaler.step(optimizer)
                scaler.update()
            else:
                loss.backward()
                if self.grad_clip:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), self.grad_clip)
                optimizer.step()
            if self.max_norm:
                apply_max_norm(model, self.max_norm)
            if step_scheduler is not None:
                step_scheduler.step()
            with torch.no_grad():
                total_loss += float(losses.detach().sum())
                total_correct += self._n_correct(_main_output(out), targets)
                total_n += len(idx)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{total_loss / max(total_n, 1):.4f}")
        if bar is not None:
            bar.close()
        total_loss, total_correct, total_n = self._dist.all_sum([total_loss, total_correct, total_n], self.device)
        return total_loss / max(total_n, 1), total_correct / max(total_n, 1)

    def _print_epoch(self, logs):
        parts = [f"epoch {logs['epoch']:>3}/{self.max_epochs}", f"loss {logs['train_loss']:.4f}",
                 f"acc {logs['train_acc']:.4f}"]
        if "val_loss" in logs:
            parts += [f"val_loss {logs['val_loss']:.4f}", f"val_acc {logs['val_acc']:.4f}"]
        parts.append(f"{logs['seconds']:.1f}s")
        from tqdm.auto import tqdm

        tqdm.write("  ".join(parts))

    # ------------------------------------------------------------------ evaluation / prediction
    @torch.no_grad()
    def evaluate(self, model, data, *, collate_fn=None, batch_sampler=None) -> tuple[float, float]:
        """Mean (class-weighted) loss and accuracy on ``data`` (summed across ranks)."""
        collate = collate_fn or default_collate_fn
        was_training = model.training
        model.eval()
        rank, world = self._dist.rank, self._dist.world
        loss_sum = weight_sum = correct = n = 0.0
        try:
            for global_idx in self._batches(len(data), batch_sampler, False, 0):
                idx = global_idx[rank::world] if self._dist.enabled else global_idx
                if not idx:
                    continue
                inputs, targets = collate([data[i] for i in idx])
                inputs = _to_device(inputs, self.device, self.channels_last)
                targets = self._targets(targets)
                with self._autocast():
                    out = _main_output(model(*inputs))
                losses = self._bce(out, targets) if self.multilabel else F.cross_entropy(out.float(), targets,
                                                                                          reduction="none")
                w = self._sample_weights(targets)
                loss_sum += float((losses * w).sum())
                weight_sum += float(w.sum())
                correct += self._n_correct(out, targets)
                n += len(idx)
        finally:
            model.train(was_training)
        loss_sum, weight_sum, correct, n = self._dist.all_sum([loss_sum, weight_sum, correct, n], self.device)
        return loss_sum / max(weight_sum, 1e-12), correct / max(n, 1)

    @torch.no_grad()
    def predict_logits(self, model, data, *, collate_fn=None, batch_size=None, batch_sampler=None) -> torch.Tensor:
        """Logits ``(N, K)`` on the CPU in the dataset's order, computed in batches (outputs
        leave the device after every batch, so prediction memory does not grow with N)."""
        collate = collate_fn or default_collate_fn
        bs = int(batch_size or self.batch_size)
        was_training = model.training
        model.eval()
        model.to(self.device)
        outs, order = [], []
        gen = torch.Generator().manual_seed(0)
        batches = (random_batches(len(data), bs, False, None) if batch_sampler is None
                   else [list(b) for b in batch_sampler(len(data), bs, False, gen)])
        try:
            for idx in batches:
                inputs, _ = collate([data[i] for i in idx])
                inputs = _to_device(inputs, self.device, self.channels_last)
                with self._autocast():
                    out = _main_output(model(*inputs))
                outs.append(out.float().cpu())
                order.extend(idx)
        finally:
            model.train(was_training)
        if not outs:
            return torch.empty(0)
        logits = torch.cat(outs)
        inverse = torch.empty(len(order), dtype=torch.long)
        inverse[torch.tensor(order, dtype=torch.long)] = torch.arange(len(order))
        return logits[inverse]

    # ------------------------------------------------------------------ checkpoints
    def _save(self, model, optimizer, scheduler, scaler, epoch, best_score, best_state, bad_epochs):
        state = {
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict() if scheduler is not None else None,
            "scaler": scaler.state_dict() if scaler is not None else None,
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            "epoch": epoch,
            "best_score": best_score,
            "best_epoch": self.best_epoch,
            "best_state": best_state,
            "bad_epochs": bad_epochs,
            "history": self.history,
        }
        model_tensors = {k: v for k, v in model.state_dict().items()}
        save_training_state(self.checkpoint_dir, model_tensors, state,
                            {"kind": "training-checkpoint", "epoch": epoch + 1, "max_epochs": self.max_epochs})

    def _restore(self, model, optimizer, scheduler, scaler):
        model_tensors, state, meta = load_training_state(self.checkpoint_dir)
        model.load_state_dict(model_tensors)
        optimizer.load_state_dict(state["optimizer"])
        if scheduler is not None and state.get("scheduler") is not None:
            scheduler.load_state_dict(state["scheduler"])
        if scaler is not None and state.get("scaler") is not None:
            scaler.load_state_dict(state["scaler"])
        torch.set_rng_state(state["torch_rng"])
        if torch.cuda.is_available() and state.get("cuda_rng"):
            torch.cuda.set_rng_state_all(list(state["cuda_rng"]))
        self.history = list(state["history"])
        self.best_epoch = state.get("best_epoch")
        if self.verbose and self._dist.is_main:
            warnings.warn(f"resuming from {self.checkpoint_dir} after epoch {state['epoch'] + 1}", stacklevel=3)
        return state["epoch"] + 1, state["best_score"], state["best_state"], state["bad_epochs"]
