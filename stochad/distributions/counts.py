"""The built-in discrete laws on counts: closed forms and numba kernels over the generic
:class:`~stochad.distributions.DiscreteDistribution`."""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from .. import kernels
from ..lanes import flat_rows
from .base import (
    ON_ALTERNATIVE,
    UNIT_INTERVAL,
    check,
    fail,
    in_unit_interval,
    ratio,
    scalar_if_constant,
)
from .discrete import DiscreteDistribution

__all__ = ["Bernoulli", "Binomial", "Geometric", "Hypergeometric", "Logseries", "NegativeBinomial",
           "Poisson", "Zipf"]


class Bernoulli(DiscreteDistribution):
    """1 with probability ``p``, else 0."""

    name, params, numpy_method = "bernoulli", ("p",), None
    kind = kernels.BERNOULLI

    def validate(self, params, where=""):
        in_unit_interval(self.name, params[0], where)

    def sample(self, rng, params, shape):
        u = rng.random(shape)
        return (u < params[0]).astype(np.int64), u

    def score(self, k, values, deltas):
        (p,), (d,) = values, deltas
        if d is None:
            return np.zeros(k.shape)
        return (ratio(k, p) - ratio(1 - k, 1 - p)) * d

    def coupled_jump(self, rng, k, state, params, jumps):
        """``[u < p + Δ] - [u < p]`` in one pass (:func:`stochad.kernels.bernoulli_coupled`)
        instead of the generic shift, validation, comparison and difference."""
        p = flat_rows(params[0], k.shape, np.float64).reshape(-1)
        dp = flat_rows(jumps[0], k.shape, np.float64).reshape(-1)
        jump = np.empty(k.shape)
        bad = kernels.bernoulli_coupled(state.reshape(-1), p, dp, jump.reshape(-1))
        if bad >= 0:
            fail(self.name, UNIT_INTERVAL, np.asarray(p[bad] + dp[bad]), ON_ALTERNATIVE)
        return jump


class Geometric(DiscreteDistribution):
    """Number of trials up to the first success (numpy's convention: k >= 1)."""

    name, params, numpy_method = "geometric", ("p",), "geometric"
    kind = kernels.GEOMETRIC
    support_min = 1

    def validate(self, params, where=""):
        in_unit_interval(self.name, params[0], where, open_low=True)

    @staticmethod
    def _invert(u, p):
        with np.errstate(divide="ignore", invalid="ignore"):
            k = np.ceil(np.log1p(-u) / np.log1p(-p))
        k = np.maximum(np.nan_to_num(k, nan=1.0), 1)
        big = k >= 2.0**63  # beyond int64 (p ~ 1e-20): saturate, as numpy's sampler does
        return np.where(big, np.iinfo(np.int64).max, np.where(big, 1, k).astype(np.int64))

    def sample(self, rng, params, shape):
        u = rng.random(shape)
        return self._invert(u, params[0]), u

    def alternative(self, rng, k, state, params, alt_params, jumps):
        return self._invert(state, alt_params[0])

    def score(self, k, values, deltas):
        (p,), (d,) = values, deltas
        if d is None:
            return np.zeros(k.shape)
        return (1.0 / p - ratio(k - 1, 1 - p)) * d


class _WalkCoupled(DiscreteDistribution):
    """Draws with numpy's fast sampler, coupled by an inverse-CDF walk when a parameter moves
    (:func:`stochad.kernels.invert_coupled`)."""

    walk: int  # kernels.invert_coupled: 0 Poisson, 1 Binomial
    walks = True

    def _walk_params(self, params):
        raise NotImplementedError

    def alternative(self, rng, k, state, params, alt_params, jumps):
        moved = np.zeros(k.shape, dtype=bool)
        for j in jumps:
            if j is not None:
                moved |= j != 0
        count = np.count_nonzero(moved)
        if not count:
            return k.copy()

        def flat(x, dtype=np.float64):
            return np.ascontiguousarray(np.broadcast_to(x, k.shape), dtype).reshape(-1)

        # whole arrays and the mask: the kernel skips the elements that do not move, which
        # costs less than gathering the moved ones (typically most of them) and scattering back
        coupled = kernels.invert_coupled(
            self.walk, flat(k, np.int64), rng.random(count),
            *(flat(x) for x in self._walk_params(params)),
            *(flat(x) for x in self._walk_params(alt_params)),
            None if count == moved.size else flat(moved, np.bool_))
        return coupled.reshape(k.shape)


class Poisson(_WalkCoupled):
    """Poisson law of rate ``lam``."""

    name, params, numpy_method = "poisson", ("lam",), "poisson"
    kind = kernels.POISSON
    walk = 0

    def validate(self, params, where=""):
        check(self.name, "the rate lam must be finite and >= 0", params[0],
               lambda v: np.isfinite(v) & (v >= 0), where)

    def sample(self, rng, params, shape):
        return rng.poisson(scalar_if_constant(params[0]), shape), None

    def _walk_params(self, new):
        return new[0], new[0]  # the kernel ignores the second parameter of a Poisson law

    def score(self, k, values, deltas):
        (lam,), (d,) = values, deltas
        if d is None:
            return np.zeros(k.shape)
        return (ratio(k, lam) - 1.0) * d


class Binomial(_WalkCoupled):
    """Number of successes in ``n`` trials of probability ``p``."""

    name, params, numpy_method = "binomial", ("n", "p"), "binomial"
    kind = kernels.BINOMIAL
    walk = 1

    def validate(self, params, where=""):
        check(self.name, "n must be a non-negative integer", params[0],
               lambda v: np.isfinite(v) & (v >= 0) & (v == np.floor(v)), where)
        in_unit_interval(self.name, params[1], where)

    def sample(self, rng, params, shape):
        n, p = (scalar_if_constant(x) for x in params)
        return rng.binomial(np.asarray(n).astype(np.int64), p, shape), None

    def check_deltas(self, deltas):
        dn = deltas[0]
        if dn is not None and np.any(dn != 0):
            raise ValueError(
                "binomial: the number of trials n cannot carry a dual part (it is an integer); "
                "only finite perturbations of n (from discrete draws) are supported"
            )

    def _walk_params(self, new):
        return new[0], new[1]

    def score(self, k, values, deltas):
        (n, p), (_, d) = values, deltas
        if d is None:
            return np.zeros(k.shape)
        return (ratio(k, p) - ratio(n - k, 1 - p)) * d



def _integers(name, label, values, where):
    check(name, f"{label} must be a non-negative integer", values,
          lambda v: np.isfinite(v) & (v >= 0) & (v == np.floor(v)), where)


class _NumpySampled(DiscreteDistribution):
    """A law drawn by numpy's sampler (its :attr:`numpy_method`), coupled by the generic
    inversion walk from the drawn value (the uniform it stands for is drawn given ``k``)."""

    walks = True

    def sample(self, rng, params, shape):
        return getattr(rng, self.numpy_method)(*(scalar_if_constant(p) for p in params),
                                               shape), None


class NegativeBinomial(_NumpySampled):
    """Failures before the ``n``-th success of probability ``p`` (numpy's convention; ``n``
    real > 0): ``F(k) = I_p(n, k + 1)``, the regularised incomplete beta function."""

    name, params, numpy_method = "negative_binomial", ("n", "p"), "negative_binomial"

    def validate(self, params, where=""):
        check(self.name, "n must be finite and > 0", params[0],
              lambda v: np.isfinite(v) & (v > 0), where)
        check(self.name, "p must be in (0, 1]", params[1], lambda v: (v > 0) & (v <= 1), where)

    def cdf(self, k, n, p):
        return np.where(k >= 0, special.betainc(n, np.maximum(k, 0) + 1.0, p), 0.0)

    def pmf(self, k, n, p):
        return stats.nbinom.pmf(k, n, p)

    def cdf_derivative(self, i, k, n, p):
        if i == 0:
            return super().cdf_derivative(i, k, n, p)
        # d/dp I_p(n, k + 1) = p^(n-1) (1 - p)^k / B(n, k + 1)
        kk = np.maximum(k, 0)
        return np.where(k >= 0, np.exp(special.xlogy(n - 1.0, p) + special.xlog1py(kk, -p)
                                       - special.betaln(n, kk + 1.0)), 0.0)


class Zipf(_NumpySampled):
    """``P(k) = k^(-a) / ζ(a)`` for ``k >= 1``: ``1 − F(k) = ζ(a, k + 1) / ζ(a)``."""

    name, params, numpy_method, support_min = "zipf", ("a",), "zipf", 1

    def validate(self, params, where=""):
        check(self.name, "a must be finite and > 1", params[0],
              lambda v: np.isfinite(v) & (v > 1), where)

    def sf(self, k, a):
        return np.where(k >= 1, special.zeta(a, np.maximum(k, 0) + 1.0) / special.zeta(a), 1.0)

    def cdf(self, k, a):
        return 1.0 - self.sf(k, a)

    def pmf(self, k, a):
        return np.where(k >= 1, np.maximum(k, 1) ** -a / special.zeta(a), 0.0)

    def cdf_derivative(self, i, k, a):
        # -d sf/da: the upper tail keeps its relative accuracy where F is near 1
        h = 1e-6 * np.maximum(1.0, np.abs(a))
        return -(self.sf(k, a + h) - self.sf(k, a - h)) / (2.0 * h)


class Logseries(_NumpySampled):
    """``P(k) = -p^k / (k·log(1 − p))`` for ``k >= 1``; the CDF is the partial sum."""

    name, params, numpy_method, support_min = "logseries", ("p",), "logseries", 1

    def validate(self, params, where=""):
        check(self.name, "p must be in (0, 1)", params[0], lambda v: (v > 0) & (v < 1), where)

    def pmf(self, k, p):
        kk = np.maximum(k, 1)
        return np.where(k >= 1, np.exp(kk * np.log(p)) / (kk * -np.log1p(-p)), 0.0)

    def cdf(self, k, p):
        k, p = np.broadcast_arrays(np.asarray(k), np.asarray(p, dtype=np.float64))
        total, power = np.zeros(k.shape), np.ones(k.shape)
        for j in range(1, int(k.max(initial=0)) + 1):
            power = power * p
            total += np.where(j <= k, power / j, 0.0)
        return total / -np.log1p(-p)


class Hypergeometric(_NumpySampled):
    """Good items among ``nsample`` drawn without replacement from ``ngood`` good and ``nbad``
    bad ones. The parameters are integers: they can move by finite perturbations (discrete
    draws), coupled by inversion, but cannot carry a dual part."""

    name, numpy_method = "hypergeometric", "hypergeometric"
    params = ("ngood", "nbad", "nsample")

    def validate(self, params, where=""):
        for label, values in zip(self.params, params, strict=True):
            _integers(self.name, label, values, where)
        ngood, nbad, nsample = (np.asarray(p) for p in params)
        over = nsample > ngood + nbad
        if np.any(over):
            fail(self.name, f"nsample must be <= ngood + nbad = "
                 f"{np.broadcast_to(ngood + nbad, over.shape)[over].reshape(-1)[0].item()!r}",
                 np.broadcast_to(nsample, over.shape)[over], where)

    def sample(self, rng, params, shape):
        ints = (np.asarray(scalar_if_constant(p)).astype(np.int64) for p in params)
        return rng.hypergeometric(*ints, shape), None

    def check_deltas(self, deltas):
        for label, d in zip(self.params, deltas, strict=True):
            if d is not None and np.any(d != 0):
                raise ValueError(
                    f"hypergeometric: {label} cannot carry a dual part (it is an integer); only "
                    "finite perturbations (from discrete draws) are supported")

    def cdf(self, k, ngood, nbad, nsample):
        return stats.hypergeom.cdf(k, ngood + nbad, ngood, nsample)

    def pmf(self, k, ngood, nbad, nsample):
        return stats.hypergeom.pmf(k, ngood + nbad, ngood, nsample)
