"""Continuous laws reparameterised as a transform of parameter-free noise."""

from __future__ import annotations

import numpy as np

from .base import Distribution

__all__ = ["ContinuousDistribution", "Exponential", "Normal", "Uniform"]


class ContinuousDistribution(Distribution):
    """A reparameterised law: ``transform(noise, *params)`` with parameter-free ``noise``.

    The dual parts and perturbations of the parameters flow through ``transform`` (numpy
    operations on triples), so a continuous draw needs no weights and no coupling of its own.
    :attr:`checks` gives, per parameter, what it must satisfy.
    """

    checks: tuple = ()
    """``(what, ok)`` per parameter: ``ok(values)`` is true where the value is valid."""

    def standard(self, rng, shape):
        """Parameter-free noise of ``shape``."""
        raise NotImplementedError

    def transform(self, noise, *params):
        """The draw from ``noise`` and the parameters."""
        raise NotImplementedError


_FINITE = ("must be finite", lambda v: np.isfinite(v))
_NON_NEGATIVE = ("must be finite and >= 0", lambda v: np.isfinite(v) & (v >= 0))


class Normal(ContinuousDistribution):
    """Normal(loc, scale) as ``loc + scale·z``."""

    name, params, numpy_method = "normal", ("loc", "scale"), "normal"
    checks = (_FINITE, _NON_NEGATIVE)

    def standard(self, rng, shape):
        return rng.standard_normal(shape)

    def transform(self, z, mu, sigma):
        return mu + sigma * z


class Exponential(ContinuousDistribution):
    """Exponential with mean ``scale`` as ``scale·e``."""

    name, params, numpy_method = "exponential", ("scale",), "exponential"
    checks = (_NON_NEGATIVE,)

    def standard(self, rng, shape):
        return rng.standard_exponential(shape)

    def transform(self, e, scale):
        return scale * e


class Uniform(ContinuousDistribution):
    """Uniform(low, high) as ``low + (high − low)·u``."""

    name, params, numpy_method = "uniform", ("low", "high"), "uniform"
    checks = (_FINITE, _FINITE)

    def standard(self, rng, shape):
        return rng.random(shape)

    def transform(self, u, a, b):
        return a + (b - a) * u
