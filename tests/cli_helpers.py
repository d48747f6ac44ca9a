"""Helpers shared by the command-line tests of every modality."""
from __future__ import annotations

import os
from pathlib import Path

from seqcnn.cli import main


def run_cli(argv) -> int:
    """``seqcnn ARGV``'s exit status, argparse's ``SystemExit`` included."""
    try:
        return main(argv)
    except SystemExit as exc:  # argparse
        return exc.code


def snapshot(root) -> dict:
    """Every file under ``root``: relative path → bytes (to check a refused run touched nothing)."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(Path(root).rglob("*")) if p.is_file()}


def unwritable(d: Path) -> Path:
    """A path whose parent cannot be written: a folder without write permission, or (as root,
    who writes anywhere) a path under a file."""
    if os.geteuid() == 0:
        (d / "afile").write_text("x")
        return d / "afile" / "run"
    (d / "locked").mkdir()
    os.chmod(d / "locked", 0o500)
    return d / "locked" / "run"
