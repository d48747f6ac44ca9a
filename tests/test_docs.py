"""The documentation's examples run as printed, on tiny stand-in data.

* every ```python block of README.md and docs/*.md runs (data paths pointed at tiny fixtures,
  epochs cut to one), unless it carries a ``# needs: ...`` comment (pretrained vectors, …);
  a line commented ``# ValueError ...`` must raise it;
* every ``seqcnn ...`` command of the README's and the docs pages' Quickstart sections runs,
  in order per block, with ``--epochs 1`` (and two folds for ``seqcnn compare``), and exits 0.
"""
from __future__ import annotations

import io
import re
import shlex
import sys
from pathlib import Path

import pytest

from tests.docs_fixtures import make_fixtures, shrink, shrink_command

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _blocks(path: Path, lang: str, section: str | None = None):
    """(line number, code) of each ```lang block of ``path``; with ``section``, only the blocks
    under a heading containing that word, up to the next heading of the same or a higher level."""
    lines = path.read_text(encoding="utf-8").split("\n")
    out, inside, level, fence = [], section is None, 0, None
    for i, line in enumerate(lines):
        if fence is None and line.startswith("#"):
            h = len(line) - len(line.lstrip("#"))
            if section is not None and section.lower() in line.lower():
                inside, level = True, h
            elif section is not None and inside and h <= level:
                inside = False
        if line.startswith("```"):
            if fence is None and line.strip() == f"```{lang}" and inside:
                fence = (i + 1, [])
            elif fence is not None:
                out.append((fence[0], "\n".join(fence[1])))
                fence = None
            continue
        if fence is not None:
            fence[1].append(line)
    return out


def _expect_errors(code: str) -> str:
    """``stmt  # ValueError: ...`` → a check that ``stmt`` raises ValueError."""
    def repl(m):
        ind, stmt = m.group(1), m.group(2)
        return (f"{ind}try:\n{ind}    {stmt}\n{ind}except ValueError:\n{ind}    pass\n"
                f"{ind}else:\n{ind}    raise AssertionError({'expected ValueError: ' + stmt!r})")
    return re.sub(r"^([ \t]*)(\S.*?)\s+# ValueError.*$", repl, code, flags=re.M)


PY_BLOCKS = [(p, n, code) for p in PAGES for n, code in _blocks(p, "python")]
CLI_BLOCKS = [(p, n, code) for p in PAGES for n, code in _blocks(p, "bash", "quickstart")
              if re.search(r"^(echo .*\| *)?seqcnn ", code, flags=re.M)]


def _id(item):
    return f"{item[0].relative_to(ROOT)}:{item[1]}"


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(make_fixtures(tmp_path))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    return tmp_path


def test_blocks_found():
    assert len(PY_BLOCKS) >= 10 and len(CLI_BLOCKS) >= 5
    pages = {p.name for p, _, _ in CLI_BLOCKS}
    for page in ("README.md", "text.md", "signal-cnn.md", "vision.md", "baselines.md", "compare.md"):
        assert page in pages, f"no seqcnn command in the Quickstart of {page}"


@pytest.mark.parametrize("item", PY_BLOCKS, ids=[_id(b) for b in PY_BLOCKS])
def test_python_block_runs(item, workdir, capsys):
    path, line, code = item
    if re.search(r"#\s*needs:", code):
        pytest.skip(f"{_id(item)} needs data or long training (marked '# needs:')")
    code = _expect_errors(shrink(code))
    exec(compile(code, f"{_id(item)}", "exec"), {"__name__": "docs_example"})


def _commands(code: str):
    """The shell lines of a block that call seqcnn: (argv, stdin text or None)."""
    joined = re.sub(r"\\\n\s*", " ", code)
    for line in joined.split("\n"):
        line = line.strip()
        m = re.match(r"echo (.+?) \| *(seqcnn .*)$", line)
        if m:
            yield shlex.split(m.group(2), comments=True), shlex.split(m.group(1))[0] + "\n"
        elif line.startswith("seqcnn "):
            yield shlex.split(line, comments=True), None


@pytest.mark.parametrize("item", CLI_BLOCKS, ids=[_id(b) for b in CLI_BLOCKS])
def test_quickstart_commands_run(item, workdir, monkeypatch, capsys):
    from seqcnn.cli import main

    for argv, stdin in _commands(item[2]):
        argv = shrink_command(argv)
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode()), encoding="utf-8"))
        try:
            rc = main(argv[1:])
        except SystemExit as exc:  # argparse: an unknown flag or a bad value
            rc = exc.code
        out = capsys.readouterr()
        assert rc == 0, f"{_id(item)}: {' '.join(argv)} exited {rc}\n{out.err[-2000:]}"
