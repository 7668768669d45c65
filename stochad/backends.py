"""Backends: how the finite perturbations of a triple are stored and reconciled (DESIGN §1).

A backend answers these questions for the propagation code:

* :meth:`propagate` -- the arguments of a deterministic function carry perturbations: which
  alternative paths are there (pruned: one per element, after pruning; exact: one per live
  event)? It calls back ``path_jump(jumps)`` for the output's jump on each path.
* :meth:`inherit` / :meth:`attach` -- a draw is coupled to its parameters along each of their
  alternative paths (again through a callback) and adds the new perturbation its dual parts
  create.
* :meth:`stack` -- perturbations of several arrays stacked along a new axis.
* :meth:`contribution` -- ``Σ w·Δ`` per element, for the derivative estimate; :meth:`pairs`
  -- the ``(jump, weight)`` pairs; :meth:`live` -- which elements carry a live, non-zero
  perturbation (for ``bool()``).

Three backends are registered in :data:`BACKENDS`: ``"pruned"`` (default, below),
``"exact"`` (:mod:`stochad.exact`) and ``"smoothed"`` (:class:`SmoothedBackend`, biased).
Perturbation objects are backend-specific; ``None`` always means "no perturbation".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import kernels
from .exact import ExactBackend
from .propagation import broadcast, flat_rows


@dataclass(frozen=True, eq=False)
class PrunedPerturbation:
    """At most one perturbation per element: jump ``Δ`` of event ``event`` (``-1``: none).

    The event's weight lives in the run's shared table (``run.weights``); a weight of 0 means
    the event was pruned away, and then the jump means nothing.
    """

    jump: np.ndarray
    event: np.ndarray

    def lift(self, shape: tuple[int, ...]) -> PrunedPerturbation:
        return PrunedPerturbation(self.jump.reshape(shape), self.event.reshape(shape))

    def map(self, index) -> PrunedPerturbation:
        """Apply the same numpy indexing/reshaping function to jump and event."""
        return PrunedPerturbation(index(self.jump), index(self.event))


class PrunedBackend:
    """Each element carries at most one perturbation; conflicts are pruned (DESIGN §1)."""

    name = "pruned"

    # -- deterministic functions --------------------------------------------------------------
    def combine(self, run, perts: list[PrunedPerturbation | None], shape):
        """Reconcile the perturbations of several arguments.

        Returns ``(event, jumps)`` where ``jumps[i]`` is the jump argument ``i`` takes on the
        alternative path (``None`` for arguments without perturbation), or ``None`` when no
        argument is perturbed.
        """
        present = [i for i, p in enumerate(perts) if p is not None]
        if not present:
            return None
        jumps: list[np.ndarray | None] = [None] * len(perts)
        first = present[0]
        if len(present) == 1:
            jumps[first] = perts[first].jump
            return perts[first].event, jumps
        event = flat_rows(perts[first].event, shape)
        kept = {first: flat_rows(perts[first].jump, shape)}
        for i in present[1:]:
            indicator = sum(np.abs(k) for k in kept.values()) if len(kept) > 1 else kept[first]
            event, keep_old, keep_new = run.prune(
                event, indicator, flat_rows(perts[i].event, shape), flat_rows(perts[i].jump, shape)
            )
            if len(kept) > 1:
                survived = keep_old != 0
                kept = {j: np.where(survived, k, 0.0) for j, k in kept.items()}
            else:
                kept = {first: keep_old}
            kept[i] = keep_new
        for j, k in kept.items():
            jumps[j] = k.reshape(shape)
        return event.reshape(shape), jumps

    def make(self, run, jump, event):
        return PrunedPerturbation(jump, event)

    def propagate(self, run, perts, shape, path_jump):
        """The output perturbation of a deterministic function (:func:`propagation.apply`).

        ``path_jump(jumps)`` is the output's jump on the alternative path on which argument
        ``i`` jumps by ``jumps[i]``; the pruned backend has one such path per element.
        """
        event, jumps = self.combine(run, perts, shape)
        return self.make(run, path_jump(jumps), broadcast(event, shape))

    def stack(self, run, perts, shape, axis):
        """Stack per-argument perturbations (``None`` entries: none) along a new ``axis``."""
        if all(p is None for p in perts):
            return None
        part = shape[:axis] + shape[axis + 1:]
        jumps = [np.zeros(part) if p is None else p.jump for p in perts]
        events = [np.full(part, kernels.NO_EVENT) if p is None else p.event for p in perts]
        return PrunedPerturbation(np.stack(jumps, axis=axis), np.stack(events, axis=axis))

    def sum_along(self, run, pert: PrunedPerturbation, shape, axes):
        """The perturbation of a sum over lanes-first ``axes`` of an array of ``shape``: one
        pass of :meth:`Run.prune_sum` instead of a chain of additions."""
        keep = [ax for ax in range(1, len(shape)) if ax not in axes]
        order = [0, *keep, *axes]
        out_shape = tuple(shape[ax] for ax in [0, *keep])
        flat = (shape[0], math.prod(out_shape[1:]), math.prod(shape[ax] for ax in axes))

        def terms(x, dtype):
            return np.ascontiguousarray(np.broadcast_to(x, shape).transpose(order),
                                        dtype).reshape(flat)

        event, jump = run.prune_sum(terms(pert.event, np.int64), terms(pert.jump, np.float64))
        return PrunedPerturbation(jump.reshape(out_shape), event.reshape(out_shape))

    # -- draws --------------------------------------------------------------------------------
    def inherit(self, run, perts, shape, path_jump, walks=False):
        """A draw's event and jump on its (single) alternative path per element.

        ``path_jump(jumps)`` couples the draw to its parameters jumping by ``jumps`` (aligned
        with ``perts``). For closed-form couplings the jumps of dead events are coupled too
        (the result is ignored, as :meth:`attach` checks liveness), which saves a table lookup
        per draw; only if an alternative parameter is invalid are dead events' jumps set to 0
        and the coupling repeated, so a meaningless alternative never raises. Couplings that
        ``walks`` (inversion walks, whose cost grows with the jump) get the dead jumps set to
        0 first. Returns ``(event, alternative_jump)``.
        """
        event, jumps = self.combine(run, perts, shape)
        event = broadcast(event, shape)

        def live_jumps():
            live = run.event_weights(event) != 0
            return [None if j is None else np.where(live, j, 0.0) for j in jumps]

        if walks:
            return event, path_jump(live_jumps())
        try:
            return event, path_jump(jumps)
        except ValueError:  # raised before the coupling draws anything
            return event, path_jump(live_jumps())

    def attach(self, run, inherited, alternative_jump, new):
        """The draw's perturbation from its inherited jump and the new one (DESIGN §1).

        ``inherited`` is the ``event`` returned by :meth:`inherit` (or ``None``),
        ``alternative_jump`` the draw's jump on that path; ``new`` (a
        :class:`~stochad.samplers.NewPerturbation`, or ``None``) the perturbation created by
        the parameters' dual parts.

        Returns ``(delta, perturbation)``: the pruned backend adds nothing to the dual part.
        """
        new_jump, new_weight = (None, None) if new is None else new.compute()
        if new_weight is None:
            if inherited is None:
                return None, None
            return None, PrunedPerturbation(alternative_jump, inherited)
        shape = new_weight.shape
        if inherited is None:
            inherited, alternative_jump = np.full(shape, kernels.NO_EVENT), np.zeros(shape)
        event, jump = run.attach_new_events(
            flat_rows(inherited, shape), flat_rows(alternative_jump, shape, np.float64),
            flat_rows(new_weight, shape, np.float64), flat_rows(new_jump, shape, np.float64),
        )
        return None, PrunedPerturbation(jump.reshape(shape), event.reshape(shape))

    # -- reading out --------------------------------------------------------------------------
    def contribution(self, run, pert: PrunedPerturbation) -> np.ndarray:
        """``w·Δ`` per element (0 where the event is dead or absent)."""
        weight = run.event_weights(pert.event)
        with np.errstate(invalid="ignore"):
            return np.where(weight != 0, weight * pert.jump, 0.0)

    def live(self, run, pert: PrunedPerturbation) -> np.ndarray:
        """Elements whose perturbation is live and non-zero."""
        return (run.event_weights(pert.event) != 0) & (pert.jump != 0)

    def pairs(self, run, pert: PrunedPerturbation):
        """``[(jump, weight)]``: the perturbations of each element, dead ones as ``(0, 0)``."""
        weight = run.event_weights(pert.event)
        return [(np.where(weight != 0, pert.jump, 0.0), weight)]


class SmoothedBackend:
    """Fold every new perturbation into the dual part at once: ``δ = w·Δ`` (straight-through).

    A draw whose parameters carry a dual part gets the dual part ``w·Δ`` (the new perturbation
    of DESIGN §1's table, weight times jump) instead of a perturbation, and the chain rule
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

    def stack(self, run, perts, shape, axis):
        return None  # there are never perturbations to stack

    def attach(self, run, inherited, alternative_jump, new):
        """``(w·Δ, None)``: the new perturbation as a dual part (``inherited`` is always
        ``None``, as no parameter ever carries a perturbation)."""
        new_jump, new_weight = (None, None) if new is None else new.compute()
        if new_weight is None:
            return None, None
        with np.errstate(invalid="ignore"):
            return np.where(new_weight != 0, new_weight * new_jump, 0.0), None


BACKENDS = {"pruned": PrunedBackend, "exact": ExactBackend, "smoothed": SmoothedBackend}


def make_backend(name: str):
    """Return the backend called ``name``.

    Examples
    --------
    >>> make_backend("exact").name
    'exact'
    >>> make_backend("fastest")
    Traceback (most recent call last):
    ...
    ValueError: unknown backend 'fastest'; choose one of ['exact', 'pruned', 'smoothed']
    """
    try:
        return BACKENDS[name]()
    except KeyError:
        raise ValueError(
            f"unknown backend {name!r}; choose one of {sorted(BACKENDS)}"
        ) from None
