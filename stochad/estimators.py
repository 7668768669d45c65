"""Classical estimators on the same program: score function and finite differences
(docs/design.md §4).

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

from .backends import InertBackend, ScoreBackend
from .driver import plain_result, run_once, split_runs
from .triple import StochasticTriple

ESTIMATORS = ("triple", "score", "fd")
REGISTERED: dict = {}
"""Estimators that modules above this one add by name (``"combined"``: :mod:`stochad.combined`,
``"relaxed"``: :mod:`stochad.relaxed`): name -> ``make(option)``, where ``option`` is the text
after a colon (``"relaxed:0.1"``; ``""`` if none), and ``compile=`` the call's flag of
:func:`stochad.api.derivative_samples` (``make`` is called once per estimator call), returning
``samples(f, p, d, n_samples, generator, backend, vectorize)``, the samples of one task
(:func:`stochad.driver.plan`)."""
DEFAULT_RELATIVE_H = 1e-2
"""``h`` of ``estimator="fd"`` when none is given: ``1e-2·max(1, max|p|)``."""


def _primal_and_delta(run, result):
    """Per-lane value and dual part of ``f``'s result, lanes first (floats)."""
    if isinstance(result, StochasticTriple):
        value = np.asarray(result.value, dtype=np.float64)
        delta = 0.0 if result.delta is None else result.delta
        return value, np.broadcast_to(delta, value.shape)
    if isinstance(result, list | tuple):
        parts = [_primal_and_delta(run, r) for r in result]
        return tuple(np.stack(x, axis=1) for x in zip(*parts, strict=True))
    result = plain_result(result)
    value = np.broadcast_to(result.astype(np.float64), (run.n_lanes,) + result.shape)
    return value, np.zeros(value.shape)


def _score_samples(f, p, d, n_samples, generator, vectorize, baseline):
    def unit(lanes):
        backend = ScoreBackend(lanes)
        value, delta = run_once(f, p, d, backend, generator, _primal_and_delta)
        return value, delta, backend.score

    value, delta, score = split_runs(n_samples, vectorize, generator, unit)
    if baseline:  # over the task's other samples: independent of this one's draws
        value = value - (value.sum(axis=0) - value) / (n_samples - 1)
    return value * score.reshape(score.shape + (1,) * (value.ndim - 1)) + delta


def _fd_samples(f, p, d, n_samples, generator, vectorize, h):
    step = h * d

    def unit(lanes):
        twin = copy.deepcopy(generator)  # common random numbers: both sides see one stream
        try:
            up, _ = run_once(f, p + step, None, InertBackend(lanes), twin, _primal_and_delta)
            down, _ = run_once(f, p - step, None, InertBackend(lanes), generator,
                               _primal_and_delta)
        except ValueError as error:
            raise ValueError(
                f"estimator='fd' runs f at p ± h·direction with the step h={h!r}, and one side "
                f"is outside the parameter's domain: {error}. Pass a smaller h=, or use the "
                "triple or score estimator at a boundary"
            ) from error
        return ((up - down) / (2.0 * h),)

    return split_runs(n_samples, vectorize, generator, unit)[0]


def sampler(estimator, *, baseline=False, h=None, compile=True):
    """The per-direction sampling function of ``estimator`` for :mod:`stochad.api`
    (``compile``: whether a registered estimator may run the compiled engine).

    Returns ``None`` for ``"triple"`` (the api's own path); otherwise a function
    ``(f, p, d, n_samples, generator, backend, vectorize) -> samples`` making the samples of
    one task (:func:`stochad.driver.plan`).
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
    name, _, option = estimator.partition(":") if isinstance(estimator, str) else ("", "", "")
    known = [*ESTIMATORS, *REGISTERED]
    if estimator not in ESTIMATORS and name not in REGISTERED:
        raise ValueError(f"unknown estimator {estimator!r}; choose one of {known}")
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
    if estimator not in ESTIMATORS:
        return REGISTERED[name](option, compile=compile)

    def samples(f, p, d, n_samples, generator, backend, vectorize):
        if estimator == "fd":
            step = DEFAULT_RELATIVE_H * max(1.0, float(np.max(np.abs(p), initial=0.0))) \
                if h is None else float(h)
            return _fd_samples(f, p, d, n_samples, generator, vectorize, step)
        if baseline and n_samples < 2:
            raise ValueError("baseline=True needs n_samples >= 2 in every chunk (a "
                             f"leave-one-out mean), got a chunk of {n_samples}")
        return _score_samples(f, p, d, n_samples, generator, vectorize, baseline)

    return samples
