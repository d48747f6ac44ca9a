"""benchmarks/kim_table.py on tiny generated corpora: single networks, ensembles, the table."""
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture()
def kim():
    spec = importlib.util.spec_from_file_location("kim_table", BENCH / "kim_table.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


POS = ["a fine warm film", "great fun and warm", "fine acting , great story", "warm and great"]
NEG = ["a dull cold film", "bad and boring", "dull acting , bad story", "cold and boring"]


def _write(path, pairs):
    path.write_text("".join(f"{lab} {text}\n" for lab, text in pairs), encoding="utf-8")


def _data_dir(tmp_path):
    text = tmp_path / "text"
    text.mkdir()
    rng = np.random.default_rng(0)
    pairs = [("1", POS[i % 4]) for i in range(40)] + [("0", NEG[i % 4]) for i in range(40)]
    rng.shuffle(pairs)
    _write(text / "rt-polarity.all", pairs)
    for split in ("train", "dev", "test"):
        _write(text / f"stsa.binary.{split}", pairs[:30])
    trec = [("DESC:manner", "How do you do it ?"), ("NUM:date", "When was it built ?"),
            ("HUM:ind", "Who wrote it ?")] * 12
    _write(text / "TREC.train.all", trec)
    _write(text / "TREC.test.all", trec[:9])
    return tmp_path


def test_single_and_ensemble_rows(kim, tmp_path, capsys):
    data = _data_dir(tmp_path)
    out1, out3 = tmp_path / "one.json", tmp_path / "three.json"
    common = ["--data-dir", str(data), "--datasets", "mr,trec", "--fold-ids", "0", "--epochs", "2",
              "--seed-ids", "1"]
    assert kim.main(common + ["--out", str(out1)]) == 0
    assert kim.main(common + ["--members", "3", "--out", str(out3)]) == 0
    one = json.loads(out1.read_text())["results"]
    three = json.loads(out3.read_text())["results"]
    assert [(r["dataset"], r["seed"], r["split"], r["members"]) for r in one] == [
        ("mr", 1, "fold0", 1), ("trec", 1, "given", 1)]
    for r in one:
        assert 0 <= r["acc"] <= 100 and 0 <= r["val_acc"] <= 100
    for r in three:
        assert r["members"] == 3 and len(r["member_accs"]) == 3 and len(r["member_val_accs"]) == 3
        assert len(r["best_epoch"]) == 3 and all(1 <= b <= 2 for b in r["best_epoch"])
        assert 0 <= r["acc"] <= 100 and 0 <= r["val_acc"] <= 100
    table = capsys.readouterr().out
    assert "| MR | CNN-rand, 3-net ensemble | 1 |" in table
    assert "| TREC | CNN-rand, 1 net | 3 |" in table  # the members count as single networks


def test_summary_pools_members_with_single_runs(kim):
    rows = [dict(dataset="trec", seed=1, split="given", members=1, acc=90.0, val_acc=91.0, seconds=10.0),
            dict(dataset="trec", seed=2, split="given", members=2, acc=92.0, val_acc=93.0, seconds=20.0,
                 member_accs=[88.0, 90.0], member_val_accs=[90.0, 92.0])]
    lines = kim.summary_rows(rows)
    assert lines[0].startswith("| TREC | CNN-rand, 1 net | 3 | 89.33 ± 1.15 | 91.00 |")
    assert lines[0].endswith("| 10 |")
    assert lines[1].startswith("| TREC | CNN-rand, 2-net ensemble | 1 | 92.00 | 93.00 |")
    assert lines[1].endswith("| 20 |")


def test_member_zero_is_not_counted_twice_beside_its_single_run(kim):
    """Member 0 of an ensemble is the single-network run of its seed: one network, one entry."""
    rows = [dict(dataset="mr", seed=0, split="fold0", members=1, acc=75.0, val_acc=76.0, seconds=10.0),
            dict(dataset="mr", seed=0, split="fold0", members=3, acc=78.0, val_acc=77.0, seconds=30.0,
                 member_accs=[75.0, 76.0, 77.0], member_val_accs=[76.0, 76.0, 76.0])]
    assert kim.summary_rows(rows)[0].startswith("| MR | CNN-rand, 1 net | 3 | 76.00 ± 1.00 | 76.00 |")


@pytest.mark.parametrize("bad", [["--members", "0"], ["--seed-ids", "a,b"], ["--seeds", "0"], ["--seed-ids", "-1"],
                                 ["--seed-ids", ","], ["--fold-ids", "x"], ["--fold-ids", "3,10"],
                                 ["--folds", "0"], ["--folds", "11"], ["--members", "two"],
                                 ["--bucket-pool", "0"], ["--bucket-pool", "x"]])
def test_bad_arguments_exit(kim, bad):
    with pytest.raises(SystemExit) as e:
        kim.parse_args(bad)
    assert e.value.code == 2


def test_missing_data_says_where(kim, tmp_path):
    with pytest.raises(SystemExit) as e:
        kim.main(["--data-dir", str(tmp_path), "--datasets", "trec"])
    assert "missing" in str(e.value.code)


def test_render_joins_halves_and_refuses_repeats_and_mixed_budgets(kim, tmp_path, capsys):
    def write(name, rows, epochs=25):
        path = tmp_path / name
        path.write_text(json.dumps({"args": {"epochs": epochs}, "results": rows}))
        return str(path)

    a = write("a.json", [dict(dataset="mr", seed=0, split="fold0", acc=76.0, val_acc=75.0, seconds=5.0, members=1)])
    b = write("b.json", [dict(dataset="mr", seed=0, split="fold1", acc=78.0, val_acc=77.0, seconds=7.0, members=1)])
    old = tmp_path / "old.json"  # files written before --members existed: no members / val_acc
    old.write_text(json.dumps({"command": "…", "results": [dict(dataset="mr", seed=0, split="fold2", acc=74.0,
                                                                       seconds=6.0, best_epoch=3)]}))
    both = tmp_path / "both.json"
    assert kim.main(["--render", a, b, str(old), "--out", str(both)]) == 0
    out = capsys.readouterr().out
    assert "| MR | CNN-rand, 1 net | 3 | 76.00 ± 2.00 | 76.00 |" in out
    assert len(json.loads(both.read_text())["results"]) == 3
    assert kim.main(["--render", a, a]) == 2
    assert "twice" in capsys.readouterr().err
    c = write("c.json", [dict(dataset="mr", seed=0, split="fold3", acc=70.0, seconds=1.0)], epochs=5)
    assert kim.main(["--render", a, c]) == 2
    assert "different --epochs" in capsys.readouterr().err
    d = tmp_path / "d.json"  # random batches (--bucket-pool 1) are another recipe: not pooled with a
    d.write_text(json.dumps({"args": {"epochs": 25, "bucket_pool": 1},
                             "results": [dict(dataset="mr", seed=0, split="fold4", acc=77.0, seconds=5.0)]}))
    assert kim.main(["--render", a, str(d)]) == 2
    assert "different --bucket-pool" in capsys.readouterr().err
    assert kim.main(["--render", str(d), "--out", str(tmp_path / "e.json")]) == 0
    assert "random batches" in capsys.readouterr().out
    assert json.loads((tmp_path / "e.json").read_text())["args"] == {"epochs": 25, "bucket_pool": 1,
                                                                     "dropout_scaling": "train"}
    f = tmp_path / "f.json"  # Kim's dropout form (the default since) is another recipe than the files
    f.write_text(json.dumps({"args": {"epochs": 25, "dropout_scaling": "test"},  # without the key
                             "results": [dict(dataset="mr", seed=0, split="fold5", acc=77.0, seconds=5.0)]}))
    assert kim.main(["--render", a, str(f)]) == 2
    assert "different --dropout-scaling" in capsys.readouterr().err
    assert kim.main(["--render", str(f)]) == 0
    assert "inverted dropout" not in capsys.readouterr().out
    assert kim.main(["--render", a]) == 0
    assert "inverted dropout" in capsys.readouterr().out
    (tmp_path / "junk.json").write_text("not json")
    assert kim.main(["--render", str(tmp_path / "junk.json")]) == 2
    assert "not a kim_table.py result file" in capsys.readouterr().err


def test_pad_floor_experiment_is_kims_padding_and_restores_the_model(monkeypatch):
    """benchmarks/kim_pad_floor.py: features = max(masked max-over-time, relu(b)), which is what
    Kim's padding to a longer length gives; the patch is undone after the run."""
    import torch

    from seqcnn.text.models import KimCNN

    sys.path.insert(0, str(BENCH))
    monkeypatch.setattr(sys, "path", sys.path)
    spec = importlib.util.spec_from_file_location("kim_pad_floor", BENCH / "kim_pad_floor.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    torch.manual_seed(0)
    model = KimCNN(vocab_size=12, num_classes=2, embedding_dim=6, num_filters=4, filter_sizes=(3, 4)).eval()
    with torch.no_grad():
        for conv in model.convs:
            conv.bias.uniform_(-1, 1)
        model.embedding.weight[2:5] = 1.0  # real tokens all ones; filter 0 answers them negatively,
        model.convs[0].weight[0] = -1.0    # so only an all-pad window (relu(b) = 0.5) can win it
        model.convs[0].bias[0] = 0.5
        ids = torch.tensor([[0, 0, 0, 2, 3, 4, 0, 0, 0]])  # as the pipeline pads: w_max - 1 zeros a side
        # Kim: the sentence padded on to a longer fixed length, every window scored, no mask.
        x = model.embedding(torch.cat([ids, torch.zeros(1, 12, dtype=torch.long)], dim=1)).transpose(1, 2)
        kim = torch.cat([torch.relu(conv(x)).amax(dim=2) for conv in model.convs], dim=1)
        assert torch.allclose(mod._kim_pad_floor_features(model, ids), kim, atol=1e-6)
        masked = model.forward_features(ids)
        assert kim[0, 0] == 0.5 and masked[0, 0] == 0.0  # the masked form differs exactly there
        assert (kim >= masked - 1e-6).all()  # a floor can only raise a feature
    original = KimCNN.forward_features
    calls = []
    monkeypatch.setattr(mod.kim_table, "main", lambda argv: calls.append(KimCNN.forward_features) or 0)
    assert mod.main([]) == 0
    assert calls == [mod._kim_pad_floor_features] and KimCNN.forward_features is original
