"""The bases of continuous laws: reparameterised by a transform of parameter-free noise
(:class:`ContinuousDistribution`) or implicitly through the CDF (:class:`ImplicitDistribution`).
"""

from __future__ import annotations

import numpy as np

from ..rules import Rule
from .base import Distribution

__all__ = ["ContinuousDistribution", "ImplicitDistribution"]

# comparisons only (NaN fails each): as fast on one float as on an array (np.isfinite of a
# float costs a microsecond, a replayed draw's whole check budget)
FINITE = ("must be finite", lambda v: (v > -np.inf) & (v < np.inf))
NON_NEGATIVE = ("must be finite and >= 0", lambda v: (v >= 0) & (v < np.inf))
POSITIVE = ("must be finite and > 0", lambda v: (v > 0) & (v < np.inf))


class ContinuousDistribution(Distribution):
    """A reparameterised law: ``transform(noise, *params)`` with parameter-free ``noise``.

    The dual parts and perturbations of the parameters flow through ``transform`` (numpy
    operations on triples), so a continuous draw needs no weights and no coupling of its own.
    :attr:`checks` gives, per parameter, what it must satisfy. A law built from other laws
    (a gamma ratio, a Poisson mixture) overrides :meth:`in_run` instead.
    """

    checks: tuple = ()
    """``(what, ok)`` per parameter: ``ok(values)`` is true where the value is valid."""

    def standard(self, rng, shape):
        """Parameter-free noise of ``shape``."""
        raise NotImplementedError

    def transform(self, noise, *params):
        """The draw from ``noise`` and the parameters."""
        raise NotImplementedError

    def out_shape(self, shapes, size):
        """The draw's logical shape from the parameters' shapes and ``size`` (as numpy)."""
        return np.broadcast_shapes(*shapes, size)

    def in_run(self, within, *params):
        """The draw inside a run; ``within`` draws noise (``within.noise(standard)``) and other
        laws (``within.draw(law, *params)``) of the draw's shape, one per lane."""
        return self.transform(within.noise(self.standard), *params)


def _solve(f, target, lo, hi, start):
    """``x`` with ``f(x) = target`` for an increasing ``f`` (element by element): brackets
    grown from ``start`` by doubling steps (clipped to ``[lo, hi]``), then bisection."""
    target, start = np.broadcast_arrays(np.asarray(target, float), np.asarray(start, float))
    step = np.maximum(1.0, np.abs(start))
    a, b = np.maximum(start - step, lo), np.minimum(start + step, hi)
    for _ in range(2100):  # 2^1024 overflows: every finite bracket is reached before
        low, high = f(a) > target, f(b) < target
        if not (low.any() or high.any()):
            break
        step = np.where(low | high, 2.0 * step, step)
        a = np.where(low, np.maximum(start - step, lo), a)
        b = np.where(high, np.minimum(start + step, hi), b)
    for _ in range(200):
        mid = 0.5 * (a + b)
        done = (mid == a) | (mid == b)
        if done.all():
            break
        below = f(mid) < target
        a, b = np.where(below & ~done, mid, a), np.where(~below & ~done, mid, b)
    return 0.5 * (a + b)


class ImplicitDistribution(ContinuousDistribution):
    """A continuous law differentiated by implicit reparameterisation; subclass it to add one.

    A draw ``z`` with CDF ``F(z; θ)`` moves with the parameters along ``F(z; θ) = u`` for the
    fixed ``u`` the draw stands for (Figurnov et al. 2018): its dual part is
    ``dz/dθᵢ = −(∂F/∂θᵢ)(z) / f(z)``, and on an alternative path where ``θ`` jumps to ``θ'``
    it moves to ``F⁻¹(F(z; θ); θ')`` (inversion coupling, from the upper tail ``sf`` where
    ``F > 1/2`` for accuracy). The sampler is free (numpy's own, when it has one): only the
    law of ``z`` matters.

    A subclass gives :attr:`name`, :attr:`params`, :attr:`checks` and :meth:`cdf`. The
    defaults, to override with closed forms where known: :meth:`sample` inverts a uniform,
    :meth:`pdf` and :meth:`cdf_derivative` are central differences of the CDF (about 1e-9
    relative; the parameter derivative differentiates ``sf = 1 − F`` in the upper half),
    :meth:`ppf` and :meth:`isf` solve by bisection within :attr:`support`.

    Examples
    --------
    The Kumaraswamy law on (0, 1), ``F(x; a, b) = 1 − (1 − xᵃ)ᵇ``, from its CDF alone:
    ``E[X] = b·B(1 + 1/a, b)``, whose derivative in ``a`` at ``a = 2, b = 3`` is 0.15456:

    >>> import numpy as np, stochad as sad
    >>> from stochad.distributions.continuous import POSITIVE
    >>> class Kumaraswamy(sad.ImplicitDistribution):
    ...     name, params, checks, support = "kumaraswamy", ("a", "b"), (POSITIVE,) * 2, (0, 1)
    ...     def cdf(self, x, a, b):
    ...         with np.errstate(divide="ignore"):  # log(0) at x = 1: F = 1
    ...             return -np.expm1(b * np.log1p(-np.clip(x, 0, 1) ** a))
    >>> law = Kumaraswamy()
    >>> est = sad.derivative_estimate(lambda a: sad.draw(law, a, 3.0), 2.0,
    ...                               n_samples=20_000, rng=0)
    >>> abs(est - 0.15456) < 0.005
    True
    """

    support = (-np.inf, np.inf)
    """The interval the law lives on (the bisection's bounds)."""

    def in_run(self, within, *params):
        return within.implicit(self, *params)

    def sample(self, rng, params, shape):
        """Plain draws of ``shape`` (default: the inversion of uniforms)."""
        return self.ppf(rng.random(shape), *params)

    def cdf(self, x, *params):
        """``P(X <= x)``."""
        raise NotImplementedError(f"{type(self).__name__} must define cdf(x, *params)")

    def sf(self, x, *params):
        """``P(X > x)`` (override where ``1 − cdf`` loses the upper tail)."""
        return 1.0 - self.cdf(x, *params)

    def pdf(self, x, *params):
        """The density, by a central difference of the CDF (override with the closed form)."""
        h = 1e-6 * np.maximum(1.0, np.abs(x))
        return (self.cdf(x + h, *params) - self.cdf(x - h, *params)) / (2.0 * h)

    def cdf_derivative(self, i, x, *params):
        """``∂F(x; θ)/∂θᵢ`` by a central difference: of ``F`` where ``F <= 1/2``, of
        ``−sf`` above, so that both tails keep their relative accuracy; the step is relative
        to ``θᵢ`` (1e-5 of it; 1e-5 at 0), so a small positive parameter stays positive."""
        def at(func, t):
            moved = list(params)
            moved[i] = t
            return func(x, *moved)

        if type(x) is float and all(type(v) is float for v in params):
            # one draw (the replay engine's hot path): only the tail that is used, no arrays
            h = 1e-5 * (abs(params[i]) if params[i] != 0.0 else 1.0)
            up, down = params[i] + h, params[i] - h
            if self.cdf(x, *params) <= 0.5:
                return float(at(self.cdf, up) - at(self.cdf, down)) / (2.0 * h)
            return -float(at(self.sf, up) - at(self.sf, down)) / (2.0 * h)
        theta = np.asarray(params[i], dtype=np.float64)
        h = 1e-5 * np.where(theta != 0, np.abs(theta), 1.0)
        lower = self.cdf(x, *params) <= 0.5
        d_cdf = (at(self.cdf, theta + h) - at(self.cdf, theta - h)) / (2.0 * h)
        d_sf = (at(self.sf, theta + h) - at(self.sf, theta - h)) / (2.0 * h)
        return np.where(lower, d_cdf, -d_sf)

    def ppf(self, u, *params):
        """The ``x`` with ``cdf(x) = u`` (default: bisection)."""
        return _solve(lambda x: self.cdf(x, *params), u, *self.support,
                      start=np.clip(0.0, *self.support))

    def isf(self, q, *params):
        """The ``x`` with ``sf(x) = q`` (default: bisection)."""
        return _solve(lambda x: -self.sf(x, *params), -np.asarray(q), *self.support,
                      start=np.clip(0.0, *self.support))

    def moved(self, z, old, new):
        """The draw ``z`` of parameters ``old`` carried to parameters ``new`` by inversion:
        ``F⁻¹(F(z; old); new)``, through the upper tail where ``F > 1/2``."""
        u = self.cdf(z, *old)
        upper = u > 0.5
        out = np.empty(np.shape(z))
        if upper.any():
            out[upper] = self.isf(self.sf(z[upper], *(p[upper] for p in old)),
                                  *(p[upper] for p in new))
        if (~upper).any():
            out[~upper] = self.ppf(u[~upper], *(p[~upper] for p in new))
        return out

    def rule(self) -> Rule:
        """The propagation rule ``(z, *θ₀, *θ) ↦ z'``: the draw ``z`` made at ``θ₀``, seen at
        ``θ`` (``z`` itself where ``θ = θ₀``); its partials in ``θ`` are
        ``−(∂F/∂θᵢ)(z) / f(z)`` at ``θ₀``."""
        n = len(self.params)

        def func(z, *thetas):
            z, *arrays = np.broadcast_arrays(z, *thetas)
            old, new = arrays[:n], arrays[n:]
            moved = np.zeros(z.shape, dtype=bool)
            for a, b in zip(old, new, strict=True):
                moved |= a != b
            if not moved.any():
                return z
            out = np.array(z, dtype=np.float64)
            out[moved] = self.moved(z[moved], [a[moved] for a in old], [b[moved] for b in new])
            return out

        def partial(i):
            def d(z, *args):
                old = args[:n]
                return -self.cdf_derivative(i, z, *old) / self.pdf(z, *old)
            return d

        return Rule(func, (None,) * (1 + n) + tuple(partial(i) for i in range(n)),
                    mask_partials=True)
