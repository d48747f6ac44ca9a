"""``seqcnn text train|predict|explain``.

train   : labelled file(s) → per-epoch progress, the metrics table, and the run folder ``--out``
          (``model/``, ``metrics.json``, ``confusion_matrix.png``; see :mod:`seqcnn.cli_common`).
          Multi-label data (``--multilabel``, ``--label-sep SEP``, or several ``__label__`` per
          fastText line, detected and said so; ``--label-names FILE`` maps label ids to names):
          the multi-label metrics and ``label_f1.png`` instead of the confusion matrix.
predict : an artifact + a file (one text per line; ``-`` = stdin) or ``--text SENTENCE`` →
          label(s) and probabilities per text, or JSON lines with ``--json``; ``--k K`` keeps
          the K most probable labels, ``--threshold T`` those with probability >= T (both: at
          most K labels, each >= T, as fastText's ``predict k threshold``).
explain : an artifact + a sentence → the winning n-grams, highlighted (ANSI colour on a
          terminal, [brackets] otherwise); for a multi-label model, per predicted label.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from seqcnn.cli_common import (CONFUSION_PNG, LABEL_F1_PNG, METRICS_JSON, MODEL_DIR, Reporter, add_train_flags, apply_settings,
                               check_file, check_labels, check_out, parse_settings, prediction_record,
                               print_predictions, reading, write_run)
from seqcnn.engine.metrics import classification_metrics, json_scalar, multilabel_metrics

__all__ = ["register"]

PRESET_HELP = "kim2014 (Kim's recipe, lower-cased) or trec (the same, case kept)"


def _max_len(text):
    """``--max-len``: a positive integer, or ``none`` for no cap."""
    if str(text).lower() == "none":
        return None
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer or 'none', got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer or 'none', got {text!r}")
    return n


def _encoder_layers(text: str):
    """``--encoder-layers``: 'mean', 'last' or comma-separated hidden-state indices."""
    if text in ("mean", "last"):
        return text
    try:
        items = [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected 'mean', 'last' or comma-separated layer indices, "
                                         f"got {text!r}") from None
    return items[0] if len(items) == 1 else items


def _named_source(value) -> bool:
    """``--vectors glove-6b-50d``: a pretrained source shipped by a wheel, not a file path."""
    from .vectors import SOURCES

    return isinstance(value, str) and value in SOURCES


def _default_max_len():
    import inspect

    from .estimator import TextCNNClassifier

    return inspect.signature(TextCNNClassifier.__init__).parameters["max_len"].default


# estimator parameter → the flag that sets it (error messages name the flag)
FLAGS = {"max_epochs": "--epochs", "batch_size": "--batch-size", "embedding_dim": "--embedding-dim",
         "num_filters": "--num-filters", "filter_sizes": "--filter-sizes", "optimizer": "--optimizer", "lr": "--lr",
         "mode": "--mode", "arch": "--arch", "embeddings": "--vectors", "tokenizer": "--tokenizer",
         "dropout_scaling": "--dropout-scaling", "max_len": "--max-len", "random_state": "--seed",
         "device": "--device", "encoder": "--encoder", "encoder_layers": "--encoder-layers"}


def register(subparsers) -> None:
    p = subparsers.add_parser("text", help="sentence classification with Kim-style CNNs",
                              description="Sentence classification with Kim-style CNNs (train, predict, explain).")
    sub = p.add_subparsers(dest="command", metavar="{train,predict,explain}")
    sub.required = True
    _add_train(sub)
    _add_predict(sub)
    _add_explain(sub)


def _add_train(sub) -> None:
    cap = _default_max_len()
    cap_text = "no cap" if cap is None else f"{cap} tokens"
    t = sub.add_parser("train", help="train a model on a labelled file",
                       description="Train a TextCNNClassifier. Files: 'LABEL sentence' lines (UTF-8 or Latin-1), "
                                   ".csv/.tsv/.jsonl with --text-column/--label-column, or a folder of class "
                                   "sub-folders of .txt files. Everything (--out, --vectors, --set, the --dev and "
                                   "--test files and their labels) is checked before the first epoch.")
    add_train_flags(t, train_help="training data", epochs=25, test=False,
                    dev_help="development data: picks the best epoch (default: 10%% of --train)")
    g = t.add_mutually_exclusive_group()
    g.add_argument("--test", help="test data, evaluated once with the final model")
    g.add_argument("--cv", type=int, help="k-fold stratified cross-validation on --train instead of a test file")
    t.add_argument("--preset", choices=("kim2014", "trec"), default="kim2014", help=PRESET_HELP)
    t.add_argument("--mode", choices=("rand", "static", "non-static", "multichannel", "contextual",
                                      "contextual-multichannel"), default="rand",
                   help="Kim's variants (static / non-static / multichannel need --vectors), or the CNN on a frozen "
                        "transformer's hidden states (contextual; -multichannel adds a trainable word-piece "
                        "channel, initialised from --vectors minilm-l6 when given); the contextual modes need "
                        "--encoder")
    t.add_argument("--encoder", default=None, help="the frozen encoder of the contextual modes: minilm-l6 "
                                                   "(pip install \"seqcnn[minilm]\")")
    t.add_argument("--encoder-layers", type=_encoder_layers, default=argparse.SUPPRESS, metavar="LAYERS",
                   help="contextual modes: 'mean' (default: the average of the encoder's layers), 'last', or "
                        "comma-separated hidden-state indices to average (0 = embeddings, -1 = last)")
    t.add_argument("--arch", choices=("kim", "char", "dpcnn"), default="kim")
    t.add_argument("--vectors", help="pretrained vectors (word2vec .bin/.txt, GloVe, fastText .vec): a file")
    t.add_argument("--tokenizer", choices=("kim", "whitespace", "char", "wordpiece", "bpe"), default="kim")
    t.add_argument("--max-len", type=_max_len, default=argparse.SUPPRESS, metavar="N",
                   help=f"keep the first N tokens of each text, in training and (saved with the model) at "
                        f"prediction; 'none' for no cap (default: the estimator's, {cap_text})")
    t.add_argument("--batch-size", type=int, default=50)
    t.add_argument("--embedding-dim", type=int, default=300)
    t.add_argument("--num-filters", type=int, default=100)
    t.add_argument("--filter-sizes", default="3,4,5", help="comma-separated widths (default 3,4,5)")
    t.add_argument("--optimizer", default="adadelta", choices=("adadelta", "adam", "sgd", "adamw"))
    t.add_argument("--lr", type=float, default=None)
    t.add_argument("--members", type=int, default=1,
                   help="K > 1: train K networks (seeds seed + 1000k) on one validation split and average "
                        "their probabilities (a TextCNNEnsemble; about +1 point on MR/TREC, K times the time)")
    t.add_argument("--dropout-scaling", choices=("auto", "train", "test"), default="auto",
                   help="auto (default): Kim's form (no rescaling in training, x 0.5 at prediction) for --arch kim, "
                        "PyTorch's inverted dropout (train) for the others")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--device", default="auto")
    t.add_argument("--text-column", default="text")
    t.add_argument("--label-column", default="label")
    t.add_argument("--allow-empty-text", action="store_true",
                   help="keep records that have a label but no text (as empty texts) instead of refusing them")
    t.add_argument("--multilabel", action="store_true",
                   help="several labels per text: fastText lines with several __label__ tokens, comma-joined "
                        "labels in 'LABEL text' files, a --label-sep-joined label column in tables (detected "
                        "from a fastText file or --label-sep, and said so)")
    t.add_argument("--label-sep", default=None, metavar="SEP",
                   help="tables: the label column holds labels joined by SEP (e.g. ',' for GoEmotions); "
                        "implies --multilabel")
    t.add_argument("--label-names", default=None, metavar="FILE",
                   help="labels are ids 0..L-1 named by FILE, one name per line (GoEmotions' labels.txt)")
    t.add_argument("--threshold", default=None, metavar="T",
                   help="multi-label decision threshold: a number in [0, 1] or 'auto' (per label, the F1-best "
                        "threshold on the validation data; default 0.5)")
    t.add_argument("--min-labels", type=int, default=None, metavar="M",
                   help="multi-label: a text with fewer than M labels above threshold gets its M most probable "
                        "(default 0: a text may get no label)")
    t.set_defaults(func=_train)


def _add_predict(sub) -> None:
    pr = sub.add_parser("predict", help="predict labels for texts with a saved model",
                        description="Predict the label of each text: one per line of a file, of stdin (-), or "
                                    "given with --text. Output: LABEL<tab>probabilities<tab>TEXT per text, or "
                                    'JSON lines {"input", "text", "label", "probabilities"} with --json.')
    pr.add_argument("--model", required=True, help="run folder written by 'seqcnn text train' (or its model/)")
    pr.add_argument("input", nargs="?", default=None, help="file with one text per line, or - for stdin (default)")
    pr.add_argument("--text", action="append", default=None, metavar="SENTENCE",
                    help="a text to classify (repeatable; instead of a file)")
    pr.add_argument("--max-len", type=_max_len, default=argparse.SUPPRESS, metavar="N",
                    help="token cap per text (default: the one saved with the model); 'none' for no cap")
    pr.add_argument("--json", action="store_true", help="JSON lines output")
    pr.add_argument("--k", type=int, default=None, metavar="K",
                    help="the K most probable labels per text, most probable first")
    pr.add_argument("--threshold", type=float, default=None, metavar="T",
                    help="the labels with probability >= T (with --k: at most K of them); multi-label models "
                         "otherwise use the threshold saved with the model")
    pr.set_defaults(func=_predict)


def _add_explain(sub) -> None:
    ex = sub.add_parser("explain", help="show which n-grams decided a prediction")
    ex.add_argument("--model", required=True)
    ex.add_argument("text", nargs="+", help="the sentence (several arguments are joined by spaces)")
    ex.add_argument("--top-k", type=int, default=5)
    ex.add_argument("--json", action="store_true")
    ex.set_defaults(func=_explain)


# ---------------------------------------------------------------------------- helpers
def _read(path, args, flag):
    """``(texts, labels)`` of ``flag path``; multi-label reading per ``args.multilabel`` (which a
    fastText file with several ``__label__`` per line switches on, said once), label ids named
    by ``--label-names``."""
    from seqcnn.data import read_text_dataset
    from seqcnn.data.errors import DataError
    from seqcnn.data.text import apply_label_names

    multi = bool(args.multilabel or args.label_sep)
    with reading(flag, path):
        try:
            X, y = read_text_dataset(path, text_column=args.text_column, label_column=args.label_column,
                                     allow_empty_text=args.allow_empty_text, multilabel=multi,
                                     label_sep=args.label_sep)
        except DataError as exc:
            if multi or "multilabel=True" not in str(exc):
                raise
            X, y = read_text_dataset(path, text_column=args.text_column, label_column=args.label_column,
                                     allow_empty_text=args.allow_empty_text, multilabel=True)
            args.multilabel = True
            print(f"{flag} {path}: several labels on one line: training a multi-label model (--multilabel)",
                  file=sys.stderr if args.json else sys.stdout)
        if getattr(args, "names", None) is not None:
            y = apply_label_names(y, args.names, path=args.label_names)
    return X, y


def _multilabel_metrics(clf, X, y) -> dict:
    """The multi-label metrics of ``clf`` on texts ``X`` with label lists ``y``."""
    from seqcnn.engine.multilabel import encode_like

    classes = clf.classes_
    Y = encode_like(clf.target_type_, classes, y, "labels")
    P = clf.predict_proba(X)
    D = encode_like(clf.target_type_, classes, clf.predict(X), "predictions")
    return multilabel_metrics(Y, D, classes, proba=P)


def _evaluate(clf, X, y, labels) -> dict:
    if getattr(clf, "target_type_", "multiclass") != "multiclass":
        return _multilabel_metrics(clf, X, y)
    return classification_metrics(y, clf.predict(X), labels)


def _build(args):
    from .estimator import TextCNNClassifier

    try:
        widths = tuple(int(w) for w in args.filter_sizes.split(","))
    except ValueError:
        raise ValueError(f"--filter-sizes must be comma-separated integers, got {args.filter_sizes!r}") from None
    if args.members < 1:
        raise ValueError(f"--members must be >= 1, got {args.members}")
    extra = {"max_len": args.max_len} if hasattr(args, "max_len") else {}
    if hasattr(args, "encoder_layers"):
        extra["encoder_layers"] = args.encoder_layers
    clf = TextCNNClassifier(
        mode=args.mode, arch=args.arch, embeddings=args.vectors, tokenizer=args.tokenizer, encoder=args.encoder,
        lowercase=(False if args.preset == "trec" else None), max_epochs=args.epochs, batch_size=args.batch_size,
        embedding_dim=args.embedding_dim, num_filters=args.num_filters, filter_sizes=widths,
        optimizer=args.optimizer, lr=args.lr, random_state=args.seed, device=args.device,
        dropout_scaling=args.dropout_scaling, verbose=0 if (args.quiet or args.json) else 1, **extra)
    if args.threshold is not None:
        t = args.threshold
        if t != "auto":
            try:
                t = float(t)
            except ValueError:
                raise ValueError(f"--threshold must be a number in [0, 1] or 'auto', got {t!r}") from None
            if not 0 <= t <= 1:
                raise ValueError(f"--threshold must be a number in [0, 1] or 'auto', got {args.threshold!r}")
        clf.set_params(threshold=t)
    if args.min_labels is not None:
        if args.min_labels < 0:
            raise ValueError(f"--min-labels must be >= 0, got {args.min_labels}")
        clf.set_params(min_labels=args.min_labels)
    apply_settings(clf, parse_settings(args.settings), flags=FLAGS)
    if args.members == 1:
        return clf
    from .ensemble import TextCNNEnsemble

    return TextCNNEnsemble(clf, n_members=args.members, random_state=args.seed,
                           verbose=0 if (args.quiet or args.json) else 1)


# ---------------------------------------------------------------------------- commands
def _train(args) -> int:
    say = Reporter(args.json)
    out, recipe = _check_setup(args)
    X, y, validation, test = _read_splits(args)
    multi = bool(args.multilabel or args.label_sep)
    labels = sorted({lab for labs in y for lab in labs}, key=str) if multi else sorted(set(y), key=str)
    metrics = {"train_file": str(args.train), "n_train": len(X), "preset": args.preset, "mode": args.mode,
               "arch": args.arch, "members": args.members, "max_len": recipe.max_len,
               "settings": parse_settings(args.settings), "multilabel": multi}
    if args.dev:
        metrics["dev_file"] = str(args.dev)
    if args.test:
        metrics["test_file"] = str(args.test)
    t0 = time.perf_counter()
    if args.cv:
        _cross_validate(args, X, y, labels, multi, metrics, say)
    clf = _build(args)
    clf.fit(X, y, validation_data=validation)
    metrics["seconds"] = time.perf_counter() - t0
    _record_fit(clf, args, multi, metrics, say)
    for split, data in (("train", (X, y)), ("dev", validation), ("test", test)):
        if data is not None:
            metrics[split] = _evaluate(clf, data[0], data[1], labels)
            say.metrics(split, metrics[split])
    write_run(out, model=clf, metrics=metrics, force=args.force, order=("test", "cv_pooled", "dev", "train"))
    picture = LABEL_F1_PNG if multi else CONFUSION_PNG
    say.say(f"\nwrote {out / MODEL_DIR}/ (artifact), {out / METRICS_JSON}, {out / picture} "
            f"(run {metrics['run_id']})")
    say.final(metrics)
    return 0


def _check_setup(args):
    """Everything but the data files, checked before the first epoch: the output folder, the
    recipe, ``--cv``, the vectors file, ``--label-names`` (read into ``args.names``).
    Returns ``(out, recipe)``, the recipe being an ensemble's member estimator."""
    out = check_out(args.out, force=args.force,
                    inputs={"--train": args.train, "--dev": args.dev, "--test": args.test})
    built = _build(args)
    recipe = getattr(built, "estimator", built)  # an ensemble's member recipe
    if args.cv is not None and args.cv < 2:
        raise ValueError(f"--cv must be >= 2, got {args.cv}")
    if isinstance(recipe.embeddings, (str, os.PathLike)) and not _named_source(recipe.embeddings):
        check_file(recipe.embeddings, "--vectors")
    args.names = None
    if args.label_names is not None:
        from seqcnn.data.text import read_label_names

        check_file(args.label_names, "--label-names")
        with reading("--label-names", args.label_names):
            args.names = read_label_names(args.label_names)
    return out, recipe


def _read_splits(args):
    """``(X, y, validation, test)`` from ``--train``, ``--dev``, ``--test`` (``None`` when not
    given), every label of the dev and test files checked against the training labels."""
    X, y = _read(args.train, args, "--train")
    if args.cv is not None and args.cv > len(X):
        raise ValueError(f"--cv {args.cv}: more folds than the {len(X)} records of --train {args.train}")
    validation = _read(args.dev, args, "--dev") if args.dev else None
    if validation is not None:
        check_labels(y, validation[1], flag="--dev", path=args.dev)
    test = _read(args.test, args, "--test") if args.test else None
    if test is not None:
        check_labels(y, test[1], flag="--test", path=args.test)
    return X, y, validation, test


def _cross_validate(args, X, y, labels, multi, metrics, say) -> None:
    """``--cv K``: seeded shuffled k-fold on ``--train`` (stratified for single-label data), one
    model per fold; the fold scores (accuracy, or macro-F1 for multi-label data) into
    ``metrics["cv"]``, and for single-label data the pooled out-of-fold metrics into
    ``metrics["cv_pooled"]``."""
    from seqcnn.engine.folds import kfold_indices

    scores, preds, classes = [], np.empty(len(y), dtype=object), None
    for k, (tr, te) in enumerate(kfold_indices(y, args.cv, args.seed, stratified=not multi)):
        say.say(f"fold {k + 1}/{args.cv}")
        clf = _build(args).fit([X[i] for i in tr], [y[i] for i in tr])
        X_te, y_te = [X[i] for i in te], [y[i] for i in te]
        if multi:
            if classes is not None and list(clf.classes_) != list(classes):
                raise ValueError(f"--cv: fold {k + 1} lacks some labels in its training part; use fewer folds")
            classes = clf.classes_
            scores.append(_multilabel_metrics(clf, X_te, y_te)["macro_f1"])
        else:
            preds[te] = clf.predict(X_te)
            scores.append(float(np.mean(preds[te] == np.asarray(y_te, dtype=object))))
    key, name = ("fold_macro_f1", "macro-F1") if multi else ("fold_accuracy", "accuracy")
    metrics["cv"] = {"folds": args.cv, key: scores, "mean": float(np.mean(scores)),
                     "std": float(np.std(scores, ddof=1))}
    if not multi:
        metrics["cv_pooled"] = classification_metrics(np.asarray(y, dtype=object), preds, labels)
        say.metrics(f"{args.cv}-fold CV (pooled)", metrics["cv_pooled"])
    say.say(f"  fold {name}: {100 * np.mean(scores):.2f} ± {100 * np.std(scores, ddof=1):.2f} %")
    say.say("final model: trained on all of --train")


def _record_fit(clf, args, multi, metrics, say) -> None:
    """The fitted model's best epoch and history (per member for an ensemble, with the
    ensemble's and the members' validation accuracies) and multi-label thresholds."""
    if args.members == 1:
        metrics["best_epoch"] = clf.best_epoch_
        metrics["history"] = clf.history_
    else:  # per member; the validation accuracies on the shared split, the ensemble's beside them
        metrics["best_epoch"] = [m.best_epoch_ for m in clf.estimators_]
        metrics["history"] = [m.history_ for m in clf.estimators_]
        metrics["validation_accuracy"] = clf.val_score_
        metrics["member_validation_accuracy"] = clf.member_val_scores_
        if clf.val_score_ is not None:
            what = "subset accuracy" if multi else "accuracy"
            say.say(f"\nvalidation {what}: ensemble {100 * clf.val_score_:.2f} %, members "
                    + ", ".join(f"{100 * v:.2f}" for v in clf.member_val_scores_) + " %")
    if multi:
        metrics["threshold"] = dict(zip(map(str, clf.classes_), clf.threshold_.tolist()))


def _load_model(path):
    from .ensemble import load_text_model

    return load_text_model(path)  # a single model or an ensemble; the training output folder too


def _set_max_len(clf, n) -> None:
    """``predict --max-len``: the token cap of a loaded model (every member of an ensemble)."""
    for member in getattr(clf, "estimators_", None) or [clf]:
        member.max_len = n
        member.pipeline_.max_len = n


def _predict_lines(args) -> list:
    from seqcnn.data import decode_bytes

    if args.text is not None:
        if args.input is not None:
            raise ValueError(f"give either --text or an input file, not both (got --text and {args.input!r})")
        return list(args.text)
    src = args.input if args.input is not None else "-"
    if src == "-":
        data = sys.stdin.buffer.read()
    else:
        p = Path(src)
        if not p.exists():
            raise FileNotFoundError(f"input file {src!r} does not exist")
        if not p.is_file():
            raise ValueError(f"input {src!r} is a folder, expected a file with one text per line (or -)")
        data = p.read_bytes()
    lines = decode_bytes(data).split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [ln[:-1] if ln.endswith("\r") else ln for ln in lines]


def _predict(args) -> int:
    lines = _predict_lines(args)
    clf = _load_model(args.model)
    if hasattr(args, "max_len"):
        _set_max_len(clf, args.max_len)
    if not lines:
        return 0
    proba = clf.predict_proba(lines)
    classes = [json_scalar(c) for c in clf.classes_]
    multi = getattr(clf, "target_type_", "multiclass") != "multiclass"
    if args.k is None and args.threshold is None and not multi:
        if args.json:
            print_predictions(prediction_record(text, pr, classes, text=text) for text, pr in zip(lines, proba))
            return 0
        for text, pr in zip(lines, proba):
            k = int(np.argmax(pr))
            probs = " ".join(f"{c}:{v:.3f}" for c, v in zip(classes, pr))
            print(f"{classes[k]}\t{probs}\t{text}")
        return 0
    chosen = _chosen_labels(clf, lines, proba, args)
    for text, pr, idx in zip(lines, proba, chosen):
        picked = [classes[j] for j in idx]
        if args.json:
            print_predictions([{"input": text, "text": text, "labels": picked,
                                "label_probabilities": [float(pr[j]) for j in idx],
                                "probabilities": {str(c): float(v) for c, v in zip(classes, pr)}}])
            continue
        shown = ",".join(str(c) for c in picked)
        probs = " ".join(f"{classes[j]}:{pr[j]:.3f}" for j in idx)
        print(f"{shown}\t{probs}\t{text}")
    return 0


def _chosen_labels(clf, lines, proba, args) -> list:
    """Per text, the column indices of its labels, most probable first: ``--k`` and/or
    ``--threshold`` (at most K labels, each >= T), else the model's own decisions."""
    if args.k is not None and not 1 <= args.k <= len(clf.classes_):
        raise ValueError(f"--k must be in [1, {len(clf.classes_)}] (the model's number of labels), got {args.k}")
    if args.threshold is not None and not 0 <= args.threshold <= 1:
        raise ValueError(f"--threshold must be in [0, 1], got {args.threshold}")
    order = np.argsort(-proba, axis=1, kind="stable")
    if args.k is None and args.threshold is None:  # a multi-label model's own decisions
        from seqcnn.engine.multilabel import encode_like

        D = encode_like(clf.target_type_, clf.classes_, clf.predict(lines), "predictions") > 0
        return [[j for j in row if D[i, j]] for i, row in enumerate(order)]
    k = args.k if args.k is not None else len(clf.classes_)
    t = args.threshold if args.threshold is not None else 0.0
    return [[j for j in row[:k] if proba[i, j] >= t] for i, row in enumerate(order)]


def _highlight(tokens, ngrams, colour: bool) -> str:
    marks = [None] * len(tokens)
    for rank, g in enumerate(ngrams):
        for i in range(*g["span"]):
            if marks[i] is None:
                marks[i] = rank
    out, i = [], 0
    palette = ["\033[1;42m", "\033[1;43m", "\033[1;46m", "\033[1;45m", "\033[1;44m"]
    while i < len(tokens):
        if marks[i] is None:
            out.append(tokens[i])
            i += 1
            continue
        j = i
        while j < len(tokens) and marks[j] == marks[i]:
            j += 1
        chunk = " ".join(tokens[i:j])
        out.append(f"{palette[marks[i] % len(palette)]}{chunk}\033[0m" if colour else f"[{chunk}]")
        i = j
    return " ".join(out)


def _explain(args) -> int:
    clf = _load_model(args.model)
    text = " ".join(args.text)
    (res,) = clf.explain([text], top_k=args.top_k)
    if args.json:
        print(json.dumps({**res, "label": json_scalar(res["label"])}, ensure_ascii=False, default=json_scalar))
        return 0
    colour = sys.stdout.isatty()
    for entry in res.get("labels") or [res]:  # a multi-label model: every predicted label
        print(f"prediction: {entry['label']} (p = {entry['probability']:.3f})")
        if not res["tokens"]:
            print("(no tokens: the prediction rests on the biases alone, no n-gram to show)")
            continue
        print(_highlight(res["tokens"], entry["ngrams"], colour))
        for g in entry["ngrams"]:
            print(f"  {g['contribution']:+.3f}  width {g['width']}  tokens {g['span'][0]}-{g['span'][1]}  "
                  f"({g['filters']} filters)  {g['ngram']}")
    return 0
