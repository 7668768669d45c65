"""Numba kernel of the K-paths backend: reduce each element's live events to at most ``K``.

The reduction is VarOpt sampling (Cohen, Duffield, Kaplan, Lund and Thorup, "Stream sampling
for variance-optimal estimation of subset sums", SODA 2009), the streaming form of
Duffield–Lund–Thorup threshold sampling. Events arrive one at a time into a reservoir of
``K``; when a ``(K+1)``-th arrives, the threshold ``τ`` solves ``Σ min(1, |w_i|/τ) = K``, one
event is dropped with probability ``1 − min(1, |w_i|/τ)`` (these sum to 1, so one uniform
picks it), and every kept event with ``|w_i| < τ`` gets weight ``±τ``. So each weight's
expectation is unchanged (``π_i · τ = |w_i|``): the estimate stays unbiased. Among all ways of
keeping ``K`` of ``K + 1`` with unbiased weights, this one minimises the summed variance of the
weights, ``Σ_{|w_i| < τ} |w_i|(τ − |w_i|)``. With ``K = 1`` it is the pruned backend's rule:
keep one of two with probability proportional to ``|w|``, its weight becoming ``|w_a| + |w_b|``.

As in :mod:`stochad.kernels`, the kernel takes its uniforms as an array, so the JIT on and off
give the same numbers.
"""

from __future__ import annotations

import math

import numpy as np

from ._jit import njit

NO_EVENT = np.iinfo(np.int64).max
"""An unused channel slot (as in :mod:`stochad.backends.exact`)."""


@njit(nested=True)
def _drop_one(chosen, n, events, j, table, lane, k, u):
    """One VarOpt step on the ``n = k + 1`` channels ``chosen[:n]`` of element ``j``: rescale
    the table's weights, kill one event, and return its position in ``chosen``. ``u`` is a
    uniform (unused when ``k`` infinite weights leave the drop no choice)."""
    size = np.empty(n)
    for i in range(n):
        size[i] = abs(table[lane, events[chosen[i], j]])
    order = np.argsort(-size)  # largest first
    rest = 0.0
    for i in range(n):
        rest += size[i] if math.isfinite(size[i]) else 0.0
    large = 0  # events kept for sure (|w| >= τ), the largest ones
    tau = 0.0
    while large < k:
        tau = rest / (k - large)
        top = size[order[large]]
        if math.isfinite(top) and top <= tau:
            break
        if math.isfinite(top):
            rest -= top
        large += 1
    if large == k:  # k infinite (or huge) weights: the smallest one goes, deterministically
        drop = order[n - 1]
    else:
        drop = order[n - 1]
        acc = 0.0
        for r in range(large, n):
            acc += 1.0 - size[order[r]] / tau
            if u < acc:
                drop = order[r]
                break
        for r in range(large, n):
            i = order[r]
            e = events[chosen[i], j]
            table[lane, e] = math.copysign(tau, table[lane, e])
    table[lane, events[chosen[drop], j]] = 0.0
    return drop


@njit
def reduce_channels(events, live, table, per_lane, k, uniforms):
    """Keep at most ``k`` live events per element, by VarOpt (see the module docstring).

    Parameters
    ----------
    events : int64 (C, m)
        Each element's candidate events, :data:`NO_EVENT` in unused slots; they arrive in
        channel order.
    live : bool (C, m)
        Candidates carrying a non-zero jump (others are skipped, and the table untouched).
    table : float64 (n_lanes, n_events)
        The lanes' event weights, updated in place (0: dead).
    per_lane : int
        Elements per lane: element ``j`` lives in lane ``j // per_lane``.
    k : int
        Events kept per element.
    uniforms : float64 (r,)
        At least one per candidate beyond the ``k``-th live one of each element.

    Returns
    -------
    keep : bool (C, m)
        The candidates kept (their event may still be killed by a later element of the lane:
        read the table).
    used : int
        Uniforms consumed.

    Examples
    --------
    Two events of weights 1 and 3 reduced to one: the survivor carries weight 4.

    >>> import numpy as np
    >>> table = np.array([[1.0, 3.0]])
    >>> keep, used = reduce_channels(np.array([[0], [1]]), np.ones((2, 1), dtype=bool),
    ...                              table, 1, 1, np.array([0.5]))
    >>> keep[:, 0].tolist(), table.tolist(), used
    ([False, True], [[0.0, 4.0]], 1)
    """
    n_ch, m = events.shape
    keep = np.zeros((n_ch, m), dtype=np.bool_)
    chosen = np.empty(min(k, n_ch) + 1, dtype=np.int64)
    used = 0
    for j in range(m):
        lane = j // per_lane
        n = 0
        for c in range(n_ch):
            e = events[c, j]
            if e == NO_EVENT or not live[c, j] or table[lane, e] == 0.0:
                continue
            chosen[n] = c
            n += 1
            if n > k:
                drop = _drop_one(chosen, n, events, j, table, lane, k, uniforms[used])
                used += 1
                chosen[drop] = chosen[n - 1]
                n -= 1
        for i in range(n):
            keep[chosen[i], j] = True
    return keep, used


@njit
def lookup(events, table, per_lane):
    """The table weights of ``(C, m)`` events (0 where :data:`NO_EVENT`); element ``j`` lives
    in lane ``j // per_lane``.

    Examples
    --------
    >>> lookup(np.array([[1, NO_EVENT]]), np.array([[0.5, 2.0]]), 2).tolist()
    [[2.0, 0.0]]
    """
    n_ch, m = events.shape
    out = np.zeros((n_ch, m))
    for c in range(n_ch):
        for j in range(m):
            e = events[c, j]
            if e != NO_EVENT:
                out[c, j] = table[j // per_lane, e]
    return out
