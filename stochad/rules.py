"""The one table of derivative rules: numpy function -> partial derivatives.

Every operator of :class:`~stochad.triple.StochasticTriple`, its ``__array_ufunc__`` support and
the ``stochad`` math functions (``sad.exp``, ``sad.log``, ...) are generated from :data:`RULES`;
to support a new function, add a row here.

A row gives, for each argument, its partial derivative as a function of the primal arguments and
the primal output, the constant ``1``/``-1``, or ``None`` for "zero" (piecewise-constant
functions such as ``floor`` or comparisons). The finite part of a perturbation is always the
exact difference ``f(v + Δ) - f(v)`` of the same function (docs/design.md §1); rows marked
``additive`` are sums of ``±`` their arguments, for which that difference *is* the signed sum of
the jumps, and which skip re-evaluating ``f``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import special

Partial = Callable[..., np.ndarray] | int | None


@dataclass(frozen=True)
class Rule:
    """How one function acts on the dual part and the perturbation of its arguments.

    Attributes
    ----------
    func : callable
        The function on primal numpy arrays.
    partials : tuple
        One entry per argument: ``callable(*args, out)``, ``1``, ``-1`` or ``None`` (zero).
    additive : bool
        ``f`` is ``±x ± y``: the finite difference is the signed sum of the jumps.
    linear : tuple of bool, optional
        ``linear[i]``: ``f`` is linear in argument ``i`` (``f(x + Δ, y) - f(x, y) = f(Δ, y)``),
        so when only that argument is perturbed its jump is ``f(Δ, y)`` exactly.
    cast_alternatives : bool
        Alternative-path arguments keep the primal dtype (booleans, integer indices).
    mask_partials : bool
        A partial may be infinite or NaN at a finite point (``sqrt`` or ``x ** y`` at
        ``x = 0``, ``log`` at 0, ``x / y`` at ``y = 0``): there, terms whose dual part is zero
        are zero, not ``0 * inf`` (unless the value is NaN itself).
    jumps : bool
        ``f`` is piecewise smooth with jumps (``x % y``): its partials hold between them, and a
        moving argument's mass at a jump is lost, as for a zero partial (the caller warns).
    """

    func: Callable
    partials: tuple[Partial, ...]
    additive: bool = False
    linear: tuple[bool, ...] = ()
    cast_alternatives: bool = False
    mask_partials: bool = False
    jumps: bool = False

    @property
    def nargs(self) -> int:
        return len(self.partials)


def _zero(n: int) -> tuple[None, ...]:
    return (None,) * n


def _floor_quotient(x, y, out):
    return -np.floor(x / y)


def _power_base(x, y, out):
    return y * np.power(x, y - 1.0)


def _power_exponent(x, y, out):
    return np.log(x) * out


RULES: dict[Callable, Rule] = {
    # arithmetic
    np.add: Rule(np.add, (1, 1), additive=True),
    np.subtract: Rule(np.subtract, (1, -1), additive=True),
    np.negative: Rule(np.negative, (-1,), additive=True),
    np.positive: Rule(np.positive, (1,), additive=True),
    np.multiply: Rule(
        np.multiply, (lambda x, y, out: y, lambda x, y, out: x), linear=(True, True)
    ),
    np.true_divide: Rule(
        np.true_divide,
        (lambda x, y, out: 1.0 / y, lambda x, y, out: -out / y),
        linear=(True, False),
        mask_partials=True,
    ),
    np.floor_divide: Rule(np.floor_divide, _zero(2)),
    np.remainder: Rule(np.remainder, (1, _floor_quotient), jumps=True),
    np.power: Rule(np.power, (_power_base, _power_exponent), mask_partials=True),
    np.reciprocal: Rule(np.reciprocal, (lambda x, out: -out * out,), mask_partials=True),
    np.square: Rule(np.square, (lambda x, out: 2.0 * x,)),
    np.sqrt: Rule(np.sqrt, (lambda x, out: 0.5 / out,), mask_partials=True),
    np.cbrt: Rule(np.cbrt, (lambda x, out: 1.0 / (3.0 * out * out),), mask_partials=True),
    np.absolute: Rule(np.absolute, (lambda x, out: np.sign(x),)),
    np.maximum: Rule(np.maximum, (lambda x, y, out: x >= y, lambda x, y, out: x < y)),
    np.minimum: Rule(np.minimum, (lambda x, y, out: x <= y, lambda x, y, out: x > y)),
    np.hypot: Rule(np.hypot, (lambda x, y, out: x / out, lambda x, y, out: y / out),
                   mask_partials=True),
    # exponentials and logarithms
    np.exp: Rule(np.exp, (lambda x, out: out,)),
    np.exp2: Rule(np.exp2, (lambda x, out: np.log(2.0) * out,)),
    np.expm1: Rule(np.expm1, (lambda x, out: out + 1.0,)),
    np.log: Rule(np.log, (lambda x, out: 1.0 / x,), mask_partials=True),
    np.log2: Rule(np.log2, (lambda x, out: 1.0 / (x * np.log(2.0)),), mask_partials=True),
    np.log10: Rule(np.log10, (lambda x, out: 1.0 / (x * np.log(10.0)),), mask_partials=True),
    np.log1p: Rule(np.log1p, (lambda x, out: 1.0 / (1.0 + x),), mask_partials=True),
    special.gammaln: Rule(special.gammaln, (lambda x, out: special.digamma(x),)),  # log-pmfs
    np.logaddexp: Rule(
        np.logaddexp, (lambda x, y, out: np.exp(x - out), lambda x, y, out: np.exp(y - out))
    ),
    # trigonometric and hyperbolic
    np.sin: Rule(np.sin, (lambda x, out: np.cos(x),)),
    np.cos: Rule(np.cos, (lambda x, out: -np.sin(x),)),
    np.tan: Rule(np.tan, (lambda x, out: 1.0 + out * out,)),
    np.arcsin: Rule(np.arcsin, (lambda x, out: 1.0 / np.sqrt(1.0 - x * x),),
                    mask_partials=True),
    np.arccos: Rule(np.arccos, (lambda x, out: -1.0 / np.sqrt(1.0 - x * x),),
                    mask_partials=True),
    np.arctan: Rule(np.arctan, (lambda x, out: 1.0 / (1.0 + x * x),)),
    np.arctan2: Rule(
        np.arctan2,
        (lambda y, x, out: x / (x * x + y * y), lambda y, x, out: -y / (x * x + y * y)),
        mask_partials=True,
    ),
    np.sinh: Rule(np.sinh, (lambda x, out: np.cosh(x),)),
    np.cosh: Rule(np.cosh, (lambda x, out: np.sinh(x),)),
    np.tanh: Rule(np.tanh, (lambda x, out: 1.0 - out * out,)),
    np.arcsinh: Rule(np.arcsinh, (lambda x, out: 1.0 / np.sqrt(x * x + 1.0),)),
    np.arccosh: Rule(np.arccosh, (lambda x, out: 1.0 / np.sqrt(x * x - 1.0),),
                     mask_partials=True),
    np.arctanh: Rule(np.arctanh, (lambda x, out: 1.0 / (1.0 - x * x),), mask_partials=True),
    # piecewise constant: zero dual part, exact jumps
    np.floor: Rule(np.floor, _zero(1)),
    np.ceil: Rule(np.ceil, _zero(1)),
    np.rint: Rule(np.rint, _zero(1)),
    np.trunc: Rule(np.trunc, _zero(1)),
    np.sign: Rule(np.sign, _zero(1)),
    # comparisons and logic: boolean outputs whose jump is the flip (-1, 0 or +1)
    np.less: Rule(np.less, _zero(2)),
    np.less_equal: Rule(np.less_equal, _zero(2)),
    np.greater: Rule(np.greater, _zero(2)),
    np.greater_equal: Rule(np.greater_equal, _zero(2)),
    np.equal: Rule(np.equal, _zero(2)),
    np.not_equal: Rule(np.not_equal, _zero(2)),
    np.logical_and: Rule(np.logical_and, _zero(2), cast_alternatives=True),
    np.logical_or: Rule(np.logical_or, _zero(2), cast_alternatives=True),
    np.logical_xor: Rule(np.logical_xor, _zero(2), cast_alternatives=True),
    np.logical_not: Rule(np.logical_not, _zero(1), cast_alternatives=True),
    np.bitwise_and: Rule(np.bitwise_and, _zero(2), cast_alternatives=True),
    np.bitwise_or: Rule(np.bitwise_or, _zero(2), cast_alternatives=True),
    np.bitwise_xor: Rule(np.bitwise_xor, _zero(2), cast_alternatives=True),
    np.invert: Rule(np.invert, _zero(1), cast_alternatives=True),
}


def _select(cond, a, b):
    return np.where(cond, a, b)


WHERE = Rule(
    _select,
    # the condition may be any array numpy takes as truthy (counts, floats), not only booleans
    (None, lambda c, a, b, out: c.astype(bool).astype(float),
     lambda c, a, b, out: (~c.astype(bool)).astype(float)),
    cast_alternatives=True,
)
"""``where(cond, a, b)``: the condition's jump (a flip) selects the other branch exactly."""


def rounding(decimals: int) -> Rule:
    """Rule for ``np.round(x, decimals)``: zero dual part, exact jumps."""
    return Rule(lambda x: np.round(x, decimals), _zero(1))


def casting(source: np.dtype, dtype: np.dtype) -> Rule:
    """Rule for ``x.astype(dtype)``.

    The dual part passes through a cast between numbers (it is the identity, up to rounding);
    a float cast to an integer truncates and anything cast to bool tests ``!= 0``, so those are
    piecewise constant (zero dual part). Jumps are exact either way: ``cast(v + Δ) - cast(v)``.
    """
    constant = dtype.kind == "b" or (source.kind == "f" and dtype.kind in "iu")
    return Rule(lambda x: np.asarray(x).astype(dtype), _zero(1) if constant else (1,))


def take(table: np.ndarray, trailing: int = 0) -> Rule:
    """Rule for ``table[idx]`` with a constant table and a random integer index.

    The index may carry ``trailing`` unit axes (one per further axis of ``table``) so that it
    broadcasts against the output ``table[idx]`` of shape ``idx.shape + table.shape[1:]``.
    """
    key = (Ellipsis,) + (0,) * trailing
    return Rule(lambda idx: table[idx[key]], (_slope(table, key),), cast_alternatives=True)


def _slope(table: np.ndarray, key):
    """The table's centred difference around the index, ``(t[k+1] − t[k−1]) / 2`` (one-sided
    at the ends), as StochasticAD.jl's rule for a random index carrying a *dual part*: only
    the smoothed backend gives integer draws one; the finite jumps of the other backends look
    the table up exactly."""
    n = table.shape[0]

    def partial(idx, out):
        k = _wrap_index(idx[key], n)
        up, down = np.minimum(k + 1, n - 1), np.maximum(k - 1, 0)
        with np.errstate(invalid="ignore"):
            return (table[up] - table[down]) / np.maximum(up - down, 1)

    return partial


def _wrap_index(idx, size: int, axis: int = 0):
    """numpy's bounds check and negative-index wrap for an integer index array."""
    bad = (idx < -size) | (idx >= size)
    if np.any(bad):
        raise IndexError(
            f"index {idx[bad].flat[0]} is out of bounds for axis {axis} with size {size}"
        )
    return np.where(idx < 0, idx + size, idx)


def _choose(idx, *cols):
    k = _wrap_index(idx, len(cols))
    out = np.empty(np.broadcast_shapes(k.shape, *(c.shape for c in cols)),
                   dtype=np.result_type(*cols))
    for j, c in enumerate(cols):
        np.copyto(out, c, where=k == j)
    return out


def choose(n: int) -> Rule:
    """Rule for ``table[idx]`` when the ``n`` entries of the table are themselves random:
    ``choose(idx, t0, ..., t_{n-1}) = t_idx``, with partial ``idx == j`` in ``t_j``.

    On an alternative path the index moves and the entries take their alternative values,
    so the jump is the exact ``t'_{idx'} - t_idx``.
    """
    partials = [None] + [
        (lambda idx, *rest, j=j: _wrap_index(idx, n) == j) for j in range(n)
    ]
    return Rule(_choose, tuple(partials), cast_alternatives=True)


def ravel_index(dims: tuple[int, ...]) -> Rule:
    """Rule for the flat index of ``table[i0, i1, ...]`` over the leading axes ``dims``."""

    def flat(*idx):
        out = 0
        for axis, (i, d) in enumerate(zip(idx, dims, strict=True)):
            out = out * d + _wrap_index(i, d, axis)
        return np.asarray(out, dtype=np.int64)

    return Rule(flat, _zero(len(dims)), cast_alternatives=True)


def uniform_integer(dtype) -> Rule:
    """Rule for ``low + floor(u * (high - low))``: an integer uniform on ``[low, high)``
    coupled through the uniform ``u``, so perturbed bounds move the draw exactly."""

    info = np.iinfo(dtype) if dtype != np.bool_ else None
    smallest, largest = (0, 1) if info is None else (info.min, info.max)

    def func(u, low, high):
        low, high = np.broadcast_arrays(low, high)
        bad = high <= low
        if np.any(bad):
            raise ValueError(f"integers: low >= high, got low={low[bad].flat[0].item()!r}, "
                             f"high={high[bad].flat[0].item()!r}")
        for name, bound, out in (("low", low, low < smallest),
                                 ("high (exclusive)", high, high - 1 > largest)):
            if np.any(out):  # numpy raises rather than wrap (the cast below would)
                raise ValueError(f"integers: {name} is out of bounds for {dtype}, got "
                                 f"{bound[out].flat[0].item()!r}")
        return (low + np.floor(u * (high - low))).astype(dtype)

    return Rule(func, _zero(3), cast_alternatives=True)


# Python operators and the ufuncs they stand for; reflected forms are generated from these.
BINARY_OPERATORS = {
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "truediv": np.true_divide,
    "floordiv": np.floor_divide,
    "mod": np.remainder,
    "pow": np.power,
    "and": np.bitwise_and,
    "or": np.bitwise_or,
    "xor": np.bitwise_xor,
    "matmul": np.matmul,  # not elementwise: see stochad.arrayfuncs.ARRAY_UFUNCS
}
COMPARISONS = {
    "lt": np.less,
    "le": np.less_equal,
    "gt": np.greater,
    "ge": np.greater_equal,
    "eq": np.equal,
    "ne": np.not_equal,
}
UNARY_OPERATORS = {"neg": np.negative, "pos": np.positive, "abs": np.absolute, "invert": np.invert}
