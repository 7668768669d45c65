"""The combined estimator (issue 14): ``T + c·(S − T)`` from one run, ``c`` cross-fitted.

Unbiased against exact values (closed forms, the bench's exact DP), under the pruned, exact
and K-paths triple backends; on programs where both the triple and the score-function
estimators are noisy, its variance is at most the smaller of the two.
"""

import numpy as np
import pytest
from conftest import assert_unbiased, central_difference

import stochad as sad
from bench.problems import PROBLEMS
from stochad.combined import fitted_coefficient


def extinct_by_five(lam):
    """An epidemiologist's question: has a Poisson(λ) branching process died out by
    generation 5?"""
    z = 1
    for _ in range(5):
        z = sad.poisson(lam * z)
    return 1.0 * (z == 0)


def extinction_probability(lam):
    """P(Z₅ = 0) = g⁵(0), g(s) = exp(λ(s − 1)) the offspring generating function."""
    s = 0.0
    for _ in range(5):
        s = np.exp(lam * (s - 1.0))
    return s


def two_bernoullis(theta):
    return 2 * sad.bernoulli(3 * theta) + sad.bernoulli(theta)


CASES = {
    "two-bernoullis": (two_bernoullis, 0.1, 7.0),
    "binomial-square": (lambda p: sad.binomial(20, p) ** 2, 0.3, 248.0),
    "extinction": (extinct_by_five, 1.5, central_difference(extinction_probability, 1.5)),
    "random-walk": (PROBLEMS["random-walk"].program, 0.5, PROBLEMS["random-walk"].exact),
    "lindley-queue": (PROBLEMS["lindley-queue"].program, 0.8, PROBLEMS["lindley-queue"].exact),
}


@pytest.mark.parametrize("name", list(CASES))
def test_combined_is_unbiased(name):
    f, p, exact = CASES[name]
    n = 4000 if name == "random-walk" else 20_000
    assert_unbiased(sad.derivative_samples(f, p, n_samples=n, rng=7, estimator="combined"),
                    exact)


@pytest.mark.parametrize("backend", ["exact", "kpaths:2"])
def test_combined_with_other_triple_backends(backend):
    f, p, exact = CASES["extinction"]
    assert_unbiased(sad.derivative_samples(f, p, n_samples=20_000, rng=8, backend=backend,
                                           estimator="combined"), exact)


@pytest.mark.parametrize("name", ["two-bernoullis", "extinction"])
def test_combined_variance_is_at_most_the_smaller_one(name):
    f, p, _ = CASES[name]
    sd = {e: sad.derivative_samples(f, p, n_samples=20_000, rng=9, **options).std()
          for e, options in [("triple", {}), ("score", {"estimator": "score", "baseline": True}),
                             ("combined", {"estimator": "combined"})]}
    assert sd["combined"] <= 1.01 * min(sd["triple"], sd["score"]), sd


def test_combined_of_a_vector_output_fits_a_coefficient_per_element():
    def f(p):
        return [two_bernoullis(p), extinct_by_five(10 * p + 0.5)]

    samples = sad.derivative_samples(f, 0.1, n_samples=20_000, rng=3, estimator="combined")
    assert samples.shape == (20_000, 2)
    assert_unbiased(samples, [7.0, 10 * central_difference(extinction_probability, 1.5)])


def test_fitted_coefficient_is_the_variance_minimiser():
    rng = np.random.default_rng(0)
    t, d = rng.normal(size=500), rng.normal(size=500)
    d = d - 0.4 * t
    c = fitted_coefficient(t, d)
    grid = np.linspace(c - 0.1, c + 0.1, 21)
    assert np.argmin([np.var(t + g * d) for g in grid]) == 10
    assert fitted_coefficient(t, np.zeros(500)) == 0.0


def test_combined_needs_two_halves():
    with pytest.raises(ValueError, match="n_samples >= 8"):
        sad.derivative_samples(two_bernoullis, 0.1, n_samples=5, estimator="combined")


def test_unknown_estimator_lists_combined():
    with pytest.raises(ValueError, match="combined"):
        sad.derivative_samples(two_bernoullis, 0.1, n_samples=5, estimator="mixed")
