"""The built-in discrete laws on counts: closed forms and numba kernels over the generic
:class:`~stochad.distributions.DiscreteDistribution`."""

from __future__ import annotations

import numpy as np

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

__all__ = ["Bernoulli", "Binomial", "Geometric", "Poisson"]


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
        return np.maximum(np.nan_to_num(k, nan=1.0), 1).astype(np.int64)

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

