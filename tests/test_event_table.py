"""The pruned backend's event table: restarts of the draw kernel when the table grows, and events
that die while still referenced.

A test marked ``# BUG:`` failed before its fix and stays as a regression test; ``# EDGE:``
covers an edge case no other test covers.
"""

import numpy as np
import pytest
from conftest import assert_unbiased

import stochad as sad
from stochad import kernels as K


def _restart_inputs(m):
    """A 3-slot table whose lanes have 3, 2, 1, 0 free slots, live inherited events in some
    elements, new weights almost everywhere: lane 2 (m = 2) or lane 3 (m = 1) runs out."""
    weights = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 2.0], [0.0, 3.0, 1.5], [1.0, 2.0, 0.5]])
    gens = np.array([[1, 1, 1], [1, 1, 2], [1, 4, 2], [3, 1, 2]])
    lanes = weights.shape[0]
    inherited = np.full((lanes, m), K.NO_EVENT)
    inherited[1, 0] = (2 << K.SLOT_BITS) | 2   # live
    inherited[2, m - 1] = (4 << K.SLOT_BITS) | 1  # live
    if m > 1:  # a conflict: needs no slot, but the lane still counts it as needed
        inherited[3, 0] = (2 << K.SLOT_BITS) | 2
    alt = np.where(inherited >= 0, 1.0, 0.0)
    new_w = np.full((lanes, m), 0.75)
    new_w[0, 0] = 0.0
    new_d = np.where(new_w != 0, -1.0, 0.0)
    return (inherited, alt, new_w, new_d), (weights, gens)


def _spy_restarts(monkeypatch):
    """Record (m, start_lane, returned lane) of every attach_new_events kernel call."""
    calls = []
    kernel = K.attach_new_events

    def spy(*args):
        lane, used = kernel(*args)
        calls.append((args[2].shape[1], args[8], lane))
        return lane, used

    monkeypatch.setattr(K, "attach_new_events", spy)
    return calls


# EDGE: kernel-level restart: a call that stops at a lane without free slots, then a call from
# that lane on the grown table (with the uniforms consumed so far), gives exactly what one call
# on the grown table gives (outputs, table, uniforms used); JIT == plain Python.
@pytest.mark.parametrize("m", [1, 2])
@pytest.mark.parametrize("jit", [True, False], ids=["jit", "py"])
def test_attach_new_events_restart_equals_one_call_on_the_grown_table(jit, m):
    kernel = K.attach_new_events if jit else K.attach_new_events.py_func
    draw, (weights, gens) = _restart_inputs(m)
    uniforms = np.random.default_rng(0).random(K.count_draw_conflicts(*draw[:3]))
    pad = ((0, 0), (0, 3))
    shape = draw[0].shape

    w, g = weights.copy(), gens.copy()
    events, jumps = np.empty(shape, dtype=np.int64), np.empty(shape)
    lane, used = kernel(*draw, w, g, uniforms, 0, 0, events, jumps)
    assert lane > 0  # stopped mid-call, after some lanes were done
    w, g = np.pad(w, pad), np.pad(g, pad)
    assert kernel(*draw, w, g, uniforms, used, lane, events, jumps) == (-1, uniforms.size)

    w1, g1 = np.pad(weights, pad), np.pad(gens, pad)
    events1, jumps1 = np.empty(shape, dtype=np.int64), np.empty(shape)
    assert kernel(*draw, w1, g1, uniforms, 0, 0, events1, jumps1) == (-1, uniforms.size)
    for x, y in ((events, events1), (jumps, jumps1), (w, w1), (g, g1)):
        np.testing.assert_array_equal(x, y)


# EDGE: Run.attach_new_events restarting mid-call (a lane > 0 runs out of slots), with m = 1
# and m > 1, inherited events that conflict with the new ones, garbage events to collect and a
# table that must grow. Y ~ Bernoulli(p) x 3 (0-3 events per lane), X ~ Poisson(p) x 2,
# Z ~ Poisson(2 Y0 + p), W ~ Poisson(p + 2Y), V ~ Poisson(p):
# E[(ΣY + 1) ΣX + Z Y1 + (ΣW)²/10 + V Y2], derivative below.
def test_draws_that_restart_mid_call_are_unbiased(monkeypatch):
    calls = _spy_restarts(monkeypatch)

    def f(p):
        junk = sad.bernoulli(p, size=4)  # fills the lanes where it is all 0s; then garbage
        del junk
        v = sad.poisson(p)  # m = 1: no free slot in those lanes until the collection
        y = sad.bernoulli(p, size=3)
        x = sad.poisson(p * np.ones(2))
        z = sad.poisson(2 * y[0] + p)
        w = sad.poisson(p + 2 * y)  # m = 3, each element inherits its own live event
        return (y.sum() + 1) * x.sum() + z * y[1] + np.sum(w) ** 2 / 10 + v * y[2]

    p = 0.5
    # E[(Σw)²] = 3(7p + 5p²) + 54p² (Σ over i of E[w_i²] plus the cross terms); E[V Y2] = p²
    exact = 12 * p + 2 + 6 * p + (3 * (7 + 10 * p) + 108 * p) / 10 + 2 * p
    assert_unbiased(sad.derivative_samples(f, p, n_samples=100_000, rng=4, compile=False),
                    exact)  # the operator engine: its event table restarts
    restarts = [(m, lane) for m, start, lane in calls if lane > 0]
    assert any(m == 1 for m, _ in restarts) and any(m > 1 for m, _ in restarts)
    assert any(start > 0 and lane > 0 for _, start, lane in calls)  # grown after a collection


# EDGE: lazy liveness in PrunedBackend.inherit: draws that inherit an event pruned away in some
# lanes (A and B ~ Bernoulli(p) meet in S = A + B first), for closed-form couplings (geometric,
# bernoulli, categorical: dead events coupled too) and a walk (poisson: masked first).
# E[S G] = p/0.7 + p((1-p)/0.3 + p/0.7) with G ~ Geometric(0.3 + 0.4 A);
# E[S Z] = 4p + 2p² with Z ~ Poisson(1 + 2A); E[S D] = 0.9p + 0.5p² with D ~ Bernoulli(0.2 +
# 0.5A); E[S C] = 1.3p + 0.3p² with C ~ Categorical([0.5 - 0.3A, 0.5 + 0.3A]).
def test_draws_inheriting_a_dead_event(backend):
    p = 0.4

    def run(draw, seed):
        def f(q):
            a, b = sad.bernoulli(q), sad.bernoulli(q)
            s = a + b
            return s * draw(a)
        return sad.derivative_samples(f, p, n_samples=100_000, rng=seed, backend=backend)

    assert_unbiased(run(lambda a: sad.geometric(0.3 + 0.4 * a), 13),
                    1 / 0.7 + (1 - 2 * p) / 0.3 + 2 * p / 0.7)
    assert_unbiased(run(lambda a: sad.poisson(1 + 2 * a), 14), 4 + 4 * p)
    assert_unbiased(run(lambda a: sad.bernoulli(0.2 + 0.5 * a), 15), 0.9 + p)
    # categorical([0.5 - 0.3A, 0.5 + 0.3A]): E[C | A] = 0.5 + 0.3A
    assert_unbiased(run(lambda a: sad.categorical([0.5 - 0.3 * a, 0.5 + 0.3 * a]), 16),
                    1.3 + 0.6 * p)
