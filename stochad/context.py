"""The run context: generator, lane count, backend and the per-lane event table.

A *run* is one batched evaluation of a user program on stochastic triples. It is held in a
:class:`contextvars.ContextVar`, so nested and threaded runs stay apart. Samplers look up the
current run to draw from its generator and to register new random events.

The event table (pruned backend) holds, for every lane and every event, the event's weight. A
weight of zero means the event is dead in that lane (pruned away, or never perturbed): every
element that still references it contributes nothing, which is the *shared invalidation* of
DESIGN §1 -- one table per run, never copied.
"""

from __future__ import annotations

import contextvars
import weakref
from dataclasses import dataclass, field

import numpy as np

from . import kernels
from .propagation import flat_rows

_current_run: contextvars.ContextVar[Run | None] = contextvars.ContextVar(
    "stochad_current_run", default=None
)


def current_run() -> Run | None:
    """Return the run in progress in this context, or ``None`` outside a run."""
    return _current_run.get()


def normalize_rng(rng) -> np.random.Generator:
    """Normalise ``rng`` (None, int, SeedSequence or Generator) as SPEC 7 does.

    A :class:`stochad.Generator` stands for the numpy Generator it wraps.

    Examples
    --------
    >>> g = normalize_rng(0)
    >>> isinstance(g, np.random.Generator)
    True
    >>> normalize_rng(g) is g
    True
    """
    wrapped = getattr(rng, "numpy", None)
    return np.random.default_rng(wrapped if isinstance(wrapped, np.random.Generator) else rng)


@dataclass(eq=False)
class Run:
    """One batched evaluation: ``n_lanes`` independent samples advanced together.

    Parameters
    ----------
    rng : numpy.random.Generator
        Drives every primal draw and every pruning choice of the run.
    n_lanes : int
        Number of samples (lanes) evaluated at once.
    backend : object
        The perturbation backend (see :mod:`stochad.backends`).

    Notes
    -----
    The event table has a few *slots* per lane (``weights``, ``generations``), not one column
    per draw: a slot whose weight is 0 is free and is reused by the next event, and bumping its
    generation kills every stale reference (see :mod:`stochad.kernels`). Its size is the
    largest number of events alive at once in a lane, so memory does not grow with the
    length of the program.
    """

    rng: np.random.Generator
    n_lanes: int
    backend: object
    weights: np.ndarray = field(init=False, repr=False)
    generations: np.ndarray = field(init=False, repr=False)
    _token: contextvars.Token | None = field(init=False, default=None, repr=False)
    _holders: weakref.WeakSet = field(init=False, repr=False, default_factory=weakref.WeakSet)

    def __post_init__(self):
        self.weights = np.zeros((self.n_lanes, 4))
        self.generations = np.zeros((self.n_lanes, 4), dtype=np.int64)

    def hold(self, perturbation) -> None:
        """Remember a perturbation that references this run's events (weakly), so that slots
        nothing references any more can be freed before the table grows."""
        if hasattr(perturbation, "event"):
            self._holders.add(perturbation)

    # -- context management -------------------------------------------------------------------
    def __enter__(self) -> Run:
        self._token = _current_run.set(self)
        return self

    def __exit__(self, *exc) -> None:
        _current_run.reset(self._token)
        self._token = None

    # -- event table ----------------------------------------------------------------------------
    def attach_new_events(self, inherited, alternative_jump, new_weight, new_jump):
        """A draw's perturbation: the inherited one and the new one, pruned per element (see
        :func:`stochad.kernels.attach_new_events`; a new event gets a slot of its own).

        All four arrays are ``(n_lanes, m)`` C-contiguous; returns ``(event, jump)``.
        """
        uniforms = self.rng.random(
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

    def prune_sum(self, events, jumps):
        """Sum perturbations along the last axis of ``(n_lanes, n_out, n_terms)`` arrays,
        pruning as a chain of additions would (see :func:`stochad.kernels.prune_sum`)."""
        uniforms = self.rng.random(np.count_nonzero((events >= 0) & (jumps != 0)))
        return kernels.prune_sum(events, jumps, self.weights, self.generations, uniforms)

    def prune(self, event_a, jump_a, event_b, jump_b):
        """Reconcile two perturbations per element (see :func:`stochad.kernels.prune_pair`).

        All four arrays are ``(n_lanes, m)`` C-contiguous; returns ``(event, kept_a, kept_b)``.
        """
        uniforms = self.rng.random(kernels.count_conflicts(event_a, jump_a, event_b, jump_b))
        return kernels.prune_pair(event_a, jump_a, event_b, jump_b, self.weights,
                                  self.generations, uniforms)
