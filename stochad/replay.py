"""The replay engine: one sample per call by re-simulating one flipped event (DESIGN §5).

Per sample, the program runs twice (or a few times):

1. **Tracking run** (:class:`Tracking`): the parameter is a :class:`~stochad.dual.Dual`. Each
   draw records its uniform (or standard noise) under a *key*: its call site in the user's
   code (code object and bytecode offset of the first frame outside stochad) and its
   occurrence count there. Discrete draws return plain integers and record their candidate
   perturbations (alternative outcome, weight ``w`` of DESIGN §1's table); continuous draws
   return reparameterised dual numbers with a provenance, so that a comparison with a moving
   threshold records a Bernoulli event on the draw's noise.
2. **Choice**: one candidate ``J`` with probability ``w_J / W`` (pruned), or every candidate
   (exact).
3. **Replay run** (:class:`Replay`): the program on plain numbers, the same uniforms by key,
   draw ``J`` forced to its alternative, every later draw coupled by inversion through its
   recorded uniform (a draw without a record takes a fresh one). The sample is
   ``δ + W·(f_alt − f)``. A comparison event is replayed twice, its draw at the boundary on
   either side, and ``f_alt − f_ref`` replaces ``f_alt − f``, unless the program sees the
   noise only through comparisons that come out the same at the boundary (then
   ``f_ref = f``, see :func:`_used`).

The runs are :class:`~stochad.tracking.Tracking` and :class:`~stochad.replaying.Replay`, on the
machinery of :mod:`stochad.tapes`; this module chooses the event and drives the samples.

Randomness must come through stochad (``sad.Generator()``, ``sad.bernoulli``, ...); hidden
randomness or global state mutated between the runs is outside the method. A replay whose
draws before ``J`` differ from the tracking run's raises :class:`ReplayMismatchError`.

Examples
--------
>>> import stochad as sad
>>> def f(p):                       # Python control flow on drawn values
...     n = 0
...     while sad.bernoulli(p):
...         n += 1
...     return n
>>> est = sad.derivative_estimate(f, 0.5, n_samples=20_000, rng=0, vectorize=False)
>>> abs(est - 4.0) < 0.3            # E[n] = p/(1 − p): derivative 1/(1 − p)² = 4
True
"""

from __future__ import annotations

import bisect
import math
import operator

import numpy as np

from .backends import ExactBackend, backend_class
from .backends.exact import ExactPerturbation
from .backends.pruned import PrunedBackend, PrunedPerturbation
from .context import Run, _current_tape
from .dual import Dual
from .kernels import NO_EVENT
from .replaying import Replay
from .tapes import NotReplayable, ReplayMismatchError, Shared, escape, mismatch
from .tracking import Tracking
from .triple import StochasticTriple

__all__ = ["REPLAYED", "NotReplayable", "Replay", "ReplayMismatchError", "Shared", "Tracking",
           "events_of", "replays", "samples_along", "sample", "stochastic_triple"]


# -- the driver ------------------------------------------------------------------------------------
def _each(candidates):
    """Every candidate event as a tuple (a block's element by element)."""
    for c in candidates:
        if type(c) is tuple:
            yield c
        else:
            yield from (c.event(j) for j in range(len(c)))


def _magnitudes(candidates):
    for c in candidates:
        if type(c) is tuple:
            yield abs(c[0])
        else:
            yield from c.magnitudes()


def _choose(candidates, target):
    """The first candidate event at which the running sum of ``|w|`` exceeds ``target`` (the
    last one if rounding leaves none); a block adds its events in the same order
    (:meth:`~stochad.tapes.Block.find`)."""
    acc = 0.0
    for c in candidates:
        if type(c) is tuple:
            acc += abs(c[0])
            if target < acc:
                return c
        else:
            j, acc = c.find(acc, target)
            if j >= 0:
                return c.event(j)
    last = candidates[-1]
    return last if type(last) is tuple else last.event(len(last) - 1)


def _threshold(magnitudes, k):
    """``τ`` of threshold sampling ``k`` of the events of ``magnitudes`` (finite ``|w|``,
    more than ``k`` of them positive): ``Σ min(1, |w_i|/τ) = k``. An event with ``|w_i| ≥ τ``
    is replayed for certain (weight ``w_i``), each other with probability ``|w_i|/τ``
    (weight ``±τ``). The sums of the smaller weights run from the smallest up (numpy's
    running sum adds in order), so weights spanning more than 2⁵³ lose nothing to
    cancellation."""
    ascending = np.sort(np.asarray(magnitudes, dtype=float))
    rest = np.cumsum(ascending)[::-1]  # rest[c] = Σ of all but the c largest
    for c in range(k - 1):
        tau = float(rest[c] / (k - c))
        if ascending[-1 - c] < tau:
            return tau
    return float(rest[k - 1])  # the k-th largest is below the sum of it and the smaller ones


def _selection(candidates, k, uniform):
    """``[(candidate, weight)]``: ``k`` of the candidate events by threshold sampling with
    inclusion probabilities ``min(1, |w_i|/τ)`` (:func:`_threshold`; VarOpt, as the kpaths
    backend drops events, docs/design.md §1), every one if at most ``k`` have a weight or a
    weight is not finite (the exact sample, as the exact backend gives it). The uncertain ones
    are put in a random order (a draw of ``uniform()`` each) and picked systematically by one
    more draw ``u``: points ``(u + i)·τ`` on their running sum of ``|w|``, each at most one
    point since ``|w_i| < τ``. Every event keeps its expectation (``π_i·τ = |w_i|``); the
    random order keeps events whose jumps repeat with a period in the run's order from being
    picked in step. Candidates with a large block of events go by :func:`_selection_arrays`
    (the same arithmetic on arrays: the same events)."""
    if any(type(c) is not tuple and len(c) > _LARGE_BLOCK for c in candidates):
        return _selection_arrays(candidates, k, uniform)
    events = [c for c in _each(candidates) if c[0] != 0.0]
    magnitudes = [abs(c[0]) for c in events]
    if len(events) <= k or not math.isfinite(math.fsum(magnitudes)):
        return [(c, c[0]) for c in events]
    tau = _threshold(magnitudes, k)
    chosen = [(c, c[0]) for c, m in zip(events, magnitudes, strict=True) if m >= tau]
    uncertain = sorted(((uniform(), c, m) for c, m in zip(events, magnitudes, strict=True)
                        if m < tau), key=operator.itemgetter(0))
    acc, point = 0.0, uniform() * tau
    for _, c, m in uncertain:
        if len(chosen) == k:
            return chosen
        acc += m
        if point < acc:
            chosen.append((c, math.copysign(tau, c[0])))
            point += tau
    last = uncertain[-1][1]  # the last point past the running sum by rounding
    if len(chosen) < k and (not chosen or chosen[-1][0] is not last):
        chosen.append((last, math.copysign(tau, last[0])))
    return chosen


_LARGE_BLOCK = 256
"""A block of more candidate events than this (``rng.poisson(m, size=z)`` with a large ``z``)
sends :func:`_selection` to arrays: a tuple per event cost 100 ms a sample at 100,000."""


def _selection_arrays(candidates, k, uniform):
    """:func:`_selection` on one array of every event's weight: the same sums in the same
    order (sorted magnitudes summed from the smallest up, running sums in the random order),
    the same uniforms drawn, tuples made for the chosen events only."""
    offsets, parts, n = [], [], 0
    for c in candidates:
        offsets.append(n)
        size = 1 if type(c) is tuple else len(c)
        parts.append(np.broadcast_to(np.asarray(c[0] if type(c) is tuple else c.weights,
                                                dtype=float), (size,)))
        n += size
    weights = np.concatenate(parts)
    where = np.flatnonzero(weights != 0.0)

    def event(i):  # the candidate tuple of event i (an index into weights)
        at = bisect.bisect_right(offsets, i) - 1
        c = candidates[at]
        return c if type(c) is tuple else c.event(i - offsets[at])

    magnitudes = np.abs(weights[where])
    if where.size <= k or not math.isfinite(math.fsum(magnitudes)):
        return [(c, c[0]) for c in map(event, where.tolist())]
    tau = _threshold(magnitudes, k)
    certain = magnitudes >= tau
    chosen = [(c, c[0]) for c in map(event, where[certain].tolist())]
    uncertain, masses = where[~certain], magnitudes[~certain]
    order = np.argsort(np.array([uniform() for _ in range(uncertain.size)]), kind="stable")
    sums = np.cumsum(masses[order])
    point, start, last = uniform() * tau, 0, -1
    while len(chosen) < k:
        j = start + int(np.searchsorted(sums[start:], point, side="right"))
        if j >= sums.size:  # the last point past the running sum by rounding
            if last != sums.size - 1:
                c = event(int(uncertain[order[-1]]))
                chosen.append((c, math.copysign(tau, c[0])))
            break
        c = event(int(uncertain[order[j]]))
        chosen.append((c, math.copysign(tau, c[0])))
        point, start, last = point + tau, j + 1, j
    return chosen


def _values(result, what="the function"):
    """A run's output and its dual part (zeros for plain outputs): Python floats for one
    number (the hot path), float arrays otherwise."""
    kind = type(result)
    if kind is float:
        return result, 0.0
    if kind is Dual:
        escape([result])
        v, d = result.v, result.d
        if type(v) is float and type(d) is float:
            return v, d
        v = np.asarray(v, dtype=float)
        return v, np.broadcast_to(np.asarray(d, dtype=float), v.shape)
    if kind is int:
        return float(result), 0.0
    if isinstance(result, list | tuple):
        parts = [_values(r, what) for r in result]
        return (np.stack([np.asarray(p[0], dtype=float) for p in parts]),
                np.stack([np.asarray(p[1], dtype=float) for p in parts]))
    if result is None:
        raise TypeError(f"{what} returned None; return the value to differentiate "
                        "(is a return statement missing?)")
    v = np.asarray(result)
    if v.dtype == object:
        raise TypeError(f"{what} returned an object array; return a dual number or numbers, "
                        "or build arrays with np.stack")
    if v.dtype.kind == "c":
        raise TypeError(f"{what} returned a complex value; return real numbers")
    v = v.astype(float)
    return v, np.zeros(v.shape)


def _run(tape, f, x):
    token = _current_tape.set(tape)
    try:
        return f(x)
    finally:
        _current_tape.reset(token)


def _replayed(f, p, tracking, serial, elem, forced, shape):
    tape = Replay(tracking, serial, elem, forced)
    try:
        result = _run(tape, f, np.array(p, copy=True) if isinstance(p, np.ndarray) else p)
    except ValueError as error:  # e.g. a parameter valid on the primal path only
        raise ValueError(f"{error} (on the alternative path of a perturbation, in a replay "
                         "run)") from error
    out, _ = _values(result)
    if not tape.reached():
        raise mismatch("ended")
    if (() if type(out) is float else np.shape(out)) != shape:
        raise ValueError(f"the function's output has shape {np.shape(out)} in a replay run "
                         f"but {shape} in the tracking run; keep the output's shape fixed")
    return out


def _difference(f, p, tracking, value, candidate):
    """``f_alt − f_ref`` of one candidate event (``f_ref = f`` unless it is a comparison whose
    noise the program also used otherwise)."""
    serial, elem = candidate[1], candidate[2]
    forced, reference = tracking.sides(candidate)
    shape = () if type(value) is float else value.shape
    alt = _replayed(f, p, tracking, serial, elem, forced, shape)
    if reference is None:
        return alt - value
    if not _used(tracking.records[serial][1], elem, reference):
        return alt - value
    return alt - _replayed(f, p, tracking, serial, elem, reference, shape)


def _used(rec, elem, reference) -> bool:
    """Whether the program may see the noise of ``rec`` at ``reference`` (this side of an
    event's boundary) otherwise than at its actual value: then ``f_ref`` needs its own replay.

    Not if the noise was only compared (never used up otherwise, :mod:`stochad.dual`) and
    every comparison of a scalar noise has the same outcome at ``reference``: the record's
    interval ``[flo, fhi)`` of ``F(z)``, which each comparison narrowed, holds it (``if u < a:
    ... elif u < b:``, ``while t < T`` then ``if t >= T``). An array's noise: not if this was
    its only comparison."""
    if rec.escaped:
        return True
    if elem is not None and rec.views is not None and elem in rec.views:
        rec = rec.views[elem]  # an element compared as one number: its own record
        if rec.escaped:
            return True
    elif elem is not None or type(rec.z) is not float:
        return rec.compared != 1 or rec.views is not None
    return not rec.flo <= rec.law.cdf_pdf(reference)[0] < rec.fhi


def _tracked(f, p, d, shared):
    """The tracking run of one sample: ``(tracking tape, value, δ)``."""
    tracking = Tracking(shared)
    x = Dual(np.array(p, copy=True), d) if isinstance(p, np.ndarray) else Dual(p, d)
    value, delta = _values(_run(tracking, f, x))
    return tracking, value, delta


def _one_event(f, p, d, shared):
    """Tracking run and one replayed event: ``(value, δ, W, f_alt − f_ref)``."""
    tracking, value, delta = _tracked(f, p, d, shared)
    candidates = tracking.candidates
    if not candidates:
        return value, delta, 0.0, (0.0 if type(value) is float else np.zeros(value.shape))
    # chosen with probability |w_J| / Σ|w| (a weight is negative only at a boundary of the
    # parameter's domain, docs/decisions.md): the sample carries W = Σ|w| with w_J's sign
    total = math.fsum(_magnitudes(candidates))
    chosen = _choose(candidates, shared.stream.uniform() * total)
    weight = math.copysign(total, chosen[0])
    return value, delta, weight, _difference(f, p, tracking, value, chosen)


def sample(f, p, d, shared: Shared, events: int | None = 1):
    """One derivative sample of ``f`` at ``p`` along ``d`` (see the module docstring),
    replaying one event (``events=1``, pruned), ``events`` of them (kpaths,
    :func:`_selection`) or every one (``None``, exact): a float for a one-number output."""
    if events == 1:
        _, delta, total, jump = _one_event(f, p, d, shared)
        return delta + total * jump
    tracking, value, delta = _tracked(f, p, d, shared)
    out = np.array(delta, dtype=float)
    for candidate, weight in _chosen(tracking, events, shared):
        out += weight * _difference(f, p, tracking, value, candidate)
    return out


def _chosen(tracking, events, shared):
    """``[(candidate, weight)]`` a sample replays: every event (``events=None``, exact) or
    ``events`` of them (:func:`_selection`)."""
    if events is None:
        return [(c, c[0]) for c in _each(tracking.candidates)]
    return _selection(tracking.candidates, events, shared.stream.uniform)


def _start(p, d):
    p = p.item() if p.ndim == 0 else p
    return p, (d.item() if np.ndim(d) == 0 else np.asarray(d, dtype=float))


REPLAYED = ("pruned", "kpaths", "exact")
"""The backends whose samples one sample per call are replay samples (:func:`events_of`)."""


def replays(backend) -> bool:
    """Whether one sample per call with ``backend`` (a name, ``"kpaths:K"`` included) runs
    the replay engine.

    Examples
    --------
    >>> replays("kpaths:2"), replays("smoothed")
    (True, False)
    """
    return backend_class(backend).name.split(":")[0] in REPLAYED


def events_of(backend) -> int | None:
    """The events a replay sample of ``backend`` replays: 1 (``"pruned"``), ``K``
    (``"kpaths:K"``; ``"kpaths"``: 4) or all (``"exact"``: ``None``).

    Examples
    --------
    >>> events_of("pruned"), events_of("kpaths"), events_of("kpaths:8"), events_of("exact")
    (1, 4, 8, None)
    """
    cls = backend_class(backend)
    return None if cls is ExactBackend else getattr(cls, "paths", 1)


def samples_along(f, p, d, n_samples, generator, backend) -> np.ndarray:
    """``n_samples`` replay samples of ``backend`` (:func:`events_of`)."""
    shared = Shared(generator)
    p, d = _start(p, d)
    events = events_of(backend)
    return np.array([sample(f, p, d, shared, events) for _ in range(n_samples)], dtype=float)


def stochastic_triple(f, p, d, n_samples, generator, backend="pruned") -> StochasticTriple:
    """Replayed samples shown as one triple (one lane per sample): the value, the dual part
    and the jump ``f_alt − f_ref`` of each replayed event with its weight (pruned: one event
    with weight ``W``; kpaths and exact, :func:`events_of`: their events, as the exact
    backend holds them)."""
    shared = Shared(generator)
    p, d = _start(p, d)
    events = events_of(backend)
    if events != 1:
        return _replayed_triple(f, p, d, n_samples, generator, shared, events)
    runs = [_one_event(f, p, d, shared) for _ in range(n_samples)]
    value, delta, weight, jump = (np.stack([np.asarray(r[i], dtype=float) for r in runs])
                                  for i in range(4))
    backend = PrunedBackend(n_samples)
    backend.weights[:, 0] = weight   # every lane's one event lives in slot 0, generation 0
    run = Run(generator, n_samples, backend)
    event = np.where(np.reshape(weight, (-1,) + (1,) * (value.ndim - 1)) != 0, 0, NO_EVENT)
    return StochasticTriple(value, delta, PrunedPerturbation(
        jump, np.broadcast_to(event, value.shape).copy()), run=run)


def _replayed_triple(f, p, d, n_samples, generator, shared, events):
    """:func:`stochastic_triple` of ``events`` events a sample (``None``: every one): lane
    ``i``'s events in channels ``0, 1, ...`` of an exact-backend perturbation."""
    values, deltas, lanes = [], [], []
    for _ in range(n_samples):
        tracking, value, delta = _tracked(f, p, d, shared)
        lanes.append([(weight, _difference(f, p, tracking, value, c))
                      for c, weight in _chosen(tracking, events, shared)])
        values.append(value)
        deltas.append(delta)
    value, delta = np.stack(values).astype(float), np.stack(deltas).astype(float)
    channels = max(1, max(len(lane) for lane in lanes))
    ids = np.full((channels,) + value.shape, NO_EVENT, dtype=np.int64)
    jumps, weights = np.zeros(ids.shape), np.zeros(ids.shape)
    for i, lane in enumerate(lanes):
        for c, (weight, jump) in enumerate(lane):
            ids[c, i], jumps[c, i], weights[c, i] = c, jump, weight
    return StochasticTriple(value, delta, ExactPerturbation(ids, jumps, weights),
                            run=Run(generator, n_samples, ExactBackend(n_samples)))
