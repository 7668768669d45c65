"""The tracking run of the replay engine (:mod:`stochad.replay`): one sample's draws, keys
and candidate events.

The program runs on a :class:`~stochad.dual.Dual` parameter. Each draw records its uniform (or
standard noise) and call site (:func:`stochad.tapes.call_site`); a discrete draw records its
candidate perturbations (alternative outcome, weight ``w`` of DESIGN §1's table), a continuous
one returns a reparameterised dual number whose provenance lets a comparison with a moving
threshold record a Bernoulli event on its noise (:meth:`Tracking.event`).

Examples
--------
>>> import numpy as np
>>> import stochad as sad
>>> from stochad.context import _current_tape
>>> from stochad.dual import Dual
>>> from stochad.tapes import Shared
>>> tape = Tracking(Shared(np.random.default_rng(0)))
>>> token = _current_tape.set(tape)
>>> below = sad.Generator().random() < Dual(0.3, 1.0)   # rng.random() < p: a Bernoulli event
>>> _current_tape.reset(token)
>>> [name for name, _, _ in tape.records], len(tape.candidates)
(['uniform'], 1)
"""

from __future__ import annotations

import math
import operator
import warnings
from collections import Counter
from sys import _getframe

import numpy as np

from . import cdf_laws, samplers, scalar_laws
from .dual import Dual, LostDerivativeWarning, Source, nonzero, read_as_number
from .scalar_laws import cdf_candidates, cdf_sample, ppf_fill
from .tapes import (
    Block,
    ElementView,
    NoiseRecord,
    Tape,
    call_site,
    dual_parts,
    fresh_noise,
    outside,
    sample_array,
    spread,
)

_BERNOULLI_DIST = samplers.BERNOULLI
_BERNOULLI, _UNIFORM = scalar_laws.BERNOULLI, scalar_laws.UNIFORM_NOISE
_EXPONENTIAL, _NORMAL = scalar_laws.EXPONENTIAL_NOISE, scalar_laws.NORMAL_NOISE


SMALL_ARRAY = 64
"""Arrays of draws up to this size are compared element by element in plain Python
(:meth:`Tracking._compare_elements`), larger ones with numpy."""


def _changed(rec):
    """:meth:`~stochad.tapes.NoiseRecord.changed` if anything was folded into ``rec``."""
    if rec.folded is not None:
        rec.changed()


def _edge_at(edges, boundary):
    """The ``(boundary, motion)`` of a draw's event whose boundary a replay cannot tell from
    ``boundary`` (closer than the nudge :meth:`Tracking.sides` gives: ``|a| = |b·boundary|``
    there), or ``None``."""
    if not math.isfinite(boundary):  # (no edge at all: it would be near every one)
        return None
    near = 2e-10 * abs(boundary) + 1e-12 * (1.0 + abs(boundary))
    for edge in edges:
        if abs(edge[0] - boundary) <= near:
            return edge
    return None


def _seen_alone(src, shape) -> bool:
    """Whether the elements of a value of ``shape`` with provenance ``src`` can be seen one
    by one: affine in an array draw's noise, of the draw's own shape (not broadcast)."""
    rec = src.rec
    return src.av is not None and rec.elem is None and type(rec.z) is np.ndarray \
        and rec.z.shape == shape


def _nudged(law, av, bv, boundary):
    """``(lo, hi)``: the noise just below and just above the boundary ``−a/b`` of a
    comparison of ``a + b·z`` (far enough that a replay's float arithmetic lands on the
    intended side), within the law's range."""
    eta = 1e-10 * (abs(av) + abs(bv * boundary)) / abs(bv) + 1e-12 * (1.0 + abs(boundary))
    return (min(max(boundary - eta, law.low), law.high),
            min(max(boundary + eta, law.low), law.high))


def _coefficients(src, shape):
    """The coefficients ``a``, ``da``, ``b``, ``db`` of ``src`` for every element of a value of
    ``shape``, as four lists of floats in flat order."""
    n = math.prod(shape)
    return ([c] * n if type(c) is float else np.broadcast_to(c, shape).reshape(-1).tolist()
            for c in (src.av, src.ad, src.bv, src.bd))


def _at(c, shape, flat):
    """Element ``flat`` of ``c`` broadcast to ``shape``, a float."""
    if type(c) is float or np.ndim(c) == 0:
        return float(c)
    if np.shape(c) == shape:  # (the common case: no view to build)
        return float(c.flat[flat])
    return float(np.broadcast_to(c, shape).reshape(-1)[flat])


_ROUNDING = 1e-12
"""A threshold at an end of a draw's range that moves by less than this (probability per unit
of the parameter) loses no share worth a warning: a normalised running sum (``acc +=
w / total``, a roulette wheel, hand-written resampling) reaches 1 with a dual part of
rounding, 1e-17."""


class Tracking(Tape):
    """The tracking run of one sample: records draws, keys and candidate events."""

    def __init__(self, shared):
        super().__init__(shared)
        self.records: list = []      # per draw, in order: (law name, uniform(s)/noise, outcome)
        self.sites: list = []        # per draw: its call site
        # (weight, draw serial, element, alternative, reference), see sides()
        self.candidates: list = []
        # comparison events of array draws seen: (draw serial, element, boundary) -> None
        # (a scalar draw's record keeps its own, NoiseRecord.edges)
        self._events: dict = {}

    def _record(self, name, payload, k):
        self.sites.append(call_site(4))  # _record <- _array/_uniform <- tape method <- ...
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
            read_as_number(p.src)  # sad.bernoulli(u)
        else:
            v, d = p, 0.0
        if size is not None or rng is not None or type(v) is not float or type(d) is not float \
                or not 0.0 <= v <= 1.0:
            return self.draw(_BERNOULLI_DIST, (p,), size, rng)
        u = self.stream.uniform()
        k = 1 if u < v else 0
        serial = len(self.records)
        self.sites.append(call_site(3))  # bernoulli <- samplers.bernoulli <- user
        self.records.append(("bernoulli", u, k))
        if d != 0.0:
            self._flip(serial, k, v, d)
        return k

    def _flip(self, serial, k, p, d):
        """A Bernoulli draw's candidate event: DESIGN §1's row, and the one-sided rule at
        ``p = 0`` or ``1`` (a negative weight)."""
        if k == 0:
            if d > 0.0 or (d < 0.0 and p <= 0.0):
                self.candidates.append((d / (1.0 - p), serial, None, 1, None))
        elif d < 0.0 or (d > 0.0 and p >= 1.0):
            self.candidates.append((-d / p, serial, None, 0, None))

    def _scalar(self, law, values, d):
        u = self.stream.uniform()
        k = (1 if u < values[0] else 0) if law is _BERNOULLI else law.sample(u, *values)
        serial = len(self.records)
        self.sites.append(call_site(4))  # _scalar <- draw <- samplers.draw <- sampler <- user
        self.records.append((law.name, u, k))
        if type(d) is float and law is _BERNOULLI:  # the hot path
            self._flip(serial, k, values[0], d)
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
        k = sample_array(law, u, full, dist.core_ndim)
        serial = len(self.records)
        self._record(law.name, u, k)
        if law.sample_array is not None and not dist.core_ndim and nonzero(d):
            # every element at once: one block of candidates
            self._block(law, serial, k.reshape(-1),
                        [v if type(v) is float else v.reshape(-1) for v in full],
                        d if type(d) is float else np.asarray(d, dtype=float).reshape(-1))
        elif nonzero(d):
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
        return k.item() if k.ndim == 0 else k.copy()  # the program may change its array

    def discrete_by_cdf(self, dist, shape, full, deltas):
        """A draw of a law known by its CDF: numbers from its own sampler, the uniforms they
        stand for recorded with the parameters (which a replay checks before the flipped
        draw), and the candidate events of every element."""
        k, u = cdf_sample(dist, self.stream.rng, full, shape)
        serial = len(self.records)
        self._record(dist.name, (dist, u, full), k)
        if any(nonzero(d) for d in deltas):
            for i, alt, w in cdf_candidates(dist, k, full, deltas):
                self.candidates.append((w, serial, None if shape == () else i, alt, None))
        return int(k) if shape == () else k.copy()  # the program may change its array

    def _block(self, law, serial, k, params, d):
        """The candidate events of the flat outcomes ``k`` of draw ``serial`` as one
        :class:`~stochad.tapes.Block` (none if no element has one)."""
        present, alt, w = law.candidates_array(k, params, d)
        n = k.size
        if present is True:
            elems = None
        else:
            elems = np.flatnonzero(present)
            if not elems.size:
                return
            alt = spread(alt, n)[elems]
            if type(w) is not float:
                w = spread(w, n)[elems]
        self.candidates.append(Block(serial, elems, spread(alt, n if elems is None
                                                             else elems.size), w))

    def ppfs(self, law, kind, size, a, b, d):
        """An array draw of ``size`` Poisson(``a``) (``kind`` 0) or Binomial(``a``, ``b``)
        outcomes with float parameters, ``d`` the dual part of the last (the hot path of
        ``rng.poisson(m, size=z)``): :meth:`_array`'s numbers in one kernel call."""
        u = self.stream.uniforms((size,))
        k = ppf_fill(kind, u, a, b)
        serial = len(self.records)
        self.sites.append(call_site(4))  # ppfs <- Tape.poisson <- Generator.poisson <- user
        self.records.append((law.name, u, k))
        if d is not None and d != 0.0 and size:
            self._block(law, serial, k, [a] if kind == 0 else [a, b], d)
        return k.copy()  # the program may change its array, not the record

    def _uniform(self, name, shape):
        u = self.stream.uniforms_of(shape)
        self._record(name, u, None)
        return np.asarray(u)

    def random(self, size=None, dtype=np.float64):
        if size is not None:
            return super().random(size, dtype)
        z = self.stream.uniform()  # the hot path of rng.random() < p
        rec = NoiseRecord(len(self.records), _UNIFORM, z)
        self.sites.append(call_site(3))  # random <- Generator.random <- user
        self.records.append(("uniform", rec, None))
        return Dual(z, 0.0, rec)

    def exponential(self, scale=1.0, size=None):
        """``Generator.exponential`` of one float scale, inline (the hot path of Gillespie
        loops); else :meth:`Tape.exponential`."""
        if type(scale) is Dual:
            bv, bd = scale.v, scale.d
        else:
            bv, bd = scale, 0.0
        if size is not None or type(bv) is not float or type(bd) is not float \
                or not 0.0 <= bv < math.inf:
            return super().exponential(scale, size)
        if type(scale) is Dual:
            read_as_number(scale.src)
        z = -math.log1p(-self.stream.uniform())
        rec = NoiseRecord(len(self.records), _EXPONENTIAL, z)
        rec.bv, rec.bd = bv, bd  # the record is its value's provenance: 0 + scale·z
        self.sites.append(call_site(3))  # exponential <- Generator.exponential <- user
        self.records.append(("exponential", rec, None))
        return Dual(0.0 + bv * z, 0.0 + bd * z, rec)

    def _noise(self, law, shape, a, b):
        if shape == ():  # the hot path: one number, inline
            z = (-math.log1p(-self.stream.uniform()) if law is _EXPONENTIAL
                 else self.stream.normal() if law is _NORMAL else self.stream.uniform())
            rec = NoiseRecord(len(self.records), law, z)
            self.sites.append(call_site(4))  # _noise <- tape method <- stochad <- ... <- user
            self.records.append((law.name, rec, None))
            av, ad = (a.v, a.d) if type(a) is Dual else (float(a), 0.0)
            bv, bd = (b.v, b.d) if type(b) is Dual else (float(b), 0.0)
            rec.av, rec.ad, rec.bv, rec.bd = av, ad, bv, bd  # its value's provenance
            return Dual(av + bv * z, ad + bd * z, rec)
        z = fresh_noise(self.stream, law, shape)
        rec = NoiseRecord(len(self.records), law, z)
        self.sites.append(call_site(4))  # _noise <- tape method <- stochad <- ... <- user
        self.records.append((law.name, rec, None))
        (av, ad), (bv, bd) = dual_parts(a, shape), dual_parts(b, shape)
        return Dual(av + bv * z, ad + bd * z, Source(rec, av, ad, bv, bd))

    def continuous_by_cdf(self, law, values, deltas, shape):
        """A draw of a law of :mod:`stochad.cdf_laws` (numpy's sampler): the record keeps
        ``x`` as the noise its comparisons see, with the law at these parameters
        (:class:`~stochad.cdf_laws.Bound`), which a replay needs to move it."""
        bound = cdf_laws.Bound(law, values, deltas)
        x = cdf_laws.sample(law, self.stream.rng, values, shape)
        rec = NoiseRecord(len(self.records), bound, x)
        self._record(law.name, rec, None)
        if shape == ():  # the record is its value's provenance: x = 0 + 1·x
            return Dual(x, bound.dual_part(x), rec)
        return Dual(x, bound.dual_part(x), Source(rec, 0.0, 0.0, 1.0, 0.0))

    # -- comparisons of continuous draws with moving thresholds ----------------------------------
    def element(self, src, flat, shape):
        """The provenance of element ``flat`` of a value of ``shape`` affine in an array
        draw's noise (``src``), as one number: ``a + b·z`` on the element's own record
        (:class:`~stochad.tapes.ElementView`, one per element, so that its comparisons
        narrow one interval), or ``None`` where the element cannot be seen alone (a value
        broadcast beyond the draw's shape)."""
        if not _seen_alone(src, shape):
            return None
        return Source(self._view(src.rec, flat),
                      *(_at(c, shape, flat) for c in (src.av, src.ad, src.bv, src.bd)))

    def elements(self, src, shape):
        """:meth:`element` of every element of a value of ``shape``, in flat order (a slice,
        ``np.cumsum``, ``np.sort``), or ``None``."""
        if not _seen_alone(src, shape):
            return None
        rec = src.rec
        n = rec.z.size
        av, ad, bv, bd = _coefficients(src, shape)
        if rec.views is None and not isinstance(rec.law, cdf_laws.Bound):  # (the common
            law, z = rec.law, rec.z.reshape(-1).tolist()                    # case, at once)
            rec.views = views = {i: ElementView(rec, i, law, z[i]) for i in range(n)}
        else:
            views = [self._view(rec, i) for i in range(n)]
        return [Source(views[i], av[i], ad[i], bv[i], bd[i]) for i in range(n)]

    @staticmethod
    def _view(rec, flat):
        """The :class:`~stochad.tapes.ElementView` of element ``flat`` of the array draw
        ``rec`` (one per element, kept on the record)."""
        views = rec.views
        if views is None:
            views = rec.views = {}
        view = views.get(flat)
        if view is None:
            law = rec.law
            if isinstance(law, cdf_laws.Bound):  # its parameters, element by element
                law = cdf_laws.Bound(law.law, [_at(v, rec.z.shape, flat) for v in law.values],
                                     [None if d is None else _at(d, rec.z.shape, flat)
                                      for d in law.deltas])
            view = views[flat] = ElementView(rec, flat, law)
        return view

    def compare_plain(self, result):
        """A comparison of a value that moves with the parameter (and has no draw's noise in
        it) against a plain number, in a run that read a continuous draw as a plain number
        (``read_plain``): the number may be that draw, whose event is then lost. Warns."""
        self._warn_lost(
            "a comparison of a value that moves with the parameter against a plain number, "
            "in a run that read a continuous draw as a plain number (float(u), math.log(u), "
            "math.exp(x), np.float64(u), an item of a float array): if the number came from "
            "that draw, the comparison's share of the derivative is lost, as the engine no "
            "longer sees the draw in it. Keep draws as they come: draw the law itself "
            "(rng.exponential(1 / lam), not -math.log(rng.random()) / lam), keep a product "
            "of exponentials as its logarithm (x += s * rng.normal(); if x < np.log(B)), and "
            "keep draws in a list rather than a float array")
        return result

    def compare(self, op, result, src):
        """Record the Bernoulli event of ``result = op(x, y)`` on the noise of ``src``'s draw
        (or warn that the comparison's derivative is lost); returns ``result``."""
        if src is None or src.av is None:
            self._warn_lost()
            return result
        bv = src.bv
        if type(src.rec.z) is float and (
                type(src.av) is float and type(src.ad) is float and type(bv) is float
                and type(src.bd) is float and type(result) is bool  # (the hot path: a heap)
                or all(np.ndim(c) == 0 for c in (src.av, src.ad, bv, src.bd, result))):
            # one number (numpy scalars too): the plain-Python event, conditioned and
            # narrowing the record's interval like every scalar comparison
            if bv == 0:
                self._warn_lost()
                return result
            self.compare_affine(op, bool(result), src.rec, float(src.av), float(src.ad),
                                float(bv), float(src.bd))
            return result
        if np.any(np.asarray(bv) == 0):
            self._warn_lost()
            return result
        rec = src.rec
        if rec.opaque or rec.views is not None and any(v.opaque for v in rec.views.values()):
            self._warn_lost(  # no interval of an array's elements holds what that revealed
                "a comparison of a whole array of draws with a moving threshold after the "
                "program compared the array or an element of it with a fixed threshold, or "
                "through a function that is not affine, or read it as a number (u < 0.5, "
                "then u < p): the replay engine keeps no interval for a whole array's elements, "
                "so this event's share is lost. Compare the elements one by one throughout "
                "(for x in u: if x < 0.5: ... if x < p:), which the engine follows exactly")
            return result
        if rec.views is not None and any(v.edges or v.flo > 0.0 or v.fhi < 1.0
                                         for v in rec.views.values()):
            self._warn_lost(  # the elements' intervals are not the array's
                "a comparison of a whole array of draws with a moving threshold after some of "
                "its elements were compared one by one (ts[0] < 2, then ts < 1): the replay "
                "engine cannot weight the array's events given what those comparisons "
                "revealed, so their share of the derivative is lost. Compare the elements one "
                "by one throughout (for t in ts: ...), or the whole array throughout")
            return result
        law = rec.law
        if type(law) is scalar_laws.NoiseLaw and type(rec.z) is np.ndarray \
                and rec.z.size <= SMALL_ARRAY \
                and np.shape(result) == rec.z.shape:
            return self._compare_elements(op, result, src)
        with np.errstate(divide="ignore", invalid="ignore"):
            boundary = -src.av / bv                       # the threshold in noise units
            moves = -(src.ad + src.bd * boundary) / bv    # its dual part
            theta = law.cdf(boundary)                     # P(z < boundary)
            dtheta = law.pdf(boundary) * moves
            if law.moving:
                dtheta = dtheta + law.dcdf(boundary)
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

    def _compare_elements(self, op, result, src):
        """:meth:`compare` of an array of at most :data:`SMALL_ARRAY` draws of a standard
        noise (``rng.random(n) < p``) element by element in plain Python, where numpy's cost
        per call would be most of the time: the same events, weights and sides."""
        rec = src.rec
        law = rec.law
        av, ad, bv, bd = _coefficients(src, rec.z.shape)
        lower = op is operator.lt or op is operator.le
        for i, outcome in enumerate(np.reshape(result, -1).tolist()):
            b = bv[i]
            boundary = -av[i] / b                       # the threshold in noise units
            theta, density = law.cdf_pdf(boundary)      # P(z < boundary)
            dtheta = density * (-(ad[i] + bd[i] * boundary) / b)
            below = outcome if lower == (b > 0.0) else not outcome
            if below:  # no event unless the boundary moves down, into a side of mass > 0
                if not (dtheta < 0.0 and theta > 0.0):
                    continue
                weight = -dtheta / theta
            else:
                if not (dtheta > 0.0 and theta < 1.0):
                    continue
                weight = dtheta / (1.0 - theta)
            if not weight < math.inf or not self._new_event(rec, i, boundary):
                continue
            lo, hi = _nudged(law, av[i], b, boundary)
            self.candidates.append((weight, rec.serial, i, hi if below else lo,
                                    lo if below else hi))
        return result

    def _new_event(self, rec, elem, boundary) -> bool:
        """Whether comparing draw ``rec`` (element ``elem``) at ``boundary`` is a new event:
        ``t < T`` tested twice on the same ``t`` is one event, not two (keys: ``(serial,
        boundary)`` for scalars, ``(serial, element, boundary)`` for arrays)."""
        key = (rec.serial, elem, boundary)
        if key in self._events:
            return False
        self._events[key] = None
        rec.compared += 1
        _changed(rec)
        return True

    def narrow(self, below, rec, boundary):
        """Note what a comparison of the scalar noise ``z`` of ``rec`` with a fixed
        ``boundary`` revealed: ``z`` below it or not (``if u < 0.3: ... elif u < p:``). An
        array's noise keeps no interval: it is marked used instead."""
        if type(rec.z) is not float:
            rec.escaped = True
            rec.make_opaque()
            return
        if not math.isfinite(boundary):  # x < math.inf: true of every value, reveals nothing
            return
        if rec.edges is not None:
            known = _edge_at(rec.edges, boundary)
            if known is not None:  # a fixed threshold at an event's boundary
                self._untie(rec, known[0])
        self.hold(below, rec, boundary)

    def hold(self, below, rec, boundary, lasting=True):
        """Narrow the interval of the scalar noise of ``rec`` to below ``boundary`` or not,
        and nothing else (no event, no check against its events): a step function's cell,
        known before the events at its edges are weighted (:meth:`stochad.dual.Dual.within`,
        which puts it back after: not ``lasting``, so the draws folded into ``rec`` are not
        told of it; ``within`` tells them of what lasts)."""
        if rec.elem is not None:
            _changed(rec.parent)
        law = rec.law
        theta = (0.0 if boundary < 0.0 else 1.0 if boundary > 1.0 else boundary) \
            if law is _UNIFORM else law.cdf_pdf(boundary)[0]
        if below:
            if theta < rec.fhi:
                rec.fhi = theta
                if lasting:
                    _changed(rec)
        elif theta > rec.flo:
            rec.flo = theta
            if lasting:
                _changed(rec)

    def opaque(self, rec):
        """Note that a comparison that nothing moves revealed something of the scalar noise
        of ``rec`` that its interval cannot hold (``if u * u < 0.25:``): a later event on it
        has no known conditional probability (:meth:`event` warns)."""
        rec.make_opaque()
        if rec.elem is not None:
            _changed(rec.parent)

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
        boundary = -av / bv
        if not math.isfinite(boundary):  # t < math.inf (a "never" clock): no event, no news
            return
        if rec.elem is not None and rec.parent.compared:
            self._warn_lost(
                "a comparison with a moving threshold of an element of an array of draws that "
                "the program compared as a whole array before (ts < 1, then ts[0] < p): the "
                "replay engine does not know what the whole-array comparison revealed of the "
                "element, so this event's weight is wrong (too large or too small). Compare "
                "the elements one by one throughout (for t in ts: ...), or the whole array "
                "throughout")
        elif rec.opaque or rec.branched \
                or rec.elem is not None and (rec.parent.opaque or rec.parent.branched):
            self._warn_lost(
                "a comparison with a moving threshold of a continuous draw on which the "
                "program branched before through a function of it that is not affine, or of "
                "it and later draws (u * u < 0.25, np.exp(x) < 1.5, u1 + u2 < 1), or whose "
                "value it read as a number (a parameter of a later draw, np.asarray(x)): the "
                "replay engine weights this event as if that branch had revealed nothing, which is "
                "right only if every branch reaches this comparison. Compare the draw itself "
                "with the fixed threshold (u < 0.5, x < np.log(1.5)), or one draw with the "
                "other (u1 < 1 - u2)")
        law = rec.law
        moves = -(ad + bd * boundary) / bv
        edges = rec.edges
        if edges is None:  # the draw's first event (the hot path)
            rec.edges = [(boundary, moves)]
        else:
            known = _edge_at(edges, boundary)
            if known is not None:  # t < T tested twice on the same t (or the same threshold
                # computed two ways, u < p and u + 0.1 < p + 0.1): one event, not two
                if abs(known[1] - moves) > 1e-9 * max(abs(known[1]), abs(moves)):
                    self._untie(rec, known[0], lost=True)  # thresholds that meet, move apart
                return
            edges.append((boundary, moves))
        rec.compared += 1
        if rec.folded is not None:
            rec.changed()
        if rec.elem is not None:
            _changed(rec.parent)
        if law is _UNIFORM:  # inline cdf_pdf (the hot paths)
            theta = 0.0 if boundary < 0.0 else 1.0 if boundary > 1.0 else boundary
            dtheta = moves if 0.0 <= boundary <= 1.0 else 0.0
        elif law is _EXPONENTIAL:
            if boundary >= 0.0:
                theta, dtheta = -math.expm1(-boundary), math.exp(-boundary) * moves
            else:
                theta, dtheta = 0.0, 0.0 * moves
        else:
            theta, density = law.cdf_pdf(boundary)
            dtheta = density * moves
            if law.moving:  # a law of stochad.cdf_laws: its CDF moves with the parameters
                dtheta += law.dcdf(boundary)
        # the run reached this comparison knowing F(z) in [flo, fhi) from the earlier ones
        # (if u < a: ... elif u < b:): the event's probability is conditional on that, and
        # nil if the boundary lies outside (if u < 0.5: ... if u < p: with p < 0.5 and
        # u >= 0.5, no move of p flips the second)
        flo, fhi = rec.flo, rec.fhi
        if below:
            if theta < fhi:
                rec.fhi = theta
            if not (dtheta < 0 and flo < theta):
                return
            if theta >= fhi:  # beyond the interval, at a fixed edge of it or at the range's end
                if theta == fhi:
                    if fhi < 1.0:
                        self._warn_tie()
                    elif boundary >= law.high and dtheta < -_ROUNDING:
                        self._warn_end()  # (else F rounds to 1: a mass below rounding)
                return
            weight = -dtheta / (theta - flo)
        else:
            if theta > flo:
                rec.flo = theta
            if not (dtheta > 0 and theta < fhi):
                return
            if theta <= flo:
                if theta == flo:
                    if flo > 0.0:
                        self._warn_tie()
                    elif boundary <= law.low and dtheta > _ROUNDING:
                        self._warn_end()
                return
            weight = dtheta / (fhi - theta)
        # the draw's values on either side of the boundary: worked out by sides() for the
        # one event a sample replays, not here for every event
        if rec.elem is None:
            self.candidates.append((weight, rec.serial, None, None, (below, av, bv, boundary)))
        else:  # an element of an array draw (ElementView): the draw's serial, the element
            self.candidates.append((weight, rec.parent.serial, rec.elem, None,
                                    (below, av, bv, boundary)))

    def sides(self, candidate):
        """``(alternative, reference)`` of a candidate event: the noise of its draw just
        across the boundary and just on this side of it (a comparison event of
        :meth:`event` defers working them out to here), or its outcome and ``None``."""
        _, serial, _, forced, reference = candidate
        if forced is not None:
            return forced, reference
        below, av, bv, boundary = reference
        rec = self.records[serial][1]
        law = rec.law if candidate[2] is None else rec.views[candidate[2]].law
        lo, hi = _nudged(law, av, bv, boundary)
        return (hi, lo) if below else (lo, hi)

    def _warn_lost(self, message=None):
        frame = outside(_getframe(1))
        site = (frame.f_code.co_filename, frame.f_lineno)
        if site in self.shared.warned:
            return
        self.shared.warned.add(site)
        warnings.warn_explicit(message or (
            "a comparison that a perturbation of the parameter could flip, which the replay "
            "engine cannot follow (it is not a draw, or an affine function of one continuous "
            "draw, against a moving threshold): its share of the derivative is lost. Compare "
            "the draw itself (rng.random() < p, t + rng.exponential(s) > T), keep a product "
            "of exponentials as its logarithm (x += mu + s * rng.normal(); if x < np.log(B), "
            "not S *= np.exp(...); if S < B), or draw the event with sad.bernoulli(prob); "
            "a continuous payoff max(v, 0) of such a value is np.maximum(v, 0), exact as it is"),
            LostDerivativeWarning, frame.f_code.co_filename, frame.f_lineno,
            # the module's registry: once per call site under the default filter, across the
            # chunks of samples (each has its own `warned` set)
            registry=frame.f_globals.setdefault("__warningregistry__", {}),
            module=frame.f_globals.get("__name__"))

    def _untie(self, rec, boundary, lost=False):
        """Drop the candidate event of draw ``rec`` at ``boundary``, which another
        comparison's threshold meets at this parameter (a replay across the boundary would
        flip both), with a warning if that (or ``lost``) loses derivative mass."""
        serial, elem = (rec.serial, None) if rec.elem is None else (rec.parent.serial, rec.elem)
        kept = [c for c in self.candidates if type(c) is not tuple or c[1] != serial
                or c[2] != elem or c[3] is not None or c[4][3] != boundary]
        if lost or len(kept) < len(self.candidates):
            self.candidates[:] = kept
            self._warn_tie()

    def _warn_end(self):
        self._warn_lost(
            "a comparison whose moving threshold sits at an end of the draw's range (u < p at "
            "p = 1 moving down, or at p = 0 moving up): the flipped draw would lie outside the "
            "range, which a replay cannot run, so its share of the derivative is lost. Draw the "
            "event with sad.bernoulli(p), whose one-sided rule covers the ends, or "
            "differentiate inside the range")

    def _warn_tie(self):
        self._warn_lost(
            "a comparison whose moving threshold equals, at this parameter, a threshold the "
            "same draw was compared with before (if u < 0.5: ... if u < p: at p = 0.5): the "
            "replay engine cannot flip one without the other, so this event's share of the "
            "derivative is lost. Differentiate at a parameter where the thresholds differ, or "
            "draw the two events from separate draws")
