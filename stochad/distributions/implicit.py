"""Continuous laws with no smooth map from parameter-free noise, differentiated by implicit
reparameterisation (:class:`~stochad.distributions.ImplicitDistribution`). They sample with
numpy's own algorithms."""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from .base import scalar_if_constant
from .continuous import FINITE, POSITIVE, ImplicitDistribution

__all__ = ["StandardGamma", "Triangular", "VonMises", "Wald"]


class StandardGamma(ImplicitDistribution):
    """Gamma(shape, 1): ``F = P(shape, x)``, the regularised lower incomplete gamma function.

    ``∂F/∂shape`` has no closed form: the central difference of ``P`` (lower half) or of
    ``Q = 1 − P`` (upper half), both accurate to ~1e-15 relative in scipy, is accurate to
    ~1e-9 relative."""

    name, params, numpy_method = "standard_gamma", ("shape",), "standard_gamma"
    checks, support = (POSITIVE,), (0.0, np.inf)

    def sample(self, rng, params, shape):
        return rng.standard_gamma(scalar_if_constant(params[0]), shape)

    def cdf(self, x, a):
        return special.gammainc(a, np.maximum(x, 0.0))

    def sf(self, x, a):
        return special.gammaincc(a, np.maximum(x, 0.0))

    def pdf(self, x, a):
        return np.exp(special.xlogy(a - 1.0, x) - x - special.gammaln(a))

    def ppf(self, u, a):
        return special.gammaincinv(a, u)

    def isf(self, q, a):
        return special.gammainccinv(a, q)


class Wald(ImplicitDistribution):
    """Inverse Gaussian of mean ``mean`` and shape ``scale`` (numpy's names); numpy's
    sampler (Michael, Schucany & Haas) is not a smooth map of its noise, so the draw is
    differentiated through scipy's ``invgauss`` CDF."""

    name, params, numpy_method = "wald", ("mean", "scale"), "wald"
    checks, support = (POSITIVE, POSITIVE), (0.0, np.inf)

    def sample(self, rng, params, shape):
        return rng.wald(*(scalar_if_constant(p) for p in params), shape)

    @staticmethod
    def _law(mean, scale):
        return stats.invgauss(mean / scale, scale=scale)

    def cdf(self, x, mean, scale):
        return self._law(mean, scale).cdf(x)

    def sf(self, x, mean, scale):
        return self._law(mean, scale).sf(x)

    def pdf(self, x, mean, scale):
        return self._law(mean, scale).pdf(x)

    def ppf(self, u, mean, scale):
        return self._law(mean, scale).ppf(u)

    def isf(self, q, mean, scale):
        return self._law(mean, scale).isf(q)


class VonMises(ImplicitDistribution):
    """von Mises on ``[-π, π]`` around ``mu``, concentration ``kappa`` (as numpy's, the draw
    is wrapped into ``[-π, π]``): ``F(x) = G(x − mu) − G(−π − mu)`` with ``G`` scipy's
    unwrapped CDF, so ``∂F/∂mu = g(−π − mu) − g(x − mu)`` counts the mass crossing ``±π``."""

    name, params, numpy_method = "vonmises", ("mu", "kappa"), "vonmises"
    checks, support = (FINITE, POSITIVE), (-np.pi, np.pi)

    def sample(self, rng, params, shape):
        return rng.vonmises(*(scalar_if_constant(p) for p in params), shape)

    def cdf(self, x, mu, kappa):
        return stats.vonmises.cdf(x - mu, kappa) - stats.vonmises.cdf(-np.pi - mu, kappa)

    def pdf(self, x, mu, kappa):
        return stats.vonmises.pdf(x - mu, kappa)

    def cdf_derivative(self, i, x, mu, kappa):
        if i == 0:
            return self.pdf(-np.pi, mu, kappa) - self.pdf(x, mu, kappa)
        return super().cdf_derivative(i, x, mu, kappa)


class Triangular(ImplicitDistribution):
    """Triangular on ``[left, right]`` with mode ``mode``: closed-form CDF and inverse."""

    name, params, numpy_method = "triangular", ("left", "mode", "right"), "triangular"
    checks = (FINITE, FINITE, FINITE)

    def validate_order(self, left, mode, right, where=""):
        if np.any((left > mode) | (mode > right) | (left == right)):
            raise ValueError(f"triangular: need left <= mode <= right and left < right{where}")

    def sample(self, rng, params, shape):
        self.validate_order(*params)
        return rng.triangular(*(scalar_if_constant(p) for p in params), shape)

    def cdf(self, x, a, c, b):
        x = np.clip(x, a, b)
        with np.errstate(divide="ignore", invalid="ignore"):
            rising = (x - a) ** 2 / ((b - a) * (c - a))
            falling = 1.0 - (b - x) ** 2 / ((b - a) * (b - c))
        return np.where(x <= c, np.nan_to_num(rising), np.nan_to_num(falling, nan=1.0))

    def pdf(self, x, a, c, b):
        x, a, c, b = (np.asarray(v, dtype=float) for v in (x, a, c, b))
        with np.errstate(divide="ignore", invalid="ignore"):  # c = a or c = b: one side only
            rising = 2 * (x - a) / ((b - a) * (c - a))
            falling = 2 * (b - x) / ((b - a) * (b - c))
        inside = np.where(x < c, rising, np.where(x > c, falling, 2 / (b - a)))
        return np.where((x >= a) & (x <= b), inside, 0.0)  # 0 outside the triangle

    def ppf(self, u, a, c, b):
        self.validate_order(a, c, b, " (on the alternative path of a perturbation)")
        split = (c - a) / (b - a)
        return np.where(u <= split, a + np.sqrt(u * (b - a) * (c - a)),
                        b - np.sqrt((1.0 - u) * (b - a) * (b - c)))

    def isf(self, q, a, c, b):
        return self.ppf(1.0 - q, a, c, b)
