"""``SignalCNNClassifier``: time-series classification with FCN, ResNet1D (Wang, Yan & Oates
2017) or InceptionTime (Ismail Fawaz et al. 2020) as a scikit-learn estimator.

Data flow: raw ``X`` (N, L) | (N, C, L) | list of ragged (C, Lᵢ)/(Lᵢ,) → ragged/NaN checks
(:func:`~seqcnn.signal.data.to_padded`) → pad + mask → normalisation (``normalize="auto"``:
per-series z-norm for one channel, per-channel training statistics saved in the artifact for
several) → network → global average pooling over valid steps
→ Linear → logits.

Training recipe (the engine's :class:`~seqcnn.engine.train.Trainer`): Adam (lr 1e-3),
cross-entropy, learning rate halved when the validation loss has not improved for
``max(5, min(50, max_epochs // 10))`` epochs (the papers: ×0.5 after 50 epochs without
improvement of the *training* loss, min lr 1e-4), the weights of the best validation epoch kept;
the validation split is carved from the training data (``validation_fraction``; 0 trains for a
fixed number of epochs, halves the learning rate on a training-loss plateau and keeps the
weights of the lowest training loss, exactly the papers' protocol). Deviations from the papers:
far fewer epochs by default (``max_epochs=100``; FCN used 2000, ResNet and InceptionTime 1500 on
GPUs), and, by default, best-epoch selection on a validation split instead of the training loss.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from seqcnn.engine.ensemble import fit_member_networks
from seqcnn.engine.estimator import CNNClassifierBase

from .data import apply_dataset_stats, dataset_stats, to_padded, znorm_series
from .minirocket import check_series_length
from seqcnn.engine.registry import create_model, routed_kwargs

from .models import ARCHS, REGISTRY_NAMES

__all__ = ["SignalCNNClassifier"]

_NORMALIZE = ("auto", "series", "dataset", None)


def resolve_normalize(normalize, n_channels: int):
    """The normalisation ``normalize="auto"`` stands for: "series" for univariate series (one
    channel), "dataset" for multivariate ones; any other value is returned unchanged."""
    if normalize == "auto":
        return "series" if int(n_channels) == 1 else "dataset"
    return normalize


@dataclass
class SeriesSet:
    """Validated series: ``values`` (N, C, L) float32 (zeros at padded steps) and ``lengths`` (N,)."""

    values: np.ndarray
    lengths: np.ndarray

    def __len__(self) -> int:
        return int(self.values.shape[0])

    def take(self, idx) -> "SeriesSet":
        idx = np.asarray(idx, dtype=np.int64)
        lengths = self.lengths[idx]
        width = int(lengths.max()) if lengths.size else 0
        return SeriesSet(self.values[idx, :, :width], lengths)

    @property
    def mask(self):
        length = self.values.shape[2]
        if (self.lengths == length).all():
            return None
        return np.arange(length)[None, :] < self.lengths[:, None]


class SignalCNNClassifier(CNNClassifierBase):
    """Time-series CNN classifier (scikit-learn estimator).

    Parameters
    ----------
    arch : "fcn" | "resnet" | "inception" | "inceptiontime"
        FCN and ResNet1D (Wang, Yan & Oates 2017); "inception" is one InceptionTime network,
        "inceptiontime" the ensemble of ``n_members`` (5) networks with averaged probabilities
        (Ismail Fawaz et al. 2020), each trained on its own.
    max_epochs, batch_size, lr, optimizer : training loop settings (Adam, lr 1e-3).
    schedule : "plateau" (default), "step", "cosine" or None.
    normalize : "auto" (default), "series", "dataset" or None.
        "series" z-normalises each channel of each series over its valid steps (the UCR
        convention): shape survives, every channel's level and scale are thrown away.
        "dataset" standardises each channel with the mean/std of the whole training set (saved
        with the model): levels and relative scales across series survive. None feeds raw values.
        "auto" is "series" for univariate input and "dataset" for multivariate input, where a
        channel's level often carries the class (e.g. speech features); the choice made is
        ``normalize_``.
    missing : "raise" (a NaN inside a series is an error) or "interpolate" (linear, edges held).
        Trailing steps that are NaN in every channel are padding (ragged series), not missing.
    validation_fraction : share of the training data held out (stratified) to pick the best
        epoch and drive the schedule. 0 → the papers' protocol (Wang et al. 2017, Ismail Fawaz
        et al. 2019/2020): the learning rate is halved after ``max(5, min(50, max_epochs // 10))``
        epochs without a lower *training* loss and the weights of the epoch with the lowest
        training loss are kept.
    patience : stop after this many epochs without improvement of the monitored loss (validation
        loss; training loss when ``validation_fraction=0``) (None: never).
    class_weight : None, "balanced" or {label: weight}.
    n_filters, depth, kernel_sizes, n_members : architecture sizes (None = the paper's);
        see the registry builders in :mod:`seqcnn.signal.models` (``fcn``, ``resnet1d``,
        ``inception``, ``inceptiontime``); each is passed where the architecture takes it.
    model_kwargs : dict of further builder arguments (e.g. ``{"min_length": 8}``), checked
        against the builder's parameters (``TypeError`` naming an unknown key); a key also given
        as a parameter above takes the ``model_kwargs`` value. The same routing as
        ``ImageCNNClassifier(model_kwargs=...)`` and ``TextCNNClassifier``.
    precise_bn : after training, recompute the batch-norm statistics over the training data with
        the final weights ("precise BN", Wu & Johnson 2021): the moving averages left by a short
        run on a small data set lag the weights, which costs accuracy at evaluation.
        ``"epoch"`` also recalibrates before every validation pass, so the best epoch is chosen
        with exact statistics (one extra forward pass over the training data per epoch).
        Default ``True`` (once, after training); the measurements behind both choices are in
        ``docs/benchmarks.md`` and ``CHANGELOG.md``.
    device : "auto" (CUDA when present), "cpu", "cuda".
    random_state : int seed or None.
    verbose : 0 silences the progress bars.

    Input ``X``: an array (N, L) (one channel) or (N, C, L), or a list of (C, Lᵢ)/(Lᵢ,)
    arrays of any lengths >= 1. Labels may be any hashable and come back as given.
    A model fitted on equal-length series of length L predicts only series of length L
    (``ValueError`` naming both lengths otherwise); one fitted on series of varying lengths
    accepts any length. The number of channels must match the training data.

    Fitted attributes: ``classes_``, ``module_``, ``n_channels_``, ``normalize_`` (the
    normalisation applied), ``series_length_`` (L, or None after ragged training),
    ``history_`` (per epoch; with a ``member`` key for the ensemble), ``best_epoch_`` (a list
    for the ensemble), ``norm_mean_``/``norm_std_`` (dataset normalisation only).
    """

    def __init__(self, arch="fcn", *, max_epochs=100, batch_size=16, lr=1e-3, optimizer="adam",
                 schedule="plateau", normalize="auto", missing="raise", validation_fraction=0.1,
                 patience=None, class_weight=None, n_filters=None, depth=None, kernel_sizes=None,
                 n_members=5, precise_bn=True, device="auto", random_state=None, verbose=1, model_kwargs=None):
        self.arch = arch
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.schedule = schedule
        self.normalize = normalize
        self.missing = missing
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.class_weight = class_weight
        self.n_filters = n_filters
        self.depth = depth
        self.kernel_sizes = kernel_sizes
        self.n_members = n_members
        self.precise_bn = precise_bn
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.model_kwargs = model_kwargs

    # ------------------------------------------------------------------ sklearn tags
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.input_tags.allow_nan = self.missing == "interpolate"
        tags.non_deterministic = self._p("random_state") is None
        return tags

    @classmethod
    def _get_test_params(cls):
        """Tiny settings for generic tests (aeon's habit)."""
        return dict(arch="fcn", max_epochs=2, batch_size=8, n_filters=4, verbose=0, random_state=0)

    # ------------------------------------------------------------------ parameter checks
    def _check_params(self):
        if self.arch not in ARCHS:
            raise ValueError(f"arch must be one of {ARCHS}, got {self.arch!r}")
        if self.normalize not in _NORMALIZE:
            raise ValueError(f"normalize must be 'auto', 'series', 'dataset' or None, got {self.normalize!r}")
        if self.missing not in ("raise", "interpolate"):
            raise ValueError(f"missing must be 'raise' or 'interpolate', got {self.missing!r}")
        for name in ("max_epochs", "batch_size", "n_members"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be an int >= 1, got {v!r}")
        routed_kwargs(REGISTRY_NAMES[self.arch], {}, self.model_kwargs)  # unknown keys: TypeError now

    # ------------------------------------------------------------------ hooks
    def _validate_X(self, X, *, fitting: bool):
        if fitting:
            self._check_params()
        n_channels = None if fitting else getattr(self, "n_channels_", None)
        values, _mask, lengths = to_padded(X, missing=self.missing, name="X", n_channels=n_channels)
        if not fitting:
            check_series_length(getattr(self, "series_length_", None), lengths)
        return SeriesSet(values, lengths)

    def _take(self, X, idx):
        return X.take(idx)

    def _concat(self, X: SeriesSet, X_val: SeriesSet) -> SeriesSet:
        """``X`` and the ``validation_data`` series as one set (zero-padded to the longer width),
        for the preprocessing statistics of ``fit(..., validation_data=)``."""
        if X_val.values.shape[1] != X.values.shape[1]:
            raise ValueError(f"validation_data: its series have {X_val.values.shape[1]} channel(s), those of X "
                             f"have {X.values.shape[1]}")
        width = max(X.values.shape[2], X_val.values.shape[2])

        def pad(v):
            return np.pad(v, ((0, 0), (0, 0), (0, width - v.shape[2])))

        return SeriesSet(np.concatenate([pad(X.values), pad(X_val.values)]),
                         np.concatenate([X.lengths, X_val.lengths]))

    def _fit_preprocessing(self, X: SeriesSet, y_enc) -> None:
        self.n_channels_ = int(X.values.shape[1])
        self.normalize_ = resolve_normalize(self.normalize, self.n_channels_)
        self.series_length_ = int(X.lengths[0]) if (X.lengths == X.lengths[0]).all() else None
        if self.normalize_ == "dataset":
            self.norm_mean_, self.norm_std_ = dataset_stats(X.values, X.mask)

    def _normalise(self, values: np.ndarray, mask) -> np.ndarray:
        normalize = getattr(self, "normalize_", None) or resolve_normalize(self.normalize, self.n_channels_)
        if normalize == "series":
            return znorm_series(values, mask)
        if normalize == "dataset":
            return apply_dataset_stats(values, mask, self.norm_mean_, self.norm_std_)
        return values.astype(np.float32, copy=False)

    def _prepare_inputs(self, X):
        """Raw X → (normalised values (N, C, L) float32, mask (N, L) | None), as the network
        sees them (used by :func:`class_activation_map`)."""
        s = self._validate_X(X, fitting=False)
        return self._normalise(s.values, s.mask), s.mask

    def _make_dataset(self, X: SeriesSet, y_enc=None):
        values = self._normalise(X.values, X.mask)
        items = []
        for i in range(len(X)):
            x = torch.from_numpy(np.ascontiguousarray(values[i, :, : X.lengths[i]]))  # (C, Li)
            items.append((x,) if y_enc is None else (x, int(y_enc[i])))
        return items

    def _collate(self, items):
        """Pad to the longest series of the batch: ((x (B, C, L), mask (B, L) | None), y)."""
        lengths = [it[0].shape[1] for it in items]
        width = max(lengths)
        c = items[0][0].shape[0]
        x = torch.zeros(len(items), c, width, dtype=torch.float32)
        for i, it in enumerate(items):
            x[i, :, : lengths[i]] = it[0]
        mask = None
        if min(lengths) != width:
            mask = torch.arange(width)[None, :] < torch.tensor(lengths)[:, None]
        targets = None
        if len(items[0]) > 1:
            targets = torch.tensor([it[1] for it in items], dtype=torch.long)
        return (x, mask), targets

    def _build_module(self, n_classes: int):
        name = REGISTRY_NAMES[self.arch]
        settings = dict(in_channels=self.n_channels_, num_classes=n_classes, n_filters=self.n_filters,
                        depth=self.depth, kernel_sizes=self.kernel_sizes, n_members=int(self.n_members))
        return create_model(name, **routed_kwargs(name, settings, self.model_kwargs))

    def _trainer_kwargs(self) -> dict:
        kw = {"schedule": self.schedule, "varying_lengths": True, "precise_bn": self.precise_bn,
              # No validation split: the papers' protocol, plateau and best epoch on the training loss.
              "monitor": "val_loss" if self.validation_fraction else "train_loss"}
        if self.schedule == "plateau":
            kw["schedule_kwargs"] = {"factor": 0.5, "patience": max(5, min(50, int(self.max_epochs) // 10)),
                                     "min_lr": 1e-4}
        return kw

    def _fit_network(self, train_ds, val_ds, y_train, seed) -> None:
        if self.arch != "inceptiontime":
            super()._fit_network(train_ds, val_ds, y_train, seed)
            return
        # The ensemble: each member is an independently initialised network trained on its own
        # (own shuffling, own best epoch), as in Ismail Fawaz et al. 2020, by the engine's
        # member trainer (seed rule of CNNEnsemble, one shared validation split).
        self.module_ = self._build_module(len(self.classes_))
        self.history_, self.best_epoch_ = fit_member_networks(self, self.module_.members, train_ds, val_ds, y_train,
                                                              seed, collate_fn=self._collate)
        self.module_.eval()

    def _get_state(self) -> dict:
        state = {"n_channels": self.n_channels_, "format": "seqcnn.signal/1", "normalize": self.normalize_,
                 "series_length": self.series_length_}
        if self.normalize_ == "dataset":
            state["norm_mean"] = list(self.norm_mean_)
            state["norm_std"] = list(self.norm_std_)
        return state

    def _set_state(self, state: dict) -> None:
        self.n_channels_ = int(state["n_channels"])
        # artifacts written before "auto" existed hold an explicit normalize in their params and
        # no "normalize"/"series_length" state: they resolve to the same choice and no length check
        self.normalize_ = state.get("normalize", resolve_normalize(self.normalize, self.n_channels_))
        length = state.get("series_length")
        self.series_length_ = None if length is None else int(length)
        if self.normalize_ == "dataset":
            self.norm_mean_ = [float(v) for v in state["norm_mean"]]
            self.norm_std_ = [float(v) for v in state["norm_std"]]
