"""stochad-bench: benchmark problems with exact derivatives, and the runner that compares the
stochastic-triple, score-function and finite-difference estimators on them (``stochad-bench``
or ``python -m stochad.bench``).

The source lives in the repository's top-level ``bench/`` folder and installs as the
subpackage ``stochad.bench`` (``package-dir`` in ``pyproject.toml``).
"""
