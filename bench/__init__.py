"""stochad-bench: benchmark problems with exact derivatives, and the runner that compares the
stochastic-triple, score-function and finite-difference estimators on them (``stochad-bench``
or ``python -m bench``)."""
