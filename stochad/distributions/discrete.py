"""The public base class of discrete laws: everything derived from a CDF (docs/design.md §1)."""

from __future__ import annotations

import numpy as np

from .. import kernels
from ..lanes import broadcast, shifted
from .base import ON_ALTERNATIVE, Distribution

__all__ = ["DiscreteDistribution"]


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
        """``∂F(k; θ)/∂θᵢ`` by a central difference (override with the closed form); one-sided
        where a step leaves the parameter's domain (the CDF is NaN there: ``p = 1``)."""
        theta = np.asarray(params[i], dtype=np.float64)
        h = 1e-6 * np.maximum(1.0, np.abs(theta))

        def at(x):
            moved = list(params)
            moved[i] = x
            return np.asarray(self.cdf(k, *moved), dtype=np.float64)

        up, down = at(theta + h), at(theta - h)
        central = (up - down) / (2.0 * h)
        if np.isfinite(central).all():
            return central
        mid = at(theta)
        with np.errstate(invalid="ignore"):
            return np.where(np.isfinite(central), central,
                            np.where(np.isfinite(up), up - mid, mid - down) / h)

    def check_deltas(self, deltas):
        """Raise if a parameter that cannot carry a dual part carries one."""

    max_walk = 1_000_000
    """Most steps :meth:`invert` walks before it concludes that the CDF never reaches ``u``."""

    def invert(self, u, params, start=None):
        """``min{j >= support_min : F(j) >= u}`` element by element: a walk from ``start``
        (default: the support's start), down while ``F(j - 1) >= u``, then up while
        ``F(j) < u``. ``u`` is lowered by a few ulps, so that a CDF that sums to 1 only up to
        rounding still ends the walk."""
        target = np.asarray(u) * (1.0 - 4.0 * np.finfo(np.float64).eps)
        k = np.full(np.shape(u), self.support_min, dtype=np.int64) if start is None \
            else np.array(np.broadcast_to(start, np.shape(u)), dtype=np.int64)
        above = (k > self.support_min) & (self.cdf(k - 1, *params) >= target)
        while above.any():  # the walk down ends at the support's start
            k = np.where(above, k - 1, k)
            above &= (k > self.support_min) & (self.cdf(k - 1, *params) >= target)
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
        if not np.isfinite(total).all():  # a NaN weight would drop the draw's derivative
            raise ValueError(
                f"{self.name}: the derivative of its CDF in its parameters is not finite at "
                f"k = {np.asarray(k)[~np.isfinite(total)].reshape(-1)[:3].tolist()} with "
                f"parameters {dict(zip(self.params, params, strict=True))}; give the law a "
                "cdf_derivative that is finite there")
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
            uniforms = rng.random(k.size)
            jump, weight = kernels.categorical_perturbation(
                cdf, dcdf, np.ones(k.size, dtype=np.int64), uniforms)
            self._outward(k.reshape(-1), flat, cdf, dcdf, uniforms, jump, weight)
            return jump.reshape(k.shape), weight.reshape(k.shape)
        d = deltas[-1]
        if d is None:
            return None
        flat = [np.ascontiguousarray(broadcast(x, k.shape), dtype=np.float64).reshape(-1)
                for x in (params[0], params[-1], d)]
        jump, weight = kernels.new_perturbation(self.kind, k.reshape(-1), *flat)
        return jump.reshape(k.shape), weight.reshape(k.shape)

    def _outward(self, k, flat, cdf, dcdf, uniforms, jump, weight):
        """The one-sided rule at a boundary of the parameters' domain (docs/decisions.md, "At
        a boundary"), in place where the window's kernel found no move: a neighbour of
        probability 0 that a move of ``δ`` would give probability (``negative_binomial`` at
        ``p = 1`` is 0 for sure, and ``dE/dp = −n``) is the alternative, with the negative
        weight ``−dF(k)/P(k)`` (up) or ``dF(k − 1)/P(k)`` (down), as the replay engine's
        ``cdf_candidates``; both: one of them by ``|w|``, the weight their sum (pruning's
        rule). ``cdf``, ``dcdf``: the window ``k − 1, k, k + 1``."""
        pk = cdf[:, 1] - cdf[:, 0]
        live = (weight == 0) & (pk > 0)
        up = live & (dcdf[:, 1] > 0) & (cdf[:, 2] - cdf[:, 1] <= 0)
        down = live & (dcdf[:, 0] < 0)
        if down.any():  # P(k − 1) = F(k − 1) − F(k − 2): the window stops at k − 1
            i = np.flatnonzero(down)
            below = self.cdf(k[i] - 2, *(x[i, 0] for x in flat))
            down[i] &= cdf[i, 0] - below <= 0
        if not (up.any() or down.any()):
            return
        with np.errstate(divide="ignore", invalid="ignore"):
            w_up = np.where(up, -dcdf[:, 1] / pk, 0.0)
            w_down = np.where(down, dcdf[:, 0] / pk, 0.0)
        total = w_up + w_down
        moved = total < 0
        weight[moved] = total[moved]
        jump[moved] = np.where(uniforms[moved] * total[moved] > w_up[moved], 1.0, -1.0)

    def score(self, k, values, deltas):
        """``Σᵢ ∂/∂θᵢ log P(k; θ)·δθᵢ`` per element (``estimator="score"``).

        Examples
        --------
        >>> import numpy as np
        >>> from stochad.distributions import Poisson
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
        self.validate(alt_params, where=ON_ALTERNATIVE)
        alternative = self.alternative(rng, k, state, params, alt_params, jumps)
        return np.subtract(alternative, k, dtype=np.float64)

    def alternative(self, rng, k, state, params, alt_params, jumps):
        """The outcome coupled to ``k`` under ``alt_params`` (``params`` moved by ``jumps``):
        the inversion of the same uniform ``state``. A draw made by another sampler (``state``
        is ``None``) stands for a uniform drawn given ``k``, in ``(F(k - 1), F(k)]``."""
        if state is None:
            low = self.cdf(k - 1, *params)
            state = low + rng.random(k.shape) * (self.cdf(k, *params) - low)
        return self.invert(state, alt_params, start=k)

