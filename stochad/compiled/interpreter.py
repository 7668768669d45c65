"""One precompiled numba interpreter for every recorded program (DESIGN §6).

:func:`run` executes an instruction table (:mod:`stochad.compiled.program`) over blocks of
lanes: for each block, every instruction runs over the block's lanes before the next one, so
the dispatch costs once per instruction and block, and the block's rows stay in cache.

One alternative world per lane. Each slot holds, per lane, the value, its dual part and its
jump (the value's change in the lane's alternative world). A lane holds one event, of weight
``W``. A draw whose parameter carries a dual part creates a perturbation ``(step, w)`` (DESIGN
§1's table); it replaces the lane's event with probability ``|w| / (|W| + |w|)``, and the kept
one's weight becomes ``|W| + |w|`` with its own sign either way, as the pruned backend
reweights (weights are negative only at a boundary of a parameter's domain). An event is
*dead* when no slot that will still be read holds a nonzero jump of it (its alternative world
has rejoined the primal one, as a queue's does when it empties): a new perturbation then
replaces it outright, with its own weight, as the operator engine forgets an event no value
refers to. When an event is replaced, every jump the lane holds belonged to the dropped world:
they are set to 0 there and then, so that the common lane loops read jumps without checking
whose they are. A draw whose parameter jumps is coupled by inversion: the same uniform gives
the primal outcome and the alternative one.

Speed: each operation is one loop of selects (no branch) over a few rows of one 2-D array,
which the compiler vectorises once it has checked at run time that the rows do not overlap
(the threshold of such checks is raised below); the dispatched functions create no array views
(their reference counts are atomic operations, which cost more than a loop over a block); the
default block (:data:`stochad.compiled.engine.BLOCK` lanes) keeps an instruction's rows in the
L1 cache.

Scores, when the caller asks (the combined estimator, :mod:`stochad.combined`): every discrete
draw whose parameter carries a dual part adds ``∂/∂θ log P(k; θ)·δθ`` at the primal ``θ`` to
its lane's score, the score-function estimator's term (a parameter's jump does not enter it;
continuous draws stay reparameterised). A separate pass after the draw, so that a run without
scores costs what it did.

Random numbers come from :mod:`stochad.compiled.streams`: draw instruction ``d`` of lane ``l``
uses counters ``4d .. 4d + 3`` of the lane's stream (primal, pruning choice, second normal
uniform), so the samples do not depend on the block size.
"""

from __future__ import annotations

import math

import llvmlite.binding as llvm
import numpy as np

from .._jit import njit
from ..kernels.coupling import _new_jump_and_weight as new_jump_and_weight
from . import ops as O
from .streams import DRAW_STRIDE, lane_key, uniform

# The lane loops read and write several rows of one array; LLVM vectorises a loop only after
# checking at run time that its rows do not overlap, and gives up on loops that need more
# than 8 such checks by default (a fused elementwise loop needs up to 21). Raised before the
# kernels compile; it changes which loops are vectorised, never a result.
llvm.set_option("", "-runtime-memory-check-threshold=32")

MAX_POISSON_RATE = 700.0
"""Largest Poisson rate the inversion sampler takes (``exp(-rate)`` stays a normal float);
a larger one stops the run, which then falls back to the operator engine."""


@njit(nested=True, error_model="numpy")
def _value(op, x, y):
    if op == O.ADD:
        return x + y
    if op == O.SUB:
        return x - y
    if op == O.MUL:
        return x * y
    if op == O.DIV:
        return x / y
    if op == O.POW:
        return x * x if y == 2.0 else x ** y  # numpy squares exactly too
    if op == O.MIN:
        return min(x, y) if not (math.isnan(x) or math.isnan(y)) else math.nan
    if op == O.MAX:
        return max(x, y) if not (math.isnan(x) or math.isnan(y)) else math.nan
    if op == O.LT:
        return 1.0 if x < y else 0.0
    if op == O.LE:
        return 1.0 if x <= y else 0.0
    if op == O.GT:
        return 1.0 if x > y else 0.0
    if op == O.GE:
        return 1.0 if x >= y else 0.0
    if op == O.EQ:
        return 1.0 if x == y else 0.0
    if op == O.NE:
        return 1.0 if x != y else 0.0
    if op == O.AND:
        return 1.0 if (x != 0.0 and y != 0.0) else 0.0
    if op == O.OR:
        return 1.0 if (x != 0.0 or y != 0.0) else 0.0
    if op == O.XOR:
        return 1.0 if ((x != 0.0) != (y != 0.0)) else 0.0
    if op == O.FLOORDIV:
        return math.floor(x / y)
    if op == O.MOD:
        return x - math.floor(x / y) * y
    if op == O.NEG:
        return -x
    if op == O.ABS:
        return abs(x)
    if op == O.EXP:
        return math.exp(x)
    if op == O.LOG:
        return math.log(x) if x > 0.0 else (-math.inf if x == 0.0 else math.nan)
    if op == O.SQRT:
        return math.sqrt(x) if x >= 0.0 else math.nan
    if op == O.SQUARE:
        return x * x
    if op == O.RECIP:
        return 1.0 / x
    if op == O.LOG1P:
        return math.log1p(x) if x > -1.0 else (-math.inf if x == -1.0 else math.nan)
    if op == O.EXPM1:
        return math.expm1(x)
    if op == O.SIN:
        return math.sin(x)
    if op == O.COS:
        return math.cos(x)
    if op == O.TANH:
        return math.tanh(x)
    if op == O.FLOOR:
        return math.floor(x)
    if op == O.CEIL:
        return math.ceil(x)
    if op == O.SIGN:
        return 1.0 if x > 0.0 else (-1.0 if x < 0.0 else (0.0 if x == 0.0 else math.nan))
    if op == O.NOT:
        return 1.0 if x == 0.0 else 0.0
    if op == O.TRUNC:
        return float(math.trunc(x)) if math.isfinite(x) else x
    return math.nan


@njit(nested=True, error_model="numpy")
def _partial(op, second, x, y, out):
    """``∂f/∂x`` (``second`` False) or ``∂f/∂y`` of op at ``(x, y)`` with value ``out``."""
    if op == O.ADD:
        return 1.0
    if op == O.SUB:
        return -1.0 if second else 1.0
    if op == O.MUL:
        return x if second else y
    if op == O.DIV:
        return -out / y if second else 1.0 / y
    if op == O.POW:
        if second:
            return math.log(x) * out
        return 2.0 * x if y == 2.0 else y * x ** (y - 1.0)
    if op == O.MIN:
        return (1.0 if x > y else 0.0) if second else (1.0 if x <= y else 0.0)
    if op == O.MAX:
        return (1.0 if x < y else 0.0) if second else (1.0 if x >= y else 0.0)
    if op == O.MOD:
        return -math.floor(x / y) if second else 1.0
    if op == O.NEG:
        return -1.0
    if op == O.ABS:
        return 1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0)
    if op == O.EXP:
        return out
    if op == O.LOG:
        return 1.0 / x
    if op == O.SQRT:
        return 0.5 / out
    if op == O.SQUARE:
        return 2.0 * x
    if op == O.RECIP:
        return -out * out
    if op == O.LOG1P:
        return 1.0 / (1.0 + x)
    if op == O.EXPM1:
        return out + 1.0
    if op == O.SIN:
        return math.cos(x)
    if op == O.COS:
        return -math.sin(x)
    if op == O.TANH:
        return 1.0 - out * out
    return 0.0


@njit(nested=True, error_model="numpy")
def _jump(op, x, y, jx, jy, out):
    """``f(x + jx, y + jy) - f(x, y)``: exactly the sum of the jumps for sums, as the operator
    engine computes them; 0 (not NaN) where nothing moves. Written with selects, not
    branches: which lanes move is random."""
    if op == O.ADD:
        return jx + jy
    if op == O.SUB:
        return jx - jy
    if op == O.NEG:
        return -jx
    moved = _value(op, x + jx, y + jy) - out
    return moved if (jx != 0.0 or jy != 0.0) else 0.0


@njit(nested=True, error_model="numpy")
def _base(op, a, b):
    """The mass the inversion sums from: P(K = 0) of Poisson(a); for Binomial(a, b) the
    mass at the likelier end, ``(1 - b)^a`` (b <= 1/2) or ``b^a``; ``log(1 - a)`` for
    Geometric(a); 1 for Bernoulli.
    Cached by the lane loops while the parameters repeat (a power or exponential per draw
    would cost as much as the rest of the draw)."""
    if op == O.POISSON:
        return math.exp(-a)
    if op == O.BINOMIAL:
        return (1.0 - b) ** a if b <= 0.5 else b ** a
    if op == O.GEOMETRIC:
        return math.log1p(-a)  # the inversion's denominator
    return 1.0


@njit(nested=True, error_model="numpy")
def _poisson(lam, u, pmf):
    """The smallest ``k`` with ``F(k) >= u`` under Poisson(``lam``); ``pmf`` = P(K = 0)."""
    cdf = pmf
    k = 0
    while cdf < u:
        k += 1
        pmf *= lam / k
        grown = cdf + pmf
        if grown == cdf and k > lam:
            break  # u is within rounding of 1
        cdf = grown
    return float(k)


@njit(nested=True, error_model="numpy")
def _binomial_low(n, p, u, pmf):
    """The smallest ``k`` with ``F(k) >= u`` under Binomial(``n``, ``p``), summing from 0;
    ``pmf`` = P(K = 0)."""
    cdf = pmf
    ratio = p / (1.0 - p)
    k = 0.0
    while cdf < u and k < n:
        pmf *= ratio * (n - k) / (k + 1.0)
        k += 1.0
        cdf += pmf
    return k


@njit(nested=True, error_model="numpy")
def _binomial(n, p, u, base):
    """Inversion of Binomial(``n``, ``p``) at ``u``, summing from the likelier end."""
    if p == 0.0 or n == 0.0:
        return 0.0
    if p == 1.0:
        return n
    if p <= 0.5:
        return _binomial_low(n, p, u, base)
    return n - _binomial_low(n, 1.0 - p, 1.0 - u, base)


@njit(nested=True, error_model="numpy")
def _valid(op, a, b):
    """Whether ``(a, b)`` are parameters of the law ``op`` the kernel can sample (a binomial
    also needs its :func:`_base` not to underflow)."""
    if op == O.BERNOULLI:
        return a >= 0.0 and a <= 1.0
    if op == O.GEOMETRIC:
        return a > 0.0 and a <= 1.0
    if op == O.POISSON:
        return a >= 0.0 and a <= MAX_POISSON_RATE
    return a >= 0.0 and a == math.floor(a) and b >= 0.0 and b <= 1.0


@njit(nested=True, error_model="numpy")
def _sample(op, a, b, u, base):
    if op == O.BERNOULLI:
        return 1.0 if u < a else 0.0
    if op == O.POISSON:
        return _poisson(a, u, base)
    if op == O.BINOMIAL:
        return _binomial(a, b, u, base)
    if a == 1.0:
        return 1.0
    k = math.ceil(math.log1p(-u) / base)
    return max(k, 1.0) if not math.isnan(k) else 1.0


@njit(inline="always", error_model="numpy")
def _new_perturbation(op, k, a, b, d):
    """``(step, weight)`` that dual part ``d`` of the law's last parameter creates at draw
    ``k``: the operator engine's weight table (DESIGN §1, with the one-sided derivative at a
    boundary, whose weight is negative); weight 0 where the draw cannot move."""
    return new_jump_and_weight(op - O.BERNOULLI, k, a, b, d)


# -- the block's memory: one 2-D array, a row per lane vector ------------------------------------
# Slot s's value, dual part and jump are rows s, n + s and 2n + s (n slots); then come scratch
# rows for constants, temporary rows, the lanes' event weights and a row of zeros. Every
# dispatched function takes the whole array and row numbers: it creates no array views, whose
# reference counts (atomic operations) cost more than a short lane loop.
_SCRATCH, _TMP, _WEIGHT, _ZERO, _EXTRA = 0, 3, 7, 8, 9
"""Rows after the slots' ``3n`` (offsets from ``3n``), and how many there are."""


def rows(n_slots: int) -> int:
    """Rows of a block's memory for ``n_slots`` slots.

    Examples
    --------
    >>> rows(4)
    21
    """
    return 3 * n_slots + _EXTRA


@njit(inline="always")
def _drop_worlds(mem, n, replaced, count, keep, m):
    """The lanes whose row ``replaced`` is nonzero (``count`` of them) replaced their event:
    every jump they hold belonged to the dropped world and reads 0 from now on (all but slot
    ``keep``'s, the new jump). Row by row (vectorised) when many lanes replaced theirs, as at
    a program's first draws; lane by lane when few did, as later."""
    if count * 8 > m:
        for s in range(n):
            if s != keep:
                # (the row computed and the jump loaded before the select, as everywhere
                # here: an index computed or a load made inside a loop's branch keeps it from
                # vectorising)
                row = 2 * n + s
                for i in range(m):
                    jump = mem[row, i]
                    mem[row, i] = 0.0 if mem[replaced, i] != 0.0 else jump
    elif count > 0:
        for i in range(m):
            if mem[replaced, i] != 0.0:
                for s in range(n):
                    if s != keep:
                        mem[2 * n + s, i] = 0.0


@njit(inline="always")
def _mark_alive(mem, n, live, first, count, alive, m):
    """Row ``alive``: 1 where the lane's event still moves a value that will be read (a
    nonzero jump in one of the slots ``live[first:first + count]``), else 0: a dead event's
    alternative world has rejoined the primal one and contributes 0 from now on."""
    if count == 0:
        for i in range(m):
            mem[alive, i] = 0.0
        return
    row = 2 * n + live[first]
    for i in range(m):
        jump = mem[row, i]
        mem[alive, i] = 1.0 if jump != 0.0 else 0.0
    for k in range(first + 1, first + count):
        row = 2 * n + live[k]
        for i in range(m):
            jump = mem[row, i]
            seen = mem[alive, i]
            mem[alive, i] = 1.0 if jump != 0.0 else seen


@njit(inline="always")
def _rows(code, may_dual, may_jump, consts, mem, n, scratch, m):
    """The rows an operand is read from: value, dual part and jump. A constant is copied to
    row ``scratch``; an operand without a dual part or jump reads the row of zeros, so the
    lane loops need no branch per operand."""
    zero = 3 * n + _ZERO
    if code < 0:
        c = consts[-1 - code]
        for i in range(m):
            mem[scratch, i] = c
        return scratch, zero, zero
    return code, n + code if may_dual else zero, 2 * n + code if may_jump else zero


@njit(inline="always", error_model="numpy")
def _dual_part(op, x, y, out, dx, dy):
    """The dual part of ``op(x, y)`` (value ``out``): a zero dual part contributes 0, even
    where the partial is infinite."""
    tx = _partial(op, False, x, y, out) * dx
    ty = _partial(op, True, x, y, out) * dy
    return (tx if dx != 0.0 else 0.0) + (ty if dy != 0.0 else 0.0)


@njit(inline="always", error_model="numpy")
def _lanes(op, mem, xa, da, ja, xb, db, jb, vo, do, jo, out_dual, out_jump, m):
    """One elementwise operation on ``m`` lanes (inlined with a constant ``op``, so that the
    compiler keeps only that operation's arithmetic); operands and outputs are rows of
    ``mem``. One loop per combination of outputs, so that each computes only what is read
    later. The output's slot is never an operand's (:func:`stochad.compiled.program.build`).
    """
    if out_dual and out_jump:
        for i in range(m):
            x = mem[xa, i]
            y = mem[xb, i]
            out = _value(op, x, y)
            mem[vo, i] = out
            mem[do, i] = _dual_part(op, x, y, out, mem[da, i], mem[db, i])
            mem[jo, i] = _jump(op, x, y, mem[ja, i], mem[jb, i], out)
    elif out_dual:
        for i in range(m):
            x = mem[xa, i]
            y = mem[xb, i]
            out = _value(op, x, y)
            mem[vo, i] = out
            mem[do, i] = _dual_part(op, x, y, out, mem[da, i], mem[db, i])
    elif out_jump:
        for i in range(m):
            x = mem[xa, i]
            y = mem[xb, i]
            out = _value(op, x, y)
            mem[vo, i] = out
            mem[jo, i] = _jump(op, x, y, mem[ja, i], mem[jb, i], out)
    else:
        for i in range(m):
            mem[vo, i] = _value(op, mem[xa, i], mem[xb, i])


@njit(nested=True, error_model="numpy")
def _elementwise(op, o, a, b, flags, consts, mem, n, m):
    xa, da, ja = _rows(a, flags & O.A_DUAL != 0, flags & O.A_JUMP != 0, consts, mem, n,
                       3 * n + _SCRATCH, m)
    zero = 3 * n + _ZERO
    if op >= O.FIRST_BINARY:
        xb, db, jb = _rows(b, flags & O.B_DUAL != 0, flags & O.B_JUMP != 0, consts, mem, n,
                           3 * n + _SCRATCH + 1, m)
    else:
        xb, db, jb = zero, zero, zero
    out_dual = flags & O.OUT_DUAL != 0
    out_jump = flags & O.OUT_JUMP != 0
    vo, do, jo = o, n + o, 2 * n + o
    # the common operations get a loop of their own (op is a constant there)
    if op == O.ADD:
        _lanes(O.ADD, mem, xa, da, ja, xb, db, jb, vo, do, jo, out_dual, out_jump, m)
    elif op == O.SUB:
        _lanes(O.SUB, mem, xa, da, ja, xb, db, jb, vo, do, jo, out_dual, out_jump, m)
    elif op == O.MUL:
        _lanes(O.MUL, mem, xa, da, ja, xb, db, jb, vo, do, jo, out_dual, out_jump, m)
    elif op == O.DIV:
        _lanes(O.DIV, mem, xa, da, ja, xb, db, jb, vo, do, jo, out_dual, out_jump, m)
    elif op == O.MAX:
        _lanes(O.MAX, mem, xa, da, ja, xb, db, jb, vo, do, jo, out_dual, out_jump, m)
    elif op == O.MIN:
        _lanes(O.MIN, mem, xa, da, ja, xb, db, jb, vo, do, jo, out_dual, out_jump, m)
    elif op == O.POW:
        _lanes(O.POW, mem, xa, da, ja, xb, db, jb, vo, do, jo, out_dual, out_jump, m)
    elif op == O.LT:
        _lanes(O.LT, mem, xa, da, ja, xb, db, jb, vo, do, jo, out_dual, out_jump, m)
    elif op == O.GT:
        _lanes(O.GT, mem, xa, da, ja, xb, db, jb, vo, do, jo, out_dual, out_jump, m)
    elif op == O.NEG:
        _lanes(O.NEG, mem, xa, da, ja, xb, db, jb, vo, do, jo, out_dual, out_jump, m)
    elif op == O.EXP:
        _lanes(O.EXP, mem, xa, da, ja, xb, db, jb, vo, do, jo, out_dual, out_jump, m)
    elif op == O.LOG:
        _lanes(O.LOG, mem, xa, da, ja, xb, db, jb, vo, do, jo, out_dual, out_jump, m)
    elif op == O.SQRT:
        _lanes(O.SQRT, mem, xa, da, ja, xb, db, jb, vo, do, jo, out_dual, out_jump, m)
    else:
        _lanes(op, mem, xa, da, ja, xb, db, jb, vo, do, jo, out_dual, out_jump, m)


@njit(nested=True, error_model="numpy")
def _where(o, c, a, b, flags, consts, mem, n, m):
    """``where(c, a, b)``: both branches exactly; the condition's flip selects the other."""
    scratch = 3 * n + _SCRATCH
    xc, _, jc = _rows(c, False, flags & O.A_JUMP != 0, consts, mem, n, scratch, m)
    xa, da, ja = _rows(a, flags & O.B_DUAL != 0, flags & O.B_JUMP != 0, consts, mem, n,
                       scratch + 1, m)
    xb, db, jb = _rows(b, flags & O.C_DUAL != 0, flags & O.C_JUMP != 0, consts, mem, n,
                       scratch + 2, m)
    for i in range(m):
        x = mem[xa, i]
        y = mem[xb, i]
        mem[o, i] = x if mem[xc, i] != 0.0 else y
    if flags & O.OUT_DUAL != 0:
        do = n + o
        for i in range(m):
            dx = mem[da, i]
            dy = mem[db, i]
            mem[do, i] = dx if mem[xc, i] != 0.0 else dy
    if flags & O.OUT_JUMP != 0:
        jo = 2 * n + o
        for i in range(m):
            jx = mem[ja, i]
            jy = mem[jb, i]
            j = mem[jc, i]
            alt = mem[xa, i] + jx if (mem[xc, i] + j != 0.0) else mem[xb, i] + jy
            mem[jo, i] = alt - mem[o, i] if (j != 0.0 or jx != 0.0 or jy != 0.0) else 0.0


@njit(nested=True, error_model="numpy")
def _affine(o, a, scale, offset, flags, mem, n, m):
    """``x·scale + offset`` (:data:`stochad.compiled.ops.AFFINE`): its dual part
    ``dx·scale``, its jump the change of the value where ``x`` jumps."""
    zero = 3 * n + _ZERO
    da = n + a if flags & O.A_DUAL != 0 else zero
    ja = 2 * n + a if flags & O.A_JUMP != 0 else zero
    do, jo = n + o, 2 * n + o
    out_dual = flags & O.OUT_DUAL != 0
    out_jump = flags & O.OUT_JUMP != 0
    if out_dual and out_jump:
        for i in range(m):
            x = mem[a, i]
            j = mem[ja, i]
            out = x * scale + offset
            mem[o, i] = out
            mem[do, i] = mem[da, i] * scale
            moved = (x + j) * scale + offset - out
            mem[jo, i] = moved if j != 0.0 else 0.0
    elif out_dual:
        for i in range(m):
            mem[o, i] = mem[a, i] * scale + offset
            mem[do, i] = mem[da, i] * scale
    elif out_jump:
        for i in range(m):
            x = mem[a, i]
            j = mem[ja, i]
            out = x * scale + offset
            mem[o, i] = out
            moved = (x + j) * scale + offset - out
            mem[jo, i] = moved if j != 0.0 else 0.0
    else:
        for i in range(m):
            mem[o, i] = mem[a, i] * scale + offset


@njit(inline="always", error_model="numpy")
def _compete(step, w, old, alive, u, moved):
    """A new perturbation ``(step, w)`` meets the lane's event (signed weight ``old``; dead
    where ``alive`` is 0): it replaces it with probability ``|w| / (|W| + |w|)`` (never if
    ``w = 0``; always if ``W = 0``, as ``u < 1``; always if the event is dead, as if ``W = 0``),
    and the kept one gets the size ``|W| + |w|`` with its own sign either way, as the pruned
    backend reweights. Returns the lane's new weight, whether the event was replaced, and the
    draw's jump (``moved`` if it was not replaced). Selects only: it vectorises."""
    old = old if alive != 0.0 else 0.0
    total = abs(old) + abs(w)
    replace = u * total < abs(w)
    return math.copysign(total, w if replace else old), replace, (step if replace else moved)


@njit(inline="always", error_model="numpy")
def _compete_lanes(op, xa, xb, d_row, o, mem, n, keys, counter, live, first, count_live, m):
    """The new perturbations of the draws in slot ``o`` (law ``op``, parameters in rows ``xa,
    xb``, dual part of the last one in row ``d_row``) meet the lanes' events.

    One loop of :func:`_compete` (vectorised), written out for a Bernoulli draw in
    :func:`_bernoulli_lanes`; then the lanes that replaced their event drop its world.
    """
    weight = 3 * n + _WEIGHT
    replaced, alive = 3 * n + _TMP, 3 * n + _TMP + 1
    jo = 2 * n + o
    _mark_alive(mem, n, live, first, count_live, alive, m)
    count = 0
    for i in range(m):
        step, w = _new_perturbation(op, mem[o, i], mem[xa, i], mem[xb, i], mem[d_row, i])
        mem[weight, i], replace, mem[jo, i] = _compete(
            step, w, mem[weight, i], mem[alive, i], uniform(keys[i], counter + 1), mem[jo, i])
        mem[replaced, i] = 1.0 if replace else 0.0
        count += 1 if replace else 0
    _drop_worlds(mem, n, replaced, count, o, m)


@njit(inline="always", error_model="numpy")
def _draw_lanes(op, xa, ja, xb, jb, o, mem, n, keys, counter, out_jump, m):
    """Draws of law ``op`` (binomial, Poisson or geometric: a constant once inlined) on ``m``
    lanes into slot ``o``, with their jumps where a parameter jumps (coupled by the same
    uniform); False if a parameter is invalid. Bernoulli draws: :func:`_bernoulli_lanes`."""
    jo = 2 * n + o
    last_x = math.nan
    last_y = math.nan
    base = 1.0
    bad = False  # checked after the loop: an early exit would keep it from vectorising
    for i in range(m):
        x = mem[xa, i]
        y = mem[xb, i]
        bad |= not _valid(op, x, y)
        if x != last_x or y != last_y:
            base = _base(op, x, y)
            last_x = x
            last_y = y
            if op != O.GEOMETRIC and not base > 1e-300:  # too large to sum by inversion
                return False
        u = uniform(keys[i], counter)
        k = _sample(op, x, y, u, base)
        if out_jump:
            jx = mem[ja, i]
            jy = mem[jb, i]
            moved = 0.0
            if jx != 0.0 or jy != 0.0:
                alt_base = _base(op, x + jx, y + jy)
                if not (_valid(op, x + jx, y + jy)
                        and (op == O.GEOMETRIC or alt_base > 1e-300)):
                    return False
                moved = _sample(op, x + jx, y + jy, u, alt_base) - k
            mem[jo, i] = moved
        mem[o, i] = k
    return not bad


@njit(inline="always", error_model="numpy")
def _bernoulli(x, jx, u):
    """Whether ``x`` or ``x + jx`` is not a probability, the draw ``u < x`` and its jump (the
    same uniform on the alternative path)."""
    q = x + jx
    invalid = not (x >= 0.0 and x <= 1.0) or (jx != 0.0 and not (q >= 0.0 and q <= 1.0))
    k = 1.0 if u < x else 0.0
    return invalid, k, (1.0 if u < q else 0.0) - k


@njit(nested=True, error_model="numpy")
def _bernoulli_lanes(xa, ja, d_row, new, xc, dc, jc, o, mem, n, keys, counter, out_dual,
                     out_jump, live, first, count_live, m):
    """Bernoulli draws on ``m`` lanes plus the term in rows ``xc, dc, jc`` (the row of zeros,
    or the other term of a sum fused with the draw: :data:`stochad.compiled.ops.ACCUMULATE`),
    into slot ``o``; with their jumps where the parameter jumps (coupled by the same uniform:
    ``u < p + Δ``) and their new perturbations (:func:`_compete_lanes`), in one loop of
    selects that the compiler vectorises, the hashes of the uniforms included (two loops run
    slower). The sums are computed as the interpreter's ``ADD`` computes them."""
    jo = 2 * n + o
    bad = False
    if out_dual:  # the term's dual part (a draw has none)
        do = n + o
        for i in range(m):
            d = mem[dc, i]
            mem[do, i] = (d if d != 0.0 else 0.0) + 0.0
    if not out_jump:
        for i in range(m):
            x = mem[xa, i]
            bad |= not (x >= 0.0 and x <= 1.0)
            mem[o, i] = mem[xc, i] + (1.0 if uniform(keys[i], counter) < x else 0.0)
        return not bad
    if not new:
        for i in range(m):
            invalid, k, moved = _bernoulli(mem[xa, i], mem[ja, i], uniform(keys[i], counter))
            bad |= invalid
            mem[o, i] = mem[xc, i] + k
            mem[jo, i] = mem[jc, i] + moved
        return not bad
    weight = 3 * n + _WEIGHT
    replaced, alive = 3 * n + _TMP, 3 * n + _TMP + 1
    _mark_alive(mem, n, live, first, count_live, alive, m)
    count = 0
    for i in range(m):
        x = mem[xa, i]
        invalid, k, moved = _bernoulli(x, mem[ja, i], uniform(keys[i], counter))
        bad |= invalid
        step, w = _new_perturbation(O.BERNOULLI, k, x, 0.0, mem[d_row, i])
        mem[weight, i], replace, jump = _compete(
            step, w, mem[weight, i], mem[alive, i], uniform(keys[i], counter + 1), moved)
        mem[replaced, i] = 1.0 if replace else 0.0
        count += 1 if replace else 0
        term = mem[jc, i]
        mem[o, i] = mem[xc, i] + k
        mem[jo, i] = (0.0 if replace else term) + jump  # the term's jump: the dropped world's
    _drop_worlds(mem, n, replaced, count, o, m)
    return not bad


@njit(nested=True, error_model="numpy")
def _draw(op, o, a, b, c, flags, draw, consts, mem, n, keys, live, first, count_live, m):
    """A discrete draw on every lane, and the new perturbations where the law's last parameter
    carries a dual part; returns False if a parameter is invalid."""
    counter = draw * DRAW_STRIDE
    out_jump = flags & O.OUT_JUMP != 0
    xa, da, ja = _rows(a, flags & O.A_DUAL != 0, flags & O.A_JUMP != 0, consts, mem, n,
                       3 * n + _SCRATCH, m)
    if op == O.BINOMIAL:  # the only law with a second parameter
        xb, db, jb = _rows(b, flags & O.B_DUAL != 0, flags & O.B_JUMP != 0, consts, mem, n,
                           3 * n + _SCRATCH + 1, m)
    else:
        xb = db = jb = 3 * n + _ZERO
    d_row, new = (db, flags & O.B_DUAL != 0) if op == O.BINOMIAL else (da, flags & O.A_DUAL != 0)
    compete = out_jump and new
    # each law with a constant op, so that the compiler keeps only its arithmetic
    if op == O.BERNOULLI:
        zero = 3 * n + _ZERO
        xc, dc, jc = zero, zero, zero
        if flags & O.ACCUMULATE != 0:
            xc, dc, jc = _rows(c, flags & O.C_DUAL != 0, flags & O.C_JUMP != 0, consts, mem, n,
                               3 * n + _SCRATCH + 2, m)
        valid = _bernoulli_lanes(xa, ja, d_row, new, xc, dc, jc, o, mem, n, keys, counter,
                                 flags & O.OUT_DUAL != 0, out_jump, live, first, count_live, m)
    elif op == O.BINOMIAL:
        valid = _draw_lanes(O.BINOMIAL, xa, ja, xb, jb, o, mem, n, keys, counter, out_jump, m)
        if valid and compete:
            _compete_lanes(O.BINOMIAL, xa, xb, d_row, o, mem, n, keys, counter, live, first,
                           count_live, m)
    elif op == O.POISSON:
        valid = _draw_lanes(O.POISSON, xa, ja, xb, jb, o, mem, n, keys, counter, out_jump, m)
        if valid and compete:
            _compete_lanes(O.POISSON, xa, xb, d_row, o, mem, n, keys, counter, live, first,
                           count_live, m)
    else:
        valid = _draw_lanes(O.GEOMETRIC, xa, ja, xb, jb, o, mem, n, keys, counter, out_jump,
                            m)
        if valid and compete:
            _compete_lanes(O.GEOMETRIC, xa, xb, d_row, o, mem, n, keys, counter, live, first,
                           count_live, m)
    return valid


@njit(inline="always", error_model="numpy")
def _ratio(count, denominator):
    """``count / denominator``, 0 where ``count`` is 0 (the laws' ``ratio``: the term is
    absent there)."""
    return count / denominator if count > 0.0 else 0.0


@njit(nested=True, error_model="numpy")
def _score(op, o, a, b, flags, draw, consts, mem, n, keys, score, m):
    """Adds to ``score`` each lane's ``∂/∂θ log P(k; θ)·δθ`` of the draw ``k`` in slot ``o``
    (``θ`` the law's last parameter, at its primal value, ``δθ`` its dual part), as
    :meth:`stochad.distributions.Bernoulli.score` and the other laws' ``score`` compute it.
    Geometric counts trials (``k >= 1``). A Bernoulli ``k`` is drawn again from its uniform
    (the slot may hold a sum the draw was fused with)."""
    counter = draw * DRAW_STRIDE
    scratch = 3 * n + _SCRATCH
    xa, da, _ = _rows(a, flags & O.A_DUAL != 0, False, consts, mem, n, scratch, m)
    if op == O.BINOMIAL:
        xb, db, _ = _rows(b, flags & O.B_DUAL != 0, False, consts, mem, n, scratch + 1, m)
        for i in range(m):
            k = mem[o, i]
            p = mem[xb, i]
            score[i] += (_ratio(k, p) - _ratio(mem[xa, i] - k, 1.0 - p)) * mem[db, i]
        return
    if op == O.BERNOULLI:
        for i in range(m):
            x = mem[xa, i]
            k = 1.0 if uniform(keys[i], counter) < x else 0.0
            score[i] += (_ratio(k, x) - _ratio(1.0 - k, 1.0 - x)) * mem[da, i]
        return
    for i in range(m):
        k = mem[o, i]
        x = mem[xa, i]
        s = _ratio(k, x) - 1.0 if op == O.POISSON else 1.0 / x - _ratio(k - 1.0, 1.0 - x)
        score[i] += s * mem[da, i]


@njit(nested=True, error_model="numpy")
def _noise(op, o, draw, mem, keys, m):
    counter = draw * DRAW_STRIDE
    for i in range(m):
        u = uniform(keys[i], counter)
        if op == O.NOISE_UNIFORM:
            mem[o, i] = u
        elif op == O.NOISE_EXPONENTIAL:
            mem[o, i] = -math.log1p(-u)
        else:  # Box-Muller
            angle = 2.0 * math.pi * uniform(keys[i], counter + 1)
            mem[o, i] = math.sqrt(-2.0 * math.log1p(-u)) * math.cos(angle)


@njit(nested=True, error_model="numpy")
def _check(a, flags, scale, mem, n, m):
    """Whether operand ``a`` is finite (and >= 0 for a ``scale``), on the alternative path
    too."""
    may_jump = flags & O.A_JUMP != 0
    ja = 2 * n + a
    for i in range(m):
        x = mem[a, i]
        moved = x + mem[ja, i] if may_jump else x
        if not (math.isfinite(x) and math.isfinite(moved)):
            return False
        if scale and not (x >= 0.0 and moved >= 0.0):
            return False
    return True


@njit(nested=True, error_model="numpy")
def _values_and_score(mem, n, consts, outputs, score, extra, start, m):
    """Lanes ``start .. start + m`` of ``extra``: the outputs' values, their dual parts, and
    the score."""
    n_out = outputs.shape[0]
    for k in range(n_out):
        s = outputs[k, 0]
        if s < 0:  # a constant result
            for i in range(m):
                extra[start + i, k] = consts[-1 - s]
                extra[start + i, n_out + k] = 0.0
            continue
        ds = n + s if outputs[k, 1] else 3 * n + _ZERO
        for i in range(m):
            extra[start + i, k] = mem[s, i]
            extra[start + i, n_out + k] = mem[ds, i]
    for i in range(m):
        extra[start + i, 2 * n_out] = score[i]


@njit(error_model="numpy")
def run(code, consts, in_value, in_dual, n_slots, outputs, live, seed, first_lane, block, out,
        extra):
    """Run ``code`` on ``out.shape[0]`` lanes (global lanes ``first_lane, ...``), writing each
    lane's derivative contributions to ``out`` (lanes × outputs).

    ``extra`` (lanes × (2·outputs + 1), or no rows: not wanted) receives per lane the
    outputs' values, their dual parts and the lane's score (module docstring).

    Returns -1, or the index of the instruction that met an invalid parameter (the caller
    falls back to the operator engine, which reports it).
    """
    n_lanes = out.shape[0]
    n = n_slots
    # dual parts and jumps start at 0: a slot's rows are read only where its flags say they
    # were written, but a dropped world zeroes every jump row
    # rows padded by 64 bytes: rows 4 KiB apart would alias in the L1 cache's store forwarding
    mem = np.zeros((3 * n + _EXTRA, block + 8))
    weight = 3 * n + _WEIGHT
    keys = np.empty(block, dtype=np.uint64)
    scoring = extra.shape[0] > 0
    score = np.zeros(block)
    for start in range(0, n_lanes, block):
        m = min(block, n_lanes - start)
        for i in range(m):
            mem[weight, i] = 0.0
            keys[i] = lane_key(seed, first_lane + start + i)
            score[i] = 0.0
        for t in range(code.shape[0]):
            op = code[t, O.OP]
            o = code[t, O.OUT]
            a = code[t, O.A]
            flags = code[t, O.FLAGS]
            if op < O.WHERE:
                _elementwise(op, o, a, code[t, O.B], flags, consts, mem, n, m)
            elif op == O.WHERE:
                _where(o, a, code[t, O.B], code[t, O.C], flags, consts, mem, n, m)
            elif op == O.AFFINE:
                _affine(o, a, consts[-1 - code[t, O.B]], consts[-1 - code[t, O.C]], flags,
                        mem, n, m)
            elif op == O.INPUT:
                value, dual, do = in_value[code[t, O.AUX]], in_dual[code[t, O.AUX]], n + o
                for i in range(m):
                    mem[o, i] = value
                    mem[do, i] = dual
            elif op <= O.GEOMETRIC:
                if not _draw(op, o, a, code[t, O.B], code[t, O.C], flags, code[t, O.AUX],
                             consts, mem, n, keys, live, code[t, O.LIVE], code[t, O.N_LIVE],
                             m):
                    return t
                if scoring and flags & (O.B_DUAL if op == O.BINOMIAL else O.A_DUAL) != 0:
                    _score(op, o, a, code[t, O.B], flags, code[t, O.AUX], consts, mem, n,
                           keys, score, m)
            elif op == O.CHECK:
                if not _check(a, flags, code[t, O.AUX] == 1, mem, n, m):
                    return t
            else:
                _noise(op, o, code[t, O.AUX], mem, keys, m)
        for k in range(outputs.shape[0]):
            s = outputs[k, 0]
            if s < 0:  # a constant result
                for i in range(m):
                    out[start + i, k] = 0.0
                continue
            ds = n + s if outputs[k, 1] else 3 * n + _ZERO
            if not outputs[k, 2]:
                for i in range(m):
                    out[start + i, k] = mem[ds, i]
                continue
            js = 2 * n + s
            for i in range(m):
                w = mem[weight, i]
                jump = mem[js, i]
                out[start + i, k] = mem[ds, i] + (w * jump if w != 0.0 else 0.0)
        if scoring:
            _values_and_score(mem, n, consts, outputs, score, extra, start, m)
    return -1
