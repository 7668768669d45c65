"""numpy functions on stochastic triples (``__array_function__``), on logical axes only.

Structural functions (indexing, reshape, stack, roll) move value, dual part and perturbation
together; reductions (``sum``, ``prod``, ``cumsum``, ``dot``, ``@``, ...) are repeated
applications of the binary rules (sums under the pruned backend: the same rule in one kernel
pass), so they reconcile perturbations exactly as the operators do;
``where``, ``take``, ``clip`` and ``round`` are rows or compositions of rows of the rule table.

Random indexing -- ``table[idx]`` with a triple ``idx`` -- is a row of the rule table too:
:func:`stochad.rules.take` for a plain table, :func:`stochad.rules.choose` for a table of
triples. Either way :func:`stochad.propagation.apply` evaluates the alternative path at the
perturbed index (with the table's alternative values) and the backend reconciles the events.
"""

from __future__ import annotations

import numpy as np

try:
    from numpy.lib.array_utils import normalize_axis_index
except ImportError:  # numpy < 2
    from numpy.core.multiarray import normalize_axis_index

from . import rules
from .propagation import apply, lift, run_of
from .triple import StochasticTriple


def _restructure(x: StochasticTriple, index) -> StochasticTriple:
    """Apply ``index`` (a function of a lanes-first array) to every field of ``x``."""
    delta = None if x.delta is None else index(x.delta)
    pert = None if x.perturbation is None else x.perturbation.map(index)
    return StochasticTriple(index(x.value), delta, pert, run=x.run)


def _has_triple(key) -> bool:
    key = key if isinstance(key, tuple) else (key,)
    return any(isinstance(k, StochasticTriple) for k in key)


def getitem(x: StochasticTriple, key) -> StochasticTriple:
    """``x[key]`` on the logical axes; a key holding triples is a random index."""
    if _has_triple(key):
        return random_index(x, key)
    key = key if isinstance(key, tuple) else (key,)
    axis = _one_index_array(key)
    if axis is not None:  # x[:, idx]: np.take is several times faster than fancy indexing
        return _restructure(x, lambda a: np.take(a, key[axis], axis=axis + 1))
    lane = _lane_axis_after(key)
    if lane:
        return _restructure(x, lambda a: np.moveaxis(a[(slice(None),) + key], lane, 0))
    return _restructure(x, lambda a: a[(slice(None),) + key])


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


def reshape(x: StochasticTriple, shape, order="C") -> StochasticTriple:
    shape = (shape,) if np.isscalar(shape) else tuple(shape)
    return _restructure(x, lambda a: a.reshape(a.shape[:1] + shape, order=order))


def transpose(x: StochasticTriple, axes=None) -> StochasticTriple:
    axes = tuple(range(x.ndim))[::-1] if axes is None else tuple(axes)
    full = (0,) + tuple(_axis(a, x.ndim) + 1 for a in axes)
    return _restructure(x, lambda a: np.transpose(a, full))


def _axis(axis, ndim: int) -> int:
    """``axis`` in ``range(ndim)``, negative ones counted from the end; numpy's ``AxisError``
    (a ``ValueError`` and an ``IndexError``) if it is out of bounds, as numpy raises."""
    return normalize_axis_index(int(axis), ndim)


def _normalize_axis(axis, ndim):
    if axis is None:
        return None
    axes = (axis,) if np.isscalar(axis) else tuple(axis)
    return tuple(sorted(_axis(a, ndim) for a in axes))


def reduce(ufunc, x, axis=None, keepdims=False, dtype=None):
    """``ufunc.reduce`` over logical axes, as a chain of binary rule applications.

    Numeric sums go in one pass instead when the backend can
    (:meth:`PrunedBackend.sum_along`) or there is no perturbation: the same rule, without a
    Python loop over the axis. ``dtype`` as in numpy (see :func:`_reduction_input`).
    """
    if not isinstance(x, StochasticTriple):
        return ufunc.reduce(np.asarray(x), axis=axis, keepdims=keepdims, dtype=dtype)
    shape = x.shape
    axes = _normalize_axis(axis, x.ndim)
    if axes is None:
        axes = tuple(range(x.ndim))
    out = _reduction_input(ufunc, x, dtype)
    if ufunc is np.add and out.dtype != bool and (out.perturbation is None
                                                  or hasattr(out.run.backend, "sum_along")):
        out = _sum_triple(out, axes)
    else:
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


def _sum_triple(x: StochasticTriple, axes) -> StochasticTriple:
    """Sum of ``x`` over logical ``axes`` in one pass per field."""
    run = x.run
    lane_axes = tuple(a + 1 for a in axes)
    full = x.value.shape
    value = np.add.reduce(x.value, axis=lane_axes, dtype=x.dtype)
    delta = None if x.delta is None else np.add.reduce(np.broadcast_to(x.delta, full),
                                                       axis=lane_axes)
    pert = None if x.perturbation is None else run.backend.sum_along(run, x.perturbation, full,
                                                                      lane_axes)
    return StochasticTriple(value, delta, pert, run=run)


def _reduction_input(ufunc, x, dtype):
    """What numpy's sums and products (also cumulative) reduce: ``x`` cast to ``dtype`` if it is
    given; otherwise booleans and integers narrower than the platform's are promoted to its
    integer (``np.add(True, True)`` is ``True``, but ``np.sum`` of booleans counts them)."""
    if dtype is not None:
        return astype(x, dtype)
    if ufunc in (np.add, np.multiply) and isinstance(x, StochasticTriple):
        kind, size = x.dtype.kind, x.dtype.itemsize
        if kind == "b" or (kind == "i" and size < np.dtype(np.int_).itemsize):
            return astype(x, np.int_)
        if kind == "u" and size < np.dtype(np.uint).itemsize:
            return astype(x, np.uint)
    return x


def cumulative(ufunc, a, axis=None, dtype=None):
    """``np.cumsum``/``np.cumprod`` of a triple: running binary rule applications, stacked.

    Examples
    --------
    >>> import numpy as np, stochad as sad
    >>> st = sad.stochastic_triple(lambda p: np.cumsum(p * np.array([1.0, 2.0, 3.0])), 2.0)
    >>> sad.value(st).tolist(), sad.delta(st).tolist()
    ([2.0, 6.0, 12.0], [1.0, 3.0, 6.0])
    """
    if not isinstance(a, StochasticTriple):
        return ufunc.accumulate(np.asarray(a).reshape(-1) if axis is None else np.asarray(a),
                                axis=0 if axis is None else axis, dtype=dtype)
    if axis is None:
        a, axis = reshape(a, (-1,)), 0
    if a.ndim == 0:
        raise ValueError(f"axis {axis} is out of bounds for a 0-d stochastic triple")
    ax = _axis(axis, a.ndim)
    a = _reduction_input(ufunc, a, dtype)
    if a.shape[ax] == 0:
        return a
    before = (slice(None),) * ax
    acc = a[before + (0,)]
    parts = [acc]
    for i in range(1, a.shape[ax]):
        acc = ufunc(acc, a[before + (i,)])
        parts.append(acc)
    return stack(parts, axis=ax)


def astype(x, dtype):
    """``x.astype(dtype)`` for a triple (a row of the rule table made for the two dtypes).

    Examples
    --------
    >>> import stochad as sad
    >>> st = sad.stochastic_triple(lambda p: (2.5 * p).astype(int), 1.0)
    >>> int(sad.value(st)), float(sad.delta(st))  # truncation: piecewise constant
    (2, 0.0)
    >>> st = sad.stochastic_triple(lambda p: (2.5 * p).astype("float32"), 1.0)
    >>> str(sad.value(st).dtype), float(sad.delta(st))
    ('float32', 2.5)
    """
    if not isinstance(x, StochasticTriple):
        return np.asarray(x).astype(dtype)
    dtype = np.dtype(dtype)
    if dtype.kind not in "biuf":
        raise TypeError(f"a stochastic triple holds real numbers; it cannot be cast to {dtype}")
    if dtype == x.dtype:
        return x
    return apply(rules.casting(x.dtype, dtype), x)


def _cast_checked(name, a, dtype, casting):
    """``a`` cast to ``dtype`` for ``np.<name>(..., dtype=, casting=)``, refusing what numpy
    refuses."""
    source = a.dtype if isinstance(a, StochasticTriple) else np.result_type(a)
    if not np.can_cast(source, dtype, casting):
        raise TypeError(f"np.{name}: cannot cast {source} to {np.dtype(dtype)} with "
                        f"casting={casting!r}")
    return astype(a, dtype)


def _cumsum(a, axis=None, dtype=None, out=None):
    _no_out(out, "cumsum")
    return cumulative(np.add, a, axis, dtype)


def _cumprod(a, axis=None, dtype=None, out=None):
    _no_out(out, "cumprod")
    return cumulative(np.multiply, a, axis, dtype)


def _any(a, axis=None, out=None, keepdims=False, **kwargs):
    _no_out(out, "any", kwargs)
    return reduce(np.logical_or, a != 0, axis, keepdims)


def _all(a, axis=None, out=None, keepdims=False, **kwargs):
    _no_out(out, "all", kwargs)
    return reduce(np.logical_and, a != 0, axis, keepdims)


def _count_nonzero(a, axis=None, *, keepdims=False):
    return reduce(np.add, a != 0, axis, keepdims)


def _reshape_any(x, shape):
    return reshape(x, shape) if isinstance(x, StochasticTriple) else np.reshape(x, shape)


def matmul(a, b):
    """``a @ b`` where either side may be a triple: a sum of products over the shared axis.

    Each product is a row of the rule table and the sum reconciles perturbations like ``+``.

    Examples
    --------
    >>> import numpy as np, stochad as sad
    >>> m = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> st = sad.stochastic_triple(lambda p: np.array([1.0, 1.0]) * p @ m, 2.0)
    >>> sad.value(st).tolist(), sad.delta(st).tolist()
    ([8.0, 12.0], [4.0, 6.0])
    """
    shape_a, shape_b = _shape(a), _shape(b)
    if not shape_a or not shape_b:
        raise ValueError("matmul: input operand does not have enough dimensions (use *)")
    if shape_a[-1] != shape_b[-2 if len(shape_b) > 1 else 0]:
        raise ValueError(f"matmul: shapes {shape_a} and {shape_b} are not aligned")
    a2 = _reshape_any(a, (1,) + shape_a) if len(shape_a) == 1 else a
    b2 = _reshape_any(b, shape_b + (1,)) if len(shape_b) == 1 else b
    sa, sb = _shape(a2), _shape(b2)
    products = (_reshape_any(a2, sa + (1,))                      # (..., n, k, 1)
                * _reshape_any(b2, sb[:-2] + (1,) + sb[-2:]))    # (..., 1, k, m)
    out = _sum(products, axis=-2)                                # (..., n, m)
    shape = _shape(out)
    if len(shape_a) == 1:
        shape = shape[:-2] + shape[-1:]
    if len(shape_b) == 1:
        shape = shape[:-1]
    return _reshape_any(out, shape)


def dot(a, b, out=None):
    """``np.dot`` for triples: ``matmul`` for 1-D and 2-D operands, ``*`` for scalars."""
    _no_out(out, "dot")
    if _ndim(a) == 0 or _ndim(b) == 0:
        return a * b
    if _ndim(a) > 2 or _ndim(b) > 2:
        raise TypeError("np.dot of stochastic triples supports operands of up to 2 dimensions; "
                        "use a @ b (np.matmul) for stacks of matrices")
    return matmul(a, b)


def roll(a, shift, axis=None):
    """``np.roll`` on the logical axes (a structural move)."""
    if axis is None:
        return reshape(roll(reshape(a, (-1,)), shift, 0), a.shape)
    axes = (axis,) if np.isscalar(axis) else tuple(axis)
    lane_axes = tuple(_axis(ax, a.ndim) + 1 for ax in axes)
    return _restructure(a, lambda x: np.roll(x, shift, axis=lane_axes))


def _sum(a, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
    _no_out(out, "sum", kwargs)
    return reduce(np.add, a, axis, keepdims, dtype)


def _prod(a, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
    _no_out(out, "prod", kwargs)
    return reduce(np.multiply, a, axis, keepdims, dtype)


def _max(a, axis=None, out=None, keepdims=False, **kwargs):
    _no_out(out, "max", kwargs)
    return reduce(np.maximum, a, axis, keepdims)


def _min(a, axis=None, out=None, keepdims=False, **kwargs):
    _no_out(out, "min", kwargs)
    return reduce(np.minimum, a, axis, keepdims)


def _count(a, axis) -> int:
    """How many elements of ``a`` a reduction over ``axis`` takes together."""
    shape = _shape(a)
    axes = _normalize_axis(axis, len(shape))
    return int(np.prod([shape[i] for i in (range(len(shape)) if axes is None else axes)]))


def _mean(a, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
    _no_out(out, "mean", kwargs)
    mean = reduce(np.add, a, axis, keepdims, dtype) / _count(a, axis)
    return mean if dtype is None else astype(mean, dtype)


def _no_out(out, name, kwargs=None):
    if out is not None:
        raise TypeError(f"np.{name}(..., out=) is not supported on stochastic triples")
    # initial= and where= would change the result; ignoring them would be silently wrong
    unsupported = sorted(k for k, v in (kwargs or {}).items() if not (k == "where" and v is True))
    if unsupported:
        raise TypeError(
            f"np.{name}(..., {'=, '.join(unsupported)}=) is not supported on stochastic "
            "triples; mask with np.where(mask, x, neutral) (stochad.where) and combine an "
            "initial value with the operator instead"
        )


def constant_triple(run, value) -> StochasticTriple:
    """A plain array as a triple of ``run`` (same value in every lane, nothing else)."""
    value = np.asarray(value)
    return StochasticTriple(np.broadcast_to(value, (run.n_lanes,) + value.shape), run=run)


def stack(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    """``np.stack`` of triples and plain arrays along a new logical axis."""
    _no_out(out, "stack")
    arrays = list(arrays)
    run = run_of(arrays)
    if run is None:
        return np.stack(arrays, axis=axis, dtype=dtype, casting=casting)
    if dtype is not None:
        arrays = [_cast_checked("stack", a, dtype, casting) for a in arrays]
    shape = np.broadcast_shapes(*(np.shape(a) if not isinstance(a, StochasticTriple)
                                  else a.shape for a in arrays))
    items = [_broadcast(a if isinstance(a, StochasticTriple) else constant_triple(run, a), shape)
             for a in arrays]
    axis = _axis(axis, len(shape) + 1) + 1
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


def squeeze(a, axis=None):
    """``np.squeeze`` of the logical axes (never the lane axis, even with one lane)."""
    shape = a.shape
    axes = (tuple(i for i, n in enumerate(shape) if n == 1) if axis is None
            else _normalize_axis(axis, len(shape)))
    if any(shape[i] != 1 for i in axes):
        raise ValueError("cannot select an axis to squeeze out which has size not equal to one")
    return reshape(a, tuple(n for i, n in enumerate(shape) if i not in axes))


def expand_dims(a, axis):
    """``np.expand_dims`` on the logical axes."""
    return reshape(a, np.expand_dims(np.empty(a.shape, dtype=bool), axis).shape)


def broadcast_to(array, shape, subok=False):
    """``np.broadcast_to`` of a triple's logical shape (each lane keeps its own values)."""
    shape = (shape,) if np.isscalar(shape) else tuple(shape)
    np.broadcast_to(np.empty(array.shape, dtype=bool), shape)  # numpy's own shape check
    return _broadcast(array, shape)


def concatenate(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    """``np.concatenate`` of triples and plain arrays: their slices along ``axis``, stacked.

    One Python operation per slice, so it suits short axes (a few hundred elements).
    """
    _no_out(out, "concatenate")
    arrays = list(arrays)
    if run_of(arrays) is None:
        return np.concatenate(arrays, axis=axis, dtype=dtype, casting=casting)
    ndims = {_ndim(a) for a in arrays}
    if 0 in ndims or len(ndims) > 1:
        raise ValueError("concatenate: all the input arrays must have the same number of "
                         f"dimensions, at least 1; got {sorted(ndims)}")
    axis = _axis(axis, ndims.pop())
    parts = [getitem(a, (slice(None),) * axis + (i,)) if isinstance(a, StochasticTriple)
             else np.take(a, i, axis=axis)
             for a in arrays for i in range(_shape(a)[axis])]
    return stack(parts, axis=axis, dtype=dtype, casting=casting)


def diff(a, n=1, axis=-1):
    """``np.diff``: differences of neighbours along ``axis``, ``n`` times."""
    for _ in range(n):
        last = _axis(axis, a.ndim)
        before = (slice(None),) * last
        a = getitem(a, before + (slice(1, None),)) - getitem(a, before + (slice(None, -1),))
    return a


def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kwargs):
    """``np.var`` as ``mean(|a - mean(a)|²)``, scaled by ``N / (N - ddof)``."""
    _no_out(out, "var", kwargs)
    count = _count(a, axis)
    centred = a - _mean(a, axis, dtype, keepdims=True)
    with np.errstate(divide="ignore"):  # ddof = N: inf, as numpy gives (with its warning)
        scale = np.float64(count) / (count - ddof)
    return _mean(centred * centred, axis, dtype, keepdims=keepdims) * scale


def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kwargs):
    """``np.std``: the square root of :func:`var`."""
    return np.sqrt(var(a, axis, dtype, out, ddof, keepdims, **kwargs))


def where(condition, x, y):
    """``np.where(condition, x, y)`` following both branches exactly (see :func:`stochad.where`)."""
    return apply(rules.WHERE, condition, x, y)


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
    mode : {"raise", "wrap", "clip"}
        Out-of-range indices, as in numpy (``"raise"`` checks the alternative paths too).

    Examples
    --------
    >>> import stochad as sad
    >>> f = lambda p: sad.take([3.5, 5.2, 8.4], sad.categorical([p / 2, p / 2, 1 - p]))
    >>> est = sad.derivative_estimate(f, 0.4, n_samples=100_000, rng=0)
    >>> abs(est + 4.05) < 0.15                              # exact: -4.05
    True
    """
    _no_out(out, "take")
    if not isinstance(indices, StochasticTriple):
        if not isinstance(a, StochasticTriple):
            return np.take(a, indices, axis=axis, mode=mode)
        index = np.asarray(indices)
        if axis is None:
            a, axis = reshape(a, (-1,)), 0
        return _restructure(a, lambda x: np.take(x, index, axis=_axis(axis, a.ndim) + 1,
                                                 mode=mode))
    table = a if isinstance(a, StochasticTriple) else np.asarray(a)
    if axis is None:
        table, axis = _reshape_any(table, (-1,)), 0
    shape = _shape(table)
    if not shape:
        raise ValueError("take: cannot index a 0-d table")
    axis = _axis(axis, len(shape))
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
    shape = _shape(table)
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
    shape = _shape(table)
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
        return _take_rows(_reshape_any(table, (int(np.prod(dims)),) + shape[len(key):]), flat)
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
    if isinstance(a, list | tuple) and _holds_triple(a):
        return stack([asarray(x) if isinstance(x, list | tuple) else x for x in a])
    return np.asarray(a, dtype=dtype).view(LookupArray)


def _holds_triple(a) -> bool:
    return any(isinstance(x, StochasticTriple)
               or (isinstance(x, list | tuple) and _holds_triple(x)) for x in a)


def clip(a, a_min=None, a_max=None, out=None, *, min=None, max=None, dtype=None,  # noqa: A002
         casting="same_kind", **kwargs):
    """``np.clip`` (numpy 2.1's ``min=``/``max=`` included) as ``maximum`` then ``minimum``."""
    _no_out(out, "clip", kwargs)
    if (min is not None and a_min is not None) or (max is not None and a_max is not None):
        raise TypeError("np.clip: pass each bound once (a_min or min, a_max or max)")
    a_min, a_max = (a_min if min is None else min), (a_max if max is None else max)
    if a_min is not None:
        a = np.maximum(a, a_min)
    if a_max is not None:
        a = np.minimum(a, a_max)
    return a if dtype is None else _cast_checked("clip", a, dtype, casting)


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


ARRAY_UFUNCS = {np.matmul: matmul}
"""Ufuncs that are not elementwise (so not rows of the rule table), by implementation."""

ARRAY_FUNCTIONS = {
    np.where: where,
    np.cumsum: _cumsum,
    np.cumprod: _cumprod,
    np.any: _any,
    np.all: _all,
    np.count_nonzero: _count_nonzero,
    np.dot: dot,
    np.roll: roll,
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
    np.concatenate: concatenate,
    np.squeeze: squeeze,
    np.expand_dims: expand_dims,
    np.broadcast_to: broadcast_to,
    np.diff: diff,
    np.var: var,
    np.std: std,
    np.reshape: lambda a, shape=None, order="C", **kw: reshape(a, shape, order),
    np.transpose: transpose,
    np.shape: _shape,
    np.ndim: _ndim,
    np.size: _size,
}
