"""Every ```python block of README.md and docs/**/*.md runs, in order, one namespace per file.

Blocks holding ``>>>`` are doctests instead (pytest's ``--doctest-glob`` runs README.md's).
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def python_blocks(page: Path) -> list[str]:
    return [block for block in BLOCK.findall(page.read_text()) if ">>>" not in block]


def test_pages_are_found():
    names = {page.relative_to(ROOT).as_posix() for page in PAGES}
    assert {"README.md", "docs/design.md", "docs/guide/getting-started.md"} <= names


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(ROOT).as_posix())
def test_page_examples_run(page):
    namespace = {"__name__": f"docs:{page.name}"}
    for index, block in enumerate(python_blocks(page)):  # later blocks use earlier names
        exec(compile(block, f"{page.relative_to(ROOT)} python block {index}", "exec"), namespace)


def test_ci_runs_the_readme_test_command():
    """.ci/run runs the README's test command verbatim, so the README's set-up is what CI checks."""
    readme = (ROOT / "README.md").read_text()
    command = next(line for line in readme.splitlines()
                   if line.startswith("python3 -m pip install") and "pytest" in line)
    assert command in (ROOT / ".ci" / "run").read_text().splitlines()
