"""The natural programs (:mod:`bench.natural`) differentiated unchanged by replay.

``stochad-bench natural [NAME ...] [--samples N] [--repeats R] [--seed S] [--backend B]``
prints, per program: the replay estimate (``vectorize=False``; backend ``B``: ``pruned``, the
default, ``kpaths``, ``kpaths:K`` or ``exact``) against the exact derivative; the derivative
samples per second; the primal samples per second of the same program run plainly on numpy's
``Generator`` with a float parameter, timed in the same process and interleaved with the replay
runs (best of ``R`` each); their ratio; the per-sample standard deviation; and the classical
rival, the score-function estimator with a leave-one-out baseline written by hand
(:mod:`bench.natural_score`: the program unchanged on a score-accumulating Generator, as a user
would write REINFORCE), timed the same way: its estimate, standard deviation, samples per
second, and replay's time × variance over the rival's (below 1: replay reaches a given
standard error sooner). A ``!`` marks an estimate more than 5 standard errors from the exact
value.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

import stochad as sad
from stochad.replay import REPLAYED, replays

from .natural import PROGRAMS, NaturalProgram
from .natural_score import score_baseline_samples

Z = 5.0


@dataclass
class Row:
    name: str
    exact: float
    replay: np.ndarray
    replay_rate: float
    plain_rate: float
    score: np.ndarray
    score_rate: float

    @property
    def time_x_variance_ratio(self) -> float:
        """Replay's seconds per sample × variance over the score rival's."""
        return (self.replay.var() / self.replay_rate) / (self.score.var() / self.score_rate)


def _summary(samples: np.ndarray, exact: float) -> str:
    mean, stderr = samples.mean(), samples.std(ddof=1) / np.sqrt(len(samples))
    flag = "!" if abs(mean - exact) > Z * stderr else " "
    return f"{mean:9.3f} ± {stderr:6.3f}{flag}"


def measure(program: NaturalProgram, samples: int, seed: int, repeats: int,
            backend: str = "pruned") -> Row:
    """Replay (``backend``) and plain runs of ``program``, interleaved; the replay samples of
    every repeat."""
    theta = program.theta0

    def differentiable(t):
        return program.prog(t, sad.Generator())

    parts, scores = [], []
    best_replay = best_plain = best_score = np.inf
    for r in range(repeats):
        start = time.perf_counter()
        parts.append(sad.derivative_samples(differentiable, theta, n_samples=samples,
                                            rng=seed + r, vectorize=False, backend=backend))
        best_replay = min(best_replay, time.perf_counter() - start)
        rng = np.random.default_rng(seed + r)
        start = time.perf_counter()
        for _ in range(samples):
            program.prog(theta, rng)
        best_plain = min(best_plain, time.perf_counter() - start)
        start = time.perf_counter()
        scores.append(score_baseline_samples(program, theta, samples,
                                             np.random.default_rng(seed + r)))
        best_score = min(best_score, time.perf_counter() - start)
    return Row(program.name, program.exact_derivative(theta), np.concatenate(parts),
               samples / best_replay, samples / best_plain, np.concatenate(scores),
               samples / best_score)


def report(names: list[str], samples: int, seed: int, repeats: int,
           backend: str = "pruned") -> str:
    """The table of :func:`measure` for the programs ``names`` (all if empty)."""
    unknown = sorted(set(names) - set(PROGRAMS))
    if unknown:
        raise ValueError(f"unknown natural program(s) {unknown}; choose from {sorted(PROGRAMS)}")
    if not replays(backend):
        raise ValueError(f"backend {backend!r}: replay runs {', '.join(REPLAYED)} or kpaths:K")
    lines = [f"{'program':22} {'exact':>9} {f'replay ({backend})':>19} {'samples/s':>9} "
             f"{'plain/s':>9} {'ratio':>6} {'sd':>8} {'score+baseline':>19} {'sd':>8} "
             f"{'samples/s':>9} {'t×var':>6}"]
    for name in names or list(PROGRAMS):
        row = measure(PROGRAMS[name], samples, seed, repeats, backend)
        lines.append(
            f"{row.name:22} {row.exact:9.3f} {_summary(row.replay, row.exact)} "
            f"{row.replay_rate:9,.0f} {row.plain_rate:9,.0f} "
            f"{row.plain_rate / row.replay_rate:6.1f} {row.replay.std():8.2f} "
            f"{_summary(row.score, row.exact)} {row.score.std():8.2f} {row.score_rate:9,.0f} "
            f"{row.time_x_variance_ratio:6.2f}")
    lines.append(f"ratio: plain samples/s over replay samples/s; t×var: replay's time × variance "
                 f"over the hand-written score function's (< 1: replay wins); '!': more than "
                 f"{Z:g} standard errors from the exact derivative")
    return "\n".join(lines)
