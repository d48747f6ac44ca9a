"""Package-level promises: import direction, no torchtext, the console script, the contract."""
import subprocess
import sys

import pytest


def _imported_after(statement):
    code = f"import sys; {statement}; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_engine_imports_nothing_above_it():
    mods = _imported_after("import seqcnn.engine")
    for forbidden in ("seqcnn.text", "seqcnn.signal", "seqcnn.compare", "vision", "baselines"):
        assert not any(m == forbidden or m.startswith(forbidden + ".") for m in mods), forbidden


def test_importing_seqcnn_is_lazy_and_never_imports_torchtext():
    mods = _imported_after("import seqcnn")
    assert "torchtext" not in mods and "seqcnn.text" not in mods and "vision" not in mods


def test_text_module_never_imports_vision_or_torchtext():
    mods = _imported_after("import seqcnn.text")
    assert "torchtext" not in mods
    assert not any(m == "vision" or m.startswith("vision.") for m in mods)


def test_unknown_top_level_name_is_an_attribute_error():
    import seqcnn

    with pytest.raises(AttributeError):
        seqcnn.NoSuchThing


def test_console_script_help_and_version():
    out = subprocess.run([sys.executable, "-m", "seqcnn", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and "seqcnn" in out.stdout
    out = subprocess.run([sys.executable, "-m", "seqcnn", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    for modality in ("text", "signal", "vision", "compare"):
        assert modality in out.stdout


def test_engine_contract_names_exist_with_documented_parameters():
    import inspect

    import seqcnn.engine as engine

    expected = {
        "conv_output_size": ["size", "kernel_size", "stride", "padding", "dilation", "strict"],
        "conv_params": ["in_channels", "out_channels", "kernel_size", "bias", "groups"],
        "summary": ["model", "input_size", "dtype"],
        "conv_as_matmul": ["x", "weight", "bias", "stride", "padding", "dilation"],
        "seed_everything": ["seed", "deterministic"],
    }
    for name, params in expected.items():
        have = inspect.signature(getattr(engine, name)).parameters
        assert all(p in have for p in params), name
