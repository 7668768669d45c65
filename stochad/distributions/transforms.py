"""Continuous laws that are smooth transforms of parameter-free noise: each draws the noise
numpy's own algorithm draws, so a run's numbers follow numpy's recipe for the law."""

from __future__ import annotations

import numpy as np

from .continuous import FINITE, NON_NEGATIVE, POSITIVE, ContinuousDistribution

__all__ = ["Exponential", "Gumbel", "Laplace", "Logistic", "Lognormal", "Normal", "Pareto",
           "Power", "Rayleigh", "StandardCauchy", "Uniform", "Weibull"]


class Normal(ContinuousDistribution):
    """Normal(loc, scale) as ``loc + scale·z``."""

    name, params, numpy_method = "normal", ("loc", "scale"), "normal"
    checks = (FINITE, NON_NEGATIVE)

    def standard(self, rng, shape):
        return rng.standard_normal(shape)

    def transform(self, z, mu, sigma):
        return mu + sigma * z


class Exponential(ContinuousDistribution):
    """Exponential with mean ``scale`` as ``scale·e``."""

    name, params, numpy_method = "exponential", ("scale",), "exponential"
    checks = (NON_NEGATIVE,)

    def standard(self, rng, shape):
        return rng.standard_exponential(shape)

    def transform(self, e, scale):
        return scale * e


class Uniform(ContinuousDistribution):
    """Uniform(low, high) as ``low + (high − low)·u``."""

    name, params, numpy_method = "uniform", ("low", "high"), "uniform"
    checks = (FINITE, FINITE)

    def standard(self, rng, shape):
        return rng.random(shape)

    def transform(self, u, a, b):
        return a + (b - a) * u


class _LocationScale(ContinuousDistribution):
    """``loc + scale·e`` with ``e`` from the standard law (:meth:`standard`)."""

    params, checks = ("loc", "scale"), (FINITE, NON_NEGATIVE)

    def transform(self, e, loc, scale):
        return loc + scale * e


class Lognormal(_LocationScale):
    """``exp(mean + sigma·z)``, as numpy's ``lognormal(mean, sigma)``."""

    name, params, numpy_method = "lognormal", ("mean", "sigma"), "lognormal"

    def standard(self, rng, shape):
        return rng.standard_normal(shape)

    def transform(self, z, mean, sigma):
        return np.exp(mean + sigma * z)


class Logistic(_LocationScale):
    """``loc + scale·log(u / (1 − u))``."""

    name, numpy_method = "logistic", "logistic"

    def standard(self, rng, shape):
        u = rng.random(shape)
        with np.errstate(divide="ignore"):
            return np.log(u / (1.0 - u))


class Gumbel(_LocationScale):
    """``loc − scale·log(−log(1 − u))``."""

    name, numpy_method = "gumbel", "gumbel"

    def standard(self, rng, shape):
        with np.errstate(divide="ignore"):
            return -np.log(-np.log1p(-rng.random(shape)))


class Laplace(_LocationScale):
    """``loc + scale·e`` with ``e`` the inversion of a uniform (numpy's recipe)."""

    name, numpy_method = "laplace", "laplace"

    def standard(self, rng, shape):
        u = rng.random(shape)
        with np.errstate(divide="ignore"):
            return np.where(u >= 0.5, -np.log(2.0 - 2.0 * u), np.log(2.0 * u))


class Rayleigh(ContinuousDistribution):
    """``scale·sqrt(2e)`` with ``e`` standard exponential."""

    name, params, numpy_method = "rayleigh", ("scale",), "rayleigh"
    checks = (NON_NEGATIVE,)

    def standard(self, rng, shape):
        return np.sqrt(2.0 * rng.standard_exponential(shape))

    def transform(self, e, scale):
        return scale * e


class Weibull(ContinuousDistribution):
    """``e^(1/a)`` with ``e`` standard exponential (scale 1, as numpy)."""

    name, params, numpy_method = "weibull", ("a",), "weibull"
    checks = (POSITIVE,)

    def standard(self, rng, shape):
        return rng.standard_exponential(shape)

    def transform(self, e, a):
        return e ** (1.0 / a)


class Pareto(ContinuousDistribution):
    """Pareto II (Lomax, as numpy): ``expm1(e / a)`` with ``e`` standard exponential."""

    name, params, numpy_method = "pareto", ("a",), "pareto"
    checks = (POSITIVE,)

    def standard(self, rng, shape):
        return rng.standard_exponential(shape)

    def transform(self, e, a):
        return np.expm1(e / a)


class Power(ContinuousDistribution):
    """``v^(1/a)`` with ``v = 1 − exp(−e)`` uniform (numpy's recipe)."""

    name, params, numpy_method = "power", ("a",), "power"
    checks = (POSITIVE,)

    def standard(self, rng, shape):
        return -np.expm1(-rng.standard_exponential(shape))

    def transform(self, v, a):
        return v ** (1.0 / a)


class StandardCauchy(ContinuousDistribution):
    """Standard Cauchy noise: no parameter, hence no derivative of its own."""

    name, params, numpy_method = "standard_cauchy", (), "standard_cauchy"

    def standard(self, rng, shape):
        return rng.standard_cauchy(shape)

    def transform(self, c):
        return c
