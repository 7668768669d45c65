"""The relaxed backend of ``estimator="relaxed"``: Concrete / Gumbel-softmax straight-through.

A Bernoulli or categorical draw keeps its discrete value (the forward pass is the program's
own), and gets as dual part the derivative of its continuous relaxation at temperature ``τ``
(Maddison, Mnih and Teh 2017; Jang, Gu and Poole 2017):

* ``bernoulli(p)``: ``k = [u < p]``, with ``u`` uniform on ``(0, p)`` if ``k = 1`` and on
  ``(p, 1)`` if ``k = 0`` (so ``(k, u)`` has the joint law of the Concrete sample);
  ``z = logit p − logit u`` (``k = [z > 0]``), and the relaxation ``σ(z/τ)`` has dual part
  ``σ'(z/τ)/τ · δp/(p(1 − p))``;
* ``categorical(π)``: Gumbel-max with Gumbels drawn given the outcome ``k`` (the maximum
  ``M = −log(−log v)`` at ``k``, the others Gumbels truncated below ``M``); the relaxation of
  the index, ``Σ_i i·softmax(z/τ)_i`` with ``z_i = log π_i + g_i``, has dual part
  ``Σ_i i·s_i(δz_i − Σ_j s_j δz_j)/τ``, ``δz_i = δπ_i/π_i``.

**Biased**: the chain rule sees the slope of the relaxation, not the jump of the discrete
program; the bias shrinks as ``τ → 0`` while the variance grows like ``1/τ``. Poisson, binomial
and geometric draws have no relaxation here: a dual part on their parameters raises.
"""

from __future__ import annotations

import numpy as np

from .. import distributions as laws
from .inert import InertBackend

DEFAULT_TAU = 0.5


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _logit(x):
    return np.log(x) - np.log1p(-x)


def bernoulli_relaxed_delta(rng, k, p, dp, tau):
    """The straight-through dual part of Bernoulli draws ``k`` (see the module docstring).

    Examples
    --------
    >>> d = bernoulli_relaxed_delta(np.random.default_rng(0), np.array([1]), np.array([0.5]),
    ...                             np.array([1.0]), 0.5)
    >>> bool(d[0] > 0)
    True
    """
    v = rng.random(k.shape)
    u = np.where(k == 1, v * p, p + v * (1.0 - p))
    with np.errstate(divide="ignore", invalid="ignore"):
        s = _sigmoid((_logit(p) - _logit(u)) / tau)
        out = s * (1.0 - s) / tau * dp / (p * (1.0 - p))
    return np.where(dp != 0, out, 0.0)


def categorical_relaxed_delta(rng, k, probs, dprobs, tau):
    """The straight-through dual part of categorical draws ``k`` (see the module docstring)."""
    n_cat = probs.shape[-1]
    v = rng.random(probs.shape)
    top = -np.log(-np.log(np.take_along_axis(v, k[..., None], -1)))  # the max, Gumbel(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        logp = np.log(probs)
        z = -np.log(np.exp(-top) - np.log(v) * np.exp(-logp))  # Gumbels truncated below top
        z = np.where(np.arange(n_cat) == k[..., None], top, z)
        z = np.where(probs > 0, z, -np.inf)
        scaled = z / tau
        s = np.exp(scaled - scaled.max(axis=-1, keepdims=True))
        s = s / s.sum(axis=-1, keepdims=True)
        dz = np.where(probs > 0, np.broadcast_to(dprobs, probs.shape) / probs, 0.0)
    ds = s * (dz - np.sum(s * dz, axis=-1, keepdims=True)) / tau
    return np.sum(np.arange(n_cat) * ds, axis=-1)


class RelaxedBackend(InertBackend):
    """No perturbations; a Bernoulli or categorical draw's dual part is the derivative of its
    relaxation at temperature :attr:`tau` (``estimator="relaxed"``).

    Examples
    --------
    >>> RelaxedBackend.with_tau(0.1).tau
    0.1
    """

    name = "relaxed"
    tau = DEFAULT_TAU

    @classmethod
    def with_tau(cls, tau: float) -> type[RelaxedBackend]:
        """The backend class of temperature ``tau``."""
        return type(f"Relaxed{tau}Backend", (cls,), {"tau": float(tau)})

    def attach(self, run, inherited, alternative_jump, new):
        if new is None:
            return None, None
        (value, *_), (delta, *_) = new.values, new.deltas
        if isinstance(new.dist, laws.Bernoulli):
            return bernoulli_relaxed_delta(run.rng, new.k, value, delta, self.tau), None
        if isinstance(new.dist, laws.Categorical):
            return categorical_relaxed_delta(run.rng, new.k, value, delta, self.tau), None
        raise ValueError(
            f"estimator='relaxed' relaxes bernoulli and categorical draws only, but a "
            f"{new.dist.name} draw's parameters carry a dual part; use estimator='triple' "
            "or 'combined' (unbiased) for this program")
