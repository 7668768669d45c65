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
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import stochad as sad
from stochad.context import _current_tape
from stochad.dual import Dual
from stochad.tapes import Shared
from stochad.tracking import Tracking

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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    print(f"{'operation':30} {'plain ns':>9} {'tracking ns':>12} {'ratio':>6}")
    for name, plain, tracked in measure(args.repeats):
        print(f"{name:30} {plain:9.0f} {tracked:12.0f} {tracked / plain:6.1f}")


if __name__ == "__main__":
    main()
