"""The ``seqcnn`` command line: ``seqcnn text|signal|vision|compare ...``.

Each modality owns its sub-commands in its own ``cli`` module exposing
``register(subparsers)``; this file dispatches, importing a modality lazily so that
``seqcnn text ...`` never imports the vision zoo (a module that fails to import fails loudly),
and owns the one error handler: every expected error (``ValueError`` — data, checkpoint and
output errors included —, ``TypeError``, ``KeyError``, ``OSError`` such as a missing file or an
unwritable folder) becomes one line ``seqcnn: error: ...`` on stderr and exit status 2, with the
library's Python spellings in hints replaced by the flags (``missing='interpolate'`` →
``--missing interpolate``). ``SEQCNN_DEBUG=1`` re-raises instead, with the traceback. Warnings
are printed as one line ``seqcnn: warning: ...``.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import warnings
from importlib import import_module

_MODALITIES = {
    "text": ("seqcnn.text.cli", "sentence classification with Kim-style CNNs"),
    "signal": ("seqcnn.signal.cli", "time-series classification (FCN, ResNet1D, InceptionTime, MiniRocket)"),
    "vision": ("vision.cli", "image models: summaries, training, prediction, CAM"),
    "compare": ("seqcnn.compare.cli", "CNNs against baselines on the same folds, with statistics"),
}

_Q = r"""['"]"""
# Library hints say how to fix a call in Python; at the command line the fix is a flag.
FLAG_HINTS = {
    "*": [(r"\boverwrite=True / --force\b", "--force"), (r"\boverwrite=True\b", "--force"),
          (r" \(pass encoding=\.\.\. to choose another\)", " (save the file as UTF-8 if that is wrong)")],
    "text": [(r"\(allow_empty_text=True keeps empty texts\)", "(--allow-empty-text keeps empty texts)"),
             (r"pass multilabel=True to read several labels per (line|record)",
              r"seqcnn text train reads one label per \1 (several labels: TextCNNClassifier in Python)"),
             (r"(?<!--set )\bmax_len=(None|\d+|N)\b", r"--max-len \1"), (r"(?<!--set )\bmax_len=", "--max-len "),
             (r"\bbatch_size \(now", "--batch-size (now"), (r"\bmax_len \(now", "--max-len (now"),
             (r"\bmode='([\w-]+)' without embeddings", r"--mode \1 without --vectors"),
             (r"^top_k must be", "--top-k must be"),
             (r"\bthreshold='auto' needs a validation split \(validation_fraction > 0 or validation_data\)",
              "--threshold auto needs a validation split (--dev, or --set validation_fraction=F with F > 0)"),
             (r"is a \.npy matrix: pass words= \(the row words, a list or a file\)",
              "is a .npy matrix without its row words: --vectors reads word2vec, GloVe or fastText files "
              "(a .npy matrix: load_vectors(path, words=...) in Python)")],
    "signal": [(rf",? or missing={_Q}keep{_Q}", ""), (rf"\bmissing={_Q}(\w+){_Q}", r"--missing \1")],
    "vision": [(r"\bsize=\(H, ?W\)", "--size HxW"), (r"\bsize=\((\d+), ?(\d+)\)", r"--size \1x\2"),
               (r"\(see vision\.list_models\(\)\)", "(see seqcnn vision list)"),
               (r"\bpath= must be a folder", "it must be a folder")],
    "compare": [(r"\bresume=False\b", "--no-resume"), (r"\bresume=True\b", "--resume"),
                (r"\(data_dir=(['\"])(.*?)\1\)", r"(--data-dir \2)")],
}

# the estimators' device= is each train command's --device
for _modality in ("text", "signal", "vision"):
    FLAG_HINTS[_modality].append((r"\bdevice=(['\"])(.*?)\1", r"--device \2"))

_EXPECTED = (ValueError, TypeError, KeyError, OSError)


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors (``seqcnn text train: error: ... (see ... --help)``);
    sub-parsers inherit the class."""

    def error(self, message):
        text = re.sub(r"\s*\n\s*", " ", str(message)).strip()
        self.exit(2, f"{self.prog}: error: {text} (see {self.prog} --help)\n")


def build_parser(argv=None) -> argparse.ArgumentParser:
    parser = _Parser(prog="seqcnn", description="CNNs for text, signals and images.",
                     epilog="An input error is one line 'seqcnn: error: ...' on stderr and exit status 2 "
                            "(SEQCNN_DEBUG=1 shows the traceback instead).")
    from seqcnn import __version__

    parser.add_argument("--version", action="version", version=f"seqcnn {__version__}")
    sub = parser.add_subparsers(dest="modality", metavar="{" + ",".join(_MODALITIES) + "}")
    sub.required = True
    # Only import the modality that was asked for (help lists all of them).
    wanted = next((a for a in (argv or []) if a in _MODALITIES), None)
    for name, (module, help_text) in _MODALITIES.items():
        if wanted is None or name == wanted:
            import_module(module).register(sub)
        else:
            sub.add_parser(name, help=help_text, add_help=False)
    return parser


def error_message(exc: BaseException, modality: str | None = None) -> str:
    """The one-line text of an expected error, with Python hints translated into flags."""
    if isinstance(exc, KeyError):
        text = f"missing key {exc.args[0]!r}" if exc.args else "missing key"
    elif isinstance(exc, OSError) and exc.strerror and exc.filename is not None:
        text = f"{exc.filename}: {exc.strerror}"
    else:
        text = str(exc) or type(exc).__name__
    return _hinted(text, modality)


def _hinted(text: str, modality: str | None) -> str:
    text = re.sub(r"\s*\n\s*", " ", text).strip()
    for pattern, repl in [*FLAG_HINTS["*"], *FLAG_HINTS.get(modality, ())]:
        text = re.sub(pattern, repl, text)
    return text


def _warning_printer(modality: str | None):
    def show(message, category, filename, lineno, file=None, line=None):
        print(f"seqcnn: warning: {_hinted(str(message), modality)}", file=sys.stderr)

    return show


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    debug = os.environ.get("SEQCNN_DEBUG", "") not in ("", "0")
    with warnings.catch_warnings():
        if not debug:
            warnings.showwarning = _warning_printer(args.modality)
        try:
            rc = args.func(args)
        except _EXPECTED as exc:
            if debug:
                raise
            print(f"seqcnn: error: {error_message(exc, args.modality)}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("seqcnn: interrupted", file=sys.stderr)
            return 130
    return int(rc or 0)


if __name__ == "__main__":
    sys.exit(main())
