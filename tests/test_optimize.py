"""stochastic_gradient and the optimisers: fit Poisson(λ) to NegBin(10, 0.25) by minimising KL."""

import numpy as np
import pytest
from conftest import assert_unbiased
from scipy import optimize, special, stats

import stochad as sad

N, P = 10, 0.25  # the target NegBin(n, p), scipy's convention: failures before the n-th success


def kl_sample(lam):
    """One sample of log Poisson(k; λ) − log NegBin(k) with k ~ Poisson(λ): E = KL(Poi ‖ NB).

    The gammaln(k + 1) of both log-pmfs cancel; k·log λ and gammaln(k + 10) carry the draw's
    perturbation, −λ and log λ the dual part.
    """
    k = sad.poisson(lam)
    return (k * np.log(lam) - lam - special.gammaln(k + N) + special.gammaln(N)
            - N * np.log(P) - k * np.log1p(-P))


def exact_kl(lam):
    """KL(Poisson(λ) ‖ NegBin(10, 0.25)) by enumerating the Poisson pmf (scipy only)."""
    k = np.arange(0, 400)
    pk = stats.poisson.pmf(k, lam)
    return np.sum(pk * (stats.poisson.logpmf(k, lam) - stats.nbinom.logpmf(k, N, P)))


def exact_kl_derivative(lam, h=1e-5):
    return (exact_kl(lam + h) - exact_kl(lam - h)) / (2 * h)


OPTIMUM = optimize.brentq(exact_kl_derivative, 5.0, 100.0, xtol=1e-10)


def test_reference_optimum():
    assert OPTIMUM == pytest.approx(28.878, abs=1e-3)


def test_kl_gradient_is_unbiased():
    for lam in (5.0, 28.0):
        samples = sad.derivative_samples(kl_sample, lam, n_samples=20_000, rng=1)
        assert_unbiased(samples, exact_kl_derivative(lam))


def test_stochastic_gradient_is_the_mean_of_the_samples():
    def f(p):  # E = p0·p1, gradient (p1, p0)
        return sad.bernoulli(p[0]) * sad.poisson(p[1])

    p = np.array([0.3, 2.0])
    samples = sad.derivative_samples(f, p, n_samples=20_000, rng=4)
    assert_unbiased(samples, [2.0, 0.3])
    grad = sad.stochastic_gradient(f, p, n_samples=20_000, rng=4)
    assert grad.shape == (2,) and np.allclose(grad, samples.mean(axis=0), rtol=1e-12, atol=0)
    assert isinstance(sad.stochastic_gradient(kl_sample, 5.0, rng=0), float)


def test_sgd_reaches_the_kl_optimum():
    res = sad.optimize.sgd(kl_sample, 5.0, learning_rate=lambda t: 100 / (1 + t / 50),
                           steps=200, n_samples=2000, rng=0, bounds=(1e-6, None))
    assert res.nit == 200 and res.success
    assert abs(res.x / OPTIMUM - 1) < 0.02


def test_adam_reaches_the_kl_optimum_and_maximize_flips_the_sign():
    def neg(lam):
        return -kl_sample(lam)

    res = sad.optimize.adam(neg, 5.0, learning_rate=0.5, steps=300, n_samples=2000, rng=0,
                            maximize=True)
    assert abs(res.x / OPTIMUM - 1) < 0.02


def test_optimisers_handle_arrays_and_are_reproducible():
    # E[(K - 4)² + (p1 - 1)²] with K ~ Poisson(p0) is p0 + (p0 - 4)² + (p1 - 1)²: minimum (3.5, 1)
    def f(p):
        return (sad.poisson(p[0]) - 4.0) ** 2 + (p[1] - 1.0) ** 2

    kwargs = dict(learning_rate=lambda t: 0.5 / (1 + t / 20), steps=150, n_samples=1000)
    res = sad.optimize.adam(f, [1.0, 3.0], rng=2, **kwargs)
    again = sad.optimize.adam(f, [1.0, 3.0], rng=np.random.default_rng(2), **kwargs)
    assert np.array_equal(res.x, again.x)
    assert np.allclose(res.x, [3.5, 1.0], atol=0.15)
    res = sad.optimize.sgd(f, [1.0, 3.0], learning_rate=0.05, momentum=0.5, steps=150,
                           n_samples=1000, rng=2)
    assert np.allclose(res.x, [3.5, 1.0], atol=0.15)


def test_callback_sees_every_step_and_can_stop():
    seen = []

    def callback(step, x, gradient):
        seen.append((step, x, gradient))
        return step == 3

    res = sad.optimize.sgd(kl_sample, 5.0, learning_rate=1.0, steps=10, n_samples=10, rng=0,
                           callback=callback)
    assert [s for s, _, _ in seen] == [1, 2, 3] and res.nit == 3
    assert seen[-1][1] == res.x and "callback" in res.message
    assert seen[0][1] == pytest.approx(5.0 - seen[0][2])  # x1 = x0 - rate·g1


@pytest.mark.parametrize(("kwargs", "match"), [
    (dict(learning_rate=0.0), "learning_rate must be finite and > 0, got 0.0"),
    (dict(learning_rate=-1e-3), "-0.001"),
    (dict(learning_rate=lambda t: 1.0 - t), "got 0.0 at step 1"),
    (dict(steps=-1), "steps must be a non-negative integer, got -1"),
    (dict(momentum=1.0), "momentum must be in"),
    (dict(bounds=(2.0, 1.0)), "bounds"),
])
def test_sgd_rejects_bad_input(kwargs, match):
    base = dict(learning_rate=0.1, steps=2, n_samples=2, rng=0)
    with pytest.raises(ValueError, match=match):
        sad.optimize.sgd(kl_sample, 5.0, **{**base, **kwargs})


@pytest.mark.parametrize(("kwargs", "match"), [
    (dict(beta1=1.0), "beta1 must be in"),
    (dict(beta2=-0.1), "beta2 must be in"),
    (dict(eps=0.0), "eps must be > 0"),
])
def test_adam_rejects_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sad.optimize.adam(kl_sample, 5.0, steps=2, rng=0, **kwargs)


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="p0 must be finite"):
        sad.optimize.adam(kl_sample, np.nan, steps=1, rng=0)
    with pytest.raises(ValueError, match="not finite at step 1"), np.errstate(divide="ignore"):
        sad.optimize.sgd(lambda p: np.log(p - 1.0), 1.0, learning_rate=0.1, steps=1, rng=0)
    with pytest.raises(ValueError, match="must return a scalar"):
        sad.stochastic_gradient(lambda p: np.stack([p, p]), 1.0, rng=0)
