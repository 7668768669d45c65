"""The K-paths backend: up to ``K`` perturbations per element, reduced by VarOpt sampling.

Between the pruned backend (one perturbation per element) and the exact one (all of them): an
element keeps up to ``K`` alternative paths, and when an operation would give it more (a
function of perturbed arguments, a sum, a draw whose parameters are perturbed and whose dual
parts create a new one), the surplus is dropped by the unbiased VarOpt rule of
:mod:`stochad.kpath_kernels`. ``K = 1`` is the pruned backend's rule; with ``K`` at least the
number of events alive at once it is the exact backend.

Storage: the exact backend's channels ``(events, jumps)`` per element, and, as in the pruned
backend, a table of every event's weight per lane shared by all elements (``table[lane,
event]``; 0: dead). A decision to drop or rescale an event is taken once per lane and holds
in every element that carries it (the shared invalidation of docs/design.md §1), which keeps
every alternative path whole, so the estimate stays unbiased. The channels' own ``weights``
arrays are only a cache, refreshed from the table whenever an estimate is read. The table has
one column per event created in the run (the exact backend's event ids), so runs use
:attr:`chunk_size` lanes at a time.

Choose it with ``backend="kpaths"`` (``K = 4``) or ``backend="kpaths:K"`` for another ``K``.
"""

from __future__ import annotations

import numpy as np

from .. import kpath_kernels
from .exact import NO_EVENT, ExactBackend, ExactPerturbation, compact_channels

DEFAULT_PATHS = 4


class KPathsBackend(ExactBackend):
    """Keep up to :attr:`paths` perturbations per element; reduce by VarOpt (unbiased).

    Examples
    --------
    Three Bernoulli draws summed, all 0 here, each with weight ``1/(1 − p) = 1.11``: with
    ``K = 2`` two of them survive, their weights raised to ``τ = 3.33/2`` so that the
    estimate stays unbiased (``d/dp E[sum] = 3``):

    >>> import stochad as sad
    >>> f = lambda p: sad.bernoulli(p) + sad.bernoulli(p) + sad.bernoulli(p)
    >>> sad.stochastic_triple(f, 0.1, rng=1, backend="kpaths:2")
    0 + 0ε + (1 with probability 1.66667ε) + (1 with probability 1.66667ε)
    >>> round(sad.derivative_estimate(f, 0.5, n_samples=20_000, rng=0, backend="kpaths:2"), 1)
    3.0
    """

    name = "kpaths"
    paths = DEFAULT_PATHS
    """Most perturbations an element keeps (``K``)."""

    def __init__(self, n_lanes: int):
        super().__init__(n_lanes)
        self.table = np.zeros((n_lanes, 16))
        self._registered = 0  # events below this id have their weights in the table

    @classmethod
    def with_paths(cls, paths: int) -> type[KPathsBackend]:
        """The backend class keeping ``paths`` perturbations per element.

        Examples
        --------
        >>> KPathsBackend.with_paths(2).name
        'kpaths:2'
        """
        return _CLASSES.setdefault(
            paths, type(f"KPaths{paths}Backend", (cls,), {"paths": paths,
                                                          "name": f"kpaths:{paths}"}))

    # -- the table ------------------------------------------------------------------------------
    def _lanes(self, m: int) -> np.ndarray:
        """The lane of each of ``m`` flattened elements (lanes first)."""
        return np.arange(m) // max(m // self.n_lanes, 1)

    def _lookup(self, events: np.ndarray) -> np.ndarray:
        """Table weights of ``(C, m)`` events (0 where absent or dead)."""
        return kpath_kernels.lookup(np.ascontiguousarray(events, dtype=np.int64), self.table,
                                    max(events.shape[1] // self.n_lanes, 1))

    def _register(self, events: np.ndarray, weights: np.ndarray) -> None:
        """Enter the weights of events created since the last call into the table."""
        if self._next_event > self.table.shape[1]:
            grown = max(2 * self.table.shape[1], self._next_event)
            self.table = np.pad(self.table, ((0, 0), (0, grown - self.table.shape[1])))
        fresh = (events != NO_EVENT) & (events >= self._registered)
        if fresh.any():
            lanes = np.broadcast_to(self._lanes(events.shape[1]), events.shape)
            self.table[lanes[fresh], events[fresh]] = weights[fresh]
        self._registered = self._next_event

    def _reduce(self, run, events: np.ndarray, live: np.ndarray) -> np.ndarray:
        """Reduce ``(C, m)`` candidates to at most ``K`` per element; the survivors (alive in
        the table after every element of the call is reduced)."""
        live = live & (events != NO_EVENT)
        surplus = int(np.maximum(live.sum(axis=0) - self.paths, 0).sum())
        if surplus:
            per_lane = max(events.shape[1] // self.n_lanes, 1)
            keep, _ = kpath_kernels.reduce_channels(
                np.ascontiguousarray(events), np.ascontiguousarray(live), self.table,
                per_lane, self.paths, run.rng.random(surplus))
            live = live & keep
        return live & (self._lookup(events) != 0)

    # -- hooks of the exact backend ---------------------------------------------------------------
    def _merge(self, run, perts, shape):
        """The union of the arguments' live events, reduced to ``K`` per element (unused slots
        and dead events as :data:`NO_EVENT` with jump 0, so no coupling moves along them)."""
        events, _, jumps = super()._merge(run, perts, shape)
        moving = np.zeros(events.shape, dtype=bool)
        for j in jumps:
            if j is not None:
                moving |= j != 0
        kept = self._reduce(run, events, moving)
        order = np.argsort(~kept, axis=0, kind="stable")  # kept first, still ascending
        n_kept = int(kept.sum(axis=0).max(initial=0))
        order = order[:max(n_kept, 1)]

        def pick(a, fill):
            return np.take_along_axis(np.where(kept, a, fill), order, axis=0)

        events = pick(events, NO_EVENT)
        jumps = [None if j is None else pick(j, 0.0) for j in jumps]
        return events, self._lookup(events), jumps

    def _finish(self, run, events, jumps, weights, shape) -> ExactPerturbation | None:
        """Register new events, reduce to ``K`` per element, and drop empty channels."""
        events = np.ascontiguousarray(events, dtype=np.int64)
        jumps = np.ascontiguousarray(jumps, dtype=np.float64)
        self._register(events, np.asarray(weights, dtype=np.float64))
        kept = self._reduce(run, events, jumps != 0)
        events, jumps, weights = compact_channels(
            events, jumps, np.where(kept, self._lookup(events), 0.0))
        if events.shape[0] == 0:
            return None
        full = (events.shape[0],) + tuple(shape)
        return ExactPerturbation(events.reshape(full), jumps.reshape(full),
                                 weights.reshape(full))

    # -- reading out ----------------------------------------------------------------------------
    def _fresh(self, pert: ExactPerturbation) -> ExactPerturbation:
        """``pert`` with its weights read from the table (events may have died since)."""
        flat = pert.events.reshape(pert.n_channels, -1)
        return ExactPerturbation(pert.events, pert.jumps,
                                 self._lookup(flat).reshape(pert.events.shape))

    def contribution(self, run, pert):
        return super().contribution(run, self._fresh(pert))

    def live(self, run, pert):
        return super().live(run, self._fresh(pert))

    def pairs(self, run, pert):
        return super().pairs(run, self._fresh(pert))


_CLASSES: dict[int, type[KPathsBackend]] = {DEFAULT_PATHS: KPathsBackend}
