"""The pruned backend (default): at most one perturbation per element, in a shared event table.

Each element carries at most one perturbation, the jump of one random event; when two meet
(a function of two perturbed arguments, a sum, a draw whose parameters are perturbed and whose
dual parts create a new one) one is kept at random with the right weight (docs/design.md §1).

The event table holds, for every lane and every event, the event's weight. A weight of zero
means the event is dead in that lane (pruned away, or never perturbed): every element that still
references it contributes nothing, which is the *shared invalidation* of docs/design.md §1 --
one table per run, never copied. The table has a few *slots* per lane (``weights``,
``generations``), not one column per draw: a slot whose weight is 0 is free and is reused by
the next event, and bumping its generation kills every stale reference (see
:mod:`stochad.kernels`). Its size is the largest number of events alive at once in a lane, so
memory does not grow with the length of the program.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass

import numpy as np

from .. import kernels
from ..lanes import broadcast, flat_rows
from .base import Backend


@dataclass(frozen=True, eq=False)
class PrunedPerturbation:
    """At most one perturbation per element: jump ``Δ`` of event ``event`` (``-1``: none).

    The event's weight lives in the backend's shared table (``PrunedBackend.weights``); a
    weight of 0 means the event was pruned away, and then the jump means nothing.
    """

    jump: np.ndarray
    event: np.ndarray

    def lift(self, shape: tuple[int, ...]) -> PrunedPerturbation:
        return PrunedPerturbation(self.jump.reshape(shape), self.event.reshape(shape))

    def map(self, index) -> PrunedPerturbation:
        """Apply the same numpy indexing/reshaping function to jump and event."""
        return PrunedPerturbation(index(self.jump), index(self.event))


class PrunedBackend(Backend):
    """Each element carries at most one perturbation; conflicts are pruned (docs/design.md §1).

    Parameters
    ----------
    n_lanes : int
        Lanes of the run; the event table has one row per lane.

    Examples
    --------
    >>> backend = PrunedBackend(3)
    >>> backend.weights.shape
    (3, 4)
    """

    name = "pruned"
    one_path_per_sample = True

    def __init__(self, n_lanes: int):
        super().__init__(n_lanes)
        self.weights = np.zeros((n_lanes, 4))
        self.generations = np.zeros((n_lanes, 4), dtype=np.int64)
        self._holders = weakref.WeakSet()

    def hold(self, perturbation) -> None:
        """Remember a perturbation that references this run's events (weakly), so that slots
        nothing references any more can be freed before the table grows."""
        self._holders.add(perturbation)

    # -- event table ----------------------------------------------------------------------------
    def attach_new_events(self, run, inherited, alternative_jump, new_weight, new_jump):
        """A draw's perturbation: the inherited one and the new one, pruned per element (see
        :func:`stochad.kernels.attach_new_events`; a new event gets a slot of its own).

        All four arrays are ``(n_lanes, m)`` C-contiguous; returns ``(event, jump)``.
        """
        uniforms = run.rng.random(
            kernels.count_draw_conflicts(inherited, alternative_jump, new_weight))
        events = np.empty(new_weight.shape, dtype=np.int64)
        jumps = np.empty(new_weight.shape)
        lane, used, collected = 0, 0, False
        while True:
            lane, used = kernels.attach_new_events(
                inherited, alternative_jump, new_weight, new_jump, self.weights,
                self.generations, uniforms, used, lane, events, jumps)
            if lane < 0:
                return events, jumps
            if not collected:
                self._collect(events[:lane], jumps[:lane])
                collected = True
            else:
                self._grow(new_weight.shape[1])

    def _collect(self, in_flight_events=None, in_flight_jumps=None) -> None:
        """Free the slots of live events that no perturbation references with a non-zero jump.

        Such events can no longer change any value (an event whose jump cancelled to 0, or
        whose holders were garbage-collected), so freeing them is invisible to the program.
        ``in_flight_*`` describe the perturbations of the first lanes of a draw being attached
        right now.
        """
        marks = np.zeros(self.weights.shape, dtype=bool)
        if in_flight_events is not None:
            lanes_done = in_flight_events.shape[0]
            kernels.mark_referenced(in_flight_events, in_flight_jumps,
                                    self.generations[:lanes_done], marks[:lanes_done])
        for pert in list(self._holders):
            shape = np.broadcast_shapes(pert.event.shape, pert.jump.shape)
            kernels.mark_referenced(flat_rows(pert.event, shape),
                                    flat_rows(pert.jump, shape, np.float64),
                                    self.generations, marks)
        kernels.free_unmarked(self.weights, marks)

    def _grow(self, needed: int) -> None:
        n_slots = self.weights.shape[1]
        new_slots = max(2 * n_slots, n_slots + needed)
        pad = ((0, 0), (0, new_slots - n_slots))
        self.weights = np.pad(self.weights, pad)
        self.generations = np.pad(self.generations, pad)

    def event_weights(self, events: np.ndarray) -> np.ndarray:
        """Weights of ``events`` (lanes first); 0 where absent (``-1``) or dead."""
        flat = np.ascontiguousarray(events, dtype=np.int64).reshape(self.n_lanes, -1)
        return kernels.lookup_weights(flat, self.weights, self.generations).reshape(events.shape)

    def prune_sum(self, run, events, jumps):
        """Sum perturbations along the last axis of ``(n_lanes, n_out, n_terms)`` arrays,
        pruning as a chain of additions would (see :func:`stochad.kernels.prune_sum`)."""
        uniforms = run.rng.random(np.count_nonzero((events >= 0) & (jumps != 0)))
        return kernels.prune_sum(events, jumps, self.weights, self.generations, uniforms)

    def prune(self, run, event_a, jump_a, event_b, jump_b):
        """Reconcile two perturbations per element (see :func:`stochad.kernels.prune_pair`).

        All four arrays are ``(n_lanes, m)`` C-contiguous; returns ``(event, kept_a, kept_b)``.
        """
        uniforms = run.rng.random(kernels.count_conflicts(event_a, jump_a, event_b, jump_b))
        return kernels.prune_pair(event_a, jump_a, event_b, jump_b, self.weights,
                                  self.generations, uniforms)

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
            event, keep_old, keep_new = self.prune(
                run, event, indicator, flat_rows(perts[i].event, shape),
                flat_rows(perts[i].jump, shape)
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

    def propagate_paths(self, run, perts, shape, path_jump):
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
        pass of :meth:`prune_sum` instead of a chain of additions."""
        keep = [ax for ax in range(1, len(shape)) if ax not in axes]
        order = [0, *keep, *axes]
        out_shape = tuple(shape[ax] for ax in [0, *keep])
        flat = (shape[0], math.prod(out_shape[1:]), math.prod(shape[ax] for ax in axes))

        def terms(x, dtype):
            return np.ascontiguousarray(np.broadcast_to(x, shape).transpose(order),
                                        dtype).reshape(flat)

        event, jump = self.prune_sum(run, terms(pert.event, np.int64),
                                     terms(pert.jump, np.float64))
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
            live = self.event_weights(event) != 0
            return [None if j is None else np.where(live, j, 0.0) for j in jumps]

        if walks:
            return event, path_jump(live_jumps())
        try:
            return event, path_jump(jumps)
        except ValueError:  # raised before the coupling draws anything
            return event, path_jump(live_jumps())

    def attach(self, run, inherited, alternative_jump, new):
        """The draw's perturbation from its inherited jump and the new one (docs/design.md §1).

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
        event, jump = self.attach_new_events(
            run, flat_rows(inherited, shape), flat_rows(alternative_jump, shape, np.float64),
            flat_rows(new_weight, shape, np.float64), flat_rows(new_jump, shape, np.float64),
        )
        return None, PrunedPerturbation(jump.reshape(shape), event.reshape(shape))

    # -- reading out --------------------------------------------------------------------------
    def contribution(self, run, pert: PrunedPerturbation) -> np.ndarray:
        """``w·Δ`` per element (0 where the event is dead or absent)."""
        weight = self.event_weights(pert.event)
        with np.errstate(invalid="ignore"):
            return np.where(weight != 0, weight * pert.jump, 0.0)

    def live(self, run, pert: PrunedPerturbation) -> np.ndarray:
        """Elements whose perturbation is live and non-zero."""
        return (self.event_weights(pert.event) != 0) & (pert.jump != 0)

    def pairs(self, run, pert: PrunedPerturbation):
        """``[(jump, weight)]``: the perturbations of each element, dead ones as ``(0, 0)``."""
        weight = self.event_weights(pert.event)
        return [(np.where(weight != 0, pert.jump, 0.0), weight)]
