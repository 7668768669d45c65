"""Structured parameters (dicts, namedtuples, directions) and the optimisers that use them.

A test marked ``# BUG:`` failed before its fix and stays as a regression test; ``# EDGE:``
covers an edge case no other test covers.
"""

from collections import namedtuple

import numpy as np
import pytest
from conftest import assert_unbiased, samples_of

import stochad as sad


# BUG: derivative_estimate(f, {"b": 0.3, "lam": 2.0}, direction={"lam": -2.0, "b": 1.0})
# raises "direction must have the structure of p": the same keys in another insertion order
# are the same structure (Python dicts compare equal); expected 2.0 − 0.6 = 1.4.
def test_direction_dict_with_keys_in_another_order():
    def f(q):
        return sad.bernoulli(q["b"]) * sad.poisson(q["lam"])

    samples = samples_of(f, {"b": 0.3, "lam": 2.0}, direction={"lam": -2.0, "b": 1.0})
    assert_unbiased(samples, 1.4)


# EDGE: a namedtuple p comes back as the namedtuple; a tuple direction for it; a negative
# direction of a scalar p (left derivative of the draws).
def test_namedtuple_parameter_and_negative_direction():
    P = namedtuple("P", "b lam")

    def g(q):
        return sad.bernoulli(q.b) * sad.poisson(q.lam)

    grad = samples_of(g, P(0.3, 2.0), n=50_000)
    assert isinstance(grad, P)
    assert_unbiased(grad.b, 2.0)
    assert_unbiased(grad.lam, 0.3)
    assert_unbiased(samples_of(g, P(0.3, 2.0), n=50_000, direction=(1.0, -2.0)), 1.4)
    assert_unbiased(samples_of(lambda q: sad.geometric(q), 0.3, direction=-2.5), 2.5 / 0.09)


# BUG: sad.stochastic_gradient(lambda q: sad.poisson(q["l"]) * q["a"], {"l": 1.0, "a": 2.0})
# raises AttributeError: 'dict' object has no attribute 'shape' (tuples too), although
# derivative_estimate accepts the same p; expected {"l": 2.0, "a": 1.0}.
def test_stochastic_gradient_of_a_dict_parameter():
    g = sad.stochastic_gradient(lambda q: sad.poisson(q["l"]) * q["a"], {"l": 1.0, "a": 2.0},
                                n_samples=1000, rng=0)
    assert g["l"] == pytest.approx(2.0) and g["a"] == pytest.approx(1.0, abs=0.2)


# BUG: sad.optimize.sgd(f, 1.0, learning_rate=0.1, steps=1, bounds=(np.nan, 5.0)) returns
# x = nan with success=True (NaN bounds pass the low <= high check; np.clip then makes the
# iterate NaN); with more steps the error blames "the parameter p". Expected a ValueError
# naming the bounds, as for low > high.
def test_sgd_rejects_nan_bounds():
    with pytest.raises(ValueError, match="bounds"):
        sad.optimize.sgd(lambda p: (sad.poisson(p) - 4.0) ** 2, 1.0, learning_rate=0.1,
                         steps=1, n_samples=10, rng=0, bounds=(np.nan, 5.0))


# EDGE: both optimisers find the known optimum of a vector problem,
# E[Σ(K_i − c_i)²] = Σ λ_i + (λ_i − c_i)², minimum at c − 1/2 = [3.5, 7.5]; and a run is the
# same whether rng is an int, a numpy Generator or a sad.Generator with that seed.
def test_optimisers_reach_a_known_vector_optimum_and_are_reproducible():
    def f(p):
        return np.sum((sad.poisson(p) - np.array([4.0, 8.0])) ** 2)

    res = sad.optimize.adam(f, [1.0, 1.0], learning_rate=lambda t: 0.5 / (1 + t / 20),
                            steps=150, n_samples=1000, rng=0)
    np.testing.assert_allclose(res.x, [3.5, 7.5], atol=0.15)
    res = sad.optimize.sgd(f, [1.0, 1.0], learning_rate=lambda t: 0.2 / (1 + t / 20),
                           steps=150, n_samples=1000, rng=0, momentum=0.5)
    np.testing.assert_allclose(res.x, [3.5, 7.5], atol=0.15)
    runs = [sad.optimize.adam(f, [1.0, 1.0], learning_rate=0.3, steps=10, n_samples=100,
                              rng=r).x for r in (5, np.random.default_rng(5), sad.Generator(5))]
    np.testing.assert_array_equal(runs[0], runs[1])
    np.testing.assert_array_equal(runs[0], runs[2])
