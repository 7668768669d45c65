"""Review of the masked inversion walk, the rewritten small-Poisson coupling, the Bernoulli
coupling kernel, equal chunks and best-of-N estimator timing (commits 6e3c32f..564b8f1).

Tests marked ``# BUG:`` fail on 564b8f1 and show a defect. Tests marked ``# EDGE:`` cover an
edge case of those changes and pass.
"""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from conftest import assert_unbiased
from scipy import stats

import stochad as sad
from stochad import kernels as K
from stochad.driver import chunk_lanes

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _poisson_expect(g, lam, top=3000):
    """E[g(K)] for K ~ Poisson(lam), by enumerating scipy's pmf."""
    j = np.arange(top)
    return float((g(j) * stats.poisson.pmf(j, lam)).sum())


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


# ------------------------------------------------------------------------------------------
# kernels: the small-Poisson coupling (unnormalised sums, below_k, the upward sum)
# ------------------------------------------------------------------------------------------

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


# ------------------------------------------------------------------------------------------
# samplers: coupled_jump end to end (unbiased against closed forms / scipy enumeration)
# ------------------------------------------------------------------------------------------

N = 100_000


def _deriv(expect, x, h=1e-5):
    return (expect(x + h) - expect(x - h)) / (2 * h)


# EDGE: Bernoulli draws coupled through the new kernel, parameter perturbed by a Poisson draw:
# d/dlam E[B], B ~ Bernoulli(1/(1+K)), K ~ Poisson(lam) = d/dlam (1 - e^-lam)/lam.
@pytest.mark.parametrize("backend", ["pruned", "exact"])
def test_bernoulli_with_a_perturbed_p_is_unbiased(backend):
    lam = 1.3
    exact = (lam * np.exp(-lam) - (1 - np.exp(-lam))) / lam**2
    f = lambda lam: sad.bernoulli(1.0 / (1.0 + sad.poisson(lam)))  # noqa: E731
    assert_unbiased(sad.derivative_samples(f, lam, n_samples=N, rng=1, backend=backend), exact)


# EDGE: multi-dimensional Bernoulli draws (size=(2, 3)) whose p broadcasts from a (3,) triple
# with per-element perturbations, through a non-linear function.
@pytest.mark.parametrize("backend", ["pruned", "exact"])
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
                    _deriv(expect, 0.8))


# EDGE: small Poisson draws whose rate jumps far: up to exactly 500 (a ~500-step upward sum),
# from a tiny rate (1e-12), and down from 60 to 2 (below_k lookup, k <= 64 mostly).
# d/dq E[sqrt(Poisson(r0 + (r1 - r0)·B))], B ~ Bernoulli(q) = E sqrt(Pois(r1)) - E sqrt(Pois(r0)).
@pytest.mark.parametrize("backend", ["pruned", "exact"])
@pytest.mark.parametrize("r0, r1, q", [(0.5, 500.0, 0.1), (1e-12, 3.0, 0.2), (2.0, 60.0, 0.9)])
def test_far_rate_jumps_of_small_poisson_draws_are_unbiased(backend, r0, r1, q):
    f = lambda x: np.sqrt(sad.poisson(r0 + (r1 - r0) * sad.bernoulli(x)))  # noqa: E731
    exact = _poisson_expect(np.sqrt, r1) - _poisson_expect(np.sqrt, r0)
    assert_unbiased(sad.derivative_samples(f, q, n_samples=N, rng=2, backend=backend), exact)


# EDGE: a vector Poisson draw of which only some elements move (the kernel's mask path):
# rates 1 + K·[0, 1, 2], K ~ Poisson(lam), g = Σ sqrt(M_i).
@pytest.mark.parametrize("backend", ["pruned", "exact"])
def test_partially_moved_poisson_vector_is_unbiased(backend):
    def f(lam):
        k = sad.poisson(lam)
        return np.sqrt(sad.poisson(1.0 + k * np.array([0.0, 1.0, 2.0]))).sum()

    def expect(lam):
        pk = stats.poisson.pmf(np.arange(40), lam)
        return sum(pk[i] * _poisson_expect(np.sqrt, 1.0 + i * c, 200)
                   for c in (0.0, 1.0, 2.0) for i in range(40))

    assert_unbiased(sad.derivative_samples(f, 0.7, n_samples=N, rng=4, backend=backend),
                    _deriv(expect, 0.7, 1e-4))


# EDGE: binomial with a perturbed n (from a Poisson draw) and p (dual part) at once:
# N ~ Poisson(3t), X ~ Binomial(N, t/2): E[X²] = λp(1-p) + (λ + λ²)p².
@pytest.mark.parametrize("backend", ["pruned", "exact"])
def test_binomial_with_perturbed_n_and_p_is_unbiased(backend):
    def f(t):
        return sad.binomial(sad.poisson(3.0 * t), t / 2.0) ** 2

    def expect(t):
        lam, p = 3 * t, t / 2
        return lam * p * (1 - p) + (lam + lam * lam) * p * p

    assert_unbiased(sad.derivative_samples(f, 0.5, n_samples=N, rng=6, backend=backend),
                    _deriv(expect, 0.5))


# EDGE: geometric and categorical draws still couple through the generic coupled_jump.
@pytest.mark.parametrize("backend", ["pruned", "exact"])
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
                    _deriv(geo_expect, 0.9))
    assert_unbiased(sad.derivative_samples(cat, 0.9, n_samples=N, rng=9, backend=backend),
                    _deriv(cat_expect, 0.9))


# EDGE: invalid alternative-path parameters raise ValueError naming the value and the path,
# through the Bernoulli kernel (scalar and size=, out of range, NaN, inf) and the generic
# coupled_jump (Poisson, binomial, geometric). B ~ Bernoulli(0) is 0 but moves to 1.
@pytest.mark.parametrize("backend", ["pruned", "exact"])
@pytest.mark.parametrize("f, message", [
    (lambda p: sad.bernoulli(0.6 + 0.5 * sad.bernoulli(p)), "p must be in [0, 1], got 1.1"),
    (lambda p: sad.bernoulli(0.6 + 0.5 * sad.bernoulli(p), size=(2, 3)), "got 1.1"),
    (lambda p: sad.bernoulli(0.4 - 0.5 * sad.bernoulli(p)), "got -0.09999"),
    (lambda p: sad.bernoulli(np.where(sad.bernoulli(p) > 0, np.nan, 0.5)), "got nan"),
    (lambda p: sad.bernoulli(0.5 - np.log(1 - sad.bernoulli(p))), "got inf"),
    (lambda p: sad.poisson(0.5 - sad.bernoulli(p)), "lam must be finite and >= 0, got -0.5"),
    (lambda p: sad.binomial(3, 0.5 + sad.bernoulli(p)), "p must be in [0, 1], got 1.5"),
    (lambda p: sad.geometric(0.5 - sad.bernoulli(p)), "p must be in (0, 1], got -0.5"),
], ids=["bern", "bern-size", "bern-neg", "bern-nan", "bern-inf", "poisson", "binomial",
        "geometric"])
def test_invalid_alternative_parameters_raise(backend, f, message):
    with pytest.raises(ValueError) as info:
        sad.derivative_samples(f, 0.0, n_samples=50, rng=0, backend=backend)
    text = str(info.value)
    assert message in text and text.endswith("(on the alternative path of a perturbation)")


# EDGE: draws of size 0 whose parameters carry perturbations, in every backend; float32 and
# integer parameters of coupled draws.
@pytest.mark.parametrize("backend", ["pruned", "exact", "smoothed"])
def test_empty_and_cast_parameter_draws(backend):
    def run(f, n=8):
        return sad.derivative_samples(f, 0.5, n_samples=n, rng=0, backend=backend)

    assert run(lambda p: sad.bernoulli(1 / (1 + sad.poisson(p, size=0)))).shape == (8, 0)
    assert run(lambda p: sad.bernoulli(1 / (1 + sad.poisson(p)), size=0).sum()).shape == (8,)
    assert run(lambda p: sad.poisson(1 + sad.poisson(p), size=(2, 0))).shape == (8, 2, 0)
    assert run(lambda p: sad.binomial(sad.poisson(p, size=0), 0.5)).shape == (8, 0)
    if backend == "smoothed":
        return
    # float32 p of a Bernoulli (d/dl E[B] as above); integer rate of a Poisson:
    # E[K2²] = E[(1 + K1) + (1 + K1)²] = 2 + 4l + l²
    f32 = run(lambda p: sad.bernoulli((1 / (1 + sad.poisson(p))).astype(np.float32)), N)
    lam = 0.5
    assert_unbiased(f32, (lam * np.exp(-lam) - (1 - np.exp(-lam))) / lam**2)
    ints = run(lambda p: sad.poisson(1 + sad.poisson(p)) ** 2, N)
    assert_unbiased(ints, _deriv(lambda t: 2 + 4 * t + t * t, 0.5))


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


# ------------------------------------------------------------------------------------------
# chunking
# ------------------------------------------------------------------------------------------

# EDGE: chunk_lanes: as few chunks as chunk_size allows, sizes differing by at most one, none
# above chunk_size, summing to n_samples (n below, at, one above the chunk size; chunk 1).
@pytest.mark.parametrize("n, c", [(1, 1), (1, 65536), (7, 8), (8, 8), (9, 8), (17, 8),
                                  (5, 1), (200_000, 65_536), (65_537, 65_536)])
def test_chunk_lanes(n, c):
    sizes = chunk_lanes(n, c)
    assert sum(sizes) == n and len(sizes) == -(-n // c)
    assert max(sizes) <= c and max(sizes) - min(sizes) <= 1 and min(sizes) >= 1


# EDGE: chunks draw from one generator in order: n samples in chunks of c equal the runs of
# chunk_lanes(n, c) lanes on a shared Generator, for the triple, score and fd estimators;
# n < c, n == c, n == c + 1; the same seed twice gives the same samples.
@pytest.mark.parametrize("estimator", ["triple", "score", "fd"])
@pytest.mark.parametrize("n, c", [(5, 8), (8, 8), (9, 8), (17, 4)])
def test_chunks_are_consecutive_runs_on_one_generator(estimator, n, c):
    def f(p):
        return np.sqrt(sad.poisson(1.0 + 2.0 * sad.bernoulli(p / 2)) + sad.poisson(p))

    chunked = sad.derivative_samples(f, 0.6, n_samples=n, rng=7, chunk_size=c,
                                     estimator=estimator)
    assert chunked.shape == (n,)
    gen = np.random.default_rng(7)
    runs = np.concatenate([sad.derivative_samples(f, 0.6, n_samples=m, rng=gen,
                                                  estimator=estimator)
                           for m in chunk_lanes(n, c)])
    np.testing.assert_array_equal(chunked, runs)
    np.testing.assert_array_equal(
        chunked, sad.derivative_samples(f, 0.6, n_samples=n, rng=7, chunk_size=c,
                                        estimator=estimator))


# ------------------------------------------------------------------------------------------
# bench runner
# ------------------------------------------------------------------------------------------

# BUG (minor, bench only; fixed): runner.measure(..., repeats=0) (or any repeats < 1) never runs the
# estimator and then reads the unset `draws`: UnboundLocalError "cannot access local variable
# 'draws'", instead of a ValueError naming the bad value (the CLI's --repeats checks >= 1, the
# function does not; or it could run once).
def test_measure_with_repeats_below_one_raises_value_error():
    from stochad.bench.problems import PROBLEMS

    from bench import runner

    with pytest.raises(ValueError, match="0"):
        runner.measure(PROBLEMS["two-bernoullis"], "triple", 100, 0, "pruned", None,
                       repeats=0)
