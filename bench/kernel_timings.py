"""Do the numba kernels pay off? Each against a pure-numpy version of the same step.

``python -m stochad.bench.kernel_timings`` (or ``stochad-bench kernels``) times, on
``(n_lanes, m)`` inputs,

* the pruning step of the pruned backend: :func:`stochad.kernels.count_conflicts` +
  :func:`stochad.kernels.prune_pair` (what :meth:`stochad.backends.PrunedBackend.prune`
  runs) against :func:`prune_pair_numpy`;
* the event-table lookup :func:`stochad.kernels.lookup_weights` against
  :func:`lookup_weights_numpy`;
* a draw's step: :func:`stochad.kernels.count_draw_conflicts` +
  :func:`stochad.kernels.attach_new_events` (what
  :meth:`stochad.backends.PrunedBackend.attach_new_events`
  runs: register the new events, pruned against the inherited ones) against
  :func:`attach_new_events_numpy`;
* a Bernoulli draw's coupling :func:`stochad.kernels.bernoulli_coupled` (the jump
  ``[u < p + Δ] - [u < p]``, with the moved ``p`` validated) against
  :func:`bernoulli_coupled_numpy`,

and checks that both give the same results (for ``m = 1`` exactly; with several elements per
lane the numpy version consumes the uniforms column by column instead of lane by lane, which
pairs different uniforms with the conflicts but has the same distribution).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from stochad import kernels
from stochad.backends import PrunedBackend
from stochad.context import Run
from stochad.kernels import NO_EVENT, SLOT_BITS, SLOT_MASK


def _lookup(events, weights, generations):
    """Weights of ``events`` (one column per lane) and their slots; 0 where absent or dead."""
    lanes = np.arange(events.shape[0])
    present = events >= 0
    slots = np.where(present, events & SLOT_MASK, 0)
    valid = present & (generations[lanes, slots] == events >> SLOT_BITS)
    return np.where(valid, weights[lanes, slots], 0.0), slots


def lookup_weights_numpy(events, weights, generations):
    """Pure-numpy :func:`stochad.kernels.lookup_weights`.

    Examples
    --------
    >>> w, g = np.array([[0.5, 0.0]]), np.array([[1, 0]])
    >>> lookup_weights_numpy(np.array([[1 << SLOT_BITS, -1]]), w, g)
    array([[0.5, 0. ]])
    """
    return np.stack([_lookup(events[:, j], weights, generations)[0]
                     for j in range(events.shape[1])], axis=1)


def prune_pair_numpy(event_a, jump_a, event_b, jump_b, weights, generations, uniforms):
    """Pure-numpy :func:`stochad.kernels.prune_pair`: same rule, vectorised over lanes.

    Columns are processed one after the other (a kill in one column must be seen by the next
    column of the same lane); within a column all lanes go at once.
    """
    n_lanes, m = event_a.shape
    event_out = np.empty((n_lanes, m), dtype=np.int64)
    kept_a, kept_b = np.zeros((n_lanes, m)), np.zeros((n_lanes, m))
    used = 0
    for j in range(m):
        a, b, da, db = event_a[:, j], event_b[:, j], jump_a[:, j], jump_b[:, j]
        wa, sa = _lookup(a, weights, generations)
        wb, sb = _lookup(b, weights, generations)
        wa = np.where(da != 0, wa, 0.0)
        wb = np.where(db != 0, wb, 0.0)
        same = a == b
        conflict = ~same & (wa != 0) & (wb != 0)
        lanes = np.flatnonzero(conflict)
        u = uniforms[used:used + lanes.size]
        used += lanes.size
        abs_a, abs_b = np.abs(wa[lanes]), np.abs(wb[lanes])
        total = abs_a + abs_b
        win_a = u * total < abs_a
        la, lb = lanes[win_a], lanes[~win_a]
        weights[la, sa[la]] = wa[la] * total[win_a] / abs_a[win_a]
        weights[la, sb[la]] = 0.0
        weights[lb, sb[lb]] = wb[lb] * total[~win_a] / abs_b[~win_a]
        weights[lb, sa[lb]] = 0.0
        won_a = np.zeros(n_lanes, dtype=bool)
        won_a[la] = True
        keep_a = same | ((wa != 0) & (wb == 0)) | won_a
        keep_b = same | ((wb != 0) & ~keep_a)
        event_out[:, j] = np.where(keep_a, a, np.where(keep_b, b, NO_EVENT))
        kept_a[:, j] = np.where(keep_a, da, 0.0)
        kept_b[:, j] = np.where(keep_b, db, 0.0)
    return event_out, kept_a, kept_b


def attach_new_events_numpy(inherited, alternative_jump, new_weight, new_jump, weights,
                            generations, uniforms):
    """Pure-numpy :func:`stochad.kernels.attach_new_events` (the table has room for all).

    Columns one after the other, all lanes at once within a column; a new event that meets no
    live inherited one takes its lane's first free slot, as in the kernel.
    """
    n_lanes, m = new_weight.shape
    events, jumps = np.empty((n_lanes, m), dtype=np.int64), np.empty((n_lanes, m))
    used = 0
    for j in range(m):
        a, da = inherited[:, j], alternative_jump[:, j]
        w, d = new_weight[:, j], new_jump[:, j]
        wa, sa = _lookup(a, weights, generations)
        live = (da != 0) & (wa != 0)
        events[:, j] = np.where(live, a, NO_EVENT)
        jumps[:, j] = np.where(live, da, 0.0)
        lanes = np.flatnonzero(live & (w != 0))
        u = uniforms[used:used + lanes.size]
        used += lanes.size
        total = np.abs(wa[lanes]) + np.abs(w[lanes])
        old_wins = u * total < np.abs(wa[lanes])
        keep = lanes[old_wins]
        weights[keep, sa[keep]] = np.copysign(total[old_wins], wa[keep])
        slots = np.zeros(n_lanes, dtype=np.int64)
        slots[lanes] = sa[lanes]  # a new event that wins takes the slot it freed
        fresh = np.flatnonzero(~live & (w != 0))
        slots[fresh] = np.argmax(weights[fresh] == 0, axis=1)
        new = np.concatenate([lanes[~old_wins], fresh])
        new_weights = np.concatenate([np.copysign(total[~old_wins], w[lanes[~old_wins]]),
                                      w[fresh]])
        generations[new, slots[new]] += 1
        weights[new, slots[new]] = new_weights
        events[new, j] = (generations[new, slots[new]] << SLOT_BITS) | slots[new]
        jumps[new, j] = d[new]
    return events, jumps


def _inputs(n_lanes: int, m: int, seed: int = 0):
    """Two live events per lane (slots 0 and 1); each element references one, both or none."""
    rng = np.random.default_rng(seed)
    weights = np.zeros((n_lanes, 4))
    weights[:, :2] = rng.exponential(size=(n_lanes, 2))
    generations = np.zeros((n_lanes, 4), dtype=np.int64)
    generations[:, :2] = 1

    def side(slot):
        events = np.where(rng.random((n_lanes, m)) < 0.6, (1 << SLOT_BITS) | slot, NO_EVENT)
        return events.astype(np.int64), rng.choice([-1.0, 1.0], (n_lanes, m))

    return (*side(0), *side(1)), (weights, generations)


def _kernel_step(pairs, table, seed, backend):
    """The engine's pruning step, :meth:`stochad.backends.PrunedBackend.prune` (numba
    kernels), on ``backend`` given the event ``table`` (the backend is made outside the
    timing: allocating its own table would be timed too)."""
    run = Run(np.random.default_rng(seed), backend.n_lanes, backend)
    backend.weights, backend.generations = table
    return backend.prune(run, *pairs)


def _numpy_step(pairs, table, seed):
    """The same step in numpy: as many uniforms as candidate conflicts, then the rule."""
    event_a, jump_a, event_b, jump_b = pairs
    candidates = np.count_nonzero((event_a != event_b) & (jump_a != 0) & (jump_b != 0))
    uniforms = np.random.default_rng(seed).random(candidates)
    return prune_pair_numpy(*pairs, *table, uniforms)


def _draw_inputs(n_lanes: int, m: int, seed: int = 0):
    """A draw on ``(n_lanes, m)`` elements: inherited events (live, slot 0) whose alternative
    jump is rarely non-zero, new weights on half the elements, and a table with room for all."""
    rng = np.random.default_rng(seed)
    weights = np.zeros((n_lanes, m + 2))
    weights[:, 0] = rng.exponential(size=n_lanes)
    generations = np.zeros((n_lanes, m + 2), dtype=np.int64)
    generations[:, 0] = 1
    inherited = np.full((n_lanes, m), 1 << SLOT_BITS, dtype=np.int64)
    alternative = np.where(rng.random((n_lanes, m)) < 0.05, 1.0, 0.0)
    new_weight = np.where(rng.random((n_lanes, m)) < 0.5, rng.exponential(size=(n_lanes, m)),
                          0.0)
    new_jump = np.where(new_weight != 0, 1.0, 0.0)
    return (inherited, alternative, new_weight, new_jump), (weights, generations)


def _kernel_draw(draw, table, seed, backend):
    """:meth:`stochad.backends.PrunedBackend.attach_new_events` on ``backend`` given the
    event ``table``."""
    run = Run(np.random.default_rng(seed), backend.n_lanes, backend)
    backend.weights, backend.generations = table
    return backend.attach_new_events(run, *draw)


def _numpy_draw(draw, table, seed):
    """The same step in numpy: as many uniforms as candidate conflicts, then the rule."""
    inherited, alternative, new_weight, _ = draw
    candidates = np.count_nonzero((inherited >= 0) & (alternative != 0) & (new_weight != 0))
    uniforms = np.random.default_rng(seed).random(candidates)
    return attach_new_events_numpy(*draw, *table, uniforms)


def bernoulli_coupled_numpy(u, p, dp):
    """Pure-numpy :func:`stochad.kernels.bernoulli_coupled`, as the generic coupling of a draw
    computes it: shift the parameter, validate it, compare, and take the difference.

    Examples
    --------
    >>> bernoulli_coupled_numpy(np.array([0.5, 0.5]), np.array([0.4, 0.6]), np.array([0.2, 0.0]))
    array([1., 0.])
    """
    moved = p + dp
    if not (moved.min() >= 0 and moved.max() <= 1):
        raise ValueError("p must be in [0, 1] on the alternative path")
    return np.subtract((u < moved).astype(np.int64), (u < p).astype(np.int64),
                       dtype=np.float64)


def _bernoulli_inputs(n: int):
    rng = np.random.default_rng(2)
    u, p = rng.random(n), rng.uniform(0.2, 0.8, n)
    return u, p, np.where(rng.random(n) < 0.5, rng.uniform(-0.2, 0.2, n), 0.0)


def _best(step, args, table, repeat):
    """Best time of ``repeat`` calls on fresh copies of the event ``table`` (and the result)."""
    best, out = np.inf, None
    for _ in range(repeat):
        fresh = tuple(t.copy() for t in table)
        start = time.perf_counter()
        out = step(*args, fresh)
        best = min(best, time.perf_counter() - start)
    return best, out


def _same(x, y) -> bool:
    return all(np.array_equal(a, b) for a, b in zip(x, y, strict=True))


def compare(n_lanes: int, m: int, repeat: int):
    """``[(step, numba seconds, numpy seconds, identical)]`` on ``(n_lanes, m)`` inputs."""
    pairs, table = _inputs(n_lanes, m)
    small = tuple(a[:2] for a in pairs), tuple(t[:2].copy() for t in table)
    _kernel_step(*small, 1, PrunedBackend(2))  # compile/load the kernels first
    kernels.lookup_weights(small[0][0], *small[1])
    run = PrunedBackend(n_lanes)
    rows = []
    for name, fast, slow, args in [
        ("prune step", lambda p, t: _kernel_step(p, t, 1, run),
         lambda p, t: _numpy_step(p, t, 1), (pairs,)),
        ("lookup weights", lambda e, t: [kernels.lookup_weights(e, *t)],
         lambda e, t: [lookup_weights_numpy(e, *t)], (pairs[0],)),
    ]:
        t_numba, out_numba = _best(fast, args, table, repeat)
        t_numpy, out_numpy = _best(slow, args, table, repeat)
        rows.append((name, t_numba, t_numpy, _same(out_numba, out_numpy)))
    draw, table = _draw_inputs(n_lanes, m)
    small = tuple(a[:2] for a in draw), tuple(t[:2].copy() for t in table)
    _kernel_draw(*small, 1, PrunedBackend(2))
    run = PrunedBackend(n_lanes)
    t_numba, out_numba = _best(lambda d, t: _kernel_draw(d, t, 1, run), (draw,), table, repeat)
    t_numpy, out_numpy = _best(lambda d, t: _numpy_draw(d, t, 1), (draw,), table, repeat)
    rows.append(("draw step", t_numba, t_numpy, _same(out_numba, out_numpy)))
    coupling = _bernoulli_inputs(n_lanes * m)
    kernels.bernoulli_coupled(*(a[:2] for a in coupling), np.empty(2))

    def kernel_coupling(u, p, dp, table):
        out = np.empty(u.size)
        kernels.bernoulli_coupled(u, p, dp, out)
        return [out]

    t_numba, out_numba = _best(kernel_coupling, coupling, (), repeat)
    t_numpy, out_numpy = _best(lambda u, p, dp, t: [bernoulli_coupled_numpy(u, p, dp)],
                               coupling, (), repeat)
    rows.append(("bernoulli coupling", t_numba, t_numpy, _same(out_numba, out_numpy)))
    return rows


def report(n_lanes: int = 200_000, repeat: int = 5, widths=(1, 64)) -> str:
    """A table of :func:`compare` for each number of elements per lane in ``widths``."""
    lines = [f"{'step':18s} {'lanes x m':>13s} {'numba ms':>9s} {'numpy ms':>9s} "
             f"{'numpy/numba':>11s}  same result"]
    for m in widths:
        lanes = max(1, n_lanes // m)
        for step, t_numba, t_numpy, same in compare(lanes, m, repeat):
            lines.append(f"{step:18s} {f'{lanes}x{m}':>13s} {1e3 * t_numba:9.2f} "
                         f"{1e3 * t_numpy:9.2f} {t_numpy / t_numba:11.1f}  "
                         f"{'yes' if same else 'no (uniform order)' if m > 1 else 'NO'}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stochad.bench.kernel_timings",
                                     description=__doc__)
    parser.add_argument("--lanes", type=int, default=200_000, help="elements in all")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    print(report(args.lanes, args.repeat))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
