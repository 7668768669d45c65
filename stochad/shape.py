"""Structural numpy functions on triples, on logical axes only: reshape, transpose, stack,
concatenate, squeeze, ``expand_dims``, ``broadcast_to``, roll and the shape queries.

They move value, dual part and perturbation together (:func:`restructure`); the lane axis (axis
0 of every field) never moves.
"""

from __future__ import annotations

import numpy as np

try:
    from numpy.lib.array_utils import normalize_axis_index
except ImportError:  # numpy < 2
    from numpy.core.multiarray import normalize_axis_index

from .elementwise import cast_checked, no_out
from .lanes import lift
from .triple import StochasticTriple, implements, logical_shape, run_of

implements(np.shape)(logical_shape)


def restructure(x: StochasticTriple, index) -> StochasticTriple:
    """Apply ``index`` (a function of a lanes-first array) to every field of ``x``."""
    delta = None if x.delta is None else index(x.delta)
    pert = None if x.perturbation is None else x.perturbation.map(index)
    return StochasticTriple(index(x.value), delta, pert, run=x.run)


def normalize_axis(axis, ndim: int) -> int:
    """``axis`` in ``range(ndim)``, negative ones counted from the end; numpy's ``AxisError``
    (a ``ValueError`` and an ``IndexError``) if it is out of bounds, as numpy raises."""
    return normalize_axis_index(int(axis), ndim)


def normalize_axes(axis, ndim):
    if axis is None:
        return None
    axes = (axis,) if np.isscalar(axis) else tuple(axis)
    return tuple(sorted(normalize_axis(a, ndim) for a in axes))


@implements(np.ndim)
def _ndim(a):
    return len(logical_shape(a))


@implements(np.size)
def _size(a, axis=None):
    shape = logical_shape(a)
    return int(np.prod(shape)) if axis is None else shape[axis]


def reshape_any(x, shape):
    return reshape(x, shape) if isinstance(x, StochasticTriple) else np.reshape(x, shape)


@implements("reshape")
def reshape(x: StochasticTriple, shape, order="C") -> StochasticTriple:
    shape = (shape,) if np.isscalar(shape) else tuple(shape)
    return restructure(x, lambda a: a.reshape(a.shape[:1] + shape, order=order))


@implements(np.transpose)
@implements("transpose")
def transpose(x: StochasticTriple, axes=None) -> StochasticTriple:
    axes = tuple(range(x.ndim))[::-1] if axes is None else tuple(axes)
    full = (0,) + tuple(normalize_axis(a, x.ndim) + 1 for a in axes)
    return restructure(x, lambda a: np.transpose(a, full))


@implements(np.roll)
def roll(a, shift, axis=None):
    """``np.roll`` on the logical axes (a structural move)."""
    if axis is None:
        return reshape(roll(reshape(a, (-1,)), shift, 0), a.shape)
    axes = (axis,) if np.isscalar(axis) else tuple(axis)
    lane_axes = tuple(normalize_axis(ax, a.ndim) + 1 for ax in axes)
    return restructure(a, lambda x: np.roll(x, shift, axis=lane_axes))


def constant_triple(run, value) -> StochasticTriple:
    """A plain array as a triple of ``run`` (same value in every lane, nothing else)."""
    value = np.asarray(value)
    return StochasticTriple(np.broadcast_to(value, (run.n_lanes,) + value.shape), run=run)


@implements(np.stack)
def stack(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    """``np.stack`` of triples and plain arrays along a new logical axis."""
    no_out(out, "stack")
    arrays = list(arrays)
    run = run_of(arrays)
    if run is None:
        return np.stack(arrays, axis=axis, dtype=dtype, casting=casting)
    if dtype is not None:
        arrays = [cast_checked("stack", a, dtype, casting) for a in arrays]
    shape = np.broadcast_shapes(*(np.shape(a) if not isinstance(a, StochasticTriple)
                                  else a.shape for a in arrays))
    items = [_broadcast(a if isinstance(a, StochasticTriple) else constant_triple(run, a), shape)
             for a in arrays]
    axis = normalize_axis(axis, len(shape) + 1) + 1
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
    return restructure(x, lambda a: np.broadcast_to(lift(a, len(shape)), full))


@implements(np.squeeze)
def squeeze(a, axis=None):
    """``np.squeeze`` of the logical axes (never the lane axis, even with one lane)."""
    shape = a.shape
    axes = (tuple(i for i, n in enumerate(shape) if n == 1) if axis is None
            else normalize_axes(axis, len(shape)))
    if any(shape[i] != 1 for i in axes):
        raise ValueError("cannot select an axis to squeeze out which has size not equal to one")
    return reshape(a, tuple(n for i, n in enumerate(shape) if i not in axes))


@implements(np.expand_dims)
def expand_dims(a, axis):
    """``np.expand_dims`` on the logical axes."""
    return reshape(a, np.expand_dims(np.empty(a.shape, dtype=bool), axis).shape)


@implements(np.broadcast_to)
def broadcast_to(array, shape, subok=False):
    """``np.broadcast_to`` of a triple's logical shape (each lane keeps its own values)."""
    shape = (shape,) if np.isscalar(shape) else tuple(shape)
    np.broadcast_to(np.empty(array.shape, dtype=bool), shape)  # numpy's own shape check
    return _broadcast(array, shape)


@implements(np.broadcast_arrays)
def broadcast_arrays(*args, subok=False):
    """``np.broadcast_arrays`` of triples and plain arrays (scipy's ``rvs`` calls it on the
    parameters): each broadcast to the common logical shape.

    Examples
    --------
    >>> import numpy as np, stochad as sad
    >>> st = sad.stochastic_triple(lambda p: np.broadcast_arrays(p, np.zeros(3))[0], 2.0)
    >>> np.shape(st)
    (3,)
    """
    shape = np.broadcast_shapes(*(logical_shape(a) for a in args))
    return tuple(broadcast_to(a, shape) if isinstance(a, StochasticTriple)
                 else np.broadcast_to(a, shape, subok=subok) for a in args)


@implements(np.concatenate)
def concatenate(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    """``np.concatenate`` of triples and plain arrays: their slices along ``axis``, stacked.

    One Python operation per slice, so it suits short axes (a few hundred elements).
    """
    no_out(out, "concatenate")
    arrays = list(arrays)
    if run_of(arrays) is None:
        return np.concatenate(arrays, axis=axis, dtype=dtype, casting=casting)
    ndims = {_ndim(a) for a in arrays}
    if 0 in ndims or len(ndims) > 1:
        raise ValueError("concatenate: all the input arrays must have the same number of "
                         f"dimensions, at least 1; got {sorted(ndims)}")
    axis = normalize_axis(axis, ndims.pop())
    parts = [a[(slice(None),) * axis + (i,)] if isinstance(a, StochasticTriple)
             else np.take(a, i, axis=axis)
             for a in arrays for i in range(logical_shape(a)[axis])]
    return stack(parts, axis=axis, dtype=dtype, casting=casting)



@implements(np.reshape)
def _reshape_function(a, shape=None, order="C", **kwargs):
    return reshape(a, shape, order)
