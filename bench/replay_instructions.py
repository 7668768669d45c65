"""A fixed amount of work for instruction counting: replay samples or plain runs of one program.

Timings on a shared machine drift by ±15% from run to run; the instructions a sample executes
do not. ``python3 -m bench.replay_instructions NAME N MODE`` runs 50 warm-up replay samples
(compiling what numba compiles), then ``N`` replay derivative samples (``MODE`` ``replay``:
pruned, one sample per call, as ``stochad-bench natural`` runs them) or ``N`` plain runs of
the same program on numpy's ``Generator`` (``MODE`` ``plain``). ``NAME``: a program of
:mod:`bench.natural`, or ``walk``/``yule`` of :mod:`bench.replay_speed`. Under valgrind, the
difference of two counts is the instructions of the extra samples alone::

    for n in 100 400; do OPENBLAS_NUM_THREADS=1 valgrind --tool=callgrind \\
        --callgrind-out-file=/dev/null python3 -m bench.replay_instructions \\
        birth_death_gillespie $n replay 2>&1 | grep Collected; done
    # (second - first) / 300 = instructions a sample

Name the Python binary itself, not a shell shim such as pyenv's, or valgrind counts the shim;
``OPENBLAS_NUM_THREADS=1`` stops scipy's BLAS threads, whose idle spinning valgrind would count
(two runs then agree to 0.1%).
"""

from __future__ import annotations

import argparse

import numpy as np

import stochad as sad
from stochad import replay
from stochad.tapes import Shared

from . import replay_speed
from .natural import PROGRAMS

WARM_UP = 50


def program(name: str):
    """``(differentiable f, plain f(rng), parameter)`` of the program ``name``."""
    if name == "walk":
        return replay_speed.walk_stochad, lambda rng: replay_speed.walk_numpy(0.5, rng), 0.5
    if name == "yule":
        return (lambda lam: replay_speed.yule(lam, sad.Generator()),
                lambda rng: replay_speed.yule(1.0, rng), 1.0)
    if name not in PROGRAMS:
        raise ValueError(f"unknown program {name!r}; choose from walk, yule, "
                         f"{', '.join(sorted(PROGRAMS))}")
    prog = PROGRAMS[name]
    return (lambda t: prog.prog(t, sad.Generator()), lambda rng: prog.prog(prog.theta0, rng),
            prog.theta0)


def run(name: str, n: int, mode: str) -> None:
    """The warm-up, then ``n`` replay samples or plain runs of ``name`` (seed 0)."""
    if mode not in ("replay", "plain"):
        raise ValueError(f"mode must be 'replay' or 'plain', got {mode!r}")
    f, plain, p = program(name)
    shared = Shared(np.random.default_rng(0))
    for _ in range(WARM_UP):
        replay.sample(f, p, 1.0, shared, 1)
    if mode == "plain":
        rng = np.random.default_rng(0)
        for _ in range(n):
            plain(rng)
    else:
        for _ in range(n):
            replay.sample(f, p, 1.0, shared, 1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name")
    parser.add_argument("n", type=int)
    parser.add_argument("mode", choices=["replay", "plain"])
    args = parser.parse_args(argv)
    run(args.name, args.n, args.mode)


if __name__ == "__main__":
    main()
