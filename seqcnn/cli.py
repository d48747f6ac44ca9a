"""The ``seqcnn`` command line: ``seqcnn text|signal|vision|compare ...``.

Each modality owns its sub-commands in its own ``cli`` module exposing
``register(subparsers)``; this file only dispatches, importing a modality lazily so that
``seqcnn text ...`` never imports the vision zoo.
"""
from __future__ import annotations

import argparse
import sys
from importlib import import_module

_MODALITIES = {
    "text": ("seqcnn.text.cli", "sentence classification with Kim-style CNNs"),
    "signal": ("seqcnn.signal.cli", "time-series classification (FCN, ResNet1D, InceptionTime)"),
    "vision": ("vision.cli", "image models: summaries, training, prediction, CAM"),
    "compare": ("seqcnn.compare.cli", "CNNs against baselines on the same folds, with statistics"),
}


def build_parser(argv=None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="seqcnn", description="CNNs for text, signals and images.")
    from seqcnn import __version__

    parser.add_argument("--version", action="version", version=f"seqcnn {__version__}")
    sub = parser.add_subparsers(dest="modality", metavar="{" + ",".join(_MODALITIES) + "}")
    sub.required = True
    # Only import the modality that was asked for (help lists all of them).
    wanted = next((a for a in (argv or []) if a in _MODALITIES), None)
    for name, (module, help_text) in _MODALITIES.items():
        if wanted is None or name == wanted:
            try:
                mod = import_module(module)
            except ImportError as exc:  # a modality not built yet must not break the others
                p = sub.add_parser(name, help=f"{help_text} (unavailable: {exc})")
                p.set_defaults(func=lambda args, _e=exc: _unavailable(_e))
                continue
            mod.register(sub)
        else:
            sub.add_parser(name, help=help_text, add_help=False)
    return parser


def _unavailable(exc):
    print(f"seqcnn: this command is unavailable: {exc}", file=sys.stderr)
    return 2


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    try:
        rc = args.func(args)
    except (ValueError, TypeError, FileNotFoundError) as exc:
        print(f"seqcnn: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("seqcnn: interrupted", file=sys.stderr)
        return 130
    return int(rc or 0)


if __name__ == "__main__":
    sys.exit(main())
