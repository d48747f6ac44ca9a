"""The README's engine examples run as printed (the other sections need ../shared/data)."""
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _engine_blocks():
    text = README.read_text(encoding="utf-8")
    engine = text.split("## Engine quickstart", 1)[1].split("\n## Text", 1)[0]
    return re.findall(r"```python\n(.*?)```", engine, flags=re.S)


def test_readme_has_install_and_test_commands():
    text = README.read_text(encoding="utf-8")
    assert 'pip install -e ".[dev]"' in text and "\npytest" in text


@pytest.mark.parametrize("index", range(3))
def test_engine_examples_run(index, capsys):
    blocks = _engine_blocks()
    assert len(blocks) == 3
    code = blocks[index]
    if index == 0:  # the shape lines that are meant to raise, shown with their error
        code = code.replace("conv_output_size(7, 3, stride=3, strict=True)", "pass  #")
    exec(compile(code, f"README engine block {index}", "exec"), {"__name__": "readme"})
