"""The batched stochastic triple: primal value, dual part and perturbation, one lane per sample.

User code sees a triple's *logical* shape (``()`` for a scalar draw); the lane axis (axis 0 of
every field) is invisible to it, as under ``jax.vmap``. Operators are generated from the rule
table in :mod:`stochad.rules`.

The triple owns its dispatch tables: numpy functions (``__array_function__``), ufunc methods
(``__array_ufunc__``) and the array methods that need more than numpy (indexing, reshape, ...)
look their implementation up in :data:`ARRAY_FUNCTIONS`, :data:`UFUNCS` and :data:`METHODS`.
The modules above this one register into them with :func:`implements`, next to each function's
code, so this module imports nothing above it.
"""

from __future__ import annotations

import numpy as np

from . import rules

ARRAY_FUNCTIONS: dict = {}
"""numpy function -> its implementation on triples (``__array_function__``)."""
UFUNCS: dict = {}
"""``(ufunc, method)`` -> implementation (``__array_ufunc__``): ``"__call__"`` of the rule
table's elementwise ufuncs and of ``np.matmul``; ``"reduce"`` of ``add``, ``multiply``, ..."""
METHODS: dict = {}
"""Name -> implementation of the triple methods that need the layers above (``getitem``,
``reshape``, ``transpose``, ``astype``)."""


def implements(target, method: str = "__call__"):
    """Register the decorated function as the triple implementation of ``target``.

    ``target`` is a numpy function (``np.sum``), a ufunc (``np.matmul``; ``method`` names
    the ufunc method, ``"__call__"`` or ``"reduce"``) or the name of a triple method.

    Examples
    --------
    >>> import numpy as np
    >>> ARRAY_FUNCTIONS[np.sum].__name__
    'sum_'
    """
    def register(func):
        if isinstance(target, str):
            METHODS[target] = func
        elif isinstance(target, np.ufunc):
            UFUNCS[(target, method)] = func
        else:
            ARRAY_FUNCTIONS[target] = func
        return func

    return register

FIX_BRANCH = (
    "use stochad.where(cond, a, b) to follow both branches, or stochad.propagate(f, *args) to "
    "run a black-box function on the primal and the alternative values"
)
FIX_CONVERT = (
    "use numpy or stochad functions on the triple itself (np.exp(x), sad.exp(x), not math.exp), "
    "stochad.value(x) for the primal value alone, stochad.take(table, idx) to look a table "
    "up at a random index, or stochad.propagate(f, x) for a black box"
)


class StochasticTriple:
    """A batch of stochastic triples ``(value, delta, perturbation)``, lanes first.

    Triples are made by :func:`stochad.stochastic_triple` and the estimators; user programs
    receive them and compute with numpy operators and functions.

    Parameters
    ----------
    value, delta, perturbation, run
        The attributes below (``run`` by keyword).

    Attributes
    ----------
    value : numpy.ndarray
        Primal values, shape ``(n_lanes, *shape)``.
    delta : numpy.ndarray or None
        Dual (infinitesimal) parts, same shape; ``None`` means zero.
    perturbation : object or None
        The backend's finite perturbations; ``None`` means none.
    run : stochad.context.Run
        The run the triple belongs to (its generator and backend).

    Examples
    --------
    >>> import stochad as sad
    >>> st = sad.stochastic_triple(lambda p: sad.bernoulli(p), 0.5, rng=1)
    >>> st.shape
    ()
    """

    __slots__ = ("value", "delta", "perturbation", "run", "_bytes", "__weakref__")
    __array_priority__ = 1000.0

    def __init__(self, value, delta=None, perturbation=None, *, run):
        self.value = value
        self.delta = delta
        self.perturbation = perturbation
        self.run = run
        # what the triple holds, roughly: 8 bytes a value, a dual part, a jump and an event
        self._bytes = value.size * 8 * (1 + (delta is not None) + 2 * (perturbation is not None))
        run.allocate(self._bytes)
        if perturbation is not None:
            run.backend.hold(perturbation)

    # -- shape ----------------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """Logical shape (what the program sees), without the lane axis."""
        return self.value.shape[1:]

    @property
    def ndim(self) -> int:
        return self.value.ndim - 1

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def dtype(self) -> np.dtype:
        return self.value.dtype

    @property
    def n_lanes(self) -> int:
        return self.value.shape[0]

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a scalar stochastic triple")
        return self.shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def note_use(self):
        """Called by :func:`stochad.propagation.apply` and the black boxes for each triple they
        compute with: nothing here (a raw uniform counts its uses,
        :class:`stochad.samplers.UniformNoise`)."""

    # -- indexing ---------------------------------------------------------------------------------
    def __getitem__(self, key):
        return METHODS["getitem"](self, key)

    def __setitem__(self, key, item):
        raise TypeError(
            "stochastic triples are immutable; build arrays with np.stack or np.where(mask, a, b) "
            "(stochad.where) instead of item assignment"
        )

    def reshape(self, *shape):
        return METHODS["reshape"](self, shape[0] if len(shape) == 1 else shape)

    @property
    def T(self):
        return METHODS["transpose"](self)

    def astype(self, dtype, copy=True):
        return METHODS["astype"](self, dtype)

    def sum(self, axis=None, dtype=None, keepdims=False):
        return np.sum(self, axis=axis, dtype=dtype, keepdims=keepdims)

    def mean(self, axis=None, dtype=None, keepdims=False):
        return np.mean(self, axis=axis, dtype=dtype, keepdims=keepdims)

    def prod(self, axis=None, dtype=None, keepdims=False):
        return np.prod(self, axis=axis, dtype=dtype, keepdims=keepdims)

    def min(self, axis=None, keepdims=False):
        return np.min(self, axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims=False):
        return np.max(self, axis=axis, keepdims=keepdims)

    def var(self, axis=None, dtype=None, ddof=0, keepdims=False):
        return np.var(self, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims)

    def std(self, axis=None, dtype=None, ddof=0, keepdims=False):
        return np.std(self, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims)

    def squeeze(self, axis=None):
        return np.squeeze(self, axis=axis)

    def ravel(self):
        return self.reshape(-1)

    flatten = ravel

    def copy(self):
        """The same triple: triples are immutable, so a copy cannot differ from it."""
        return self

    # -- numpy protocol -------------------------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if "out" in kwargs:
            raise TypeError(
                f"numpy.{ufunc.__name__} cannot write a stochastic triple into an array in "
                "place (out=, or +=, -=, ... on a numpy array); write total = total + x "
                "instead, or build arrays with np.stack"
            )
        impl = UFUNCS.get((ufunc, method))
        if impl is not None:
            if method == "__call__" and not kwargs:
                return impl(*inputs)
            if method == "reduce" and set(kwargs) <= {"axis", "keepdims"}:
                return impl(inputs[0], kwargs.get("axis", 0), kwargs.get("keepdims", False))
        raise TypeError(
            f"numpy.{ufunc.__name__}.{method} with {sorted(kwargs) or 'no'} keyword arguments is "
            f"not supported on stochastic triples; {FIX_BRANCH}, or run one sample per call "
            "(vectorize=False), where numpy works on drawn values"
        )

    def __array_function__(self, func, types, args, kwargs):
        impl = ARRAY_FUNCTIONS.get(func)
        if impl is None:
            raise TypeError(
                f"numpy.{func.__name__} is not supported on stochastic triples; "
                f"supported: {', '.join(sorted(f.__name__ for f in ARRAY_FUNCTIONS))}. "
                f"For anything else, {FIX_BRANCH}, or run one sample per call "
                "(vectorize=False), where numpy works on drawn values"
            )
        return impl(*args, **kwargs)

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            "converting a stochastic triple to a numpy array would drop its dual part and "
            f"perturbation; {FIX_CONVERT}"
        )

    # -- conversions that would lose information --------------------------------------------------
    def _scalar_primal(self, what: str):
        if self.shape != ():
            raise TypeError(f"{what}() of a stochastic triple of shape {self.shape}")
        first = self.value.reshape(-1)[0]
        if np.any(self.value != first):
            if what in ("float", "complex") and np.issubdtype(self.value.dtype, np.inexact):
                # math.exp(x) of a continuous value: one sample per call refuses it too
                raise TypeError(
                    f"{what}() of a batched triple whose samples differ ({self.n_lanes} "
                    f"lanes), as math.* functions call it; {FIX_CONVERT}")
            raise TypeError(
                f"{what}() of a batched triple whose samples differ ({self.n_lanes} lanes); "
                f"{FIX_BRANCH}, or pass vectorize=False to run one sample per call"
            )
        return first

    def _has_live_parts(self) -> bool:
        if self.delta is not None and np.any(self.delta != 0):
            return True
        return self._live_perturbation().any()

    def _live_perturbation(self) -> np.ndarray:
        if self.perturbation is None:
            return np.zeros(self.value.shape, dtype=bool)
        return self.run.backend.live(self.run, self.perturbation)

    def _convert(self, kind, what: str):
        first = self._scalar_primal(what)
        if self._has_live_parts():
            raise TypeError(
                f"{what}() of a stochastic triple with a live dual part or perturbation would "
                f"lose its derivative (math.* functions call {what}() too); {FIX_CONVERT}"
            )
        return kind(first)

    def __float__(self):
        return self._convert(float, "float")

    def __int__(self):
        return self._convert(int, "int")

    def __complex__(self):
        return self._convert(complex, "complex")

    def item(self):
        """The one number of a triple as a Python scalar, as numpy's ``item()``: where the
        lanes agree and nothing moves (else a ``TypeError`` naming the fix)."""
        return self._convert(lambda v: v.item(), "item")

    def __index__(self):
        if not np.issubdtype(self.value.dtype, np.integer) and self.value.dtype != bool:
            raise TypeError(f"a triple of dtype {self.value.dtype} cannot be used as an index")
        if self.shape == () and self.n_lanes > 1 and np.any(self.value != self.value[0]):
            raise TypeError(
                "a random index whose samples differ cannot be a Python index (lists and "
                "numpy arrays call __index__); look the table up with stochad.take(table, "
                "idx), or make the table indexable with table = stochad.asarray(table)"
            )
        first = self._scalar_primal("index")
        if self._live_perturbation().any():
            raise TypeError(
                "using a perturbed stochastic triple as a Python index would drop its "
                "perturbation; look the index up with stochad.take(table, idx) (or index "
                "stochad.asarray(table)), which follows the perturbed index exactly"
            )
        return int(first)

    def __bool__(self):
        first = self._scalar_primal("bool")
        if self._live_perturbation().any():
            raise TypeError(
                "the truth value of this stochastic triple depends on a perturbation that would "
                f"flip it, so a Python if/while cannot follow both paths; {FIX_BRANCH}, or pass "
                "vectorize=False to run one sample per call (the replay engine follows it)"
            )
        if self.delta is not None and np.any(np.asarray(self.delta) != 0):
            raise TypeError(
                "the truth value of this stochastic triple carries a dual part (the smoothed "
                "backend's share of a flip), which a Python if/while would drop; "
                f"{FIX_BRANCH}, or run one sample per call (vectorize=False) with the pruned, "
                "kpaths or exact backend, whose replay engine follows the if"
            )
        return bool(first)

    __hash__ = None

    def __round__(self, ndigits=None):
        out = np.round(self, 0 if ndigits is None else ndigits)
        return out

    # -- display --------------------------------------------------------------------------------
    def __repr__(self) -> str:
        if self.n_lanes == 1:
            return _format_single(self)
        return (
            f"StochasticTriple(shape={self.shape}, lanes={self.n_lanes}, "
            f"value mean={np.mean(self.value):.6g}, delta mean="
            f"{0.0 if self.delta is None else np.mean(self.delta):.6g}, "
            f"perturbed lanes={int(np.count_nonzero(self._live_perturbation()))})"
        )


def run_of(args):
    """The run shared by the triples among ``args`` (an error if they come from two runs)."""
    run = None
    for a in args:
        if isinstance(a, StochasticTriple):
            if run is None:
                run = a.run
            elif a.run is not run:
                raise ValueError(
                    "stochastic triples from two different runs were combined; compute within "
                    "one call of the estimated function"
                )
    return run


def logical_shape(arg) -> tuple[int, ...]:
    """The shape the program sees: a triple's without the lane axis, numpy's otherwise."""
    return arg.shape if isinstance(arg, StochasticTriple) else np.shape(arg)


def nested(items):
    """The items of ``items`` and of the lists and tuples nested in it (``np.stack([u, v])``
    holds its arguments in a list)."""
    for a in items:
        if isinstance(a, list | tuple):
            yield from nested(a)
        else:
            yield a


def holds_triple(args) -> bool:
    """Whether the sequence ``args`` holds a triple, in nested lists and tuples too."""
    return any(isinstance(a, StochasticTriple) for a in nested(args))


def _lanes(st: StochasticTriple, array: np.ndarray) -> np.ndarray:
    return array[0] if st.n_lanes == 1 else array


def value(st):
    """Primal value of a triple (plain numbers are returned as they are).

    Parameters
    ----------
    st : StochasticTriple or number
        A triple (plain numbers are accepted too).

    Returns
    -------
    numpy.ndarray or number
        The primal value (lanes first when the triple has several lanes).
    """
    if not isinstance(st, StochasticTriple):
        return st
    return _lanes(st, np.asarray(st.value))


def delta(st):
    """Dual (infinitesimal) part of a triple; 0 for plain numbers.

    Parameters
    ----------
    st : StochasticTriple or number
        A triple (plain numbers are accepted too).

    Returns
    -------
    numpy.ndarray
        The dual part (zeros for plain numbers).
    """
    if not isinstance(st, StochasticTriple):
        return np.zeros(np.shape(st))
    d = np.zeros(st.value.shape) if st.delta is None else np.asarray(st.delta)
    return _lanes(st, d)


def perturbations(st):
    """The finite perturbations ``[(jump, weight), ...]`` of a triple (dead ones are 0).

    Parameters
    ----------
    st : StochasticTriple or number
        A triple (plain numbers are accepted too).

    Returns
    -------
    list of (numpy.ndarray, numpy.ndarray)
        ``(jump, weight)`` pairs; dead or absent perturbations have weight 0.
    """
    if not isinstance(st, StochasticTriple) or st.perturbation is None:
        return []
    return [(_lanes(st, j), _lanes(st, w)) for j, w in st.run.backend.pairs(st.run,
                                                                              st.perturbation)]


def _format_single(st: StochasticTriple) -> str:
    def fmt(x):
        x = np.asarray(x)
        return np.array2string(x, precision=6) if x.ndim else f"{x.item():.6g}"

    pieces = [f"{fmt(value(st))} + {fmt(delta(st))}ε"]
    for jump, weight in perturbations(st):
        if np.any(np.asarray(weight) != 0) and np.any(np.asarray(jump) != 0):
            pieces.append(f"({fmt(jump)} with probability {fmt(weight)}ε)")
    return " + ".join(pieces)


def _binary(ufunc, reflected: bool):
    def method(self, other):
        return ufunc(other, self) if reflected else ufunc(self, other)

    method.__name__ = ufunc.__name__
    return method


def _unary(ufunc):
    def method(self):
        return ufunc(self)

    method.__name__ = ufunc.__name__
    return method


for _name, _ufunc in rules.BINARY_OPERATORS.items():
    setattr(StochasticTriple, f"__{_name}__", _binary(_ufunc, reflected=False))
    setattr(StochasticTriple, f"__r{_name}__", _binary(_ufunc, reflected=True))
for _name, _ufunc in rules.COMPARISONS.items():
    setattr(StochasticTriple, f"__{_name}__", _binary(_ufunc, reflected=False))
for _name, _ufunc in rules.UNARY_OPERATORS.items():
    setattr(StochasticTriple, f"__{_name}__", _unary(_ufunc))
