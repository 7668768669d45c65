"""Every row of shared/conformance.md: exact values from scipy enumeration, not from stochad."""

import numpy as np
import pytest
from conftest import assert_unbiased
from scipy import stats

import stochad as sad

F = {
    "linear": lambda x: 7 * x - 3,
    "square": lambda x: (x + 1) ** 2,
    "sqrt": lambda x: np.sqrt(x + 1),
}

# draw, parameter, exact derivatives of E[f(X)] for the three f above (conformance.md)
DRAWS = [
    ("bernoulli", lambda p: sad.bernoulli(p), 0.3, (7, 3, 0.414214)),
    ("binomial3", lambda p: sad.binomial(3, p), 0.5, (21, 15, 0.988378)),
    ("binomial20", lambda p: sad.binomial(20, p), 0.3, (140, 288, 3.853985)),
    ("poisson3", lambda p: sad.poisson(p), 3.0, (7, 9, 0.251471)),
    ("poisson0.5", lambda p: sad.poisson(p), 0.5, (7, 4, 0.371291)),
    ("geometric", lambda p: sad.geometric(p), 0.3, (-77.777778, -159.259259, -2.302542)),
]
CASES = [
    pytest.param(draw, F[name], p, exact, id=f"{label}-{name}")
    for label, draw, p, exacts in DRAWS
    for name, exact in zip(F, exacts, strict=True)
]


def _logistic_probs(p):
    e = sad.exp(p)
    return [1 / (1 + e), e / (1 + e)]


COMPOSITIONS = [
    ("categorical-square", lambda p: sad.categorical([p**2, 1 - p**2]), 0.5, -1.0),
    ("categorical-gaps", lambda p: sad.categorical([0, p**2, 0, 0, 1 - p**2]), 0.5, -3.0),
    ("categorical-logistic", lambda p: sad.categorical(_logistic_probs(p)), 0.5, 0.235004),
    ("nested-binomial-0.3", lambda p: sad.binomial(sad.binomial(10, p), p), 0.3, 6.0),
    ("nested-binomial-0.7", lambda p: sad.binomial(sad.binomial(10, p), p), 0.7, 14.0),
    ("sum-100", lambda p: sum(i * sad.bernoulli(p) for i in range(1, 101)), 0.5, 5050.0),
    ("table-lookup",
     lambda p: sad.take([3.5, 5.2, 8.4], sad.categorical([p / 2, p / 2, 1 - p])), 0.4, -4.05),
    ("poisson-of-bernoulli", lambda p: sad.poisson(10 * sad.bernoulli(p) + 1), 0.3, 10.0),
]
COMPOSITION_IDS = [c[0] for c in COMPOSITIONS]


def test_reference_values_by_enumeration():
    """The conformance table itself, recomputed from scipy pmfs by central differences."""
    def expectation(law, f, p):
        k = np.arange(0, 400)
        return np.sum(law(p).pmf(k) * f(k))

    laws = {
        "bernoulli": lambda p: stats.bernoulli(p),
        "binomial3": lambda p: stats.binom(3, p),
        "binomial20": lambda p: stats.binom(20, p),
        "poisson3": lambda p: stats.poisson(p),
        "poisson0.5": lambda p: stats.poisson(p),
        "geometric": lambda p: stats.geom(p),
    }
    h = 1e-5
    for label, _, p, exacts in DRAWS:
        for f, exact in zip(F.values(), exacts, strict=True):
            fd = (expectation(laws[label], f, p + h) - expectation(laws[label], f, p - h)) / (2 * h)
            assert fd == pytest.approx(exact, rel=1e-5, abs=1e-5)


@pytest.mark.parametrize(("draw", "f", "p", "exact"), CASES)
def test_draws_vectorized(draw, f, p, exact):
    samples = sad.derivative_samples(lambda q: f(draw(q)), p, n_samples=100_000, rng=11)
    assert_unbiased(samples, exact)


@pytest.mark.parametrize(("draw", "f", "p", "exact"), CASES)
def test_draws_per_sample(draw, f, p, exact):
    samples = sad.derivative_samples(lambda q: f(draw(q)), p, n_samples=3_000, rng=12,
                                     vectorize=False)
    assert_unbiased(samples, exact)


@pytest.mark.parametrize(("name", "f", "p", "exact"), COMPOSITIONS, ids=COMPOSITION_IDS)
def test_compositions_vectorized(name, f, p, exact):
    samples = sad.derivative_samples(f, p, n_samples=100_000, rng=13)
    assert_unbiased(samples, exact)


@pytest.mark.parametrize(("name", "f", "p", "exact"), COMPOSITIONS, ids=COMPOSITION_IDS)
def test_compositions_per_sample(name, f, p, exact):
    n = 300 if name == "sum-100" else 3_000
    samples = sad.derivative_samples(f, p, n_samples=n, rng=14, vectorize=False)
    assert_unbiased(samples, exact)


def test_table_lookup_at_any_p():
    for p in (0.1, 0.8):
        f = COMPOSITIONS[6][1]
        assert_unbiased(sad.derivative_samples(f, p, n_samples=100_000, rng=15), -4.05)


def _walk(p):
    n = 0
    for i in range(1, 101):
        n = n + sad.bernoulli(p * (1 - (n + i) / 200))
    return n


def _walk_by_dynamic_programming(p):
    """E[n] and dE[n]/dp by forward-mode exact DP over the law of n (independent of stochad)."""
    n = np.arange(102)
    law, dlaw = np.zeros(102), np.zeros(102)
    law[0] = 1.0
    for i in range(1, 101):
        up, dup = p * (1 - (n + i) / 200), 1 - (n + i) / 200
        new = law * (1 - up)
        dnew = dlaw * (1 - up) - law * dup
        new[1:] += law[:-1] * up[:-1]
        dnew[1:] += dlaw[:-1] * up[:-1] + law[:-1] * dup[:-1]
        law, dlaw = new, dnew
    return np.sum(law * n), np.sum(dlaw * n)


def test_walk_dynamic_programming_matches_conformance():
    mean, _ = _walk_by_dynamic_programming(0.5)
    assert mean == pytest.approx(32.6443, abs=1e-4)


def test_random_walk_vectorized():
    _, exact = _walk_by_dynamic_programming(0.5)
    assert_unbiased(sad.derivative_samples(_walk, 0.5, n_samples=100_000, rng=16), exact)


def test_random_walk_per_sample():
    _, exact = _walk_by_dynamic_programming(0.5)
    assert_unbiased(sad.derivative_samples(_walk, 0.5, n_samples=300, rng=17, vectorize=False),
                    exact)
