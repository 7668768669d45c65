"""Draw kernels: new perturbations' weights, and inversion coupling of perturbed draws.

Like every kernel here they take plain arrays and uniforms, never a Generator, so the same
numbers come out with the JIT on or off; ``kernel.py_func`` is the plain-Python meaning.
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import njit
from .events import BERNOULLI, BINOMIAL, GEOMETRIC, POISSON

_SMALLEST_NORMAL = np.finfo(np.float64).tiny  # below it a float64 loses significant bits

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
        outward = (d < 0.0) & (a <= 0.0)
    else:  # p = 1 is a boundary of all three, p = 0 of Bernoulli and binomial
        outward = (up & (p >= 1.0)) | ((not up) & (d < 0.0) & (p <= 0.0))
    up = up != outward
    # rate = num / den where ``ok``, else 0; every operand is computed and then selected (no
    # branch), so that the lane loops vectorise; a division happens only where ``ok``
    if kind == BERNOULLI:
        ok = (k == 0.0) if up else (k == 1.0)
        num = 1.0
        den = (1.0 - a) if up else a
    elif kind == BINOMIAL:
        ok = (k < a) if up else (k > 0.0)
        num = (a - k) if up else k
        den = (1.0 - b) if up else b
    elif kind == POISSON:
        ok = up | (k > 0.0)
        num = 1.0 if up else k
        den = 1.0 if up else a
    else:
        ok = (k > 1.0) if up else True
        num = (k - 1.0) if up else k
        den = (a * (1.0 - a)) if up else a
    quotient = num / (den if ok else 1.0)
    rate = quotient if ok else 0.0
    step = 1.0 if up else -1.0
    if kind == GEOMETRIC:
        step = -step
    size = abs(d) * rate
    weight = -size if outward else size
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
