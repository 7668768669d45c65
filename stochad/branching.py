"""Branches and black boxes: follow both paths of a perturbation exactly (DESIGN §1)."""

from __future__ import annotations

import numpy as np

from .arrayfuncs import where
from .propagation import apply, run_of
from .rules import Rule
from .triple import StochasticTriple

__all__ = ["where", "propagate"]


def propagate(f, *args, vectorized=True):
    """Run a deterministic black-box ``f`` on the primal and on the alternative values.

    The perturbations of ``args`` are reconciled (as for any operator), then ``f`` is called
    on the primal values and once more on the alternative-path values; the output's jump is
    the difference. ``f`` may use any Python or numpy code, but the arguments must carry no
    dual part (a black box has no chain rule): express smooth dependence on ``p`` with numpy
    or stochad functions outside ``f``.

    Parameters
    ----------
    f : callable
        Deterministic function of plain arrays.
    *args : triples or array_like
    vectorized : bool
        ``True``: ``f`` is called with arrays that have a leading sample axis (numpy-style
        code). ``False``: ``f`` is called once per sample with that sample's values.

    Examples
    --------
    >>> import stochad as sad
    >>> def f(p):
    ...     n = sad.poisson(p)
    ...     return sad.propagate(lambda k: 2 * k if k > 3 else k, n, vectorized=False)
    >>> samples = sad.derivative_samples(f, 3.0, n_samples=20_000, rng=1)
    >>> bool(abs(samples.mean() - 2.2489) < 0.05)   # exact: E[f(K + 1) - f(K)], K ~ Poisson(3)
    True
    """
    run = run_of(args)
    if run is None:
        return f(*args)
    for i, a in enumerate(args):
        if isinstance(a, StochasticTriple) and a.delta is not None and np.any(a.delta != 0):
            raise ValueError(
                f"propagate: argument {i} carries a dual part, which a black box cannot "
                "differentiate; compute the smooth part with numpy/stochad functions outside "
                "the black box, and pass only discrete (perturbed) values to it"
            )
    func = f if vectorized else _per_sample(f)
    return apply(Rule(func, (None,) * len(args), cast_alternatives=True), *args)


def _per_sample(f):
    def func(*values):
        shape = np.broadcast_shapes(*(np.shape(v) for v in values))
        lanes = [np.broadcast_to(v, shape) for v in values]
        return np.stack([np.asarray(f(*(v[i] for v in lanes))) for i in range(shape[0])])

    return func
