"""numpy functions on stochastic triples (``__array_function__``), on logical axes only.

Structural functions (indexing, reshape, stack) move value, dual part and perturbation
together; reductions are repeated applications of the binary rules, so they reconcile
perturbations exactly as the operators do; ``where``, ``take``, ``clip`` and ``round`` are rows
or compositions of rows of the rule table.
"""

from __future__ import annotations

import numpy as np

from . import rules
from .propagation import apply, lift, run_of
from .triple import StochasticTriple


def _restructure(x: StochasticTriple, index) -> StochasticTriple:
    """Apply ``index`` (a function of a lanes-first array) to every field of ``x``."""
    delta = None if x.delta is None else index(x.delta)
    pert = None if x.perturbation is None else x.perturbation.map(index)
    return StochasticTriple(index(x.value), delta, pert, run=x.run)


def _lane_key(key) -> tuple:
    key = key if isinstance(key, tuple) else (key,)
    for k in key:
        if isinstance(k, StochasticTriple):
            raise TypeError(
                "indexing a triple with a triple is not supported here; to index a constant "
                "table with a random index use np.take(table, idx)"
            )
    return (slice(None),) + key


def getitem(x: StochasticTriple, key) -> StochasticTriple:
    """``x[key]`` on the logical axes."""
    lane_key = _lane_key(key)
    return _restructure(x, lambda a: a[lane_key])


def reshape(x: StochasticTriple, shape, order="C") -> StochasticTriple:
    shape = (shape,) if np.isscalar(shape) else tuple(shape)
    return _restructure(x, lambda a: a.reshape(a.shape[:1] + shape, order=order))


def transpose(x: StochasticTriple, axes=None) -> StochasticTriple:
    axes = tuple(range(x.ndim))[::-1] if axes is None else tuple(axes)
    full = (0,) + tuple(int(a) % x.ndim + 1 for a in axes)
    return _restructure(x, lambda a: np.transpose(a, full))


def _normalize_axis(axis, ndim):
    if axis is None:
        return None
    axes = (axis,) if np.isscalar(axis) else tuple(axis)
    return tuple(sorted(int(a) % ndim if ndim else 0 for a in axes))


def reduce(ufunc, x, axis=None, keepdims=False):
    """``ufunc.reduce`` over logical axes, as a chain of binary rule applications."""
    if not isinstance(x, StochasticTriple):
        return ufunc.reduce(np.asarray(x), axis=axis, keepdims=keepdims)
    shape = x.shape
    axes = _normalize_axis(axis, x.ndim)
    if axes is None:
        axes = tuple(range(x.ndim))
    out = x
    for ax in reversed(axes):
        n = out.shape[ax]
        if n == 0:
            raise ValueError(f"{ufunc.__name__} over an empty axis of a stochastic triple")
        before = (slice(None),) * ax
        acc = out[before + (0,)]
        for i in range(1, n):
            acc = ufunc(acc, out[before + (i,)])
        out = acc
    if keepdims:
        kept = tuple(1 if i in axes else s for i, s in enumerate(shape))
        out = reshape(out, kept)
    return out


def _sum(a, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
    _no_out(out, "sum")
    return reduce(np.add, a, axis, keepdims)


def _prod(a, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
    _no_out(out, "prod")
    return reduce(np.multiply, a, axis, keepdims)


def _max(a, axis=None, out=None, keepdims=False, **kwargs):
    _no_out(out, "max")
    return reduce(np.maximum, a, axis, keepdims)


def _min(a, axis=None, out=None, keepdims=False, **kwargs):
    _no_out(out, "min")
    return reduce(np.minimum, a, axis, keepdims)


def _mean(a, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
    _no_out(out, "mean")
    shape = a.shape if isinstance(a, StochasticTriple) else np.shape(a)
    axes = _normalize_axis(axis, len(shape))
    count = int(np.prod([shape[i] for i in (range(len(shape)) if axes is None else axes)]))
    return reduce(np.add, a, axis, keepdims) / count


def _no_out(out, name):
    if out is not None:
        raise TypeError(f"np.{name}(..., out=) is not supported on stochastic triples")


def constant_triple(run, value) -> StochasticTriple:
    """A plain array as a triple of ``run`` (same value in every lane, nothing else)."""
    value = np.asarray(value)
    return StochasticTriple(np.broadcast_to(value, (run.n_lanes,) + value.shape), run=run)


def stack(arrays, axis=0, out=None, **kwargs):
    """``np.stack`` of triples and plain arrays along a new logical axis."""
    _no_out(out, "stack")
    arrays = list(arrays)
    run = run_of(arrays)
    if run is None:
        return np.stack(arrays, axis=axis)
    shape = np.broadcast_shapes(*(np.shape(a) if not isinstance(a, StochasticTriple)
                                  else a.shape for a in arrays))
    items = [_broadcast(a if isinstance(a, StochasticTriple) else constant_triple(run, a), shape)
             for a in arrays]
    axis = int(axis) % (len(shape) + 1) + 1
    value = np.stack([a.value for a in items], axis=axis)
    if all(a.delta is None for a in items):
        delta = None
    else:
        zeros = np.zeros(value.shape[:axis] + value.shape[axis + 1:])
        delta = np.stack([zeros if a.delta is None else a.delta for a in items], axis=axis)
    pert = run.backend.stack(run, [a.perturbation for a in items], value.shape, axis)
    return StochasticTriple(value, delta, pert, run=run)


def _broadcast(x: StochasticTriple, shape) -> StochasticTriple:
    """``x`` broadcast to logical ``shape`` (lanes untouched)."""
    full = (x.n_lanes,) + tuple(shape)
    return _restructure(x, lambda a: np.broadcast_to(lift(a, len(shape)), full))


def where(condition, x, y):
    """``np.where(condition, x, y)`` following both branches exactly (see :func:`stochad.where`)."""
    return apply(rules.WHERE, condition, x, y)


def take(a, indices, axis=None, out=None, mode="raise"):
    """``table[idx]`` for a random index: ``sad.take([3.5, 5.2, 8.4], sad.categorical(probs))``.

    The alternative path looks up the table at the perturbed index, exactly. numpy's own
    ``np.take`` dispatches on the table only, so a triple index must go through this function
    (a triple table indexed by plain indices works with ``np.take`` and ``x[...]``).

    Examples
    --------
    >>> import stochad as sad
    >>> f = lambda p: sad.take([3.5, 5.2, 8.4], sad.categorical([p / 2, p / 2, 1 - p]))
    >>> round(sad.derivative_estimate(f, 0.4, n_samples=100_000, rng=0), 1)
    -4.0
    """
    _no_out(out, "take")
    if isinstance(a, StochasticTriple):
        if isinstance(indices, StochasticTriple):
            raise TypeError(
                "take with both a stochastic table and a stochastic index is not supported; "
                "the table must be a plain array"
            )
        index = np.asarray(indices)
        if axis is None:
            return getitem(reshape(a, (-1,)), index)
        return _restructure(a, lambda x: np.take(x, index, axis=int(axis) % a.ndim + 1))
    table = np.asarray(a)
    if axis is None:
        table = table.reshape(-1)
    elif table.ndim != 1:
        raise TypeError("take with a stochastic index supports 1-D tables or axis=None")
    return apply(rules.take(table), indices)


def clip(a, a_min=None, a_max=None, out=None, **kwargs):
    _no_out(out, "clip")
    if a_min is not None:
        a = np.maximum(a, a_min)
    if a_max is not None:
        a = np.minimum(a, a_max)
    return a


def round_(a, decimals=0, out=None):
    _no_out(out, "round")
    return apply(rules.rounding(int(decimals)), a)


def _shape(a):
    return a.shape if isinstance(a, StochasticTriple) else np.shape(a)


def _ndim(a):
    return len(_shape(a))


def _size(a, axis=None):
    shape = _shape(a)
    return int(np.prod(shape)) if axis is None else shape[axis]


ARRAY_FUNCTIONS = {
    np.where: where,
    np.take: take,
    np.clip: clip,
    np.round: round_,
    np.around: round_,
    np.sum: _sum,
    np.prod: _prod,
    np.mean: _mean,
    np.max: _max,
    np.amax: _max,
    np.min: _min,
    np.amin: _min,
    np.stack: stack,
    np.reshape: lambda a, shape=None, order="C", **kw: reshape(a, shape, order),
    np.transpose: transpose,
    np.shape: _shape,
    np.ndim: _ndim,
    np.size: _size,
}
