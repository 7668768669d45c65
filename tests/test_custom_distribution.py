"""A distribution of the user's own: subclass sad.DiscreteDistribution (or
sad.ImplicitDistribution for a continuous law), give its CDF, and the weights, coupling and
score (the implicit derivative and inversion coupling) come generically (issues 9, 11).
Checked against exact enumeration and quadrature."""

import numpy as np
import pytest
from conftest import assert_unbiased, central_difference
from scipy import integrate, special, stats

import stochad as sad

N = 40_000


class ZeroTruncatedPoisson(sad.DiscreteDistribution):
    """Poisson(λ) conditioned on K >= 1: the size of a cluster that is seen at all."""

    name, params, support_min = "zero-truncated poisson", ("lam",), 1

    def cdf(self, k, lam):
        seen = -np.expm1(-lam)
        return np.clip((special.pdtr(k, lam) - np.exp(-lam)) / seen, 0.0, 1.0) * (k >= 1)


class PoissonByCdf(sad.DiscreteDistribution):
    """The built-in Poisson law, rebuilt from its CDF alone."""

    name, params = "poisson by cdf", ("lam",)

    def cdf(self, k, lam):
        return np.where(k >= 0, special.pdtr(k, lam), 0.0)


ZTP = ZeroTruncatedPoisson()
K = np.arange(1, 80)


def _ztp_pmf(lam):
    return stats.poisson.pmf(K, lam) / -np.expm1(-lam)


def _ztp_mean_of(g, lam, h=1e-5):
    """d/dλ E[g(K)] for K zero-truncated Poisson(λ), by enumeration (central difference of
    the exact sum, accurate to ~1e-9)."""
    return (np.sum(g(K) * _ztp_pmf(lam + h)) - np.sum(g(K) * _ztp_pmf(lam - h))) / (2 * h)


def test_the_generic_sampler_draws_the_law():
    draws = sad.draw(ZTP, 2.0, size=50_000, rng=0)
    assert draws.min() >= 1
    expected = 2.0 / -np.expm1(-2.0)
    assert abs(draws.mean() - expected) < 5 * draws.std() / np.sqrt(draws.size)


@pytest.mark.parametrize("options", [{"backend": "pruned"}, {"backend": "exact"},
                                     {"estimator": "score"}],
                         ids=["pruned", "exact", "score"])
def test_a_user_law_is_unbiased_for_a_nonlinear_program(options):
    # a cluster of K members costs K² (pairwise contacts)
    samples = sad.derivative_samples(lambda lam: sad.draw(ZTP, lam) ** 2, 2.0, n_samples=N,
                                     rng=1, **options)
    assert_unbiased(samples, _ztp_mean_of(lambda k: k**2, 2.0))


def test_a_user_law_couples_to_a_perturbed_parameter():
    # the rate itself is a discrete draw: λ' = 1 + Poisson(p), so the law's parameter carries
    # a finite perturbation, and the generic inversion coupling moves the draw along it
    def program(p):
        return sad.draw(ZTP, 1.0 + sad.poisson(p)) ** 2

    n = np.arange(0, 60)
    g = np.array([np.sum(K**2 * _ztp_pmf(1.0 + m)) for m in n])
    dpmf = stats.poisson.pmf(n - 1, 1.5) - stats.poisson.pmf(n, 1.5)
    exact = float(np.sum(dpmf * g))
    for backend in ("pruned", "exact"):
        samples = sad.derivative_samples(program, 1.5, n_samples=N, rng=2, backend=backend)
        assert_unbiased(samples, exact)


def test_a_law_rebuilt_from_its_cdf_gets_the_builtin_weights():
    # Poisson: one jump up, weight 1 per unit of dλ, in every sample (numerically: the CDF's
    # derivative is a central difference)
    samples = sad.derivative_samples(lambda lam: sad.draw(PoissonByCdf(), lam), 3.0,
                                     n_samples=200, rng=3)
    np.testing.assert_allclose(samples, 1.0, rtol=1e-6)
    score = PoissonByCdf().score(np.array([0, 2, 5]), [np.full(3, 2.0)], [np.ones(3)])
    np.testing.assert_allclose(score, sad.distributions.Poisson().score(
        np.array([0, 2, 5]), [np.full(3, 2.0)], [np.ones(3)]), rtol=1e-6, atol=1e-8)


def test_a_user_law_validates_nothing_unless_it_says_so_but_needs_a_cdf():
    class NoCdf(sad.DiscreteDistribution):
        name, params = "no cdf", ("p",)

    with pytest.raises(NotImplementedError, match="must define cdf"):
        sad.draw(NoCdf(), 0.5, rng=0)


def test_a_cdf_that_never_reaches_one_is_an_error_not_a_hang():
    class Defective(sad.DiscreteDistribution):
        name, params, max_walk = "defective", ("p",), 50

        def cdf(self, k, p):
            return np.where(k >= 0, 0.5 * p, 0.0)  # mass 1 - p/2 is missing

    with pytest.raises(ValueError, match="defective: the CDF does not reach"):
        sad.draw(Defective(), 0.5, size=100, rng=0)


class Kumaraswamy(sad.ImplicitDistribution):
    """A continuous law of the user's own on (0, 1), from its CDF 1 − (1 − xᵃ)ᵇ alone: the
    density, ∂F/∂θ and the inverse are the generic numerical defaults."""

    name, params, support = "kumaraswamy", ("a", "b"), (0.0, 1.0)
    checks = (("must be > 0", lambda v: v > 0),) * 2

    def cdf(self, x, a, b):
        with np.errstate(divide="ignore"):
            return -np.expm1(b * np.log1p(-np.clip(x, 0.0, 1.0) ** a))


def _kumaraswamy_mean_of(g, a, b):
    """E[g(X)] by quadrature of the density a·b·x^(a-1)·(1 - x^a)^(b-1)."""
    return integrate.quad(lambda x: g(x) * a * b * x ** (a - 1) * (1 - x**a) ** (b - 1),
                          0.0, 1.0, epsabs=1e-13)[0]


@pytest.mark.parametrize("which", [0, 1], ids=["a", "b"])
def test_a_user_continuous_law_is_unbiased(which):
    def program(t):
        params = (t, 3.0) if which == 0 else (2.0, t)
        return np.sqrt(sad.draw(Kumaraswamy(), *params))

    theta = 2.0 if which == 0 else 3.0
    exact = central_difference(lambda t: _kumaraswamy_mean_of(
        np.sqrt, *((t, 3.0) if which == 0 else (2.0, t))), theta, h=1e-4)
    assert_unbiased(sad.derivative_samples(program, theta, n_samples=N, rng=4), exact)


def test_a_user_continuous_law_couples_to_a_discrete_parameter():
    # a = 1 + Poisson(p): the draw moves to F⁻¹(F(x; a); a') along each jump of a
    def program(p):
        return sad.draw(Kumaraswamy(), 1.0 + sad.poisson(p), 3.0) ** 2

    m = np.arange(0, 40)
    g = np.array([_kumaraswamy_mean_of(np.square, 1.0 + k, 3.0) for k in m])
    exact = float(np.sum((stats.poisson.pmf(m - 1, 1.5) - stats.poisson.pmf(m, 1.5)) * g))
    for backend in ("pruned", "exact"):
        samples = sad.derivative_samples(program, 1.5, n_samples=N, rng=5, backend=backend)
        assert_unbiased(samples, exact)


def test_a_user_continuous_law_samples_by_inversion_outside_a_run():
    x = sad.draw(Kumaraswamy(), 2.0, 3.0, size=20_000, rng=0)
    expected = _kumaraswamy_mean_of(lambda v: v, 2.0, 3.0)
    assert abs(x.mean() - expected) < 5 * x.std() / np.sqrt(x.size)
    with pytest.raises(ValueError, match="kumaraswamy: a must be > 0, got -1.0"):
        sad.draw(Kumaraswamy(), -1.0, 3.0, rng=0)
