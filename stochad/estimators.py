"""Classical estimators on the same program: score function and finite differences (DESIGN §4).

``derivative_samples(f, p, estimator=...)`` runs the user's unchanged program ``f`` with one of

* ``"triple"`` (default): stochastic triples (:mod:`stochad.api`);
* ``"score"``: the score-function (REINFORCE, likelihood-ratio) estimator. Every discrete draw
  adds ``∂/∂θ log P(k; θ)·δθ`` to a per-lane *score*, where ``δθ`` is the dual part of the
  draw's parameter; continuous draws stay reparameterised (their dual parts flow pathwise), so
  a lane's estimate is ``f·score + δf``. With ``baseline=True`` the leave-one-out mean of ``f``
  over the other samples is subtracted from ``f`` first; it does not depend on the lane's own
  draws, so the estimator stays unbiased, and its variance is usually much lower;
* ``"fd"``: central finite differences ``(f(p + h) − f(p − h)) / 2h`` with common random
  numbers: both sides start from identical copies of the generator. **Biased**: the error is
  O(h²) for smooth expectations, and the variance grows like 1/h when the program draws
  discrete numbers (a draw flips on one side only, with probability O(h)). The two sides stay
  coupled draw by draw as long as they consume the same uniforms; numpy's rejection samplers
  (Poisson with a large rate, binomial) may consume different numbers on the two sides, after
  which the coupling is looser (still valid, just noisier).

Both classical estimators run ``f`` on triples of a backend that creates no perturbations at
all, so a Python ``if`` on a drawn value works in them even where the triple estimator needs
:func:`stochad.where`.

Examples
--------
``d/dp E[7·Bernoulli(p) − 3] = 7``, three ways:

>>> import stochad as sad
>>> f = lambda p: 7 * sad.bernoulli(p) - 3
>>> for options in [{}, {"estimator": "score", "baseline": True}, {"estimator": "fd"}]:
...     print(round(sad.derivative_estimate(f, 0.3, n_samples=100_000, rng=0, **options)))
7
7
7
"""

from __future__ import annotations

import copy

import numpy as np

from .api import DEFAULT_CHUNK, chunk_lanes, plain_result
from .context import Run
from .triple import StochasticTriple

ESTIMATORS = ("triple", "score", "fd")
DEFAULT_RELATIVE_H = 1e-2
"""``h`` of ``estimator="fd"`` when none is given: ``1e-2·max(1, max|p|)``."""


class InertBackend:
    """A backend without perturbations: the primal program, dual parts flowing pathwise.

    It answers the backend interface of :class:`stochad.backends.PrunedBackend` with "no
    perturbation" everywhere: a draw's :meth:`attach` returns ``(None, None)``, so no triple
    ever carries a perturbation, and the methods that reconcile perturbations
    (:meth:`combine`, :meth:`inherit`, :meth:`propagate`, :meth:`stack`) return ``None``.
    """

    name = "inert"

    def attach(self, run, inherited, alternative_jump, new):
        return None, None  # ``new`` is never evaluated: these estimators carry no perturbation

    def combine(self, run, *args):
        return None

    inherit = propagate = stack = make = combine

    def contribution(self, run, pert):
        return 0.0

    def live(self, run, pert):
        return False

    def pairs(self, run, pert):
        return []


def _categorical_score(k, values, deltas):
    (probs,), (dprobs,) = values, deltas
    pick = k[..., None]
    return (np.take_along_axis(np.broadcast_to(dprobs, probs.shape), pick, -1)[..., 0]
            / np.take_along_axis(probs, pick, -1)[..., 0])


def _ratio(count, denominator):
    """``count / denominator`` with 0 where ``count`` is 0 (the term is absent there)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(count > 0, count / denominator, 0.0)


# ∂/∂θᵢ log P(k; θ), one entry per parameter (None: the parameter takes no dual part).
_LOG_PMF_GRADIENTS = {
    "bernoulli": lambda k, p: (_ratio(k, p) - _ratio(1 - k, 1 - p),),
    "binomial": lambda k, n, p: (None, _ratio(k, p) - _ratio(n - k, 1 - p)),
    "poisson": lambda k, lam: (_ratio(k, lam) - 1.0,),
    "geometric": lambda k, p: (1.0 / p - _ratio(k - 1, 1 - p),),
}


def score_term(name, k, values, deltas):
    """``Σᵢ ∂/∂θᵢ log P(k; θ)·δθᵢ`` per element of a discrete draw.

    Parameters
    ----------
    name : str
        ``bernoulli``, ``binomial``, ``poisson``, ``geometric`` or ``categorical``.
    k : numpy.ndarray
        The drawn values.
    values, deltas : list of numpy.ndarray
        The parameters and their dual parts (``None``: zero), broadcast against ``k``; for
        ``categorical`` the last axis holds the categories.

    Examples
    --------
    >>> import numpy as np
    >>> score_term("poisson", np.array([0, 2]), [np.array([2.0, 2.0])], [np.ones(2)])
    array([-1.,  0.])
    """
    if all(d is None for d in deltas):
        return np.zeros(k.shape)
    if name == "categorical":
        return _categorical_score(k, values, deltas)
    total = np.zeros(k.shape)
    for grad, d in zip(_LOG_PMF_GRADIENTS[name](k, *values), deltas, strict=True):
        if grad is not None and d is not None:
            total = total + grad * d
    return total


class ScoreBackend(InertBackend):
    """No perturbations; accumulates the score ``Σ ∂/∂θ log P(k; θ)·δθ`` of every discrete
    draw per lane in :attr:`score` (the draw hook of :func:`stochad.samplers.draw`)."""

    name = "score"

    def __init__(self, n_lanes: int):
        self.score = np.zeros(n_lanes)

    def observe_draw(self, run, dist, k, values, deltas):
        dist.check_deltas(deltas)  # e.g. a binomial's n: no score term, so no silent zero
        term = score_term(dist.name, k, values, deltas)
        self.score += term.reshape(run.n_lanes, -1).sum(axis=1)


def _primal_and_delta(result, n_lanes: int):
    """Per-lane value and dual part of ``f``'s result, lanes first (floats)."""
    if isinstance(result, StochasticTriple):
        value = np.asarray(result.value, dtype=np.float64)
        delta = 0.0 if result.delta is None else result.delta
        return value, np.broadcast_to(delta, value.shape)
    if isinstance(result, list | tuple):
        parts = [_primal_and_delta(r, n_lanes) for r in result]
        return tuple(np.stack(x, axis=1) for x in zip(*parts, strict=True))
    result = plain_result(result)
    value = np.broadcast_to(result.astype(np.float64), (n_lanes,) + result.shape)
    return value, np.zeros(value.shape)


def _call(f, p, d, n_lanes, generator, backend):
    """Run ``f`` once on ``n_lanes`` lanes at ``p`` (dual part ``d``, or none)."""
    run = Run(generator, n_lanes, backend)
    with run:
        lanes = (n_lanes,) + p.shape
        x = StochasticTriple(np.broadcast_to(p, lanes),
                             None if d is None else np.broadcast_to(d, lanes), run=run)
        return _primal_and_delta(f(x), n_lanes)


def _chunks(n_samples, vectorize, chunk_size):
    """Lane counts of the successive runs: one lane per run unless ``vectorize``."""
    if not vectorize:
        return [1] * n_samples
    return chunk_lanes(n_samples, int(chunk_size or DEFAULT_CHUNK))


def _score_samples(f, p, d, n_samples, generator, vectorize, chunk_size, baseline):
    values, scores, deltas = [], [], []
    for lanes in _chunks(n_samples, vectorize, chunk_size):
        backend = ScoreBackend(lanes)
        value, delta = _call(f, p, d, lanes, generator, backend)
        values.append(value)
        deltas.append(delta)
        scores.append(backend.score)
    value, delta, score = (np.concatenate(x) for x in (values, deltas, scores))
    if baseline:
        value = value - (value.sum(axis=0) - value) / (n_samples - 1)
    return value * score.reshape(score.shape + (1,) * (value.ndim - 1)) + delta


def _fd_samples(f, p, d, n_samples, generator, vectorize, chunk_size, h):
    step = h * d
    out = []
    for lanes in _chunks(n_samples, vectorize, chunk_size):
        twin = copy.deepcopy(generator)  # common random numbers: both sides see one stream
        try:
            up, _ = _call(f, p + step, None, lanes, twin, InertBackend())
            down, _ = _call(f, p - step, None, lanes, generator, InertBackend())
        except ValueError as error:
            raise ValueError(
                f"estimator='fd' runs f at p ± h·direction with the step h={h!r}, and one side "
                f"is outside the parameter's domain: {error}. Pass a smaller h=, or use the "
                "triple or score estimator at a boundary"
            ) from error
        out.append((up - down) / (2.0 * h))
    return np.concatenate(out)


def sampler(estimator, *, baseline=False, h=None):
    """The per-direction sampling function of ``estimator`` for :mod:`stochad.api`.

    Returns ``None`` for ``"triple"`` (the api's own path); otherwise a function
    ``(f, p, d, n_samples, generator, backend, vectorize, chunk_size) -> samples``.
    Raises ``ValueError`` for an unknown estimator or options it does not take.

    Examples
    --------
    >>> sampler("triple") is None
    True
    >>> sampler("fd", h=-1.0)
    Traceback (most recent call last):
    ...
    ValueError: h must be a positive finite step, got -1.0
    """
    if estimator not in ESTIMATORS:
        raise ValueError(f"unknown estimator {estimator!r}; choose one of {list(ESTIMATORS)}")
    if baseline not in (False, True):
        raise ValueError(f"baseline must be True or False, got {baseline!r}")
    if baseline and estimator != "score":
        raise ValueError(f"baseline=True is an option of estimator='score', not {estimator!r}")
    if h is not None:
        if estimator != "fd":
            raise ValueError(f"h= is the step of estimator='fd', not of {estimator!r}")
        try:
            positive = np.ndim(h) == 0 and 0 < float(h) < np.inf
        except (TypeError, ValueError):
            positive = False
        if not positive:
            raise ValueError(f"h must be a positive finite step, got {h!r}")
    if estimator == "triple":
        return None

    def samples(f, p, d, n_samples, generator, backend, vectorize, chunk_size):
        if estimator == "fd":
            step = DEFAULT_RELATIVE_H * max(1.0, float(np.max(np.abs(p), initial=0.0))) \
                if h is None else float(h)
            return _fd_samples(f, p, d, n_samples, generator, vectorize, chunk_size, step)
        if baseline and n_samples < 2:
            raise ValueError("baseline=True needs n_samples >= 2 (a leave-one-out mean)")
        return _score_samples(f, p, d, n_samples, generator, vectorize, chunk_size, baseline)

    return samples
