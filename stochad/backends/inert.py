"""Backends without perturbations, for the classical estimators (``estimator="score"``, ``"fd"``).

They run the primal program with dual parts flowing pathwise: a draw's :meth:`attach` returns
``(None, None)`` (the base class's default), so no triple ever carries a perturbation, and
``new`` is never evaluated.
"""

from __future__ import annotations

import numpy as np

from .base import Backend


class InertBackend(Backend):
    """No perturbations: the primal program, dual parts flowing pathwise (``estimator="fd"``).

    Examples
    --------
    >>> InertBackend(2).contribution(None, None)
    0.0
    """

    name = "inert"


class ScoreBackend(InertBackend):
    """No perturbations; accumulates the score ``Σ ∂/∂θ log P(k; θ)·δθ`` of every discrete
    draw per lane in :attr:`score` (``estimator="score"``).

    Examples
    --------
    >>> ScoreBackend(3).score.tolist()
    [0.0, 0.0, 0.0]
    """

    name = "score"

    def __init__(self, n_lanes: int):
        super().__init__(n_lanes)
        self.score = np.zeros(n_lanes)

    def observe_draw(self, run, dist, k, values, deltas):
        dist.check_deltas(deltas)  # e.g. a binomial's n: no score term, so no silent zero
        term = dist.score(k, values, deltas)
        self.score += term.reshape(run.n_lanes, -1).sum(axis=1)
