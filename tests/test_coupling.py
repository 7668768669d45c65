"""Inversion coupling of draws whose parameters move: the numba walks and windows against scipy,
and end-to-end unbiasedness of coupled draws (exact values from closed forms or scipy).

A test marked ``# BUG:`` failed before its fix and stays as a regression test; ``# EDGE:``
covers an edge case no other test covers.
"""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from conftest import assert_unbiased, central_difference, check_unbiased
from scipy import stats

import stochad as sad
from stochad import kernels as K


def _coupled_vs_scipy(kind, n, a0, b0, a1, b1, seed):
    """Coupled outcomes from the kernel and from scipy (u = F(k-1) + v pmf(k), then ppf)."""
    rng = np.random.default_rng(seed)
    a, b = np.full(n, a0), np.full(n, b0)
    if kind == 0:
        k = rng.poisson(a0, n)
        law, law_new = stats.poisson(a0), stats.poisson(a1)
    else:
        k = rng.binomial(int(a0), b0, n)
        law, law_new = stats.binom(int(a0), b0), stats.binom(int(a1), b1)
    v = rng.random(n)
    got = K.invert_coupled(kind, k, v, a, b, np.full(n, a1), np.full(n, b1))
    u = law.cdf(k - 1) + v * law.pmf(k)
    return got, law_new.ppf(u)


def _coupled(k, v, lam, lam_new, moved=None):
    """Jitted and plain-Python invert_coupled of Poisson draws; asserts they agree."""
    z = np.zeros(len(k))
    args = (0, np.asarray(k, np.int64), np.asarray(v, float), np.asarray(lam, float), z,
            np.asarray(lam_new, float), z)
    if moved is not None:
        args += (np.asarray(moved, bool),)
    got = K.invert_coupled(*args)
    np.testing.assert_array_equal(got, K.invert_coupled.py_func(*args))
    return got


def _ppf(k, v, lam, lam_new):
    u = stats.poisson.cdf(k - 1, lam) + v * stats.poisson.pmf(k, lam)
    return stats.poisson.ppf(u, lam_new)


def _small_cases():
    rng = np.random.default_rng(11)
    n = 20_000
    lam = np.exp(rng.uniform(np.log(1e-3), np.log(500), n))
    k = np.minimum(rng.poisson(lam), 64)
    new = np.clip(lam * np.exp(rng.normal(0, 2, n)), 0, 500)
    yield "random k<=64, rates in (0, 500]", lam, new, k
    lam = rng.uniform(450, 500, n)
    yield "rates near 500, k 0..64", lam, rng.uniform(0, 500, n), rng.integers(0, 65, n)
    yield "from exactly 500", np.full(n, 500.0), rng.uniform(0, 500, n), rng.integers(0, 65, n)
    lam = rng.uniform(0.01, 5, n)
    yield "to exactly 500", lam, np.full(n, 500.0), rng.poisson(lam)
    yield "500 -> just above (general walk)", np.full(n, 500.0), \
        np.full(n, np.nextafter(500.0, 501.0)), rng.poisson(500.0, n)
    yield "just above -> 500", np.full(n, np.nextafter(500.0, 501.0)), np.full(n, 500.0), \
        rng.poisson(500.0, n)
    lam = rng.uniform(0.1, 60, n)
    yield "to a_new = 0", lam, np.zeros(n), np.minimum(rng.poisson(lam), 64)
    yield "from a = 0", np.zeros(n), rng.uniform(0, 500, n), np.zeros(n, np.int64)
    lam = 10.0 ** rng.uniform(-300, -1, n)
    yield "tiny rates", lam, 10.0 ** rng.uniform(-300, 1, n), rng.poisson(lam)
    for kk in (0, 63, 64, 65):
        lam = rng.uniform(max(kk - 25.0, 0.5), kk + 25.0, n)
        yield f"k = {kk}", lam, np.clip(lam * np.exp(rng.uniform(-3, 2, n)), 0, 500), \
            np.full(n, kk)


N = 100_000


def _poisson_expect(g, lam, top=3000):
    """E[g(K)] for K ~ Poisson(lam), by enumerating scipy's pmf."""
    j = np.arange(top)
    return float((g(j) * stats.poisson.pmf(j, lam)).sum())


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize("reduce_", [
    np.sum,                                   # E = 3(0.2 + 0.5p): derivative 1.5
    lambda x: 3 * x[2],                       # indexing one element
    lambda x: np.sum(x.reshape(3, 1)),        # reshaping
])
def test_vector_draw_inheriting_a_scalar_perturbation(backend, reduce_):
    # its event array kept the parameter's shape (lanes, 1): x[2] raised IndexError
    def f(p):
        return reduce_(sad.bernoulli(0.2 + 0.5 * sad.bernoulli(p), size=3))

    check_unbiased(f, 0.3, 1.5, backend=backend)


@pytest.mark.parametrize("f, p, direction, exact", [
    # E[K²] = 12p for K ~ Poisson(3B), B ~ Bernoulli(p); the left derivative moves λ from 3 to 0
    # (it gave ≈ +45: the coupled outcome walked up to 51 instead of down to 0)
    (lambda p: sad.poisson(3.0 * sad.bernoulli(p)) ** 2, 0.4, -1.0, -12.0),
    (lambda p: sad.poisson(3.0 * (1 - sad.bernoulli(p))) ** 2, 0.4, None, -12.0),
    # Binomial(5, 0.6(1 - B)): p moves to 0, E[K] = 3(1 - p)
    (lambda p: sad.binomial(5, 0.6 * (1 - sad.bernoulli(p))), 0.4, None, -3.0),
    # Binomial(400, 0.91 → 0.01): pmf(k ≈ 364) underflows under the new law;
    # E[K²] = p(400·0.01·0.99 + 4²) + (1 - p)(400·0.91·0.09 + 364²)
    (lambda p: sad.binomial(400, 0.9 * (1 - sad.bernoulli(p)) + 0.01) ** 2, 0.4, None,
     19.96 - (32.76 + 364.0 ** 2)),
])
def test_coupling_into_a_far_or_degenerate_law(backend, f, p, direction, exact):
    check_unbiased(f, p, exact, backend=backend, direction=direction)


def test_invert_coupled_when_the_new_pmf_underflows():
    from scipy import stats

    from stochad import kernels

    rng = np.random.default_rng(0)
    k = np.array([3, 7, 364, 380, 0])
    a = np.array([3.0, 5.0, 400.0, 400.0, 400.0])
    b = np.array([0.0, 0.0, 0.91, 0.91, 0.01])
    b_new = np.array([0.0, 0.0, 0.01, 0.0, 0.91])
    a_new = np.array([0.0, 1e-3, 400.0, 400.0, 400.0])
    v = rng.random(k.size)
    # Poisson rows 0-1 (rate to 0 and to 1e-3), binomial rows 2-4
    pois = kernels.invert_coupled(0, k[:2], v[:2], a[:2], b[:2], a_new[:2], b_new[:2])
    u = stats.poisson.cdf(k[:2] - 1, a[:2]) + v[:2] * stats.poisson.pmf(k[:2], a[:2])
    np.testing.assert_array_equal(pois, stats.poisson.ppf(u, a_new[:2]))
    binom = kernels.invert_coupled(1, k[2:], v[2:], a[2:], b[2:], a_new[2:], b_new[2:])
    u = stats.binom.cdf(k[2:] - 1, a[2:], b[2:]) + v[2:] * stats.binom.pmf(k[2:], a[2:], b[2:])
    np.testing.assert_array_equal(binom, stats.binom.ppf(u, a_new[2:], b_new[2:]))


# BUG: invert_coupled's walk seeds the new pmf ratio recurrence (_next_pmf) with a pmf that
# has just left the underflow range (a subnormal with a few significant bits) and then
# multiplies that rounding error into every later pmf, so the walk's CDF is off by a large
# factor. Every walk that starts where the new law's pmf underflows (a rate that drops or rises
# by a lot, a binomial p that moves far with n >~ 550) lands on the wrong outcome. The kernel
# before c6f8bcd (exp(log pmf) per step) agrees with scipy on all of these.
# Reproducer: K.invert_coupled(0, k~Poisson(1000), v, 1000, 0, 100, 0).mean() is ~107, not ~100.
@pytest.mark.parametrize("kind, a0, b0, a1, b1", [
    (0, 1000.0, 0.0, 100.0, 0.0),    # rate drops: walk down from an underflowed pmf
    (0, 0.0, 0.0, 1000.0, 0.0),      # rate rises from 0 (> 500: no small-count window)
    (1, 1000.0, 0.5, 1000.0, 0.01),  # binomial p drops
    (1, 1000.0, 1.0, 1000.0, 0.3),   # binomial p leaves 1
])
def test_invert_coupled_walk_through_underflow_matches_scipy(kind, a0, b0, a1, b1):
    got, expected = _coupled_vs_scipy(kind, 2000, a0, b0, a1, b1, seed=0)
    assert np.count_nonzero(got != expected) == 0, (got.mean(), expected.mean())


# BUG: the same walk bug, end to end: the alternative outcome of a Poisson/binomial draw whose
# parameter jumps far has the wrong law, so the derivative is biased (pruned and exact alike;
# ~20 standard errors here). Exact derivatives: d/dp E[Poisson(1000 - 900 B)] = -900 and
# d/dp E[Binomial(1000, 0.5 - 0.49 B)] = -490 with B ~ Bernoulli(p).
# Got about -893 and -493.
@pytest.mark.parametrize("f, exact", [
    (lambda p: sad.poisson(1000.0 - 900.0 * sad.bernoulli(p)), -900.0),
    (lambda p: sad.binomial(1000, 0.5 - 0.49 * sad.bernoulli(p)), -490.0),
], ids=["poisson", "binomial"])
def test_far_parameter_jump_of_a_walk_coupled_draw_is_unbiased(backend, f, exact):
    assert_unbiased(sad.derivative_samples(f, 0.01, n_samples=100_000, rng=3,
                                           backend=backend), exact)


# EDGE: the small-count Poisson window (_small_poisson_coupled) at its boundaries: k = 0 with
# v = 0 (u = 0), k = 64 / 65 (window / walk), rates at and just above 500, rates that move to
# 0 or start at 0, and tiny rates; outcome is the smallest j with F_new(j) >= u, JIT == Python.
def test_small_poisson_window_boundaries():
    rng = np.random.default_rng(5)
    n = 3000
    cases = [  # lam, lam_new, k, v
        (rng.uniform(0.1, 5, n), rng.uniform(0.1, 5, n), rng.integers(0, 3, n), np.zeros(n)),
        (rng.uniform(55, 75, n), rng.uniform(55, 75, n), rng.integers(62, 68, n), rng.random(n)),
        (np.full(n, 500.0), 500.0 + rng.uniform(-2, 2, n), rng.poisson(500.0, n), rng.random(n)),
        (rng.uniform(0.1, 30, n), np.zeros(n), None, rng.random(n)),
        (np.zeros(n), rng.uniform(0, 500, n), np.zeros(n, dtype=np.int64), rng.random(n)),
        (10.0 ** rng.uniform(-300, -3, n), 10.0 ** rng.uniform(-300, 0, n), None, rng.random(n)),
    ]
    for lam, lam_new, k, v in cases:
        k = rng.poisson(lam) if k is None else k.astype(np.int64)
        zeros = np.zeros(n)
        got = K.invert_coupled(0, k, v, lam, zeros, lam_new, zeros)
        np.testing.assert_array_equal(
            got, K.invert_coupled.py_func(0, k, v, lam, zeros, lam_new, zeros))
        u = stats.poisson.cdf(k - 1, lam) + v * stats.poisson.pmf(k, lam)
        below, at = stats.poisson.cdf(got - 1, lam_new), stats.poisson.cdf(got, lam_new)
        assert np.all(got >= 0)
        assert np.all(((got == 0) | (below < u * (1 + 1e-12))) & (u <= at * (1 + 1e-12)))


# EDGE: the rewritten small path against scipy's ppf exactly (and JIT == py_func) at its
# boundaries: k = 0/63/64/65, rates at 500 and one ulp above, a_new = 0, a = 0, tiny rates,
# moves up to 500 (a ~500-step upward sum) and far down (lookup in below_k).
@pytest.mark.parametrize("label, lam, lam_new, k", list(_small_cases()),
                         ids=[c[0] for c in _small_cases()])
def test_small_poisson_coupling_matches_scipy_at_its_boundaries(label, lam, lam_new, k):
    v = np.random.default_rng(3).random(len(k))
    got = _coupled(k, v, lam, lam_new)
    np.testing.assert_array_equal(got, _ppf(k, v, lam, lam_new))


# BUG (low severity: draws with P(K >= k) ~ 1e-14 .. 1e-19, fixed): a Poisson draw far in its
# upper tail, whose u = F(k-1) + v·P(k) lies within rounding of 1, was sent to an absurd
# outcome. The upward sum of a^j/j! never reached u·exp(a_new) (rounding), so it ran on until
# the terms underflowed (or _SMALL_STEPS = 1024), handed over to the general walk, and that
# stopped only at pmf == 0 and j > 2·a_new + 50.
# Reproducer: K.invert_coupled(0, [20], [0.5], [1.0], [0.0], [2.0], [0.0]) -> 206 (exact
# inversion, min{j: sf_new(j) <= sf(k) + (1-v)·pmf(k)}: 25; the kernel before bc8f56b: 22);
# (k=44, lam=10, v=0.3035, lam_new=495.5) -> 1574 (exact 681; before: 679); through the general
# walk (k = 70 > 64, lam = 10 -> 600) -> 1767 (exact 927).
# Both sums now stop where the CDF no longer grows. A double u (and a CDF summed in doubles)
# resolves the distance from 1 only to about 1e-16 (1e-13 after a long walk), so the outcome
# must lie between the quantiles of the tails max(tail, 1e-12) and min(tail, 1e-18), not at
# the exact one.
@pytest.mark.parametrize("lam, k, v, lam_new", [
    (1.0, 20, 0.5, 2.0),
    (10.0, 44, 0.30350104305099823, 495.52202664057825),
    (5.0, 32, 0.5, 488.0),
    (10.0, 70, 0.5, 600.0),
    (20.0, 90, 0.3, 900.0),
    (600.0, 800, 0.5, 1000.0),
])
def test_small_poisson_tail_draw_is_not_sent_to_an_absurd_outcome(lam, k, v, lam_new):
    got = _coupled([k], [v], [lam], [lam_new])[0]
    tail = stats.poisson.sf(k, lam) + (1 - v) * stats.poisson.pmf(k, lam)  # 1 - u, exactly
    j = np.arange(5000)
    sf = stats.poisson.sf(j, lam_new)
    lowest, highest = j[np.argmax(sf <= max(tail, 1e-12))], j[np.argmax(sf <= min(tail, 1e-18))]
    assert lowest <= got <= highest, (got, lowest, highest)


# EDGE: the moved mask: unmoved elements keep k even with garbage parameters (NaN, k far above
# 64, rates above 500) and consume no uniform; an all-False mask, an all-True mask (== no
# mask), and empty arrays.
def test_invert_coupled_mask_edges():
    rng = np.random.default_rng(4)
    n = 2000
    lam = rng.uniform(0.5, 80, n)
    k = rng.poisson(lam)
    moved = rng.random(n) < 0.5
    lam_new = np.where(moved, np.clip(lam + rng.normal(0, 10, n), 0, 600), np.nan)
    v = rng.random(np.count_nonzero(moved))
    got = _coupled(k, v, lam, lam_new, moved)
    np.testing.assert_array_equal(got[~moved], k[~moved])
    np.testing.assert_array_equal(got[moved], _ppf(k[moved], v, lam[moved], lam_new[moved]))
    np.testing.assert_array_equal(_coupled(k, np.empty(0), lam, lam_new, np.zeros(n)), k)
    lam_new = np.clip(lam + 3, 0, 600)
    v = rng.random(n)
    np.testing.assert_array_equal(_coupled(k, v, lam, lam_new, np.ones(n)),
                                  _coupled(k, v, lam, lam_new))
    assert _coupled([], [], [], []).shape == (0,)
    assert _coupled([], [], [], [], []).shape == (0,)
    # binomial with moved n and p, masked
    trials = rng.integers(0, 40, n).astype(float)
    p = rng.uniform(0, 1, n)
    kb = rng.binomial(trials.astype(int), p)
    trials_new = np.where(moved, np.maximum(trials + rng.integers(-3, 4, n), 0), trials)
    p_new = np.where(moved, np.clip(p + rng.normal(0, 0.2, n), 0, 1), p)
    vb = rng.random(np.count_nonzero(moved))
    args = (1, kb, vb, trials, p, trials_new, p_new, moved)
    got = K.invert_coupled(*args)
    np.testing.assert_array_equal(got, K.invert_coupled.py_func(*args))
    np.testing.assert_array_equal(got[~moved], kb[~moved])
    u = stats.binom.cdf(kb - 1, trials, p)[moved] + vb * stats.binom.pmf(kb, trials, p)[moved]
    np.testing.assert_array_equal(got[moved], stats.binom.ppf(u, trials_new[moved],
                                                              p_new[moved]))


# EDGE: bernoulli_coupled: empty arrays, moves onto exactly 0 and 1 (valid), NaN/inf/out of
# range (the first bad index, also after valid ones), JIT == py_func.
def test_bernoulli_coupled_edges():
    for kernel in (K.bernoulli_coupled, K.bernoulli_coupled.py_func):
        assert kernel(np.empty(0), np.empty(0), np.empty(0), np.empty(0)) == -1
        u = np.array([0.0, 0.3, 0.999, 0.1, 0.5])
        p = np.array([0.0, 1.0, 0.5, 0.2, 0.7])
        dp = np.array([1.0, -1.0, 0.5, -0.2, 0.0])
        out = np.empty(5)
        assert kernel(u, p, dp, out) == -1
        np.testing.assert_array_equal(out, [1.0, -1.0, 1.0, -1.0, 0.0])
        for bad in (np.nan, np.inf, -np.inf, -0.7000000000000001, 0.30000001):
            dp2 = dp.copy()
            dp2[4] = bad
            assert kernel(u, p, dp2, out) == 4


# EDGE: Bernoulli draws coupled through the new kernel, parameter perturbed by a Poisson draw:
# d/dlam E[B], B ~ Bernoulli(1/(1+K)), K ~ Poisson(lam) = d/dlam (1 - e^-lam)/lam.
def test_bernoulli_with_a_perturbed_p_is_unbiased(backend):
    lam = 1.3
    exact = (lam * np.exp(-lam) - (1 - np.exp(-lam))) / lam**2
    f = lambda lam: sad.bernoulli(1.0 / (1.0 + sad.poisson(lam)))  # noqa: E731
    assert_unbiased(sad.derivative_samples(f, lam, n_samples=N, rng=1, backend=backend), exact)


# EDGE: multi-dimensional Bernoulli draws (size=(2, 3)) whose p broadcasts from a (3,) triple
# with per-element perturbations, through a non-linear function.
def test_multidimensional_bernoulli_with_broadcast_perturbed_p(backend):
    scale, w = np.array([1.0, 0.5, 2.0]), np.array([1.0, 2.0, 3.0])

    def f(lam):
        k = sad.poisson(lam * scale)
        b = sad.bernoulli(1.0 / (1.0 + k), size=(2, 3))
        return (b.sum(axis=0) ** 2 * w).sum()

    def expect(lam):
        j = np.arange(120)
        q = 1 / (1 + j)
        return sum(c * (stats.poisson.pmf(j, r) * (2 * q * (1 - q) + 4 * q * q)).sum()
                   for c, r in zip(w, lam * scale, strict=True))

    assert_unbiased(sad.derivative_samples(f, 0.8, n_samples=N, rng=5, backend=backend),
                    central_difference(expect, 0.8))


# EDGE: small Poisson draws whose rate jumps far: up to exactly 500 (a ~500-step upward sum),
# from a tiny rate (1e-12), and down from 60 to 2 (below_k lookup, k <= 64 mostly).
# d/dq E[sqrt(Poisson(r0 + (r1 - r0)·B))], B ~ Bernoulli(q) = E sqrt(Pois(r1)) - E sqrt(Pois(r0)).
@pytest.mark.parametrize("r0, r1, q", [(0.5, 500.0, 0.1), (1e-12, 3.0, 0.2), (2.0, 60.0, 0.9)])
def test_far_rate_jumps_of_small_poisson_draws_are_unbiased(backend, r0, r1, q):
    f = lambda x: np.sqrt(sad.poisson(r0 + (r1 - r0) * sad.bernoulli(x)))  # noqa: E731
    exact = _poisson_expect(np.sqrt, r1) - _poisson_expect(np.sqrt, r0)
    assert_unbiased(sad.derivative_samples(f, q, n_samples=N, rng=2, backend=backend), exact)


# EDGE: a vector Poisson draw of which only some elements move (the kernel's mask path):
# rates 1 + K·[0, 1, 2], K ~ Poisson(lam), g = Σ sqrt(M_i).
def test_partially_moved_poisson_vector_is_unbiased(backend):
    def f(lam):
        k = sad.poisson(lam)
        return np.sqrt(sad.poisson(1.0 + k * np.array([0.0, 1.0, 2.0]))).sum()

    def expect(lam):
        pk = stats.poisson.pmf(np.arange(40), lam)
        return sum(pk[i] * _poisson_expect(np.sqrt, 1.0 + i * c, 200)
                   for c in (0.0, 1.0, 2.0) for i in range(40))

    assert_unbiased(sad.derivative_samples(f, 0.7, n_samples=N, rng=4, backend=backend),
                    central_difference(expect, 0.7, 1e-4))


# EDGE: binomial with a perturbed n (from a Poisson draw) and p (dual part) at once:
# N ~ Poisson(3t), X ~ Binomial(N, t/2): E[X²] = λp(1-p) + (λ + λ²)p².
def test_binomial_with_perturbed_n_and_p_is_unbiased(backend):
    def f(t):
        return sad.binomial(sad.poisson(3.0 * t), t / 2.0) ** 2

    def expect(t):
        lam, p = 3 * t, t / 2
        return lam * p * (1 - p) + (lam + lam * lam) * p * p

    assert_unbiased(sad.derivative_samples(f, 0.5, n_samples=N, rng=6, backend=backend),
                    central_difference(expect, 0.5))


# EDGE: geometric and categorical draws still couple through the generic coupled_jump.
def test_geometric_and_categorical_couplings_are_unbiased(backend):
    j = np.arange(80)

    def geo(lam):
        return np.sqrt(sad.geometric(1.0 / (2.0 + sad.poisson(lam))))

    def geo_expect(lam):
        m = np.arange(1, 3000)
        pk = stats.poisson.pmf(j, lam)
        return sum(pk[i] * (np.sqrt(m) * stats.geom.pmf(m, 1 / (2 + i))).sum()
                   for i in range(40))

    def cat(lam):
        q = 1.0 / (1.0 + sad.poisson(lam))
        return sad.categorical([q / 2, q / 2, 1 - q]) ** 2

    def cat_expect(lam):
        q = 1 / (1 + j)
        return (stats.poisson.pmf(j, lam) * (q / 2 + 4 * (1 - q))).sum()

    assert_unbiased(sad.derivative_samples(geo, 0.9, n_samples=N, rng=8, backend=backend),
                    central_difference(geo_expect, 0.9))
    assert_unbiased(sad.derivative_samples(cat, 0.9, n_samples=N, rng=9, backend=backend),
                    central_difference(cat_expect, 0.9))


# EDGE: NUMBA_DISABLE_JIT=1 gives the same samples as the jitted kernels, end to end
# (Bernoulli kernel, masked walks, small-Poisson path, binomial with moved n; both backends).
def test_disable_jit_gives_the_same_samples(tmp_path):
    script = textwrap.dedent("""
        import sys
        import numpy as np
        import stochad as sad

        def f(p):
            k = sad.poisson(3 * p, size=4)
            b = sad.bernoulli(1.0 / (1.0 + k))
            m = sad.poisson(0.5 + 40 * b + k * np.array([0.0, 1.0, 2.0, 60.0]))
            x = sad.binomial(m, 0.3 + 0.1 * p)
            return np.sqrt(x + m).sum() + b.sum() ** 2

        out = [sad.derivative_samples(f, 0.7, n_samples=1500, rng=11, backend=b,
                                      chunk_size=700) for b in ("pruned", "exact")]
        np.save(sys.argv[1], np.concatenate(out))
    """)
    path = tmp_path / "run.py"
    path.write_text(script)
    results = []
    for disable in ("0", "1"):
        out = tmp_path / f"{disable}.npy"
        env = dict(os.environ, NUMBA_DISABLE_JIT=disable, PYTHONPATH=ROOT)
        subprocess.run([sys.executable, str(path), str(out)], check=True, env=env, cwd=ROOT,
                       timeout=120)
        results.append(np.load(out))
    np.testing.assert_array_equal(results[0], results[1])
