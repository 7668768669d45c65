"""Every numba kernel equals its plain-Python meaning (``py_func``) exactly."""

import numpy as np
import pytest
from scipy import stats

from stochad import kernels as K


def _same(a, b):
    for x, y in zip(a if isinstance(a, tuple) else (a,), b if isinstance(b, tuple) else (b,),
                    strict=True):
        np.testing.assert_array_equal(x, y)


def _table(rng, lanes, slots, free=0.3):
    weights = np.where(rng.random((lanes, slots)) < free, 0.0, rng.random((lanes, slots)))
    generations = rng.integers(0, 3, (lanes, slots))
    return weights, generations


def _events(rng, generations, m):
    lanes, slots = generations.shape
    s = rng.integers(0, slots, (lanes, m))
    g = np.take_along_axis(generations, s, 1) + rng.integers(0, 2, (lanes, m))  # some stale
    events = (g << K.SLOT_BITS) | s
    return np.where(rng.random((lanes, m)) < 0.2, K.NO_EVENT, events)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_lookup_weights(rng):
    weights, gens = _table(rng, 50, 6)
    events = _events(rng, gens, 3)
    _same(K.lookup_weights(events, weights, gens), K.lookup_weights.py_func(events, weights, gens))
    got = K.lookup_weights(events, weights, gens)
    slot = np.where(events >= 0, events & K.SLOT_MASK, 0)
    live = (events >= 0) & (np.take_along_axis(gens, slot, 1) == events >> K.SLOT_BITS)
    np.testing.assert_array_equal(got, np.where(live, np.take_along_axis(weights, slot, 1), 0))


def _draw_inputs(rng, lanes, slots, m):
    """A table with free slots, inherited events (some stale), their alternative jumps (some
    zero) and new weights/jumps (some zero), as a draw hands them to ``attach_new_events``."""
    weights, gens = _table(rng, lanes, slots, free=0.6)
    weights[:, :m] = 0.0  # room for every new event
    gens += 1
    s = rng.integers(0, slots, (lanes, m))
    g = np.take_along_axis(gens, s, 1) - rng.integers(0, 2, (lanes, m))  # some stale (older)
    inherited = np.where(rng.random((lanes, m)) < 0.2, K.NO_EVENT, (g << K.SLOT_BITS) | s)
    alt = np.where(rng.random((lanes, m)) < 0.4, 0.0, rng.choice([-1.0, 1.0], (lanes, m)))
    new_w = np.where(rng.random((lanes, m)) < 0.4, 0.0, 0.5 + rng.random((lanes, m)))
    new_d = np.where(new_w != 0, rng.choice([-1.0, 1.0], (lanes, m)), 0.0)
    return (inherited, alt, new_w, new_d), (weights, gens)


def _attach(kernel, draw, table, uniforms):
    w, g = (t.copy() for t in table)
    events, jumps = np.empty(draw[0].shape, dtype=np.int64), np.empty(draw[0].shape)
    lane, used = kernel(*draw, w, g, uniforms, 0, 0, events, jumps)
    assert lane == -1 and used <= uniforms.size
    return events, jumps, w, g


@pytest.mark.parametrize("m", [1, 3])
def test_attach_new_events(rng, m):
    draw, table = _draw_inputs(rng, 50, 6, m)
    n = K.count_draw_conflicts(*draw[:3])
    assert n == K.count_draw_conflicts.py_func(*draw[:3])
    uniforms = rng.random(n)
    fast = _attach(K.attach_new_events, draw, table, uniforms)
    _same(fast, _attach(K.attach_new_events.py_func, draw, table, uniforms))

    # Its meaning: register the new events, then prune them against the inherited ones with
    # the same uniforms. Event ids may differ (a winner reuses its loser's slot); the
    # surviving jumps and the weights they carry may not.
    inherited, alt, new_w, new_d = draw
    w, g = (t.copy() for t in table)
    new_events = np.full(new_w.shape, K.NO_EVENT)
    for lane in range(w.shape[0]):
        for j in np.flatnonzero(new_w[lane]):
            s = np.flatnonzero(w[lane] == 0)[0]
            g[lane, s] += 1
            w[lane, s] = new_w[lane, j]
            new_events[lane, j] = (g[lane, s] << K.SLOT_BITS) | s
    event, kept_old, kept_new = K.prune_pair(inherited, alt, new_events, new_d, w, g, uniforms)
    events, jumps, w_fast, g_fast = fast
    weight_fast, weight = K.lookup_weights(events, w_fast, g_fast), K.lookup_weights(event, w, g)
    np.testing.assert_allclose(weight_fast, weight, rtol=1e-15)
    np.testing.assert_array_equal(np.where(weight_fast != 0, jumps, 0),
                                  np.where(weight != 0, kept_old + kept_new, 0))
    assert np.count_nonzero(weight) > 10  # the comparison is not vacuous


def test_free_unmarked(rng):
    weights, _ = _table(rng, 20, 5)
    weights[0, 0] = np.inf
    marks = rng.random((20, 5)) < 0.5
    marks[0, 0] = False
    w1, w2 = weights.copy(), weights.copy()
    K.free_unmarked(w1, marks)
    K.free_unmarked.py_func(w2, marks)
    np.testing.assert_array_equal(w1, w2)
    np.testing.assert_array_equal(w1, np.where(marks, weights, 0.0))


def test_prune_sum(rng):
    weights, gens = _table(rng, 30, 6)
    events = _events(rng, gens, 10).reshape(30, 2, 5)
    events[:, :, 3] = events[:, :, 1]  # some terms share an event
    jumps = np.where(rng.random((30, 2, 5)) < 0.2, 0.0, rng.normal(size=(30, 2, 5)))
    uniforms = rng.random(np.count_nonzero((events >= 0) & (jumps != 0)))
    tables = [(weights.copy(), gens.copy()) for _ in range(2)]
    _same(K.prune_sum(events, jumps, *tables[0], uniforms),
          K.prune_sum.py_func(events, jumps, *tables[1], uniforms))
    _same(tables[0], tables[1])


def test_prune_sum_adds_the_jumps_of_one_event():
    """One live event per row (the others dead or absent): no pruning, the jumps of its terms
    add up, and the table is untouched."""
    weights = np.array([[2.0, 0.0, 5.0]])
    gens = np.array([[1, 0, 3]])
    live, stale = (1 << K.SLOT_BITS) | 0, (2 << K.SLOT_BITS) | 2
    events = np.array([[[live, stale, K.NO_EVENT, live, live]]])
    jumps = np.array([[[1.0, 7.0, 9.0, -3.0, 0.5]]])
    event, jump = K.prune_sum(events, jumps, weights, gens, np.zeros(0))
    assert event[0, 0] == live and jump[0, 0] == -1.5
    np.testing.assert_array_equal(weights, [[2.0, 0.0, 5.0]])


def test_attach_new_events_stops_at_a_full_lane_untouched():
    weights = np.array([[0.0, 0.0], [1.0, 0.0]])
    gens = np.zeros((2, 2), dtype=np.int64)
    draw = (np.full((2, 2), K.NO_EVENT), np.zeros((2, 2)), np.ones((2, 2)), np.ones((2, 2)))
    events, jumps = np.empty((2, 2), dtype=np.int64), np.empty((2, 2))
    for kernel in (K.attach_new_events, K.attach_new_events.py_func):
        w = weights.copy()
        assert kernel(*draw, w, gens.copy(), np.zeros(0), 0, 0, events, jumps) == (1, 0)
        np.testing.assert_array_equal(w, [[1.0, 1.0], [1.0, 0.0]])
        # a single element per lane checks for itself
        w = weights.copy()
        one = tuple(x[:, :1].copy() for x in draw)
        w[0, 0] = 2.0
        w[0, 1] = 3.0
        assert kernel(*one, w, gens.copy(), np.zeros(0), 0, 0, events[:, :1].copy(),
                      jumps[:, :1].copy()) == (0, 0)
        np.testing.assert_array_equal(w, [[2.0, 3.0], [1.0, 0.0]])


def test_prune_pair_and_count(rng):
    weights, gens = _table(rng, 60, 6)
    ea, eb = _events(rng, gens, 4), _events(rng, gens, 4)
    ja = np.where(rng.random((60, 4)) < 0.2, 0.0, rng.normal(size=(60, 4)))
    jb = np.where(rng.random((60, 4)) < 0.2, 0.0, rng.normal(size=(60, 4)))
    n = K.count_conflicts(ea, ja, eb, jb)
    assert n == K.count_conflicts.py_func(ea, ja, eb, jb)
    u = rng.random(n)
    w1, w2 = weights.copy(), weights.copy()
    _same(K.prune_pair(ea, ja, eb, jb, w1, gens, u), K.prune_pair.py_func(ea, ja, eb, jb, w2,
                                                                           gens, u))
    np.testing.assert_array_equal(w1, w2)


def test_prune_pair_rescales_the_winner():
    weights = np.array([[1.0, 3.0]])
    gens = np.zeros((1, 2), dtype=np.int64)
    ea, eb = np.array([[0]]), np.array([[1]])
    event, ka, kb = K.prune_pair(ea, np.array([[2.0]]), eb, np.array([[5.0]]), weights, gens,
                                 np.array([0.1]))  # 0.1·4 < 1: keep a
    assert event[0, 0] == 0 and ka[0, 0] == 2.0 and kb[0, 0] == 0.0
    np.testing.assert_array_equal(weights, [[4.0, 0.0]])


def test_new_perturbation(rng):
    k = rng.integers(0, 5, 100)
    a = rng.uniform(0.1, 0.9, 100)
    d = rng.normal(size=100)
    for kind in (K.BERNOULLI, K.BINOMIAL, K.POISSON, K.GEOMETRIC):
        kk = np.minimum(k, 1) if kind == K.BERNOULLI else (k + 1 if kind == K.GEOMETRIC else k)
        aa = a * 10 if kind in (K.BINOMIAL, K.POISSON) else a
        _same(K.new_perturbation(kind, kk, aa, a, d),
              K.new_perturbation.py_func(kind, kk, aa, a, d))


def test_bernoulli_coupled(rng):
    """The jump [u < p + dp] - [u < p], and the first moved p outside [0, 1] (NaN too)."""
    n = 1000
    u, p = rng.random(n), rng.random(n)
    dp = rng.normal(0, 0.3, n) * (rng.random(n) < 0.8)
    dp = np.clip(p + dp, 0, 1) - p  # valid alternatives
    out, out_py = np.empty(n), np.empty(n)
    assert K.bernoulli_coupled(u, p, dp, out) == -1
    assert K.bernoulli_coupled.py_func(u, p, dp, out_py) == -1
    _same(out, out_py)
    np.testing.assert_array_equal(out, (u < p + dp).astype(float) - (u < p))
    for bad_value in (1.5, -1.5, np.nan):
        moved = dp.copy()
        moved[[7, 900]] = bad_value
        assert K.bernoulli_coupled(u, p, moved, out) == 7
        assert K.bernoulli_coupled.py_func(u, p, moved, out_py) == 7

def test_invert_coupled(rng):
    """Against scipy: u = F(k - 1) + v·pmf(k) under the old law, then the new law's ppf(u)."""
    n = 4000
    v = rng.random(n)
    lam = rng.uniform(0.5, 30, n)
    # moves by whole units, by 30%, and small ones (mostly the same outcome): the window of
    # small draws and the walks beyond it
    move = rng.integers(0, 3, n)
    lam_new = np.choose(move, [lam + rng.integers(-3, 4, n), lam * 1.3,
                               lam + rng.normal(0, 0.1, n)]).clip(0.2)
    k = rng.poisson(lam)
    got = K.invert_coupled(0, k, v, lam, np.zeros(n), lam_new, np.zeros(n))
    _same(got, K.invert_coupled.py_func(0, k, v, lam, np.zeros(n), lam_new, np.zeros(n)))
    u = stats.poisson.cdf(k - 1, lam) + v * stats.poisson.pmf(k, lam)
    np.testing.assert_array_equal(got, stats.poisson.ppf(u, lam_new))
    trials = rng.integers(1, 40, n).astype(float)
    p = rng.uniform(0.05, 0.95, n)
    trials_new = trials + rng.integers(-1, 2, n)
    p_new = np.clip(p + rng.normal(0, 0.05, n), 0.01, 0.99)
    k = rng.binomial(trials.astype(int), p)
    got = K.invert_coupled(1, k, v, trials, p, trials_new, p_new)
    _same(got, K.invert_coupled.py_func(1, k, v, trials, p, trials_new, p_new))
    u = stats.binom.cdf(k - 1, trials, p) + v * stats.binom.pmf(k, trials, p)
    np.testing.assert_array_equal(got, stats.binom.ppf(u, trials_new, p_new))


def test_invert_coupled_far_moves_of_small_poisson_draws(rng):
    """Small draws (k <= 64, rates <= 500) whose rate moves far up or down: the outcome is
    found by summing on from k, or among the CDF values below k, as scipy's ppf."""
    n = 4000
    lam = rng.uniform(0.05, 60, n)
    k = np.minimum(rng.poisson(lam), 64)
    lam_new = np.clip(lam * np.exp(rng.uniform(-4, 4, n)), 1e-3, 500)
    v = rng.random(n)
    zeros = np.zeros(n)
    got = K.invert_coupled(0, k, v, lam, zeros, lam_new, zeros)
    _same(got, K.invert_coupled.py_func(0, k, v, lam, zeros, lam_new, zeros))
    u = stats.poisson.cdf(k - 1, lam) + v * stats.poisson.pmf(k, lam)
    np.testing.assert_array_equal(got, stats.poisson.ppf(u, lam_new))
    assert (got - k).max() > 300 and (got - k).min() < -30  # the far moves were exercised

def test_invert_coupled_draws_far_in_the_left_tail(rng):
    """Draws 5-12 standard deviations below the mean whose law moves down: the general walk
    subtracts pmfs from a CDF near 1, whose rounding (about 1e-16) would swamp the tiny u
    (1e-18 .. 1e-120), so it sums the CDF afresh there. Exactly scipy's ppf, both laws."""
    n = 3000
    v = rng.random(n)
    zeros = np.zeros(n)
    lam = rng.uniform(100, 1000, n)
    k = np.maximum(np.floor(lam - rng.uniform(5, 12, n) * np.sqrt(lam)), 65).astype(np.int64)
    lam_new = lam * rng.uniform(0.05, 0.9, n)
    got = K.invert_coupled(0, k, v, lam, zeros, lam_new, zeros)
    _same(got, K.invert_coupled.py_func(0, k, v, lam, zeros, lam_new, zeros))
    u = stats.poisson.cdf(k - 1, lam) + v * stats.poisson.pmf(k, lam)
    np.testing.assert_array_equal(got, stats.poisson.ppf(u, lam_new))
    trials = rng.integers(200, 2000, n).astype(float)
    p = rng.uniform(0.2, 0.8, n)
    sd = np.sqrt(trials * p * (1 - p))
    k = np.maximum(np.floor(trials * p - rng.uniform(5, 10, n) * sd), 0).astype(np.int64)
    p_new = p * rng.uniform(0.05, 0.9, n)
    got = K.invert_coupled(1, k, v, trials, p, trials, p_new)
    _same(got, K.invert_coupled.py_func(1, k, v, trials, p, trials, p_new))
    u = stats.binom.cdf(k - 1, trials, p) + v * stats.binom.pmf(k, trials, p)
    np.testing.assert_array_equal(got, stats.binom.ppf(u, trials, p_new))

def test_invert_coupled_with_a_mask_equals_the_gathered_call(rng):
    """``moved``: unmoved elements keep k and consume no uniform; the moved ones get the
    uniforms in order, as a call on the gathered moved elements does."""
    n = 3000
    lam = rng.uniform(0.5, 30, n)
    k = rng.poisson(lam)
    moved = rng.random(n) < 0.7
    lam_new = np.where(moved, lam + 1.5, lam)
    v = rng.random(np.count_nonzero(moved))
    zeros = np.zeros(n)
    got = K.invert_coupled(0, k, v, lam, zeros, lam_new, zeros, moved)
    _same(got, K.invert_coupled.py_func(0, k, v, lam, zeros, lam_new, zeros, moved))
    np.testing.assert_array_equal(got[~moved], k[~moved])
    gathered = K.invert_coupled(0, k[moved], v, lam[moved], zeros[moved], lam_new[moved],
                                zeros[moved])
    np.testing.assert_array_equal(got[moved], gathered)


def test_categorical_perturbation(rng):
    probs = rng.dirichlet(np.ones(5), 100)
    probs[:, 2] = 0.0
    probs /= probs.sum(1, keepdims=True)
    cdf = np.cumsum(probs, 1)
    dprobs = rng.normal(size=(100, 5))
    dprobs[:, 2] = 0.0  # the empty category stays empty
    dcdf = np.cumsum(dprobs, 1)
    dcdf[:, -1] = 0.0
    k = np.sum(cdf[:, :-1] <= rng.random(100)[:, None], 1)
    u = rng.random(100)
    _same(K.categorical_perturbation(cdf, dcdf, k, u),
          K.categorical_perturbation.py_func(cdf, dcdf, k, u))
    jump, _ = K.categorical_perturbation(cdf, dcdf, k, u)
    assert not np.any(k + jump == 2)  # never a jump into the empty category
    # an empty category that gains probability (a parameter at a boundary) is a target
    dprobs[:, 2] = np.abs(dprobs[:, 2]) + 1.0
    dcdf = np.cumsum(dprobs, 1)
    dcdf[:, -1] = 0.0
    _same(K.categorical_perturbation(cdf, dcdf, k, u),
          K.categorical_perturbation.py_func(cdf, dcdf, k, u))
    jump, _ = K.categorical_perturbation(cdf, dcdf, k, u)
    assert np.any(k + jump == 2)


def test_mark_referenced(rng):
    weights, gens = _table(rng, 30, 5)
    events = _events(rng, gens, 3)
    jumps = np.where(rng.random((30, 3)) < 0.3, 0.0, 1.0)
    marks = [np.zeros((30, 5), dtype=bool) for _ in range(2)]
    K.mark_referenced(events, jumps, gens, marks[0])
    K.mark_referenced.py_func(events, jumps, gens, marks[1])
    np.testing.assert_array_equal(marks[0], marks[1])
    live = (K.lookup_weights(events, np.ones_like(weights), gens) != 0) & (jumps != 0)
    assert marks[0].sum() == len({(lane, e & K.SLOT_MASK) for lane, j in zip(*np.nonzero(live),
                                                                          strict=True)
                                  for e in [events[lane, j]]})


def test_new_perturbation_at_parameter_boundaries():
    """λ = 0, p = 0, p = 1, with the dual part pointing out of the domain: the column of the
    other direction (into the domain) with its weight negated; never NaN or an error, and
    weight 0 only where no direction moves the draw (n = 0)."""
    cases = [  # kind, k, a, b, d, expected (jump, weight)
        (K.POISSON, 0, 0.0, 0.0, -1.0, (1.0, -1.0)),
        (K.POISSON, 0, 0.0, 0.0, 2.0, (1.0, 2.0)),
        (K.BERNOULLI, 1, 1.0, 1.0, 1.0, (-1.0, -1.0)),
        (K.BERNOULLI, 1, 1.0, 1.0, -0.5, (-1.0, 0.5)),
        (K.BERNOULLI, 0, 0.0, 0.0, -1.0, (1.0, -1.0)),
        (K.BERNOULLI, 0, 0.0, 0.0, 1.0, (1.0, 1.0)),
        (K.BINOMIAL, 5, 5.0, 1.0, 1.0, (-1.0, -5.0)),
        (K.BINOMIAL, 0, 5.0, 0.0, -1.0, (1.0, -5.0)),
        (K.BINOMIAL, 0, 0.0, 1.0, 1.0, (0.0, 0.0)),
        (K.GEOMETRIC, 1, 1.0, 1.0, 1.0, (1.0, -1.0)),
        (K.GEOMETRIC, 1, 1.0, 1.0, 0.0, (0.0, 0.0)),
    ]
    for kind, k, a, b, d, expected in cases:
        for kernel in (K.new_perturbation, K.new_perturbation.py_func):
            jump, weight = kernel(kind, np.array([k]), np.array([a]), np.array([b]),
                                  np.array([d]))
            assert (jump[0], weight[0]) == expected, (kind, k, a, d)


def _poisson_ppf(k, v, lam, lam_new):
    return stats.poisson.ppf(stats.poisson.cdf(k - 1, lam) + v * stats.poisson.pmf(k, lam),
                             lam_new)


def _binom_ppf(k, v, n, p, n_new, p_new):
    return stats.binom.ppf(stats.binom.cdf(k - 1, n, p) + v * stats.binom.pmf(k, n, p),
                           n_new, p_new)


@pytest.mark.parametrize("jit", [True, False], ids=["jit", "py_func"])
def test_invert_coupled_large_jumps(rng, jit):
    """A rate or a number of trials that jumps by 10^3..10^7 (up and down): the walk starts
    from an approximate quantile of the new law, and the outcome is scipy's ppf exactly."""
    kernel = K.invert_coupled if jit else K.invert_coupled.py_func
    n = 400 if jit else 20
    v, zeros = rng.random(n), np.zeros(n)
    small = rng.uniform(1, 100, n)
    large = 10 ** rng.uniform(3, 7, n)
    for lam, lam_new in ((small, small + large), (small + large, small)):
        k = rng.poisson(lam)
        got = kernel(0, k, v, lam, zeros, lam_new, zeros)
        np.testing.assert_array_equal(got, _poisson_ppf(k, v, lam, lam_new))
    assert np.abs(got - k).max() > 1e6
    p = rng.uniform(0.01, 0.99, n)
    trials = np.floor(small)
    for (a, b), (a_new, b_new) in (((trials, p), (trials + np.floor(large), p)),
                                   ((trials + np.floor(large), p), (trials, p)),
                                   ((trials + np.floor(large), p), (trials + np.floor(large),
                                                                    1 - p))):
        k = rng.binomial(a.astype(np.int64), b)
        got = kernel(1, k, v, a, b, a_new, b_new)
        np.testing.assert_array_equal(got, _binom_ppf(k, v, a, b, a_new, b_new))


def test_invert_coupled_binomial_with_a_trillion_trials(rng):
    """n jumps from 10 to 10^12: milliseconds per draw (a walk from k took hours), and the
    pmf is accurate enough there (Loader's form) for scipy's ppf exactly."""
    n = 6
    v, ones = rng.random(n), np.ones(n)
    for p in (0.3, 0.5, 1e-9):
        k = rng.binomial(10, p, n)
        got = K.invert_coupled(1, k, v, 10 * ones, p * ones, 1e12 * ones, p * ones)
        np.testing.assert_array_equal(got, _binom_ppf(k, v, 10, p, 1e12, p))


def test_log_pmf_against_high_precision():
    """The log-pmf in Loader's form against mpmath at 40 digits, up to rates and numbers
    of trials of 10^12 (the log-gamma form lost 0.4% of the pmf there)."""
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 40
    for lam in (0.3, 7.0, 15.5, 16.0, 64.0, 65.0, 1e4, 1e9, 1e12):  # both forms
        for k in np.unique(np.round(lam + np.sqrt(lam) * np.linspace(-8, 8, 9)).clip(0)):
            exact = int(k) * mp.log(lam) - lam - mp.loggamma(int(k) + 1)
            assert abs(mp.exp(K._log_pmf(0, int(k), lam, 0.0) - exact) - 1) < 1e-13
    for n in (5.0, 17.0, 64.0, 65.0, 1e4, 1e12):
        for p in (1e-6, 0.3, 0.99):
            sd = np.sqrt(n * p * (1 - p))
            for k in np.unique(np.round(n * p + sd * np.linspace(-8, 8, 9)).clip(0, n)):
                k, big_n, big_p = int(k), mp.mpf(n), mp.mpf(p)
                exact = (mp.loggamma(big_n + 1) - mp.loggamma(k + 1) - mp.loggamma(big_n - k + 1)
                         + k * mp.log(big_p) + (big_n - k) * mp.log(1 - big_p))
                # n·p carries the rounding of p (relative 1e-16) into the deviance: 1e-9 at 10^12
                tol = 1e-13 if n < 1e6 else 1e-9
                assert abs(mp.exp(K._log_pmf(1, k, n, p) - exact) - 1) < tol, (n, p, k)


def test_normal_quantile_approximation():
    """The walk's starting point: within 4.5e-4 of the normal quantile (A&S 26.2.23)."""
    u = np.concatenate([10.0 ** -np.arange(1, 300, 7), np.linspace(0.01, 0.99, 99),
                        1 - 10.0 ** -np.arange(1, 16)])
    got = np.array([K._normal_quantile(x) for x in u])
    np.testing.assert_allclose(got, stats.norm.ppf(u), rtol=0, atol=4.5e-4)


def test_kernels_release_the_gil():
    # threads given as workers= (a ThreadPoolExecutor's map) can then run kernels side by side
    for kernel in (K.prune_pair, K.attach_new_events, K.invert_coupled, K.new_perturbation):
        options = getattr(kernel.dispatcher, "targetoptions", None)
        if options is not None:  # None with NUMBA_DISABLE_JIT=1
            assert options.get("nogil") is True
