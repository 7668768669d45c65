"""Numba kernels for the per-lane loops numpy cannot express in one pass.

Every kernel takes plain arrays (and arrays of uniforms drawn from the run's generator, never a
Generator object), so that the same numbers come out with the JIT on or off
(``NUMBA_DISABLE_JIT=1``). Each kernel's plain-Python meaning is ``kernel.py_func``; the tests
check that both agree exactly.

Shapes: ``(n_lanes, m)`` arrays hold ``m`` logical elements per lane, lanes first, C order.
"""

from __future__ import annotations

import math

import numpy as np

from ._jit import njit

NO_EVENT = -1
BERNOULLI, BINOMIAL, POISSON, GEOMETRIC = 0, 1, 2, 3  # rows of the weight table
SLOT_BITS = 24
SLOT_MASK = (1 << SLOT_BITS) - 1
_SMALLEST_NORMAL = np.finfo(np.float64).tiny  # below it a float64 loses significant bits

# An event id is ``generation << SLOT_BITS | slot``: the event lives in ``slot`` of its lane's
# table while the slot's generation matches. A slot whose weight is 0 is free; reusing it bumps
# its generation, so every stale reference to the old event reads weight 0 (dead) at once.
# The lookup is written out in each kernel: passing the tables to a helper function costs
# numba a reference-count update per call, which made these loops four times slower. So is the
# liveness test (event, jump, generation, weight): as a helper taking the loaded generation and
# weight it loads them before the short-circuit, and prune_pair ran about 25% slower.


@njit(inline="always")
def _cell(row, event):
    """Index of ``event``'s slot in the flattened table, given its lane's first cell ``row``.

    Unsigned, so numba emits no negative-index wrap-around; an absent event (``-1``) maps to
    the lane's slot 0, which the callers never trust (they test ``event >= 0`` as well).
    """
    return row + np.uint64((event & SLOT_MASK) * (event >= 0))


@njit
def lookup_weights(events, weights, generations):
    """Weight of each element's event (0 where absent or dead); ``events`` is ``(n_lanes, m)``."""
    n_lanes, m = events.shape
    n_slots = np.uint64(weights.shape[1])
    flat = events.reshape(-1)
    table_w, table_g = weights.reshape(-1), generations.reshape(-1)
    out = np.empty(flat.size)
    row = np.uint64(0)
    j = 0
    for i in range(flat.size):
        e = flat[i]
        c = _cell(row, e)
        live = e >= 0 and table_g[c] == e >> SLOT_BITS
        out[i] = table_w[c] if live else 0.0
        j += 1
        if j == m:
            j = 0
            row += n_slots
    return out.reshape(n_lanes, m)


@njit
def mark_referenced(events, jumps, generations, marks):
    """Set ``marks[lane, slot]`` for every live event that an element with a non-zero jump
    references (``events``/``jumps`` are ``(n_lanes, m)``); used to free leaked slots."""
    n_lanes, m = events.shape
    for lane in range(n_lanes):
        for j in range(m):
            e = events[lane, j]
            s = e & SLOT_MASK
            if e >= 0 and jumps[lane, j] != 0.0 and generations[lane, s] == e >> SLOT_BITS:
                marks[lane, s] = True


@njit
def free_unmarked(weights, marks):
    """Set the weight of every slot not in ``marks`` to 0 (free), in place: one pass, and
    exact where a weight is infinite (``weights *= marks`` would leave NaN there)."""
    w, keep = weights.reshape(-1), marks.reshape(-1)
    for i in range(w.size):
        w[i] = w[i] if keep[i] else 0.0


@njit
def count_conflicts(event_a, jump_a, event_b, jump_b):
    """Elements where two different events with non-zero jumps meet: an upper bound of the
    uniforms :func:`prune_pair` consumes (it also skips dead events)."""
    a, b = event_a.reshape(-1), event_b.reshape(-1)
    da, db = jump_a.reshape(-1), jump_b.reshape(-1)
    count = 0
    for i in range(a.size):
        count += (a[i] != b[i]) & (a[i] >= 0) & (b[i] >= 0) & (da[i] != 0.0) & (db[i] != 0.0)
    return count


@njit
def prune_pair(event_a, jump_a, event_b, jump_b, weights, generations, uniforms):
    """Reconcile two perturbations per element, keeping at most one (pruned backend).

    For each element, in lane-major order: equal events move together; an input whose jump is
    zero, or whose event is absent or dead, carries no perturbation; otherwise one of the two
    live events is kept with probability proportional to ``|weight|`` (consuming the next
    uniform), its weight is divided by that probability in the shared table, and the other is
    killed (weight 0) in that lane -- everywhere it is referenced.

    Parameters
    ----------
    event_a, event_b : int64 (n_lanes, m)
    jump_a, jump_b : float64 (n_lanes, m)
    weights, generations : (n_lanes, n_slots)
        The run's event table, updated in place.
    uniforms : float64 (k,)
        At least as many uniforms as :func:`count_conflicts` says, consumed in order.

    Returns
    -------
    event_out : int64 (n_lanes, m)
    kept_a, kept_b : float64 (n_lanes, m)
        The jumps that survive (the input jump, or 0 where that input lost).
    """
    n_lanes, m = event_a.shape
    n_slots = np.uint64(weights.shape[1])
    ea, eb = event_a.reshape(-1), event_b.reshape(-1)
    ja, jb = jump_a.reshape(-1), jump_b.reshape(-1)
    table_w, table_g = weights.reshape(-1), generations.reshape(-1)
    event_out = np.empty(ea.size, dtype=np.int64)
    kept_a = np.empty(ea.size)
    kept_b = np.empty(ea.size)
    used = 0
    row = np.uint64(0)  # the lane's first cell in the table
    j = 0  # the element's index within its lane
    # One flat loop with short-circuit liveness tests: a (lanes, m) double loop, or `&`
    # instead of `and`, made numba's code about 1.6x slower here.
    for i in range(ea.size):
        a, b, da, db = ea[i], eb[i], ja[i], jb[i]
        same = a == b
        ca, cb = _cell(row, a), _cell(row, b)
        wa, wb = table_w[ca], table_w[cb]
        live_a = a >= 0 and da != 0.0 and table_g[ca] == a >> SLOT_BITS and wa != 0.0
        live_b = (not same and b >= 0 and db != 0.0 and table_g[cb] == b >> SLOT_BITS
                  and wb != 0.0)
        if live_a and live_b:
            total = abs(wa) + abs(wb)
            live_a = uniforms[used] * total < abs(wa)
            live_b = not live_a
            used += 1
            table_w[ca] = math.copysign(total, wa) if live_a else 0.0
            table_w[cb] = math.copysign(total, wb) if live_b else 0.0
        keep_a = live_a or same
        keep_b = live_b or same
        event_out[i] = a if keep_a else (b if keep_b else NO_EVENT)
        kept_a[i] = da if keep_a else 0.0
        kept_b[i] = db if keep_b else 0.0
        j += 1
        if j == m:
            j = 0
            row += n_slots
    shape = (n_lanes, m)
    return event_out.reshape(shape), kept_a.reshape(shape), kept_b.reshape(shape)


@njit
def prune_sum(events, jumps, weights, generations, uniforms):
    """Sum perturbations along the last axis of ``(n_lanes, n_out, n_terms)`` arrays.

    The fused form of the chain ``acc = x[0]; acc = acc + x[1]; ...`` of :func:`prune_pair`
    calls, with the same rule: along each row, terms of the accumulated event add their jumps;
    a live term of another event meets the accumulated one, and one of the two is kept with
    probability proportional to ``|weight|`` (next uniform), rescaled, the other killed in its
    lane. Terms whose event is absent or dead, or whose jump is 0, carry nothing.

    Returns ``(event, jump)``, each ``(n_lanes, n_out)``. ``uniforms`` needs one per live term
    at most.
    """
    n_lanes, n_out, n_terms = events.shape
    n_slots = np.uint64(weights.shape[1])
    table_w, table_g = weights.reshape(-1), generations.reshape(-1)
    event_out = np.empty((n_lanes, n_out), dtype=np.int64)
    jump_out = np.empty((n_lanes, n_out))
    used = 0
    row = np.uint64(0)
    for lane in range(n_lanes):
        for r in range(n_out):
            acc, acc_jump = NO_EVENT, 0.0
            for t in range(n_terms):
                e, d = events[lane, r, t], jumps[lane, r, t]
                if e < 0 or d == 0.0:
                    continue
                if e == acc:
                    acc_jump += d
                    continue
                c = _cell(row, e)
                w = table_w[c]
                if table_g[c] != e >> SLOT_BITS or w == 0.0:
                    continue  # dead
                ca = _cell(row, acc)
                wa = table_w[ca]
                if not (acc >= 0 and acc_jump != 0.0 and table_g[ca] == acc >> SLOT_BITS
                        and wa != 0.0):
                    acc, acc_jump = e, d
                    continue
                total = abs(wa) + abs(w)
                if uniforms[used] * total < abs(wa):
                    table_w[ca] = math.copysign(total, wa)
                    table_w[c] = 0.0
                else:
                    table_w[c] = math.copysign(total, w)
                    table_w[ca] = 0.0
                    acc, acc_jump = e, d
                used += 1
            event_out[lane, r] = acc
            jump_out[lane, r] = acc_jump
        row += n_slots
    return event_out, jump_out


@njit
def count_draw_conflicts(inherited, alternative_jump, new_weight):
    """Elements where a draw's live-looking inherited perturbation meets a new one: an upper
    bound of the uniforms :func:`attach_new_events` consumes."""
    e, d, w = inherited.reshape(-1), alternative_jump.reshape(-1), new_weight.reshape(-1)
    count = 0
    for i in range(e.size):
        count += (e[i] >= 0) & (d[i] != 0.0) & (w[i] != 0.0)
    return count


@njit
def attach_new_events(inherited, alternative_jump, new_weight, new_jump, weights, generations,
                      uniforms, used, start_lane, event_out, jump_out):
    """A draw's perturbation: its inherited one and the new one its dual parts create, pruned.

    The fused form of "register the new events, then :func:`prune_pair` them against the
    inherited ones", with the same rule and the same uniforms: per element, in lane-major
    order,

    * no new weight: the inherited perturbation, if live;
    * a new weight and a live inherited perturbation: keep one with probability proportional
      to ``|weight|`` (next uniform), rescaled; a new event that wins takes the slot of the
      inherited one it killed;
    * a new weight only: the new event, in a free slot.

    All ``(n_lanes, m)``; fills ``event_out``/``jump_out`` from lane ``start_lane`` on, with
    ``uniforms`` consumed from index ``used``. Returns ``(lane, used)``: ``lane`` is ``-1``
    when done, or the first lane without enough free slots (left untouched, so the caller can
    grow the table and call again from it).
    """
    n_lanes, m = new_weight.shape
    n_slots = weights.shape[1]
    inh, alt = inherited.reshape(-1), alternative_jump.reshape(-1)
    new_w, new_d = new_weight.reshape(-1), new_jump.reshape(-1)
    events, jumps = event_out.reshape(-1), jump_out.reshape(-1)
    table_w, table_g = weights.reshape(-1), generations.reshape(-1)
    lane, j = start_lane, 0  # the element's lane, and its index within the lane
    row = np.uint64(lane * n_slots)  # the lane's first cell in the table
    s_next = 0  # with several elements per lane: no free slot before this one in the lane
    for i in range(start_lane * m, n_lanes * m):
        if j == 0 and m > 1:  # enough free slots for the whole lane? (m == 1: checked below)
            s_next = 0
            needed = 0
            for k in range(i, i + m):
                needed += new_w[k] != 0.0
            free = 0
            for s in range(n_slots):
                free += table_w[row + np.uint64(s)] == 0.0
            if free < needed:
                return lane, used
        a, da, w = inh[i], alt[i], new_w[i]
        ca = _cell(row, a)
        wa = table_w[ca]
        live_a = a >= 0 and da != 0.0 and table_g[ca] == a >> SLOT_BITS and wa != 0.0
        if live_a and w != 0.0:
            total = abs(wa) + abs(w)
            keep_old = uniforms[used] * total < abs(wa)
            used += 1
            if keep_old:
                table_w[ca] = math.copysign(total, wa)
                events[i], jumps[i] = a, da
            else:  # the new event takes the slot of the one it killed
                generation = table_g[ca] + 1
                table_g[ca] = generation
                table_w[ca] = math.copysign(total, w)
                events[i], jumps[i] = (generation << SLOT_BITS) | np.int64(ca - row), new_d[i]
        else:
            # the first free slot, if any (m == 1: branch-free, the occupancy is random; with
            # several elements the search resumes where the lane's last one stopped)
            s = n_slots
            if m == 1:
                for t in range(n_slots - 1, -1, -1):
                    s = t if table_w[row + np.uint64(t)] == 0.0 else s
            elif w != 0.0:
                s = s_next
                while s < n_slots and table_w[row + np.uint64(s)] != 0.0:
                    s += 1
                s_next = s + 1
            create = w != 0.0
            if s == n_slots and create:
                return lane, used  # only when m == 1: nothing in this lane was touched yet
            cell = row + np.uint64(min(s, n_slots - 1))
            generation = table_g[cell] + create
            table_g[cell] = generation
            table_w[cell] = w if create else table_w[cell]
            new_event = (generation << SLOT_BITS) | np.int64(cell - row)
            events[i] = new_event if create else (a if live_a else NO_EVENT)
            jumps[i] = new_d[i] if create else (da if live_a else 0.0)
        j += 1
        if j == m:
            j = 0
            lane += 1
            row += np.uint64(n_slots)
    return -1, used


@njit
def bernoulli_coupled(u, p, dp, out):
    """The jump ``[u < p + dp] - [u < p]`` of Bernoulli draws ``u < p`` on an alternative path
    on which ``p`` moves by ``dp`` (flat arrays; written to ``out``).

    Returns the first index whose moved ``p + dp`` is outside [0, 1] (or NaN), else -1: the
    caller raises, as validating the alternative parameters does.
    """
    bad = -1
    for i in range(u.size):
        q = p[i] + dp[i]
        if bad < 0 and not (q >= 0.0 and q <= 1.0):
            bad = i
        out[i] = np.float64(u[i] < q) - np.float64(u[i] < p[i])
    return bad


@njit(inline="always", error_model="numpy")
def _new_jump_and_weight(kind, k, a, b, d):
    """DESIGN §1's weight table for one draw ``k`` whose parameter moves by ``d``.

    ``kind``: BERNOULLI(p=a), BINOMIAL(n=a, p=b), POISSON(lam=a), GEOMETRIC(p=a, trials).
    Inversion coupling, right derivative for ``d > 0`` and left for ``d < 0``; the weight is
    ≥ 0 (negative only at a boundary, below), and 0 where the draw cannot move. Written with
    selects rather than branches: the draws are random, so branches on them are mispredicted
    half of the time.

    At a boundary of the parameter's domain where ``d`` points out of it (p = 1 and d > 0;
    p = 0 and d < 0; λ = 0 and d < 0), the one-sided derivative into the domain is used:
    the other column, along ``-d``, with its weight negated (the derivative along ``d`` is
    minus the one along ``-d``). See docs/decisions.md.
    """
    up = d > 0.0
    p = b if kind == BINOMIAL else a
    if kind == POISSON:
        outward = d < 0.0 and a <= 0.0
    else:  # p = 1 is a boundary of all three, p = 0 of Bernoulli and binomial
        outward = (p >= 1.0) if up else (d < 0.0 and p <= 0.0)
    up = up != outward
    if kind == BERNOULLI:
        rate = (1.0 / (1.0 - a) if k == 0 else 0.0) if up else (1.0 / a if k == 1 else 0.0)
    elif kind == BINOMIAL:
        rate = ((a - k) / (1.0 - b) if k < a else 0.0) if up else (k / b if k > 0 else 0.0)
    elif kind == POISSON:
        rate = 1.0 if up else (k / a if k > 0 else 0.0)
    else:
        rate = ((k - 1.0) / (a * (1.0 - a)) if k > 1 else 0.0) if up else k / a
    step = 1.0 if up else -1.0
    if kind == GEOMETRIC:
        step = -step
    weight = -abs(d) * rate if outward else abs(d) * rate
    return (step if weight != 0.0 else 0.0), weight


@njit(error_model="numpy")
def new_perturbation(kind, k, a, b, d):
    """The perturbations draws ``k`` get from their parameters' dual parts ``d`` (flat arrays).

    Returns
    -------
    jump, weight : float64 arrays like ``k``; weight 0 where there is none.
    """
    n = k.size
    jump = np.zeros(n)
    weight = np.zeros(n)
    for i in range(n):
        jump[i], weight[i] = _new_jump_and_weight(kind, k[i], a[i], b[i], d[i])
    return jump, weight


_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_LOG_GAMMA_FORM = 64.0  # up to this size the log-gamma form of the log-pmf is accurate


@njit(inline="always")
def _stirling_error(n):
    """``log(n!) - (n + 1/2)·log(n) + n - log(sqrt(2π))`` for ``n >= 1``, without the
    cancellation of the log-gammas (Loader 2000): its asymptotic series above 15."""
    if n <= 15.0:
        return math.lgamma(n + 1.0) - (n + 0.5) * math.log(n) + n - _LOG_SQRT_2PI
    nn = n * n
    return (1.0 / 12 - (1.0 / 360 - (1.0 / 1260 - (1.0 / 1680 - 1.0 / (1188 * nn)) / nn)
                        / nn) / nn) / n


@njit(inline="always")
def _deviance(x, m):
    """``x·log(x/m) + m - x`` for ``x, m > 0``, accurate where ``x`` is near ``m`` (Loader
    2000: a series in ``(x - m)/(x + m)`` there)."""
    if abs(x - m) >= 0.1 * (x + m):
        return x * math.log(x / m) + m - x
    v = (x - m) / (x + m)
    total = (x - m) * v
    term = 2.0 * x * v
    v2 = v * v
    j = 1.0
    while True:
        term *= v2
        grown = total + term / (2.0 * j + 1.0)
        if grown == total:
            return total
        total = grown
        j += 1.0


@njit(nested=True)
def _log_pmf(kind, k, a, b):
    """log P(K = k) for kind 0: Poisson(a), kind 1: Binomial(n=a, p=b).

    Above ``_LOG_GAMMA_FORM`` in Loader's saddle-point form, accurate to a few ulps of the
    pmf at any size: the plain ``k·log(a) - a - lgamma(k + 1)`` cancels terms of size
    ``a·log(a)``, and lost 1% of the pmf of a binomial with ``n = 10^12`` (enough to move
    its inverse CDF). Below it the plain form is as accurate (1e-13) and half the cost.
    """
    if k < 0:
        return -math.inf
    if kind == 0:
        if a == 0.0:
            return 0.0 if k == 0 else -math.inf
        if k == 0:
            return -a
        if a <= _LOG_GAMMA_FORM and k <= _LOG_GAMMA_FORM:
            return k * math.log(a) - a - math.lgamma(k + 1.0)
        return -_stirling_error(k) - _deviance(k, a) - 0.5 * math.log(k) - _LOG_SQRT_2PI
    if k > a:
        return -math.inf
    if b == 0.0:
        return 0.0 if k == 0 else -math.inf
    if b == 1.0:
        return 0.0 if k == a else -math.inf
    if k == 0:
        return a * math.log1p(-b)
    if k == a:
        return a * math.log(b)
    rest = a - k
    if a <= _LOG_GAMMA_FORM:
        return (math.lgamma(a + 1.0) - math.lgamma(k + 1.0) - math.lgamma(rest + 1.0)
                + k * math.log(b) + rest * math.log1p(-b))
    return (_stirling_error(a) - _stirling_error(k) - _stirling_error(rest)
            - _deviance(k, a * b) - _deviance(rest, a * (1.0 - b))
            + 0.5 * math.log(a / (k * rest)) - _LOG_SQRT_2PI)


@njit(nested=True)
def _cdf_and_pmf(kind, k, a, b):
    """``F(k)`` and ``P(K = k)``, summing the pmf down from ``k`` by its ratio recurrence until
    the terms below the mode no longer matter (accurate to a few ulps, no scipy call)."""
    pmf = math.exp(_log_pmf(kind, k, a, b))
    mode = math.floor(a) if kind == 0 else math.floor((a + 1.0) * b)
    if pmf < _SMALLEST_NORMAL:
        # k is outside the support, or so far in a tail that its mass underflows (to 0 or to
        # a subnormal number, too imprecise to sum from): the whole tail beyond k is smaller
        # still, so F(k) is 1 above the mode and 0 below it
        return (1.0 if k > mode else 0.0), pmf
    total = pmf
    term = pmf
    j = k
    while j > 0 and term > 0.0:
        ratio = j / a if kind == 0 else j / (a - j + 1.0) * (1.0 - b) / b
        term *= ratio
        j -= 1
        total += term
        if j <= mode and term < 1e-17 * total:
            break
    return min(total, 1.0), pmf


@njit(inline="always")
def _next_pmf(kind, j, pmf, a, b, up):
    """``P(K = j ± 1)`` from ``pmf = P(K = j)`` by the pmf's ratio recurrence (a multiply
    instead of a log-gamma), or from scratch where the recurrence cannot carry it (a pmf that
    underflowed to 0 or to a subnormal number, a ratio that is 0·∞ at a parameter's
    boundary)."""
    nxt = j + 1 if up else j - 1
    if pmf >= _SMALLEST_NORMAL:  # a subnormal pmf has too few bits to carry on from
        if kind == 0:
            ratio = a / (j + 1.0) if up else j / a
        elif up:
            ratio = (a - j) / (j + 1.0) * (b / (1.0 - b))
        else:
            ratio = j / (a - j + 1.0) * ((1.0 - b) / b)
        stepped = pmf * ratio
        if math.isfinite(stepped) and stepped > 0.0:
            return stepped
    return math.exp(_log_pmf(kind, nxt, a, b))


_FAR = 1000  # a walk longer than this starts from the approximate quantile instead


@njit(inline="always")
def _normal_quantile(u):
    """An approximate standard normal quantile of ``u`` (Abramowitz & Stegun 26.2.23, error
    below 4.5e-4; ``u`` of 0 or 1 is taken as 1e-300 from the bound)."""
    q = max(min(u, 1.0 - u), 1e-300)
    t = math.sqrt(-2.0 * math.log(q))
    z = t - (2.515517 + t * (0.802853 + t * 0.010328)) / (
        1.0 + t * (1.432788 + t * (0.189269 + t * 0.001308)))
    return z if u > 0.5 else -z


@njit(inline="always")
def _approximate_quantile(kind, u, a, b):
    """Where the law's inverse CDF at ``u`` roughly is (normal approximation with a skewness
    correction, Cornish-Fisher): a starting point for the walk, which finds the exact one."""
    z = _normal_quantile(u)
    if kind == 0:
        mean, sd, skew = a, math.sqrt(a), 1.0 / 6.0  # skew: skewness · sd / 6
    else:
        mean, sd, skew = a * b, math.sqrt(a * b * (1.0 - b)), (1.0 - 2.0 * b) / 6.0
    x = mean + sd * z + skew * (z * z - 1.0)
    upper = a if kind == 1 else 9.2e18  # below 2**63
    return np.int64(min(max(math.floor(x + 0.5), 0.0), upper))


_SMALL_COUNT, _SMALL_RATE = 64, 500.0  # exp(-500) and the terms up to k = 66 stay normal
_SMALL_STEPS = 1024  # how far the small path walks up before it leaves it to the general walk
_RECIPROCALS = 1.0 / np.arange(1.0, _SMALL_STEPS + 1.0)  # 1/(j + 1): multiplies, not divisions


@njit(inline="always")
def _small_poisson_coupled(k, v, a, a_new, below_k):
    """Inversion coupling of a small Poisson draw ``k`` (``k <= 64``, rates <= 500).

    Sums both pmfs up from 0 in one loop (no log-gamma, accurate to a few ulps), which gives
    ``u = F(k - 1) + v·P(K = k)`` under rate ``a`` and the new law's CDF up to ``k - 1``, kept
    in ``below_k``; the outcome below ``k`` is found there, and one above it by summing on.

    Returns ``(j, cdf, pmf, u, found)``: the outcome if ``found``, else where the general walk
    must go on from (``j`` with ``cdf = F_new(j)``, ``pmf = P_new(j)``): only if the sum
    upwards ran out of its table of reciprocals, which rates <= 500 do not reach.
    """
    # The sums are of a^j/j!, without the factors exp(-a) and exp(-a_new): they stay finite
    # for rates <= 500, and comparing u·exp(a_new) with them takes one exp instead of two.
    term, term_new = 1.0, 1.0
    below, cdf = 0.0, 0.0
    for j in range(k):
        below += term
        cdf += term_new
        below_k[j] = cdf
        term *= a * _RECIPROCALS[j]
        term_new *= a_new * _RECIPROCALS[j]
    u = (below + v * term) * math.exp(a_new - a)  # u·exp(a_new) on the new law's scale
    if k > 0 and u <= cdf:  # F_new(k - 1) >= u: the smallest j < k with F_new(j) >= u
        j = k - 1
        while j > 0 and below_k[j - 1] >= u:
            j -= 1
        return j, 0.0, 0.0, 0.0, True
    j = k
    cdf += term_new  # F_new(k)·exp(a_new)
    while u > cdf and j < _SMALL_STEPS:
        term_new *= a_new * _RECIPROCALS[j]
        j += 1
        grown = cdf + term_new
        if grown == cdf and j > a_new:
            # the sum no longer grows: u lies within rounding of the total mass (a draw far
            # in its upper tail), and the outcome is where the new law's CDF reaches it
            return j, 0.0, 0.0, 0.0, True
        cdf = grown
    if u <= cdf:
        return j, 0.0, 0.0, 0.0, True
    scale = math.exp(-a_new)
    return j, cdf * scale, term_new * scale, u * scale, False


@njit
def invert_coupled(kind, k, v, a, b, a_new, b_new, moved=None):
    """The outcome coupled to draw ``k`` by inversion when the law's parameters move.

    ``k`` was drawn from Poisson(``a``) (``kind`` 0) or Binomial(``a``, ``b``) (``kind`` 1);
    ``u = F(k - 1) + v·P(K = k)`` is a uniform consistent with it (``v`` uniform), and the
    result is the smallest ``j`` with ``F_new(j) >= u`` under the new parameters (DESIGN §1).
    The search walks from ``k``, so it costs the distance between the two outcomes; where
    that is more than ``_FAR`` steps it walks from an approximate quantile of the new law
    instead (a parameter that jumps by 10⁷), and costs about ten standard deviations of it
    (the CDF there is a sum of pmfs).

    ``moved`` (bool, like ``k``; default all): elements whose parameters move. The others
    keep ``k`` and consume no uniform, so ``v`` needs one per moved element, in order (the
    caller passes whole arrays instead of gathering the moved elements).
    """
    n = k.size
    out = np.empty(n, dtype=np.int64)
    below_k = np.empty(_SMALL_COUNT)  # F_new(0..k-1) of a small Poisson draw
    used = 0
    for i in range(n):
        if moved is not None and not moved[i]:
            out[i] = k[i]
            continue
        vi = v[used]
        used += 1
        an = a_new[i]
        bn = b_new[i]
        if kind == 0 and k[i] <= _SMALL_COUNT and max(a[i], an) <= _SMALL_RATE:
            j, cdf, pmf, u, found = _small_poisson_coupled(k[i], vi, a[i], an, below_k)
            if found:
                out[i] = j
                continue
        else:
            cdf_k, pmf_k = _cdf_and_pmf(kind, k[i], a[i], b[i])
            u = cdf_k - pmf_k + vi * pmf_k
            j = min(k[i], np.int64(an)) if kind == 1 else k[i]
            mean, var = (an, an) if kind == 0 else (an * bn, an * bn * (1.0 - bn))
            # the guess can be _FAR from j only if the new law's mean or spread is far (its
            # |z| <= 38 and skewness term <= 240): skip the logarithms for the common near move
            if abs(mean - j) > 250.0 or var > 150.0:
                guess = _approximate_quantile(kind, u, an, bn)
                if abs(guess - j) > _FAR:
                    j = guess  # a far move: walk from near the outcome, not from k
            cdf, pmf = _cdf_and_pmf(kind, j, an, bn)
        upper = an if kind == 1 else math.inf
        if u <= cdf:
            scale = cdf  # the walk's subtractions are accurate relative to this
            while j > 0:  # walk down while F(j - 1) >= u
                below = cdf - pmf
                fresh = below < 1e-8 * scale
                if fresh:
                    # F(j - 1) has fallen far below the CDF the walk subtracted from (a draw
                    # far in the left tail): its rounding error would dominate, so sum it afresh
                    below, below_pmf = _cdf_and_pmf(kind, j - 1, an, bn)
                    scale = below
                if below < u:
                    break
                pmf = below_pmf if fresh else _next_pmf(kind, j, pmf, an, bn, False)
                cdf = below
                j -= 1
        else:
            mode = an if kind == 0 else (an + 1.0) * bn
            while u > cdf and j < upper:
                pmf = _next_pmf(kind, j, pmf, an, bn, True)
                j += 1
                grown = cdf + pmf
                if grown == cdf and j > mode:
                    break  # saturated: u is within rounding of 1 (see _small_poisson_coupled)
                cdf = grown
        out[i] = j
    return out


@njit
def categorical_perturbation(cdf, dcdf, k, uniforms):
    """New perturbation of a categorical draw from the dual parts of its probabilities.

    Parameters
    ----------
    cdf : float64 (n, C)
        Cumulative probabilities ``F(0..C-1)``.
    dcdf : float64 (n, C)
        Their dual parts ``dF``.
    k : int64 (n,)
        The drawn categories.
    uniforms : float64 (n,)
        Choose between a downward and an upward jump when both exist (and, among categories
        of probability 0 next to the target, which one the alternative path lands in).

    Returns
    -------
    jump, weight : float64 (n,)
        DESIGN §1: down with weight ``dF(k-1)/p_k`` if that is positive; up with weight
        ``-dF(k)/p_k`` if ``dF(k)`` is negative. The target is the category inversion coupling
        gives, ``min{j : F(j) + dF(j)·ε >= u}`` for ``u`` uniform on the moved part of
        ``[F(k-1), F(k)]``: the nearest category of non-zero probability, unless categories
        of probability 0 in between gain probability (a parameter at a boundary, e.g.
        ``[p, 1 - p]`` at ``p = 0``); then the alternative path may land in one of those.
    """
    n, n_cat = cdf.shape
    jump = np.zeros(n)
    weight = np.zeros(n)
    for i in range(n):
        c = k[i]
        lower = cdf[i, c - 1] if c > 0 else 0.0
        p_k = cdf[i, c] - lower
        if p_k <= 0.0:
            continue
        d_lower = dcdf[i, c - 1] if c > 0 else 0.0
        w_down = d_lower / p_k if d_lower > 0.0 else 0.0
        d_upper = dcdf[i, c] if c < n_cat - 1 else 0.0
        w_up = -d_upper / p_k if d_upper < 0.0 else 0.0
        total = w_down + w_up
        if total <= 0.0:
            continue
        weight[i] = total
        x = uniforms[i] * total
        if x < w_down:
            # u = F(k-1) + t·ε with t uniform on (0, dF(k-1)): the smallest j whose F(j) equals
            # F(k-1) (the nearest lower category of non-zero probability, or an empty one
            # between) with dF(j) > t
            t = x / w_down * d_lower
            j = c - 1
            while j > 0 and cdf[i, j] - cdf[i, j - 1] <= 0.0:
                j -= 1
            while j < c - 1 and dcdf[i, j] <= t:
                j += 1
        else:
            # u = F(k) - s·ε with s uniform on (0, -dF(k)): the first j > k of non-zero
            # probability, or an empty one before it with dF(j) >= -s
            s = (x - w_down) / w_up * -d_upper
            j = c + 1
            while j < n_cat - 1 and cdf[i, j] - cdf[i, j - 1] <= 0.0 and dcdf[i, j] < -s:
                j += 1
        jump[i] = j - c
    return jump, weight
