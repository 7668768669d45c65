"""The dual number of the replay engine's tracking run (DESIGN §5).

``Dual(v, d)`` carries a primal value and its dual part (Python floats for a scalar
parameter, numpy arrays for an array one). Arithmetic follows the chain rule; numpy ufuncs go
through the one rule table (:data:`stochad.rules.RULES`); comparisons compare primal values,
so Python ``if``/``while`` work. ``float()``/``int()`` of a dual number whose dual part is not
zero raise (``math.exp(p)`` would drop the derivative silently).

A value computed from a continuous draw also carries its *provenance* (:class:`Source`): the
record of the latest continuous draw it depends on and, while it stays affine in that draw's
standard noise ``z``, the coefficients of ``value = a + b·z`` (``a``, ``b`` dual numbers that do
not depend on ``z``). A comparison with a moving threshold then *is* a Bernoulli event on that
draw's noise; the current tape records it (see :mod:`stochad.replay`). Any other comparison
that a perturbation could flip emits :class:`LostDerivativeWarning`.

Examples
--------
>>> x = Dual(2.0, 1.0)
>>> y = 3 * x * x + 1
>>> y.v, y.d
(13.0, 12.0)
>>> import numpy as np
>>> z = np.exp(x)
>>> round(z.v, 6) == round(z.d, 6)
True
>>> bool(x > 1.5)
True
"""

from __future__ import annotations

import operator

import numpy as np

from . import steps
from .context import current_tape
from .rules import RULES

FIX_CONVERT = (
    "use numpy or stochad functions on the dual number itself (np.exp(x), sad.exp(x), not "
    "math.exp), or compute with operators (int(x), math.floor(x), round(x), np.floor(x), "
    "x % y, divmod follow the jumps); collect such values in a Python list (np.stack makes "
    "an array of them) or an array made with dtype=object, not by item assignment into a "
    "float array"
)


ELEMENTS_AT_ONCE = 64
"""A 1-d array of draws up to this size whose elements are seen one by one (a slice,
``np.cumsum``, ``np.sort`` of draws, or a draw itself for ``np.sum``) is compared with one
number, and summed, element by element: exact, as the same loop written out would be.
Larger ones stay with numpy (fast; a comparison of the whole with a moving threshold
warns)."""


class LostDerivativeWarning(RuntimeWarning):
    """A comparison that a perturbation could flip, where the flip cannot be followed: the
    derivative loses that mass. Compare a draw (or an affine function of one continuous draw)
    with the moving threshold instead, or draw the event with ``bernoulli``."""


class Source:
    """Provenance of a value: ``rec`` (the latest continuous draw it depends on) and, if it is
    affine in that draw's noise, ``value = a + b·z`` with ``a = (av, ad)``, ``b = (bv, bd)``
    (``av is None``: not affine)."""

    __slots__ = ("rec", "av", "ad", "bv", "bd", "seen")

    def __init__(self, rec, av=None, ad=None, bv=None, bd=None):
        self.rec, self.av, self.ad, self.bv, self.bd = rec, av, ad, bv, bd
        self.seen = None  # the last float threshold compared with (see _ordering)


class Elements(Source):
    """Provenance of a 1-d array whose elements are known one by one as dual numbers with
    provenances of their own (``elements``): a slice of an array draw (``ts[1:]``), its running
    sum (``np.cumsum(ts)``, each element the newest draw plus the older ones, as ``t += x``
    in a loop builds it) or its sorted values. Indexing it gives those numbers, so their
    comparisons are events on their draws; as a whole array it is not affine (``av`` is
    ``None``: a comparison of the whole array with a moving threshold warns)."""

    __slots__ = ("elements",)

    def __init__(self, rec, elements):
        super().__init__(rec)
        self.elements = elements


def _one_number(o) -> bool:
    """Whether ``o`` is one number with no draw behind it."""
    return isinstance(o, float | int) or type(o) is Dual and o.src is None \
        and type(o.v) is float and type(o.d) is float


def _each_element(x, y, op):
    """``op(x, y)`` element by element where one side is a dual array whose elements are
    known one by one (:class:`Elements`) and the other one number with no draw behind it
    (``2 * np.cumsum(gaps)``, ``2.0 - arrivals``): the elements keep their provenance.
    ``None`` where that does not apply."""
    if type(x) is Dual and type(x.src) is Elements and _one_number(y):
        return _of_elements([op(e, y) for e in x.src.elements], x.src.rec)
    if type(y) is Dual and type(y.src) is Elements and _one_number(x):
        return _of_elements([op(x, e) for e in y.src.elements], y.src.rec)
    return None


def _checked_index(key, size):
    """``key`` as an int, or numpy's ``IndexError`` if it is out of range for ``size``."""
    key = int(key)
    if not -size <= key < size:
        raise IndexError(f"index {key} is out of bounds for axis 0 with size {size}")
    return key


def _flat_indices(shape, key):
    """The flat indices ``key`` picks as a 1-d array: a slice of a 1-d array (``ts[1:]``) or
    a row of a 2-d one (``X[i]``); ``None`` for any other key."""
    if len(shape) == 1 and type(key) is slice:
        return range(shape[0])[key]
    if len(shape) == 2 and (type(key) is int or isinstance(key, np.integer)):
        rows, columns = shape
        start = _checked_index(key, rows) % rows * columns
        return range(start, start + columns)
    return None


def _of_elements(elements, rec):
    """The 1-d dual array of the dual numbers ``elements`` (:class:`Elements`)."""
    return Dual(np.array([e.v for e in elements], dtype=float),
                np.array([e.d for e in elements], dtype=float), Elements(rec, elements))


def _elements(a, indices=None):
    """The elements of a dual array (those at flat ``indices``, a range: all by default) one
    by one as dual numbers with their own provenance (element views of an array draw,
    :meth:`stochad.tracking.Tracking.element`), or ``None`` where they cannot be seen alone."""
    src = a.src
    if type(src) is Elements:
        return src.elements if indices is None else [src.elements[i] for i in indices]
    tape = current_tape()
    if src is None or src.av is None or np.ndim(a.v) == 0 or not hasattr(tape, "elements"):
        return None
    shape = np.shape(a.v)
    sources = tape.elements(src, shape)
    if sources is None:
        return None
    values = a.v.reshape(-1).tolist()
    duals = np.broadcast_to(a.d, shape).reshape(-1).tolist()
    return [Dual(values[i], duals[i], sources[i])
            for i in (range(len(values)) if indices is None else indices)]


def _parts(x):
    if type(x) is Dual:
        if x.src is not None:
            x.src.rec.escaped = True
        return x.v, x.d, x.src
    return x, 0.0, None


def _escaped(*sources):
    """Mark the draws of ``sources`` as used beyond comparisons (their replay needs a
    reference run at the boundary, see stochad.replay)."""
    for s in sources:
        if s is not None:
            s.rec.escaped = True


def read_as_number(src):
    """Mark the draw behind ``src`` (if any) as read as a plain number: a parameter of a later
    draw, ``np.asarray(x)`` (``int(x)`` is a step function instead, :mod:`stochad.steps`). Its
    noise is used up, and which comparisons the program then reaches may
    depend on it in ways no interval of the noise holds (``k = rng.poisson(3 * u); if k < 2:
    return u < p``): a later event on the draw warns (:meth:`stochad.tracking.Tracking.event`)."""
    if src is not None:
        src.rec.escaped = True
        src.rec.make_opaque()


def read_plain(src):
    """:func:`read_as_number` of a value the program gets as a plain number (``float(u)``,
    ``math.log(u)``, an item of a float array): the run notes that a continuous draw left
    as a plain number, which a later comparison of a moving value with a plain number may
    be one with (``_compare`` warns: nothing marks the number as that draw's)."""
    if src is not None:
        read_as_number(src)
        tape = current_tape()
        if tape is not None:
            tape.read_plain = True


def _fold(old, new):
    """Fold the draw of source ``old`` into the provenance of the newer draw record ``new``
    (``old``'s noise is used up): a later branch on ``new`` reveals something of ``old`` too,
    which an event on ``old`` must not ignore (``NoiseRecord.fold``, and
    :meth:`stochad.tracking.Tracking.event`)."""
    if old is not None and old.rec is not new:
        new.fold(old.rec)


def _add_src(xv, xd, sx, yv, yd, sy, sign):
    """Source of ``x + sign·y``. A draw whose noise the result's provenance keeps (affine) is
    not used up; the older draw's noise, folded into the coefficient ``a``, is."""
    if sy is None or (sx is not None and sx.rec.serial > sy.rec.serial):
        _fold(sy, sx.rec)
        if sx.av is None:
            _escaped(sx)
            return Source(sx.rec)
        return Source(sx.rec, sx.av + sign * yv, sx.ad + sign * yd, sx.bv, sx.bd)
    if sx is None or sy.rec.serial > sx.rec.serial:
        _fold(sx, sy.rec)
        if sy.av is None:
            _escaped(sy)
            return Source(sy.rec)
        return Source(sy.rec, xv + sign * sy.av, xd + sign * sy.ad, sign * sy.bv, sign * sy.bd)
    if sx.av is None or sy.av is None:  # both depend on the same draw
        _escaped(sx)
        return Source(sx.rec)
    return Source(sx.rec, sx.av + sign * sy.av, sx.ad + sign * sy.ad, sx.bv + sign * sy.bv,
                  sx.bd + sign * sy.bd)


def _scale_src(s, cv, cd, divide):
    """Source of ``x·c`` (or ``x / c``) where ``x`` has source ``s`` and ``c`` does not depend
    on its draw (an affine provenance keeps the draw's noise: not used up). ``0·x`` is 0
    whatever the draw: no provenance (a zero rate in ``r1·up + r2·down`` drew ``down`` into
    the sum as its newest draw, whose coefficient 0 no comparison can be an event on)."""
    if not divide and type(cv) is not np.ndarray and cv == 0 and cd == 0:
        return None
    if s.av is None:
        _escaped(s)
        return Source(s.rec)
    if divide:  # (d·c − v·dc)/c² as (d − (v/c)·dc)/c: c² underflows for |c| < 1e-154
        av, bv = s.av / cv, s.bv / cv
        return Source(s.rec, av, (s.ad - av * cd) / cv, bv, (s.bd - bv * cd) / cv)
    return Source(s.rec, s.av * cv, s.av * cd + s.ad * cv, s.bv * cv, s.bv * cd + s.bd * cv)


def _product_src(xv, xd, sx, yv, yd, sy, divide):
    if sy is None or (sx is not None and sx.rec.serial > sy.rec.serial):
        _fold(sy, sx.rec)
        return _scale_src(sx, yv, yd, divide)
    if sx is None and not divide:
        return _scale_src(sy, xv, xd, False)
    return _latest([sx, sy])


def _latest(sources):
    """A provenance that is not affine: the newest of ``sources``' draws, the others folded
    into it."""
    recs = [s.rec for s in sources if s is not None]
    if not recs:
        return None
    newest = max(recs, key=lambda r: r.serial)
    for s in sources:
        _fold(s, newest)
    newest.escaped = True
    return Source(newest)


def nonzero(d) -> bool:
    """Whether a dual part ``d`` (a number or an array; ``None``: a plain parameter) is not
    zero."""
    if type(d) is float or type(d) is int:
        return d != 0
    return d is not None and bool(np.any(np.asarray(d) != 0))


def _moving(s) -> bool:
    """Whether an affine source's coefficients carry a dual part, or its draw's law moves
    with the parameter (:class:`stochad.cdf_laws.Bound`: its value's dual part may be 0)."""
    return s is not None and (s.rec.law.moving or s.av is not None and (
        nonzero(s.ad) or nonzero(s.bd)))


def _narrow(tape, op, result, rec, av, bv):
    """Tell the tape what ``result = op(a + b·z, 0)``, which nothing moves, revealed of the
    scalar noise ``z`` of ``rec`` (a fixed threshold: ``if u < 0.3: ... elif u < p:``), or
    that it revealed what an interval cannot hold (``av is None``: not affine in ``z``)."""
    if type(av) is not float or type(bv) is not float or type(result) is not bool:
        if type(rec.z) is not float:  # an array's noise keeps no interval: a later event
            tape.opaque(rec)          # on it, or on an element of it, warns
            return
        if av is None:
            tape.opaque(rec)
            return
        if (type(av) is not float or type(bv) is not float or type(result) is not bool) \
                and (np.ndim(av) or np.ndim(bv) or np.ndim(result)):  # u > np.array([0.2, 0.5])
            for a, b, r in zip(*(np.broadcast_arrays(av, bv, result)), strict=True):
                _narrow(tape, op, bool(r), rec, float(a), float(b))
            return
        av, bv, result = float(av), float(bv), bool(result)  # numpy scalars
    if bv != 0.0:
        lower = op is operator.lt or op is operator.le
        tape.narrow(result if lower == (bv > 0.0) else not result, rec, -av / bv)


def _narrow_side(tape, op, result, s, xv, yv, left):
    """:func:`_narrow` for the draw of source ``s`` on the ``left`` (``x``) or right side of
    ``op(x, y)``, the other side's value held fixed."""
    if left:
        _narrow(tape, op, result, s.rec, None if s.av is None else s.av - yv, s.bv)
    else:
        _narrow(tape, op, result, s.rec, None if s.av is None else xv - s.av,
                None if s.bv is None else -s.bv)


def _compare(op, x, y):
    if type(x) is Dual:
        xv, xd, sx = x.v, x.d, x.src
    else:
        xv, xd, sx = x, 0.0, None
    if type(y) is Dual:
        yv, yd, sy = y.v, y.d, y.src
    else:
        yv, yd, sy = y, 0.0, None
    if type(sx) is Elements and sy is None and np.ndim(yv) == 0 \
            and len(sx.elements) <= ELEMENTS_AT_ONCE:  # ts[1:] < p: each element's comparison
        return np.array([op(e, y) for e in sx.elements])
    if type(sy) is Elements and sx is None and np.ndim(xv) == 0 \
            and len(sy.elements) <= ELEMENTS_AT_ONCE:
        return np.array([op(x, e) for e in sy.elements])
    if type(xv) is float and sx is not None and type(y) is Dual and type(yv) is not float \
            and np.ndim(yv) == 1 and len(yv) <= ELEMENTS_AT_ONCE:  # u < p * np.array([1, 2]):
        return np.array([op(x, e) for e in y])                # one event a threshold
    if type(yv) is float and sy is not None and type(x) is Dual and type(xv) is not float \
            and np.ndim(xv) == 1 and len(xv) <= ELEMENTS_AT_ONCE:
        return np.array([op(e, y) for e in x])
    result = op(xv, yv)
    if (op is operator.eq or op is operator.ne) and (sx is None or sx.av is not None) \
            and (sy is None or sy.av is not None):
        # a draw affine in a continuous noise equals a given value with probability 0, at its
        # replayed values too: == reveals nothing of the noise (a heap's tuples test t1 == t2
        # before t1 < t2), which then needs no reference replay (stochad.replay._used)
        return result
    if op is operator.eq or op is operator.ne or not (
            (xd != 0.0 if type(xd) is float else nonzero(xd))
            or (yd != 0.0 if type(yd) is float else nonzero(yd))
            or _moving(sx) or _moving(sy)):
        # nothing moves: a plain comparison; it still reads the noise of its draws, which
        # another comparison's replay must then hold fixed (stochad.replay)
        if sx is not None or sy is not None:
            _escaped(sx, sy)
            tape = current_tape()
            if tape is None or op is operator.eq or op is operator.ne:
                return result
            if sx is not None and sy is not None and sx.rec is sy.rec:
                # one draw on both sides (u < 1 - u): affine if both sides are
                s = _add_src(xv, xd, sx, yv, yd, sy, -1)
                _narrow(tape, op, result, s.rec, s.av, s.bv)
                return result
            # each draw against the other side's value (a fixed threshold, or the other
            # draw's: u2 < u1 narrows both)
            if sx is not None:
                _narrow_side(tape, op, result, sx, xv, yv, True)
            if sy is not None:
                _narrow_side(tape, op, result, sy, xv, yv, False)
        return result
    if sy is None and sx is not None and sx.av is not None:  # draw vs threshold (hot path)
        tape = current_tape()
        return result if tape is None else tape.compare_affine(
            op, result, sx.rec, sx.av - yv, sx.ad - yd, sx.bv, sx.bd)
    if sx is None and sy is not None and sy.av is not None:  # threshold vs draw
        tape = current_tape()
        return result if tape is None else tape.compare_affine(
            op, result, sy.rec, xv - sy.av, xd - sy.ad, -sy.bv, -sy.bd)
    tape = current_tape()
    if sx is None and sy is None and (not np.any(xv == yv) or np.all(xd == yd)):
        # no draw's noise behind either side: a deterministic value (the parameter, or a
        # function of it and of discrete draws) crosses a fixed one only at isolated parameter
        # values, so the comparison cannot flip under an infinitesimal move (5.0 < s at s = 4);
        # at a tie it can, unless both sides move alike (max(z, s) <= s picked s itself), and
        # the tape warns below. Unless the run read a draw as a plain number: a plain float
        # here may be it (-math.log(u) / lam > 1), which the tape warns of (a plain int is a
        # count, a discrete draw's: float(u) and math.* give floats)
        if tape is not None and tape.read_plain and not isinstance(x, int | np.integer) \
                and not isinstance(y, int | np.integer):
            return tape.compare_plain(result)
        return result
    if sx is not None and sy is not None and sx.rec is not sy.rec and tape is not None:
        older = sx if sx.rec.serial < sy.rec.serial else sy
        if older.rec.into is None:
            # two draws that move (an arrival's time against a departure's, then each
            # against the horizon): the event is on the newer draw's noise, the older's value
            # held fixed; the outcome narrows the older draw's interval, the newer's value held
            # fixed, as when nothing moves, so that a later event on the older draw is weighted
            # within its cell. (An older draw folded into a newer one's provenance before may
            # be inside the other side's value: then its noise is used up, below.)
            _escaped(older)
            _narrow_side(tape, op, result, older, xv, yv, older is sx)
            src = _add_src(xv, xd, None, yv, yd, sy, -1) if older is sx \
                else _add_src(xv, xd, sx, yv, yd, None, -1)
            return tape.compare(op, result, src)
    # the comparison is an event on the newer draw's noise (x − y keeps it, affine); the older
    # draw's value moves the threshold, so its noise is used up (_add_src)
    src = None if sx is None and sy is None else _add_src(xv, xd, sx, yv, yd, sy, -1)
    if tape is None:
        return result
    return tape.compare(op, result, src)


def _ordering(op, lower):
    """``Dual.__lt__`` and friends: ``op`` on primal values. ``lower``: whether ``op(x, y)``
    true puts ``x`` below ``y``. The hot path, a scalar draw (affine in its noise ``z``)
    against a threshold without provenance, goes straight to the tape: the comparison is a
    Bernoulli event on ``z`` if anything moves, else it narrows what the run knows of ``z``."""

    def compare(x, y):
        src = x.src
        if src is None:
            return _compare(op, x, y)
        if type(y) is Dual:
            if y.src is not None:
                return _compare(op, x, y)
            yv, yd = y.v, y.d
        else:
            if (type(y) is float or type(y) is int) and src.seen == y:
                # compared with this threshold before (while t < T, then if t >= T): the
                # same event or the same narrowing, already on the tape
                return op(x.v, y)
            yv, yd = y, 0.0
        xv, xd, ad, bv, bd = x.v, x.d, src.ad, src.bv, src.bd
        if type(xd) is not float or type(yd) is not float or type(ad) is not float \
                or type(bd) is not float or type(bv) is not float or bv == 0.0:
            return _compare(op, x, y)
        result = op(xv, yv)
        tape = current_tape()
        if tape is None or type(result) is not bool:
            return _compare(op, x, y)
        av = src.av - yv
        if type(av) is not float:
            return _compare(op, x, y)
        below = result if lower == (bv > 0.0) else not result
        if xd != 0.0 or yd != 0.0 or ad != 0.0 or bd != 0.0 or src.rec.law.moving:
            tape.event(below, src.rec, av, ad - yd, bv, bd)
        else:
            tape.narrow(below, src.rec, -av / bv)
        if yd == 0.0:
            src.seen = yv
        return result

    return compare


class Dual:
    """A value with a dual part (and a provenance, see the module docstring)."""

    __slots__ = ("v", "d", "src")
    __array_priority__ = 100

    def __init__(self, v, d, src=None):
        self.v, self.d, self.src = v, d, src

    # -- arithmetic (fast paths for the common case: no continuous provenance) ---------------
    def __add__(self, o):
        if type(o) is Dual:
            s, so = self.src, o.src
            if s is None and so is None:
                return Dual(self.v + o.v, self.d + o.d)
            if s is not None and so is not None and so.av is not None \
                    and so.rec.serial > s.rec.serial:
                # t += rng.exponential(...) (inline _add_src): the newer draw's noise stays
                # affine, the older one is folded into the coefficient a, used up
                so.rec.fold(s.rec)
                return Dual(self.v + o.v, self.d + o.d,
                            Source(so.rec, self.v + so.av, self.d + so.ad, so.bv, so.bd))
            each = _each_element(self, o, operator.add)
            if each is not None:
                return each
            return Dual(self.v + o.v, self.d + o.d,
                        _add_src(self.v, self.d, s, o.v, o.d, so, 1))
        if isinstance(o, np.ndarray) and o.dtype == object:
            return NotImplemented
        s = self.src
        if s is None:
            return Dual(self.v + o, self.d)
        if s.av is None:  # a draw plus a number (t += rng.exponential(s)): inline
            if type(s) is Elements:
                each = _each_element(self, o, operator.add)
                if each is not None:
                    return each
            s.rec.escaped = True
            return Dual(self.v + o, self.d, Source(s.rec))
        return Dual(self.v + o, self.d, Source(s.rec, s.av + o, s.ad, s.bv, s.bd))

    __radd__ = __add__

    def __sub__(self, o):
        if type(o) is Dual:
            if self.src is None and o.src is None:
                return Dual(self.v - o.v, self.d - o.d)
            each = _each_element(self, o, operator.sub)
            if each is not None:
                return each
            return Dual(self.v - o.v, self.d - o.d,
                        _add_src(self.v, self.d, self.src, o.v, o.d, o.src, -1))
        if self.src is None:
            return Dual(self.v - o, self.d)
        each = _each_element(self, o, operator.sub)
        if each is not None:
            return each
        return Dual(self.v - o, self.d, _add_src(self.v, self.d, self.src, o, 0.0, None, -1))

    def __rsub__(self, o):
        if self.src is None:
            return Dual(o - self.v, -self.d)
        each = _each_element(o, self, operator.sub)
        if each is not None:
            return each
        return Dual(o - self.v, -self.d, _add_src(o, 0.0, None, self.v, self.d, self.src, -1))

    def __neg__(self):
        if self.src is None:
            return Dual(-self.v, -self.d)
        each = _each_element(self, 0.0, lambda e, _: -e)  # (-e itself, not 0 - e: signed zeros)
        if each is not None:
            return each
        return Dual(-self.v, -self.d, _add_src(0.0, 0.0, None, self.v, self.d, self.src, -1))

    def __pos__(self):
        return self

    def __mul__(self, o):
        if type(o) is Dual:
            v = self.v * o.v
            d = self.d * o.v + self.v * o.d
            if self.src is None and o.src is None:
                return Dual(v, d)
            each = _each_element(self, o, operator.mul)
            if each is not None:
                return each
            return Dual(v, d, _product_src(self.v, self.d, self.src, o.v, o.d, o.src, False))
        if self.src is None:
            return Dual(self.v * o, self.d * o)
        each = _each_element(self, o, operator.mul)
        if each is not None:
            return each
        return Dual(self.v * o, self.d * o, _scale_src(self.src, o, 0.0, False))

    __rmul__ = __mul__

    def __truediv__(self, o):
        if type(o) is Dual:
            v = self.v / o.v
            d = (self.d - v * o.d) / o.v
            if self.src is None and o.src is None:
                return Dual(v, d)
            each = _each_element(self, o, operator.truediv)
            if each is not None:
                return each
            return Dual(v, d, _product_src(self.v, self.d, self.src, o.v, o.d, o.src, True))
        if self.src is None:
            return Dual(self.v / o, self.d / o)
        each = _each_element(self, o, operator.truediv)
        if each is not None:
            return each
        return Dual(self.v / o, self.d / o, _scale_src(self.src, o, 0.0, True))

    def __rtruediv__(self, o):
        v = o / self.v
        return Dual(v, -v * self.d / self.v, None if self.src is None else _latest([self.src]))

    def __pow__(self, o):
        v = self.v
        if self.src is None and type(v) is float and type(self.d) is float and v > 0.0 \
                and (type(o) is int or type(o) is float):  # the hot path: (1 − p) ** i
            power = v ** o
            return Dual(power, o * power / v * self.d)
        return np.power(self, o)

    def __rpow__(self, o):
        return np.power(o, self)

    def __floordiv__(self, o):
        return np.floor_divide(self, o)

    def __rfloordiv__(self, o):
        return np.floor_divide(o, self)

    def __mod__(self, o):
        return np.remainder(self, o)

    def __rmod__(self, o):
        return np.remainder(o, self)

    def __divmod__(self, o):  # h, m = divmod(t, 60): both parts follow the jumps
        return np.floor_divide(self, o), np.remainder(self, o)

    def __rdivmod__(self, o):
        return np.floor_divide(o, self), np.remainder(o, self)

    def __abs__(self):
        return np.absolute(self)

    def __matmul__(self, o):
        return np.matmul(self, o)

    def __rmatmul__(self, o):
        return np.matmul(o, self)

    # -- comparisons: primal values; a moving threshold is an event ----------------------------
    __lt__ = _ordering(operator.lt, True)
    __le__ = _ordering(operator.le, True)
    __gt__ = _ordering(operator.gt, False)
    __ge__ = _ordering(operator.ge, False)

    def __eq__(self, o):
        if self.src is None and type(o) is not Dual:  # total_rate == 0: nothing to record
            return self.v == o
        return _compare(operator.eq, self, o)

    def __ne__(self, o):
        if self.src is None and type(o) is not Dual:
            return self.v != o
        return _compare(operator.ne, self, o)

    def __hash__(self):
        raise TypeError(
            "unhashable type: a dual number (a value that moves with the parameter) cannot key "
            "a dict, a set or a cache: its value differs between the runs of a sample. Key by "
            "something discrete (an event's index or kind, a counter), or keep (time, event) "
            "pairs in a list or a heap")

    # -- conversions ------------------------------------------------------------------------------
    def _plain(self, kind, what):
        read_plain(self.src)
        if nonzero(self.d):
            raise TypeError(
                f"{what}() of a dual number with a non-zero dual part would lose its derivative "
                f"(math.* functions call {what}() too); {FIX_CONVERT}"
            )
        return kind(self.v)

    def __float__(self):
        return self._plain(float, "float")

    def __int__(self):  # truncation, its jumps followed (stochad.steps)
        return int(steps.trunc(self)) if type(self.v) is float or np.ndim(self.v) == 0 \
            else self._plain(int, "int")

    def __floor__(self):
        return int(steps.floor(self))

    def __ceil__(self):
        return int(steps.ceil(self))

    def __trunc__(self):
        return int(steps.trunc(self))

    def __index__(self):
        return self._plain(int, "index")

    def __complex__(self):
        return self._plain(complex, "complex")

    def __bool__(self):
        read_as_number(self.src)
        return bool(self.v)

    def __array__(self, dtype=None, copy=None):
        read_plain(self.src)
        if nonzero(self.d):
            raise TypeError(
                "converting a dual number to a numpy array would drop its dual part; "
                f"{FIX_CONVERT}")
        return np.asarray(self.v, dtype=dtype)

    def __round__(self, ndigits=None):
        return steps.round_to(self, ndigits)

    def within(self, low, high):
        """Compare with both edges of a cell known to hold the value, ``low < self < high``
        (a step function's, :mod:`stochad.steps`): as two comparisons, except that the event
        at each edge is weighted given the whole cell (the program picked the edges from the
        value, so it knows both before either comparison), where two comparisons in a row
        would weight the first given what was known before it."""
        # an open end says nothing (np.sign); type() first: np.ndim costs 0.6 µs on a float
        if (type(low) is float or np.ndim(low) == 0) and low == -np.inf:
            self < high  # noqa: B015
            return
        if (type(high) is float or np.ndim(high) == 0) and high == np.inf:
            self > low  # noqa: B015
            return
        src, tape = self.src, current_tape()
        if src is None or tape is None or src.av is None:
            self > low  # noqa: B015 (nothing to hold, or warns: not affine in a noise)
            self < high  # noqa: B015
            return
        if type(self.v) is not float and np.ndim(self.v) or type(src.rec.z) is not float:
            if _moving(src) or nonzero(self.d):
                raise TypeError(
                    "a step function (floor, ceil, trunc, rint, round, sign, //, %, an integer "
                    "cast) of an array of moving draws: the replay engine keeps what a "
                    "comparison says of one number's noise, not an array's. Draw the values one "
                    "at a time (size=None, in a loop) and apply it to each")
            self > low  # noqa: B015 (nothing moves: narrowings only)
            self < high  # noqa: B015
            return
        av, bv = float(src.av), float(src.bv)
        if bv == 0.0:
            return
        rec = src.rec
        flo, fhi = rec.flo, rec.fhi
        below = bv > 0.0  # self < high puts the noise below (high − a)/b
        tape.hold(below, rec, (high - av) / bv, lasting=False)
        self > low  # noqa: B015 (its event weighted within the cell)
        if below:  # the hold's side back as it was; the comparison with high sets it again
            rec.fhi = fhi
        else:
            rec.flo = flo
        self < high  # noqa: B015
        if (rec.flo != flo or rec.fhi != fhi) and rec.folded is not None:
            rec.changed()  # what the cell revealed, once it is known for good (the comparison
            # with high may be an event already on the tape, which changes nothing)

    def __repr__(self):
        return f"Dual({self.v!r}, {self.d!r})"

    def __copy__(self):  # a dual number is never changed in place: a copy is itself
        return self

    def __deepcopy__(self, memo):
        """Itself: ``copy.deepcopy`` of a state holding draws (a history of snapshots) would
        otherwise clone each draw's record, and a comparison of the copy would be weighted as
        a draw of its own, blind to what the original's comparisons revealed (P(1 ≤ T < 2)
        with the second test on a snapshot: 0.161 for -0.046, without a word)."""
        return self

    def __format__(self, spec):
        """``f"{t:.2f}"`` in a log line: the value, formatted as numpy's float would be (a
        string for the eye, not a number the program reads: nothing is marked)."""
        return format(self.v, spec) if spec else str(self)

    # -- array protocol ---------------------------------------------------------------------------
    @property
    def shape(self):
        return np.shape(self.v)

    @property
    def ndim(self):
        return np.ndim(self.v)

    @property
    def size(self):
        return np.size(self.v)

    @property
    def dtype(self):
        return np.asarray(self.v).dtype

    def __len__(self):
        return len(self.v)

    def __getitem__(self, key):
        if type(key) is Dual:
            key = key.__index__()
        src, d = self.src, self.d
        if type(src) is Elements and (type(key) is int or isinstance(key, np.integer | slice)):
            if type(key) is slice:
                return _of_elements(src.elements[key], src.rec)
            return src.elements[_checked_index(key, len(src.elements))]
        if src is not None and src.av is not None:  # ts[1:] or a row X[i]: its elements
            indices = _flat_indices(np.shape(self.v), key)
            elements = None if indices is None else _elements(self, indices)
            if elements is not None:
                return _of_elements(elements, src.rec)
        v = self.v[key]
        if type(d) is not float:
            d = d[key] if np.shape(d) == np.shape(self.v) else \
                np.broadcast_to(d, np.shape(self.v))[key]
        if isinstance(v, np.generic):  # one element: Python floats (the fast paths)
            v, d = v.item(), float(d)
            tape = current_tape()
            if src is not None and tape is not None:  # its own record (for t in times:)
                shape = np.shape(self.v)
                flat = key % shape[0] if len(shape) == 1 and isinstance(key, int | np.integer) \
                    else int(np.arange(np.size(self.v)).reshape(shape)[key])
                element = tape.element(src, int(flat), shape)
                if element is not None:
                    return Dual(v, d, element)
        _escaped(src)
        return Dual(v, d, None if src is None else Source(src.rec))

    def __iter__(self):
        if np.ndim(self.v) == 1:  # for t in times: every element's view at once, as self[i]
            elements = _elements(self)
            if elements is not None:
                return iter(elements)
        return (self[i] for i in range(len(self)))

    def reshape(self, *shape):
        shape = shape[0] if len(shape) == 1 else shape
        _escaped(self.src)
        v = np.reshape(self.v, shape)
        d = np.reshape(np.broadcast_to(self.d, np.shape(self.v)), shape)
        if v.ndim == 0:  # one number: Python floats (the fast paths)
            v, d = v.item(), d.item()
        return Dual(v, d, None if self.src is None else Source(self.src.rec))

    def sum(self, axis=None, **kwargs):
        return np.sum(self, axis=axis, **kwargs)

    def mean(self, axis=None, **kwargs):
        return np.mean(self, axis=axis, **kwargs)

    def cumsum(self, axis=None, **kwargs):
        return np.cumsum(self, axis=axis, **kwargs)

    def max(self, axis=None, **kwargs):
        return np.max(self, axis=axis, **kwargs)

    def min(self, axis=None, **kwargs):
        return np.min(self, axis=axis, **kwargs)

    def argmax(self, axis=None, **kwargs):
        return np.argmax(self, axis=axis, **kwargs)

    def argmin(self, axis=None, **kwargs):
        return np.argmin(self, axis=axis, **kwargs)

    def ravel(self):  # (of a 1-d array itself, its elements' records kept)
        return self if np.ndim(self.v) <= 1 else np.ravel(self)

    @property
    def T(self):  # noqa: N802 (numpy's name)
        return self if np.ndim(self.v) <= 1 else np.transpose(self)

    def copy(self):  # never changed in place (no item assignment): a copy is itself
        return self

    def tolist(self):
        """The elements as a (nested) list of dual numbers, as ``list(x)`` gives them (for
        an array of draws, each element's own record: ``for t in x.tolist():``)."""
        if np.ndim(self.v) == 0:
            return self
        return [e.tolist() if type(e) is Dual else e for e in self]

    def item(self, *args):
        """The one element, or the element ``args`` name (a flat index, or one index per
        axis, as numpy's), as a dual number with its own record."""
        shape = np.shape(self.v)
        if not args and np.size(self.v) != 1:
            raise ValueError("can only convert an array of size 1 to a Python scalar")
        if not shape:
            return self
        flat = args[0] if len(args) == 1 else None
        return self[np.unravel_index(flat, shape) if flat is not None
                    else args if args else (0,) * len(shape)]

    def astype(self, dtype):
        kind = np.dtype(dtype).kind
        if kind not in "biu":
            return self
        if kind == "b":  # != 0: a tie, probability 0 for a draw
            read_as_number(self.src)
            return np.asarray(self.v).astype(dtype)
        return np.asarray(steps.trunc(self)).astype(dtype)  # its jumps followed

    def __array_ufunc__(self, ufunc, method, *args, **kwargs):
        if method != "__call__":
            raise TypeError(
                f"numpy.{ufunc.__name__}.{method} is not supported on dual numbers: write it "
                "as a loop over the elements (a running maximum: m = max(m, x)), or use the "
                "numpy functions stochad follows (np.cumsum, np.max, np.sum, np.diff)")
        if kwargs.get("out") is not None:
            return NotImplemented
        if ufunc in _COMPARISON_UFUNCS:
            return _compare(_COMPARISON_UFUNCS[ufunc], *args)
        if ufunc in _AFFINE and any(type(a) is Dual and a.src is not None for a in args):
            return _AFFINE[ufunc](*args)
        if ufunc in _STEPS:
            return _STEPS[ufunc](*args)
        if ufunc in _KINKS and any(type(a) is Dual and a.src is not None for a in args) \
                and all(type(a) is not Dual or a.src is None or a.src.av is not None
                        for a in args) \
                and all(type(v) is float or np.ndim(v) == 0
                        for v in (a.v if type(a) is Dual else a for a in args)):
            return _KINKS[ufunc](*args)
        if ufunc is np.matmul:  # (a plain side's dual part is a scalar 0: no term, W @ h)
            (av, ad, sa), (bv, bd, sb) = _parts(args[0]), _parts(args[1])
            out = np.matmul(av, bv)
            d = np.zeros(np.shape(out))
            if nonzero(ad):
                d = d + np.matmul(np.broadcast_to(ad, np.shape(av)), bv)
            if nonzero(bd):
                d = d + np.matmul(av, np.broadcast_to(bd, np.shape(bv)))
            if np.ndim(out) == 0:
                out, d = float(out), float(d)
            return Dual(out, d, _latest([sa, sb]))
        rule = RULES.get(ufunc)
        if rule is None and ufunc in _PREDICATES:  # tests of the value: nothing to carry
            return ufunc(*(_parts(a)[0] for a in args))
        if rule is None:
            raise TypeError(
                f"numpy.{ufunc.__name__} has no derivative rule in stochad (supported: the "
                "functions of stochad.rules.RULES, comparisons, np.floor/np.ceil/np.sign and "
                "the kinks np.maximum/np.minimum/np.clip); write a step as a comparison, "
                "which the replay engine follows (np.heaviside(x, 0.5) as float(x > 0))")
        parts = [_parts(a) for a in args]
        values = [p[0] for p in parts]
        out = ufunc(*values)
        d = 0.0
        for (_, dv, _), partial in zip(parts, rule.partials, strict=True):
            if partial is None or not nonzero(dv):
                continue
            if partial == 1:
                d = d + dv
            elif partial == -1:
                d = d - dv
            else:
                with np.errstate(divide="ignore", invalid="ignore"):
                    term = partial(*values, out) * dv
                if rule.mask_partials:
                    term = np.where(dv == 0, 0.0, term)
                d = d + term
        if isinstance(out, np.generic) or (isinstance(out, np.ndarray) and out.ndim == 0):
            out = out.item()
        if isinstance(d, np.generic) or (isinstance(d, np.ndarray) and d.ndim == 0):
            d = d.item()
        return Dual(out, d, _latest([p[2] for p in parts]))

    def __array_function__(self, func, types, args, kwargs):
        impl = _ARRAY_FUNCTIONS.get(func)
        if impl is None:
            raise TypeError(f"numpy.{func.__name__} is not supported on dual numbers; supported: "
                            f"{', '.join(sorted(f.__name__ for f in _ARRAY_FUNCTIONS))}")
        return impl(*args, **kwargs)


def _not_followed(name):
    """numpy's ``ndarray.<name>``, which a dual array does not follow: it raises, naming the
    way. (Methods, not ``__getattr__``: a class with ``__getattr__`` loses CPython's fast
    attribute loads, which made every dual operation of a run 10% slower.)"""
    def method(self, *args, **kwargs):
        raise TypeError(
            f"ndarray.{name} is not supported on a dual array (stochad's dual number of a "
            f"replay run); use np.{name}(x) where stochad supports it (sum, mean, cumsum, max, "
            "min, argmin, argmax, sort, diff, reshape, ravel, transpose, where, clip, take, "
            "stack, concatenate), or loop over the elements")
    method.__name__ = name
    return method


for _name in ("std", "var", "prod", "cumprod", "sort", "argsort", "flatten", "nonzero",
              "searchsorted", "dot", "round", "any", "all", "fill", "squeeze", "repeat"):
    setattr(Dual, _name, _not_followed(_name))


_PREDICATES = frozenset({np.isfinite, np.isnan, np.isinf, np.signbit})
# piecewise affine functions of one number with a draw behind it: the comparison that picks
# the piece, which the replay engine follows, then that piece (affine, its provenance kept);
# the rule's dual part alone lost the kink to a later comparison (np.clip(x, 0, 1) == 1)
_KINKS = {np.maximum: lambda x, y: x if x >= y else y,
          np.minimum: lambda x, y: x if x <= y else y,
          np.absolute: lambda x: x if x >= 0.0 else -x}
_STEPS = {np.floor: steps.floor, np.ceil: steps.ceil, np.trunc: steps.trunc, np.rint: steps.rint,
          np.sign: steps.sign, np.floor_divide: lambda x, y: steps.floor(x / y),
          np.remainder: steps.remainder, np.fmod: lambda x, y: x - y * steps.trunc(x / y)}
_COMPARISON_UFUNCS = {np.less: operator.lt, np.less_equal: operator.le, np.greater: operator.gt,
                      np.greater_equal: operator.ge, np.equal: operator.eq,
                      np.not_equal: operator.ne}
_AFFINE = {
    np.add: lambda x, y: Dual.__add__(x, y) if type(x) is Dual else Dual.__radd__(y, x),
    np.subtract: lambda x, y: Dual.__sub__(x, y) if type(x) is Dual else Dual.__rsub__(y, x),
    np.multiply: lambda x, y: Dual.__mul__(x, y) if type(x) is Dual else Dual.__rmul__(y, x),
    np.true_divide: lambda x, y: (Dual.__truediv__(x, y) if type(x) is Dual
                                  else Dual.__rtruediv__(y, x)),
    np.negative: Dual.__neg__,
}


def _linear(func):
    """A numpy function linear in its array argument: applied to value and dual part alike."""
    def impl(a, *args, **kwargs):
        v, d, s = _parts(a)
        return Dual(func(v, *args, **kwargs), func(np.broadcast_to(d, np.shape(v)), *args,
                                                   **kwargs), None if s is None else Source(s.rec))
    return impl


def _joined(func):
    """``np.stack``/``np.concatenate`` of a sequence mixing dual numbers and plain values."""
    def impl(arrays, *args, **kwargs):
        parts = [_parts(a) for a in arrays]
        return Dual(func([p[0] for p in parts], *args, **kwargs),
                    func([np.broadcast_to(p[1], np.shape(p[0])) for p in parts], *args,
                         **kwargs), _latest([p[2] for p in parts]))
    return impl


def stack_duals(items):
    """A list mixing dual numbers and plain numbers as one dual array (the list's axis first)."""
    return _joined(np.stack)([stack_duals(x) if isinstance(x, list | tuple) else x
                              for x in items])


def _running_sums(elements):
    """The running sums of dual numbers, oldest first, as ``t += x`` in a loop builds them
    (each affine in its newest element, the older ones folded in)."""
    sums = [elements[0]]
    for e in elements[1:]:
        sums.append(sums[-1] + e)
    return sums


def _indexed(a):
    """Every element of the dual array ``a`` by its flat index, each as ``a[i, j]`` gives it
    (its own record, for an array of draws)."""
    shape = np.shape(a.v)
    return [a[np.unravel_index(i, shape)] for i in range(np.size(a.v))]


def _selected(order):
    """``np.max``/``np.min``/``np.sort``: the elements ``order`` (``np.argmax``, ...) picks by
    value, with their dual parts (a maximum moves with the element that is largest). Of an
    array of draws seen element by element (:func:`_elements`; every element of an n-d one
    for the maximum), builtin ``max``/``min``/``sorted`` on those numbers: every comparison
    that picks is on the tape (``np.max(times) < T``). Otherwise the picking reads the
    values: their draws' noise is used, and the result's provenance is not affine (a later
    comparison of it with a moving threshold warns)."""
    def impl(a, axis=-1 if order is np.argsort else None, keepdims=False, **kwargs):
        if kwargs.get("out") is not None or set(kwargs) - {"out", "kind"}:
            raise TypeError(f"numpy.{order.__name__[3:]} of dual numbers takes axis= and "
                            f"keepdims= only, got {sorted(kwargs)}")
        if type(a) is Dual and np.ndim(a.v) == 1 and not keepdims and axis in (None, 0, -1):
            elements = _elements(a)
            if elements is not None:  # one number at a time, as builtin max()/sorted() do
                if order is np.argsort:
                    return _of_elements(sorted(elements), a.src.rec)
                return (max if order is np.argmax else min)(elements)
        if order is not np.argsort and type(a) is Dual and a.src is not None \
                and a.src.av is not None and not keepdims and axis is None:
            return (max if order is np.argmax else min)(_indexed(a))
        v, d, s = _parts(a)
        v, d = np.asarray(v), np.broadcast_to(d, np.shape(v))
        if axis is None:
            v, d, axis = v.reshape(-1), d.reshape(-1), 0
        idx = order(v, axis=axis)
        if order is not np.argsort:
            idx = np.expand_dims(idx, axis)
        picked = [np.take_along_axis(x, idx, axis) for x in (v, d)]
        if order is not np.argsort and not keepdims:
            picked = [np.squeeze(x, axis) for x in picked]
        if picked[0].ndim == 0:  # one number: Python floats (the fast paths)
            picked = [x.item() for x in picked]
        return Dual(*picked, None if s is None else Source(s.rec))
    return impl


def _position(order):
    """``np.argmin``/``np.argmax``: the index builtin ``min``/``max`` picks among the elements
    (the first on a tie, as numpy's), so every comparison that picks it is on the tape, as in
    ``times.index(min(times))``: of a 1-d array, or of any with ``axis=None`` (a flat index)."""
    pick = min if order is np.argmin else max

    def impl(a, axis=None, out=None, keepdims=False):
        if type(a) is not Dual or out is not None or keepdims or (
                axis is not None and (np.ndim(a.v) != 1 or axis not in (0, -1))):
            raise TypeError(f"numpy.{order.__name__} of dual numbers takes a 1-d array, or "
                            "axis=None for a flat index; for other axes, compare the "
                            "elements in a loop")
        elements = _elements(a) if np.ndim(a.v) == 1 else None
        if elements is None:
            elements = _indexed(a) if np.ndim(a.v) else [a]
        return pick(range(len(elements)), key=elements.__getitem__)
    return impl


def _summed(mean):
    """``np.sum`` (``np.mean``): of a 1-d array of at most :data:`ELEMENTS_AT_ONCE` draws
    seen element by element, the sum ``sum(x)`` builds (affine in the newest element, the
    older ones folded in), so that ``np.sum(x) > c`` is an event as ``sum(x) > c`` is; else
    linear in the array, not affine in any one draw."""
    func = np.mean if mean else np.sum
    linear = _linear(func)

    def impl(a, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
        if type(a) is Dual and axis in (None, 0, -1) and dtype is None and out is None \
                and not keepdims and not kwargs and np.ndim(a.v) == 1 \
                and 0 < np.size(a.v) <= ELEMENTS_AT_ONCE:
            elements = _elements(a)
            if elements:
                total = _running_sums(elements)[-1]
                return total / len(elements) if mean else total
        return linear(a, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kwargs)
    return impl


def _cumsum(a, axis=None, dtype=None, out=None):
    """``np.cumsum``: of a 1-d array of draws, seen element by element (:func:`_elements`),
    the running sum ``t += x`` in a loop would build, one dual number per element; else
    linear in the array, not affine in any one draw."""
    if type(a) is Dual and axis in (None, 0, -1) and dtype is None and out is None \
            and np.ndim(a.v) == 1:
        elements = _elements(a)
        if elements:  # (an empty array: numpy's empty sum below)
            return _of_elements(_running_sums(elements), a.src.rec)
    return _linear(np.cumsum)(a, axis=axis, dtype=dtype, out=out)


def _diff(a, n=1, axis=-1, **kwargs):
    """``np.diff``: of a 1-d array whose elements are seen one by one (:func:`_elements`), the
    differences of neighbours as dual numbers (``np.diff(arrivals)``: the gaps again, each
    affine in the newer draw); else linear in the array, not affine in any one draw."""
    if type(a) is Dual and n == 1 and axis in (0, -1) and not kwargs and np.ndim(a.v) == 1:
        elements = _elements(a)
        if elements is not None and len(elements) > 1:
            return _of_elements([elements[i + 1] - elements[i]
                                 for i in range(len(elements) - 1)], a.src.rec)
    return _linear(np.diff)(a, n, axis, **kwargs)


def _broadcast_arrays(*args, subok=False):
    """``np.broadcast_arrays``: each argument broadcast to their common shape, a dual number
    as its value and dual part alike (:func:`_linear`; scipy.stats checks the shapes of its
    parameters with it before it draws through the Generator)."""
    shape = np.broadcast_shapes(*(np.shape(a.v if type(a) is Dual else a) for a in args))
    return [_linear(np.broadcast_to)(a, shape) if type(a) is Dual
            else np.broadcast_to(a, shape, subok=subok) for a in args]


def _where(cond, x, y):
    (xv, xd, sx), (yv, yd, sy) = _parts(x), _parts(y)
    c = np.asarray(cond)
    return Dual(np.where(c, xv, yv), np.where(c, xd, yd), _latest([sx, sy]))


_ARRAY_FUNCTIONS = {
    np.sum: _summed(mean=False), np.mean: _summed(mean=True), np.cumsum: _cumsum,
    np.reshape: _linear(np.reshape), np.transpose: _linear(np.transpose),
    np.ravel: _linear(np.ravel), np.take: _linear(np.take), np.diff: _diff,
    np.stack: _joined(np.stack), np.concatenate: _joined(np.concatenate),
    np.where: _where, np.shape: lambda a: np.shape(a.v), np.ndim: lambda a: np.ndim(a.v),
    np.size: lambda a, axis=None: np.size(a.v, axis),
    np.dot: lambda a, b, out=None: np.matmul(a, b),
    np.clip: lambda a, a_min=None, a_max=None, **kw: _clip(a, a_min, a_max),
    np.max: _selected(np.argmax), np.amax: _selected(np.argmax), np.min: _selected(np.argmin),
    np.amin: _selected(np.argmin), np.sort: _selected(np.argsort),
    np.argmin: _position(np.argmin), np.argmax: _position(np.argmax),
    np.broadcast_arrays: _broadcast_arrays, np.broadcast_to: _linear(np.broadcast_to),
}


def _clip(a, low, high):
    if low is not None:
        a = np.maximum(a, low)
    return a if high is None else np.minimum(a, high)
