"""Source-checkout shim for :mod:`stochad.bench` (not installed: a wheel holds the real package).

The benchmark suite's code lives in the repository's top-level ``bench/`` folder and installs
as ``stochad.bench`` (setuptools ``package-dir``). In a checkout that is not installed, this
module points the package's search path at that folder, so ``python -m stochad.bench`` and
``import stochad.bench.runner`` work there too, and load the very same files.
"""

import pathlib

__path__ = [str(pathlib.Path(__file__).resolve().parents[2] / "bench")]
