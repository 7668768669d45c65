"""The relaxed straight-through estimator (``estimator="relaxed"``, or ``"relaxed:TAU"``).

The program runs once on the primal draws; each Bernoulli and categorical draw gets the dual
part of its Concrete / Gumbel-softmax relaxation at temperature ``τ`` (default 0.5;
:mod:`stochad.backends.relaxed`), and the chain rule carries it to the output. **Biased**: it
differentiates the relaxation, not the discrete program, so it is exact only when the output is
linear in each draw and the relaxation's mean slope matches (which it does not in general, even
then); smaller ``τ`` means less bias and more variance. It is here as the classical rival, so
that its bias can be seen next to its variance on the same program.

Examples
--------
``d/dp E[7·Bernoulli(p) − 3] = 7``; the straight-through estimate at ``τ = 0.5`` is off:

>>> import stochad as sad
>>> f = lambda p: 7 * sad.bernoulli(p) - 3
>>> est = sad.derivative_estimate(f, 0.3, n_samples=100_000, rng=0, estimator="relaxed")
>>> abs(est - 7) > 0.5
True
"""

from __future__ import annotations

import numpy as np

from .backends.relaxed import DEFAULT_TAU, RelaxedBackend
from .driver import contribution, run_once, split_runs
from .estimators import REGISTERED


def _make(option, compile=True):
    """The sampling function of ``estimator="relaxed:<option>"`` (``option``: τ, or empty;
    ``compile`` is ignored: the relaxed backend runs on the operator engine)."""
    try:
        tau = float(option) if option else DEFAULT_TAU
    except ValueError:
        tau = float("nan")
    if not 0 < tau < np.inf:
        raise ValueError(f"estimator='relaxed:TAU' needs a positive finite temperature TAU, "
                         f"got {option!r}")
    cls = RelaxedBackend.with_tau(tau)

    def samples(f, p, d, n_samples, generator, backend, vectorize):
        return split_runs(n_samples, vectorize, generator, lambda n: (
            run_once(f, p, d, cls(n), generator, contribution),))[0]

    return samples


REGISTERED["relaxed"] = _make
