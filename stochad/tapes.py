"""What the two runs of the replay engine (:mod:`stochad.replay`) share: the tape machinery.

The current tape (:data:`stochad.context.current_tape`) takes every draw made through stochad
during a run: the samplers' and :class:`stochad.Generator`'s hooks call the methods of
:class:`Tape`, whose subclasses are the tracking run (:class:`stochad.tracking.Tracking`) and
the replay run (:class:`stochad.replaying.Replay`). Here: the random numbers of a call
(:class:`Stream`, drawn in blocks from the one generator), a continuous draw's record
(:class:`NoiseRecord`), a draw's key (:func:`call_site`), the parameter checks and array
sampling both runs use, and the errors that send a program elsewhere.

Both runs are built for speed, one number at a time: the hot paths (a scalar Bernoulli,
Poisson or binomial draw, ``rng.random()``, an exponential waiting time) run inline in plain
Python; an array draw (``size=``) is sampled by one numba kernel.

Examples
--------
>>> import numpy as np
>>> stream = Stream(np.random.default_rng(0))
>>> stream.uniform() == np.random.default_rng(0).random()   # the same numbers, in blocks
True
>>> def two_draws():
...     return call_site(1), call_site(1)
>>> first, second = two_draws()
>>> first[0] == second[0], first[1] == second[1]   # one code object, two bytecode offsets
(True, False)
"""
from __future__ import annotations

import itertools
import math
import operator
import os
from sys import _getframe

import numpy as np

from . import cdf_laws, samplers, scalar_laws
from .distributions import DiscreteDistribution, Hypergeometric
from .distributions.base import real_array
from .dual import Dual, Source, nonzero, read_as_number, stack_duals
from .shape import normalize_axis
from .triple import nested

_BLOCK = 4096
_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep
_BENCH = _PACKAGE + "bench" + os.sep
_INSIDE: dict[str, bool] = {}
_SCALARS = (float, int, np.floating, np.integer)
_CATEGORICAL = samplers.CATEGORICAL
_LAWS = scalar_laws.LAWS
_BERNOULLI = scalar_laws.BERNOULLI
_UNIFORM = scalar_laws.UNIFORM_NOISE
_POISSON, _POISSON_DIST = scalar_laws.POISSON, samplers.POISSON
_EXPONENTIAL = scalar_laws.EXPONENTIAL_NOISE
_BINOMIAL, _BINOMIAL_DIST = scalar_laws.BINOMIAL, samplers.BINOMIAL
_HYPERGEOMETRIC = Hypergeometric()
# the laws with an inline scalar version, by the class of their distribution (a user's law
# that happens to share a name goes through its own CDF)
_SCALAR = {type(getattr(samplers, name.upper())): law for name, law in _LAWS.items()}


class ReplayMismatchError(RuntimeError):
    """A replay run drew differently from its tracking run before the flipped event."""


def mismatch(what):
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
        f"one-number-at-a-time law for it; it draws every discrete law (sad.DiscreteDistribution: "
        f"{', '.join(sorted(scalar_laws.LAWS))}, negative_binomial, hypergeometric, zipf, "
        f"logseries, your own), multinomial, multivariate_hypergeometric, "
        f"{', '.join(list(_CONTINUOUS) + sorted(cdf_laws.LAWS))}, random, integers, choice, "
        "permutation, shuffle and permuted. Run this program batched (vectorize=True), or with "
        "estimator='score' or backend='smoothed' one sample per call")


def _inside(filename) -> bool:
    """Whether ``filename`` is stochad's own code (the bench programs, installed as
    ``stochad.bench``, are user code)."""
    return filename.startswith(_PACKAGE) and not filename.startswith(_BENCH)


def outside(frame):
    """The first frame from ``frame`` outwards that is not stochad's own code."""
    while True:
        name = frame.f_code.co_filename
        inside = _INSIDE.get(name)
        if inside is None:
            inside = _INSIDE[name] = _inside(name)
        if not inside:
            return frame
        frame = frame.f_back


def call_site(depth=2):
    """The call site of a draw: ``(id of the code object, bytecode offset)`` of the first
    frame outside stochad, searched from ``depth`` frames up (the code object lives as long
    as the function, so its id is stable across the runs of a sample)."""
    frame = _getframe(depth)
    code = frame.f_code
    if _INSIDE.get(code.co_filename, True):  # not the user's frame at once (the hot path)
        frame = outside(frame)
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

    def uniforms_of(self, shape):
        """Uniforms of ``shape``: one float for ``()``, else an array."""
        return self.uniform() if shape == () else self.uniforms(shape)

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
    (scalar ``z``); ``edges``: the boundaries of its comparison events, with their motions;
    ``opaque``: the program branched on it in a way no interval holds (``u * u < 0.25``);
    ``into``: the first newer draw it was folded into (``u1 + u2``, its noise used up there);
    ``folded``: the older draws folded into it; ``branched``: a draw it went into (or one
    those went into) changed what the run knows of it after the folding (:meth:`changed`), so
    a branch revealed something of this draw's noise that no interval of its own holds.

    A scalar draw's record is its value's provenance (a :class:`~stochad.dual.Source`: one
    object fewer per draw): ``a = 0``, ``b = 1`` for a raw uniform, the class defaults, so
    that making a record sets four attributes (the hot path of ``rng.random() < p``); a
    scaled or shifted draw sets its coefficients."""

    escaped, compared, flo, fhi, edges, opaque, into = False, 0, 0.0, 1.0, None, False, None
    folded, branched, notified = None, False, 0
    av, ad, bv, bd, seen = 0.0, 0.0, 1.0, 0.0, None
    elem, views = None, None  # see ElementView

    def __init__(self, serial, law, z):
        self.serial, self.law, self.z, self.rec = serial, law, z, self

    def changed(self):
        """Note that what the run knows of this draw changed (its interval, its events, an
        opaque branch on it or on an element of it): every draw folded into it, and every
        draw folded into those, is branched from now on. (A flag, set once: a walk over the
        folds at each event would cost the square of a running sum's length. The draws
        marked at an earlier change, ``folded[:notified]``, are not visited again.)"""
        folded, start = self.folded, self.notified
        end = len(folded)
        if start == end:
            return
        self.notified = end
        if start == end - 1:  # one new fold (a running sum's t += x): no list
            rec = folded[start]
            if rec.branched:
                return
            rec.branched = True
            if rec.folded is None or rec.notified == len(rec.folded):
                return
            pending = rec.folded[rec.notified:]
            rec.notified = len(rec.folded)
        else:
            pending = folded[start:]
        while pending:
            rec = pending.pop()
            if not rec.branched:  # (a branched draw's folds are branched already)
                rec.branched = True
                if rec.folded is not None:
                    pending.extend(rec.folded[rec.notified:])
                    rec.notified = len(rec.folded)

    def make_opaque(self):
        """Note a branch on this draw that no interval holds (``u * u < 0.25``, its value
        read as a number), and tell the draws folded into it (:meth:`changed`)."""
        if not self.opaque:
            self.opaque = True
            if self.folded is not None:
                self.changed()

    def fold(self, rec):
        """Fold the older draw ``rec`` into this draw's provenance (its noise used up)."""
        rec.escaped = True
        if rec.into is None:
            rec.into = self
        folded = self.folded
        if folded is None:
            self.folded = [rec]
        elif folded[-1] is not rec:  # (a repeat, t + x compared twice, adds nothing)
            folded.append(rec)
        if self.branched and not rec.branched:  # what this draw inherits, rec does
            rec.branched = True
            if rec.folded is not None:
                rec.changed()


class ElementView(NoiseRecord):
    """Element ``elem`` (flat index) of an array draw's noise seen as one number (``for t in
    times:``, ``times[i]``): a scalar record of its own for what the program's comparisons of
    it reveal (its interval, its events), whose events flip that element of the array draw
    ``parent`` (:meth:`stochad.tracking.Tracking.element`). Its serial orders it after the
    array draw and before the next draw, as a draw of its own."""

    def __init__(self, parent, elem, law, z=None):
        # (z: the element's noise, from a caller that has them all at once)
        self.serial = parent.serial + (elem + 1) / (parent.z.size + 1)
        self.law, self.rec, self.parent, self.elem = law, self, parent, elem
        self.z = float(parent.z.reshape(-1)[elem]) if z is None else z
        # (compared as a whole array before: Tracking.event warns of that at each event)
        self.opaque = parent.opaque


def _scalar_params(args):
    """:func:`plain_params` of parameters that are all floats or dual numbers with float
    parts (a scalar law's hot path), the values as floats; ``(None, None)`` otherwise."""
    values, deltas = [], []
    for a in args:
        if type(a) is Dual:
            v, d = a.v, a.d
            if type(v) is not float or type(d) is not float:
                return None, None
            read_as_number(a.src)
        elif type(a) is float or type(a) is int:
            v, d = float(a), None
        else:
            return None, None
        values.append(v)
        deltas.append(d)
    return values, deltas


def plain_params(args):
    """Values and dual parts of the draw's parameters (``None`` dual part: plain)."""
    values, deltas = [], []
    for a in args:
        if isinstance(a, list | tuple) and any(isinstance(x, Dual) for x in nested(a)):
            a = stack_duals(a)
        if type(a) is Dual:
            read_as_number(a.src)
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


def parameters_read(params):
    """:func:`~stochad.dual.read_as_number` of every draw behind the parameters ``params``."""
    for a in params:
        if type(a) is Dual:
            read_as_number(a.src)



def spread(x, n):
    """``x`` as a 1-d array of ``n`` elements (it is one, or one number for all)."""
    return x if type(x) is np.ndarray and x.ndim == 1 else np.full(n, x)


def parameter(x):
    """A draw's parameter as ``(value, dual part)`` (``None``: a plain number); a value from a
    continuous draw is read as a number there (:func:`~stochad.dual.read_as_number`)."""
    if type(x) is Dual:
        read_as_number(x.src)
        return x.v, x.d
    return x, None


# quick validity checks for scalar parameters; on failure the sampler's own validation
# raises its usual message
_QUICK_OK = {
    "bernoulli": lambda p: 0.0 <= p <= 1.0,
    "binomial": lambda n, p: 0 <= n < math.inf and n == math.floor(n) and 0.0 <= p <= 1.0,
    "poisson": lambda lam: 0.0 <= lam < math.inf,
    "geometric": lambda p: 0.0 < p <= 1.0,
}


def _flat_size(size, d) -> bool:
    """Whether a draw of ``size`` whose parameter has dual part ``d`` takes the 1-d array
    fast path (:meth:`Tape.ppfs`): an integer size, a float or no dual part."""
    return (type(size) is int or isinstance(size, np.integer)) and size >= 0 \
        and (d is None or type(d) is float)


class Tape:
    """What tracking and replay runs share: parameter handling and the draw entry points.
    ``read_plain``: the program read a continuous draw as a plain number in this run
    (:func:`stochad.dual.read_plain`)."""

    read_plain = False

    def __init__(self, shared: Shared):
        self.shared = shared
        self.stream = shared.stream

    # the samplers' and Generator's hooks call these ------------------------------------------
    def poisson(self, lam, size=None):
        """``Generator.poisson``: one draw of a float rate inline, or a 1-d array of them by
        ``ppfs`` (the hot paths), else :meth:`draw`."""
        v, d = parameter(lam)
        if type(v) is float and 0.0 <= v < math.inf:
            if size is None:
                return self._scalar(_POISSON, (v,), d)
            if _flat_size(size, d):  # rng.poisson(m, size=z)
                return self.ppfs(_POISSON, 0, int(size), v, 0.0, d)
        return self.draw(_POISSON_DIST, (lam,), size)

    def binomial(self, n, p, size=None):
        """``Generator.binomial``: one draw with an int ``n`` and a float ``p`` inline, or a
        1-d array of them by ``ppfs`` (the hot paths), else :meth:`draw`."""
        if type(n) is int and n >= 0:
            v, d = parameter(p)
            if type(v) is float and 0.0 <= v <= 1.0:
                if size is None:
                    return self._scalar(_BINOMIAL, (n, v), d)
                if _flat_size(size, d):
                    return self.ppfs(_BINOMIAL, 1, int(size), float(n), v, d)
        return self.draw(_BINOMIAL_DIST, (n, p), size)

    def exponential(self, scale=1.0, size=None):
        """``Generator.exponential``: one waiting time of a float scale inline (the hot path
        of Gillespie loops), else :meth:`continuous`."""
        if size is None:
            v = scale.v if type(scale) is Dual else scale
            if (type(v) is float or type(v) is int) and 0 <= v < math.inf:
                if type(scale) is Dual:
                    read_as_number(scale.src)
                return self._noise(_EXPONENTIAL, (), 0.0, scale)
        return self.continuous("exponential", (scale,), size)

    def draw(self, dist, args, size=None, rng=None):
        """A discrete draw of ``dist`` (a :class:`stochad.samplers.Distribution`)."""
        if rng is not None:
            raise ValueError(f"{dist.name}: inside a run every draw comes from the run's "
                             "generator; pass rng= to the estimator, not to the sampler")
        law = _SCALAR.get(type(dist))
        if law is None:
            if isinstance(dist, DiscreteDistribution):
                return self._discrete_cdf_law(dist, args, size)
            raise _unsupported(dist.name)
        if size is not None and isinstance(size, np.integer):
            size = int(size)
        if (size is None or type(size) is int and size >= 0) and len(args) <= 2 \
                and not dist.core_ndim:
            # the hot path: Python numbers (a dual part on the last parameter only), one
            # draw or a 1-d array of them (rng.poisson(m, size=z))
            p = args[-1]
            v, d = parameter(p)
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
        values, deltas = plain_params(args)
        if dist.name == "binomial" and nonzero(deltas[0]):
            raise ValueError(
                "binomial: the number of trials n cannot carry a dual part (it is an integer); "
                "only finite perturbations of n (from discrete draws) are supported")
        if size is None and dist.core_ndim == 0 and all(isinstance(v, _SCALARS) for v in values):
            if not _QUICK_OK[dist.name](*values):
                dist.validate([real_array(dist.name, label, v)
                               for label, v in zip(dist.params, values, strict=True)])
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

    def _discrete_cdf_law(self, dist, args, size):
        """A draw of a law known by its CDF (:func:`stochad.scalar_laws.cdf_sample`), element
        by element: the parameters checked before anything is drawn."""
        values, deltas = plain_params(args)
        dist.check_deltas(deltas)
        shape, full = self._shape(dist, values, size)
        return self.discrete_by_cdf(dist, shape, full, deltas)

    def _shape(self, dist, values, size):
        core = dist.core_ndim
        shapes = [np.shape(v)[: np.ndim(v) - core] for v in values]
        size = shape_of(size)
        if core and np.ndim(values[0]) < 1:
            raise ValueError(f"{dist.name}: probs must have at least one category (an axis of "
                             f"probabilities), got shape {np.shape(values[0])}")
        shape = np.broadcast_shapes(*shapes, size)
        if size and shape != size:
            raise ValueError(f"{dist.name}: output size {size} is not compatible with the "
                             f"parameters' shapes {', '.join(map(str, shapes))}")
        full = [np.broadcast_to(real_array(dist.name, label, v),
                                shape + np.shape(v)[np.ndim(v) - core:])
                for label, v in zip(dist.params, values, strict=True)]
        dist.validate(full)
        return shape, full

    def continuous(self, name, params, size=None, rng=None):
        """A reparameterised draw: ``normal``, ``exponential`` or ``uniform``."""
        if rng is not None:
            raise ValueError(f"{name}: inside a run pass rng= to the estimator, not to the "
                             "sampler")
        labels = _CONTINUOUS.get(name)
        if labels is None:
            return self._continuous_cdf_law(name, params, size)
        if size is None and len(params) == len(labels):  # one number
            values = []
            for a in params:
                v = a.v if type(a) is Dual else a
                if (type(v) is not float and type(v) is not int) or not -math.inf < v < math.inf:
                    break
                values.append(v)
            else:
                parameters_read(params)
                if name == "exponential" and values[0] >= 0:
                    return self._noise(scalar_laws.EXPONENTIAL_NOISE, (), 0.0, params[0])
                if name == "normal" and values[1] >= 0:
                    return self._noise(scalar_laws.NORMAL_NOISE, (), params[0], params[1])
                if name == "uniform":
                    return self._noise(_UNIFORM, (), params[0], params[1] - params[0])
        params = [stack_duals(a) if isinstance(a, list | tuple) else a for a in params]
        values = [a.v if type(a) is Dual else a for a in params]
        parameters_read(params)
        if all(isinstance(v, float | int) for v in values):  # (no numpy for these)
            shape = () if size is None else shape_of(size)
            for label, v in zip(labels, values, strict=True):
                if not (-math.inf < v < math.inf) or (label == "scale" and v < 0):
                    _bad_continuous(name, label, np.asarray(v, dtype=float))
        else:
            for label, v in zip(labels, values, strict=True):
                _bad_continuous(name, label, real_array(name, label, v))
            size = shape_of(size)
            shape = np.broadcast_shapes(*(np.shape(v) for v in values), size)
        if name == "normal":
            a, b, law = params[0], params[1], scalar_laws.NORMAL_NOISE
        elif name == "exponential":
            a, b, law = 0.0, params[0], scalar_laws.EXPONENTIAL_NOISE
        else:
            a, b, law = params[0], params[1] - params[0], scalar_laws.UNIFORM_NOISE
        return self._noise(law, shape, a, b)

    def _continuous_cdf_law(self, name, params, size):
        """A draw of one of numpy's other continuous laws (:mod:`stochad.cdf_laws`), seen
        through its CDF (:meth:`continuous_by_cdf`); the parameters checked first."""
        law = cdf_laws.LAWS.get(name)
        if law is None:
            raise _unsupported(name)
        if len(params) != len(law.params):
            raise TypeError(f"{name} takes {len(law.params)} parameters "
                            f"({', '.join(law.params)}), got {len(params)}")
        values, deltas = _scalar_params(params)
        one = values is not None and size is None  # one number (the hot path)
        if values is None:
            values, deltas = plain_params([stack_duals(a) if isinstance(a, list | tuple) else a
                                           for a in params])
            values = cdf_laws.real(law, values)
        values = cdf_laws.validated(law, values)
        zero = cdf_laws.point_mass(law, values)
        if zero is not None:
            raise NotReplayable(f"{name} with {zero} = 0 is a point mass, which the replay "
                                "engine cannot see through a CDF")
        if one and getattr(law, "location_scale", None) is not None:
            return self._located_scaled(law, params, values, deltas)
        if one or size is None and all(type(v) is float for v in values):
            return self.continuous_by_cdf(law, values, deltas, ())
        shape = np.broadcast_shapes(*(np.shape(v) for v in values), shape_of(size))
        if shape != ():
            values = [np.broadcast_to(v, shape) for v in values]
        else:
            values = [float(v) for v in values]
        return self.continuous_by_cdf(law, values, deltas, shape)

    def _located_scaled(self, law, params, values, deltas):
        """One draw of a location-scale law as ``loc + scale·e``, ``e`` the standard law's
        (numpy's samplers compute exactly that, so the numbers are numpy's): the draw is
        affine in a noise whose law does not move with ``loc`` or ``scale``, so its dual part
        and its comparisons' events need no derivative of the CDF."""
        loc, scale = law.location_scale
        values, deltas = list(values), list(deltas)
        values[scale], deltas[scale] = 1.0, None
        if loc is not None:
            values[loc], deltas[loc] = 0.0, None
        x = self.continuous_by_cdf(law, values, deltas, ()) * params[scale]
        return x if loc is None else params[loc] + x

    def discrete_by_cdf(self, dist, shape, full, deltas):
        """A draw of a discrete law known by its CDF (the tracking and replay runs' own)."""
        raise NotImplementedError

    def continuous_by_cdf(self, law, values, deltas, shape):
        """A draw of a law of :mod:`stochad.cdf_laws` (the tracking and replay runs' own)."""
        raise NotImplementedError

    def random(self, size=None, dtype=np.float64):
        """``Generator.random``: uniform noise that remembers its draw."""
        return self._noise(scalar_laws.UNIFORM_NOISE, shape_of(size), 0.0, 1.0)

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
                parameters_read([bound])
                if nonzero(bound.d):
                    raise ValueError(
                        f"integers: {label} carries a dual part; integer bounds can only move "
                        "by finite perturbations (from discrete draws)")
                bound = bound.v
            bounds.append(np.asarray(bound))
        low, high = bounds[0], bounds[1] + (1 if endpoint else 0)
        if np.any(high <= low):
            raise ValueError(f"integers: low >= high, got low={low!r}, high={high!r}")
        size = shape_of(size)
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
            count = math.prod(() if size is None else np.atleast_1d(size))
            if count > n:
                raise ValueError(f"choice: cannot take a larger sample ({count}) than the "
                                 f"population ({n}) when replace=False")
            if p is not None:  # (moving or not: both runs of a sample must draw alike)
                idx = self._successive(p, n, count, size)
            else:  # the first of a random order
                idx = np.argsort(-self._uniform("choice", (n,)), kind="stable")[:count].reshape(
                    () if size is None else size)
        elif p is None:
            idx = self.integers(0, n, size)
        else:
            idx = self.draw(_CATEGORICAL, [p], size)
        if np.ndim(table) == 0:
            return idx
        if type(a) is Dual and axis == 0:
            return a[idx]
        return _rearranged(a, lambda x: np.take(x, idx, axis=axis))

    def _successive(self, p, n, count, size):
        """``choice(n, count, replace=False, p=p)``: one categorical draw per pick from the
        probabilities left, renormalised (numpy's law: its draws with replacement, kept at
        their first appearance, pick alike), each pick a draw of its own with its candidate
        events where ``p`` moves."""
        left = stack_duals(p) if isinstance(p, list | tuple) else p
        picks = []
        for _ in range(count):
            k = int(self.draw(_CATEGORICAL, [left / np.sum(left)], None))
            picks.append(k)
            left = left * (np.arange(n) != k)
        return np.array(picks, dtype=np.int64).reshape(() if size is None else size)

    # -- permutations: plain draws (no derivative of their own) that keep the values' ---------
    def _order(self, name, shape, axis=-1):
        """A uniformly random order along ``axis`` of ``shape``: ``argsort`` of uniforms
        recorded under the call's key, so a replay with the same shape orders alike."""
        return np.argsort(self._uniform(name, shape), axis=axis, kind="stable")

    def permutation(self, x, axis=0):
        """``Generator.permutation``: ``arange(x)`` for an integer, else ``x`` (an array, a
        list, dual numbers) permuted along ``axis``, its values' dual parts with them."""
        if isinstance(x, int | np.integer):
            return np.arange(x)[self._order("permutation", (max(int(x), 0),))]
        x = _array(x)
        axis = normalize_axis(axis, np.ndim(x))
        order = self._order("permutation", (np.shape(x)[axis],))
        return _rearranged(x, lambda a: np.take(a, order, axis=axis))

    def shuffle(self, x, axis=0):
        """``Generator.shuffle``: ``x`` permuted in place along ``axis`` (a numpy array, a
        dual array, or a mutable sequence such as a list along its only axis)."""
        if isinstance(x, np.ndarray | Dual):
            axis = normalize_axis(axis, np.ndim(x))
            order = self._order("shuffle", (np.shape(x)[axis],))
            if type(x) is np.ndarray:
                x[...] = np.take(x, order, axis=axis)
                return
            escape([x])
            x.v[...] = np.take(x.v, order, axis=axis)
            if np.ndim(x.d):  # one dual part for every element stays as it is
                x.d = np.take(np.broadcast_to(x.d, np.shape(x.v)), order, axis=axis)
            return
        if axis != 0:
            raise NotImplementedError("shuffle: an axis argument is only supported on ndarray "
                                      "objects")
        items = list(x)
        for i, j in enumerate(self._order("shuffle", (len(items),)).tolist()):
            x[i] = items[j]

    def permuted(self, x, axis=None, out=None):
        """``Generator.permuted``: every slice of ``x`` along ``axis`` permuted independently
        (the flattened ``x`` if ``axis`` is ``None``), into ``out`` if given."""
        x = _array(x)
        shape = np.shape(x)
        if axis is None:
            order = self._order("permuted", (math.prod(shape),))
            result = _rearranged(x, lambda a: np.reshape(np.reshape(a, -1)[order], shape))
        else:
            axis = normalize_axis(axis, len(shape))
            order = self._order("permuted", shape, axis)
            result = _rearranged(x, lambda a: np.take_along_axis(a, order, axis))
        if out is None:
            return result
        if np.shape(out) != shape:
            raise ValueError(f"permuted: out must have the shape of x, {shape}, got "
                             f"{np.shape(out)}")
        out[...] = result  # a dual part that moves raises: a float array cannot hold it
        return out

    # -- multivariate counts: chains of scalar draws through the tape ---------------------------
    def multinomial(self, n, pvals, size=None):
        """``Generator.multinomial``: category ``i`` gets ``Binomial(n_left, p_i / p_left)``
        of the trials the earlier ones left, the last one the rest (as numpy and
        :func:`stochad.families.multinomial`); ``pvals``' dual parts reach each count through
        its conditional probability."""
        values, deltas = plain_params([pvals])
        probs = np.asarray(values[0], dtype=float)
        _check_pvals(probs)
        n, dn = parameter(n)
        if nonzero(dn):
            raise ValueError("multinomial: n cannot carry a dual part (it is an integer); only "
                             "finite perturbations of n (from discrete draws) are supported")
        n = np.asarray(n)
        if not np.all(np.isfinite(n)) or np.any(n < 0):
            raise ValueError(f"multinomial: n must be a non-negative integer, got {n!r}")
        shape = _counts_shape("multinomial", size, n.shape, probs.shape[:-1])
        probs = np.broadcast_to(probs, shape + probs.shape[-1:])
        d = np.broadcast_to(0.0 if deltas[0] is None else deltas[0], probs.shape)
        n = np.broadcast_to(n.astype(np.int64), shape)
        out = np.empty(probs.shape, dtype=np.int64)
        for at in np.ndindex(shape):
            left, mass, dmass = int(n[at]), 1.0, 0.0
            for i, (p, dp) in enumerate(zip(probs[at].tolist()[:-1], d[at].tolist(),
                                            strict=False)):
                share = min(p / mass, 1.0) if mass > 0.0 else 1.0  # rounding may pass 1
                dshare = (dp * mass - p * dmass) / (mass * mass) if mass > 0.0 else 0.0
                out[at + (i,)] = k = self.binomial(left, Dual(share, dshare) if dshare
                                                   else share)
                left, mass, dmass = left - k, mass - p, dmass - dp
            out[at + (-1,)] = left
        return out

    def multivariate_hypergeometric(self, colors, nsample, size=None, method="marginals"):
        """``Generator.multivariate_hypergeometric``: colour ``i``'s count is
        ``Hypergeometric(colors[i], colours after it, draws left)`` (as
        :func:`stochad.families.multivariate_hypergeometric`); the integers move by finite
        perturbations only."""
        if method not in ("count", "marginals"):
            raise ValueError(f"multivariate_hypergeometric: method must be 'count' or "
                             f"'marginals', got {method!r}")
        counts = [parameter(c) for c in (colors if isinstance(colors, list | tuple)
                                         else np.asarray(colors).tolist())]
        nsample, dn = parameter(nsample)
        if any(nonzero(d) for _, d in counts) or nonzero(dn):
            raise ValueError("multivariate_hypergeometric: colors and nsample cannot carry a "
                             "dual part (they are integers); only finite perturbations (from "
                             "discrete draws) are supported")
        colors = np.asarray([c for c, _ in counts])
        if colors.ndim != 1 or not np.all(np.isfinite(colors)) or np.any(colors < 0) \
                or np.any(colors != np.floor(colors)):
            raise ValueError(f"multivariate_hypergeometric: colors must be a one-dimensional "
                             f"sequence of non-negative integers, got {colors.tolist()!r}")
        if not 0 <= nsample <= colors.sum() or nsample != math.floor(nsample):
            raise ValueError(f"multivariate_hypergeometric: nsample must be an integer in [0, "
                             f"sum(colors) = {colors.sum()}], got {nsample!r}")
        colors = colors.astype(np.int64).tolist()
        rest = np.cumsum(colors[::-1])[::-1].tolist()[1:] + [0]  # the colours after each
        shape = shape_of(size)
        out = np.empty(shape + (len(colors),), dtype=np.int64)
        if not colors:  # no colours (nsample 0, checked above): numpy's empty counts
            return out
        for at in np.ndindex(shape):
            left = int(nsample)
            for i in range(len(colors) - 1):
                out[at + (i,)] = k = self.draw(_HYPERGEOMETRIC, (colors[i], rest[i], left))
                left -= k
            out[at + (-1,)] = left
        return out


def _array(x):
    """``x`` as an array to permute: a dual array for dual numbers (or a list holding some),
    else a numpy array."""
    if type(x) is Dual:
        return x
    if isinstance(x, list | tuple) and any(type(a) is Dual for a in nested(x)):
        return stack_duals(x)
    return np.asarray(x)


def _check_pvals(probs):
    """numpy's checks of ``multinomial``'s ``pvals`` (categories along the last axis)."""
    if probs.ndim < 1 or probs.shape[-1] == 0:
        raise ValueError(f"multinomial: pvals must have at least one category (an axis of "
                         f"probabilities), got shape {probs.shape}")
    bad = ~(np.isfinite(probs) & (probs >= 0) & (probs <= 1))
    if bad.any():
        raise ValueError(f"multinomial: pvals must be finite and in [0, 1], got "
                         f"{probs[bad][0].item()!r}")
    total = probs[..., :-1].sum(axis=-1)
    if np.any(total > 1.0 + 1e-12):
        raise ValueError(f"multinomial: the sum of pvals[:-1] must be at most 1, got "
                         f"{np.max(total).item()!r}")


def _counts_shape(name, size, *shapes):
    """The batch shape of a draw of counts (numpy's: ``size`` if given, which the parameters'
    shapes must broadcast to)."""
    shape = np.broadcast_shapes(*shapes)
    if size is None:
        return shape
    size = shape_of(size)
    if np.broadcast_shapes(shape, size) != size:
        raise ValueError(f"{name}: output size {size} is not compatible with the parameters' "
                         f"shapes {', '.join(map(str, shapes))}")
    return size


def _rearranged(x, how):
    """``how`` (an indexing of an array) applied to ``x``, or to a dual array's values and
    dual parts alike. The rearranged values keep their draw's provenance (not affine, as an
    element's: a later comparison of them with a moving threshold warns), so that a newer draw
    they are combined with folds it in."""
    if type(x) is not Dual:
        return how(np.asarray(x))
    escape([x])
    return Dual(how(np.asarray(x.v)), how(np.broadcast_to(x.d, np.shape(x.v))),
                None if x.src is None else Source(x.src.rec))


def shape_of(size) -> tuple:
    """numpy's ``size=`` as a shape: ``None`` one draw, else an integer or a sequence of them
    (a float raises ``TypeError`` and a negative ``ValueError``, as numpy's do).

    Examples
    --------
    >>> shape_of(None), shape_of(3), shape_of((2, np.int64(3)))
    ((), (3,), (2, 3))
    >>> shape_of(2.5)
    Traceback (most recent call last):
    ...
    TypeError: size must be an integer or a tuple of integers, got 2.5
    """
    if size is None:
        return ()
    try:
        shape = ((operator.index(size),) if np.ndim(size) == 0
                 else tuple(operator.index(n) for n in size))
    except TypeError:
        raise TypeError(f"size must be an integer or a tuple of integers, got {size!r}") \
            from None
    if any(n < 0 for n in shape):
        raise ValueError(f"size must not be negative, got {size!r}")
    return shape


def _bad_continuous(name, label, v):
    """Raise if ``v`` is not a valid parameter ``label`` of draw ``name``."""
    bad = ~np.isfinite(v) | ((v < 0) if label == "scale" else False)
    if np.any(bad):
        what = "must be finite and >= 0" if label == "scale" else "must be finite"
        raise ValueError(f"{name}: {label} {what}, got {v[bad].reshape(-1)[0].item()!r}")


def dual_parts(x, shape):
    if type(x) is Dual:
        return x.v, x.d
    return float(x) if shape == () else x, (0.0 if shape == () else np.zeros(shape))


def fresh_noise(stream, law, shape):
    if law is scalar_laws.NORMAL_NOISE:
        return stream.normal() if shape == () else stream.normals(shape)
    u = stream.uniforms_of(shape)
    if law is scalar_laws.EXPONENTIAL_NOISE:
        return -math.log1p(-u) if shape == () else -np.log1p(-u)
    return u


def sample_array(law, u, full, core):
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


class Block:
    """The candidate events of one array draw (``size=``), at most one per element: elements
    ``elems`` (``None``: every element) of draw ``serial`` move to ``alts`` with weights
    ``weights`` (an array, or one float for every element, as a Poisson draw's ``δ``). Choosing
    among them goes by the same running sum of ``|w|`` as single events
    (:func:`stochad.replay._choose`).

    Examples
    --------
    >>> block = Block(3, None, np.array([2, 1, 4]), 0.5)
    >>> len(block), block.magnitudes(), block.event(1)
    (3, [0.5, 0.5, 0.5], (0.5, 3, 1, 1, None))
    >>> block.find(1.0, 1.7)     # the running sum 1.5, 2.0, ...: element 1, at 2.0
    (1, 2.0)
    """

    __slots__ = ("serial", "elems", "alts", "weights")

    def __init__(self, serial, elems, alts, weights):
        self.serial, self.elems, self.alts, self.weights = serial, elems, alts, weights

    def __len__(self):
        return len(self.alts)

    def magnitudes(self) -> list:
        """``|w|`` of every event, in order (Python floats)."""
        w = self.weights
        return [abs(w)] * len(self.alts) if type(w) is float else np.abs(w).tolist()

    def find(self, acc, target):
        """``(j, running sum)``: the first event ``j`` at which the running sum of ``|w|``
        from ``acc`` exceeds ``target`` (``j = -1`` if none). The additions run in order,
        in Python for a small block, by numpy's cumulative sum (the same order) otherwise."""
        magnitudes = self.magnitudes()
        if len(magnitudes) <= 64:
            for j, m in enumerate(magnitudes):
                acc += m
                if target < acc:
                    return j, acc
            return -1, acc
        sums = np.cumsum(np.concatenate(([acc], magnitudes)))[1:]
        j = int(np.searchsorted(sums, target, side="right"))
        return (j if j < sums.size else -1), float(sums[min(j, sums.size - 1)])

    def event(self, j):
        """Event ``j`` as a single candidate tuple."""
        w = self.weights
        return (w if type(w) is float else float(w[j]), self.serial,
                j if self.elems is None else int(self.elems[j]), int(self.alts[j]), None)
