"""Speed of the replay engine (``vectorize=False``) against the same program run plainly.

``python3 -m bench.replay_speed [--samples N] [--repeats R]`` prints, per program, the
derivative samples per second one sample per call (pruned replay), the primal samples per
second of the same code written for numpy's ``Generator`` with a float parameter, and their
ratio. The two are timed in the same process, interleaved, best of ``R`` runs each (the
machine is noisy: run it a few times and report the range).

Programs: the README walk (``n += bernoulli(p·(1 − (n + i)/200))``, 100 steps), a queue
written with ``rng.random() < p`` and nested ``if``s, and a Gillespie pure-birth (Yule) loop
``while True: t += rng.exponential(...); if t > T: break``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import stochad as sad


def walk_stochad(p):
    n = 0
    for i in range(1, 101):
        n = n + sad.bernoulli(p * (1 - (n + i) / 200))
    return n


def walk_numpy(p, rng):
    n = 0
    for i in range(1, 101):
        n = n + (rng.random() < p * (1 - (n + i) / 200))
    return n


def queue(p, rng):
    """A finite-buffer queue: an arrival with probability p, else a service with 0.6."""
    q, lost = 0, 0
    for _ in range(100):
        if rng.random() < p:
            if q < 10:
                q += 1
            else:
                lost += 1
        elif q > 0 and rng.random() < 0.6:
            q -= 1
    return q + lost


def yule(lam, rng):
    """Pure birth at rate lam·n until time 1."""
    t, n = 0.0, 1
    while True:
        t += rng.exponential(1 / (lam * n))
        if t > 1.0:
            break
        n += 1
    return n


PROGRAMS = [
    ("walk", walk_stochad, lambda p, rng: walk_numpy(p, rng), 0.5),
    ("queue", lambda p: queue(p, sad.Generator()), queue, 0.5),
    ("yule", lambda p: yule(p, sad.Generator()), yule, 1.0),
]


def measure(samples: int, repeats: int):
    rows = []
    for name, differentiable, plain, p in PROGRAMS:
        best_replay, best_plain = np.inf, np.inf
        for r in range(repeats):
            start = time.perf_counter()
            sad.derivative_samples(differentiable, p, n_samples=samples, rng=r,
                                   vectorize=False)
            best_replay = min(best_replay, time.perf_counter() - start)
            rng = np.random.default_rng(r)
            start = time.perf_counter()
            for _ in range(samples):
                plain(p, rng)
            best_plain = min(best_plain, time.perf_counter() - start)
        rows.append((name, samples / best_replay, samples / best_plain,
                     best_replay / best_plain))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    sad.derivative_samples(walk_stochad, 0.5, n_samples=5, rng=0, vectorize=False)  # warm up
    print(f"{'program':8} {'replay samples/s':>17} {'plain samples/s':>16} {'ratio':>7}")
    for name, replay_rate, plain_rate, ratio in measure(args.samples, args.repeats):
        print(f"{name:8} {replay_rate:17,.0f} {plain_rate:16,.0f} {ratio:7.2f}")


if __name__ == "__main__":
    main()
