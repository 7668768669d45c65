"""Every example script runs to completion at small sizes (``STOCHAD_EXAMPLE_QUICK=1``)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.py"))


def test_there_are_examples():
    names = {path.name for path in EXAMPLES}
    assert {"random_walk.py", "game_of_life.py"} <= names


@pytest.mark.parametrize("path", EXAMPLES, ids=[path.stem for path in EXAMPLES])
def test_example_runs_quickly(path):
    env = dict(os.environ, STOCHAD_EXAMPLE_QUICK="1")
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                          env=env, timeout=120, cwd=path.parent.parent)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()
