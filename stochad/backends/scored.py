"""Triple backends that also accumulate the score, for the combined estimator.

``scored(cls)`` is the triple backend ``cls`` whose runs also add up, per lane, the score
``Σ ∂/∂θ log P(k; θ)·δθ`` of every discrete draw, as the score-function estimator's backend
does (:class:`~stochad.backends.inert.ScoreBackend`). The dual parts flow identically under
both (a discrete draw's own dual part is 0 under every unbiased backend), so one run yields the
triple estimate and the score-function estimate of the same primal sample
(:mod:`stochad.combined`).
"""

from __future__ import annotations

import numpy as np

from .base import Backend


class Scored(Backend):
    """Mixin: a triple backend that also accumulates every lane's score in :attr:`score`.

    Examples
    --------
    >>> from stochad.backends.pruned import PrunedBackend
    >>> scored(PrunedBackend)(2).score.tolist()
    [0.0, 0.0]
    """

    def __init__(self, n_lanes: int):
        super().__init__(n_lanes)
        self.score = np.zeros(n_lanes)

    def observe_draw(self, run, dist, k, values, deltas):
        super().observe_draw(run, dist, k, values, deltas)
        dist.check_deltas(deltas)
        self.score += dist.score(k, values, deltas).reshape(run.n_lanes, -1).sum(axis=1)


_SCORED: dict[type, type] = {}


def scored(cls: type[Backend]) -> type[Backend]:
    """The backend class ``cls`` that also accumulates the score (one class per ``cls``).

    Examples
    --------
    >>> from stochad.backends.exact import ExactBackend
    >>> scored(ExactBackend).name, scored(ExactBackend) is scored(ExactBackend)
    ('exact', True)
    """
    return _SCORED.setdefault(cls, type(f"Scored{cls.__name__}", (Scored, cls), {}))
