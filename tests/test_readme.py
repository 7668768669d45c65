"""Every Python example in README.md runs, in order (the ``>>>`` ones are also doctested)."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_examples_run():
    blocks = [b for b in re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
              if ">>>" not in b]
    assert blocks
    namespace = {}
    for index, block in enumerate(blocks):  # later blocks may use names from earlier ones
        exec(compile(block, f"README.md python block {index}", "exec"), namespace)
