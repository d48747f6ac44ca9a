"""The one command-line skeleton (seqcnn.cli_common), the one metrics printer and the one error
handler of ``seqcnn`` (seqcnn.cli.main)."""
import json
import warnings

import pytest

from seqcnn import cli
from seqcnn.cli_common import (apply_settings, check_file, check_labels, draw_safely, main_split, parse_settings,
                               prediction_record)
from seqcnn.engine.metrics import classification_metrics, format_metrics, plot_confusion_matrix


# ---------------------------------------------------------------------------- --set
@pytest.mark.parametrize("items, expected", [
    (["dropout=0.3"], {"dropout": 0.3}),
    (["optimizer=adam"], {"optimizer": "adam"}),
    (["filter_sizes=[3, 4]", "lr=null", "fused=false"], {"filter_sizes": [3, 4], "lr": None, "fused": False}),
    (["name=a=b"], {"name": "a=b"}),
    (["k=1", "k=2"], {"k": 2}),
    ([], {}),
])
def test_parse_settings_reads_json_then_strings(items, expected):
    assert parse_settings(items) == expected


@pytest.mark.parametrize("item", ["dropout", "=3", " =x"])
def test_parse_settings_refuses_items_without_a_key(item):
    with pytest.raises(ValueError, match="--set expects KEY=VALUE"):
        parse_settings([item])


def _text_clf():
    from seqcnn.text.estimator import TextCNNClassifier

    return TextCNNClassifier(num_filters=4, embedding_dim=8)


def test_apply_settings_sets_known_keys_and_lists_the_valid_ones_for_unknown():
    clf = apply_settings(_text_clf(), {"dropout": 0.25, "optimizer": "adam"})
    assert clf.dropout == 0.25 and clf.optimizer == "adam"
    with pytest.raises(ValueError) as err:
        apply_settings(_text_clf(), {"num_filter": 3, "dropout": 0.1})
    msg = str(err.value)
    assert "unknown key num_filter" in msg and "valid keys:" in msg and "num_filters" in msg


@pytest.mark.parametrize("settings, flags, words", [
    ({"num_filters": -1}, None, ["--set num_filters=-1", "num_filters must be"]),
    ({"dropout": 1.5}, None, ["--set dropout=1.5", "dropout must be in"]),
    ({}, {"max_epochs": "--epochs"}, ["--epochs", "max_epochs must be"]),
])
def test_apply_settings_checks_values_naming_the_flag(settings, flags, words):
    clf = _text_clf()
    if not settings:
        clf.set_params(max_epochs=0)
    with pytest.raises(ValueError) as err:
        apply_settings(clf, settings, flags=flags)
    assert all(w in str(err.value) for w in words), str(err.value)


def test_extra_keys_pass_and_are_listed():
    clf = apply_settings(_text_clf(), {"width": 0.5}, extra_keys=("width",))
    assert not hasattr(clf, "width")


# ---------------------------------------------------------------------------- checks
def test_check_labels_lists_unseen_labels_by_name():
    check_labels(["a", "b"], ["b", "a", "a"], flag="--test", path="t.txt")
    with pytest.raises(ValueError) as err:
        check_labels(["a", "b"], ["a", "$x$", "c", "c"], flag="--test", path="t.txt")
    msg = str(err.value)
    assert msg.startswith("--test t.txt: 2 labels never seen in --train") and "'$x$'" in msg and "'c'" in msg


def test_check_labels_handles_numpy_and_multi_label_rows():
    import numpy as np

    check_labels(np.array([1, 2]), np.array([2, 1]), flag="--dev", path="d")
    with pytest.raises(ValueError, match="'z'"):
        check_labels([["a", "b"], ["b"]], [["a", "z"]], flag="--dev", path="d")


def test_check_file_refuses_folders_and_missing_paths(tmp_path):
    (tmp_path / "v.txt").write_text("x")
    assert check_file(tmp_path / "v.txt", "--vectors").name == "v.txt"
    with pytest.raises(ValueError, match="--vectors .* is a folder"):
        check_file(tmp_path, "--vectors")
    with pytest.raises(FileNotFoundError, match="--vectors"):
        check_file(tmp_path / "nope", "--vectors")


# ---------------------------------------------------------------------------- metrics and pictures
def test_one_metrics_printer_for_every_modality():
    m = classification_metrics(["a", "b", "b"], ["a", "b", "a"], ["a", "b", "c"])
    text = format_metrics(m, "test")
    lines = text.splitlines()
    assert lines[0].startswith("test: accuracy 66.67 %") and "balanced accuracy" in lines[0]
    assert "macro-F1" in lines[0] and "(n = 3)" in lines[0] and "top-5" not in lines[0]
    assert lines[1].split() == ["label", "precision", "recall", "F1", "support"]
    assert [ln.split()[0] for ln in lines[2:]] == ["a", "b", "c"]
    m["top5_accuracy"] = 1.0
    assert "top-5 accuracy 100.00 %" in format_metrics(m)


@pytest.mark.parametrize("labels", [["$x$", "b"], ["$\\frac{", "50$ off"], ["a_b^c", "\\alpha"]])
def test_labels_are_drawn_literally(tmp_path, labels):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    seen = []
    real_savefig = matplotlib.figure.Figure.savefig

    def spy(fig, *a, **kw):
        seen.extend(t.get_text() for t in fig.findobj(matplotlib.text.Text)
                    if t.get_text() and not t.get_parse_math() and not t.get_usetex())
        return real_savefig(fig, *a, **kw)

    matplotlib.figure.Figure.savefig = spy
    try:
        out = plot_confusion_matrix([[1, 0], [0, 1]], labels, tmp_path / "cm.png", title="$t$ run")
    finally:
        matplotlib.figure.Figure.savefig = real_savefig
    assert out.read_bytes()[:4] == b"\x89PNG"
    assert set(labels) <= set(seen) and "$t$ run" in seen  # every string drawn as written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cm.png"]
    plt.close("all")


def test_draw_safely_turns_any_plotting_error_into_a_warning():
    def broken(*a, **k):
        raise RuntimeError("no display")

    with pytest.warns(UserWarning, match="cm.png was not drawn .*RuntimeError: no display"):
        assert draw_safely(broken, what="cm.png") is False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert draw_safely(lambda: None) is True


def test_main_split_prefers_test_then_dev_then_train():
    assert main_split({"train": 1, "dev": 2, "test": None})[0] == "dev"
    assert main_split({"train": 1, "test": 3})[0] == "test"
    assert main_split({"train": 1, "cv_pooled": 4, "dev": 2}, ("test", "cv_pooled", "dev", "train"))[0] == "cv_pooled"
    assert main_split({}) == (None, None)


def test_prediction_record_is_one_shape_with_json_labels():
    import numpy as np

    r = prediction_record("img.png", [0.2, 0.8], np.array([3, 7]), index=0)
    assert r == {"input": "img.png", "label": 7, "probabilities": {"3": 0.2, "7": 0.8}, "index": 0}
    json.dumps(r)


# ---------------------------------------------------------------------------- the one error handler
@pytest.mark.parametrize("exc, modality, expected", [
    (ValueError("bad\n  value"), "text", "bad value"),
    (KeyError("classes"), "text", "missing key 'classes'"),
    (PermissionError(13, "Permission denied", "/x/out"), "text", "/x/out: Permission denied"),
    (FileNotFoundError("input file 'a' does not exist"), "text", "input file 'a' does not exist"),
    (ValueError("X has NaN; pass missing='interpolate' to fill them"), "signal",
     "X has NaN; pass --missing interpolate to fill them"),
    (ValueError("images differ in size; pass size=(H, W) to resize them"), "vision",
     "images differ in size; pass --size HxW to resize them"),
    (ValueError("Use another out_dir, or resume=False to start over"), "compare",
     "Use another out_dir, or --no-resume to start over"),
    (ValueError("a text of 10^6 tokens; set max_len=512"), "text", "a text of 10^6 tokens; set --max-len 512"),
    (ValueError("--set max_len=0: max_len must be None or an int >= 1"), "text",
     "--set max_len=0: max_len must be None or an int >= 1"),
    (ValueError("needs 9 GB: lower batch_size (now 50) or max_len (now 1014) so"), "text",
     "needs 9 GB: lower --batch-size (now 50) or --max-len (now 1014) so"),
    (ValueError("t.txt: not valid UTF-8 at byte 3; read as Latin-1 (pass encoding=... to choose another)"), "text",
     "t.txt: not valid UTF-8 at byte 3; read as Latin-1 (save the file as UTF-8 if that is wrong)"),
    (ValueError("x.ts:3: NaN inside the series; pass missing='interpolate' to fill it, or missing='keep'"), "signal",
     "x.ts:3: NaN inside the series; pass --missing interpolate to fill it"),
    (ValueError("'r' already holds a seqcnn run folder; pass overwrite=True / --force to replace it"), "vision",
     "'r' already holds a seqcnn run folder; pass --force to replace it"),
])
def test_error_message_is_one_line_with_flag_hints(exc, modality, expected):
    assert cli.error_message(exc, modality) == expected


def _fake_modality(monkeypatch, func):
    import types

    mod = types.ModuleType("seqcnn_fake_cli")

    def register(sub):
        p = sub.add_parser("text")
        p.set_defaults(func=func)

    mod.register = register
    monkeypatch.setitem(cli._MODALITIES, "text", ("seqcnn_fake_cli", "fake"))
    monkeypatch.setitem(__import__("sys").modules, "seqcnn_fake_cli", mod)


@pytest.mark.parametrize("exc", [ValueError("v"), TypeError("t"), KeyError("k"), FileNotFoundError("f"),
                                 PermissionError(13, "Permission denied", "/p"), IsADirectoryError("d")])
def test_every_expected_error_is_one_stderr_line_and_exit_2(monkeypatch, capsys, exc):
    def boom(args):
        raise exc

    _fake_modality(monkeypatch, boom)
    monkeypatch.delenv("SEQCNN_DEBUG", raising=False)
    assert cli.main(["text"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("seqcnn: error: ") and err.count("\n") == 1 and "Traceback" not in err


def test_seqcnn_debug_reraises(monkeypatch):
    def boom(args):
        raise ValueError("v")

    _fake_modality(monkeypatch, boom)
    monkeypatch.setenv("SEQCNN_DEBUG", "1")
    with pytest.raises(ValueError):
        cli.main(["text"])


def test_unexpected_errors_are_not_hidden(monkeypatch):
    def boom(args):
        raise ZeroDivisionError("a bug")

    _fake_modality(monkeypatch, boom)
    with pytest.raises(ZeroDivisionError):
        cli.main(["text"])


def test_warnings_are_one_line(monkeypatch, capsys):
    def warn(args):
        warnings.warn("picture\nnot drawn", UserWarning)
        return 0

    _fake_modality(monkeypatch, warn)
    monkeypatch.delenv("SEQCNN_DEBUG", raising=False)
    assert cli.main(["text"]) == 0
    assert capsys.readouterr().err == "seqcnn: warning: picture not drawn\n"


def test_a_broken_modality_fails_loudly(monkeypatch):
    monkeypatch.setitem(cli._MODALITIES, "text", ("seqcnn_no_such_module_xyz", "missing"))
    with pytest.raises(ImportError):
        cli.main(["text", "train"])
