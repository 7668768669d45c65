"""A discrete-event simulation written with a heap of (time, kind) events, as queueing
modellers write them: the replay engine compares event times that move with the parameter
(an arrival against a departure) and then each popped time with the horizon. Exact values from
the continuous-time Markov chain (scipy's expm), differentiated by central differences."""

import heapq
import math
import warnings

import numpy as np
import pytest
from scipy.linalg import expm

import stochad as sad


def mm1_served(lam, rng, horizon=5.0, mu=1.0):
    """Customers an M/M/1 queue (arrival rate lam, service rate mu) serves by the horizon."""
    events = [(rng.exponential(1 / lam), 0)]   # (time, kind): 0 arrival, 1 departure
    queue, served = 0, 0
    while events:
        t, kind = heapq.heappop(events)
        if t > horizon:
            break
        if kind == 0:
            queue += 1
            heapq.heappush(events, (t + rng.exponential(1 / lam), 0))
            if queue == 1:
                heapq.heappush(events, (t + rng.exponential(1 / mu), 1))
        else:
            queue -= 1
            served += 1
            if queue > 0:
                heapq.heappush(events, (t + rng.exponential(1 / mu), 1))
    return float(served)


def mm1_served_mean(lam, mu=1.0, horizon=5.0, cap=80):
    """E[departures by the horizon] = E ∫ mu·1{q > 0}: the chain on q (truncated at ``cap``,
    beyond any reach at these rates) with the reward accumulated in an extra column."""
    a = np.zeros((cap + 2, cap + 2))
    for q in range(cap + 1):
        if q < cap:
            a[q, q + 1] = lam
        if q > 0:
            a[q, q - 1] = mu
        a[q, q] = -a[q, : cap + 1].sum()
        a[q, cap + 1] = mu * (q > 0)
    return expm(a * horizon)[0, cap + 1]


def test_heap_event_loop_is_unbiased_without_warnings():
    exact = (mm1_served_mean(0.7 + 1e-4) - mm1_served_mean(0.7 - 1e-4)) / 2e-4
    with warnings.catch_warnings():
        warnings.simplefilter("error", sad.LostDerivativeWarning)
        d = sad.derivative_samples(lambda lam: mm1_served(lam, sad.Generator()), 0.7,
                                   n_samples=12_000, rng=1, vectorize=False)
    assert abs(d.mean() - exact) < 5 * d.std() / math.sqrt(d.size), (d.mean(), exact)


def _race(lam):
    """Two exponential clocks, rates lam and 1: the first one's time if it rings first and
    before 0.5, as a 0/1 outcome."""
    rng = sad.Generator()
    x = rng.exponential(1 / lam)
    y = rng.exponential(1.0)
    if x < y:
        return float(x < 0.5)
    return 0.0


def _race_mean(lam):
    return lam / (lam + 1) * (1 - np.exp(-(lam + 1) * 0.5))


def test_the_older_of_two_compared_moving_draws_is_narrowed_for_its_own_event():
    # x < y is an event on y, whose outcome also narrows x; x < 0.5 is then an event on x
    # within that cell (before: weighted as if x < y had said nothing of x, with a warning)
    exact = np.imag(_race_mean(1.3 + 1e-20j)) / 1e-20
    for backend in ("pruned", "exact"):
        with warnings.catch_warnings():
            warnings.simplefilter("error", sad.LostDerivativeWarning)
            d = sad.derivative_samples(_race, 1.3, n_samples=20_000, rng=2, vectorize=False,
                                       backend=backend)
        assert abs(d.mean() - exact) < 5 * d.std() / math.sqrt(d.size), (backend, d.mean())


def test_a_draw_read_as_a_number_then_compared_warns():
    # which comparisons the program reaches depends on u through k: no interval of u holds
    # that, so the event on u warns (0.36 for an exact e^-1.5·2.5 = 0.558 before, silently)
    def gated(p):
        rng = sad.Generator()
        u = rng.random()
        k = rng.poisson(3 * u)
        if k < 2:
            return float(u < p)
        return 0.0

    def truncated(p):
        u = sad.Generator().random()
        if int(10 * u) < 3:
            return float(u < p)
        return 0.0

    for f in (gated, truncated):
        with pytest.warns(sad.LostDerivativeWarning, match="read as a number"):
            sad.derivative_samples(f, 0.5, n_samples=200, rng=0, vectorize=False)
