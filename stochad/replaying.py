"""The replay run of the replay engine (:mod:`stochad.replay`): the program again on plain
numbers, one draw forced to its alternative, the others coupled to the tracking run.

Before the flipped draw the replay must repeat the tracking run (it checks that it does:
:class:`~stochad.tapes.ReplayMismatchError` otherwise); after it, every draw takes the uniform
the tracking run recorded under the same key (call site, occurrence there), or a fresh one.

Examples
--------
Two Bernoulli draws, the first flipped:

>>> import numpy as np, stochad as sad
>>> from stochad import context, dual, tapes, tracking
>>> def run(tape, f, x):
...     token = context._current_tape.set(tape)
...     try:
...         return f(x)
...     finally:
...         context._current_tape.reset(token)
>>> f = lambda p: sad.bernoulli(p) + sad.bernoulli(p)
>>> first = tracking.Tracking(tapes.Shared(np.random.default_rng(0)))
>>> [run(first, f, dual.Dual(0.5, 1.0)), [k for _, _, k in first.records]]
[1, [0, 1]]
>>> run(Replay(first, 0, None, 1), f, 0.5)    # the first draw flipped to 1
2
"""

from __future__ import annotations

import numpy as np

from . import cdf_laws, samplers, scalar_laws
from .scalar_laws import cdf_couple, ppf_fill
from .tapes import Tape, call_site, fresh_noise, mismatch, sample_array

_BERNOULLI_DIST = samplers.BERNOULLI
_BERNOULLI, _UNIFORM = scalar_laws.BERNOULLI, scalar_laws.UNIFORM_NOISE


def _same(law, out, k):
    """``out``, which must be the tracking run's outcomes ``k`` (same shape and dtype)."""
    if type(k) is not np.ndarray or out.shape != k.shape or out.dtype != k.dtype \
            or out.tobytes() != k.tobytes():
        raise mismatch(f"drew {law.name} = {out} where the tracking run drew {k}")
    return out


class Replay(Tape):
    """A replay run: the tracking run's draws by key, draw ``serial`` forced to ``forced``
    (element ``elem`` of an array draw).

    While the replay draws at the same call sites in the same order as the tracking run
    (*aligned*, the common case), draw ``i``'s key is the tracking run's draw ``i``'s: its
    record is found by position. The first draw at another site switches to the key tables
    (occurrence counts as both runs had them up to there)."""

    def __init__(self, tracking, serial, elem, forced):
        self.stream = tracking.stream
        self.shared = tracking.shared
        self.tracking = tracking
        self.records, self.sites = tracking.records, tracking.sites
        self.serial, self.elem, self.forced = serial, elem, forced
        self.i = 0
        self.counts = self.by_key = None   # None: aligned

    def reached(self) -> bool:
        return self.i > self.serial

    def _after(self, i, depth):
        """The tracking run's record under draw ``i``'s key (``i`` after the flipped draw;
        its call site is ``call_site(depth)`` as the caller would look it up), or ``None``."""
        if self.counts is None:
            sites = self.sites
            if i >= len(sites):  # beyond the tracking run's draws (still aligned): no record
                return None      # and no call site to look up
            site = call_site(depth + 1)
            if sites[i] == site:
                return self.records[i]
            self.counts, self.by_key = self.tracking.key_tables(i)
        else:
            site = call_site(depth + 1)
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
                raise mismatch(f"drew {name} where the tracking run drew {rec[0]}")
            return (0 if i < self.serial else 1), rec[1], rec[2]
        rec = self._after(i, 4)  # _next <- _scalar/... <- tape method <- ... <- user
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
                raise mismatch(f"drew bernoulli where the tracking run drew {name} = {k}")
            return k
        if i == self.serial:
            return self._scalar(_BERNOULLI, (p,), None)
        self.i = i + 1
        rec = self._after(i, 3)  # bernoulli <- samplers.bernoulli <- user
        u = rec[1] if rec is not None and rec[0] == "bernoulli" else self.stream.uniform()
        return 1 if u < p else 0

    def _scalar(self, law, values, d):
        i = self.i
        serial = self.serial
        if i > serial:  # after the flipped draw: coupled through the uniform under its key
            self.i = i + 1
            rec = self._after(i, 4)  # _scalar <- draw <- ... <- user
            u = rec[1] if rec is not None and rec[0] == law.name and type(rec[1]) is float \
                else self.stream.uniform()
            return (1 if u < values[0] else 0) if law is _BERNOULLI else law.sample(u, *values)
        self.i = i + 1
        name, u, k = self.records[i]
        if name != law.name:
            raise mismatch(f"drew {law.name} where the tracking run drew {name}")
        if i == serial:
            return self.forced
        # before the flipped draw: repeat the tracking run
        out = (1 if u < values[0] else 0) if law is _BERNOULLI else law.sample(u, *values)
        if out != k:
            raise mismatch(f"drew {law.name} = {out} where the tracking run drew {k}")
        return out

    def _array(self, dist, law, shape, full, d):
        mode, u, k = self._next(law.name)
        if mode == 1:
            return self._forced(k)
        u = self._coupled(mode, u, shape, self.stream.uniforms)
        out = sample_array(law, u, full, dist.core_ndim)
        if mode == 0:
            _same(law, out, k)
        return out.item() if out.ndim == 0 else out

    def discrete_by_cdf(self, dist, shape, full, deltas):
        """A draw of a law known by its CDF: the tracking run's outcome before the flipped
        draw (its parameters checked, not re-inverted: see :func:`cdf_couple`), the forced
        one at it, then coupled through the recorded uniforms (fresh numbers without a
        record of the same law and shape)."""
        mode, payload, k = self._next(dist.name)
        if mode < 2:
            old, _, params = payload
            if type(old) is not type(dist) or any(
                    not np.array_equal(a, b) for a, b in zip(params, full, strict=True)):
                raise mismatch(f"drew {dist.name} with parameters {[a.tolist() for a in full]} "
                               f"where the tracking run drew {old.name} with "
                               f"{[a.tolist() for a in params]}")
            out = self._forced(k) if mode == 1 else k.copy()
        elif mode == 2 and type(payload[0]) is type(dist) and k.shape == shape:
            out = cdf_couple(dist, payload[1], k, payload[2], full)
        else:
            out = np.asarray(dist.sample(self.stream.rng, full, shape)[0], dtype=np.int64)
        return int(out) if shape == () else out

    def ppfs(self, law, kind, size, a, b, d):
        """:meth:`~stochad.tracking.Tracking.ppfs` (``rng.poisson(m, size=z)``) inline."""
        i = self.i
        self.i = i + 1
        if i <= self.serial:  # the tracking run's draw, repeated or flipped
            name, u, k = self.records[i]
            if name != law.name or type(u) is not np.ndarray or u.shape != (size,):
                raise mismatch(f"drew {law.name} of size {size} where the tracking run drew "
                               f"{name} of shape {np.shape(u)}")
            if i == self.serial:
                return self._forced(k)
            return _same(law, ppf_fill(kind, u, a, b), k)
        rec = self._after(i, 4)  # ppfs <- Tape.poisson <- Generator.poisson <- user
        u = self._coupled(2, rec[1], (size,), self.stream.uniforms) \
            if rec is not None and rec[0] == law.name else self.stream.uniforms((size,))
        return ppf_fill(kind, u, a, b)

    def _uniform(self, name, shape):
        mode, u, _ = self._next(name)
        if mode == 3 or np.shape(u) != shape:
            u = self.stream.uniforms_of(shape)
        return np.asarray(u)

    def random(self, size=None, dtype=np.float64):
        if size is not None:
            return super().random(size, dtype)
        i = self.i  # the hot path: one uniform, inline
        if i < self.serial:  # before the flipped draw: repeat the tracking run
            self.i = i + 1
            name, rec, _ = self.records[i]
            if name != "uniform":
                raise mismatch(f"drew uniform where the tracking run drew {name}")
            return rec.z
        if i == self.serial:
            return self._noise(_UNIFORM, (), 0.0, 1.0)
        self.i = i + 1
        rec = self._after(i, 3)  # random <- Generator.random <- user
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
                    raise mismatch(f"drew {law.name} where the tracking run drew {name}")
            else:
                rec = self._after(i, 4)  # _noise <- tape method <- ... <- user
                rec = rec[1] if rec is not None and rec[0] == law.name else None
            z = rec.z if rec is not None and type(rec.z) is float \
                else fresh_noise(self.stream, law, ())
            return a + b * z
        mode, rec, _ = self._next(law.name)
        if mode == 1:
            z = self._forced(rec.z)
        elif mode != 3 and shape == () and type(rec.z) is float:
            z = rec.z
        else:
            z = self._coupled(mode, None if mode == 3 else rec.z, shape,
                              lambda n: fresh_noise(self.stream, law, n))
        return a + b * z

    def continuous_by_cdf(self, law, values, deltas, shape):
        """:meth:`~stochad.tracking.Tracking.continuous_by_cdf`: the tracking run's draw where
        the parameters are the same (before the flipped draw they must be), else that draw
        carried to these parameters by inversion, or a fresh draw without a record."""
        mode, rec, _ = self._next(law.name)
        if mode == 1:
            return self._forced(rec.z)
        if mode != 3 and (() if type(rec.z) is float else rec.z.shape) == shape:
            if (values == rec.law.values if shape == () else all(  # floats: as lists
                    np.array_equal(a, b) for a, b in zip(values, rec.law.values, strict=True))):
                return rec.z if shape == () else rec.z.copy()
            if mode == 2:
                return cdf_laws.moved(law, rec.z, rec.law.values, values)
        if mode == 0:
            raise mismatch(f"drew {law.name} with parameters {values} of shape {shape} where "
                           f"the tracking run drew it with {rec.law.values}")
        return cdf_laws.sample(law, self.stream.rng, values, shape)

    def compare(self, op, result, src):  # replay values are plain: never called
        return result

    def element(self, src, flat, shape):
        return None

    def compare_plain(self, result):
        return result

    def compare_affine(self, op, result, rec, av, ad, bv, bd):
        return result

    def event(self, below, rec, av, ad, bv, bd):
        pass

    def narrow(self, below, rec, boundary):
        pass

    def hold(self, below, rec, boundary, lasting=True):
        pass

    def opaque(self, rec):
        pass
