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
   either side, and ``f_alt − f_ref`` replaces ``f_alt − f`` (the program may use the noise
   beyond the comparison).

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

import itertools
import math
import operator
import os
import sys
import warnings
from collections import Counter
from sys import _getframe

import numpy as np

from . import samplers, scalar_laws
from .backends.pruned import PrunedBackend, PrunedPerturbation
from .context import Run, _current_tape
from .dual import Dual, LostDerivativeWarning, Source, stack_duals
from .kernels import NO_EVENT
from .triple import StochasticTriple

_BLOCK = 4096
_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep
_BENCH = _PACKAGE + "bench" + os.sep
_INSIDE: dict[str, bool] = {}
_SCALARS = (float, int, np.floating, np.integer)
_CATEGORICAL = samplers.CATEGORICAL
_BERNOULLI_DIST = samplers.BERNOULLI
_BERNOULLI = scalar_laws.BERNOULLI
_UNIFORM = scalar_laws.UNIFORM_NOISE
_EXPONENTIAL, _NORMAL = scalar_laws.EXPONENTIAL_NOISE, scalar_laws.NORMAL_NOISE


class ReplayMismatchError(RuntimeError):
    """A replay run drew differently from its tracking run before the flipped event."""


def _mismatch(what):
    return ReplayMismatchError(
        f"the replay run {what} before the flipped event, where it must repeat the tracking "
        "run exactly: the program has randomness that does not come through stochad (the "
        "global numpy RNG, random, a Generator not made by sad.Generator()) or mutates state "
        "that outlives one call (a global, a default argument, an object passed in); the "
        "replay engine (vectorize=False) cannot differentiate that"
    )


_CONTINUOUS = {"normal": ("loc", "scale"), "exponential": ("scale",), "uniform": ("low", "high")}
"""The continuous laws the replay engine draws, with their parameters' names."""


class NotReplayable(TypeError):
    """The program draws from a law (or calls a Generator method) the replay engine lacks;
    the estimators then run it on one-lane stochastic triples instead."""


def _unsupported(name):
    return NotReplayable(
        f"{name}: the replay engine (vectorize=False with backend 'pruned' or 'exact') has no "
        f"one-number-at-a-time law for it; it draws {', '.join(sorted(scalar_laws.LAWS))}, "
        f"{', '.join(_CONTINUOUS)}, random, integers and choice. Run this program batched "
        "(vectorize=True), or with estimator='score' or backend='smoothed' one sample per call")


def _inside(filename) -> bool:
    """Whether ``filename`` is stochad's own code (the bench programs, installed as
    ``stochad.bench``, are user code)."""
    return filename.startswith(_PACKAGE) and not filename.startswith(_BENCH)


def _user_frame():
    """The first frame outside the stochad package (the draw's call site)."""
    frame = sys._getframe(2)
    while True:
        name = frame.f_code.co_filename
        inside = _INSIDE.get(name)
        if inside is None:
            inside = _INSIDE[name] = _inside(name)
        if not inside:
            return frame
        frame = frame.f_back


def _site(depth=2):
    """The call site of a draw: ``(id of the code object, bytecode offset)`` of the first
    frame outside stochad, searched from ``depth`` frames up (the code object lives as long
    as the function, so its id is stable across the runs of a sample)."""
    frame = _getframe(depth)
    code = frame.f_code
    while _INSIDE.get(code.co_filename, True):  # the user's frame at once: the hot path
        name = code.co_filename
        if name not in _INSIDE:
            _INSIDE[name] = _inside(name)
            continue
        frame = frame.f_back
        code = frame.f_code
    return id(code), frame.f_lasti


def _numbers(draw):
    """Numbers from one generator method, drawn in blocks of ``_BLOCK``, one at a time (an
    endless generator: its ``__next__`` is the cheapest way to hand out one number)."""
    while True:
        yield from draw(_BLOCK).tolist()


class Stream:
    """Uniforms and standard normals from the run's generator, drawn in blocks (one rng drives
    every draw and choice of every sample: same seed, same samples). ``uniform()`` and
    ``normal()`` give one float each."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self._uniforms, self._normals = _numbers(rng.random), _numbers(rng.standard_normal)
        self.uniform, self.normal = self._uniforms.__next__, self._normals.__next__

    def uniforms(self, shape) -> np.ndarray:
        n = math.prod(shape)
        return np.fromiter(itertools.islice(self._uniforms, n), float, n).reshape(shape)

    def normals(self, shape) -> np.ndarray:
        n = math.prod(shape)
        return np.fromiter(itertools.islice(self._normals, n), float, n).reshape(shape)


class Shared:
    """What the samples of one estimator call share: the stream and the warned call sites."""

    def __init__(self, rng):
        self.stream = Stream(rng)
        self.warned: set = set()


class NoiseRecord:
    """A continuous draw's standard noise ``z`` (scalar or array), its law and serial;
    ``escaped``: its value was used beyond comparisons; ``compared``: comparisons with a
    moving threshold; ``[flo, fhi)``: what the run's comparisons so far revealed of ``F(z)``
    (scalar ``z``).

    A raw uniform is its own provenance (a :class:`~stochad.dual.Source` with ``a = 0``,
    ``b = 1``: one object fewer per ``rng.random()``). The defaults are class attributes, so
    that making a record sets four attributes (the hot path of ``rng.random() < p``)."""

    escaped, compared, flo, fhi = False, 0, 0.0, 1.0
    av, ad, bv, bd = 0.0, 0.0, 1.0, 0.0

    def __init__(self, serial, law, z):
        self.serial, self.law, self.z, self.rec = serial, law, z, self


def _plain_params(args):
    """Values and dual parts of the draw's parameters (``None`` dual part: plain)."""
    values, deltas = [], []
    for a in args:
        if isinstance(a, list | tuple) and any(isinstance(x, Dual) for x in _flat(a)):
            a = stack_duals(a)
        if type(a) is Dual:
            if a.src is not None:
                a.src.rec.escaped = True
            values.append(a.v)
            deltas.append(a.d)
        else:
            values.append(a)
            deltas.append(None)
    return values, deltas


def escape(values):
    """Mark the continuous draws behind ``values`` as used beyond comparisons."""
    for a in values:
        if type(a) is Dual and a.src is not None:
            a.src.rec.escaped = True


def _flat(items):
    for x in items:
        if isinstance(x, list | tuple):
            yield from _flat(x)
        else:
            yield x


def _nonzero(d):
    if type(d) is float:
        return d != 0.0
    return d is not None and bool(np.any(np.asarray(d) != 0))


def _spread(x, n):
    """``x`` as a 1-d array of ``n`` elements (it is one, or one number for all)."""
    return x if type(x) is np.ndarray and x.ndim == 1 else np.full(n, x)


# quick validity checks for scalar parameters; on failure the sampler's own validation
# raises its usual message
_QUICK_OK = {
    "bernoulli": lambda p: 0.0 <= p <= 1.0,
    "binomial": lambda n, p: 0 <= n < math.inf and n == math.floor(n) and 0.0 <= p <= 1.0,
    "poisson": lambda lam: 0.0 <= lam < math.inf,
    "geometric": lambda p: 0.0 < p <= 1.0,
}


class _Tape:
    """What tracking and replay runs share: parameter handling and the draw entry points."""

    def __init__(self, shared: Shared):
        self.shared = shared
        self.stream = shared.stream

    # the samplers' and Generator's hooks call these ------------------------------------------
    def draw(self, dist, args, size=None, rng=None):
        """A discrete draw of ``dist`` (a :class:`stochad.samplers.Distribution`)."""
        if rng is not None:
            raise ValueError(f"{dist.name}: inside a run every draw comes from the run's "
                             "generator; pass rng= to the estimator, not to the sampler")
        law = scalar_laws.LAWS.get(dist.name)
        if law is None:
            raise _unsupported(dist.name)
        if isinstance(size, np.integer):
            size = int(size)
        if dist.core_ndim == 0 and len(args) <= 2 and (
                size is None or type(size) is int and size >= 0):
            # the hot path: Python numbers (a dual part on the last parameter only), one
            # draw or a 1-d array of them (rng.poisson(m, size=z))
            p = args[-1]
            if type(p) is Dual:
                if p.src is not None:
                    p.src.rec.escaped = True
                v, d = p.v, p.d
            else:
                v, d = p, None
            n = args[0]
            if (type(v) is float or type(v) is int) and (
                    len(args) == 1 or type(n) is int or type(n) is float):
                values = (v,) if len(args) == 1 else (n, v)
                if not (0.0 <= v <= 1.0 if law is _BERNOULLI
                        else _QUICK_OK[dist.name](*values)):
                    dist.validate([np.asarray(x, dtype=float) for x in values])
                    raise ValueError(f"{dist.name}: invalid parameters {list(values)!r}")
                if size is None:
                    return self._scalar(law, values, d)
                if law.sample_array is not None:
                    return self._array(dist, law, (size,), [float(x) for x in values], d)
        values, deltas = _plain_params(args)
        if dist.name == "binomial" and _nonzero(deltas[0]):
            raise ValueError(
                "binomial: the number of trials n cannot carry a dual part (it is an integer); "
                "only finite perturbations of n (from discrete draws) are supported")
        if size is None and dist.core_ndim == 0 and all(isinstance(v, _SCALARS) for v in values):
            if not _QUICK_OK[dist.name](*values):
                dist.validate([np.asarray(v, dtype=float) for v in values])
                raise ValueError(f"{dist.name}: invalid parameters {values!r}")
            return self._scalar(law, values, deltas[-1])
        if size is None and dist.core_ndim == 1 and np.ndim(values[0]) == 1:
            probs = np.asarray(values[0], dtype=float)
            dist.validate([probs])
            d = deltas[0]
            return self._scalar(law, [probs.tolist()],
                                None if d is None else np.broadcast_to(d, probs.shape).tolist())
        shape, full = self._shape(dist, values, size)
        return self._array(dist, law, shape, full, deltas[-1])

    def _shape(self, dist, values, size):
        core = dist.core_ndim
        shapes = [np.shape(v)[: np.ndim(v) - core] for v in values]
        size = () if size is None else ((int(size),) if np.isscalar(size) else tuple(size))
        if core and np.ndim(values[0]) < 1:
            raise ValueError(f"{dist.name}: probs must have at least one category (an axis of "
                             f"probabilities), got shape {np.shape(values[0])}")
        shape = np.broadcast_shapes(*shapes, size)
        if size and shape != size:
            raise ValueError(f"{dist.name}: output size {size} is not compatible with the "
                             f"parameters' shapes {', '.join(map(str, shapes))}")
        full = [np.broadcast_to(np.asarray(v, dtype=float),
                                shape + np.shape(v)[np.ndim(v) - core:]) for v in values]
        dist.validate(full)
        return shape, full

    def continuous(self, name, params, size=None, rng=None):
        """A reparameterised draw: ``normal``, ``exponential`` or ``uniform``."""
        if rng is not None:
            raise ValueError(f"{name}: inside a run pass rng= to the estimator, not to the "
                             "sampler")
        labels = _CONTINUOUS.get(name)
        if labels is None:
            raise _unsupported(name)
        if size is None and name == "exponential":  # the hot path (Gillespie loops)
            scale = params[0]
            v = scale.v if type(scale) is Dual else scale
            if (type(v) is float or type(v) is int) and 0 <= v < math.inf:
                if type(scale) is Dual and scale.src is not None:
                    scale.src.rec.escaped = True
                return self._noise(scalar_laws.EXPONENTIAL_NOISE, (), 0.0, scale)
        if size is None and len(params) == len(labels):  # one number
            values = []
            for a in params:
                v = a.v if type(a) is Dual else a
                if (type(v) is not float and type(v) is not int) or not -math.inf < v < math.inf:
                    break
                values.append(v)
            else:
                escape(params)
                if name == "exponential" and values[0] >= 0:
                    return self._noise(scalar_laws.EXPONENTIAL_NOISE, (), 0.0, params[0])
                if name == "normal" and values[1] >= 0:
                    return self._noise(scalar_laws.NORMAL_NOISE, (), params[0], params[1])
                if name == "uniform":
                    return self._noise(_UNIFORM, (), params[0], params[1] - params[0])
        params = [stack_duals(a) if isinstance(a, list | tuple) else a for a in params]
        values = [a.v if type(a) is Dual else a for a in params]
        escape(params)
        if size is None and all(isinstance(v, float | int) for v in values):
            shape = ()
            for label, v in zip(labels, values, strict=True):
                if not (-math.inf < v < math.inf) or (label == "scale" and v < 0):
                    _bad_continuous(name, label, np.asarray(v, dtype=float))
        else:
            for label, v in zip(labels, values, strict=True):
                _bad_continuous(name, label, np.asarray(v, dtype=float))
            size = () if size is None else ((int(size),) if np.isscalar(size) else tuple(size))
            shape = np.broadcast_shapes(*(np.shape(v) for v in values), size)
        if name == "normal":
            a, b, law = params[0], params[1], scalar_laws.NORMAL_NOISE
        elif name == "exponential":
            a, b, law = 0.0, params[0], scalar_laws.EXPONENTIAL_NOISE
        else:
            a, b, law = params[0], params[1] - params[0], scalar_laws.UNIFORM_NOISE
        return self._noise(law, shape, a, b)

    def random(self, size=None, dtype=np.float64):
        """``Generator.random``: uniform noise that remembers its draw."""
        shape = () if size is None else ((int(size),) if np.isscalar(size) else tuple(size))
        return self._noise(scalar_laws.UNIFORM_NOISE, shape, 0.0, 1.0)

    def integers(self, low, high=None, size=None, dtype=np.int64, endpoint=False):
        """``Generator.integers``: ``low + floor(u·(high − low))``, coupled through ``u``."""
        if high is None:
            low, high = 0, low
        if size is None and type(low) is int and type(high) is int:  # the hot path
            high += 1 if endpoint else 0
            if high <= low:
                raise ValueError(f"integers: low >= high, got low={low!r}, high={high!r}")
            return low + int(float(self._uniform("integers", ())) * (high - low))
        bounds = []
        for label, bound in (("low", low), ("high", high)):
            if type(bound) is Dual:
                escape([bound])
                if _nonzero(bound.d):
                    raise ValueError(
                        f"integers: {label} carries a dual part; integer bounds can only move "
                        "by finite perturbations (from discrete draws)")
                bound = bound.v
            bounds.append(np.asarray(bound))
        low, high = bounds[0], bounds[1] + (1 if endpoint else 0)
        if np.any(high <= low):
            raise ValueError(f"integers: low >= high, got low={low!r}, high={high!r}")
        size = () if size is None else ((int(size),) if np.isscalar(size) else tuple(size))
        shape = np.broadcast_shapes(low.shape, high.shape, size)
        u = self._uniform("integers", shape)
        k = (low + np.floor(u * (high - low))).astype(dtype)
        return k.item() if k.ndim == 0 else k

    def choice(self, a, size=None, replace=True, p=None, axis=0, shuffle=True):
        """``Generator.choice``; random ``p`` draws a categorical index."""
        if type(a) is list and size is None and p is None and a:  # the hot path
            return a[self.integers(0, len(a))]
        table = a.v if type(a) is Dual else a
        escape([a])
        n = int(table) if np.ndim(table) == 0 else np.shape(table)[axis]
        if np.ndim(table) == 0 and (n != table or n <= 0):
            raise ValueError(f"choice: a must be a positive integer or an array, got {a!r}")
        if not replace:
            if p is not None and _nonzero(_plain_params([p])[1][0]):
                raise TypeError("choice(replace=False) with random probabilities has no "
                                "stochastic-triple rule; draw sequentially with categorical "
                                "and renormalised probabilities")
            count = math.prod(() if size is None else np.atleast_1d(size))
            keys = self._uniform("choice", (n,))
            with np.errstate(divide="ignore"):
                keys = np.log(keys) if p is None else np.log(keys) / np.asarray(p, float)
            idx = np.argsort(-keys, kind="stable")[:count].reshape(
                () if size is None else size)
        elif p is None:
            idx = self.integers(0, n, size)
        else:
            idx = self.draw(_CATEGORICAL, [p], size)
        if np.ndim(table) == 0:
            return idx
        if type(a) is Dual:
            return a[idx] if axis == 0 else Dual(np.take(a.v, idx, axis), np.take(
                np.broadcast_to(a.d, np.shape(a.v)), idx, axis))
        return np.take(np.asarray(a), idx, axis=axis)


class Tracking(_Tape):
    """The tracking run of one sample: records draws, keys and candidate events."""

    def __init__(self, shared):
        super().__init__(shared)
        self.records: list = []      # per draw, in order: (law name, uniform(s)/noise, outcome)
        self.sites: list = []        # per draw: its call site
        self.candidates: list = []   # (weight, draw serial, element, alternative, reference)
        self._events: set = set()    # comparison events seen: (draw serial, element, boundary)

    def _record(self, name, payload, k):
        self.sites.append(_site())
        self.records.append((name, payload, k))

    def key_tables(self, i):
        """``(counts, by_key)`` for a replay that leaves the tracking run's order at draw
        ``i``: the occurrence counts of the first ``i`` draws' sites (the same in both runs
        up to there), and the records of the draws from ``i`` on by key ``(site,
        occurrence)`` (the earlier keys cannot come up again)."""
        counts = Counter(self.sites[:i])
        seen, by_key = counts.copy(), {}
        for site, rec in zip(self.sites[i:], self.records[i:], strict=True):
            n = seen.get(site, 0)
            seen[site] = n + 1
            by_key[site, n] = rec
        return counts, by_key

    def bernoulli(self, p, size=None, rng=None):
        """``sad.bernoulli`` (the hot path: a scalar parameter, inline; else :meth:`draw`)."""
        if type(p) is Dual:
            v, d = p.v, p.d
        else:
            v, d = p, 0.0
        if size is not None or rng is not None or type(v) is not float or type(d) is not float \
                or not 0.0 <= v <= 1.0:
            return self.draw(_BERNOULLI_DIST, (p,), size, rng)
        u = self.stream.uniform()
        k = 1 if u < v else 0
        serial = len(self.records)
        self.sites.append(_site(3))  # bernoulli <- samplers.bernoulli <- user
        self.records.append(("bernoulli", u, k))
        # DESIGN §1's row, and the one-sided rule at p = 0 or 1 (a negative weight)
        if k == 0:
            if d > 0.0 or (d < 0.0 and v <= 0.0):
                self.candidates.append((d / (1.0 - v), serial, None, 1, None))
        elif d < 0.0 or (d > 0.0 and v >= 1.0):
            self.candidates.append((-d / v, serial, None, 0, None))
        return k

    def _scalar(self, law, values, d):
        u = self.stream.uniform()
        k = (1 if u < values[0] else 0) if law is _BERNOULLI else law.sample(u, *values)
        serial = len(self.records)
        self.sites.append(_site(4))  # _scalar <- draw <- samplers.draw <- sampler <- user
        self.records.append((law.name, u, k))
        if type(d) is float and law is _BERNOULLI:  # DESIGN §1's row, inline (the hot path)
            p = values[0]
            if k == 0:
                if d > 0.0 or (d < 0.0 and p <= 0.0):
                    self.candidates.append((d / (1.0 - p), serial, None, 1, None))
            elif d < 0.0 or (d > 0.0 and p >= 1.0):
                self.candidates.append((-d / p, serial, None, 0, None))
            return k
        if d is not None and (d if type(d) is float else np.any(np.asarray(d) != 0)):
            if law is scalar_laws.CATEGORICAL:
                d = list(d)
                found = law.candidates(k, values[0], d, self.stream.uniform())
            else:
                found = law.candidates(k, values, d)
            for alt, w in found:
                self.candidates.append((w, serial, None, alt, None))
        return k

    def _array(self, dist, law, shape, full, d):
        """An array draw of ``shape`` (``full``: the parameters broadcast to it, or floats)."""
        u = self.stream.uniforms(shape)
        k = _sample_array(law, u, full, dist.core_ndim)
        serial = len(self.records)
        self._record(law.name, u, k)
        if law.sample_array is not None and not dist.core_ndim and _nonzero(d):
            # every element at once: one block of candidates (see _Block)
            flat_k = k.reshape(-1)
            present, alt, w = law.candidates_array(
                flat_k, [v if type(v) is float else v.reshape(-1) for v in full],
                d if type(d) is float else np.asarray(d, dtype=float).reshape(-1))
            n = flat_k.size
            if present is True:
                elems = np.arange(n)
            else:
                elems = np.flatnonzero(present)
                alt, w = _spread(alt, n)[elems], _spread(w, n)[elems]
            if elems.size:
                self.candidates.append(_Block(serial, elems, _spread(alt, n), _spread(w, n)))
        elif _nonzero(d):
            core = full[-1].shape[len(shape):]
            d = np.broadcast_to(np.asarray(d, dtype=float), shape + core)
            flat_values = [v.reshape((-1,) + core) for v in full]
            flat_d = d.reshape((-1,) + core)
            for i, ki in enumerate(k.reshape(-1).tolist()):
                params = [v[i].tolist() for v in flat_values]
                if law is scalar_laws.CATEGORICAL:
                    found = law.candidates(ki, params[0], flat_d[i].tolist(),
                                           self.stream.uniform())
                else:
                    found = law.candidates(ki, params, float(flat_d[i]))
                for alt, w in found:
                    self.candidates.append((w, serial, i, alt, None))
        return k.item() if k.ndim == 0 else k

    def _uniform(self, name, shape):
        u = self.stream.uniform() if shape == () else self.stream.uniforms(shape)
        self._record(name, u, None)
        return np.asarray(u)

    def random(self, size=None, dtype=np.float64):
        if size is not None:
            return super().random(size, dtype)
        z = self.stream.uniform()  # the hot path of rng.random() < p
        rec = NoiseRecord(len(self.records), _UNIFORM, z)
        self.sites.append(_site(3))  # random <- Generator.random <- user
        self.records.append(("uniform", rec, None))
        return Dual(z, 0.0, rec)

    def _noise(self, law, shape, a, b):
        if shape == ():  # the hot path: one number, inline
            z = (-math.log1p(-self.stream.uniform()) if law is _EXPONENTIAL
                 else self.stream.normal() if law is _NORMAL else self.stream.uniform())
            rec = NoiseRecord(len(self.records), law, z)
            self.sites.append(_site(4))  # _noise <- tape method <- stochad <- ... <- user
            self.records.append((law.name, rec, None))
            av, ad = (a.v, a.d) if type(a) is Dual else (float(a), 0.0)
            bv, bd = (b.v, b.d) if type(b) is Dual else (float(b), 0.0)
            return Dual(av + bv * z, ad + bd * z, Source(rec, av, ad, bv, bd))
        z = _fresh_noise(self.stream, law, shape)
        rec = NoiseRecord(len(self.records), law, z)
        self.sites.append(_site(4))  # _noise <- tape method <- stochad <- ... <- user
        self.records.append((law.name, rec, None))
        (av, ad), (bv, bd) = _dual_parts(a, shape), _dual_parts(b, shape)
        return Dual(av + bv * z, ad + bd * z, Source(rec, av, ad, bv, bd))

    # -- comparisons of continuous draws with moving thresholds ----------------------------------
    def compare(self, op, result, src):
        """Record the Bernoulli event of ``result = op(x, y)`` on the noise of ``src``'s draw
        (or warn that the comparison's derivative is lost); returns ``result``."""
        if src is None or src.av is None:
            self._warn_lost()
            return result
        bv = src.bv
        if type(result) is bool and isinstance(bv, float) and isinstance(src.av, float):
            if bv == 0:
                self._warn_lost()
                return result
            return self.compare_affine(op, result, src.rec, src.av, src.ad, bv, src.bd)
        if np.any(np.asarray(bv) == 0):
            self._warn_lost()
            return result
        rec = src.rec
        law = rec.law
        with np.errstate(divide="ignore", invalid="ignore"):
            boundary = -src.av / bv                       # the threshold in noise units
            moves = -(src.ad + src.bd * boundary) / bv    # its dual part
            theta = law.cdf(boundary)                     # P(z < boundary)
            dtheta = law.pdf(boundary) * moves
            below_is_true = (op is operator.lt or op is operator.le) == (np.asarray(bv) > 0)
            below = np.where(below_is_true, result, np.logical_not(result))
            up = np.where(below, 0.0, dtheta / (1.0 - theta))     # below: none unless dθ < 0
            down = np.where(below, -dtheta / theta, 0.0)
            weight = np.where(below, np.where(dtheta < 0, down, 0.0),
                              np.where(dtheta > 0, up, 0.0))
        weight = np.nan_to_num(np.broadcast_to(weight, np.shape(result)), nan=0.0, posinf=0.0)
        if not np.any(weight > 0):
            return result
        eta = (1e-10 * (np.abs(src.av) + np.abs(bv * boundary)) / np.abs(bv)
               + 1e-12 * (1.0 + np.abs(boundary)))
        lo, hi = np.clip(boundary - eta, law.low, law.high), np.clip(boundary + eta, law.low,
                                                                     law.high)
        alt = np.where(below, hi, lo)   # the other side of the boundary
        ref = np.where(below, lo, hi)   # this side, at the boundary
        if np.ndim(result) == 0 and np.ndim(rec.z) == 0:
            key = (rec.serial, float(boundary))
            if key in self._events:
                return result
            self._events.add(key)
            rec.compared += 1
            self.candidates.append((float(weight), rec.serial, None, float(alt), float(ref)))
            return result
        shape = np.shape(rec.z)
        if np.shape(result) != shape:
            self._warn_lost()   # compared after broadcasting against another shape
            return result
        alt, ref = np.broadcast_to(alt, shape).reshape(-1), np.broadcast_to(ref, shape).reshape(-1)
        edges = np.broadcast_to(boundary, shape).reshape(-1)
        for i in np.flatnonzero(weight.reshape(-1) > 0).tolist():
            if not self._new_event(rec, i, float(edges[i])):
                continue
            self.candidates.append((float(weight.reshape(-1)[i]), rec.serial, i,
                                    float(alt[i]), float(ref[i])))
        return result

    def _new_event(self, rec, elem, boundary) -> bool:
        """Whether comparing draw ``rec`` (element ``elem``) at ``boundary`` is a new event:
        ``t < T`` tested twice on the same ``t`` is one event, not two (keys: ``(serial,
        boundary)`` for scalars, ``(serial, element, boundary)`` for arrays)."""
        key = (rec.serial, elem, boundary)
        if key in self._events:
            return False
        self._events.add(key)
        rec.compared += 1
        return True

    def narrow(self, below, rec, boundary):
        """Note what a comparison of the scalar noise ``z`` of ``rec`` with a fixed
        ``boundary`` revealed: ``z`` below it or not (``if u < 0.3: ... elif u < p:``)."""
        if type(rec.z) is not float:
            return
        law = rec.law
        theta = (0.0 if boundary < 0.0 else 1.0 if boundary > 1.0 else boundary) \
            if law is _UNIFORM else law.cdf_pdf(boundary)[0]
        if below:
            if theta < rec.fhi:
                rec.fhi = theta
        elif theta > rec.flo:
            rec.flo = theta

    def compare_affine(self, op, result, rec, av, ad, bv, bd):
        """:meth:`compare` of ``a + b·z`` (z: the noise of ``rec``) against 0, given its
        coefficients (the common case: :meth:`event` for one float threshold, without
        building a :class:`Source`)."""
        if type(av) is not float or type(bv) is not float or bv == 0.0 \
                or type(result) is not bool:
            return self.compare(op, result, Source(rec, av, ad, bv, bd))
        lower = op is operator.lt or op is operator.le
        self.event(result if lower == (bv > 0.0) else not result, rec, av, ad, bv, bd)
        return result

    def event(self, below, rec, av, ad, bv, bd):
        """Record the Bernoulli event of a comparison of ``a + b·z`` (floats; ``z`` the noise
        of ``rec``) with 0 whose outcome puts ``z`` ``below`` the boundary ``−a/b`` or not,
        in plain Python (the hot path of ``rng.random() < p``)."""
        law = rec.law
        boundary = -av / bv
        key = (rec.serial, boundary)   # inline _new_event (the hot path)
        if key in self._events:
            return
        self._events.add(key)
        rec.compared += 1
        moves = -(ad + bd * boundary) / bv
        if law is _UNIFORM:  # inline cdf_pdf (the hot path)
            theta = 0.0 if boundary < 0.0 else 1.0 if boundary > 1.0 else boundary
            dtheta = moves if 0.0 <= boundary <= 1.0 else 0.0
        else:
            theta, density = law.cdf_pdf(boundary)
            dtheta = density * moves
        # the run reached this comparison knowing F(z) in [flo, fhi) from the earlier ones
        # (if u < a: ... elif u < b:): the event's probability is conditional on that
        if below:
            mass = theta - rec.flo
            if theta < rec.fhi:
                rec.fhi = theta
            if not (dtheta < 0 and mass > 0):
                return
            weight = -dtheta / mass
        else:
            mass = rec.fhi - theta
            if theta > rec.flo:
                rec.flo = theta
            if not (dtheta > 0 and mass > 0):
                return
            weight = dtheta / mass
        eta = 1e-10 * (abs(av) + abs(bv * boundary)) / abs(bv) + 1e-12 * (1.0 + abs(boundary))
        lo = min(max(boundary - eta, law.low), law.high)
        hi = min(max(boundary + eta, law.low), law.high)
        self.candidates.append((weight, rec.serial, None, hi if below else lo,
                                lo if below else hi))
        return

    def _warn_lost(self):
        frame = _user_frame()
        site = (frame.f_code.co_filename, frame.f_lineno)
        if site in self.shared.warned:
            return
        self.shared.warned.add(site)
        warnings.warn_explicit(
            "a comparison that a perturbation of the parameter could flip, which the replay "
            "engine cannot follow (it is not a draw, or an affine function of one continuous "
            "draw, against a moving threshold): its share of the derivative is lost. Compare "
            "the draw itself (rng.random() < p, t + rng.exponential(s) > T), or draw the event "
            "with sad.bernoulli(prob)",
            LostDerivativeWarning, frame.f_code.co_filename, frame.f_lineno)


class Replay(_Tape):
    """A replay run: the tracking run's draws by key, draw ``serial`` forced to ``forced``
    (element ``elem`` of an array draw).

    While the replay draws at the same call sites in the same order as the tracking run
    (*aligned*, the common case), draw ``i``'s key is the tracking run's draw ``i``'s: its
    record is found by position. The first draw at another site switches to the key tables
    (occurrence counts as both runs had them up to there)."""

    def __init__(self, tracking: Tracking, serial, elem, forced):
        self.stream = tracking.stream
        self.shared = tracking.shared
        self.tracking = tracking
        self.records, self.sites = tracking.records, tracking.sites
        self.serial, self.elem, self.forced = serial, elem, forced
        self.i = 0
        self.counts = self.by_key = None   # None: aligned

    def reached(self) -> bool:
        return self.i > self.serial

    def _after(self, i, site):
        """The tracking run's record under draw ``i``'s key (``i`` after the flipped draw,
        at ``site``), or ``None``."""
        if self.counts is None:
            sites = self.sites
            if i >= len(sites):  # beyond the tracking run's draws (still aligned): no record
                return None
            if sites[i] == site:
                return self.records[i]
            self.counts, self.by_key = self.tracking.key_tables(i)
        n = self.counts.get(site, 0)
        self.counts[site] = n + 1
        return self.by_key.get((site, n))

    def _next(self, name):
        """``(mode, payload, outcome)``: mode 0 before the flipped draw (repeat it), 1 the
        flipped draw, 2 coupled through the recorded payload, 3 fresh."""
        i = self.i
        self.i = i + 1
        if i <= self.serial:
            rec = self.records[i]
            if rec[0] != name:
                raise _mismatch(f"drew {name} where the tracking run drew {rec[0]}")
            return (0 if i < self.serial else 1), rec[1], rec[2]
        rec = self._after(i, _site(4))  # _next <- _scalar/... <- tape method <- ... <- user
        if rec is None or rec[0] != name:
            return 3, None, None
        return 2, rec[1], rec[2]

    def _coupled(self, mode, recorded, shape, fresh):
        """The recorded uniforms (or noise) for a draw of ``shape``: all of them if the shape
        is unchanged, the common prefix of a 1-d draw whose size changed (``size=Z`` with a
        random ``Z``), fresh ones where there is no record."""
        if mode == 3 or recorded is None:
            return fresh(shape)
        old = np.shape(recorded)
        if old == shape:
            return recorded
        if len(old) == len(shape) == 1:
            n = min(old[0], shape[0])
            return np.concatenate([recorded[:n], fresh((shape[0] - n,))]) if shape[0] > n \
                else recorded[:n]
        return fresh(shape)

    def _forced(self, recorded):
        if self.elem is None:
            return self.forced
        out = np.array(recorded, copy=True)
        out.reshape(-1)[self.elem] = self.forced
        return out

    def bernoulli(self, p, size=None, rng=None):
        """``sad.bernoulli``: a float ``p`` inline (the hot path)."""
        if size is not None or type(p) is not float or not 0.0 <= p <= 1.0:
            return self.draw(_BERNOULLI_DIST, (p,), size, rng)
        i = self.i
        if i < self.serial:  # before the flipped draw: repeat the tracking run
            self.i = i + 1
            name, u, k = self.records[i]
            if name != "bernoulli" or (1 if u < p else 0) != k:
                raise _mismatch(f"drew bernoulli where the tracking run drew {name} = {k}")
            return k
        if i == self.serial:
            return self._scalar(_BERNOULLI, (p,), None)
        self.i = i + 1
        rec = self._after(i, _site(3))  # bernoulli <- samplers.bernoulli <- user
        u = rec[1] if rec is not None and rec[0] == "bernoulli" else self.stream.uniform()
        return 1 if u < p else 0

    def _scalar(self, law, values, d):
        i = self.i
        serial = self.serial
        if i > serial:  # after the flipped draw: coupled through the uniform under its key
            self.i = i + 1
            rec = self._after(i, _site(4))  # _scalar <- draw <- ... <- user
            u = rec[1] if rec is not None and rec[0] == law.name and type(rec[1]) is float \
                else self.stream.uniform()
            return (1 if u < values[0] else 0) if law is _BERNOULLI else law.sample(u, *values)
        self.i = i + 1
        name, u, k = self.records[i]
        if name != law.name:
            raise _mismatch(f"drew {law.name} where the tracking run drew {name}")
        if i == serial:
            return self.forced
        # before the flipped draw: repeat the tracking run
        out = (1 if u < values[0] else 0) if law is _BERNOULLI else law.sample(u, *values)
        if out != k:
            raise _mismatch(f"drew {law.name} = {out} where the tracking run drew {k}")
        return out

    def _array(self, dist, law, shape, full, d):
        mode, u, k = self._next(law.name)
        if mode == 1:
            return self._forced(k)
        u = self._coupled(mode, u, shape, self.stream.uniforms)
        out = _sample_array(law, u, full, dist.core_ndim)
        if mode == 0 and not np.array_equal(out, k):
            raise _mismatch(f"drew {law.name} = {out} where the tracking run drew {k}")
        return out.item() if out.ndim == 0 else out

    def _uniform(self, name, shape):
        mode, u, _ = self._next(name)
        if mode == 3 or np.shape(u) != shape:
            u = self.stream.uniform() if shape == () else self.stream.uniforms(shape)
        return np.asarray(u)

    def random(self, size=None, dtype=np.float64):
        if size is not None:
            return super().random(size, dtype)
        i = self.i  # the hot path: one uniform, inline
        if i < self.serial:  # before the flipped draw: repeat the tracking run
            self.i = i + 1
            name, rec, _ = self.records[i]
            if name != "uniform":
                raise _mismatch(f"drew uniform where the tracking run drew {name}")
            return rec.z
        if i == self.serial:
            return self._noise(_UNIFORM, (), 0.0, 1.0)
        self.i = i + 1
        rec = self._after(i, _site(3))  # random <- Generator.random <- user
        if rec is not None and rec[0] == "uniform" and type(rec[1].z) is float:
            return rec[1].z
        return self.stream.uniform()

    def _noise(self, law, shape, a, b):
        i = self.i
        if shape == () and i != self.serial:  # the hot path: one number, inline
            self.i = i + 1
            if i < self.serial:  # before the flipped draw: repeat the tracking run
                name, rec, _ = self.records[i]
                if name != law.name:
                    raise _mismatch(f"drew {law.name} where the tracking run drew {name}")
            else:
                rec = self._after(i, _site(4))  # _noise <- tape method <- ... <- user
                rec = rec[1] if rec is not None and rec[0] == law.name else None
            z = rec.z if rec is not None and type(rec.z) is float \
                else _fresh_noise(self.stream, law, ())
            return a + b * z
        mode, rec, _ = self._next(law.name)
        if mode == 1:
            z = self._forced(rec.z)
        elif mode != 3 and shape == () and type(rec.z) is float:
            z = rec.z
        else:
            z = self._coupled(mode, None if mode == 3 else rec.z, shape,
                              lambda n: _fresh_noise(self.stream, law, n))
        return a + b * z

    def compare(self, op, result, src):  # replay values are plain: never called
        return result

    def compare_affine(self, op, result, rec, av, ad, bv, bd):
        return result

    def event(self, below, rec, av, ad, bv, bd):
        pass

    def narrow(self, below, rec, boundary):
        pass


def _bad_continuous(name, label, v):
    """Raise if ``v`` is not a valid parameter ``label`` of draw ``name``."""
    bad = ~np.isfinite(v) | ((v < 0) if label == "scale" else False)
    if np.any(bad):
        what = "must be finite and >= 0" if label == "scale" else "must be finite"
        raise ValueError(f"{name}: {label} {what}, got {v[bad].reshape(-1)[0].item()!r}")


def _dual_parts(x, shape):
    if type(x) is Dual:
        return x.v, x.d
    return float(x) if shape == () else x, (0.0 if shape == () else np.zeros(shape))


def _fresh_noise(stream, law, shape):
    if law is scalar_laws.NORMAL_NOISE:
        return stream.normal() if shape == () else stream.normals(shape)
    u = stream.uniform() if shape == () else stream.uniforms(shape)
    if law is scalar_laws.EXPONENTIAL_NOISE:
        return -math.log1p(-u) if shape == () else -np.log1p(-u)
    return u


def _sample_array(law, u, full, core):
    """``law.sample`` element by element (``full``: parameters broadcast to the draw's shape
    plus ``core`` trailing axes)."""
    shape = np.shape(u)
    if law.sample_array is not None and not core:  # every element at once
        return law.sample_array(np.reshape(u, -1).astype(float, copy=False), *(
            v if type(v) is float else v.reshape(-1) for v in full)).reshape(shape)
    flat_u = np.reshape(u, -1).tolist()
    if core:
        probs = full[0].reshape((-1,) + full[0].shape[len(shape):]).tolist()
        out = [law.sample(ui, pi) for ui, pi in zip(flat_u, probs, strict=True)]
    else:
        params = [v.reshape(-1).tolist() for v in full]
        out = [law.sample(ui, *ps) for ui, *ps in zip(flat_u, *params, strict=True)]
    return np.array(out, dtype=np.int64).reshape(shape)


# -- the driver ------------------------------------------------------------------------------------
class _Block:
    """The candidate events of one array draw (``size=``), at most one per element, as arrays:
    elements ``elems`` of draw ``serial`` move to ``alts`` with weights ``weights``. Choosing
    among them goes by the same running sum of ``|w|`` as single events (:func:`_choose`)."""

    __slots__ = ("serial", "elems", "alts", "weights")

    def __init__(self, serial, elems, alts, weights):
        self.serial, self.elems, self.alts, self.weights = serial, elems, alts, weights

    def event(self, j):
        """Element ``j``'s event as a single candidate tuple."""
        return (float(self.weights[j]), self.serial, int(self.elems[j]), int(self.alts[j]),
                None)


def _each(candidates):
    """Every candidate event as a tuple (a block's element by element)."""
    for c in candidates:
        if type(c) is tuple:
            yield c
        else:
            yield from (c.event(j) for j in range(len(c.elems)))


def _magnitudes(candidates):
    for c in candidates:
        if type(c) is tuple:
            yield abs(c[0])
        else:
            yield from np.abs(c.weights).tolist()


def _choose(candidates, target):
    """The first candidate event at which the running sum of ``|w|`` exceeds ``target`` (the
    last one if rounding leaves none). A block's running sums are numpy's cumulative sum,
    which adds in the same order as the loop."""
    acc = 0.0
    for c in candidates:
        if type(c) is tuple:
            acc += abs(c[0])
            if target < acc:
                return c
        else:
            sums = np.cumsum(np.concatenate(([acc], np.abs(c.weights))))[1:]
            j = int(np.searchsorted(sums, target, side="right"))
            if j < sums.size:
                return c.event(j)
            acc = float(sums[-1])
    last = candidates[-1]
    return last if type(last) is tuple else last.event(len(last.elems) - 1)


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
        raise _mismatch("ended")
    if (() if type(out) is float else np.shape(out)) != shape:
        raise ValueError(f"the function's output has shape {np.shape(out)} in a replay run "
                         f"but {shape} in the tracking run; keep the output's shape fixed")
    return out


def _difference(f, p, tracking, value, candidate):
    """``f_alt − f_ref`` of one candidate event (``f_ref = f`` unless it is a comparison whose
    noise the program also used otherwise)."""
    _, serial, elem, forced, reference = candidate
    shape = () if type(value) is float else value.shape
    alt = _replayed(f, p, tracking, serial, elem, forced, shape)
    if reference is None:
        return alt - value
    rec = tracking.records[serial][1]
    if not rec.escaped and rec.compared == 1:  # f saw the noise through this comparison
        return alt - value                       # only: at the boundary it is unchanged
    return alt - _replayed(f, p, tracking, serial, elem, reference, shape)


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


def sample(f, p, d, shared: Shared, exact: bool):
    """One derivative sample of ``f`` at ``p`` along ``d`` (see the module docstring): a
    float for a one-number output."""
    if not exact:
        _, delta, total, jump = _one_event(f, p, d, shared)
        return delta + total * jump
    tracking, value, delta = _tracked(f, p, d, shared)
    out = np.array(delta, dtype=float)
    for candidate in _each(tracking.candidates):
        out += candidate[0] * _difference(f, p, tracking, value, candidate)
    return out


def _start(p, d):
    p = p.item() if p.ndim == 0 else p
    return p, (d.item() if np.ndim(d) == 0 else np.asarray(d, dtype=float))


def samples_along(f, p, d, n_samples, generator, backend) -> np.ndarray:
    """``n_samples`` replay samples (backend ``"pruned"``: one event; ``"exact"``: all)."""
    shared = Shared(generator)
    p, d = _start(p, d)
    exact = backend == "exact"
    return np.array([sample(f, p, d, shared, exact) for _ in range(n_samples)], dtype=float)


def stochastic_triple(f, p, d, n_samples, generator) -> StochasticTriple:
    """Replayed samples shown as one triple (one lane per sample): the value, the dual part
    and the jump ``f_alt − f_ref`` of the replayed event with weight ``W``."""
    shared = Shared(generator)
    p, d = _start(p, d)
    runs = [_one_event(f, p, d, shared) for _ in range(n_samples)]
    value, delta, weight, jump = (np.stack([np.asarray(r[i], dtype=float) for r in runs])
                                  for i in range(4))
    backend = PrunedBackend(n_samples)
    backend.weights[:, 0] = weight   # every lane's one event lives in slot 0, generation 0
    run = Run(generator, n_samples, backend)
    event = np.where(np.reshape(weight, (-1,) + (1,) * (value.ndim - 1)) > 0, 0, NO_EVENT)
    return StochasticTriple(value, delta, PrunedPerturbation(
        jump, np.broadcast_to(event, value.shape).copy()), run=run)
