"""Indexing triples: ``x[key]`` on logical axes, and random indexing -- ``table[idx]`` with a
triple ``idx`` -- which is a row of the rule table: :func:`stochad.rules.take` for a plain table,
:func:`stochad.rules.choose` for a table of triples. Either way
:func:`stochad.propagation.apply` evaluates the alternative path at the perturbed index (with
the table's alternative values) and the backend reconciles the events.
"""

from __future__ import annotations

import numpy as np

from . import rules
from .elementwise import no_out
from .propagation import apply
from .shape import normalize_axis, reshape, reshape_any, restructure, stack, transpose
from .triple import StochasticTriple, holds_triple, implements, logical_shape


def _has_triple(key) -> bool:
    key = key if isinstance(key, tuple) else (key,)
    return any(isinstance(k, StochasticTriple) for k in key)


@implements("getitem")
def getitem(x: StochasticTriple, key) -> StochasticTriple:
    """``x[key]`` on the logical axes; a key holding triples is a random index."""
    if _has_triple(key):
        return random_index(x, key)
    key = key if isinstance(key, tuple) else (key,)
    axis = _one_index_array(key)
    if axis is not None:  # x[:, idx]: np.take is several times faster than fancy indexing
        return restructure(x, lambda a: np.take(a, key[axis], axis=axis + 1))
    lane = _lane_axis_after(key)
    if lane:
        return restructure(x, lambda a: np.moveaxis(a[(slice(None),) + key], lane, 0))
    return restructure(x, lambda a: a[(slice(None),) + key])


def _lane_axis_after(key: tuple) -> int:
    """Where indexing a lanes-first array with ``(:, *key)`` leaves the lane axis.

    0, unless the key's advanced indices (arrays, and integers beside them) are separated by a
    slice, ``...`` or ``None``: numpy then puts their broadcast dimensions first, before the
    lane axis.
    """
    def advanced(k):
        return not (k is None or k is Ellipsis or isinstance(k, slice))

    places = [i for i, k in enumerate(key) if advanced(k)]
    if not any(np.ndim(key[i]) for i in places) or places[-1] - places[0] == len(places) - 1:
        return 0  # basic indexing, or advanced indices side by side: dimensions stay in place
    return max(1 if np.asarray(key[i]).dtype == bool else np.ndim(key[i]) for i in places)


def _one_index_array(key: tuple):
    """The position of the key's only entry if it is a 1-d integer array and every other entry
    is a full slice ``:``, else ``None``."""
    full = slice(None)
    arrays = [i for i, k in enumerate(key) if not (isinstance(k, slice) and k == full)]
    if len(arrays) != 1:
        return None
    k = key[arrays[0]]
    return arrays[0] if isinstance(k, np.ndarray) and k.ndim == 1 and k.dtype.kind in "iu" \
        else None


@implements(np.take)
def take(a, indices, axis=None, out=None, mode="raise"):
    """``np.take(a, indices, axis)`` where the table, the index or both may be triples.

    With a triple index this is ``table[idx]`` at a random index: the alternative path looks
    the table up at the perturbed index, exactly (and, for a table of triples, at the table's
    alternative values). numpy's own ``np.take`` dispatches on the table only, so a *plain*
    table with a triple index must go through this function (or :func:`asarray`).

    Parameters
    ----------
    a : array_like or StochasticTriple
        The table.
    indices : int, array_like or StochasticTriple
        Integer indices (negative ones count from the end, as in numpy).
    axis : int, optional
        Axis of ``a`` to index; ``None`` indexes the flattened table.
    out : None
        Not supported (a triple cannot be written into an array); must be ``None``.
    mode : {"raise", "wrap", "clip"}
        Out-of-range indices, as in numpy (``"raise"`` checks the alternative paths too).

    Returns
    -------
    StochasticTriple or numpy.ndarray
        The entries of the table at the indices.

    Examples
    --------
    >>> import stochad as sad
    >>> f = lambda p: sad.take([3.5, 5.2, 8.4], sad.categorical([p / 2, p / 2, 1 - p]))
    >>> est = sad.derivative_estimate(f, 0.4, n_samples=100_000, rng=0)
    >>> abs(est + 4.05) < 0.15                              # exact: -4.05
    True
    """
    no_out(out, "take")
    if isinstance(a, StochasticTriple):
        a.note_use()
    if not isinstance(indices, StochasticTriple):
        if not isinstance(a, StochasticTriple):
            return np.take(a, indices, axis=axis, mode=mode)
        index = np.asarray(indices)
        if axis is None:
            a, axis = reshape(a, (-1,)), 0
        return restructure(a, lambda x: np.take(x, index, axis=normalize_axis(axis, a.ndim) + 1,
                                                 mode=mode))
    table = a if isinstance(a, StochasticTriple) else np.asarray(a)
    if axis is None:
        table, axis = reshape_any(table, (-1,)), 0
    shape = logical_shape(table)
    if not shape:
        raise ValueError("take: cannot index a 0-d table")
    axis = normalize_axis(axis, len(shape))
    size = shape[axis]
    if mode == "wrap":
        indices = indices % size
    elif mode == "clip":
        indices = np.clip(indices, 0, size - 1)
    elif mode != "raise":
        raise ValueError(f"take: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")
    if axis == 0:
        return _take_rows(table, indices)
    moved = (transpose(table, (axis,) + tuple(i for i in range(len(shape)) if i != axis))
             if isinstance(table, StochasticTriple) else np.moveaxis(table, axis, 0))
    out = _take_rows(moved, indices)
    s, r = indices.ndim, len(shape) - 1   # out axes: index axes, then the table's other axes
    return transpose(out, tuple(range(s, s + axis)) + tuple(range(s))
                     + tuple(range(s + axis, s + r)))


def _take_rows(table, idx: StochasticTriple):
    """``table[idx]`` along the first axis for a triple ``idx`` (shape ``idx.shape +
    table.shape[1:]``): one row of the rule table, evaluated by ``apply``."""
    if not (np.issubdtype(idx.dtype, np.integer)):
        raise TypeError(
            f"a stochastic index must have an integer dtype, got {idx.dtype}; a random boolean "
            "mask selects a random number of elements: use np.where(mask, x, 0) "
            "(stochad.where) instead"
        )
    shape = logical_shape(table)
    trailing = len(shape) - 1
    lifted = reshape(idx, idx.shape + (1,) * trailing)
    if not isinstance(table, StochasticTriple):
        return apply(rules.take(table, trailing), lifted)
    if shape[0] == 0:
        raise IndexError("index into an empty axis 0 of a stochastic triple")
    return apply(rules.choose(shape[0]), lifted, *(table[j] for j in range(shape[0])))


def _is_index(k) -> bool:
    if isinstance(k, StochasticTriple):
        return True
    if k is None or k is Ellipsis or isinstance(k, slice):
        return False
    return np.asarray(k).dtype.kind in "iu"


def random_index(table, key):
    """``table[key]`` where ``key`` holds triples: ``table[idx]``, ``table[i, j]`` (integer
    indices, plain or random, for the leading axes) or ``table[:, idx]`` (one random index,
    full slices elsewhere). ``table`` may be a plain array or a triple."""
    key = key if isinstance(key, tuple) else (key,)
    shape = logical_shape(table)
    for k in key:
        if isinstance(k, StochasticTriple) and k.dtype == bool:
            raise TypeError(
                "indexing with a random boolean mask selects a random number of elements; "
                "use np.where(mask, x, 0) (stochad.where) to keep the shape fixed"
            )
    if len(key) > len(shape):
        raise IndexError(f"too many indices ({len(key)}) for a table of shape {shape}")
    if all(_is_index(k) for k in key):
        if len(key) == 1:
            return _take_rows(table, key[0])
        dims = shape[: len(key)]
        flat = apply(rules.ravel_index(dims), *key)
        return _take_rows(reshape_any(table, (int(np.prod(dims)),) + shape[len(key):]), flat)
    randoms = [i for i, k in enumerate(key) if isinstance(k, StochasticTriple)]
    if len(randoms) == 1 and all(
        isinstance(k, slice) and k == slice(None) for i, k in enumerate(key) if i != randoms[0]
    ):
        return take(table, key[randoms[0]], axis=randoms[0])
    raise TypeError(
        "supported random indexing: table[idx], table[i, j] (integer indices for the leading "
        "axes, any of them random) and table[:, idx] (one random index, full slices "
        "elsewhere); for other forms use stochad.take(table, idx, axis=...) step by step"
    )


class LookupArray(np.ndarray):
    """A numpy array that can also be indexed by stochastic triples (see :func:`asarray`).

    Everything else is plain numpy; ``np.asarray(table)`` gives the ordinary array back.
    """

    def __getitem__(self, key):
        if _has_triple(key):
            return random_index(self.view(np.ndarray), key)
        return super().__getitem__(key)

    def __array_function__(self, func, types, args, kwargs):
        indices = args[1] if len(args) > 1 else kwargs.get("indices")
        if func is np.take and isinstance(indices, StochasticTriple):
            return take(*args, **kwargs)   # np.take(sad.asarray(table), idx) works too
        return super().__array_function__(func, types, args, kwargs)


def asarray(a, dtype=None):
    """An array that a stochastic program can index with random indices: ``table[idx]``.

    numpy arrays and Python lists cannot be indexed by a stochastic triple (they would need a
    plain integer). ``sad.asarray(table)`` returns a :class:`LookupArray`, an ``ndarray``
    subclass whose indexing also accepts triples (it calls :func:`take`). A triple is returned
    as it is; a (nested) list holding triples is stacked into one triple.

    Parameters
    ----------
    a : array_like or StochasticTriple
        The table (a list holding triples is stacked into one triple).
    dtype : data-type, optional
        As in :func:`numpy.asarray`.

    Returns
    -------
    LookupArray or StochasticTriple
        An ndarray that random indices can index, or the triple itself.

    Examples
    --------
    >>> import stochad as sad
    >>> table = sad.asarray([3.5, 5.2, 8.4])
    >>> f = lambda p: table[sad.categorical([p / 2, p / 2, 1 - p])]
    >>> est = sad.derivative_estimate(f, 0.4, n_samples=100_000, rng=0)
    >>> abs(est + 4.05) < 0.15                              # exact: -4.05
    True
    >>> float(table[2])                                                        # plain numpy
    8.4
    """
    if isinstance(a, StochasticTriple):
        return a
    if isinstance(a, list | tuple) and holds_triple(a):
        return stack([asarray(x) if isinstance(x, list | tuple) else x for x in a])
    return np.asarray(a, dtype=dtype).view(LookupArray)
