"""The score-function and finite-difference estimators (docs/design.md §4, issue 4).

Exact values come from docs/conformance (scipy enumeration), closed forms, or the exact dynamic
programming of bench/exact_values.py; never from stochad itself.
"""

import numpy as np
import pytest
from conftest import assert_unbiased
from scipy import stats

import stochad as sad
from stochad import distributions as laws
from stochad.bench import exact_values as exact

N = 20_000
SCORE = [{"estimator": "score"}, {"estimator": "score", "baseline": True}]


def score_term(name, k, values, deltas):
    law = {"bernoulli": laws.Bernoulli, "binomial": laws.Binomial, "poisson": laws.Poisson,
           "geometric": laws.Geometric, "categorical": laws.Categorical}[name]
    return law().score(k, values, deltas)


def samples(f, p, n=N, rng=0, **options):
    return sad.derivative_samples(f, p, n_samples=n, rng=rng, **options)


@pytest.mark.parametrize("options", SCORE, ids=["score", "score-baseline"])
@pytest.mark.parametrize("f, p, want", [
    (lambda p: 7 * sad.bernoulli(p) - 3, 0.3, 7.0),
    (lambda p: (sad.binomial(3, p) + 1) ** 2, 0.5, 15.0),
    (lambda p: (sad.poisson(p) + 1) ** 2, 3.0, 9.0),
    (lambda p: np.sqrt(sad.poisson(p) + 1), 0.5, 0.371291),
    (lambda p: 7 * sad.geometric(p) - 3, 0.3, -77.777778),
    (lambda p: sad.categorical([p**2, 1 - p**2]), 0.5, -1.0),
    (lambda p: sad.categorical([0, p**2, 0, 0, 1 - p**2]), 0.5, -3.0),
    (lambda p: sad.binomial(sad.binomial(10, p), p), 0.3, 6.0),
], ids=["bernoulli", "binomial", "poisson", "poisson-sqrt", "geometric", "categorical",
        "categorical-zeros", "nested-binomial"])
def test_score_is_unbiased_on_conformance_rows(f, p, want, options):
    assert_unbiased(samples(f, p, **options), want)


@pytest.mark.parametrize("options", SCORE, ids=["score", "score-baseline"])
def test_score_on_the_random_walk_matches_exact_dp(options):
    def walk(p):
        n = 0
        for i in range(1, 101):
            n = n + sad.bernoulli(p * (1 - (n + i) / 200))
        return n

    assert_unbiased(samples(walk, 0.5, n=10_000, **options), exact.random_walk(0.5)[1])


@pytest.mark.parametrize("options", SCORE, ids=["score", "score-baseline"])
def test_continuous_draws_stay_pathwise_under_score(options):
    # E[Normal(p, 1)·Bernoulli(p)] = p², derivative 2p; the normal's dual part flows pathwise
    f = lambda p: sad.normal(p, 1.0) * sad.bernoulli(p)  # noqa: E731
    assert_unbiased(samples(f, 0.4, **options), 0.8)


def test_score_of_a_constant_program_averages_zero_and_baseline_cancels_it():
    f = lambda p: 0 * sad.poisson(p) + 5.0  # noqa: E731
    assert_unbiased(samples(f, 2.0, estimator="score"), 0.0)
    assert np.all(samples(f, 2.0, estimator="score", baseline=True) == 0.0)


def test_python_if_on_a_draw_works_under_score():
    # a Python branch on a drawn value: fine here (no perturbations), E = 1 + 4p; batched
    # triples refuse it (the perturbation would flip the branch); one sample per call, the
    # triple estimator replays the flipped branch (stochad.replay)
    def f(p):
        return 5.0 if sad.bernoulli(p) else 1.0

    with pytest.raises(TypeError, match="where"):
        samples(f, 0.3, n=1)
    assert_unbiased(samples(f, 0.3, n=2_000, vectorize=False), 4.0)

    draws = samples(f, 0.3, n=2_000, estimator="score", baseline=True, vectorize=False)
    assert_unbiased(draws, 4.0)


def test_score_gradient_and_direction_for_array_parameters():
    f = lambda p: sad.bernoulli(p[0]) + 2 * sad.poisson(p[1])  # noqa: E731
    grad = samples(f, [0.3, 1.5], estimator="score", baseline=True)
    assert grad.shape == (N, 2)
    assert_unbiased(grad, [1.0, 2.0])
    along = samples(f, [0.3, 1.5], estimator="score", baseline=True, direction=[1.0, -1.0])
    assert along.shape == (N,)
    assert_unbiased(along, -1.0)


@pytest.mark.parametrize("name, params, k", [
    ("bernoulli", [0.3], [0, 1]),
    ("binomial", [7.0, 0.3], [0, 2, 7]),
    ("poisson", [2.5], [0, 1, 6]),
    ("geometric", [0.3], [1, 2, 9]),
])
def test_score_term_is_the_derivative_of_scipys_log_pmf(name, params, k):
    law = {"bernoulli": stats.bernoulli, "binomial": stats.binom, "poisson": stats.poisson,
           "geometric": stats.geom}[name]
    k = np.array(k)
    eps = 1e-6
    up, down = list(params), list(params)
    up[-1] += eps
    down[-1] -= eps
    want = (law.logpmf(k, *up) - law.logpmf(k, *down)) / (2 * eps)
    values = [np.full(k.shape, v) for v in params]
    deltas = [None] * (len(params) - 1) + [np.ones(k.shape)]
    np.testing.assert_allclose(score_term(name, k, values, deltas), want, rtol=1e-6)


def test_score_term_of_a_categorical_is_dprob_over_prob():
    probs = np.array([[0.2, 0.5, 0.3]])
    dprobs = np.array([[1.0, -3.0, 2.0]])
    got = score_term("categorical", np.array([1]), [probs], [dprobs])
    np.testing.assert_allclose(got, [-3.0 / 0.5])


def test_fd_uses_common_random_numbers():
    # the same normal noise on both sides: every sample is exactly 1
    draws = samples(lambda p: sad.normal(p, 3.0), 0.7, n=1_000, estimator="fd", h=0.1)
    np.testing.assert_allclose(draws, 1.0, rtol=0, atol=1e-12)


def test_fd_is_exact_for_quadratic_expectations_and_biased_otherwise():
    # E[(x + 1)²] is quadratic in p for x ~ Binomial(3, p): central differences are unbiased
    f = lambda p: (sad.binomial(3, p) + 1) ** 2  # noqa: E731
    assert_unbiased(samples(f, 0.5, estimator="fd", h=0.05), 15.0)
    # a deterministic cubic: (f(p+h) - f(p-h)) / 2h = 3p² + h², the O(h²) bias
    draws = samples(lambda p: p**3, 0.5, n=3, estimator="fd", h=0.1)
    np.testing.assert_allclose(draws, 0.75 + 0.01, rtol=1e-12)


def test_fd_default_step_and_vector_parameters():
    f = lambda p: 7 * sad.bernoulli(p[0]) - 3 * sad.bernoulli(p[1])  # noqa: E731
    grad = samples(f, [0.3, 0.6], estimator="fd")
    assert grad.shape == (N, 2)
    assert_unbiased(grad, [7.0, -3.0])


@pytest.mark.parametrize("estimator, options", [
    ("score", {}), ("score", {"baseline": True}), ("fd", {"h": 0.01}),
])
def test_estimators_are_reproducible(estimator, options):
    f = lambda p: sad.poisson(p) ** 2 + sad.normal(p, 1.0)  # noqa: E731
    a = samples(f, 3.0, n=500, rng=7, estimator=estimator, **options)
    b = samples(f, 3.0, n=500, rng=np.random.default_rng(7), estimator=estimator, **options)
    np.testing.assert_array_equal(a, b)


def test_chunking_keeps_score_unbiased():
    f = lambda p: (sad.poisson(p) + 1) ** 2  # noqa: E731
    draws = samples(f, 3.0, estimator="score", baseline=True, chunk_size=1_000)
    assert_unbiased(draws, 9.0)


@pytest.mark.parametrize("options, message", [
    ({"estimator": "reinforce"}, "unknown estimator 'reinforce'"),
    ({"estimator": "fd", "h": 0.0}, "h must be a positive finite step"),
    ({"estimator": "fd", "h": -0.1}, "h must be a positive finite step"),
    ({"estimator": "fd", "h": float("nan")}, "h must be a positive finite step"),
    ({"h": 0.1}, "h= is the step of estimator='fd'"),
    ({"estimator": "fd", "baseline": True}, "baseline=True is an option of estimator='score'"),
    ({"baseline": True}, "baseline=True is an option of estimator='score'"),
    ({"estimator": "score", "baseline": "yes"}, "baseline must be True or False"),
])
def test_bad_options_raise_clear_errors(options, message):
    with pytest.raises(ValueError, match=message):
        sad.derivative_samples(sad.poisson, 1.0, n_samples=10, **options)


def test_baseline_needs_two_samples():
    with pytest.raises(ValueError, match="n_samples >= 2"):
        sad.derivative_estimate(sad.poisson, 1.0, n_samples=1, estimator="score",
                                baseline=True)


def test_derivative_estimate_passes_the_estimator_on():
    est = sad.derivative_estimate(lambda p: 7 * sad.bernoulli(p), 0.3, n_samples=N, rng=0,
                                  estimator="fd", h=0.01)
    assert abs(est - 7.0) < 1.0
