"""``seqcnn compare``: run a data sets × models grid and write the report.

    seqcnn compare --datasets MR,TREC --models textcnn-rand,mnb,nbsvm --data-dir ../shared/data --out reports/kim
    seqcnn compare --config grid.toml
    seqcnn compare --list

TOML layout (read with ``tomllib``; relative paths are relative to the TOML file)::

    [run]
    out = "reports/kim"
    cv = 10
    seed = 0                       # or seeds = [0, 1, 2] (or a count): every cell once per seed
    n_jobs = 1
    data_dir = "../shared/data"
    datasets = ["MR", "TREC", "mine"]
    models = ["textcnn-rand", "mnb", "nbsvm"]
    # dev = "validation"           # given dev splits pick the CNNs' epoch instead of joining train
    # backend = "dask"             # and scheduler = "tcp://host:8786": cells run on a Dask cluster

    [models.textcnn-rand]          # parameter overrides (set_params)
    max_epochs = 5

    [models."textcnn-rand@TREC"]   # overrides for one data set only
    lowercase = false

    [[datasets.custom]]
    name = "mine"
    path = "x.csv"
    text_column = "text"
    label_column = "label"
    protocol = "kfold"

    [references]                   # published figures, shown beside the results
    note = "Kim (2014), Table 2"
    [references.MR]
    CNN-rand = 76.1

Command-line options override the file.

Every override (``--set MODEL.PARAM=VALUE`` and ``[models.X]`` tables) is checked before any
cell runs: the model must be in this run, the parameter must exist, and the estimator's own
checks must accept the value. Exit status: 0 when every cell was recorded; 1 when some cells
failed (each listed on stderr as ``dataset × model × fold k: error``; the report is still
written and a rerun retries them); 2 for bad input (one line naming the flag or entry).
"""
from __future__ import annotations

import argparse
import ast
import os
import sys
import warnings
from pathlib import Path

__all__ = ["register", "load_config", "main"]

_RUN_KEYS = {"out", "cv", "seed", "seeds", "n_jobs", "data_dir", "datasets", "models", "resume", "alpha", "verbose",
             "cnn_device", "dev", "backend", "scheduler"}
_PASS_KEYS = ("cv", "seed", "seeds", "n_jobs", "resume", "alpha", "verbose", "cnn_device", "dev", "backend",
              "scheduler")


def _split_names(text):
    return [s.strip() for s in text.split(",") if s.strip()] if text else None


def _parse_value(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _read_toml(path: Path) -> dict:
    import tomllib

    if not path.is_file():
        raise FileNotFoundError(f"config file {str(path)!r} does not exist")
    try:
        cfg = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"config {str(path)!r} is not valid TOML: {exc}") from None
    unknown_top = set(cfg) - {"run", "datasets", "models", "references"}
    if unknown_top:
        raise ValueError(f"config {str(path)!r}: unknown top-level keys {sorted(unknown_top)} "
                         "(allowed: [run], datasets, models, references)")
    run = cfg.get("run", {})
    if not isinstance(run, dict):
        raise ValueError("config: [run] must be a table")
    bad = set(run) - _RUN_KEYS
    if bad:
        raise ValueError(f"config: unknown keys in [run]: {sorted(bad)} (allowed: {sorted(_RUN_KEYS)})")
    return cfg


def _config_datasets(cfg: dict, base: Path) -> list:
    """Data set names and custom specs: a list of names, or a table with ``custom`` (and ``use``)."""
    from .datasets import dataset_from_dict

    ds_cfg, custom, names = cfg.get("datasets"), [], cfg.get("run", {}).get("datasets")
    if isinstance(ds_cfg, list):
        names = names or ds_cfg
    elif isinstance(ds_cfg, dict):
        extra = set(ds_cfg) - {"custom", "use"}
        if extra:
            raise ValueError(f"config: unknown keys in [datasets]: {sorted(extra)} (allowed: custom, use)")
        custom = ds_cfg.get("custom", [])
        if isinstance(custom, dict):
            custom = [custom]
        names = names or ds_cfg.get("use")
    custom_specs = {c.get("name"): dataset_from_dict(c, base_dir=base) for c in custom}
    if names is None:
        names = list(custom_specs)
    return [custom_specs.get(n, n) if isinstance(n, str) else n for n in names]


def _config_models(cfg: dict) -> tuple[list, dict]:
    """(model names, overrides): a list of names, or a table of ``[models.NAME]`` overrides (and
    ``use``); ``[models."NAME@DATASET"]`` applies to one data set only."""
    m_cfg, m_names, overrides = cfg.get("models"), cfg.get("run", {}).get("models"), {}
    if isinstance(m_cfg, list):
        m_names = m_names or m_cfg
    elif isinstance(m_cfg, dict):
        m_names = m_names or m_cfg.get("use")
        for k, v in m_cfg.items():
            if k == "use":
                continue
            if not isinstance(v, dict):
                raise ValueError(f"config: [models.{k}] must be a table of parameter overrides, got {v!r}")
            overrides[k] = {p: (tuple(x) if isinstance(x, list) else x) for p, x in v.items()}
    if m_names is None:
        m_names = list(dict.fromkeys(k.partition("@")[0] for k in overrides))
    return list(m_names), overrides


def load_config(path) -> dict:
    """Read a TOML grid → keyword arguments of :func:`run_comparison` (``datasets``, ``models``,
    ``out_dir``, ``cv``, ``seed``, ``seeds``, ``n_jobs``, ``data_dir``, ``overrides``, ``dev``,
    ``backend``, ``scheduler``, ...)."""
    path = Path(path)
    cfg = _read_toml(path)
    base = path.resolve().parent
    run = cfg.get("run", {})
    out: dict = {"datasets": _config_datasets(cfg, base)}
    out["models"], out["overrides"] = _config_models(cfg)
    out.update({key: run[key] for key in _PASS_KEYS if key in run})
    if "references" in cfg:
        out["references"] = cfg["references"]
    for key, arg in (("out", "out_dir"), ("data_dir", "data_dir")):
        if key in run:
            p = Path(os.path.expanduser(run[key]))
            out[arg] = str(p if p.is_absolute() else Path(os.path.normpath(base / p)))
    return out


def _list(_args=None) -> int:
    from .datasets import BUILTIN_DATASETS
    from .models import BUILTIN_MODELS

    print("datasets:")
    for name, d in BUILTIN_DATASETS.items():
        print(f"  {name:18s} {d.modality:7s} {d.protocol:15s} {d.description}")
    print("models:")
    for name, m in BUILTIN_MODELS.items():
        ok, err = m.availability()
        status = "" if ok else f"  [unavailable: {err}]"
        print(f"  {name:18s} {'/'.join(m.modalities):13s} {m.kind:8s} {m.description}{status}")
    return 0


def _seeds_arg(text: str):
    """``--seeds 0,1,2`` (a list) or ``--seeds 10`` (a count: 0..9)."""
    values = [_parse_value(v) for v in text.split(",") if v.strip()]
    if not values or not all(isinstance(v, int) for v in values):
        raise ValueError(f"--seeds expects a count or a comma-separated list of ints, got {text!r}")
    return values[0] if len(values) == 1 and "," not in text else values


def _merged_kwargs(args) -> dict:
    """The config file's arguments with the command line's on top."""
    kw = load_config(args.config) if args.config else {"overrides": {}}
    if args.datasets:
        kw["datasets"] = _split_names(args.datasets)
    if args.models:
        kw["models"] = _split_names(args.models)
    # a file's overrides for known models this run leaves out are recipes for other runs, not errors
    from .models import get_model, list_models

    for k in kw.get("overrides", {}):
        try:
            get_model(k.partition("@")[0])
        except (ValueError, TypeError):
            raise ValueError(f"[models.{k}] in config {args.config}: unknown model {k.partition('@')[0]!r}; "
                             f"choose from {list_models()}") from None
    chosen = {m.lower() for m in kw.get("models") or [] if isinstance(m, str)}
    in_run = {(d if isinstance(d, str) else getattr(d, "name", "")).lower() for d in kw.get("datasets") or []}
    kw["overrides"] = {k: v for k, v in kw.get("overrides", {}).items() if k.partition("@")[0].lower() in chosen
                       and (not k.partition("@")[1] or k.partition("@")[2].lower() in in_run)}
    for name in ("cv", "seed", "n_jobs", "alpha", "cnn_device", "dev", "backend", "scheduler"):
        value = getattr(args, name)
        if value is not None:
            kw[name] = value
    if args.seeds is not None:
        kw["seeds"] = _seeds_arg(args.seeds)
    for flag, key, value in ((args.data_dir, "data_dir", args.data_dir), (args.out, "out_dir", args.out),
                             (args.no_resume, "resume", False), (args.quiet, "verbose", 0),
                             (args.report_only, "run_cells", False)):
        if flag:
            kw[key] = value
    for key, hint in (("datasets", "--datasets NAME,... or a config with datasets (see --list)"),
                      ("models", "--models NAME,... or a config with models (see --list)"),
                      ("out_dir", "--out DIR or [run] out in the config")):
        if not kw.get(key):
            raise ValueError(f"no {'output folder' if key == 'out_dir' else key}: give {hint}")
    return kw


def _checked_overrides(args, kw) -> dict:
    """Every ``[models.X]`` entry and ``--set`` checked before any cell runs."""
    sets = []
    for item in args.set or []:
        target, sep, value = item.partition("=")
        model, dot, param = target.partition(".")
        if not sep or not dot or not model or not param:
            raise ValueError(f"--set expects MODEL.PARAM=VALUE (or MODEL@DATASET.PARAM=VALUE), got {item!r}")
        sets.append((f"--set {item}", model, param, _parse_value(value)))
    where = f"config {args.config}" if args.config else "config"
    checks = [(f"[models.{m}] {p} = {v!r} in {where}", m, p, v) for m, ps in kw["overrides"].items()
              for p, v in ps.items()] + sets
    overrides = {}
    for label, model, param, value in checks:
        name = _check_override(label, model, param, value, kw["models"], kw["datasets"], overrides)
        overrides.setdefault(name, {})[param] = value
    return overrides


def _handler(args) -> int:
    if args.list:
        return _list()
    from .runner import run_comparison

    kw = _merged_kwargs(args)
    kw["overrides"] = _checked_overrides(args, kw)
    try:
        with warnings.catch_warnings():  # the failed cells are listed below, one line each
            warnings.filterwarnings("ignore", message=r"\d+ cell\(s\) failed", category=RuntimeWarning)
            rows = run_comparison(**kw)
    except (ValueError, TypeError) as exc:
        raise type(exc)(_flag_hints(str(exc))) from None
    out = Path(kw["out_dir"])
    print(f"{len(rows)} cell(s) in {out / 'results.csv'}; report: {out / 'report.md'}")
    failed = getattr(rows, "failed", [])
    if failed:
        print(f"seqcnn compare: {len(failed)} cell(s) failed (not recorded; tracebacks in "
              f"{out / 'errors.log'}; a rerun retries them):", file=sys.stderr)
        several = len({f.get("seed") for f in rows}) > 1 or kw.get("seeds") not in (None, 1)
        for f in failed:
            seed = f" × seed {f['seed']}" if several else ""
            print(f"  {f['dataset']} × {f['model']} × fold {f['fold']}{seed}: {f['error']}", file=sys.stderr)
        return 1
    return 0


# keyword spellings in library messages → the flags a command-line user types
_FLAG_HINTS = (("resume=False", "--no-resume"), ("out_dir", "--out"), ("cnn_device=", "--cnn-device "),
               ("n_jobs", "--n-jobs"), ("data_dir", "--data-dir"))


def _flag_hints(message: str) -> str:
    """A library error message with keyword-argument hints replaced by the flags of this command."""
    for keyword, flag in _FLAG_HINTS:
        message = message.replace(keyword, flag)
    return message


def _check_override(label, model, param, value, models, datasets, seen) -> str:
    """Validate one parameter override before any cell runs: the model exists and is in this
    run, the parameter exists, and the estimator's own checks accept the value (also together
    with the overrides already checked, ``seen``). Returns the model's canonical name;
    ``ValueError`` naming ``label`` (the ``--set`` or the config entry) otherwise."""
    from .datasets import get_dataset
    from .models import check_params, get_model, list_models

    model, at, only = model.partition("@")
    try:
        spec = get_model(model)
    except (ValueError, TypeError):
        raise ValueError(f"{label}: unknown model {model!r}; choose from {list_models()}") from None
    if at:
        datasets = _only_dataset(label, only, datasets)
    chosen = []
    for m in models:
        try:
            chosen.append(get_model(m).name)
        except (ValueError, TypeError):
            pass  # an unknown --models entry is reported by run_comparison with the choices
    if spec.name not in chosen:
        raise ValueError(f"{label}: model {spec.name!r} is not in this run (--models {','.join(map(str, models))})")
    modalities = []
    for d in datasets:
        try:
            modalities.append(get_dataset(d).modality)
        except (ValueError, TypeError, FileNotFoundError):
            pass
    modalities = sorted(set(modalities) & set(spec.modalities)) or list(spec.modalities)
    key = spec.name + (f"@{get_dataset(datasets[0]).name}" if at else "")
    params = {**seen.get(spec.name, {}), **seen.get(key, {}), param: value}
    for modality in modalities:
        try:
            est = spec.build(modality)
        except Exception as exc:  # the model itself cannot be built: run_comparison says so
            raise ValueError(f"model {spec.name!r} cannot be built: {type(exc).__name__}: {exc}") from None
        valid = sorted(est.get_params(deep=True)) if hasattr(est, "get_params") else []
        if param not in valid:
            raise ValueError(f"{label}: model {spec.name!r} has no parameter {param!r}; valid: {', '.join(valid)}")
        try:
            est.set_params(**params)
            check_params(est)
        except (ValueError, TypeError) as exc:
            msg = " ".join(str(exc).split())
            raise ValueError(f"{label}: {spec.name} rejects {param}={value!r}: {msg}") from None
    return key


def _only_dataset(label, name, datasets) -> list:
    """The one data set of this run that ``MODEL@DATASET`` names (case-insensitive)."""
    from .datasets import get_dataset

    for d in datasets:
        try:
            spec = get_dataset(d)
        except (ValueError, TypeError, FileNotFoundError):
            continue
        if spec.name.lower() == name.lower():
            return [spec]
    raise ValueError(f"{label}: data set {name!r} is not in this run")


def register(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "compare", help="CNNs against baselines on the same folds, with statistics",
        description="Run data sets × models × folds under one protocol and write results.csv, report.md, "
                    "report.json, cd_diagram.png, scores.png and tradeoff.png. Interrupted runs resume. "
                    "Exit status 1 when any cell failed (each one listed), 2 on bad input.")
    p.add_argument("--config", help="TOML file with [run], datasets and models (options below override it)")
    p.add_argument("--datasets", help="comma-separated data set names (see --list)")
    p.add_argument("--models", help="comma-separated model names (see --list)")
    p.add_argument("--data-dir", dest="data_dir", help="root of the built-in data sets (default ../shared/data)")
    p.add_argument("--out", help="output folder")
    p.add_argument("--cv", type=int, help="folds for k-fold data sets (default 10)")
    p.add_argument("--seed", type=int, help="seed of the folds and the estimators (default 0)")
    p.add_argument("--n-jobs", dest="n_jobs", type=int, help="cells in parallel (joblib; -1 = all cores)")
    p.add_argument("--alpha", type=float, help="significance level (default 0.05)")
    p.add_argument("--cnn-device", dest="cnn_device", metavar="DEVICE",
                   help="pin every CNN cell to this torch device, e.g. cuda:0 (baselines stay on the CPU)")
    p.add_argument("--seeds", metavar="N|S1,S2,...",
                   help="run every cell once per seed: a count (0..N-1) or a list (one seed S alone: 'S,'); k-fold "
                        "data sets are re-split with each seed (repeated CV)")
    p.add_argument("--dev", choices=("merge", "validation"),
                   help="given train/dev/test splits: merge dev into train (default), or pass it as validation "
                        "data to the models that take it (it picks their epoch)")
    p.add_argument("--backend", choices=("local", "dask"),
                   help="where cells run: here (default; joblib workers with --n-jobs) or on a Dask cluster")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="Dask scheduler address, e.g. tcp://host:8786 (with --backend dask; default: a local cluster)")
    p.add_argument("--set", action="append", metavar="MODEL[@DATASET].PARAM=VALUE",
                   help="parameter override, e.g. --set textcnn-rand.max_epochs=5 or --set fcn@GunPoint.batch_size=5 "
                        "(repeatable)")
    p.add_argument("--no-resume", action="store_true", help="start over (old results kept as .bak)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--report-only", dest="report_only", action="store_true",
                   help="run no cell; rewrite the report from the results already in --out")
    p.add_argument("--list", action="store_true", help="list data sets and models, then exit")
    p.set_defaults(func=_handler)
    return p


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="seqcnn")
    sub = parser.add_subparsers(dest="modality")
    register(sub)
    args = parser.parse_args(["compare", *(sys.argv[1:] if argv is None else argv)])
    return args.func(args)
