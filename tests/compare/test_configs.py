"""The benchmark configurations in configs/: each parses, names known data sets and models, and
every parameter override (also the recipes for models a config leaves out) passes the same
checks ``seqcnn compare`` runs before any cell."""
from pathlib import Path

import pytest

from seqcnn.compare import get_dataset, get_model
from seqcnn.compare.cli import _check_override, load_config

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = sorted((ROOT / "configs").glob("*.toml"))
DATA = ROOT.parent / "shared" / "data"


def test_the_benchmark_configs_exist():
    names = {p.stem for p in CONFIGS}
    assert {"kim_mr", "kim_trec", "kim_sst2", "kim_report", "ucr", "baselines_text"} <= names


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_config_parses_and_every_override_is_valid(path):
    kw = load_config(path)
    datasets = [get_dataset(d) for d in kw["datasets"]]
    for m in kw["models"]:
        assert get_model(m).availability() == (True, "")
    recipes = sorted({k.partition("@")[0] for k in kw["overrides"]} | set(kw["models"]))
    seen = {}
    for key, params in kw["overrides"].items():
        for param, value in params.items():
            name = _check_override(f"[models.{key}] {param}", key, param, value, recipes,
                                   [d.name for d in datasets], seen)
            seen.setdefault(name, {})[param] = value
    assert Path(kw["out_dir"]).parent == ROOT / "benchmarks" / "results"
    assert Path(kw["data_dir"]) == ROOT.parent / "shared" / "data"


def test_kim_configs_keep_kims_protocols():
    trec, sst2, mr = (load_config(ROOT / "configs" / f"kim_{n}.toml") for n in ("trec", "sst2", "mr"))
    assert trec["seeds"] == 10 and trec["overrides"]["textcnn-rand"] == {"lowercase": False}
    assert trec["overrides"]["textcnn-ensemble"]["estimator__lowercase"] is False
    assert sst2["dev"] == "validation" and sst2["seeds"] == 10
    assert (mr["cv"], mr["seed"]) == (10, 0) and get_dataset("MR").protocol == "kfold"


@pytest.mark.skipif(not (DATA / "signals" / "GunPoint_TRAIN.ts").exists(), reason="UCR data not present")
def test_ucr_config_batch_sizes_follow_the_authors_code():
    """min(N_train // 10, 16) for FCN and ResNet (dl-4-tsc), 64 for InceptionTime."""
    kw = load_config(ROOT / "configs" / "ucr.toml")
    for name in kw["datasets"]:
        data = get_dataset(name).load(DATA)
        n_train = int((data.part == "train").sum())
        for model in ("fcn", "resnet1d"):
            assert kw["overrides"][f"{model}@{name}"]["batch_size"] == max(2, min(n_train // 10, 16)), (model, name)
    assert kw["overrides"]["inception"]["batch_size"] == kw["overrides"]["inceptiontime"]["batch_size"] == 64
    assert all(kw["overrides"][m]["validation_fraction"] == 0.0 for m in ("fcn", "resnet1d", "inception"))
