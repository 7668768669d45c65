"""Single-sample facts (conformance.md), which hold exactly on every sample, δ = +1."""

import numpy as np

import stochad as sad


def _value_and_contribution(draw, p, n=2_000, seed=3):
    st = sad.stochastic_triple(draw, p, n_samples=n, rng=seed)
    return np.asarray(sad.value(st)), np.asarray(sad.derivative_contribution(st))


def test_poisson_contributes_exactly_one():
    for lam in (0.5, 3.0, 40.0):
        _, c = _value_and_contribution(sad.poisson, lam)
        assert np.all(c == 1.0)


def test_bernoulli_contribution():
    p = 0.3
    k, c = _value_and_contribution(sad.bernoulli, p)
    np.testing.assert_array_equal(c, np.where(k == 0, 1 / (1 - p), 0.0))
    assert 0 < k.mean() < 1


def test_binomial_contribution():
    n, p = 7, 0.4
    k, c = _value_and_contribution(lambda q: sad.binomial(n, q), p)
    np.testing.assert_allclose(c, (n - k) / (1 - p), rtol=1e-15)


def test_geometric_contribution():
    p = 0.3
    k, c = _value_and_contribution(sad.geometric, p)
    np.testing.assert_allclose(c, -(k - 1) / (p * (1 - p)), rtol=1e-15)
    assert k.min() >= 1


def test_negative_direction_uses_left_derivative():
    """δ = -1: Bernoulli moves 1 → 0 with weight 1/p; the estimate of -dE/dp is still exact."""
    p = 0.3
    samples = sad.derivative_samples(sad.bernoulli, p, n_samples=1_000, rng=4,
                                     direction=-1.0)
    st = sad.stochastic_triple(lambda q: sad.bernoulli(-q), -p, rng=5, n_samples=1_000)
    k = np.asarray(sad.value(st))
    np.testing.assert_allclose(sad.derivative_contribution(st), np.where(k == 1, -1 / p, 0.0))
    assert set(np.unique(samples)) <= {0.0, -1 / p}


def test_single_lane_repr():
    st = sad.stochastic_triple(sad.bernoulli, 0.5, rng=0)
    k = int(sad.value(st))
    text = repr(st)
    if k == 0:
        assert text == "0 + 0ε + (1 with probability 2ε)"
    else:
        assert text == "1 + 0ε"


def test_many_lane_repr_is_a_summary():
    st = sad.stochastic_triple(sad.poisson, 2.0, n_samples=1000, rng=0)
    assert repr(st).startswith("StochasticTriple(shape=(), lanes=1000")
