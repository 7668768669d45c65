"""One precompiled numba interpreter for every recorded program (DESIGN §6).

:func:`run` executes an instruction table (:mod:`stochad.compiled.program`) over blocks of
lanes: for each block, every instruction runs over the block's lanes before the next one, so
the dispatch costs once per instruction and block, and the block's slots stay in cache.

One alternative world per lane. Each slot holds, per lane, the value, its dual part, its jump
(the value's change in the lane's alternative world) and the *generation* of the world that
jump belongs to. A lane holds one live event: its generation ``G`` and weight ``W``. A draw
whose parameter carries a dual part creates a perturbation ``(step, w)`` (DESIGN §1's table);
it replaces the lane's event with probability ``|w| / (|W| + |w|)``, and the kept one's
weight becomes ``|W| + |w|`` with its own sign either way, as the pruned backend reweights
(weights are negative only at a boundary of a parameter's domain). A jump whose generation is not
the lane's current one belongs to a dropped world and reads 0. A draw whose parameter jumps is
coupled by inversion: the same uniform gives the primal outcome and the alternative one.

Random numbers come from :mod:`stochad.compiled.streams`: draw instruction ``d`` of lane ``l``
uses counters ``4d .. 4d + 3`` of the lane's stream (primal, pruning choice, second normal
uniform), so the samples do not depend on the block size.
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import njit
from ..kernels.coupling import _new_jump_and_weight as new_jump_and_weight
from . import ops as O
from .streams import DRAW_STRIDE, lane_key, uniform

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


@njit(inline="always", error_model="numpy")
def _compete(op, k, a, b, d, W, g, moved, u):
    """A new perturbation of draw ``k`` meets the lane's event (signed weight ``W``,
    generation ``g``): it replaces it with probability ``|w| / (|W| + |w|)`` (never if
    ``w = 0``; always if ``W = 0``, as ``u < 1``), and the kept one gets the size
    ``|W| + |w|`` with its own sign either way, as the pruned backend reweights. Returns the
    lane's new weight and generation, and the draw's jump (``moved`` if it was not replaced).
    """
    step, w = _new_perturbation(op, k, a, b, d)
    total = abs(W) + abs(w)
    replace = u * total < abs(w)
    if replace:
        return math.copysign(total, w), g + 1, step
    return math.copysign(total, W), g, moved


@njit(inline="always")
def _rows(code, may_dual, may_jump, consts, val, dual, jump, jgen, G, scratch, zeros, m):
    """The rows an operand is read from: value, dual part, jump and generation. A constant
    is copied to ``scratch``; an operand without a dual part or jump reads ``zeros``, so the
    lane loops need no branch per operand."""
    if code < 0:
        scratch[:m] = consts[-1 - code]
        return scratch, zeros, zeros, G
    return (val[code], dual[code] if may_dual else zeros, jump[code] if may_jump else zeros,
            jgen[code] if may_jump else G)


@njit(inline="always", error_model="numpy")
def _lanes(op, xa, da, ja, ga, xb, db, jb, gb, vo, do, jo, go, G, out_dual, out_jump, tmp, zeros,
           m):
    """One elementwise operation on ``m`` lanes (inlined with a constant ``op``, so that the
    compiler keeps only that operation's arithmetic).

    Written as short passes (the operands' live jumps go through the scratch rows ``tmp``):
    each pass touches few arrays, so the compiler can vectorise it, where one loop over a
    dozen arrays it cannot prove apart stays scalar. The output's slot is never an operand's
    (:func:`stochad.compiled.program.build`).
    """
    for i in range(m):
        vo[i] = _value(op, xa[i], xb[i])
    if out_dual:  # a zero dual part contributes 0, even where the partial is infinite
        for i in range(m):
            x = xa[i]
            y = xb[i]
            out = vo[i]
            dx = da[i]
            dy = db[i]
            tx = _partial(op, False, x, y, out) * dx
            ty = _partial(op, True, x, y, out) * dy
            do[i] = (tx if dx != 0.0 else 0.0) + (ty if dy != 0.0 else 0.0)
    if out_jump:
        # an operand that cannot jump reads the zeros row (and G as its generations)
        live_x = zeros if ga is G else tmp[0]
        live_y = zeros if gb is G else tmp[1]
        if ga is not G:
            for i in range(m):
                live_x[i] = ja[i] if ga[i] == G[i] else 0.0
        if gb is not G:
            for i in range(m):
                live_y[i] = jb[i] if gb[i] == G[i] else 0.0
        for i in range(m):
            jo[i] = _jump(op, xa[i], xb[i], live_x[i], live_y[i], vo[i])
        for i in range(m):
            go[i] = G[i]


@njit(nested=True, error_model="numpy")
def _elementwise(op, o, a, b, flags, consts, val, dual, jump, jgen, G, scratch, zeros, tmp,
                 m):
    xa, da, ja, ga = _rows(a, flags & O.A_DUAL != 0, flags & O.A_JUMP != 0, consts, val, dual,
                           jump, jgen, G, scratch[0], zeros, m)
    if op >= O.FIRST_BINARY:
        xb, db, jb, gb = _rows(b, flags & O.B_DUAL != 0, flags & O.B_JUMP != 0, consts, val,
                               dual, jump, jgen, G, scratch[1], zeros, m)
    else:
        xb, db, jb, gb = zeros, zeros, zeros, G
    out_dual = flags & O.OUT_DUAL != 0
    out_jump = flags & O.OUT_JUMP != 0
    vo, do, jo, go = val[o], dual[o], jump[o], jgen[o]
    # the common operations get a loop of their own (op is a constant there)
    if op == O.ADD:
        _lanes(O.ADD, xa, da, ja, ga, xb, db, jb, gb, vo, do, jo, go, G, out_dual,
               out_jump, tmp, zeros, m)
    elif op == O.SUB:
        _lanes(O.SUB, xa, da, ja, ga, xb, db, jb, gb, vo, do, jo, go, G, out_dual,
               out_jump, tmp, zeros, m)
    elif op == O.MUL:
        _lanes(O.MUL, xa, da, ja, ga, xb, db, jb, gb, vo, do, jo, go, G, out_dual,
               out_jump, tmp, zeros, m)
    elif op == O.DIV:
        _lanes(O.DIV, xa, da, ja, ga, xb, db, jb, gb, vo, do, jo, go, G, out_dual,
               out_jump, tmp, zeros, m)
    elif op == O.MAX:
        _lanes(O.MAX, xa, da, ja, ga, xb, db, jb, gb, vo, do, jo, go, G, out_dual,
               out_jump, tmp, zeros, m)
    elif op == O.MIN:
        _lanes(O.MIN, xa, da, ja, ga, xb, db, jb, gb, vo, do, jo, go, G, out_dual,
               out_jump, tmp, zeros, m)
    elif op == O.POW:
        _lanes(O.POW, xa, da, ja, ga, xb, db, jb, gb, vo, do, jo, go, G, out_dual,
               out_jump, tmp, zeros, m)
    elif op == O.LT:
        _lanes(O.LT, xa, da, ja, ga, xb, db, jb, gb, vo, do, jo, go, G, out_dual,
               out_jump, tmp, zeros, m)
    elif op == O.GT:
        _lanes(O.GT, xa, da, ja, ga, xb, db, jb, gb, vo, do, jo, go, G, out_dual,
               out_jump, tmp, zeros, m)
    elif op == O.NEG:
        _lanes(O.NEG, xa, da, ja, ga, xb, db, jb, gb, vo, do, jo, go, G, out_dual,
               out_jump, tmp, zeros, m)
    elif op == O.EXP:
        _lanes(O.EXP, xa, da, ja, ga, xb, db, jb, gb, vo, do, jo, go, G, out_dual,
               out_jump, tmp, zeros, m)
    elif op == O.LOG:
        _lanes(O.LOG, xa, da, ja, ga, xb, db, jb, gb, vo, do, jo, go, G, out_dual,
               out_jump, tmp, zeros, m)
    elif op == O.SQRT:
        _lanes(O.SQRT, xa, da, ja, ga, xb, db, jb, gb, vo, do, jo, go, G, out_dual,
               out_jump, tmp, zeros, m)
    else:
        _lanes(op, xa, da, ja, ga, xb, db, jb, gb, vo, do, jo, go, G, out_dual,
               out_jump, tmp, zeros, m)


@njit(nested=True, error_model="numpy")
def _where(o, c, a, b, flags, consts, val, dual, jump, jgen, G, scratch, zeros, m):
    """``where(c, a, b)``: both branches exactly; the condition's flip selects the other."""
    xc, _, jc_row, gc = _rows(c, False, flags & O.A_JUMP != 0, consts, val, dual, jump, jgen,
                              G, scratch[0], zeros, m)
    xa, da, ja, ga = _rows(a, flags & O.B_DUAL != 0, flags & O.B_JUMP != 0, consts, val, dual,
                           jump, jgen, G, scratch[1], zeros, m)
    xb, db, jb, gb = _rows(b, flags & O.C_DUAL != 0, flags & O.C_JUMP != 0, consts, val, dual,
                           jump, jgen, G, scratch[2], zeros, m)
    out_dual = flags & O.OUT_DUAL != 0
    out_jump = flags & O.OUT_JUMP != 0
    for i in range(m):
        cond = xc[i] != 0.0
        x = xa[i]
        y = xb[i]
        out = x if cond else y
        if out_dual:
            dual[o, i] = da[i] if cond else db[i]
        if out_jump:
            g = G[i]
            jc = jc_row[i] if gc[i] == g else 0.0
            jx = ja[i] if ga[i] == g else 0.0
            jy = jb[i] if gb[i] == g else 0.0
            alt = x + jx if (xc[i] + jc != 0.0) else y + jy
            jump[o, i] = alt - out if (jc != 0.0 or jx != 0.0 or jy != 0.0) else 0.0
            jgen[o, i] = g
        val[o, i] = out


@njit(inline="always", error_model="numpy")
def _draw_lanes(op, xa, ja, ga, xb, jb, gb, d_row, new, vo, jo, go, G, W, keys, counter,
                out_jump, m):
    """Draws of law ``op`` (binomial, Poisson or geometric: a constant once inlined) on ``m``
    lanes; False if a parameter is invalid. Bernoulli draws: :func:`_bernoulli_lanes`."""
    last_x = math.nan
    last_y = math.nan
    base = 1.0
    bad = False  # checked after the loop: an early exit would keep it from vectorising
    for i in range(m):
        x = xa[i]
        y = xb[i]
        bad |= not _valid(op, x, y)
        if op != O.BERNOULLI and (x != last_x or y != last_y):
            base = _base(op, x, y)
            last_x = x
            last_y = y
            if op != O.GEOMETRIC and not base > 1e-300:  # too large to sum by inversion
                return False
        u = uniform(keys[i], counter)
        k = _sample(op, x, y, u, base)
        if out_jump:
            g = G[i]
            jx = ja[i] if ga[i] == g else 0.0
            jy = jb[i] if gb[i] == g else 0.0
            moved = 0.0
            if jx != 0.0 or jy != 0.0:
                alt_base = _base(op, x + jx, y + jy)
                if not (_valid(op, x + jx, y + jy)
                        and (op == O.GEOMETRIC or alt_base > 1e-300)):
                    return False
                moved = _sample(op, x + jx, y + jy, u, alt_base) - k
            if new:
                W[i], g, moved = _compete(op, k, x, y, d_row[i], W[i], g, moved,
                                          uniform(keys[i], counter + 1))
                G[i] = g
            jo[i] = moved
            go[i] = g
        vo[i] = k
    return not bad


@njit(nested=True, error_model="numpy")
def _bernoulli_lanes(xa, ja, ga, d_row, new, vo, jo, go, G, W, keys, counter, out_jump, tmp,
                     m):
    """Bernoulli draws on ``m`` lanes as short passes (the hashes of the uniforms vectorise
    apart from the rest); coupled by the same uniform (``u < p + Δ``), pruned as
    :func:`_draw_lanes` prunes."""
    u_row, u2_row, live = tmp[0], tmp[1], tmp[2]
    bad = False
    for i in range(m):
        u_row[i] = uniform(keys[i], counter)
    for i in range(m):
        bad |= not (xa[i] >= 0.0 and xa[i] <= 1.0)
    if out_jump:
        for i in range(m):
            live[i] = ja[i] if ga[i] == G[i] else 0.0
        for i in range(m):
            q = xa[i] + live[i]
            bad |= live[i] != 0.0 and not (q >= 0.0 and q <= 1.0)
        if new:
            for i in range(m):
                u2_row[i] = uniform(keys[i], counter + 1)
    for i in range(m):
        u = u_row[i]
        x = xa[i]
        k = 1.0 if u < x else 0.0
        if out_jump:
            moved = (1.0 if u < x + live[i] else 0.0) - k
            g = G[i]
            if new:
                W[i], g, moved = _compete(O.BERNOULLI, k, x, 0.0, d_row[i], W[i], g, moved,
                                          u2_row[i])
                G[i] = g
            jo[i] = moved
            go[i] = g
        vo[i] = k
    return not bad


@njit(nested=True, error_model="numpy")
def _draw(op, o, a, b, flags, draw, consts, val, dual, jump, jgen, G, W, keys, scratch, zeros,
          tmp, m):
    """A discrete draw on every lane; returns False if a parameter is invalid."""
    counter = draw * DRAW_STRIDE
    xa, da, ja, ga = _rows(a, flags & O.A_DUAL != 0, flags & O.A_JUMP != 0, consts, val, dual,
                           jump, jgen, G, scratch[0], zeros, m)
    if op == O.BINOMIAL:
        xb, db, jb, gb = _rows(b, flags & O.B_DUAL != 0, flags & O.B_JUMP != 0, consts, val,
                               dual, jump, jgen, G, scratch[1], zeros, m)
        new = flags & O.B_DUAL != 0  # the dual part of the law's last parameter
        return _draw_lanes(O.BINOMIAL, xa, ja, ga, xb, jb, gb, db, new, val[o], jump[o],
                           jgen[o], G, W, keys, counter, flags & O.OUT_JUMP != 0, m)
    new = flags & O.A_DUAL != 0
    if op == O.BERNOULLI:
        return _bernoulli_lanes(xa, ja, ga, da, new, val[o], jump[o], jgen[o], G, W, keys,
                                counter, flags & O.OUT_JUMP != 0, tmp, m)
    if op == O.POISSON:
        return _draw_lanes(O.POISSON, xa, ja, ga, zeros, zeros, G, da, new, val[o], jump[o],
                           jgen[o], G, W, keys, counter, flags & O.OUT_JUMP != 0, m)
    return _draw_lanes(O.GEOMETRIC, xa, ja, ga, zeros, zeros, G, da, new, val[o], jump[o],
                       jgen[o], G, W, keys, counter, flags & O.OUT_JUMP != 0, m)


@njit(nested=True, error_model="numpy")
def _noise(op, o, draw, val, keys, m):
    counter = draw * DRAW_STRIDE
    for i in range(m):
        u = uniform(keys[i], counter)
        if op == O.NOISE_UNIFORM:
            val[o, i] = u
        elif op == O.NOISE_EXPONENTIAL:
            val[o, i] = -math.log1p(-u)
        else:  # Box-Muller
            angle = 2.0 * math.pi * uniform(keys[i], counter + 1)
            val[o, i] = math.sqrt(-2.0 * math.log1p(-u)) * math.cos(angle)


@njit(nested=True, error_model="numpy")
def _check(a, flags, scale, val, jump, jgen, G, m):
    """Whether operand ``a`` is finite (and >= 0 for a ``scale``), on the alternative path
    too."""
    may_jump = flags & O.A_JUMP != 0
    for i in range(m):
        x = val[a, i]
        moved = x + jump[a, i] if may_jump and jgen[a, i] == G[i] else x
        if not (math.isfinite(x) and math.isfinite(moved)):
            return False
        if scale and not (x >= 0.0 and moved >= 0.0):
            return False
    return True


@njit(error_model="numpy")
def run(code, consts, in_value, in_dual, n_slots, outputs, seed, first_lane, block, out):
    """Run ``code`` on ``out.shape[0]`` lanes (global lanes ``first_lane, ...``), writing each
    lane's derivative contributions to ``out`` (lanes × outputs).

    Returns -1, or the index of the instruction that met an invalid parameter (the caller
    falls back to the operator engine, which reports it).
    """
    n_lanes = out.shape[0]
    val = np.empty((n_slots, block))
    dual = np.zeros((n_slots, block))
    jump = np.zeros((n_slots, block))
    jgen = np.zeros((n_slots, block), dtype=np.int64)
    G = np.zeros(block, dtype=np.int64)
    W = np.zeros(block)
    keys = np.empty(block, dtype=np.uint64)
    scratch = np.empty((3, block))
    tmp = np.empty((4, block))
    zeros = np.zeros(block)
    for start in range(0, n_lanes, block):
        m = min(block, n_lanes - start)
        for i in range(m):
            G[i] = 0
            W[i] = 0.0
            keys[i] = lane_key(seed, first_lane + start + i)
        for t in range(code.shape[0]):
            op = code[t, O.OP]
            o = code[t, O.OUT]
            a = code[t, O.A]
            flags = code[t, O.FLAGS]
            if op < O.WHERE:
                _elementwise(op, o, a, code[t, O.B], flags, consts, val, dual, jump, jgen, G,
                             scratch, zeros, tmp, m)
            elif op == O.WHERE:
                _where(o, a, code[t, O.B], code[t, O.C], flags, consts, val, dual, jump, jgen,
                       G, scratch, zeros, m)
            elif op == O.INPUT:
                index = code[t, O.AUX]
                for i in range(m):
                    val[o, i] = in_value[index]
                    dual[o, i] = in_dual[index]
            elif op <= O.GEOMETRIC:
                if not _draw(op, o, a, code[t, O.B], flags, code[t, O.AUX], consts, val, dual,
                             jump, jgen, G, W, keys, scratch, zeros, tmp, m):
                    return t
            elif op == O.CHECK:
                if not _check(a, flags, code[t, O.AUX] == 1, val, jump, jgen, G, m):
                    return t
            else:
                _noise(op, o, code[t, O.AUX], val, keys, m)
        for k in range(outputs.shape[0]):
            s = outputs[k, 0]
            if s < 0:  # a constant result
                for i in range(m):
                    out[start + i, k] = 0.0
                continue
            for i in range(m):
                total = dual[s, i] if outputs[k, 1] else 0.0
                if outputs[k, 2] and jgen[s, i] == G[i] and W[i] != 0.0:
                    total += W[i] * jump[s, i]
                out[start + i, k] = total
    return -1
