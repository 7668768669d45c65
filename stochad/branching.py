"""Branches and black boxes: follow both paths of a perturbation exactly (docs/design.md §1)."""

from __future__ import annotations

import math

import numpy as np

from . import rules
from .kernels import NO_EVENT
from .lanes import jump_of, lift, shifted
from .propagation import apply
from .reductions import sum_
from .rules import Rule
from .triple import StochasticTriple, implements, logical_shape, run_of

__all__ = ["where", "propagate"]


@implements(np.where)
def where(condition, x, y):
    """``np.where(condition, x, y)`` following both branches exactly (see :func:`stochad.where`).

    Parameters
    ----------
    condition : bool array_like or StochasticTriple
        Where to take ``x``.
    x, y : array_like or StochasticTriple
        The two branches.

    Returns
    -------
    StochasticTriple or numpy.ndarray
        ``x`` where ``condition`` holds, else ``y``; a flipped condition switches branch exactly.
    """
    return apply(rules.WHERE, condition, x, y)


def propagate(f, *args, vectorized=True, elementwise=False):
    """Run a deterministic black-box ``f`` on the primal and on the alternative values.

    ``f`` is called on the primal values and once more on the alternative-path values, and the
    output's jump is the difference. ``f`` may use any Python or numpy code, and may mix the
    elements of a sample (``np.cumsum``, ``np.sort``, ``np.fft``, a reduction): the
    perturbations of all the arguments' elements are first reconciled to one per sample, as a
    sum reconciles them, so its alternative input is one coherent path. The arguments must
    carry no dual part (a black box has no chain rule): express smooth dependence on ``p``
    with numpy or stochad functions outside ``f``.

    Parameters
    ----------
    f : callable
        Deterministic function of plain arrays.
    *args : triples or array_like
        The arguments of ``f``.
    vectorized : bool
        ``True``: ``f`` is called with arrays that have a leading sample axis (numpy-style
        code). ``False``: ``f`` is called once per sample with that sample's values.
    elementwise : bool
        ``True`` promises that output element ``i`` depends on input element ``i`` only (and
        keeps the arguments' broadcast shape): then each element keeps its own perturbation,
        which is less noisy, and the exact backend can run ``f`` on vectors too.

    Returns
    -------
    StochasticTriple or object
        ``f``'s output on the primal values, with the jump to its output on the alternative values.

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
        if isinstance(a, StochasticTriple):
            a.note_use()
        if isinstance(a, StochasticTriple) and a.delta is not None and np.any(a.delta != 0):
            raise ValueError(
                f"propagate: argument {i} carries a dual part, which a black box cannot "
                "differentiate; compute the smooth part with numpy/stochad functions outside "
                "the black box, and pass only discrete (perturbed) values to it"
            )
    perturbed = [a for a in args if isinstance(a, StochasticTriple) and a.perturbation is not None]
    shape = np.broadcast_shapes(*(logical_shape(a) for a in args))
    if elementwise or not perturbed or math.prod(shape) <= 1:  # nothing to mix within a sample
        func = f if vectorized else _per_sample(f)
        return apply(Rule(func, (None,) * len(args), cast_alternatives=True), *args)
    if not run.backend.one_path_per_sample:
        raise ValueError(
            f"propagate: the {run.backend.name} backend follows each element's perturbations "
            "separately, so it runs only elementwise black boxes on vectors; pass "
            "elementwise=True if output element i depends on input element i only, or use "
            "the pruned backend"
        )
    return _coherent_black_box(run, f, args, perturbed, vectorized)


def _coherent_black_box(run, f, args, perturbed, vectorized):
    """``f`` on the primal values and on one alternative path per sample (pruned backend):
    the event that survives reconciling every element of the perturbed arguments."""
    reconciled = sum(sum_(a) for a in perturbed)  # prunes the other events away, per sample
    survivor = (reconciled.perturbation.event if reconciled.perturbation is not None
                else np.full(run.n_lanes, NO_EVENT))
    ndim = max(len(logical_shape(a)) for a in args)
    primal, alternative = [], []
    for a in args:
        if not isinstance(a, StochasticTriple):
            primal.append(np.asarray(a))
            alternative.append(primal[-1])
            continue
        moved = a.value
        if a.perturbation is not None:
            on_path = a.perturbation.event == survivor.reshape((-1,) + (1,) * a.ndim)
            moved = shifted(a.value, np.where(on_path, a.perturbation.jump, 0.0), cast=True)
        primal.append(lift(a.value, ndim) if vectorized else a.value)
        alternative.append(lift(moved, ndim) if vectorized else moved)
    triples = [isinstance(a, StochasticTriple) for a in args]

    def call(values):
        if vectorized:
            return np.asarray(f(*values))
        return np.stack([np.asarray(f(*(v[i] if t else v for v, t in zip(values, triples,
                                                                         strict=True))))
                         for i in range(run.n_lanes)])

    out = call(primal)
    with np.errstate(all="ignore"):
        jump = jump_of(call(alternative), out)
    event = np.broadcast_to(survivor.reshape((-1,) + (1,) * (out.ndim - 1)), out.shape)
    return StochasticTriple(out, None, run.backend.make(run, jump, event), run=run)


def _per_sample(f):
    def func(*values):
        shape = np.broadcast_shapes(*(np.shape(v) for v in values))
        lanes = [np.broadcast_to(v, shape) for v in values]
        return np.stack([np.asarray(f(*(v[i] for v in lanes))) for i in range(shape[0])])

    return func
