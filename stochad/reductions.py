"""Reductions on triples: sums, products, extrema, means and variances, cumulative sums and
products, ``np.dot`` and ``@``, ``np.diff``.

They are repeated applications of the binary rules, so they reconcile perturbations exactly as
the operators do; numeric sums go in one pass per field instead (the backend's ``sum_along``:
the same rule in one kernel pass).
"""

from __future__ import annotations

from functools import partial

import numpy as np

from .elementwise import astype, no_out
from .shape import normalize_axes, normalize_axis, reshape, reshape_any, stack
from .triple import StochasticTriple, implements, logical_shape


def reduce(ufunc, x, axis=None, keepdims=False, dtype=None):
    """``ufunc.reduce`` over logical axes, as a chain of binary rule applications.

    Numeric sums go in one pass instead when the backend can
    (:meth:`PrunedBackend.sum_along`) or there is no perturbation: the same rule, without a
    Python loop over the axis. ``dtype`` as in numpy (see :func:`_reduction_input`).
    """
    if not isinstance(x, StochasticTriple):
        return ufunc.reduce(np.asarray(x), axis=axis, keepdims=keepdims, dtype=dtype)
    shape = x.shape
    axes = normalize_axes(axis, x.ndim)
    if axes is None:
        axes = tuple(range(x.ndim))
    out = _reduction_input(ufunc, x, dtype)
    if ufunc is np.add and out.dtype != bool:
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
    ax = normalize_axis(axis, a.ndim)
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


@implements(np.cumsum)
def _cumsum(a, axis=None, dtype=None, out=None):
    no_out(out, "cumsum")
    return cumulative(np.add, a, axis, dtype)


@implements(np.cumprod)
def _cumprod(a, axis=None, dtype=None, out=None):
    no_out(out, "cumprod")
    return cumulative(np.multiply, a, axis, dtype)


@implements(np.any)
def _any(a, axis=None, out=None, keepdims=False, **kwargs):
    no_out(out, "any", kwargs)
    return reduce(np.logical_or, a != 0, axis, keepdims)


@implements(np.all)
def _all(a, axis=None, out=None, keepdims=False, **kwargs):
    no_out(out, "all", kwargs)
    return reduce(np.logical_and, a != 0, axis, keepdims)


@implements(np.count_nonzero)
def _count_nonzero(a, axis=None, *, keepdims=False):
    return reduce(np.add, a != 0, axis, keepdims)


@implements(np.sum)
def sum_(a, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
    no_out(out, "sum", kwargs)
    return reduce(np.add, a, axis, keepdims, dtype)


@implements(np.prod)
def _prod(a, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
    no_out(out, "prod", kwargs)
    return reduce(np.multiply, a, axis, keepdims, dtype)


@implements(np.max)
@implements(np.amax)
def _max(a, axis=None, out=None, keepdims=False, **kwargs):
    no_out(out, "max", kwargs)
    return reduce(np.maximum, a, axis, keepdims)


@implements(np.min)
@implements(np.amin)
def _min(a, axis=None, out=None, keepdims=False, **kwargs):
    no_out(out, "min", kwargs)
    return reduce(np.minimum, a, axis, keepdims)


def _count(a, axis) -> int:
    """How many elements of ``a`` a reduction over ``axis`` takes together."""
    shape = logical_shape(a)
    axes = normalize_axes(axis, len(shape))
    return int(np.prod([shape[i] for i in (range(len(shape)) if axes is None else axes)]))


@implements(np.mean)
def mean_(a, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
    no_out(out, "mean", kwargs)
    mean = reduce(np.add, a, axis, keepdims, dtype) / _count(a, axis)
    return mean if dtype is None else astype(mean, dtype)


@implements(np.var)
def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kwargs):
    """``np.var`` as ``mean(|a - mean(a)|²)``, scaled by ``N / (N - ddof)``."""
    no_out(out, "var", kwargs)
    count = _count(a, axis)
    centred = a - mean_(a, axis, dtype, keepdims=True)
    with np.errstate(divide="ignore"):  # ddof = N: inf, as numpy gives (with its warning)
        scale = np.float64(count) / (count - ddof)
    return mean_(centred * centred, axis, dtype, keepdims=keepdims) * scale


@implements(np.std)
def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kwargs):
    """``np.std``: the square root of :func:`var`."""
    return np.sqrt(var(a, axis, dtype, out, ddof, keepdims, **kwargs))


@implements(np.matmul)
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
    shape_a, shape_b = logical_shape(a), logical_shape(b)
    if not shape_a or not shape_b:
        raise ValueError("matmul: input operand does not have enough dimensions (use *)")
    if shape_a[-1] != shape_b[-2 if len(shape_b) > 1 else 0]:
        raise ValueError(f"matmul: shapes {shape_a} and {shape_b} are not aligned")
    a2 = reshape_any(a, (1,) + shape_a) if len(shape_a) == 1 else a
    b2 = reshape_any(b, shape_b + (1,)) if len(shape_b) == 1 else b
    sa, sb = logical_shape(a2), logical_shape(b2)
    products = (reshape_any(a2, sa + (1,))                      # (..., n, k, 1)
                * reshape_any(b2, sb[:-2] + (1,) + sb[-2:]))    # (..., 1, k, m)
    out = sum_(products, axis=-2)                                # (..., n, m)
    shape = logical_shape(out)
    if len(shape_a) == 1:
        shape = shape[:-2] + shape[-1:]
    if len(shape_b) == 1:
        shape = shape[:-1]
    return reshape_any(out, shape)


@implements(np.dot)
def dot(a, b, out=None):
    """``np.dot`` for triples: ``matmul`` for 1-D and 2-D operands, ``*`` for scalars."""
    no_out(out, "dot")
    if len(logical_shape(a)) == 0 or len(logical_shape(b)) == 0:
        return a * b
    if len(logical_shape(a)) > 2 or len(logical_shape(b)) > 2:
        raise TypeError("np.dot of stochastic triples supports operands of up to 2 dimensions; "
                        "use a @ b (np.matmul) for stacks of matrices")
    return matmul(a, b)


@implements(np.diff)
def diff(a, n=1, axis=-1):
    """``np.diff``: differences of neighbours along ``axis``, ``n`` times."""
    for _ in range(n):
        last = normalize_axis(axis, a.ndim)
        before = (slice(None),) * last
        a = a[before + (slice(1, None),)] - a[before + (slice(None, -1),)]
    return a



for _ufunc in (np.add, np.multiply, np.maximum, np.minimum):
    implements(_ufunc, "reduce")(partial(reduce, _ufunc))
