"""Event-table kernels of the pruned backend: lookups, pruning, attaching new events.

Every kernel takes plain arrays (and arrays of uniforms drawn from the run's generator, never a
Generator object), so that the same numbers come out with the JIT on or off
(``NUMBA_DISABLE_JIT=1``). Each kernel's plain-Python meaning is ``kernel.py_func``; the tests
check that both agree exactly.

Shapes: ``(n_lanes, m)`` arrays hold ``m`` logical elements per lane, lanes first, C order.
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import njit

NO_EVENT = -1
BERNOULLI, BINOMIAL, POISSON, GEOMETRIC = 0, 1, 2, 3  # rows of the weight table
SLOT_BITS = 24
SLOT_MASK = (1 << SLOT_BITS) - 1

# An event id is ``generation << SLOT_BITS | slot``: the event lives in ``slot`` of its lane's
# table while the slot's generation matches. A slot whose weight is 0 is free; reusing it bumps
# its generation, so every stale reference to the old event reads weight 0 (dead) at once.
# The lookup is written out in each kernel: passing the tables to a helper function costs
# numba a reference-count update per call, which made these loops four times slower. So is the
# liveness test (event, jump, generation, weight): as a helper taking the loaded generation and
# weight it loads them before the short-circuit, and prune_pair ran about 25% slower.


@njit(inline="always")
def _cell(row, event):
    """Index of ``event``'s slot in the flattened table, given its lane's first cell ``row``.

    Unsigned, so numba emits no negative-index wrap-around; an absent event (``-1``) maps to
    the lane's slot 0, which the callers never trust (they test ``event >= 0`` as well).
    """
    return row + np.uint64((event & SLOT_MASK) * (event >= 0))


@njit
def lookup_weights(events, weights, generations):
    """Weight of each element's event (0 where absent or dead); ``events`` is ``(n_lanes, m)``."""
    n_lanes, m = events.shape
    n_slots = np.uint64(weights.shape[1])
    flat = events.reshape(-1)
    table_w, table_g = weights.reshape(-1), generations.reshape(-1)
    out = np.empty(flat.size)
    row = np.uint64(0)
    j = 0
    for i in range(flat.size):
        e = flat[i]
        c = _cell(row, e)
        live = e >= 0 and table_g[c] == e >> SLOT_BITS
        out[i] = table_w[c] if live else 0.0
        j += 1
        if j == m:
            j = 0
            row += n_slots
    return out.reshape(n_lanes, m)


@njit
def mark_referenced(events, jumps, generations, marks):
    """Set ``marks[lane, slot]`` for every live event that an element with a non-zero jump
    references (``events``/``jumps`` are ``(n_lanes, m)``); used to free leaked slots."""
    n_lanes, m = events.shape
    for lane in range(n_lanes):
        for j in range(m):
            e = events[lane, j]
            s = e & SLOT_MASK
            if e >= 0 and jumps[lane, j] != 0.0 and generations[lane, s] == e >> SLOT_BITS:
                marks[lane, s] = True


@njit
def free_unmarked(weights, marks):
    """Set the weight of every slot not in ``marks`` to 0 (free), in place: one pass, and
    exact where a weight is infinite (``weights *= marks`` would leave NaN there)."""
    w, keep = weights.reshape(-1), marks.reshape(-1)
    for i in range(w.size):
        w[i] = w[i] if keep[i] else 0.0


@njit
def count_conflicts(event_a, jump_a, event_b, jump_b):
    """Elements where two different events with non-zero jumps meet: an upper bound of the
    uniforms :func:`prune_pair` consumes (it also skips dead events)."""
    a, b = event_a.reshape(-1), event_b.reshape(-1)
    da, db = jump_a.reshape(-1), jump_b.reshape(-1)
    count = 0
    for i in range(a.size):
        count += (a[i] != b[i]) & (a[i] >= 0) & (b[i] >= 0) & (da[i] != 0.0) & (db[i] != 0.0)
    return count


@njit
def prune_pair(event_a, jump_a, event_b, jump_b, weights, generations, uniforms):
    """Reconcile two perturbations per element, keeping at most one (pruned backend).

    For each element, in lane-major order: equal events move together; an input whose jump is
    zero, or whose event is absent or dead, carries no perturbation; otherwise one of the two
    live events is kept with probability proportional to ``|weight|`` (consuming the next
    uniform), its weight is divided by that probability in the shared table, and the other is
    killed (weight 0) in that lane -- everywhere it is referenced.

    Parameters
    ----------
    event_a, event_b : int64 (n_lanes, m)
    jump_a, jump_b : float64 (n_lanes, m)
    weights, generations : (n_lanes, n_slots)
        The run's event table, updated in place.
    uniforms : float64 (k,)
        At least as many uniforms as :func:`count_conflicts` says, consumed in order.

    Returns
    -------
    event_out : int64 (n_lanes, m)
    kept_a, kept_b : float64 (n_lanes, m)
        The jumps that survive (the input jump, or 0 where that input lost).
    """
    n_lanes, m = event_a.shape
    n_slots = np.uint64(weights.shape[1])
    ea, eb = event_a.reshape(-1), event_b.reshape(-1)
    ja, jb = jump_a.reshape(-1), jump_b.reshape(-1)
    table_w, table_g = weights.reshape(-1), generations.reshape(-1)
    event_out = np.empty(ea.size, dtype=np.int64)
    kept_a = np.empty(ea.size)
    kept_b = np.empty(ea.size)
    used = 0
    row = np.uint64(0)  # the lane's first cell in the table
    j = 0  # the element's index within its lane
    # One flat loop with short-circuit liveness tests: a (lanes, m) double loop, or `&`
    # instead of `and`, made numba's code about 1.6x slower here.
    for i in range(ea.size):
        a, b, da, db = ea[i], eb[i], ja[i], jb[i]
        same = a == b
        ca, cb = _cell(row, a), _cell(row, b)
        wa, wb = table_w[ca], table_w[cb]
        live_a = a >= 0 and da != 0.0 and table_g[ca] == a >> SLOT_BITS and wa != 0.0
        live_b = (not same and b >= 0 and db != 0.0 and table_g[cb] == b >> SLOT_BITS
                  and wb != 0.0)
        if live_a and live_b:
            total = abs(wa) + abs(wb)
            live_a = uniforms[used] * total < abs(wa)
            live_b = not live_a
            used += 1
            table_w[ca] = math.copysign(total, wa) if live_a else 0.0
            table_w[cb] = math.copysign(total, wb) if live_b else 0.0
        keep_a = live_a or same
        keep_b = live_b or same
        event_out[i] = a if keep_a else (b if keep_b else NO_EVENT)
        kept_a[i] = da if keep_a else 0.0
        kept_b[i] = db if keep_b else 0.0
        j += 1
        if j == m:
            j = 0
            row += n_slots
    shape = (n_lanes, m)
    return event_out.reshape(shape), kept_a.reshape(shape), kept_b.reshape(shape)


@njit
def prune_sum(events, jumps, weights, generations, uniforms):
    """Sum perturbations along the last axis of ``(n_lanes, n_out, n_terms)`` arrays.

    The fused form of the chain ``acc = x[0]; acc = acc + x[1]; ...`` of :func:`prune_pair`
    calls, with the same rule: along each row, terms of the accumulated event add their jumps;
    a live term of another event meets the accumulated one, and one of the two is kept with
    probability proportional to ``|weight|`` (next uniform), rescaled, the other killed in its
    lane. Terms whose event is absent or dead, or whose jump is 0, carry nothing.

    Returns ``(event, jump)``, each ``(n_lanes, n_out)``. ``uniforms`` needs one per live term
    at most.
    """
    n_lanes, n_out, n_terms = events.shape
    n_slots = np.uint64(weights.shape[1])
    table_w, table_g = weights.reshape(-1), generations.reshape(-1)
    event_out = np.empty((n_lanes, n_out), dtype=np.int64)
    jump_out = np.empty((n_lanes, n_out))
    used = 0
    row = np.uint64(0)
    for lane in range(n_lanes):
        for r in range(n_out):
            acc, acc_jump = NO_EVENT, 0.0
            for t in range(n_terms):
                e, d = events[lane, r, t], jumps[lane, r, t]
                if e < 0 or d == 0.0:
                    continue
                if e == acc:
                    acc_jump += d
                    continue
                c = _cell(row, e)
                w = table_w[c]
                if table_g[c] != e >> SLOT_BITS or w == 0.0:
                    continue  # dead
                ca = _cell(row, acc)
                wa = table_w[ca]
                if not (acc >= 0 and acc_jump != 0.0 and table_g[ca] == acc >> SLOT_BITS
                        and wa != 0.0):
                    acc, acc_jump = e, d
                    continue
                total = abs(wa) + abs(w)
                if uniforms[used] * total < abs(wa):
                    table_w[ca] = math.copysign(total, wa)
                    table_w[c] = 0.0
                else:
                    table_w[c] = math.copysign(total, w)
                    table_w[ca] = 0.0
                    acc, acc_jump = e, d
                used += 1
            event_out[lane, r] = acc
            jump_out[lane, r] = acc_jump
        row += n_slots
    return event_out, jump_out


@njit
def count_draw_conflicts(inherited, alternative_jump, new_weight):
    """Elements where a draw's live-looking inherited perturbation meets a new one: an upper
    bound of the uniforms :func:`attach_new_events` consumes."""
    e, d, w = inherited.reshape(-1), alternative_jump.reshape(-1), new_weight.reshape(-1)
    count = 0
    for i in range(e.size):
        count += (e[i] >= 0) & (d[i] != 0.0) & (w[i] != 0.0)
    return count


@njit
def attach_new_events(inherited, alternative_jump, new_weight, new_jump, weights, generations,
                      uniforms, used, start_lane, event_out, jump_out):
    """A draw's perturbation: its inherited one and the new one its dual parts create, pruned.

    The fused form of "register the new events, then :func:`prune_pair` them against the
    inherited ones", with the same rule and the same uniforms: per element, in lane-major
    order,

    * no new weight: the inherited perturbation, if live;
    * a new weight and a live inherited perturbation: keep one with probability proportional
      to ``|weight|`` (next uniform), rescaled; a new event that wins takes the slot of the
      inherited one it killed;
    * a new weight only: the new event, in a free slot.

    All ``(n_lanes, m)``; fills ``event_out``/``jump_out`` from lane ``start_lane`` on, with
    ``uniforms`` consumed from index ``used``. Returns ``(lane, used)``: ``lane`` is ``-1``
    when done, or the first lane without enough free slots (left untouched, so the caller can
    grow the table and call again from it).
    """
    n_lanes, m = new_weight.shape
    n_slots = weights.shape[1]
    inh, alt = inherited.reshape(-1), alternative_jump.reshape(-1)
    new_w, new_d = new_weight.reshape(-1), new_jump.reshape(-1)
    events, jumps = event_out.reshape(-1), jump_out.reshape(-1)
    table_w, table_g = weights.reshape(-1), generations.reshape(-1)
    lane, j = start_lane, 0  # the element's lane, and its index within the lane
    row = np.uint64(lane * n_slots)  # the lane's first cell in the table
    s_next = 0  # with several elements per lane: no free slot before this one in the lane
    for i in range(start_lane * m, n_lanes * m):
        if j == 0 and m > 1:  # enough free slots for the whole lane? (m == 1: checked below)
            s_next = 0
            needed = 0
            for k in range(i, i + m):
                needed += new_w[k] != 0.0
            free = 0
            for s in range(n_slots):
                free += table_w[row + np.uint64(s)] == 0.0
            if free < needed:
                return lane, used
        a, da, w = inh[i], alt[i], new_w[i]
        ca = _cell(row, a)
        wa = table_w[ca]
        live_a = a >= 0 and da != 0.0 and table_g[ca] == a >> SLOT_BITS and wa != 0.0
        if live_a and w != 0.0:
            total = abs(wa) + abs(w)
            keep_old = uniforms[used] * total < abs(wa)
            used += 1
            if keep_old:
                table_w[ca] = math.copysign(total, wa)
                events[i], jumps[i] = a, da
            else:  # the new event takes the slot of the one it killed
                generation = table_g[ca] + 1
                table_g[ca] = generation
                table_w[ca] = math.copysign(total, w)
                events[i], jumps[i] = (generation << SLOT_BITS) | np.int64(ca - row), new_d[i]
        else:
            # the first free slot, if any (m == 1: branch-free, the occupancy is random; with
            # several elements the search resumes where the lane's last one stopped)
            s = n_slots
            if m == 1:
                for t in range(n_slots - 1, -1, -1):
                    s = t if table_w[row + np.uint64(t)] == 0.0 else s
            elif w != 0.0:
                s = s_next
                while s < n_slots and table_w[row + np.uint64(s)] != 0.0:
                    s += 1
                s_next = s + 1
            create = w != 0.0
            if s == n_slots and create:
                return lane, used  # only when m == 1: nothing in this lane was touched yet
            cell = row + np.uint64(min(s, n_slots - 1))
            generation = table_g[cell] + create
            table_g[cell] = generation
            table_w[cell] = w if create else table_w[cell]
            new_event = (generation << SLOT_BITS) | np.int64(cell - row)
            events[i] = new_event if create else (a if live_a else NO_EVENT)
            jumps[i] = new_d[i] if create else (da if live_a else 0.0)
        j += 1
        if j == m:
            j = 0
            lane += 1
            row += np.uint64(n_slots)
    return -1, used
