"""The three backends (pruned, exact, smoothed): agreement, variance, bias, kernels.

Exact values come from closed forms derived by hand or from scipy enumeration, never from
stochad itself.
"""

import itertools

import numpy as np
import pytest
from conftest import ALL_BACKENDS, assert_unbiased
from scipy import stats

import stochad as sad
from stochad.backends import exact

N = 40_000


def samples(f, p, backend, n=N, seed=1, **kwargs):
    return sad.derivative_samples(f, p, n_samples=n, rng=seed, backend=backend, **kwargs)


# -- linear programs: every backend is unbiased ------------------------------------------------
LINEAR = [
    ("bernoulli", lambda p: 7 * sad.bernoulli(p) - 3, 0.3, 7.0),
    ("weighted-sum", lambda p: sum(i * sad.bernoulli(p) for i in range(1, 11)), 0.4, 55.0),
    # d/dp E[2·Bin(20, p) + Poisson(3p)] = 40 + 3
    ("binomial-poisson", lambda p: 2 * sad.binomial(20, p) + sad.poisson(3 * p), 0.3, 43.0),
    ("vector-draw", lambda p: np.sum(sad.bernoulli(p, size=16)), 0.3, 16.0),
    ("stack", lambda p: np.sum(np.stack([sad.bernoulli(p), 2 * sad.poisson(p)])), 0.5, 3.0),
    # E[Poisson(10·B + 1)] = 10p + 1: a draw with a perturbed parameter, linear overall
    ("poisson-of-bernoulli", lambda p: sad.poisson(10 * sad.bernoulli(p) + 1), 0.3, 10.0),
]


@pytest.mark.all_backends
@pytest.mark.parametrize("name,f,p,exact_value", LINEAR, ids=[c[0] for c in LINEAR])
def test_linear_programs_agree(name, f, p, exact_value, backend):
    assert_unbiased(samples(f, p, backend), exact_value)


# -- conformance rows (shared/conformance.md): pruned and exact everywhere, smoothed on the
# linear column only (it is biased on the others, see test_smoothed_is_biased_*) ------------------
F = {"linear": lambda x: 7 * x - 3, "square": lambda x: (x + 1) ** 2,
     "sqrt": lambda x: np.sqrt(x + 1)}
DRAWS = [
    ("bernoulli", sad.bernoulli, 0.3, (7, 3, 0.414214)),
    ("binomial3", lambda p: sad.binomial(3, p), 0.5, (21, 15, 0.988378)),
    ("binomial20", lambda p: sad.binomial(20, p), 0.3, (140, 288, 3.853985)),
    ("poisson3", sad.poisson, 3.0, (7, 9, 0.251471)),
    ("poisson0.5", sad.poisson, 0.5, (7, 4, 0.371291)),
    ("geometric", sad.geometric, 0.3, (-77.777778, -159.259259, -2.302542)),
]
ROWS = [
    pytest.param(draw, F[fname], p, value, backend, id=f"{label}-{fname}-{backend}")
    for label, draw, p, values in DRAWS
    for fname, value in zip(F, values, strict=True)
    for backend in (ALL_BACKENDS if fname == "linear" else ["pruned", "exact"])
]


@pytest.mark.parametrize("draw,f,p,exact_value,backend", ROWS)
def test_conformance_rows(draw, f, p, exact_value, backend):
    assert_unbiased(samples(lambda q: f(draw(q)), p, backend, n=20_000), exact_value)


COMPOSITIONS = [
    ("categorical-gaps", lambda p: sad.categorical([0, p**2, 0, 0, 1 - p**2]), 0.5, -3.0,
     20_000),
    ("nested-binomial", lambda p: sad.binomial(sad.binomial(10, p), p), 0.7, 14.0, 20_000),
    ("table-lookup",
     lambda p: sad.take([3.5, 5.2, 8.4], sad.categorical([p / 2, p / 2, 1 - p])), 0.4, -4.05,
     20_000),
    ("sum-100", lambda p: sum(i * sad.bernoulli(p) for i in range(1, 101)), 0.5, 5050.0, 3000),
]


@pytest.mark.parametrize("name,f,p,exact_value,n", COMPOSITIONS,
                         ids=[c[0] for c in COMPOSITIONS])
def test_conformance_compositions(name, f, p, exact_value, n, backend):
    assert_unbiased(samples(f, p, backend, n=n), exact_value)


def test_exact_couples_a_draw_once_per_event():
    # K ~ Poisson(1 + 10·B1 + 5·B2), B1, B2 ~ Bernoulli(p) iid; f = sqrt(K + 1). Two events
    # perturb the rate at once; exact derivative by enumeration (scipy) and central differences.
    def expectation(p):
        k = np.arange(200)
        total = 0.0
        for b1, b2 in itertools.product([0, 1], repeat=2):
            prob = (p if b1 else 1 - p) * (p if b2 else 1 - p)
            total += prob * np.sum(np.sqrt(k + 1) * stats.poisson.pmf(k, 1 + 10 * b1 + 5 * b2))
        return total

    p, h = 0.4, 1e-5
    exact_value = (expectation(p + h) - expectation(p - h)) / (2 * h)

    def f(q):
        return np.sqrt(sad.poisson(1 + 10 * sad.bernoulli(q) + 5 * sad.bernoulli(q)) + 1)

    for backend in ("pruned", "exact"):
        assert_unbiased(samples(f, p, backend), exact_value)


# -- variance: exact <= pruned ------------------------------------------------------------------
def _enumerated_moments(p):
    """Mean and variance of the exact and pruned estimators of d/dp E[(X1 + X2)²] with
    X1 ~ Bernoulli(p), X2 ~ Bernoulli(1 - p), by hand from docs/design.md §1's table.

    X1 = 0 carries (+1, 1/(1-p)); X2 = 1 carries (-1, 1/(1-p)) (its parameter's dual part is -1).
    The pruned backend keeps one of two events with probability 1/2 and doubles its weight.
    """
    w = 1 / (1 - p)
    # (probability, exact contribution, [(probability, pruned contribution)])
    cases = [
        ((1 - p) * p, w * 1, [(1, w * 1)]),                     # x = 0: 0 -> 1
        ((1 - p) * (1 - p), w * 3 - w * 1,                      # x = 1: -> 2 or -> 0
         [(0.5, 2 * w * 3), (0.5, -2 * w * 1)]),
        (p * p, 0.0, [(1, 0.0)]),                               # x = 1, nothing perturbed
        (p * (1 - p), -3 * w, [(1, -3 * w)]),                   # x = 2: -> 1
    ]
    mean = sum(q * c for q, c, _ in cases)
    var_exact = sum(q * c**2 for q, c, _ in cases) - mean**2
    var_pruned = sum(q * r * c**2 for q, _, branch in cases for r, c in branch) - mean**2
    return mean, var_exact, var_pruned


def test_exact_has_lower_variance_than_pruned():
    p = 0.3

    def f(q):
        return (sad.bernoulli(q) + sad.bernoulli(1 - q)) ** 2

    mean, var_exact, var_pruned = _enumerated_moments(p)
    assert mean == pytest.approx(2 - 4 * p)  # d/dp (1 + 2p - 2p²)
    assert var_exact < var_pruned
    n = 100_000
    s_exact, s_pruned = samples(f, p, "exact", n=n), samples(f, p, "pruned", n=n)
    assert_unbiased(s_exact, 2 - 4 * p)
    assert_unbiased(s_pruned, 2 - 4 * p)
    assert s_exact.var() < s_pruned.var()
    # sample variances match the enumeration (relative stderr of a variance here is < 1%)
    assert s_exact.var() == pytest.approx(var_exact, rel=0.05)
    assert s_pruned.var() == pytest.approx(var_pruned, rel=0.05)


# -- smoothed: biased on non-linear programs ----------------------------------------------------
def test_smoothed_is_biased_on_a_square():
    # E[K²] = λ + λ² for K ~ Poisson(λ): the derivative is 1 + 2λ = 7 at λ = 3. The smoothed
    # backend gives δ(K²) = 2K·δK = 2K, whose mean is 2λ = 6: bias -1.
    lam = 3.0
    f = lambda q: sad.poisson(q) ** 2  # noqa: E731
    smoothed = samples(f, lam, "smoothed")
    stderr = smoothed.std(ddof=1) / np.sqrt(len(smoothed))
    assert abs(smoothed.mean() - (1 + 2 * lam)) > 5 * stderr
    assert_unbiased(smoothed, 2 * lam)
    assert_unbiased(samples(f, lam, "exact"), 1 + 2 * lam)


def test_smoothed_loses_the_jump_of_a_bernoulli_square():
    # E[B²] = p, derivative 1; smoothed: δ(B²) = 2B·δB = 0 on every sample (δB ≠ 0 only if B = 0).
    s = samples(lambda q: sad.bernoulli(q) ** 2, 0.3, "smoothed", n=1000)
    assert np.all(s == 0.0)


def test_smoothed_folds_the_weight_into_the_dual_part():
    st = sad.stochastic_triple(lambda q: sad.bernoulli(q), 0.3, rng=0, backend="smoothed")
    assert sad.perturbations(st) == []
    expected = 1 / (1 - 0.3) if sad.value(st) == 0 else 0.0
    assert float(sad.delta(st)) == expected


def test_smoothed_binomial_of_a_draw_raises_a_clear_error():
    with pytest.raises(ValueError, match="number of trials n"):
        samples(lambda q: sad.binomial(sad.binomial(10, q), q), 0.3, "smoothed", n=10)


# -- exact: single-sample facts -------------------------------------------------------------------
def test_exact_vector_draw_keeps_one_event_per_element():
    p = 0.3
    st = sad.stochastic_triple(lambda q: np.sum(sad.bernoulli(q, size=64)), p, rng=5,
                               backend="exact")
    zeros = 64 - int(sad.value(st))
    live = [(j, w) for j, w in sad.perturbations(st) if w != 0]
    assert len(live) == zeros
    assert all(j == 1 and w == pytest.approx(1 / (1 - p), rel=1e-15) for j, w in live)
    assert float(sad.derivative_contribution(st)) == pytest.approx(zeros / (1 - p), rel=1e-14)


def test_exact_events_of_one_draw_move_together():
    # B·B = B: one event, its jump is evaluated once (0 -> 1), not twice.
    st = sad.stochastic_triple(lambda q: (lambda b: b * b)(sad.bernoulli(q)), 0.5, rng=1,
                               backend="exact")
    assert int(sad.value(st)) == 0
    assert sad.perturbations(st) == [(1.0, 2.0)]


def test_exact_branch_on_a_perturbed_value_raises():
    def f(q):
        return 1.0 if sad.bernoulli(q) > 0 else 0.0

    with pytest.raises(TypeError, match="stochad.where"):
        samples(f, 0.5, "exact", n=1000)


def test_exact_is_reproducible_and_works_per_sample():
    f = lambda q: (sad.bernoulli(q) + sad.poisson(2 * q)) ** 2  # noqa: E731
    a = samples(f, 0.3, "exact", n=200, seed=7)
    assert np.array_equal(a, samples(f, 0.3, "exact", n=200, seed=7))
    # B ~ Bern(p), K ~ Poisson(2p) independent: E[(B + K)²] = E[B²] + 2E[B]E[K] + E[K²]
    # = p + 4p² + (2p + 4p²) = 3p + 8p², derivative 3 + 16p.
    per_sample = samples(f, 0.3, "exact", n=3000, vectorize=False)
    assert_unbiased(per_sample, 3 + 16 * 0.3)


def test_unknown_backend_is_named():
    with pytest.raises(ValueError, match="'fastest'"):
        samples(sad.poisson, 1.0, "fastest", n=1)


# -- numba kernels equal their plain-Python meaning ---------------------------------------------
def _python(kernel):
    """The kernel's plain-Python function (the kernel itself under NUMBA_DISABLE_JIT=1)."""
    return getattr(kernel, "py_func", kernel)


def _sorted_events(rng, n_args, k, m):
    events = np.full((n_args, k, m), exact.NO_EVENT)
    for a, j in itertools.product(range(n_args), range(m)):
        count = rng.integers(0, k + 1)
        events[a, :count, j] = np.sort(rng.choice(12, size=count, replace=False))
    return events


def test_merge_kernel_matches_python():
    rng = np.random.default_rng(0)
    events = _sorted_events(rng, 3, 4, 50)
    jumps = np.where(events != exact.NO_EVENT, rng.normal(size=events.shape), 0.0)
    weights = np.where(events != exact.NO_EVENT, (events + 1.0) / 7, 0.0)  # weight of the event
    jit = exact.merge_channels(events, jumps, weights)
    py = _python(exact.merge_channels)(events, jumps, weights)
    for a, b in zip(jit, py, strict=True):
        assert np.array_equal(a, b)
    merged, merged_jumps, merged_weights = jit
    for j in range(events.shape[2]):  # the meaning: the sorted union, jumps by argument
        union = sorted(set(events[:, :, j].ravel()) - {exact.NO_EVENT})
        assert merged[: len(union), j].tolist() == union
        for c, e in enumerate(union):
            assert merged_weights[c, j] == (e + 1.0) / 7
            for a in range(3):
                hit = np.flatnonzero(events[a, :, j] == e)
                assert merged_jumps[a, c, j] == (jumps[a, hit[0], j] if hit.size else 0.0)


def test_compact_kernel_matches_python():
    rng = np.random.default_rng(1)
    events = _sorted_events(rng, 1, 6, 40)[0]
    jumps = np.where(rng.random(events.shape) < 0.3, 0.0, 1.0) * (events != exact.NO_EVENT)
    weights = np.where(events != exact.NO_EVENT, 2.0, 0.0)
    jit = exact.compact_channels(events, jumps, weights)
    py = _python(exact.compact_channels)(events, jumps, weights)
    for a, b in zip(jit, py, strict=True):
        assert np.array_equal(a, b)
    out_events, out_jumps, _ = jit
    for j in range(events.shape[1]):
        kept = [e for e, d in zip(events[:, j], jumps[:, j], strict=True) if d != 0]
        assert [e for e in out_events[:, j] if e != exact.NO_EVENT] == kept


def test_exact_sums_in_one_pass_equal_the_chain_of_additions():
    """ExactBackend.sum_along (sorted channels) gives the samples of the explicit chain of
    additions, which merges the events term by term; the sum over 1,000 draws is unbiased."""
    def one_pass(p):
        x = sad.bernoulli(p, size=(6, 4)) * np.arange(4.0) + sad.poisson(p, size=4)
        return np.sum(x, axis=0) + np.sum(x[:2], keepdims=True)

    def chain(p):
        x = sad.bernoulli(p, size=(6, 4)) * np.arange(4.0) + sad.poisson(p, size=4)
        acc = x[0]
        for i in range(1, 6):
            acc = acc + x[i]
        first = x[0, 0]
        for i, j in itertools.product(range(2), range(4)):
            if (i, j) != (0, 0):
                first = first + x[i, j]
        return acc + first.reshape(1, 1)

    a = sad.derivative_samples(one_pass, 0.3, n_samples=3000, rng=3, backend="exact")
    b = sad.derivative_samples(chain, 0.3, n_samples=3000, rng=3, backend="exact")
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    samples = sad.derivative_samples(lambda p: np.sum(sad.bernoulli(p, size=1000)), 0.3,
                                     n_samples=5000, rng=4, backend="exact")
    assert_unbiased(samples, 1000.0)


def test_sum_channels_matches_its_plain_python_meaning():
    rng = np.random.default_rng(8)
    events = np.where(rng.random((12, 50)) < 0.2, exact.NO_EVENT,
                      rng.integers(0, 5, (12, 50)))
    jumps = rng.normal(size=(12, 50))
    weights = np.take_along_axis(np.abs(rng.normal(size=(5, 50))),
                                 np.where(events == exact.NO_EVENT, 0, events), axis=0)
    fast = exact.sum_channels(events, jumps, weights)
    slow = exact.sum_channels.py_func(events, jumps, weights)
    for x, y in zip(fast, slow, strict=True):
        np.testing.assert_array_equal(x, y)
    for j in range(50):  # per column: each event once, with the sum of its jumps
        live = events[:, j] != exact.NO_EVENT
        for e in np.unique(events[live, j]):
            c = np.flatnonzero(fast[0][:, j] == e)
            assert c.size == 1
            assert fast[1][c[0], j] == pytest.approx(jumps[events[:, j] == e, j].sum())


def test_smoothed_backend_looks_a_table_up_along_its_slope():
    # the centred-difference rule of StochasticAD.jl: exact for a linear table, 3·d/dp E[K] = 15
    # for K ~ Binomial(5, p); it gave a silent 0 before the rule existed
    table = 2.0 + 3.0 * np.arange(6)
    samples = sad.derivative_samples(lambda p: sad.take(table, sad.binomial(5, p)), 0.4,
                                     n_samples=20_000, rng=0, backend="smoothed")
    assert_unbiased(samples, 15.0)
