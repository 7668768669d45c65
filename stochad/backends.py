"""Backends: how the finite perturbations of a triple are stored and reconciled (DESIGN §1).

A backend answers four questions for the propagation code:

* :meth:`combine` -- several arguments of one function carry perturbations: which survive, and
  with which jumps is the alternative path evaluated?
* :meth:`inherit` / :meth:`attach` -- a draw inherits its parameter's perturbation through
  inversion coupling and adds the new one its dual parts create.
* :meth:`contribution` -- ``Σ w·Δ`` per element, for the derivative estimate.
* :meth:`live` -- which elements carry a live, non-zero perturbation (for ``bool()``).

Perturbation objects are backend-specific; ``None`` always means "no perturbation".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import kernels


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


def _flat(a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``a`` broadcast to ``shape`` as a C-contiguous ``(n_lanes, m)`` array."""
    return np.ascontiguousarray(np.broadcast_to(a, shape)).reshape(shape[0], -1)


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
        event = _flat(perts[first].event, shape)
        kept = {first: _flat(perts[first].jump, shape)}
        for i in present[1:]:
            indicator = sum(np.abs(k) for k in kept.values()) if len(kept) > 1 else kept[first]
            event, keep_old, keep_new = run.prune(
                event, indicator, _flat(perts[i].event, shape), _flat(perts[i].jump, shape)
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

    def stack(self, run, perts, shape, axis):
        """Stack per-argument perturbations (``None`` entries: none) along a new ``axis``."""
        if all(p is None for p in perts):
            return None
        part = shape[:axis] + shape[axis + 1:]
        jumps = [np.zeros(part) if p is None else p.jump for p in perts]
        events = [np.full(part, kernels.NO_EVENT) if p is None else p.event for p in perts]
        return PrunedPerturbation(np.stack(jumps, axis=axis), np.stack(events, axis=axis))

    # -- draws --------------------------------------------------------------------------------
    def inherit(self, run, perts, shape):
        """Live jumps of a draw's parameters on the (single) alternative path.

        Returns ``(event, jumps)`` like :meth:`combine`, with jumps of dead events set to 0 so
        the coupling never evaluates a meaningless alternative.
        """
        combined = self.combine(run, perts, shape)
        if combined is None:
            return None
        event, jumps = combined
        live = run.event_weights(np.broadcast_to(event, shape)) != 0
        return event, [None if j is None else np.where(live, j, 0.0) for j in jumps]

    def attach(self, run, inherited, alternative_jump, new_jump, new_weight):
        """The draw's perturbation from its inherited jump and the new one (DESIGN §1).

        ``inherited`` is the ``event`` returned by :meth:`inherit` (or ``None``),
        ``alternative_jump`` the draw's jump on that path; ``new_jump``/``new_weight`` (or
        ``None``) the perturbation created by the parameters' dual parts.

        Returns ``(delta, perturbation)``: the pruned backend adds nothing to the dual part.
        """
        if new_weight is None:
            if inherited is None:
                return None, None
            return None, PrunedPerturbation(alternative_jump, inherited)
        new_event = run.new_events(new_weight)
        if inherited is None:
            return None, PrunedPerturbation(new_jump, new_event)
        shape = new_weight.shape
        event, kept_old, kept_new = run.prune(
            _flat(inherited, shape), _flat(alternative_jump, shape),
            _flat(new_event, shape), _flat(new_jump, shape),
        )
        return None, PrunedPerturbation((kept_old + kept_new).reshape(shape),
                                        event.reshape(shape))

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


BACKENDS = {"pruned": PrunedBackend}


def make_backend(name: str):
    """Return the backend called ``name``.

    Examples
    --------
    >>> make_backend("pruned").name
    'pruned'
    """
    try:
        return BACKENDS[name]()
    except KeyError:
        raise ValueError(
            f"unknown backend {name!r}; choose one of {sorted(BACKENDS)}"
        ) from None
