"""``stochad-bench`` (also ``python -m stochad.bench``): run the estimators side by side.

Subcommands
-----------
``list``
    The problems, each with its parameter and exact derivative.
``run [NAMES...] --samples N --seed S --estimators triple,score,score-baseline,fd,...
--backend pruned --repeats 5 --workers N --json FILE --plot FILE.png --check``
    A table on stdout (problem, exact, estimator, mean ± stderr, sd, |z|, seconds, samples/s,
    cost ratio to the plain numpy program timed in the same run, seconds per sample ×
    variance); progress on stderr. Seconds
    are the best of up to ``--repeats`` runs (within about a second), as for the plain program.
    ``--json -`` writes the JSON report to stdout (and the table to stderr); the report
    records the versions of stochad, numpy, scipy, numba and Python, the platform and the
    date. Output paths are checked before the run. ``--check`` exits with status 1 when an
    estimate misses its exact value by more than 5 standard errors (a CI gate: choose the
    unbiased estimators, e.g. ``--estimators triple,score``; finite differences are biased).
``kernels``
    The numba kernels against pure-numpy versions of the same steps
    (:mod:`stochad.bench.kernel_timings`).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import json
import math
import os
import platform
import pstats
import sys
import time
from dataclasses import dataclass

import numba
import numpy as np
import scipy

import stochad as sad
from stochad.backends import BACKENDS

from . import kernel_timings, natural_bench
from .problems import PROBLEMS, Problem

ESTIMATORS = ("triple", "score", "score-baseline", "fd", "kpaths", "exact", "auto", "combined",
              "relaxed")
"""Estimator names of ``--estimators``: stochastic triples (on ``--backend``), score function
without and with the leave-one-out baseline, central finite differences with common random
numbers, triples on the K-paths (K = 4), exact and automatically chosen backends, and the
combined triple/score estimator, and the relaxed straight-through estimator (τ = 0.5, biased;
problems with draws it cannot relax are skipped)."""
DEFAULT_ESTIMATORS = tuple(name for name in ESTIMATORS if name not in ("auto", "relaxed"))
"""``--estimators``'s default: all but ``auto``, whose choice depends on timings (so the same
seed need not give the same numbers), and ``relaxed``, which runs on few problems."""
TRIPLE_BACKENDS = {"kpaths": "kpaths", "exact": "exact", "auto": "auto"}
"""Estimator names that are stochastic triples on a backend of their own."""


def estimator_options(name: str, problem: Problem) -> dict:
    """Keyword arguments of :func:`stochad.derivative_samples` for estimator ``name``.

    Examples
    --------
    >>> from bench.problems import PROBLEMS
    >>> estimator_options("score-baseline", PROBLEMS["random-walk"])
    {'estimator': 'score', 'baseline': True}
    """
    if name == "score-baseline":
        return {"estimator": "score", "baseline": True}
    if name == "fd":
        return {"estimator": "fd", "h": problem.fd_h}
    if name in TRIPLE_BACKENDS:
        return {"estimator": "triple", "backend": TRIPLE_BACKENDS[name]}
    if name in ESTIMATORS:
        return {"estimator": name}
    raise ValueError(f"unknown estimator {name!r}; choose from {', '.join(ESTIMATORS)}")


@dataclass
class Result:
    """One estimator on one problem."""

    mean: float
    stderr: float
    sd: float
    seconds: float
    samples: int
    z: float
    cost_ratio: float
    variant: str | None = None
    """``backend="auto"``'s choice (``"estimator/backend"``), else ``None``."""

    @property
    def time_x_variance(self) -> float:
        """Seconds per sample × per-sample variance: proportional to the time to a given
        standard error (smaller is better)."""
        return self.seconds / self.samples * self.sd**2

    def as_json(self) -> dict:
        return {
            "mean": self.mean, "stderr": self.stderr, "sd": self.sd, "seconds": self.seconds,
            "samples_per_second": self.samples / self.seconds, "cost_ratio": self.cost_ratio,
            "z": self.z, "time_x_variance": self.time_x_variance, "variant": self.variant,
        }


def time_plain(problem: Problem, samples: int, seed: int, repeats: int = 3) -> float:
    """Seconds for ``samples`` samples of the plain numpy program (best of ``repeats``).

    The runner times it before *and* after the estimators and keeps the best: a process that
    has not yet freed large arrays pays page faults for every fresh one (glibc returns them
    to the system until its allocation threshold adapts), which made the first timing of a
    cheap program up to 4x slower than the steady state the estimators run in.
    """
    rng = np.random.default_rng(seed)
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        problem.plain(problem.param, samples, rng)
        best = min(best, time.perf_counter() - start)
    return best


TIMING_BUDGET = 1.0
"""Seconds an estimator's repeated timing runs may take in all (see :func:`measure`)."""


def measure(problem: Problem, estimator: str, samples: int, seed, backend: str,
            chunk_size: int | None, repeats: int = 5, profiler=None, workers=None) -> Result:
    """Run one estimator on one problem (after an untimed warm-up of a few lanes).

    The run is repeated with the same seed (the same samples) up to ``repeats`` times in all,
    while the runs so far took less than :data:`TIMING_BUDGET`, and the best time is kept,
    as the plain program's is: a single run of a program of 0.1 s varied by ±30% here.
    ``profiler`` (a :class:`cProfile.Profile`) records the timed runs, not the warm-up;
    ``workers`` is passed to :func:`stochad.derivative_samples` (the same samples, faster).
    """
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    options = {"backend": backend, "chunk_size": chunk_size,
               **estimator_options(estimator, problem)}
    if options["backend"] == "auto":  # each run pilots anew and may pick another variant:
        repeats = 1                   # one run, so that its time, sd and pick belong together
    sad.derivative_samples(problem.program, problem.param, n_samples=64, rng=0, **options)
    seconds, spent, runs = math.inf, 0.0, 0
    while runs < repeats and (runs == 0 or spent < TIMING_BUDGET):
        if profiler:
            profiler.enable()
        start = time.perf_counter()
        mean, sd, variant = _draw(problem, samples, seed, workers, options)
        elapsed = time.perf_counter() - start
        if profiler:
            profiler.disable()
        seconds, spent, runs = min(seconds, elapsed), spent + elapsed, runs + 1
    stderr = sd / math.sqrt(samples)
    scale = math.hypot(stderr, problem.exact_stderr)
    z = abs(mean - problem.exact) / scale if scale > 0 else math.nan
    return Result(mean, stderr, sd, seconds, samples, z, math.nan, variant)


def _draw(problem, samples, seed, workers, options):
    """``(mean, sd, variant)`` of one run; ``variant`` is what ``backend="auto"`` chose
    (``"estimator/backend"``), else ``None``."""
    if options.get("backend") == "auto":
        result = sad.estimate(problem.program, problem.param, n_samples=samples, rng=seed,
                              workers=workers, **options)
        return result.df, result.sd, f"{result.estimator}/{result.backend}"
    draws = sad.derivative_samples(problem.program, problem.param, n_samples=samples,
                                   rng=seed, workers=workers, **options)
    return float(draws.mean()), float(draws.std(ddof=1)) if samples > 1 else math.nan, None


def format_table(rows: list[tuple[Problem, str, Result]]) -> str:
    """The result table (a ``≈`` marks a Monte Carlo reference instead of an exact value)."""
    header = ("problem", "exact", "estimator", "mean ± stderr", "sd", "|z|", "seconds",
              "samples/s", "× plain", "t×var")
    lines = []
    for problem, name, r in rows:
        exact = f"{'≈' if problem.is_reference else ''}{problem.exact:.6g}"
        label = name if r.variant is None else f"{name} ({r.variant})"
        lines.append((problem.name, exact, label, f"{r.mean:.6g} ± {r.stderr:.2g}",
                      f"{r.sd:.4g}", f"{r.z:.2f}", f"{r.seconds:.3f}",
                      f"{r.samples / r.seconds:,.0f}", f"{r.cost_ratio:.1f}",
                      f"{r.time_x_variance:.3g}"))
    widths = [max(len(str(c)) for c in column) for column in zip(header, *lines, strict=True)]
    aligned = [
        "  ".join(c.ljust(w) if i < 3 else c.rjust(w)
                  for i, (c, w) in enumerate(zip(row, widths, strict=True)))
        for row in [header, *lines]
    ]
    aligned.insert(1, "  ".join("-" * w for w in widths))
    if any(problem.is_reference for problem, _, _ in rows):
        aligned.append("≈: a high-sample finite-difference reference (|z| includes its stderr)")
    return "\n".join(aligned)


MAX_SAMPLES = 10_000_000
"""Largest ``--samples``: every sample is kept (8 bytes each, per estimator), and the plain
programs hold arrays of that length per step."""

CHECK_Z = 5.0
"""``--check`` fails an estimate whose ``|z|`` exceeds this."""


def environment() -> dict:
    """What produced the numbers: package versions, the platform and the date (UTC)."""
    return {
        "stochad": sad.__version__, "numpy": np.__version__, "scipy": scipy.__version__,
        "numba": numba.__version__, "python": platform.python_version(),
        "platform": platform.platform(), "machine": platform.machine(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def misses(rows: list[tuple[Problem, str, Result]], z: float = CHECK_Z) -> list[str]:
    """The estimates more than ``z`` standard errors from their exact value, as lines.

    An estimate without spread (standard error 0) must equal the exact value.

    Examples
    --------
    >>> from bench.problems import PROBLEMS
    >>> p = PROBLEMS["two-bernoullis"]
    >>> off = Result(p.exact + 1.0, 0.1, 1.0, 1.0, 100, 10.0, 1.0)
    >>> misses([(p, "triple", off)])
    ['two-bernoullis triple: mean ... exact ..., |z| = 10.0 > 5']
    """
    lines = []
    for problem, name, r in rows:
        if math.isnan(r.z):
            missed = abs(r.mean - problem.exact) > 1e-9 * max(1.0, abs(problem.exact))
        else:
            missed = r.z > z
        if missed:
            lines.append(f"{problem.name} {name}: mean {r.mean:.6g} ± {r.stderr:.2g}, exact "
                         f"{problem.exact:.6g}, |z| = {r.z:.1f} > {z:g}")
    return lines


def results_json(problems, names, results, args) -> dict:
    """The JSON report: ``{"environment": {...}, "problems": [{"name", "param", "exact",
    "estimators": {...}}]}``."""
    return {
        "environment": environment(),
        "samples": args.samples, "seed": args.seed, "backend": args.backend,
        "problems": [
            {
                "name": problem.name, "param": problem.param, "exact": problem.exact,
                "exact_method": problem.exact_method, "exact_stderr": problem.exact_stderr,
                "plain_seconds": plain,
                "estimators": {name: results[problem.name][name].as_json() for name in names
                               if name in results[problem.name]},
            }
            for problem, plain in problems
        ],
    }


def _require_matplotlib():
    try:
        import matplotlib
    except ImportError:
        raise SystemExit(
            "stochad-bench: --plot needs matplotlib, which is not installed; "
            "install it with: pip install 'stochad[plot]'  (or pip install matplotlib)"
        ) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot(path: str, problems: list[Problem], names: list[str], results) -> None:
    """Bar chart of the standard deviation per estimator per problem (log scale)."""
    plt = _require_matplotlib()
    fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(problems) * len(names) / 2), 4.5))
    width = 0.8 / len(names)
    x = np.arange(len(problems))
    for i, name in enumerate(names):
        ax.bar(x + (i - (len(names) - 1) / 2) * width,
               [results[p.name][name].sd if name in results[p.name] else np.nan
                for p in problems], width, label=name)
    ax.set_xticks(x, [p.name for p in problems], rotation=30, ha="right")
    ax.set_yscale("log")
    ax.set_ylabel("standard deviation of one sample")
    ax.set_title("Per-sample standard deviation of the derivative estimators")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _parse_estimators(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in ESTIMATORS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown estimator(s) {', '.join(unknown) or '(none given)'}; "
            f"choose from {', '.join(ESTIMATORS)}")
    return names


def _at_least(minimum: int, maximum: int | None = None):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f"needs an integer >= {minimum}, got {text!r}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(
                f"at most {maximum:,} (every sample is kept in memory), got {text!r}")
        return value

    return parse


def _check_writable(parser, option: str, path: str) -> None:
    """Fail now, not after the run, if ``path`` cannot be written (nothing is truncated: an
    existing file is opened for appending, a new one removed again)."""
    existed = os.path.exists(path)
    try:
        with open(path, "a"):
            pass
    except OSError as error:
        parser.error(f"{option}: cannot write {path!r}: {error.strerror or error}")
    if not existed:
        os.remove(path)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stochad-bench",
        description="Benchmark problems with exact derivatives: stochastic triples against "
                    "the score-function and finite-difference estimators on the same program.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {sad.__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="the problems, their parameters and exact derivatives")
    run = commands.add_parser("run", help="run estimators on problems and print a table")
    run.add_argument("names", nargs="*", metavar="NAME",
                     help="problems to run (default: all; see 'stochad-bench list')")
    run.add_argument("--samples", type=_at_least(2, MAX_SAMPLES), default=100_000,
                     help=f"samples per estimator and problem, at most {MAX_SAMPLES:,} "
                          "(default 100000)")
    run.add_argument("--seed", type=_at_least(0), default=0, help="random seed (default 0)")
    run.add_argument("--estimators", type=_parse_estimators, default=list(DEFAULT_ESTIMATORS),
                     help=f"comma-separated, from {','.join(ESTIMATORS)} (default: all but "
                          "auto, relaxed)")
    run.add_argument("--backend", choices=sorted(BACKENDS), default="pruned",
                     help="triple backend (default pruned)")
    run.add_argument("--chunk-size", type=_at_least(1), default=None,
                     help="lanes per batched run (default: the library's, 65536)")
    run.add_argument("--workers", type=_workers, default=None,
                     help="processes per estimator run (-1: all cores; default: this process); "
                          "the samples are the same")
    run.add_argument("--repeats", type=_at_least(1), default=5,
                     help="time each estimator up to N runs (within about a second in all) "
                          "and keep the best, as for the plain program (default 5; 1: one "
                          "run)")
    run.add_argument("--json", metavar="FILE",
                     help="also write the results as JSON ('-': to stdout, the table to "
                          "stderr)")
    run.add_argument("--check", action="store_true",
                     help=f"exit with status 1 if an estimate misses its exact value by more "
                          f"than {CHECK_Z:g} standard errors")
    run.add_argument("--plot", metavar="FILE.png",
                     help="bar chart of the standard deviations (needs matplotlib)")
    run.add_argument("--profile", type=int, metavar="N", default=0,
                     help="profile the estimator runs (one timed run each); print the top N "
                          "functions to stderr")
    natural = commands.add_parser("natural", help="natural Python programs differentiated "
                                  "unchanged by replay (vectorize=False), against plain numpy")
    natural.add_argument("names", nargs="*", metavar="NAME",
                         help="programs of bench/natural.py (default: all)")
    natural.add_argument("--samples", type=_at_least(2, MAX_SAMPLES), default=2_000,
                         help="derivative samples per repeat (default 2000)")
    natural.add_argument("--seed", type=_at_least(0), default=0, help="random seed (default 0)")
    natural.add_argument("--repeats", type=_at_least(1), default=3,
                         help="timed runs of each, interleaved; the best is kept (default 3)")
    natural.add_argument("--backend", default="pruned",
                         help="replay variant: pruned (one event a sample, default), kpaths "
                              "(4 events), kpaths:K or exact (every event)")
    kernels = commands.add_parser("kernels", help="numba kernels against pure numpy")
    kernels.add_argument("--lanes", type=_at_least(1), default=200_000)
    kernels.add_argument("--repeat", type=_at_least(1), default=5)
    return parser


def _workers(text: str) -> int:
    try:
        return sad.parallel.check_workers(int(text))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a positive integer or -1 (all cores), got {text!r}") from None


def _select(parser, names: list[str]) -> list[Problem]:
    unknown = [n for n in names if n not in PROBLEMS]
    if unknown:
        parser.error(f"unknown problem(s) {', '.join(unknown)}; "
                     f"choose from {', '.join(PROBLEMS)}")
    return [PROBLEMS[n] for n in names] if names else list(PROBLEMS.values())


def list_problems() -> str:
    lines = []
    for p in PROBLEMS.values():
        exact = f"{'≈' if p.is_reference else ''}{p.exact:.8g}"
        error = f" ± {p.exact_stderr:.2g}" if p.is_reference else ""
        lines.append(f"{p.name:17s} p = {p.param:<6g} d/dp E = {exact}{error} "
                     f"({p.exact_method})\n{'':17s} {p.description}")
    return "\n".join(lines)


def run(args, parser) -> int:
    problems = _select(parser, args.names)
    if args.plot:  # fail before the long run, not after it
        _require_matplotlib()
        _check_writable(parser, "--plot", args.plot)
    to_stdout = args.json == "-"
    if args.json and not to_stdout:
        _check_writable(parser, "--json", args.json)
    profiler = cProfile.Profile() if args.profile else None
    results: dict[str, dict[str, Result]] = {}
    timed, rows = [], []
    total, done = len(problems) * len(args.estimators), 0
    for problem in problems:
        index = list(PROBLEMS).index(problem.name)
        plain = time_plain(problem, args.samples, args.seed)
        results[problem.name] = {}
        for name in args.estimators:
            done += 1
            print(f"[{done}/{total}] {problem.name}: {name}, {args.samples} samples ...",
                  end="", file=sys.stderr, flush=True)
            seed = [args.seed, index, ESTIMATORS.index(name)]
            try:
                result = measure(problem, name, args.samples, seed, args.backend,
                                 args.chunk_size, 1 if profiler else args.repeats, profiler,
                                 args.workers)
            except ValueError as error:
                if name != "relaxed":
                    raise
                print(f" skipped: {error}", file=sys.stderr, flush=True)
                continue
            print(f" {result.seconds:.2f} s", file=sys.stderr, flush=True)
            results[problem.name][name] = result
            rows.append((problem, name, result))
        plain = min(plain, time_plain(problem, args.samples, args.seed))
        timed.append((problem, plain))
        for result in results[problem.name].values():
            result.cost_ratio = result.seconds / plain
    print(format_table(rows), file=sys.stderr if to_stdout else sys.stdout)
    if args.json:
        report = results_json(timed, args.estimators, results, args)
        if to_stdout:
            json.dump(report, sys.stdout, indent=2)
            print()
        else:
            with open(args.json, "w") as out:
                json.dump(report, out, indent=2)
    if args.plot:
        plot(args.plot, problems, args.estimators, results)
    if profiler:
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(args.profile)
    missed = misses(rows) if args.check else []
    for line in missed:
        print(f"check failed: {line}", file=sys.stderr)
    return 1 if missed else 0


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:  # output piped into `head` and friends: stop quietly, as Unix tools do
        sys.stderr.close()
        return 0


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "list":
        print(list_problems())
        return 0
    if args.command == "natural":
        try:
            print(natural_bench.report(args.names, args.samples, args.seed, args.repeats,
                                       args.backend))
        except ValueError as error:
            parser.error(str(error))
        return 0
    if args.command == "kernels":
        print(kernel_timings.report(args.lanes, args.repeat))
        return 0
    return run(args, parser)


if __name__ == "__main__":
    raise SystemExit(main())
