"""The compiled engine against the operator engine, side by side (issue 13).

``python -m bench.compiled_vs_operator [NAMES...] --samples 200000 --runs 3`` runs each bench
problem the compiled engine records with ``sad.derivative_samples(..., compile=True)`` and
``compile=False`` (the pruned backend), interleaved with the plain numpy program, in one
process after a warm-up (the allocator in steady state). Per engine it prints the seconds and
the cost ratio to the plain program (min–max over the runs; each run's ratio uses the plain
time measured next to it), the per-sample sd, |z| against the exact derivative, and time ×
variance; the last column is the operator engine's time × variance over the compiled one's
(above 1: the compiled engine is better).
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

import stochad as sad
from stochad.compiled import engine

from .problems import PROBLEMS

DEFAULT = ["random-walk", "lindley-queue", "lindley-20", "galton-watson", "binomial-square",
           "geometric-square"]


def _timed(f):
    start = time.process_time()
    out = f()
    return time.process_time() - start, out


def compare(problem, samples: int, runs: int, seed: int) -> dict:
    """Times (lists over runs), sds and |z| of both engines and the plain program."""
    rows = {"plain": [], "compiled": [], "operator": []}
    draws = {}
    for compile_ in (True, False):  # warm-up: the kernels and the recording
        sad.derivative_samples(problem.program, problem.param, n_samples=64, rng=0,
                               compile=compile_)
    # and the plain program at full size, so that its arrays come from an allocator in steady
    # state (the first large arrays are fresh pages from the system, which cost more than the
    # arithmetic of the walk)
    problem.plain(problem.param, samples, np.random.default_rng(seed))
    for run in range(runs):
        rng = np.random.default_rng([seed, run])
        rows["plain"].append(_timed(lambda g=rng: problem.plain(problem.param, samples, g))[0])
        for name, compile_ in (("compiled", True), ("operator", False)):
            seconds, draws[name] = _timed(lambda c=compile_, s=[seed, run]: sad.derivative_samples(
                problem.program, problem.param, n_samples=samples, rng=s, compile=c))
            rows[name].append(seconds)
    result = {"plain": rows["plain"]}
    for name in ("compiled", "operator"):
        sd = float(draws[name].std(ddof=1))
        z = abs(draws[name].mean() - problem.exact) / (sd / math.sqrt(samples))
        ratios = [t / p for t, p in zip(rows[name], rows["plain"], strict=True)]
        result[name] = {"seconds": rows[name], "ratio": ratios, "sd": sd, "z": z,
                        "time_var": min(rows[name]) * sd**2}
    return result


def _range(values, fmt="{:.3f}") -> str:
    return f"{fmt.format(min(values))}–{fmt.format(max(values))}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.compiled_vs_operator",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", default=DEFAULT, metavar="NAME")
    parser.add_argument("--samples", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    header = (f"{'problem':16s} {'plain s':>13s} {'compiled s':>13s} {'× plain':>11s} "
              f"{'operator s':>13s} {'× plain':>11s} {'sd comp/op':>13s} {'|z| c/o':>11s} "
              f"{'t·var gain':>10s}")
    print(header)
    print("-" * len(header))
    for name in args.names:
        problem = PROBLEMS[name]
        reason = engine.why_not(problem.program)
        if reason is not None:
            print(f"{name:16s} not recorded: {reason}")
            continue
        r = compare(problem, args.samples, args.runs, args.seed)
        c, o = r["compiled"], r["operator"]
        print(f"{name:16s} {_range(r['plain']):>13s} {_range(c['seconds']):>13s} "
              f"{_range(c['ratio'], '{:.2f}'):>11s} {_range(o['seconds']):>13s} "
              f"{_range(o['ratio'], '{:.2f}'):>11s} {c['sd']:>6.2f}/{o['sd']:<6.2f} "
              f"{c['z']:>5.2f}/{o['z']:<5.2f} {o['time_var'] / c['time_var']:>10.1f}",
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
