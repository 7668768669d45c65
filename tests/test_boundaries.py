"""Derivatives at a boundary of a parameter's domain are the one-sided derivative into it.

Where the direction points out of the domain (p = 1 with direction +1, p = 0 or λ = 0 with
direction -1), the estimate is the derivative along that direction of the law extended by its
one-sided derivative into the domain: ``direction · d/dp E[f]`` with the derivative taken from
inside (docs/decisions.md). It used to be 0.
"""

import numpy as np
import pytest
from conftest import assert_unbiased
from scipy import stats

import stochad as sad

BACKENDS = ["pruned", "exact"]


# Single-sample facts: at the boundary the draw is certain, so every sample is the same number.
@pytest.mark.parametrize("vectorize", [True, False])  # False: the replay engine
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("f, p, direction, exact", [
    (lambda p: sad.bernoulli(p), 1.0, 1.0, 1.0),            # d/dp p
    (lambda p: sad.bernoulli(p), 0.0, -1.0, -1.0),
    (lambda p: sad.binomial(5, p), 1.0, 1.0, 5.0),          # d/dp 5p
    (lambda p: sad.binomial(5, p), 0.0, -1.0, -5.0),
    (lambda p: sad.geometric(p), 1.0, 1.0, -1.0),           # d/dp 1/p = -1/p^2
    (lambda lam: sad.poisson(lam), 0.0, -1.0, -1.0),        # d/dλ λ
    (lambda p: sad.binomial(5, p) ** 2, 1.0, 1.0, 45.0),    # d/dp (5p(1-p) + 25p^2) = 5 + 40p
    (lambda p: 1.0 / sad.geometric(p), 1.0, 2.0, 2.0 * 0.5),  # d/dp E[1/G] at 1 is 1/2
    # a law of the generic CDF path (numpy's failures before the 3rd success): d/dp 3(1-p)/p
    (lambda p: 1.0 * sad.Generator().negative_binomial(3, p), 1.0, 1.0, -3.0),
])
def test_every_sample_at_a_boundary_is_the_one_sided_derivative(backend, f, p, direction,
                                                                 exact, vectorize):
    samples = sad.derivative_samples(f, p, n_samples=200, rng=0, backend=backend,
                                     direction=direction, vectorize=vectorize)
    np.testing.assert_allclose(samples, exact, rtol=1e-12)


def test_one_sided_derivative_one_sample_per_call():
    samples = sad.derivative_samples(lambda p: sad.bernoulli(p), 1.0, n_samples=20, rng=1,
                                     vectorize=False)
    np.testing.assert_array_equal(samples, 1.0)


# A reliability engineer's server farm: n machines each up with probability p, demand D ~
# Poisson(8), revenue min(up, D). At p = 1 (perfect machines) the marginal value of
# reliability is n·P(D >= n), the derivative from below.
def _served(p):
    up = sad.binomial(10, p)
    demand = sad.poisson(8.0)
    return np.minimum(up, demand)


# A queue that opens at rate λ = 0 (an arrival stream being switched off): the cost
# (N + B)^2 of N ~ Poisson(λ) arrivals plus a backlog B ~ Bernoulli(0.3), along direction -1:
# -(E[(1 + B)^2] - E[B^2]) = -(1 + 2·0.3).
def _queue_cost(lam):
    backlog = sad.bernoulli(0.3)
    return (sad.poisson(lam) + backlog) ** 2


# A retry budget: tries until the first success G ~ Geometric(p) at p = 1 (a link that never
# fails), costing 3·[G > 1] + G·U with U ~ Uniform(0, 1): E = 3(1 - p) + 0.5/p, whose
# derivative from below at p = 1 is -3.5.
def _retry_cost(p):
    tries = sad.geometric(p)
    return 3.0 * (tries > 1) + tries * sad.uniform(0.0, 1.0)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("f, p, direction, exact", [
    (_served, 1.0, 1.0, 10 * stats.poisson.sf(9, 8.0)),
    (_queue_cost, 0.0, -1.0, -1.6),
    (_retry_cost, 1.0, 1.0, -3.5),
])
def test_practitioner_programs_at_a_boundary(backend, f, p, direction, exact):
    samples = sad.derivative_samples(f, p, n_samples=20_000, rng=3, backend=backend,
                                     direction=direction)
    assert_unbiased(samples, exact)
    assert np.std(samples) > 0  # a stochastic check, not a constant


def test_into_the_domain_is_unchanged():
    """At the boundary, the direction into the domain was right before and still is."""
    samples = sad.derivative_samples(lambda p: sad.bernoulli(p), 1.0, n_samples=100, rng=0,
                                     direction=-1.0)
    np.testing.assert_array_equal(samples, -1.0)
    samples = sad.derivative_samples(lambda lam: sad.poisson(lam), 0.0, n_samples=100, rng=0)
    np.testing.assert_array_equal(samples, 1.0)



class _BinomialByCdf(sad.DiscreteDistribution):
    """A user's law known only by its CDF (scipy's, NaN for p > 1)."""

    name, params = "binomial by cdf", ("n", "p")

    def cdf(self, k, n, p):
        return stats.binom.cdf(k, n, p)


@pytest.mark.parametrize("vectorize", [True, False])
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_users_law_at_a_boundary_takes_the_one_sided_difference(backend, vectorize):
    # at p = 1 the central difference of the CDF steps outside the domain (NaN): the one-sided
    # one, accurate to its step 1e-6, gives d/dp E[K] = n = 4 from inside (it used to be 0)
    samples = sad.derivative_samples(lambda p: sad.draw(_BinomialByCdf(), 4, p), 1.0,
                                     n_samples=50, rng=0, backend=backend, vectorize=vectorize)
    np.testing.assert_allclose(samples, 4.0, rtol=1e-5)


@pytest.mark.parametrize("vectorize", [True, False])
def test_a_cdf_derivative_that_is_not_finite_raises(vectorize):
    class Broken(_BinomialByCdf):
        def cdf_derivative(self, i, k, n, p):
            return np.full(np.shape(k), np.nan)

    with pytest.raises(ValueError, match="derivative of its CDF in its parameters is not finite"):
        sad.derivative_samples(lambda p: sad.draw(Broken(), 4, p), 0.5, n_samples=5, rng=0,
                               vectorize=vectorize)


def test_geometric_near_zero_saturates_as_numpy():
    """p = 1e-20: counts beyond int64 are the largest int64 (numpy's sampler saturates);
    they used to wrap to negative counts."""
    n = 1000
    k = sad.geometric(1e-20, size=n, rng=0)
    assert k.min() >= 1
    saturated = np.mean(k == np.iinfo(np.int64).max)
    share = np.exp(2.0**63 * np.log1p(-1e-20))  # P(K > 2^63 - 1), about 0.91
    assert abs(saturated - share) < 5 * np.sqrt(share * (1 - share) / n)
