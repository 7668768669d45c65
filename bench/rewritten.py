"""Four natural programs of :mod:`bench.natural`, rewritten into the batched style.

The same models as the one-sample programs (the same constants and exact derivatives), written
the way the batched mode wants them: ``sad.where`` and arithmetic on comparisons instead of
``if``, a fixed number of steps instead of ``break``/``while``, a flood fill by shifts instead
of Python sets. Issue 14 measured the estimators on programs rewritten so; each comes with a
plain numpy version (``plain(p, n, rng)``, ``n`` samples at once) for the bench's cost ratio.
"""

from __future__ import annotations

import numpy as np

import stochad as sad

from .natural import (
    INV_BIG_S,
    INV_FIXED,
    INV_HOLDING,
    INV_LOST,
    INV_PERIODS,
    INV_SMALL_S,
    INV_UNIT,
    PERC_SIZE,
    Q_BUFFER,
    Q_LOSS_COST,
    Q_SERVICE,
    Q_STEPS,
    RF_INITIAL,
    RF_POPULATION,
)


def reed_frost(p):
    """Final size of a Reed–Frost epidemic; no ``break``: once a generation has no case,
    ``1 - (1 - p)**0 = 0`` infects nobody."""
    s, i, total = RF_POPULATION - RF_INITIAL, RF_INITIAL, RF_INITIAL
    for _ in range(RF_POPULATION):
        new = sad.binomial(s, 1 - (1 - p) ** i)
        s, i, total = s - new, new, total + new
    return total


def reed_frost_plain(p, size, rng):
    s = np.full(size, RF_POPULATION - RF_INITIAL)
    i = np.full(size, RF_INITIAL)
    total = i.copy()
    for _ in range(RF_POPULATION):
        new = rng.binomial(s, 1 - (1 - p) ** i)
        s, i, total = s - new, new, total + new
    return total.astype(float)


def inventory(lam):
    """Cost of an (s, S) policy with Poisson demand and lost sales over 20 periods."""
    x, cost = INV_BIG_S, 0.0
    for _ in range(INV_PERIODS):
        order = x < INV_SMALL_S
        cost = cost + sad.where(order, INV_FIXED + INV_UNIT * (INV_BIG_S - x), 0.0)
        x = sad.where(order, INV_BIG_S, x)
        demand = sad.poisson(lam)
        cost = cost + INV_LOST * np.maximum(demand - x, 0)
        x = np.maximum(x - demand, 0)
        cost = cost + INV_HOLDING * x
    return cost


def inventory_plain(lam, size, rng):
    x, cost = np.full(size, INV_BIG_S), np.zeros(size)
    for _ in range(INV_PERIODS):
        order = x < INV_SMALL_S
        cost += np.where(order, INV_FIXED + INV_UNIT * (INV_BIG_S - x), 0.0)
        x = np.where(order, INV_BIG_S, x)
        demand = rng.poisson(lam, size)
        cost += INV_LOST * np.maximum(demand - x, 0)
        x = np.maximum(x - demand, 0)
        cost += INV_HOLDING * x
    return cost


def queue(p):
    """Holding and loss cost of a Geo/Geo/1/5 queue over 30 slots (the service draw is made
    every slot and used when someone waits: the same law as drawing it only then)."""
    q, lost, waiting = 0, 0, 0
    for _ in range(Q_STEPS):
        arrive = sad.bernoulli(p)
        room = q < Q_BUFFER
        q = q + arrive * room
        lost = lost + arrive * (1 - room)
        q = q - sad.bernoulli(Q_SERVICE) * (q > 0)
        waiting = waiting + q
    return waiting + Q_LOSS_COST * lost


def queue_plain(p, size, rng):
    q, lost, waiting = np.zeros(size), np.zeros(size), np.zeros(size)
    for _ in range(Q_STEPS):
        arrive = rng.random(size) < p
        room = q < Q_BUFFER
        q += arrive & room
        lost += arrive & ~room
        q -= (rng.random(size) < Q_SERVICE) & (q > 0)
        waiting += q
    return waiting + Q_LOSS_COST * lost


_SIDES = ((1, 0), (-1, 0), (0, 1), (0, -1))


def _shifted(grid, dr, dc):
    """``grid`` moved by ``(dr, dc)`` on the last two axes, zeros shifted in (no wrap): index
    permutations and a constant mask, which triples support."""
    n = PERC_SIZE
    rows, cols = (np.arange(n) - dr) % n, (np.arange(n) - dc) % n
    keep = np.outer((np.arange(n) - dr >= 0) & (np.arange(n) - dr < n),
                    (np.arange(n) - dc >= 0) & (np.arange(n) - dc < n))
    return grid[..., rows, :][..., cols] * keep


def percolation(p):
    """Does an open path join the top row to the bottom of a 4x4 grid? A flood fill from the
    open top sites, grown by one step through open neighbours 16 times (enough for any path)."""
    open_sites = sad.bernoulli(p, size=(PERC_SIZE, PERC_SIZE))
    top = np.zeros((PERC_SIZE, PERC_SIZE))
    top[0] = 1.0
    reached = open_sites * top
    for _ in range(PERC_SIZE**2):
        grown = reached + sum(_shifted(reached, dr, dc) for dr, dc in _SIDES)
        reached = open_sites * (grown > 0)
    return 1.0 * (np.sum(reached[-1]) > 0)


def percolation_plain(p, size, rng):
    open_sites = (rng.random((size, PERC_SIZE, PERC_SIZE)) < p).astype(float)
    reached = open_sites.copy()
    reached[:, 1:] = 0.0
    for _ in range(PERC_SIZE**2):
        grown = reached + sum(_shifted(reached, dr, dc) for dr, dc in _SIDES)
        reached = open_sites * (grown > 0)
    return (reached[:, -1].sum(axis=1) > 0).astype(float)
