"""``ImageCNNClassifier``: any zoo architecture as a scikit-learn classifier on the engine's loop.

Input pipeline (all on the training device, whole batches, inside the module so that it is
saved with the weights): per-channel normalisation with training-set statistics → optional ZCA
whitening → (training only) random crop with zero padding and horizontal flip → the network.
The classic recipe is the default: SGD, lr 0.1, momentum 0.9, weight decay 5e-4, cosine decay
(or ``schedule="plateau"``: ÷10 when the validation loss stops improving), batch 128
(He et al. 2016 §4.2; Krizhevsky et al. 2012).
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn as nn

from seqcnn.engine.estimator import CNNClassifierBase
from seqcnn.engine.registry import routed_kwargs
from vision.readers import as_image_array
from vision.registry import create_model
from vision.transforms import channel_stats, fit_zca, normalize, random_crop, random_hflip, zca_whiten

__all__ = ["ImageCNNClassifier", "ImagePipeline", "top_k_accuracy"]


def top_k_accuracy(y_true, scores, k: int = 5, *, classes=None) -> float:
    """Fraction of rows whose true label is among the ``k`` highest ``scores`` ``(N, K)``
    (top-1 accuracy for ``k=1``). ``classes`` maps columns to labels (default 0..K-1)."""
    scores = np.asarray(scores)
    if scores.ndim != 2:
        raise ValueError(f"scores must be a 2-d array (N, K), got shape {scores.shape}")
    y_true = np.asarray(y_true)
    if len(y_true) != len(scores):
        raise ValueError(f"y_true has {len(y_true)} labels but scores has {len(scores)} rows")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be an int >= 1, got {k!r}")
    classes = np.arange(scores.shape[1]) if classes is None else np.asarray(classes)
    k = min(int(k), scores.shape[1])
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return float(np.mean([y in set(classes[row].tolist()) for y, row in zip(y_true.tolist(), top)]))


class ImagePipeline(nn.Module):
    """Normalise (→ ZCA) (→ crop + flip when training) → ``net``. ``(N, C, H, W)`` → logits.

    Buffers ``mean``, ``std`` (C,) and, with ZCA, ``zca_mean`` (D,) / ``zca_matrix`` (D, D) travel
    in the state dict. ``forward_features`` is the net's feature map on the preprocessed input
    and ``forward_head`` the net's head, so the registry's outer interface holds here too
    (``ImageCNNClassifier.features`` gives ``forward_head(..., pre_logits=True)``).
    """

    def __init__(self, net: nn.Module, mean, std, *, zca_dim: int = 0, augment: bool = True,
                 crop_padding: int = 4, flip: bool = True):
        super().__init__()
        self.net = net
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32).clone())
        self.register_buffer("std", torch.as_tensor(std, dtype=torch.float32).clone())
        self.zca = zca_dim > 0
        if self.zca:
            self.register_buffer("zca_mean", torch.zeros(zca_dim))
            self.register_buffer("zca_matrix", torch.eye(zca_dim))
        self.augment, self.crop_padding, self.flip = augment, crop_padding, flip
        self.num_classes = getattr(net, "num_classes", None)
        self.num_features = getattr(net, "num_features", None)

    def preprocess(self, x: torch.Tensor) -> torch.Tensor:
        x = normalize(x.float(), self.mean, self.std)
        if self.zca:
            x = zca_whiten(x, self.zca_mean, self.zca_matrix)
        if self.training and self.augment:
            # after normalisation, so the crop's zero padding is the mean pixel
            if self.crop_padding:
                x = random_crop(x, self.crop_padding)
            if self.flip:
                x = random_hflip(x)
        return x

    def forward(self, x):
        return self.net(self.preprocess(x))

    def forward_features(self, x):
        return self.net.forward_features(self.preprocess(x))

    def forward_head(self, x, pre_logits: bool = False):
        return self.net.forward_head(x, pre_logits=pre_logits)


def _is_square(d: int) -> bool:
    r = math.isqrt(d)
    return r * r == d


class ImageCNNClassifier(CNNClassifierBase):
    """Image classifier over the zoo (``vision.list_models()``).

    Parameters
    ----------
    arch : registry name (``"resnet20"``, ``"lenet5"``, ``"vgg11"``, ...).
    model_kwargs : dict of architecture switches passed to ``create_model`` (``{"width": 0.5}``,
        ``{"variant": "v1"}``, ``{"aux_logits": True}``, ...).
    image_shape : ``(C, H, W)`` or ``(H, W)`` to read 2-D ``X`` (N, D) as flattened images;
        ``None`` reads a square D as ``(1, √D, √D)`` (e.g. sklearn's 8×8 digits) and refuses
        any other D (an ``(N, 50)`` array is not an image; ``ValueError`` naming the expected
        ``(N, C, H, W)`` / ``(N, H, W)``); ``"row"`` reads every row as a ``(1, 1, D)`` strip.
    normalize : per-channel standardisation with training-set mean/std (saved).
    augment, crop_padding, flip : random crop after zero padding and horizontal flip, on the
        device, training only.
    zca, zca_epsilon : ZCA whitening fitted on the (normalised) training images.
    optimizer, lr, momentum, weight_decay : SGD 0.1 / 0.9 / 5e-4 by default.
    schedule : ``"cosine"`` (default), ``"plateau"`` (÷10 on a validation plateau) or None.
    max_epochs, batch_size, patience, validation_fraction, class_weight, device, random_state,
    verbose : as in every seqcnn estimator.
    amp : None, ``"bf16"``, ``"fp16"`` (CUDA) or ``"auto"`` (bf16 on CUDA, off on the CPU).
    channels_last : NHWC memory format (True/False/``"auto"`` = on CUDA only).
    compile : ``torch.compile`` the network for training.

    ``X``: ``(N, C, H, W)`` or ``(N, H, W, C)`` (layout detected), ``(N, H, W)`` grayscale or
    2-D flattened images (see ``image_shape``); uint8 or float. At prediction, images of another
    channel count or size than the training images are a ``ValueError`` naming both shapes
    (there is no resizing option: resize before predicting).
    """

    def __init__(self, arch="resnet20", *, model_kwargs=None, image_shape=None, normalize=True, augment=True,
                 crop_padding=4, flip=True, zca=False, zca_epsilon=1e-2, optimizer="sgd", lr=0.1,
                 momentum=0.9, weight_decay=5e-4, schedule="cosine", max_epochs=30, batch_size=128,
                 patience=None, validation_fraction=0.1, class_weight=None, amp=None, channels_last=False,
                 compile=False, device="auto", random_state=None, verbose=1):
        self.arch = arch
        self.model_kwargs = model_kwargs
        self.image_shape = image_shape
        self.normalize = normalize
        self.augment = augment
        self.crop_padding = crop_padding
        self.flip = flip
        self.zca = zca
        self.zca_epsilon = zca_epsilon
        self.optimizer = optimizer
        self.lr = lr
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.schedule = schedule
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.class_weight = class_weight
        self.amp = amp
        self.channels_last = channels_last
        self.compile = compile
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.non_deterministic = True  # augmentation / cuDNN; seeded runs repeat on the CPU
        return tags

    # ------------------------------------------------------------------ input
    def _images(self, X, *, fitting: bool) -> np.ndarray:
        import scipy.sparse

        if scipy.sparse.issparse(X):
            raise TypeError("X is a sparse matrix: sparse input is not supported, pass a dense array (X.toarray())")
        arr = X
        if not isinstance(X, np.ndarray) and not torch.is_tensor(X):
            try:
                arr = np.asarray(X)
            except (ValueError, TypeError) as exc:
                raise ValueError(f"X could not be converted to an array of images: {exc}") from exc
        if getattr(arr, "ndim", None) == 2:
            from vision.readers import _numeric

            arr = _numeric(np.asarray(arr) if not torch.is_tensor(arr) else arr.detach().cpu().numpy(), "X")
            n, d = arr.shape
            if d == 0:
                raise ValueError(f"0 feature(s) (shape={arr.shape}) while a minimum of 1 is required.")
            if not fitting and hasattr(self, "n_features_in_") and d != self.n_features_in_:
                shown = "×".join(map(str, getattr(self, "input_shape_", ())))
                raise ValueError(f"X has {d} features, but {type(self).__name__} is expecting "
                                 f"{self.n_features_in_} features as input (each row a flattened {shown} image; "
                                 f"or pass images as (N, C, H, W))")
            shape = self.image_shape
            if shape is None:
                if not _is_square(d):
                    raise ValueError(
                        f"X has shape {arr.shape}: a 2-d array is read as flattened square grayscale images "
                        f"(D = H·W, e.g. 64 = 8×8), and {d} is not a square. Pass images as (N, C, H, W) or "
                        f"(N, H, W), or say how a row of {d} values is laid out with image_shape=(C, H, W) "
                        f"(image_shape='row' reads it as a 1×1×{d} strip)")
                shape = (1, math.isqrt(d), math.isqrt(d))
            elif isinstance(shape, str) and shape == "row":
                shape = (1, 1, d)
            try:
                shape = tuple(int(v) for v in shape)
            except (TypeError, ValueError):
                raise ValueError(f"image_shape must be None, 'row', (C, H, W) or (H, W), got {self.image_shape!r}") \
                    from None
            if len(shape) == 2:
                shape = (1, *shape)
            if len(shape) != 3 or int(np.prod(shape)) != d:
                raise ValueError(f"image_shape={self.image_shape!r} does not match X's {d} features per row")
            arr = arr.reshape(n, *shape)
        if getattr(arr, "ndim", None) in (0, 1):
            raise ValueError(f"X must be an array of images, got a {arr.ndim}-d array of shape {np.shape(arr)}. "
                             "Reshape your data: X.reshape(1, -1) for a single flattened image, "
                             "X.reshape(-1, 1) for single pixels.")
        channels = self.input_shape_[0] if (not fitting and hasattr(self, "input_shape_")) else None
        return as_image_array(arr, channels=channels, name="X")

    def _validate_X(self, X, *, fitting: bool):
        try:
            arr = self._images(X, fitting=fitting)
        except ValueError as exc:
            trained = getattr(self, "input_shape_", None)
            if fitting or trained is None or getattr(X, "ndim", None) != 4 or "channels" not in str(exc):
                raise
            raise ValueError(f"X has shape {tuple(np.shape(X))}, images of another channel count than the "
                             f"(C, H, W) = {tuple(trained)} that {type(self).__name__} was trained on "
                             f"(images are (N, C, H, W) or (N, H, W, C))") from None
        if fitting:
            self.input_shape_ = tuple(int(s) for s in arr.shape[1:])
            self.n_features_in_ = int(np.prod(self.input_shape_))
        elif tuple(arr.shape[1:]) != tuple(self.input_shape_):
            raise ValueError(f"X has images of shape (C, H, W) = {tuple(arr.shape[1:])}, but "
                             f"{type(self).__name__} was fitted on {tuple(self.input_shape_)}")
        return arr

    def _check_params(self):
        for name in ("crop_padding",):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
                raise ValueError(f"{name} must be an int >= 0, got {v!r}")
        shape = self.image_shape
        if not (shape is None or (isinstance(shape, str) and shape == "row") or (
                isinstance(shape, (tuple, list)) and len(shape) in (2, 3)
                and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1 for v in shape))):
            raise ValueError(f"image_shape must be None, 'row', (C, H, W) or (H, W) of positive ints, got {shape!r}")
        if self.model_kwargs is not None and not isinstance(self.model_kwargs, dict):
            raise TypeError(f"model_kwargs must be a dict or None, got {type(self.model_kwargs).__name__}")
        if self.amp not in (None, "bf16", "fp16", "auto"):
            raise ValueError(f"amp must be None, 'bf16', 'fp16' or 'auto', got {self.amp!r}")
        if self.channels_last not in (True, False, "auto"):
            raise ValueError(f"channels_last must be True, False or 'auto', got {self.channels_last!r}")

    def _fit_preprocessing(self, X, y_enc) -> None:
        self._check_params()
        c = X.shape[1]
        if self.normalize:
            mean, std = channel_stats(X)
        else:
            mean, std = torch.zeros(c), torch.ones(c)
        self.mean_, self.std_ = mean.numpy(), std.numpy()
        self._zca = None
        if self.zca:
            xn = normalize(torch.from_numpy(X), mean, std)
            self._zca = fit_zca(xn, eps=float(self.zca_epsilon))

    def _make_dataset(self, X, y_enc=None):
        xt = torch.from_numpy(np.ascontiguousarray(X))
        if y_enc is None:
            return torch.utils.data.TensorDataset(xt)
        return torch.utils.data.TensorDataset(xt, torch.as_tensor(np.asarray(y_enc), dtype=torch.long))

    def _build_module(self, n_classes: int) -> nn.Module:
        c, h, w = self.input_shape_
        net = create_model(self.arch, num_classes=int(n_classes), in_channels=int(c), input_size=(int(h), int(w)),
                           **routed_kwargs(self.arch, {}, self.model_kwargs))
        module = ImagePipeline(net, self.mean_, self.std_, zca_dim=(c * h * w) if self.zca else 0,
                               augment=bool(self.augment), crop_padding=int(self.crop_padding), flip=bool(self.flip))
        zca = getattr(self, "_zca", None)
        if zca is not None:
            module.zca_mean.copy_(zca[0])
            module.zca_matrix.copy_(zca[1])
        return module

    def _cuda(self) -> bool:
        from seqcnn.engine.device import resolve_device

        return resolve_device(self.device).type == "cuda"

    def _trainer_kwargs(self) -> dict:
        amp = self.amp
        if amp == "auto":
            amp = "bf16" if self._cuda() else None
        cl = self.channels_last
        if cl == "auto":
            cl = self._cuda()
        opt_kw = {"weight_decay": self.weight_decay}
        if isinstance(self.optimizer, str) and self.optimizer.lower() == "sgd":
            opt_kw["momentum"] = self.momentum
        return {"optimizer_kwargs": opt_kw, "schedule": self.schedule, "amp": amp, "channels_last": bool(cl),
                "compile": bool(self.compile)}

    # ------------------------------------------------------------------ persistence
    def _get_state(self) -> dict:
        return {"input_shape": list(self.input_shape_), "n_features_in": int(self.n_features_in_),
                "mean": [float(v) for v in self.mean_], "std": [float(v) for v in self.std_]}

    def _set_state(self, state: dict) -> None:
        self.input_shape_ = tuple(int(v) for v in state["input_shape"])
        self.n_features_in_ = int(state["n_features_in"])
        self.mean_ = np.asarray(state["mean"], dtype=np.float32)
        self.std_ = np.asarray(state["std"], dtype=np.float32)
        self._zca = None

    # ------------------------------------------------------------------ metrics
    def top_k_score(self, X, y, k: int = 5) -> float:
        """Top-``k`` accuracy on ``(X, y)`` (``k=1`` equals :meth:`score`)."""
        proba = self.predict_proba(X)
        return top_k_accuracy(y, proba, k, classes=self.classes_)

    def image_module(self) -> nn.Module:
        """The fitted zoo network (without the preprocessing wrapper)."""
        self._check_fitted()
        return self.module_.net
