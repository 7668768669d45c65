"""Distributions: one class per law, carrying everything stochad needs to know about it.

A law is one class: its parameters' names and validation, its sampler, the new perturbation its
parameters' dual parts create (the weights of docs/design.md §1), its score ``∂ log P`` (for
``estimator="score"``), its inversion coupling and the name of its numpy ``Generator`` method.
:class:`DiscreteDistribution` is the public base class: a subclass that gives a CDF gets all of
that generically (see its docstring); the built-in laws replace the generic methods with closed
forms and numba kernels (:mod:`stochad.kernels`). The draws themselves -- triples, backends,
runs -- are :mod:`stochad.samplers`' business: this module works on plain lanes-first arrays.
"""

from __future__ import annotations

import numpy as np

from . import kernels
from .lanes import broadcast, flat_rows, shifted

__all__ = ["Bernoulli", "Binomial", "Categorical", "ContinuousDistribution",
           "DiscreteDistribution", "Distribution", "Exponential", "Geometric", "Normal",
           "Poisson", "Uniform"]


def _ratio(count, denominator):
    """``count / denominator`` with 0 where ``count`` is 0 (the term is absent there)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(count > 0, count / denominator, 0.0)


def _fail(name: str, what: str, bad: np.ndarray, where: str):
    raise ValueError(f"{name}: {what}, got {np.asarray(bad).reshape(-1)[0].item()!r}{where}")


def _check(name, what, values, ok, where):
    values = np.asarray(values)
    if values.size and not np.all(ok(values)):
        _fail(name, what, values[~ok(values)], where)


def _scalar_if_constant(x):
    """The single value of ``x`` if it is one number broadcast (every stride 0), else ``x``:
    numpy samples a scalar parameter about 12% faster than an array of copies of it, and
    gives the same numbers."""
    x = np.asarray(x)
    return x.reshape(-1)[0] if x.size and not any(x.strides) else x


_UNIT_INTERVAL = "p must be in [0, 1]"
_ON_ALTERNATIVE = " (on the alternative path of a perturbation)"


def _in_unit_interval(name, p, where, open_low=False):
    p = np.asarray(p)
    if not p.size:
        return
    lo, hi = p.min(), p.max()
    if open_low:
        if not (lo > 0 and hi <= 1):
            _fail(name, "p must be in (0, 1]", p[~((p > 0) & (p <= 1))], where)
    elif not (lo >= 0 and hi <= 1):
        _fail(name, _UNIT_INTERVAL, p[~((p >= 0) & (p <= 1))], where)


class Distribution:
    """A law a program draws from: its parameters, their validation and its sampler.

    Subclasses: :class:`DiscreteDistribution` (stochastic triples: new perturbations and
    inversion coupling) and :class:`ContinuousDistribution` (reparameterised draws).
    """

    name: str
    params: tuple[str, ...] = ()
    """The parameters' names, in the order the sampler takes them."""
    numpy_method: str | None = None
    """The :class:`numpy.random.Generator` method drawing from this law (``None``: none)."""
    core_ndim = 0  # trailing parameter axes that are not broadcast (categorical: categories)

    def validate(self, params, where=""):
        """Raise ``ValueError`` naming the parameter if ``params`` are outside the domain."""

    def sample(self, rng, params, shape):
        """Primal draws of ``shape``; returns ``(k, state)`` for the coupling."""
        raise NotImplementedError


class DiscreteDistribution(Distribution):
    """A discrete law on consecutive integers; subclass it to add a distribution.

    A subclass gives :attr:`name`, :attr:`params` and :meth:`cdf` (and, if it wants,
    :meth:`validate`, :attr:`support_min` and closed forms of the other methods). Everything
    else follows from the CDF ``F(k; θ)`` (docs/design.md §1):

    * sampling by inversion, ``k = min{j : F(j) >= u}`` with ``u`` uniform (:meth:`sample`),
      and the same ``u`` under moved parameters for the alternative path of a perturbation
      (:meth:`alternative`);
    * the new perturbation a dual part ``δθ`` creates: with ``dF = Σᵢ ∂F/∂θᵢ·δθᵢ``, down by one
      with weight ``dF(k-1)/P(k)`` if that is positive, up by one with weight ``-dF(k)/P(k)``
      if that is positive (:meth:`new_perturbation`);
    * the score ``Σᵢ ∂ log P(k)/∂θᵢ·δθᵢ`` for ``estimator="score"`` (:meth:`score`).

    The parameter derivatives of the CDF are central differences (:meth:`cdf_derivative`),
    accurate to about 1e-9 relative for a smooth CDF; override :meth:`cdf_derivative` with the
    closed form where it is known. The built-in laws override the generic methods with numba
    kernels (opt-in speed-ups, :attr:`kind`), and sample with numpy's own samplers.

    Examples
    --------
    A Poisson law conditioned on ``K >= 1`` (a cluster that is seen at all), from its CDF
    ``(F(k; λ) - e^{-λ}) / (1 - e^{-λ})``: ``d/dλ E[K] = d/dλ λ/(1 - e^{-λ}) = 0.7945`` at
    ``λ = 2`` (docs/architecture.md works through it):

    >>> import numpy as np, stochad as sad
    >>> from scipy import special
    >>> class ZeroTruncatedPoisson(sad.DiscreteDistribution):
    ...     name, params, support_min = "zero-truncated poisson", ("lam",), 1
    ...     def cdf(self, k, lam):
    ...         seen = -np.expm1(-lam)
    ...         return np.clip((special.pdtr(k, lam) - np.exp(-lam)) / seen, 0, 1) * (k >= 1)
    >>> law = ZeroTruncatedPoisson()
    >>> est = sad.derivative_estimate(lambda lam: sad.draw(law, lam), 2.0, n_samples=20_000,
    ...                               rng=0)
    >>> abs(est - 0.7945) < 0.03
    True
    """

    kind: int | None = None
    """Row of :func:`stochad.kernels.new_perturbation` (built-in laws only) or ``None``."""
    support_min = 0
    """The smallest value the law takes."""
    walks = False
    """Whether the coupling walks from ``k`` (its cost grows with the jump): backends then
    skip the jumps of dead events before coupling."""

    def cdf(self, k, *params):
        """``P(K <= k)`` for integer arrays ``k`` (0 below :attr:`support_min`) and parameter
        arrays ``params``."""
        raise NotImplementedError(f"{type(self).__name__} must define cdf(k, *params)")

    def pmf(self, k, *params):
        """``P(K = k)``, from the CDF."""
        return self.cdf(k, *params) - self.cdf(k - 1, *params)

    def cdf_derivative(self, i, k, *params):
        """``∂F(k; θ)/∂θᵢ`` by a central difference (override with the closed form)."""
        theta = np.asarray(params[i], dtype=np.float64)
        h = 1e-6 * np.maximum(1.0, np.abs(theta))

        def at(x):
            moved = list(params)
            moved[i] = x
            return self.cdf(k, *moved)

        return (at(theta + h) - at(theta - h)) / (2.0 * h)

    def check_deltas(self, deltas):
        """Raise if a parameter that cannot carry a dual part carries one."""

    max_walk = 1_000_000
    """Most steps :meth:`invert` walks before it concludes that the CDF never reaches ``u``."""

    def invert(self, u, params):
        """``min{j >= support_min : F(j) >= u}`` element by element (a walk up from the
        support's start). ``u`` is lowered by a few ulps, so that a CDF that sums to 1 only up
        to rounding still ends the walk."""
        target = np.asarray(u) * (1.0 - 4.0 * np.finfo(np.float64).eps)
        k = np.full(np.shape(u), self.support_min, dtype=np.int64)
        below = self.cdf(k, *params) < target
        for _ in range(self.max_walk):
            if not below.any():
                return k
            k = np.where(below, k + 1, k)
            below &= self.cdf(k, *params) < target
        raise ValueError(f"{self.name}: the CDF does not reach {np.max(u)!r} within "
                         f"{self.max_walk} steps of {self.support_min}; does cdf(k) tend to 1?")

    def sample(self, rng, params, shape):
        u = rng.random(shape)
        return self.invert(u, params), u

    def _dcdf(self, k, params, deltas):
        total = np.zeros(np.shape(k))
        for i, d in enumerate(deltas):
            if d is not None:
                total = total + self.cdf_derivative(i, k, *params) * d
        return total

    def new_perturbation(self, rng, k, params, deltas):
        """``(jump, weight)`` created by the parameters' dual parts ``deltas`` (docs/design.md
        §1), or ``None`` when no parameter of this law carries one."""
        self.check_deltas(deltas)
        if self.kind is None:
            if all(d is None for d in deltas):
                return None
            # the categorical kernel on the window F(k-1), F(k), F(k+1): the same weights
            window = np.stack([k - 1, k, k + 1], axis=-1).reshape(-1, 3)
            flat = [np.broadcast_to(np.asarray(x, dtype=np.float64)[..., None],
                                    k.shape + (1,)).reshape(-1, 1) for x in params]
            flat_deltas = [None if d is None else np.broadcast_to(
                np.asarray(d, dtype=np.float64)[..., None], k.shape + (1,)).reshape(-1, 1)
                for d in deltas]
            cdf = np.ascontiguousarray(self.cdf(window, *flat), dtype=np.float64)
            dcdf = np.ascontiguousarray(self._dcdf(window, flat, flat_deltas), dtype=np.float64)
            jump, weight = kernels.categorical_perturbation(
                cdf, dcdf, np.ones(k.size, dtype=np.int64), rng.random(k.size))
            return jump.reshape(k.shape), weight.reshape(k.shape)
        d = deltas[-1]
        if d is None:
            return None
        flat = [np.ascontiguousarray(broadcast(x, k.shape), dtype=np.float64).reshape(-1)
                for x in (params[0], params[-1], d)]
        jump, weight = kernels.new_perturbation(self.kind, k.reshape(-1), *flat)
        return jump.reshape(k.shape), weight.reshape(k.shape)

    def score(self, k, values, deltas):
        """``Σᵢ ∂/∂θᵢ log P(k; θ)·δθᵢ`` per element (``estimator="score"``).

        Examples
        --------
        >>> import numpy as np
        >>> Poisson().score(np.array([0, 2]), [np.array([2.0, 2.0])], [np.ones(2)])
        array([-1.,  0.])
        """
        if all(d is None for d in deltas):
            return np.zeros(k.shape)
        dpmf = self._dcdf(k, values, deltas) - self._dcdf(k - 1, values, deltas)
        pmf = self.pmf(k, *values)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(pmf > 0, dpmf / pmf, 0.0)

    def coupled_jump(self, rng, k, state, params, jumps):
        """The draw's jump on an alternative path on which parameter ``i`` jumps by
        ``jumps[i]`` (``None``: it does not move), by inversion coupling; float64 like ``k``.

        Raises ``ValueError`` if a moved parameter is invalid on that path.
        """
        alt_params = [shifted(v, j, cast=False) for v, j in zip(params, jumps, strict=True)]
        # elements that do not move keep their (already validated) parameters
        self.validate(alt_params, where=_ON_ALTERNATIVE)
        alternative = self.alternative(rng, k, state, params, alt_params, jumps)
        return np.subtract(alternative, k, dtype=np.float64)

    def alternative(self, rng, k, state, params, alt_params, jumps):
        """The outcome coupled to ``k`` under ``alt_params`` (``params`` moved by ``jumps``):
        the inversion of the same uniform ``state``."""
        return self.invert(state, alt_params)


class Bernoulli(DiscreteDistribution):
    """1 with probability ``p``, else 0."""

    name, params, numpy_method = "bernoulli", ("p",), None
    kind = kernels.BERNOULLI

    def validate(self, params, where=""):
        _in_unit_interval(self.name, params[0], where)

    def sample(self, rng, params, shape):
        u = rng.random(shape)
        return (u < params[0]).astype(np.int64), u

    def score(self, k, values, deltas):
        (p,), (d,) = values, deltas
        if d is None:
            return np.zeros(k.shape)
        return (_ratio(k, p) - _ratio(1 - k, 1 - p)) * d

    def coupled_jump(self, rng, k, state, params, jumps):
        """``[u < p + Δ] - [u < p]`` in one pass (:func:`stochad.kernels.bernoulli_coupled`)
        instead of the generic shift, validation, comparison and difference."""
        p = flat_rows(params[0], k.shape, np.float64).reshape(-1)
        dp = flat_rows(jumps[0], k.shape, np.float64).reshape(-1)
        jump = np.empty(k.shape)
        bad = kernels.bernoulli_coupled(state.reshape(-1), p, dp, jump.reshape(-1))
        if bad >= 0:
            _fail(self.name, _UNIT_INTERVAL, np.asarray(p[bad] + dp[bad]), _ON_ALTERNATIVE)
        return jump


class Geometric(DiscreteDistribution):
    """Number of trials up to the first success (numpy's convention: k >= 1)."""

    name, params, numpy_method = "geometric", ("p",), "geometric"
    kind = kernels.GEOMETRIC
    support_min = 1

    def validate(self, params, where=""):
        _in_unit_interval(self.name, params[0], where, open_low=True)

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
        return (1.0 / p - _ratio(k - 1, 1 - p)) * d


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
        _check(self.name, "the rate lam must be finite and >= 0", params[0],
               lambda v: np.isfinite(v) & (v >= 0), where)

    def sample(self, rng, params, shape):
        return rng.poisson(_scalar_if_constant(params[0]), shape), None

    def _walk_params(self, new):
        return new[0], new[0]  # the kernel ignores the second parameter of a Poisson law

    def score(self, k, values, deltas):
        (lam,), (d,) = values, deltas
        if d is None:
            return np.zeros(k.shape)
        return (_ratio(k, lam) - 1.0) * d


class Binomial(_WalkCoupled):
    """Number of successes in ``n`` trials of probability ``p``."""

    name, params, numpy_method = "binomial", ("n", "p"), "binomial"
    kind = kernels.BINOMIAL
    walk = 1

    def validate(self, params, where=""):
        _check(self.name, "n must be a non-negative integer", params[0],
               lambda v: np.isfinite(v) & (v >= 0) & (v == np.floor(v)), where)
        _in_unit_interval(self.name, params[1], where)

    def sample(self, rng, params, shape):
        n, p = (_scalar_if_constant(x) for x in params)
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
        return (_ratio(k, p) - _ratio(n - k, 1 - p)) * d


class Categorical(DiscreteDistribution):
    """Index of a category, 0-based, with probabilities along the last axis of ``probs``."""

    name, params, numpy_method = "categorical", ("probs",), None
    core_ndim = 1

    def validate(self, params, where=""):
        probs = np.asarray(params[0])
        if probs.ndim == 0 or probs.shape[-1] == 0:
            raise ValueError(f"categorical: probs must have at least one category{where}")
        _check(self.name, "probabilities must be finite and >= 0", probs,
               lambda v: np.isfinite(v) & (v >= 0), where)
        total = probs.sum(axis=-1)
        tolerance = np.sqrt(np.finfo(float).eps) * max(1, probs.shape[-1])
        _check(self.name, "probabilities must sum to 1", total,
               lambda t: np.abs(t - 1) <= tolerance, where)

    @staticmethod
    def _invert(u, probs):
        cdf = np.cumsum(probs, axis=-1)
        return np.sum(cdf[..., :-1] <= u[..., None], axis=-1, dtype=np.int64)

    def sample(self, rng, params, shape):
        u = rng.random(shape[:-1])
        return self._invert(u, params[0]), u

    def new_perturbation(self, rng, k, params, deltas):
        (probs,), (dprobs,) = params, deltas
        n_cat = probs.shape[-1]
        cdf = np.cumsum(probs, axis=-1).reshape(-1, n_cat)
        dcdf = np.cumsum(np.broadcast_to(dprobs, probs.shape), axis=-1).reshape(-1, n_cat)
        uniforms = rng.random(k.size)
        jump, weight = kernels.categorical_perturbation(
            np.ascontiguousarray(cdf), np.ascontiguousarray(dcdf), k.reshape(-1), uniforms
        )
        return jump.reshape(k.shape), weight.reshape(k.shape)

    def alternative(self, rng, k, state, params, alt_params, jumps):
        return self._invert(state, alt_params[0])

    def score(self, k, values, deltas):
        (probs,), (dprobs,) = values, deltas
        if dprobs is None:
            return np.zeros(k.shape)
        pick = k[..., None]
        return (np.take_along_axis(np.broadcast_to(dprobs, probs.shape), pick, -1)[..., 0]
                / np.take_along_axis(probs, pick, -1)[..., 0])


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
