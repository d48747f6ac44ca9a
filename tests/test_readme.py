"""The README stays a front page, its links and the docs' links resolve, and the engine
examples (moved to docs/engine.md) run as printed. The other examples: tests/test_docs.py."""
import re
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
ENGINE = ROOT / "docs" / "engine.md"
PAGES = [README, ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]


def _engine_blocks():
    text = ENGINE.read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)[:3]


def test_readme_has_install_and_test_commands():
    text = README.read_text(encoding="utf-8")
    assert 'pip install -e ".[dev]"' in text and "\npytest" in text


def test_readme_is_a_front_page():
    size = len(README.read_bytes())
    assert size <= 15_000, f"README.md is {size:,} bytes; move detail to docs/ (limit 15,000)"
    text = README.read_text(encoding="utf-8")
    for heading in ("## Install", "## Test", "## Quickstart", "## Safety", "## Headline results"):
        assert heading in text
    for modality in ("### Text", "### Signals", "### Vision", "### Baselines", "### Compare"):
        assert modality in text, f"no quickstart {modality!r} in the README"


@pytest.mark.parametrize("index", range(3))
def test_engine_examples_run(index, capsys):
    blocks = _engine_blocks()
    assert len(blocks) == 3
    code = blocks[index]
    if index == 0:  # the shape lines that are meant to raise, shown with their error
        code = code.replace("conv_output_size(7, 3, stride=3, strict=True)", "pass  #")
    exec(compile(code, f"docs/engine.md block {index}", "exec"), {"__name__": "readme"})


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", lambda m: m.group(1) or "", heading.strip())
    text = "".join(ch for ch in text.lower()
                   if ch in " -_" or unicodedata.category(ch)[0] in "LN")
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    seen, out, fence = {}, set(), False
    for line in path.read_text(encoding="utf-8").split("\n"):
        if line.startswith("```"):
            fence = not fence
        m = None if fence else re.match(r"#{1,6} (.*)", line)
        if m:
            slug = _slug(m.group(1))
            n = seen.get(slug, 0)
            seen[slug] = n + 1
            out.add(slug if n == 0 else f"{slug}-{n}")
    return out


def _links(path: Path):
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if not re.match(r"[a-z]+:", target):  # http:, https:, mailto:
            yield target


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_relative_links_resolve(page):
    broken = []
    for target in _links(page):
        file, _, anchor = target.partition("#")
        dest = (page.parent / file).resolve() if file else page
        if not dest.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
            broken.append(f"{target} (no heading with that anchor in {dest.name})")
    assert not broken, f"{page.relative_to(ROOT)}: broken links: {broken}"


def test_slug_matches_github():
    assert _slug("Text: Kim's CNN-rand, accuracy and speed") == "text-kims-cnn-rand-accuracy-and-speed"
    assert _slug("Signals: UCR/UEA (measured 2026-11-23 and 2026-11-24)") == \
        "signals-ucruea-measured-2026-11-23-and-2026-11-24"
    assert _slug("Engine layers (`seqcnn.engine.layers`)") == "engine-layers-seqcnnenginelayers"
