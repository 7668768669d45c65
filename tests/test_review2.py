"""Review of the fused draw kernel, one-pass sums, inversion walks, astype/dtype= and NEP 50
promotion (commits 7073f2d..a5d7366).

Tests marked ``# BUG:`` failed on a5d7366 and showed a defect, fixed since; they stay as
regression tests. Tests marked ``# EDGE:`` cover an edge case of those changes that no other
test covers.
"""

import warnings

import numpy as np
import pytest
from conftest import assert_unbiased
from scipy import stats

import stochad as sad
from stochad import kernels as K

BACKENDS = ["pruned", "exact", "smoothed"]


def _values(f, p=2.0, n=4, backend="pruned", rng=0):
    return sad.value(sad.stochastic_triple(f, p, n_samples=n, rng=rng, backend=backend))


# ------------------------------------------------------------------------------------------
# invert_coupled: the ratio recurrence of the walks
# ------------------------------------------------------------------------------------------

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
@pytest.mark.parametrize("backend", ["pruned", "exact"])
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


# ------------------------------------------------------------------------------------------
# NEP 50: Python numbers reach the rules' partials unwrapped
# ------------------------------------------------------------------------------------------

# BUG: apply() now passes a Python bool/int condition unwrapped to the WHERE rule, whose
# partials call c.astype(bool): AttributeError 'bool' object has no attribute 'astype'.
# Reproducer: sad.derivative_estimate(lambda p: sad.where(True, p, 0.0), 1.0) (and
# np.where(True, p, 0.0)); expected 1.0 (as before the change), got AttributeError.
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("where", [sad.where, np.where])
def test_where_with_a_python_bool_condition(backend, where):
    est = sad.derivative_estimate(lambda p: where(True, 3 * p, 0.0), 1.0, rng=0,
                                  backend=backend)
    assert est == 3.0


# BUG: the partial of true_divide w.r.t. x is ``1.0 / y``; with y an unwrapped Python 0 this
# is Python division: ZeroDivisionError, where numpy (and stochad before the change) gives
# inf with a RuntimeWarning. np.mean over an empty axis hits it too (``sum / 0``), where numpy
# returns nan. Reproducer: sad.stochastic_triple(lambda p: p / 0, 1.0) -> ZeroDivisionError.
@pytest.mark.parametrize("f, value, delta", [
    (lambda p: p / 0, np.inf, np.inf),
    (lambda p: np.mean(p * np.ones(0)), np.nan, np.nan),
], ids=["p/0", "mean-of-empty"])
def test_division_by_a_python_zero_follows_numpy(f, value, delta):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        st = sad.stochastic_triple(f, 1.0)
    np.testing.assert_array_equal(sad.value(st), value)
    np.testing.assert_array_equal(sad.delta(st), delta)


# BUG: a plain Python int index next to a random one (table[idx, 5]) now reaches
# rules._wrap_index unwrapped, whose bounds error does ``idx[bad]``: TypeError "'int' object is
# not subscriptable" instead of numpy's IndexError (as before the change).
def test_out_of_bounds_plain_index_next_to_a_random_one_raises_index_error():
    table = sad.asarray(np.arange(9.0).reshape(3, 3))
    with pytest.raises(IndexError, match="out of bounds"):
        sad.derivative_estimate(lambda p: table[sad.binomial(2, p), 5], 0.5, rng=0)


# EDGE: weak promotion: a float32 triple times a Python float stays float32 (numpy's rule),
# and the derivative through astype is exact: E[floor(0.7 K)], K ~ Poisson(λ), by enumeration.
@pytest.mark.parametrize("backend", ["pruned", "exact"])
def test_astype_int_and_float32_derivatives(backend):
    lam = 3.0
    k = np.arange(200)
    exact = np.sum(np.floor(0.7 * k) * stats.poisson.pmf(k, lam) * (k / lam - 1))
    assert_unbiased(sad.derivative_samples(lambda q: (0.7 * sad.poisson(q)).astype(int), lam,
                                           n_samples=100_000, rng=7, backend=backend), exact)
    st = sad.stochastic_triple(lambda q: sad.poisson(q).astype(np.float32) * 2.5, lam,
                               n_samples=5, rng=0, backend=backend)
    assert sad.value(st).dtype == np.float32
    # E[(2.5 K)^2] = 6.25 (λ + λ²): derivative 6.25 (1 + 2λ)
    assert_unbiased(sad.derivative_samples(
        lambda q: (sad.poisson(q).astype(np.float32) * 2.5) ** 2, lam, n_samples=100_000, rng=8,
        backend=backend), 6.25 * (1 + 2 * lam))


# ------------------------------------------------------------------------------------------
# one-pass sums (PrunedBackend.sum_along / kernels.prune_sum) and dtype=
# ------------------------------------------------------------------------------------------

# BUG: PrunedBackend.sum_along reshapes the terms to (lanes, prod(kept axes), -1); when a kept
# axis has length 0 the -1 cannot be inferred: ValueError "cannot reshape array of size 0 into
# shape (n,0,newaxis)". The exact and smoothed backends (and numpy) return an empty result.
# Reproducer: sad.poisson(p, size=(0, 3)).sum(axis=1) under the pruned backend.
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("size, axis", [((0, 3), 1), ((3, 0), 0)])
def test_sum_with_an_empty_kept_axis(backend, size, axis):
    samples = sad.derivative_samples(lambda p: sad.poisson(p, size=size).sum(axis=axis), 2.0,
                                     n_samples=3, rng=0, backend=backend)
    assert samples.shape == (3, 0)


# BUG: dtype= of np.sum is not honoured by the one-pass sum: np.sum(x, dtype=bool) returns
# int64 (numpy: bool, a logical or) and np.sum(x, dtype=np.int8) returns int64 (numpy: int8),
# because _sum_triple calls np.add.reduce without dtype after the cast (and _promote_bool turns
# the bool cast back into int64). The chain (exact backend, with a perturbation) returns int8.
@pytest.mark.parametrize("dtype, backend", [(bool, "pruned"), (bool, "exact"), (bool, "smoothed"),
                                            (np.int8, "pruned"), (np.int8, "smoothed")])
def test_sum_honours_dtype(backend, dtype):
    values = _values(lambda p: np.sum(sad.poisson(p, size=3), dtype=dtype), backend=backend)
    primal = _values(lambda p: sad.poisson(p, size=3), backend=backend)
    expected = np.array([np.sum(row, dtype=dtype) for row in primal])
    assert values.dtype == expected.dtype
    np.testing.assert_array_equal(values, expected)


# BUG: reductions of small-integer triples (reachable now with .astype) do not promote to the
# platform integer as numpy does (np.sum/np.prod/np.cumsum of int8 give int64): the chains of
# binary rules stay int8 and wrap around silently. np.prod and np.cumsum are wrong on every
# backend; np.sum is right on pruned/smoothed (one pass) but wrong on exact (chain), so the
# backends disagree on the primal value. Poisson(60) x 3: e.g. prod 156240 -> 80 in int8.
@pytest.mark.parametrize("reduction, backend", [
    (np.sum, "exact"), *((r, b) for r in (np.prod, np.cumsum) for b in BACKENDS)])
def test_small_integer_reductions_promote_like_numpy(backend, reduction):
    values = _values(lambda p: reduction(sad.poisson(30 * p, size=3).astype(np.int8)),
                     backend=backend)
    primal = _values(lambda p: sad.poisson(30 * p, size=3), backend=backend)
    expected = np.array([reduction(row.astype(np.int8)) for row in primal])
    assert values.dtype == expected.dtype
    np.testing.assert_array_equal(values, expected)


# BUG: np.clip(x, lo, hi, dtype=int) on a float triple silently truncates; numpy refuses the
# same_kind cast (UFuncTypeError, a TypeError) -- stack(dtype=) checks casting, clip does not.
def test_clip_dtype_refuses_an_unsafe_cast_like_numpy():
    with pytest.raises(TypeError):
        np.clip(np.array([1.5]), 0, 3, dtype=int)
    with pytest.raises(TypeError):
        _values(lambda p: np.clip(sad.poisson(p, size=3) * 1.5, 0, 3, dtype=int))


# BUG: numpy >= 2.1 spells the bounds of np.clip min=/max= as well; clip now forwards them to
# _no_out, which rejects them (TypeError "np.clip(..., max=, min=) is not supported ... mask
# with np.where"), though they mean exactly a_min/a_max (before, they were silently ignored).
def test_clip_accepts_numpy_2_min_max_keywords():
    expected = _values(lambda p: np.clip(sad.poisson(p, size=3), 1, 2))
    np.testing.assert_array_equal(_values(lambda p: np.clip(sad.poisson(p, size=3), min=1,
                                                            max=2)), expected)


# EDGE: the one-pass sum along an axis (transposed terms), with keepdims, where one event is
# shared by two output rows: pruned away in one row, it must be dead in the other too.
# X ~ Poisson(λ) x 3, M = [[X0, X1], [X1, X2]]: S = M.sum(axis=1, keepdims=True) (shape (2,1));
# E[S0² + S1²] = 2(2λ + 4λ²), derivative 4 + 16λ. Also M.T summed over axis 0 (same S).
@pytest.mark.parametrize("backend", BACKENDS[:2])
def test_sum_along_an_axis_with_a_shared_event(backend):
    def f(lam, transpose):
        x = sad.poisson(lam, size=3)
        m = np.stack([np.stack([x[0], x[1]]), np.stack([x[1], x[2]])])
        s = m.T.sum(axis=0, keepdims=True).T if transpose else m.sum(axis=1, keepdims=True)
        assert s.shape == (2, 1)
        return np.sum(s ** 2)

    lam = 0.7
    for transpose, seed in ((False, 11), (True, 12)):
        assert_unbiased(sad.derivative_samples(lambda q, t=transpose: f(q, t), lam,
                                               n_samples=100_000, rng=seed, backend=backend),
                        4 + 16 * lam)


# EDGE: sum of a 0-d triple (axes ()), sum over an empty axis (numpy: 0) and np.mean with
# dtype=int / float32 give numpy's values and dtypes on every backend.
@pytest.mark.parametrize("backend", BACKENDS)
def test_degenerate_sums_and_mean_dtype(backend):
    k = _values(lambda p: sad.poisson(30 * p, size=3), backend=backend)
    np.testing.assert_array_equal(_values(lambda p: np.sum(sad.poisson(30 * p, size=3)[0]),
                                          backend=backend), k[:, 0])
    z = _values(lambda p: np.sum(sad.poisson(p, size=(2, 0)), axis=1), backend=backend)
    assert z.shape == (4, 2) and not z.any()
    for dtype in (int, np.float32):
        got = _values(lambda p, d=dtype: np.mean(sad.poisson(30 * p, size=3) * 1.7, dtype=d),
                      backend=backend)
        expected = np.array([np.mean(row * 1.7, dtype=dtype) for row in k])
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)


# ------------------------------------------------------------------------------------------
# the fused draw kernel: restart, collect, grow; lazy liveness
# ------------------------------------------------------------------------------------------

def _restart_inputs(m):
    """A 3-slot table whose lanes have 3, 2, 1, 0 free slots, live inherited events in some
    elements, new weights almost everywhere: lane 2 (m = 2) or lane 3 (m = 1) runs out."""
    weights = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 2.0], [0.0, 3.0, 1.5], [1.0, 2.0, 0.5]])
    gens = np.array([[1, 1, 1], [1, 1, 2], [1, 4, 2], [3, 1, 2]])
    lanes = weights.shape[0]
    inherited = np.full((lanes, m), K.NO_EVENT)
    inherited[1, 0] = (2 << K.SLOT_BITS) | 2   # live
    inherited[2, m - 1] = (4 << K.SLOT_BITS) | 1  # live
    if m > 1:  # a conflict: needs no slot, but the lane still counts it as needed
        inherited[3, 0] = (2 << K.SLOT_BITS) | 2
    alt = np.where(inherited >= 0, 1.0, 0.0)
    new_w = np.full((lanes, m), 0.75)
    new_w[0, 0] = 0.0
    new_d = np.where(new_w != 0, -1.0, 0.0)
    return (inherited, alt, new_w, new_d), (weights, gens)


# EDGE: kernel-level restart: a call that stops at a lane without free slots, then a call from
# that lane on the grown table (with the uniforms consumed so far), gives exactly what one call
# on the grown table gives (outputs, table, uniforms used); JIT == plain Python.
@pytest.mark.parametrize("m", [1, 2])
@pytest.mark.parametrize("jit", [True, False], ids=["jit", "py"])
def test_attach_new_events_restart_equals_one_call_on_the_grown_table(jit, m):
    kernel = K.attach_new_events if jit else K.attach_new_events.py_func
    draw, (weights, gens) = _restart_inputs(m)
    uniforms = np.random.default_rng(0).random(K.count_draw_conflicts(*draw[:3]))
    pad = ((0, 0), (0, 3))
    shape = draw[0].shape

    w, g = weights.copy(), gens.copy()
    events, jumps = np.empty(shape, dtype=np.int64), np.empty(shape)
    lane, used = kernel(*draw, w, g, uniforms, 0, 0, events, jumps)
    assert lane > 0  # stopped mid-call, after some lanes were done
    w, g = np.pad(w, pad), np.pad(g, pad)
    assert kernel(*draw, w, g, uniforms, used, lane, events, jumps) == (-1, uniforms.size)

    w1, g1 = np.pad(weights, pad), np.pad(gens, pad)
    events1, jumps1 = np.empty(shape, dtype=np.int64), np.empty(shape)
    assert kernel(*draw, w1, g1, uniforms, 0, 0, events1, jumps1) == (-1, uniforms.size)
    for x, y in ((events, events1), (jumps, jumps1), (w, w1), (g, g1)):
        np.testing.assert_array_equal(x, y)


def _spy_restarts(monkeypatch):
    """Record (m, start_lane, returned lane) of every attach_new_events kernel call."""
    calls = []
    kernel = K.attach_new_events

    def spy(*args):
        lane, used = kernel(*args)
        calls.append((args[2].shape[1], args[8], lane))
        return lane, used

    monkeypatch.setattr(K, "attach_new_events", spy)
    return calls


# EDGE: Run.attach_new_events restarting mid-call (a lane > 0 runs out of slots), with m = 1
# and m > 1, inherited events that conflict with the new ones, garbage events to collect and a
# table that must grow. Y ~ Bernoulli(p) x 3 (0-3 events per lane), X ~ Poisson(p) x 2,
# Z ~ Poisson(2 Y0 + p), W ~ Poisson(p + 2Y), V ~ Poisson(p):
# E[(ΣY + 1) ΣX + Z Y1 + (ΣW)²/10 + V Y2], derivative below.
def test_draws_that_restart_mid_call_are_unbiased(monkeypatch):
    calls = _spy_restarts(monkeypatch)

    def f(p):
        junk = sad.bernoulli(p, size=4)  # fills the lanes where it is all 0s; then garbage
        del junk
        v = sad.poisson(p)  # m = 1: no free slot in those lanes until the collection
        y = sad.bernoulli(p, size=3)
        x = sad.poisson(p * np.ones(2))
        z = sad.poisson(2 * y[0] + p)
        w = sad.poisson(p + 2 * y)  # m = 3, each element inherits its own live event
        return (y.sum() + 1) * x.sum() + z * y[1] + np.sum(w) ** 2 / 10 + v * y[2]

    p = 0.5
    # E[(Σw)²] = 3(7p + 5p²) + 54p² (Σ over i of E[w_i²] plus the cross terms); E[V Y2] = p²
    exact = 12 * p + 2 + 6 * p + (3 * (7 + 10 * p) + 108 * p) / 10 + 2 * p
    assert_unbiased(sad.derivative_samples(f, p, n_samples=100_000, rng=4), exact)
    restarts = [(m, lane) for m, start, lane in calls if lane > 0]
    assert any(m == 1 for m, _ in restarts) and any(m > 1 for m, _ in restarts)
    assert any(start > 0 and lane > 0 for _, start, lane in calls)  # grown after a collection


# EDGE: lazy liveness in PrunedBackend.inherit: draws that inherit an event pruned away in some
# lanes (A and B ~ Bernoulli(p) meet in S = A + B first), for closed-form couplings (geometric,
# bernoulli, categorical: dead events coupled too) and a walk (poisson: masked first).
# E[S G] = p/0.7 + p((1-p)/0.3 + p/0.7) with G ~ Geometric(0.3 + 0.4 A);
# E[S Z] = 4p + 2p² with Z ~ Poisson(1 + 2A); E[S D] = 0.9p + 0.5p² with D ~ Bernoulli(0.2 +
# 0.5A); E[S C] = 1.3p + 0.3p² with C ~ Categorical([0.5 - 0.3A, 0.5 + 0.3A]).
@pytest.mark.parametrize("backend", ["pruned", "exact"])
def test_draws_inheriting_a_dead_event(backend):
    p = 0.4

    def run(draw, seed):
        def f(q):
            a, b = sad.bernoulli(q), sad.bernoulli(q)
            s = a + b
            return s * draw(a)
        return sad.derivative_samples(f, p, n_samples=100_000, rng=seed, backend=backend)

    assert_unbiased(run(lambda a: sad.geometric(0.3 + 0.4 * a), 13),
                    1 / 0.7 + (1 - 2 * p) / 0.3 + 2 * p / 0.7)
    assert_unbiased(run(lambda a: sad.poisson(1 + 2 * a), 14), 4 + 4 * p)
    assert_unbiased(run(lambda a: sad.bernoulli(0.2 + 0.5 * a), 15), 0.9 + p)
    # categorical([0.5 - 0.3A, 0.5 + 0.3A]): E[C | A] = 0.5 + 0.3A
    assert_unbiased(run(lambda a: sad.categorical([0.5 - 0.3 * a, 0.5 + 0.3 * a]), 16),
                    1.3 + 0.6 * p)


# EDGE: a constant broadcast parameter is passed to numpy as a scalar (_scalar_if_constant):
# the same draws as an explicit per-lane array of the same value (Poisson and binomial).
def test_scalar_parameter_draws_like_an_array_parameter():
    a = _values(lambda p: sad.poisson(3.0, size=4), n=500, rng=9)
    b = _values(lambda p: sad.poisson(3.0 + 0.0 * p, size=4), n=500, rng=9)
    np.testing.assert_array_equal(a, b)
    a = _values(lambda p: sad.binomial(12, 0.3, size=4), n=500, rng=9)
    b = _values(lambda p: sad.binomial(12, 0.3 + 0.0 * p, size=4), n=500, rng=9)
    np.testing.assert_array_equal(a, b)
