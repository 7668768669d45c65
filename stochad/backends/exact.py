"""The exact backend: every perturbation is kept, keyed by its random event (docs/design.md §1).

An element of a triple carries a *set* of perturbations ``{event: (jump, weight)}``. Each one
describes an alternative path that happens with infinitesimal probability ``weight·ε``; two of
them happening together is second order, so a deterministic function is evaluated once per
event (the jumps of the arguments on that event's path) and a draw whose parameters are
perturbed is coupled once per event. Nothing is pruned, so the estimate is the conditional
expectation of the pruned backend's estimate given the primal draws: same mean, never more
variance, and a cost that grows with the number of events alive at once.

Storage: channels. A perturbation holds three arrays of shape ``(K, n_lanes, *shape)``:
``events`` (int64 ids, ascending along the channel axis for every element, :data:`NO_EVENT` in
unused slots, which sort last), ``jumps`` and ``weights``. Channel ``c`` of one element is
unrelated to channel ``c`` of another, so each element (lane) keeps only its own live events,
and ``K`` is the largest number of live events of any element. An event's weight is a property
of the event in its lane and never changes (nothing is pruned), so it travels with the jump
instead of living in a shared table. Events of one vector draw are distinct: one per element.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._jit import njit
from ..lanes import flat_rows
from .base import Backend

NO_EVENT = np.iinfo(np.int64).max
"""The id of an unused channel slot; larger than every real event id, so it sorts last."""


@dataclass(frozen=True, eq=False)
class ExactPerturbation:
    """Up to ``K`` perturbations per element, in channels of shape ``(K, n_lanes, *shape)``.

    Examples
    --------
    >>> import numpy as np
    >>> pert = ExactPerturbation(np.array([[0, 1]]), np.array([[1.0, 2.0]]),
    ...                          np.array([[0.5, 0.5]]))
    >>> pert.lift((2, 1)).jumps.shape
    (1, 2, 1)
    """

    events: np.ndarray
    jumps: np.ndarray
    weights: np.ndarray

    @property
    def n_channels(self) -> int:
        return self.events.shape[0]

    def _arrays(self):
        return self.events, self.jumps, self.weights

    def lift(self, shape: tuple[int, ...]) -> ExactPerturbation:
        """Reshape to ``shape`` (lanes first, size-one logical axes inserted)."""
        channels = (self.n_channels,)
        return ExactPerturbation(*(a.reshape(channels + tuple(shape)) for a in self._arrays()))

    def map(self, index) -> ExactPerturbation:
        """Apply a numpy indexing/reshaping function of a lanes-first array to every channel."""
        return ExactPerturbation(*(np.stack([index(c) for c in a]) for a in self._arrays()))

    def flat(self, shape: tuple[int, ...]):
        """``(events, jumps, weights)`` broadcast to ``shape`` as ``(K, m)`` arrays."""
        full = (self.n_channels,) + tuple(shape)
        return tuple(flat_rows(a, full) for a in self._arrays())


@njit
def merge_channels(events, jumps, weights):
    """Union of several arguments' event sets, element by element.

    Parameters
    ----------
    events : int64 (n_args, K, m)
        Each argument's events, ascending along ``K`` for every element, padded with
        :data:`NO_EVENT`.
    jumps, weights : float64 (n_args, K, m)
        The arguments' jumps and weights (0 in padding).

    Returns
    -------
    merged : int64 (K_out, m)
        The union, ascending, padded with :data:`NO_EVENT`; ``K_out`` is the largest union.
    merged_jumps : float64 (n_args, K_out, m)
        Argument ``a``'s jump on the path of event ``merged[c, j]`` (0 if it does not carry it).
    merged_weights : float64 (K_out, m)
        The event's weight (the same in every argument that carries it).
    """
    n_args, k, m = events.shape
    # Loops run over elements innermost (the contiguous axis): a merge step per channel.
    position = np.zeros((n_args, m), dtype=np.int64)
    k_out = 0
    for sweep in range(2):  # the first sweep counts the channels, the second fills them
        if sweep == 1:
            position[:] = 0
            merged = np.full((k_out, m), NO_EVENT, dtype=np.int64)
            merged_jumps = np.zeros((n_args, k_out, m))
            merged_weights = np.zeros((k_out, m))
        c = 0
        active = True
        while active:
            active = False
            for j in range(m):
                smallest = NO_EVENT
                for a in range(n_args):
                    p = position[a, j]
                    if p < k and events[a, p, j] < smallest:
                        smallest = events[a, p, j]
                if smallest == NO_EVENT:
                    continue
                active = True
                for a in range(n_args):
                    p = position[a, j]
                    if p < k and events[a, p, j] == smallest:
                        if sweep == 1:
                            merged_jumps[a, c, j] = jumps[a, p, j]
                            merged_weights[c, j] = weights[a, p, j]
                        position[a, j] = p + 1
                if sweep == 1:
                    merged[c, j] = smallest
            if active:
                c += 1
        k_out = c
    return merged, merged_jumps, merged_weights


@njit
def compact_channels(events, jumps, weights):
    """Drop empty, zero-jump and zero-weight slots of ``(K, m)`` channels, keeping order.

    Returns the three arrays with ``K_out`` channels, ``K_out`` the largest number kept by any
    element (0 if none).
    """
    k, m = events.shape
    kept = np.zeros(m, dtype=np.int64)
    for c in range(k):
        for j in range(m):
            if events[c, j] != NO_EVENT and jumps[c, j] != 0.0 and weights[c, j] != 0.0:
                kept[j] += 1
    k_out = kept.max() if m else 0
    out_events = np.full((k_out, m), NO_EVENT, dtype=np.int64)
    out_jumps = np.zeros((k_out, m))
    out_weights = np.zeros((k_out, m))
    kept[:] = 0
    for c in range(k):
        for j in range(m):
            if events[c, j] != NO_EVENT and jumps[c, j] != 0.0 and weights[c, j] != 0.0:
                out_events[kept[j], j] = events[c, j]
                out_jumps[kept[j], j] = jumps[c, j]
                out_weights[kept[j], j] = weights[c, j]
                kept[j] += 1
    return out_events, out_jumps, out_weights


@njit
def sum_channels(events, jumps, weights):
    """The perturbation of a sum: per element, the union of its terms' events, each with the
    sum of the jumps the terms take on its path (an event's weight is the same in all).

    ``(T, m)`` arrays: ``T`` channels of all the terms, one column per output element. Sorted
    by event (stably, so equal events add their jumps in term order) instead of merged term by
    term, which costs ``T log T`` per element where a chain of additions costs ``T²``.
    Returns ``(T, m)`` arrays, each column's events ascending and padded with NO_EVENT.
    """
    t, m = events.shape
    out_events = np.full((t, m), NO_EVENT, dtype=np.int64)
    out_jumps = np.zeros((t, m))
    out_weights = np.zeros((t, m))
    for j in range(m):
        order = np.argsort(events[:, j], kind="mergesort")
        c = -1
        for i in order:
            event = events[i, j]
            if event == NO_EVENT:
                break  # padding sorts last
            if c < 0 or out_events[c, j] != event:
                c += 1
                out_events[c, j] = event
                out_weights[c, j] = weights[i, j]
            out_jumps[c, j] += jumps[i, j]
    return out_events, out_jumps, out_weights


def _compact(events, jumps, weights, shape) -> ExactPerturbation | None:
    """Drop empty, zero-jump and zero-weight slots (``(K, m)`` arrays) and reshape to
    ``shape``; ``None`` when nothing is left."""
    events, jumps, weights = compact_channels(
        *(np.ascontiguousarray(a, dtype=t) for a, t in ((events, np.int64), (jumps, float),
                                                         (weights, float)))
    )
    if events.shape[0] == 0:
        return None
    full = (events.shape[0],) + tuple(shape)
    return ExactPerturbation(events.reshape(full), jumps.reshape(full), weights.reshape(full))


class ExactBackend(Backend):
    """Keep every perturbation, keyed by its random event: unbiased, lowest variance.

    A deterministic function is evaluated once more per live event (the finite difference
    along that event's path), and a draw whose parameters carry perturbations is coupled to
    its primal value once per live event. The cost therefore grows with the number of events
    alive at once in a sample; runs use :attr:`chunk_size` lanes at a time to bound memory.

    Examples
    --------
    With two Bernoulli draws both perturbations survive the sum (the pruned backend would keep
    one of them, doubling its weight):

    >>> import stochad as sad
    >>> st = sad.stochastic_triple(lambda p: sad.bernoulli(p) + sad.bernoulli(p), 0.5,
    ...                            rng=1, backend="exact")
    >>> st
    0 + 0ε + (1 with probability 2ε) + (1 with probability 2ε)
    >>> float(sad.derivative_contribution(st))
    4.0
    """

    name = "exact"
    chunk_size = 8192
    """Lanes per batched run when the estimator is not given ``chunk_size``."""

    def __init__(self, n_lanes: int):
        super().__init__(n_lanes)
        self._next_event = 0

    def _finish(self, run, events, jumps, weights, shape) -> ExactPerturbation | None:
        """The perturbation of an operation's ``(K, m)`` channels, reshaped to ``shape`` (the
        K-paths backend reduces the channels here)."""
        return _compact(events, jumps, weights, shape)

    # -- reconciling arguments ------------------------------------------------------------------
    def _merge(self, run, perts, shape):
        """Union of the arguments' events: ``(events, weights, jumps)``, ``(K, m)`` arrays;
        ``jumps[i]`` is ``None`` for an argument without perturbation."""
        present = [i for i, p in enumerate(perts) if p is not None]
        flats = {i: perts[i].flat(shape) for i in present}
        jumps: list[np.ndarray | None] = [None] * len(perts)
        if len(present) == 1:
            (i,) = present
            events, jumps[i], weights = flats[i]
            return events, weights, jumps
        n_channels = max(flats[i][0].shape[0] for i in present)
        m = flats[present[0]][0].shape[1]
        stacked = [np.full((len(present), n_channels, m), fill, dtype=dtype)
                   for fill, dtype in ((NO_EVENT, np.int64), (0.0, float), (0.0, float))]
        for a, i in enumerate(present):
            for array, part in zip(stacked, flats[i], strict=True):
                array[a, : part.shape[0]] = part
        events, merged_jumps, weights = merge_channels(*stacked)
        for a, i in enumerate(present):
            jumps[i] = merged_jumps[a]
        return events, weights, jumps

    @staticmethod
    def _along_paths(jumps, shape, path_jump) -> np.ndarray:
        """The output's jump on every event's path, ``(K, m)``."""
        n_channels = next(j for j in jumps if j is not None).shape[0]
        out = np.empty((n_channels, int(np.prod(shape, dtype=np.int64))))
        for c in range(n_channels):
            parts = [None if j is None else j[c].reshape(shape) for j in jumps]
            out[c] = np.reshape(path_jump(parts), -1)
        return out

    def propagate_paths(self, run, perts, shape, path_jump):
        """The output perturbation of a deterministic function: one path per live event."""
        events, weights, jumps = self._merge(run, perts, shape)
        return self._finish(run, events, self._along_paths(jumps, shape, path_jump), weights,
                            shape)

    def sum_along(self, run, pert: ExactPerturbation, shape, axes):
        """The perturbation of a sum over lanes-first ``axes`` of an array of ``shape``, in one
        pass (:func:`sum_channels`) instead of a chain of additions."""
        keep = [ax for ax in range(1, len(shape)) if ax not in axes]
        out_shape = tuple(shape[ax] for ax in [0, *keep])
        order = [0, *(ax + 1 for ax in axes), 1, *(ax + 1 for ax in keep)]

        def terms(x, dtype):
            full = np.broadcast_to(x, (pert.n_channels, *shape)).transpose(order)
            return np.ascontiguousarray(full, dtype).reshape(-1, math.prod(out_shape))

        summed = sum_channels(terms(pert.events, np.int64), terms(pert.jumps, np.float64),
                              terms(pert.weights, np.float64))
        return self._finish(run, *summed, out_shape)

    def stack(self, run, perts, shape, axis):
        """Stack per-argument perturbations (``None`` entries: none) along a new ``axis``."""
        if all(p is None for p in perts):
            return None
        part = shape[:axis] + shape[axis + 1:]
        n_channels = max(p.n_channels for p in perts if p is not None)

        def padded(pert):  # the three arrays of ``pert`` with ``n_channels`` channels
            arrays = []
            for k, fill in enumerate((NO_EVENT, 0.0, 0.0)):
                out = np.full((n_channels,) + part, fill, dtype=np.int64 if k == 0 else float)
                if pert is not None:
                    out[: pert.n_channels] = pert._arrays()[k]
                arrays.append(out)
            return arrays

        columns = zip(*(padded(p) for p in perts), strict=True)
        return ExactPerturbation(*(np.stack(c, axis=axis + 1) for c in columns))

    # -- draws ----------------------------------------------------------------------------------
    def inherit(self, run, perts, shape, path_jump, walks=False):
        """Couple a draw along every live event of its parameters (only live ones: ``walks``
        makes no difference here).

        Returns ``((events, weights, shape), jumps)``: the draw's jump on every event's path.
        """
        events, weights, jumps = self._merge(run, perts, shape)
        return (events, weights, shape), self._along_paths(jumps, shape, path_jump)

    def attach(self, run, inherited, alternative_jump, new):
        """The inherited events (jumps from :meth:`inherit`) plus one new event per element
        whose parameters' dual parts create one (``new``, see
        :class:`~stochad.samplers.NewPerturbation`); returns ``(None, perturbation)``."""
        new_jump, new_weight = (None, None) if new is None else new.compute()
        channels = []
        if inherited is not None:
            events, weights, shape = inherited
            channels.append((events, alternative_jump, weights))
        if new_weight is not None:
            shape = new_weight.shape
            per_lane = int(np.prod(shape[1:], dtype=np.int64))
            ids = self._next_event + np.arange(per_lane).reshape(shape[1:])
            self._next_event += per_lane
            events = np.where(new_weight != 0, ids, NO_EVENT)
            channels.append(tuple(np.reshape(a, (1, -1)) for a in (events, new_jump,
                                                                    new_weight)))
        if not channels:
            return None, None
        events, jumps, weights = (np.concatenate(parts) for parts in zip(*channels, strict=True))
        return None, self._finish(run, events, jumps, weights, shape)

    # -- reading out ----------------------------------------------------------------------------
    def contribution(self, run, pert: ExactPerturbation) -> np.ndarray:
        """``Σ_events w·Δ`` per element."""
        with np.errstate(invalid="ignore"):
            return np.where(pert.weights != 0, pert.weights * pert.jumps, 0.0).sum(axis=0)

    def live(self, run, pert: ExactPerturbation) -> np.ndarray:
        """Elements with at least one live, non-zero perturbation."""
        return ((pert.weights != 0) & (pert.jumps != 0)).any(axis=0)

    def pairs(self, run, pert: ExactPerturbation):
        """``[(jump, weight)]``, one pair per channel (empty slots as ``(0, 0)``)."""
        return [(np.where(w != 0, j, 0.0), w) for j, w in zip(pert.jumps, pert.weights,
                                                               strict=True)]
