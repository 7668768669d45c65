"""The smoothed backend: new perturbations folded into the dual part (biased, cheapest)."""

from __future__ import annotations

import numpy as np

from .base import Backend


class SmoothedBackend(Backend):
    """Fold every new perturbation into the dual part at once: ``δ = w·Δ`` (straight-through).

    A draw whose parameters carry a dual part gets the dual part ``w·Δ`` (the new perturbation
    of docs/design.md §1's table, weight times jump) instead of a perturbation, and the chain rule
    carries it from there. No perturbation ever exists, so nothing is reconciled and the cost
    is that of plain forward-mode differentiation, with low variance.

    **Biased for non-linear programs.** The chain rule linearises around the primal value: a
    function applied after the draw sees the slope ``f'(k)`` instead of the finite difference
    ``f(k + Δ) - f(k)``. It is unbiased when the output is linear in each draw (sums, scaled
    counts, products of independent draws), and piecewise-constant functions of drawn values
    (comparisons, ``floor``, ``take``/indexing by a random index, the condition of ``where``)
    pass a zero derivative. A binomial whose number of trials ``n`` comes from another draw
    raises ``ValueError`` (``n`` would carry a dual part). Use it as a cheap surrogate, and
    ``"pruned"`` or ``"exact"`` when the derivative must be unbiased.

    Examples
    --------
    ``E[K²] = λ + λ²`` for ``K ~ Poisson(λ)``, so ``d/dλ E[K²] = 1 + 2λ = 7`` at ``λ = 3``.
    The smoothed backend returns ``E[2K·1] = 2λ = 6``: the bias is ``-1``. The exact (and the
    pruned) backend evaluates ``(K + 1)² - K² = 2K + 1``, whose mean is 7:

    >>> import stochad as sad
    >>> f = lambda lam: sad.poisson(lam) ** 2
    >>> round(sad.derivative_estimate(f, 3.0, n_samples=100_000, rng=0, backend="smoothed"), 1)
    6.0
    >>> round(sad.derivative_estimate(f, 3.0, n_samples=100_000, rng=0, backend="exact"), 1)
    7.0

    A linear program is unbiased: ``d/dp E[7·Bernoulli(p) - 3] = 7``.

    >>> g = lambda p: 7 * sad.bernoulli(p) - 3
    >>> round(sad.derivative_estimate(g, 0.3, n_samples=100_000, rng=0, backend="smoothed"))
    7
    """

    name = "smoothed"

    def attach(self, run, inherited, alternative_jump, new):
        """``(w·Δ, None)``: the new perturbation as a dual part (``inherited`` is always
        ``None``, as no parameter ever carries a perturbation)."""
        new_jump, new_weight = (None, None) if new is None else new.compute()
        if new_weight is None:
            return None, None
        with np.errstate(invalid="ignore"):
            return np.where(new_weight != 0, new_weight * new_jump, 0.0), None
