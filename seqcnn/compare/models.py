"""Named model specs for comparisons: CNN estimators and baselines, built lazily.

A :class:`ModelSpec` names a factory by import path (``"module:attribute"``) or holds a
callable; nothing is imported until a cell is built, so the comparison runs with whatever
modules exist (a spec whose module cannot be imported is listed as unavailable, with the
import error). Every spec is tagged with the modalities it accepts; pairing a model with a
data set of another modality is refused.

Parameter overrides are applied with ``set_params`` (so pipelines take ``step__param``
names). The cell's seed goes to ``random_state`` and progress bars are silenced
(``verbose=0``) when the estimator has those parameters.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable

__all__ = ["ModelSpec", "BUILTIN_MODELS", "get_model", "list_models", "model_size", "selection_of", "check_params"]


@dataclass
class ModelSpec:
    """A named estimator: ``factory`` is ``"module:attr"`` or a callable; it is called with
    ``kwargs`` (plus ``modality=`` when ``pass_modality``); a ``kwargs`` value that is itself a
    ``ModelSpec`` is built first (a meta-estimator's member recipe, whose parameters then take
    ``estimator__param`` overrides); when the factory returns a dict, ``select`` picks the entry.
    ``params`` are default parameter overrides (``set_params``)."""

    name: str
    modalities: tuple
    factory: str | Callable[..., Any]
    kwargs: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)
    kind: str = "baseline"  # or "cnn"
    select: str | None = None
    pass_modality: bool = False
    description: str = ""

    def __post_init__(self):
        if isinstance(self.modalities, str):
            self.modalities = (self.modalities,)
        self.modalities = tuple(self.modalities)
        if self.kind not in ("cnn", "baseline"):
            raise ValueError(f"kind of model {self.name!r} must be 'cnn' or 'baseline', got {self.kind!r}")

    def resolve(self) -> Callable[..., Any]:
        """The factory object (imports its module)."""
        if callable(self.factory):
            return self.factory
        if not isinstance(self.factory, str) or ":" not in self.factory:
            raise ValueError(f"factory of model {self.name!r} must be 'module:attr' or callable, got {self.factory!r}")
        module, _, attr = self.factory.partition(":")
        obj = importlib.import_module(module)
        for part in attr.split("."):
            obj = getattr(obj, part)
        return obj

    def availability(self) -> tuple[bool, str]:
        """(True, "") when the factory imports, else (False, the error)."""
        try:
            self.resolve()
        except Exception as exc:  # ImportError, AttributeError, a module broken mid-edit
            return False, f"{type(exc).__name__}: {exc}"
        return True, ""

    def build(self, modality: str, *, overrides: dict | None = None, seed: int | None = None,
              device: str | None = None):
        """A fresh, unfitted estimator for ``modality`` with defaults + ``overrides`` applied.

        ``device`` (e.g. ``"cuda:0"``) pins the estimator there through its ``device`` parameter;
        an explicit ``device`` override wins."""
        if modality not in self.modalities:
            raise ValueError(f"model {self.name!r} takes {'/'.join(self.modalities)} data, not {modality}")
        factory = self.resolve()
        kwargs = {k: v.build(modality) if isinstance(v, ModelSpec) else v for k, v in self.kwargs.items()}
        if self.pass_modality:
            kwargs["modality"] = modality
        est = factory(**kwargs)
        if self.select is not None:
            if self.select not in est:
                raise ValueError(f"model {self.name!r}: factory has no entry {self.select!r} (has {sorted(est)})")
            est = est[self.select]
        params = {**self.params, **(overrides or {})}
        own = est.get_params(deep=True) if hasattr(est, "get_params") else {}
        auto = {}
        if "verbose" in own and "verbose" not in params:
            auto["verbose"] = False if isinstance(own["verbose"], bool) else 0
        if seed is not None and "random_state" in own and "random_state" not in params:
            auto["random_state"] = seed
        if device is not None and "device" not in params:
            if "device" not in own:
                raise ValueError(f"model {self.name!r} has no 'device' parameter to pin it to {device!r}")
            auto["device"] = device
        if params or auto:
            bad = [k for k in params if k not in own]
            if bad:
                raise ValueError(f"model {self.name!r} has no parameter(s) {bad}; valid: {sorted(own)}")
            est.set_params(**auto, **params)
        return est


def _sub_estimators(est):
    """The estimators nested in ``est``'s parameters (a meta-estimator's ``estimator``, a
    pipeline's steps), one level down."""
    try:
        params = est.get_params(deep=False)
    except Exception:
        return []
    found = []
    for value in params.values():
        if hasattr(value, "get_params") and not isinstance(value, type):
            found.append(value)
        elif isinstance(value, (list, tuple)):
            for item in value:
                if isinstance(item, tuple) and len(item) >= 2 and hasattr(item[1], "get_params"):
                    found.append(item[1])  # (name, estimator[, columns]) of a Pipeline / union
    return found


def check_params(est) -> None:
    """Run ``est``'s own parameter checks without fitting (``ValueError``/``TypeError`` on a bad
    value): ``_check_params()`` of seqcnn and baseline estimators, the training recipe of the CNN
    estimators (by building their :class:`~seqcnn.engine.train.Trainer`, which checks
    ``max_epochs``, ``batch_size``, ``patience``, ...), scikit-learn's ``_validate_params()``
    (its parameter constraints), recursively through meta-estimators and pipeline steps."""
    checker = getattr(est, "_check_params", None)
    if callable(checker):
        checker()
    elif callable(getattr(est, "_validate_params", None)):
        try:
            est._validate_params()
        except Exception as exc:  # sklearn's InvalidParameterError is a ValueError subclass
            if isinstance(exc, (ValueError, TypeError)):
                raise
    make_trainer = getattr(est, "_make_trainer", None)
    if callable(make_trainer) and hasattr(est, "max_epochs"):
        frac = getattr(est, "validation_fraction", None)
        if frac is not None and (isinstance(frac, bool) or not isinstance(frac, (int, float)) or not 0 <= frac < 1):
            raise ValueError(f"validation_fraction must be None or in [0, 1), got {frac!r}")
        make_trainer(0)
    for sub in _sub_estimators(est):
        check_params(sub)


# textcnn-contextual-mc's recipe, alone and as the ensemble's member
_CONTEXTUAL_MC = dict(mode="contextual-multichannel", encoder="minilm-l6", embeddings="minilm-l6",
                      encoder_layers="mean")


def _cnn(name, modalities, factory, description, **params):
    return ModelSpec(name, modalities, factory, params=params, kind="cnn", description=description)


def _baseline(name, modalities, description):
    return ModelSpec(name, modalities, "baselines:default_baselines", select=name, pass_modality=True,
                     description=description)


BUILTIN_MODELS: dict[str, ModelSpec] = {}


def _register(spec: ModelSpec) -> None:
    if spec.name in BUILTIN_MODELS:
        raise ValueError(f"model {spec.name!r} is already registered")
    BUILTIN_MODELS[spec.name] = spec


for _spec in (
    # text CNNs (seqcnn.text)
    _cnn("textcnn-rand", ("text",), "seqcnn.text:TextCNNClassifier", "Kim (2014) CNN-rand", mode="rand"),
    _cnn("textcnn-char", ("text",), "seqcnn.text:TextCNNClassifier", "character CNN (Zhang et al. 2015, small)",
         arch="char"),
    _cnn("textcnn-dpcnn", ("text",), "seqcnn.text:TextCNNClassifier", "DPCNN (Johnson & Zhang 2017)", arch="dpcnn"),
    # Kim's pretrained rows (named sources: optional extras seqcnn[glove] / seqcnn[minilm])
    *(_cnn(f"textcnn-{mode}{suffix}", ("text",), "seqcnn.text:TextCNNClassifier",
           f"Kim (2014) CNN-{mode}, {label}", mode=mode, embeddings=source)
      for suffix, source, label in (("", "glove-6b-50d", "GloVe 6B 50-d vectors"),
                                    ("-minilm", "minilm-l6", "MiniLM-L6 word-piece table, 384-d"))
      for mode in ("static", "non-static", "multichannel")),
    _cnn("textcnn-contextual", ("text",), "seqcnn.text:TextCNNClassifier",
         "Kim CNN on frozen MiniLM-L6 hidden states (mean of its layers)", mode="contextual", encoder="minilm-l6",
         encoder_layers="mean"),  # explicit, so results of the last-layer runs never mix with these
    _cnn("textcnn-contextual-mc", ("text",), "seqcnn.text:TextCNNClassifier",
         "Kim CNN, frozen MiniLM-L6 states (mean of its layers) + a trainable MiniLM word-piece channel",
         **_CONTEXTUAL_MC),
    ModelSpec("textcnn-contextual-mc-ensemble", ("text",), "seqcnn.text:TextCNNEnsemble", kind="cnn",
              params={"n_members": 3},
              kwargs={"estimator": _cnn("textcnn-contextual-mc", ("text",), "seqcnn.text:TextCNNClassifier", "",
                                        **_CONTEXTUAL_MC)},
              description="3 textcnn-contextual-mc networks, one validation split, probabilities averaged "
                          "(the encoder's states are computed once per process and shared)"),
    ModelSpec("textcnn-ensemble", ("text",), "seqcnn.text:TextCNNEnsemble", kind="cnn", params={"n_members": 5},
              kwargs={"estimator": _cnn("textcnn-rand", ("text",), "seqcnn.text:TextCNNClassifier", "", mode="rand")},
              description="5 Kim CNN-rand networks, one validation split, probabilities averaged"),
    # signal CNNs (seqcnn.signal)
    _cnn("fcn", ("signal",), "seqcnn.signal:SignalCNNClassifier", "FCN (Wang et al. 2017)", arch="fcn"),
    _cnn("resnet1d", ("signal",), "seqcnn.signal:SignalCNNClassifier", "ResNet1D (Wang et al. 2017)", arch="resnet"),
    _cnn("inception", ("signal",), "seqcnn.signal:SignalCNNClassifier", "one InceptionTime network",
         arch="inception"),
    _cnn("inceptiontime", ("signal",), "seqcnn.signal:SignalCNNClassifier",
         "InceptionTime, ensemble of 5 (Ismail Fawaz et al. 2020)", arch="inceptiontime"),
    ModelSpec("minirocket", ("signal",), "seqcnn.signal:MiniRocketClassifier", kind="baseline",
              description="MiniRocket: 84 fixed dilated kernels, PPV, ridge (Dempster et al. 2021)"),
    # image CNNs (vision)
    _cnn("lenet5", ("image",), "vision:ImageCNNClassifier", "LeNet-5 (LeCun et al. 1998)", arch="lenet5"),
    _cnn("resnet20", ("image",), "vision:ImageCNNClassifier", "CIFAR ResNet-20 (He et al. 2016)", arch="resnet20"),
    # baselines (baselines.default_baselines)
    _baseline("mnb", ("text",), "word unigram counts + MultinomialNB"),
    _baseline("mnb-bi", ("text",), "binarised uni+bigrams + MultinomialNB (MNB-bi, Wang & Manning 2012)"),
    _baseline("bnb", ("text",), "binary unigrams + BernoulliNB"),
    _baseline("nbsvm", ("text",), "NBSVM-bi (Wang & Manning 2012)"),
    _baseline("svm-linear", ("text",), "tf-idf uni+bigrams + linear SVM"),
    _baseline("svm-string", ("text",), "spectrum string-kernel SVM, p = 1..5 (Lodhi et al. 2002 family)"),
    _baseline("knn-cosine", ("text",), "tf-idf + 5-NN, cosine distance"),
    _baseline("knn-levenshtein", ("text",), "5-NN, edit distance on the raw strings"),
    ModelSpec("sbert-lr", ("text",), "baselines.sentence:SentenceEmbeddingClassifier",
              description="frozen MiniLM sentence embeddings + logistic regression (needs seqcnn[minilm])"),
    ModelSpec("fasttext", ("text",), "baselines.fasttext:FastTextClassifier",
              description="supervised fastText, word bigrams (needs seqcnn[fasttext])"),
    _baseline("gnb", ("signal", "image"), "GaussianNB on raw values"),
    _baseline("knn-euclidean", ("signal", "image"), "k-NN, Euclidean distance (1-NN for series)"),
    _baseline("knn-dtw", ("signal",), "1-NN DTW, 10 % Sakoe-Chiba band"),
    _baseline("svm-rbf", ("signal", "image"), "RBF-kernel SVM"),
):
    _register(_spec)


def list_models(modality: str | None = None) -> list[str]:
    return [n for n, s in BUILTIN_MODELS.items() if modality is None or modality in s.modalities]


def get_model(name) -> ModelSpec:
    """A built-in spec by name (case-insensitive); ``ValueError`` listing the choices otherwise."""
    if isinstance(name, ModelSpec):
        return name
    if not isinstance(name, str):
        raise TypeError(f"models must hold names or ModelSpec, got {type(name).__name__}")
    for key, spec in BUILTIN_MODELS.items():
        if key.lower() == name.lower():
            return spec
    raise ValueError(f"unknown model {name!r}; choose from {list_models()} or pass a ModelSpec")


def _module_of(est):
    module = getattr(est, "module_", None)
    if module is not None and hasattr(module, "parameters"):
        return module
    return None


def _members_of(est) -> list:
    """The fitted CNN members of an ensemble estimator (``estimators_`` with ``module_``), else []."""
    members = getattr(est, "estimators_", None)
    if isinstance(members, list) and members and all(_module_of(m) is not None for m in members):
        return members
    return []


def model_size(est) -> tuple[int | None, str]:
    """(size, unit): parameters for CNNs (the fitted ``module_``; an ensemble's members summed),
    else ``baselines.model_size`` (stored samples, support vectors or coefficients); (None, "")
    when unknown."""
    members = _members_of(est)
    if members:
        return int(sum(model_size(m)[0] for m in members)), "parameters"
    module = _module_of(est)
    if module is not None:
        return int(sum(p.numel() for p in module.parameters())), "parameters"
    try:
        from baselines import model_size as _size

        count, unit = _size(est, with_unit=True)
        return int(count), unit
    except Exception:
        return None, ""


def selection_of(est) -> str:
    """How the epoch/weights were chosen: "val-split-from-train" (early stopping / best epoch on a
    validation split carved from the training fold), "min-train-loss" (no validation data: the
    epoch of the lowest training loss), "fixed-epochs", or "none" (no epochs). An
    ensemble's members share one split: its first member's answer."""
    members = _members_of(est)
    if members:
        return selection_of(members[0])
    if _module_of(est) is None and not hasattr(est, "history_"):
        return "none"
    frac = getattr(est, "validation_fraction", None)
    history = getattr(est, "history_", None) or []
    flat = [h for h in history if isinstance(h, dict)]
    used_val = any(h.get("val_loss") is not None for h in flat)
    if frac and (used_val or not flat):
        return "val-split-from-train"
    trainer_kwargs = getattr(est, "_trainer_kwargs", None)
    monitor = trainer_kwargs().get("monitor") if callable(trainer_kwargs) else None
    if not frac and monitor in ("train_loss", "train_acc"):
        return "min-train-loss"  # the papers' protocol without validation data (weights of the best training epoch)
    return "fixed-epochs"

