"""What single operations cost in the replay engine's tracking run against plain Python floats.

``python3 -m bench.replay_costs [--repeats R]`` times, per operation, a loop of 50 of them
inside a fresh tracking run (``Tracking`` tape, dual parameter, as one derivative sample sees
them) and the same loop on floats with numpy's ``Generator``, best of ``R``, in nanoseconds.
The rows are the pieces of a Gillespie loop such as ``birth_death_gillespie``; their ratios
say how far below the issue's 10× any program built of them can go: the tracking run alone
costs the sum of its operations' rows, and the replay run adds about 1.5–2× the plain run.

The reference row ``forwarding method`` is a Generator subclass whose ``random`` only calls
numpy's: the cost of one Python-level method call per draw, which any engine that sees the
draws of unchanged code pays, before recording anything.

The second table splits one sample of ``birth_death_gillespie`` (microseconds, best of ``R``
rounds of 300 samples, the rows interleaved): the plain program; the same program on a bare
dual number (value and dual part, nothing else: :class:`_Bare`) with draws that only forward
to numpy and keep their numbers (:class:`_BareGenerator`), the floor of any dual number
written in Python; the engine's tracking run (the bookkeeping of DESIGN §5 on top: call-site
keys, provenance, each comparison's event and weight); a whole sample (the choice and the
replay runs on top).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import stochad as sad
from stochad import replay
from stochad.context import _current_tape
from stochad.dual import Dual
from stochad.tapes import Shared
from stochad.tracking import Tracking

from .natural import birth_death_gillespie

INNER = 50  # operations per tracking run (a sample's tape stays small, as in a real run)


class _Forwarding(np.random.Generator):
    def random(self, size=None):
        return super().random(size)


def _ops(theta, rng):
    """``(name, loop)`` pairs: each loop runs an operation ``k`` times on ``theta``."""
    scale = 1 / (theta * 10 + 5.0)
    share = theta * 10 / (theta * 10 + 5.0)

    def arithmetic(k):
        for _ in range(k):
            theta * 10 + 5.0

    def uniform(k):
        for _ in range(k):
            rng.random()

    def exponential(k):
        for _ in range(k):
            rng.exponential(scale)

    def bernoulli_by_comparison(k):
        for _ in range(k):
            rng.random() < share  # noqa: B015 (the event is the point)

    def running_time(k):
        t = rng.exponential(scale)
        for _ in range(k):
            t = t + rng.exponential(scale)

    def running_time_compared(k):
        t = rng.exponential(scale)
        for _ in range(k):
            t = t + rng.exponential(scale)
            t >= 1e9  # noqa: B015

    return [("theta * 10 + 5.0", arithmetic), ("rng.random()", uniform),
            ("rng.exponential(s)", exponential), ("rng.random() < p", bernoulli_by_comparison),
            ("t = t + rng.exponential(s)", running_time),
            ("  ... then t >= T", running_time_compared)]


def _best(loop, repeats, tracked):
    """Nanoseconds per operation, best of ``repeats`` rounds of 200 runs of ``INNER``."""
    shared = Shared(np.random.default_rng(0))
    best = np.inf
    for _ in range(repeats):
        total = 0.0
        for _ in range(200):
            token = _current_tape.set(Tracking(shared)) if tracked else None
            start = time.perf_counter()
            loop(INNER)
            total += time.perf_counter() - start
            if tracked:
                _current_tape.reset(token)
        best = min(best, total / 200 / INNER * 1e9)
    return best


def measure(repeats: int):
    """``[(operation, plain ns, tracking ns)]``, and the forwarding method's row."""
    plain = _ops(0.7, np.random.default_rng(1))
    tracked = _ops(Dual(0.7, 1.0), sad.Generator())
    rows = [(name, _best(p, repeats, False), _best(t, repeats, True))
            for (name, p), (_, t) in zip(plain, tracked, strict=True)]
    forwarding = _Forwarding(np.random.PCG64(1))

    def forwarded(k):
        for _ in range(k):
            forwarding.random()

    rows.append(("forwarding method: random()", rows[1][1], _best(forwarded, repeats, False)))
    return rows


class _Bare:
    """A dual number that only follows the chain rule: what a Gillespie loop needs of one."""

    __slots__ = ("v", "d")

    def __init__(self, v, d):
        self.v, self.d = v, d

    def __add__(self, o):
        if type(o) is _Bare:
            return _Bare(self.v + o.v, self.d + o.d)
        return _Bare(self.v + o, self.d)

    __radd__ = __add__

    def __mul__(self, o):
        if type(o) is _Bare:
            return _Bare(self.v * o.v, self.d * o.v + self.v * o.d)
        return _Bare(self.v * o, self.d * o)

    __rmul__ = __mul__

    def __truediv__(self, o):
        if type(o) is _Bare:
            v = self.v / o.v
            return _Bare(v, (self.d - v * o.d) / o.v)
        return _Bare(self.v / o, self.d / o)

    def __rtruediv__(self, o):
        v = o / self.v
        return _Bare(v, -v * self.d / self.v)

    def __lt__(self, o):
        return self.v < (o.v if type(o) is _Bare else o)

    def __ge__(self, o):
        return self.v >= (o.v if type(o) is _Bare else o)

    def __eq__(self, o):
        return self.v == (o.v if type(o) is _Bare else o)

    __hash__ = None


class _BareGenerator:
    """Draws that forward to numpy and keep their numbers (a replay needs them)."""

    def __init__(self, rng):
        self.rng, self.kept = rng, []

    def random(self):
        u = self.rng.random()
        self.kept.append(u)
        return _Bare(u, 0.0)

    def exponential(self, scale):
        z = self.rng.standard_exponential()
        self.kept.append(z)
        return _Bare(scale.v * z, scale.d * z)


def split(repeats: int, samples: int = 300):
    """``[(part, µs a sample)]`` of ``birth_death_gillespie`` at birth rate 1 (the module
    docstring's second table)."""
    rng = np.random.default_rng(1)
    shared = Shared(np.random.default_rng(1))
    generator = sad.Generator()

    def program(x):
        return birth_death_gillespie(x, generator)

    parts = [("plain program", lambda: birth_death_gillespie(1.0, rng)),
             ("bare dual number", lambda: birth_death_gillespie(_Bare(1.0, 1.0),
                                                                _BareGenerator(rng))),
             ("tracking run", lambda: replay._tracked(program, 1.0, 1.0, shared)),
             ("whole sample", lambda: replay.sample(program, 1.0, 1.0, shared))]
    best = [np.inf] * len(parts)
    for _ in range(repeats):
        for i, (_, run) in enumerate(parts):
            start = time.perf_counter()
            for _ in range(samples):
                run()
            best[i] = min(best[i], (time.perf_counter() - start) / samples * 1e6)
    return [(name, b) for (name, _), b in zip(parts, best, strict=True)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    print(f"{'operation':30} {'plain ns':>9} {'tracking ns':>12} {'ratio':>6}")
    for name, plain, tracked in measure(args.repeats):
        print(f"{name:30} {plain:9.0f} {tracked:12.0f} {tracked / plain:6.1f}")
    rows = split(args.repeats)
    print(f"\n{'one birth-death sample':30} {'us':>9} {'x plain':>12}")
    for name, us in rows:
        print(f"{name:30} {us:9.1f} {us / rows[0][1]:12.1f}")


if __name__ == "__main__":
    main()
