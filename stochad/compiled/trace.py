"""Record a batched program by running it once on placeholder values.

The user's ``f`` is called on a :class:`Traced` parameter. A ``Traced`` holds, for each
element of its logical shape, an *operand code*: a node of the recording (``>= 0``) or a
constant (``< 0``). numpy operators, ufuncs and a few array functions (``where``, ``sum``,
``stack``, indexing by constants) on it append nodes, one per element; the samplers hand their
draws to the :class:`Recorder` through :mod:`stochad.compiled.hook`. Python loops simply
unroll. Anything the interpreter cannot follow -- ``bool()`` of a value (a Python branch), a
value converted to a plain array (a black box, a random index), an unsupported function or
law, a logical shape too large to unroll -- raises :class:`Unrecordable` with the reason, and
the run falls back to the operator engine.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

import numpy as np

from .. import distributions as laws
from ..rules import BINARY_OPERATORS, COMPARISONS, UNARY_OPERATORS
from . import hook
from . import ops as O
from .hook import Unrecordable

MAX_ELEMENTS = 256
"""Largest logical size of one value that is unrolled element by element."""
MAX_NODES = 100_000
"""Largest recording (instructions)."""
LAWS = {laws.Bernoulli: "bernoulli", laws.Binomial: "binomial", laws.Poisson: "poisson",
        laws.Geometric: "geometric", laws.Normal: "normal", laws.Exponential: "exponential",
        laws.Uniform: "uniform"}
"""The laws the interpreter draws, by exact class."""


TWO_RUNS = ("stochastic triples from two different runs were combined (a value kept from "
            "an earlier call of the program); compute within one call of the estimated "
            "function")


# kinds of values, promoted as numpy promotes dtypes: bool < integer < float
BOOL, INT, FLOAT = 0, 1, 2

_AFFINE_OPS = {O.ADD, O.SUB, O.MUL, O.DIV}


@dataclass
class Node:
    """One recorded operation: ``op`` on operand codes ``args``; ``aux`` is the draw index or
    the parameter index. ``dual``/``jump``: may carry a dual part / a jump."""

    op: int
    args: tuple[int, ...]
    aux: int
    kind: int
    dual: bool
    jump: bool


@dataclass
class Recorder:
    """The recording in progress: nodes, constants and the number of draws."""

    nodes: list[Node] = field(default_factory=list)
    consts: list[float] = field(default_factory=list)
    const_kinds: list[int] = field(default_factory=list)
    _const_codes: dict = field(default_factory=dict)
    n_draws: int = 0
    exact: dict = field(default_factory=dict)
    """``{affine node: the node of the same value computed as the user's chain}``: what
    :func:`stochad.compiled.program.build` runs instead where the rounding matters."""

    # -- operands -------------------------------------------------------------------------------
    def const(self, x, kind: int) -> int:
        key = (float(x), kind)
        code = self._const_codes.get(key)
        if code is None:
            self.consts.append(float(x))
            self.const_kinds.append(kind)
            code = -len(self.consts)
            self._const_codes[key] = code
        return code

    def kind(self, code: int) -> int:
        return self.nodes[code].kind if code >= 0 else self.const_kinds[-1 - code]

    def dual(self, code: int) -> bool:
        return code >= 0 and self.nodes[code].dual

    def jump(self, code: int) -> bool:
        return code >= 0 and self.nodes[code].jump

    def add(self, op, args, kind, dual, jump, aux=0) -> int:
        if len(self.nodes) >= MAX_NODES:
            raise Unrecordable(f"the program has more than {MAX_NODES} operations")
        self.nodes.append(Node(op, tuple(args), aux, kind, dual, jump))
        return len(self.nodes) - 1

    def codes(self, x) -> np.ndarray:
        """Operand codes of a Traced or of a constant (numbers, arrays, lists of either)."""
        if isinstance(x, Traced):
            if x.recorder is not self:
                raise ValueError(TWO_RUNS)
            return x.codes
        kind = _SCALAR_KINDS.get(type(x))
        if kind is not None and (kind != INT or _INT64_MIN <= x <= _INT64_MAX):
            return np.array(self.const(x, kind), dtype=np.int64)  # the common case, quickly
        if isinstance(x, list | tuple) and any(_holds_traced(e) for e in x):
            return np.stack([self.codes(e) for e in x])
        array = np.asarray(x)
        if array.dtype.kind not in "biuf":
            raise Unrecordable(f"a constant of dtype {array.dtype} cannot be recorded")
        if array.size > MAX_ELEMENTS:
            raise Unrecordable(f"a constant of {array.size} elements (more than "
                               f"{MAX_ELEMENTS}) would be unrolled")
        kind = _kind_of_dtype(array.dtype)
        return np.vectorize(lambda v: self.const(v, kind), otypes=[np.int64])(array) \
            if array.size else np.zeros(array.shape, np.int64)

    def wrap(self, codes: np.ndarray):
        codes = np.asarray(codes, dtype=np.int64)
        if codes.size > MAX_ELEMENTS:
            raise Unrecordable(f"a logical shape {codes.shape} (more than {MAX_ELEMENTS} "
                               "elements) would be unrolled")
        return Traced(self, codes)

    # -- elementwise operations -----------------------------------------------------------------
    def elementwise(self, op: int, args: list, fold) -> Traced | np.ndarray:
        """``op`` on every element of the broadcast ``args``; ``fold`` computes it on
        constants (numpy's own function)."""
        codes = [self.codes(a) for a in args]
        if all(c.ndim == 0 for c in codes):  # scalars (most programs): no broadcasting
            return self.wrap(np.array(self.node(op, [int(c) for c in codes], fold)))
        codes = np.broadcast_arrays(*codes)
        out = np.empty(codes[0].shape, dtype=np.int64)
        for index in np.ndindex(out.shape):
            out[index] = self.node(op, [c[index] for c in codes], fold)
        return self.wrap(out)

    def node(self, op: int, args: list[int], fold) -> int:
        """One element of an elementwise operation, folded if every argument is constant."""
        kinds = [self.kind(a) for a in args]
        if all(a < 0 for a in args):
            value = fold(*(_typed(self.consts[-1 - a], k) for a, k in zip(args, kinds,
                                                                          strict=True)))
            value = np.asarray(value)
            return self.const(value, _kind_of_dtype(value.dtype))
        kind = self._result_kind(op, kinds)
        if op == O.ADD and kinds == [BOOL, BOOL]:
            op = O.OR  # numpy adds booleans as a logical or
        elif op == O.MUL and kinds == [BOOL, BOOL]:
            op = O.AND
        jump = any(self.jump(a) for a in args)
        if op == O.WHERE:
            dual = self.dual(args[1]) or self.dual(args[2])
        elif (op in O.PIECEWISE_CONSTANT or op == O.MOD) and any(self.dual(a) for a in args):
            # its flips' mass (x % y: its jumps') is lost: the operator engine runs it and says
            # so (a warning)
            raise Unrecordable("a comparison, piecewise-constant function or remainder of a "
                               "value with a dual part")
        else:
            dual = op not in O.PIECEWISE_CONSTANT and any(self.dual(a) for a in args)
        if kind == FLOAT and op in _AFFINE_OPS:
            fused = self._affine(op, args)
            if fused is not None:  # the chain as the user wrote it too, for build to choose
                self.exact[fused] = self.add(op, [self.exact.get(a, a) for a in args], kind,
                                             dual, jump)
                return fused
        return self.add(op, args, kind, dual, jump)

    def _step(self, op, args):
        """``(src, s, c)`` if ``op(*args)`` is ``src·s + c`` with one argument a constant
        (``None`` otherwise, or if the coefficients are not finite)."""
        x, y = args
        if x >= 0 and y < 0:
            k = self.consts[-1 - y]
            step = {O.ADD: (x, 1.0, k), O.SUB: (x, 1.0, -k), O.MUL: (x, k, 0.0),
                    O.DIV: (x, 1.0 / k if k != 0.0 else math.inf, 0.0)}[op]
        elif x < 0 and y >= 0 and op != O.DIV:
            k = self.consts[-1 - x]
            step = {O.ADD: (y, 1.0, k), O.SUB: (y, -1.0, k), O.MUL: (y, k, 0.0)}[op]
        else:
            return None
        return step if math.isfinite(step[1]) and math.isfinite(step[2]) else None

    def _affine(self, op, args):
        """A float operation by a constant on a node that is itself one (or an
        :data:`~stochad.compiled.ops.AFFINE` row): the two as one ``AFFINE`` row on the
        inner node's operand, so that ``1 - (n + i) / 200`` is one row, not three. The
        intermediate nodes are dropped when nothing else reads them. ``None`` where there is
        no chain (a lone operation keeps its own row, and its samples). The composed row
        rounds differently from the chain; the caller records the chain as well
        (:attr:`exact`)."""
        step = self._step(op, args)
        if step is None:
            return None
        src, s, c = step
        inner = self.nodes[src]
        if inner.op == O.AFFINE:
            base = (inner.args[0], self.consts[-1 - inner.args[1]],
                    self.consts[-1 - inner.args[2]])
        elif inner.op in _AFFINE_OPS and inner.kind != BOOL:
            base = self._step(inner.op, inner.args)
        else:
            base = None
        if base is None:
            return None
        src, s0, c0 = base
        scale, offset = s0 * s, c0 * s + c
        if not (math.isfinite(scale) and math.isfinite(offset)):
            return None
        return self.add(O.AFFINE, (src, self.const(scale, FLOAT), self.const(offset, FLOAT)),
                        FLOAT, self.dual(src), self.jump(src))

    @staticmethod
    def _result_kind(op, kinds):
        if op in O.BOOLEAN:
            return BOOL
        if op == O.WHERE:
            return max(kinds[1:])
        if op in (O.DIV, O.EXP, O.LOG, O.SQRT, O.RECIP, O.LOG1P, O.EXPM1, O.SIN, O.COS,
                  O.TANH):
            return FLOAT
        if op == O.SUB and kinds == [BOOL, BOOL] or op == O.NEG and kinds == [BOOL]:
            raise Unrecordable("numpy does not subtract or negate booleans")
        return max(max(kinds), INT) if op not in (O.ABS, O.MIN, O.MAX) else max(kinds)

    # -- draws ----------------------------------------------------------------------------------
    def draw(self, law, args, size, rng):
        """A draw of ``law`` (called by the samplers through :mod:`stochad.compiled.hook`).

        Only the built-in laws with a kernel path are recorded (by their exact class: a
        subclass may change the sampler)."""
        name = LAWS.get(type(law))
        if name is None:
            raise Unrecordable(f"the {law.name} law has no compiled draw")
        if rng is not None:
            raise Unrecordable(f"{name}: rng= passed to a sampler inside a run")
        size = () if size is None else ((size,) if np.isscalar(size) else tuple(size))
        codes = [self.codes(a) for a in args]
        shape = np.broadcast_shapes(*(c.shape for c in codes), size)
        if size and shape != size:
            raise Unrecordable(f"{name}: size {size} does not fit the parameters")
        codes = [np.broadcast_to(c, shape) for c in codes]
        if name in O.DISCRETE:
            return self._discrete(O.DISCRETE[name], codes, shape)
        if name in ("normal", "exponential", "uniform"):
            return self._continuous(name, args, codes, shape)
        raise Unrecordable(f"the {name} law has no compiled draw")

    def _discrete(self, op, codes, shape):
        out = np.empty(shape, dtype=np.int64)
        if op == O.BINOMIAL and any(self.dual(c) for c in codes[0].reshape(-1)):
            raise Unrecordable("binomial: the number of trials carries a dual part")
        for index in np.ndindex(shape):
            args = [c[index] for c in codes]
            dual = any(self.dual(a) for a in args)
            jump = dual or any(self.jump(a) for a in args)
            out[index] = self.add(op, args, INT, False, jump, aux=self._next_draw())
        return self.wrap(out)

    def _noise(self, op, shape):
        out = np.empty(shape, dtype=np.int64)
        for index in np.ndindex(shape):
            out[index] = self.add(op, [], FLOAT, False, False, aux=self._next_draw())
        return self.wrap(out)

    def _continuous(self, name, args, codes, shape):
        # as the samplers check: locations finite, scales finite and >= 0 (on the alternative
        # path too); a failed check stops the run, and the operator engine reports it
        scales = {"normal": [False, True], "exponential": [True], "uniform": [False, False]}
        for code, scale in zip(codes, scales[name], strict=True):
            self._check(code, scale)
        op = {"normal": O.NOISE_NORMAL, "exponential": O.NOISE_EXPONENTIAL,
              "uniform": O.NOISE_UNIFORM}[name]
        noise = self._noise(op, shape)
        if name == "normal":
            return args[0] + args[1] * noise
        if name == "exponential":
            return args[0] * noise
        return args[0] + (args[1] - args[0]) * noise

    def _check(self, codes, scale: bool):
        for code in np.asarray(codes).reshape(-1):
            if code >= 0:
                self.add(O.CHECK, [code], FLOAT, False, False, aux=int(scale))
                continue
            value = self.consts[-1 - code]
            if not (np.isfinite(value) and (value >= 0 or not scale)):
                raise Unrecordable("a continuous law's parameter is invalid")

    def _next_draw(self) -> int:
        self.n_draws += 1
        return self.n_draws - 1

    # -- reductions -----------------------------------------------------------------------------
    def sum(self, x, axis=None, keepdims=False, mean=False):
        codes = self.codes(x)
        axes = tuple(range(codes.ndim)) if axis is None else (
            (axis,) if isinstance(axis, numbers.Integral) else tuple(axis))
        axes = tuple(a % max(codes.ndim, 1) for a in axes)
        keep = [a for a in range(codes.ndim) if a not in axes]
        moved = np.transpose(codes, keep + list(axes))
        moved = moved.reshape(moved.shape[:len(keep)] + (-1,))
        count = moved.shape[-1]
        out = np.empty(moved.shape[:-1], dtype=np.int64)
        for index in np.ndindex(out.shape):
            terms = moved[index]
            if count == 0:
                out[index] = self.const(0.0, FLOAT)
                continue
            total = terms[0]
            if self.kind(total) == BOOL:  # np.sum counts booleans
                total = self.node(O.ADD, [self.const(0, INT), total], np.add)
            for t in terms[1:]:
                total = self.node(O.ADD, [total, t], np.add)
            if mean:
                total = self.node(O.DIV, [total, self.const(count, INT)], np.true_divide)
            out[index] = total
        if keepdims:
            out = out.reshape(tuple(1 if a in axes else n for a, n in enumerate(codes.shape)))
        return self.wrap(out)


def _holds_traced(x) -> bool:
    if isinstance(x, Traced):
        return True
    return isinstance(x, list | tuple) and any(_holds_traced(e) for e in x)


_SCALAR_KINDS = {bool: BOOL, np.bool_: BOOL, int: INT, np.int64: INT, float: FLOAT,
                 np.float64: FLOAT}
"""Python and numpy scalar types whose constants :meth:`Recorder.codes` takes directly."""
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _kind_of_dtype(dtype) -> int:
    return BOOL if dtype.kind == "b" else INT if dtype.kind in "iu" else FLOAT


def _typed(value: float, kind: int):
    return bool(value) if kind == BOOL else int(value) if kind == INT else value


class Traced:
    """A placeholder value of a recording: operand codes of the logical shape."""

    __array_priority__ = 1000
    __slots__ = ("recorder", "codes")

    def __init__(self, recorder: Recorder, codes: np.ndarray):
        self.recorder = recorder
        self.codes = codes

    # -- shape ----------------------------------------------------------------------------------
    @property
    def shape(self):
        return self.codes.shape

    @property
    def ndim(self):
        return self.codes.ndim

    @property
    def size(self):
        return self.codes.size

    def __len__(self):
        if not self.codes.ndim:
            raise TypeError("len() of a scalar value")
        return len(self.codes)

    def __iter__(self):
        return (self.recorder.wrap(c) for c in self.codes)

    def __getitem__(self, index):
        if _holds_traced(index) or (isinstance(index, tuple)
                                    and any(_holds_traced(i) for i in index)):
            raise Unrecordable("indexing with a random index")
        return self.recorder.wrap(self.codes[index])

    def reshape(self, *shape):
        return self.recorder.wrap(self.codes.reshape(*shape))

    def ravel(self):
        return self.recorder.wrap(self.codes.ravel())

    @property
    def T(self):
        return self.recorder.wrap(self.codes.T)

    def sum(self, axis=None, keepdims=False, **kwargs):
        return _function(np.sum, (self,), dict(axis=axis, keepdims=keepdims, **kwargs))

    def mean(self, axis=None, keepdims=False, **kwargs):
        return _function(np.mean, (self,), dict(axis=axis, keepdims=keepdims, **kwargs))

    def astype(self, dtype, **kwargs):
        dtype = np.dtype(dtype)
        rec = self.recorder
        if dtype.kind == "b":
            return rec.elementwise(O.NE, [self, 0], np.not_equal)
        if dtype.kind in "iu":
            if all(rec.kind(c) != FLOAT for c in self.codes.reshape(-1)):
                return _retyped(self, INT)
            return rec.elementwise(O.TRUNC, [self], np.trunc)
        if dtype.kind == "f" and dtype.itemsize == 8:
            return _retyped(self, FLOAT)
        raise Unrecordable(f"a cast to {dtype}")

    # -- what a recording cannot follow -------------------------------------------------------
    def __bool__(self):
        raise Unrecordable("bool() of a value (a Python branch on a random value)")

    def __float__(self):
        raise Unrecordable("float() of a value")

    def __int__(self):
        raise Unrecordable("int() of a value")

    def __index__(self):
        raise Unrecordable("a value used as an index")

    def __array__(self, dtype=None, copy=None):
        raise Unrecordable("a value converted to a plain array (a black box or an "
                           "unsupported function)")

    def __repr__(self):
        return f"Traced(shape={self.shape})"

    # -- numpy protocols ----------------------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if hook.recording() is not self.recorder:
            raise ValueError(TWO_RUNS)
        if method != "__call__" or kwargs.get("out") is not None:
            raise Unrecordable(f"{ufunc.__name__}.{method}")
        if kwargs.keys() - {"dtype", "casting"}:
            raise Unrecordable(f"{ufunc.__name__} with {sorted(kwargs)}")
        rec = self.recorder
        if ufunc is np.positive:
            return inputs[0]
        if ufunc in O.UNARY:
            return rec.elementwise(O.UNARY[ufunc], list(inputs), ufunc)
        if ufunc in O.BINARY:
            return rec.elementwise(O.BINARY[ufunc], list(inputs), ufunc)
        if ufunc in (np.bitwise_and, np.bitwise_or, np.bitwise_xor, np.invert):
            return _logical(rec, ufunc, inputs)
        raise Unrecordable(f"the function {ufunc.__name__} has no compiled rule")

    def __array_function__(self, func, types, args, kwargs):
        return _function(func, args, kwargs)


def _retyped(x: Traced, kind: int) -> Traced:
    """``x`` seen as ``kind`` (a cast that changes no number: bool or int to float)."""
    rec = x.recorder
    out = np.empty(x.shape, dtype=np.int64)
    for index in np.ndindex(x.shape):
        code = x.codes[index]
        if code < 0:
            out[index] = rec.const(rec.consts[-1 - code], kind)
        elif rec.kind(code) == kind:
            out[index] = code
        else:
            out[index] = rec.node(O.ADD, [code, rec.const(0.0, kind)], np.add)
    return rec.wrap(out)


_LOGICAL = {np.bitwise_and: (O.AND, np.logical_and), np.bitwise_or: (O.OR, np.logical_or),
            np.bitwise_xor: (O.XOR, np.logical_xor), np.invert: (O.NOT, np.logical_not)}


def _logical(rec: Recorder, ufunc, inputs):
    """``&``, ``|``, ``^`` and ``~`` on truth values (integer bit operations are not
    recorded)."""
    if any(rec.kind(c) != BOOL for x in inputs for c in rec.codes(x).reshape(-1)):
        raise Unrecordable(f"{ufunc.__name__} on integers (bit operations)")
    op, fold = _LOGICAL[ufunc]
    return rec.elementwise(op, list(inputs), fold)


def _recorder_of(values):
    for v in values:
        if isinstance(v, Traced):
            return v.recorder
        if isinstance(v, list | tuple):
            found = _recorder_of(v)
            if found is not None:
                return found
    return None


def _function(func, args, kwargs):
    """numpy functions on placeholders: the few a recording unrolls."""
    rec = _recorder_of(list(args) + list(kwargs.values()))
    name = getattr(func, "__name__", str(func))
    if func is np.where and len(args) == 3 and not kwargs:
        return rec.elementwise(O.WHERE, list(args), np.where)
    if func in (np.sum, np.mean) and not kwargs.keys() - {"axis", "keepdims", "dtype"}:
        if kwargs.get("dtype") not in (None, float, np.float64):
            raise Unrecordable(f"np.{name} with dtype={kwargs['dtype']}")
        axis = args[1] if len(args) > 1 else kwargs.get("axis")
        return rec.sum(args[0], axis=axis, keepdims=kwargs.get("keepdims", False),
                       mean=func is np.mean)
    if func in (np.stack, np.concatenate) and not kwargs.keys() - {"axis"}:
        parts = [rec.codes(a) for a in args[0]]
        return rec.wrap(func(parts, *args[1:], **kwargs))
    if func in (np.reshape, np.transpose, np.ravel, np.broadcast_to, np.squeeze,
                np.expand_dims, np.moveaxis, np.atleast_1d, np.swapaxes):
        return rec.wrap(func(rec.codes(args[0]), *args[1:], **kwargs))
    if func in (np.shape, np.ndim, np.size):
        return func(rec.codes(args[0]), *args[1:], **kwargs)
    if isinstance(func, np.ufunc):  # np.maximum(x, y) and friends through the function API
        return Traced.__array_ufunc__(_first_traced(args), func, "__call__", *args, **kwargs)
    raise Unrecordable(f"the numpy function {name} is not recorded")


def _first_traced(values):
    for v in values:
        if isinstance(v, Traced):
            return v
    raise Unrecordable("no placeholder among the arguments")


def _operator(ufunc, reflected=False):
    if reflected:
        return lambda self, other: self.__array_ufunc__(ufunc, "__call__", other, self)
    return lambda self, other: self.__array_ufunc__(ufunc, "__call__", self, other)


for _name, _ufunc in {**BINARY_OPERATORS, **COMPARISONS}.items():
    setattr(Traced, f"__{_name}__", _operator(_ufunc))
    if _name not in COMPARISONS:
        setattr(Traced, f"__r{_name}__", _operator(_ufunc, reflected=True))
for _name, _ufunc in UNARY_OPERATORS.items():
    setattr(Traced, f"__{_name}__",
            lambda self, _u=_ufunc: self.__array_ufunc__(_u, "__call__", self))
Traced.__hash__ = None


def record(f, shape: tuple[int, ...]):
    """Run ``f`` on a placeholder parameter of logical ``shape``.

    Returns ``(recorder, result)``: the recording and ``f``'s result (a :class:`Traced`, or a
    constant). Raises :class:`Unrecordable` with the reason when ``f`` cannot be recorded.

    Examples
    --------
    >>> rec, out = record(lambda p: 2 * p + 1, ())
    >>> [node.op for node in rec.nodes]   # the parameter, a product, p·2 + 1 in one row, a sum
    [50, 22, 41, 20]
    >>> rec.nodes[out.codes.item()].args[0]   # of the parameter: the product is dropped
    0
    >>> rec.exact   # the sum is the chain as written, for where rounding matters
    {2: 3}
    """
    rec = Recorder()
    size = int(np.prod(shape))
    if size > MAX_ELEMENTS:
        raise Unrecordable(f"a parameter of {size} elements")
    codes = np.array([rec.add(O.INPUT, [], FLOAT, True, False, aux=i) for i in range(size)],
                     dtype=np.int64).reshape(shape)
    token = hook.RECORDER.set(rec)
    try:
        result = f(rec.wrap(codes))
    finally:
        hook.RECORDER.reset(token)
    return rec, result
