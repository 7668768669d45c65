"""Automatic choice (``backend="auto"``): a short pilot picks by time × variance.

Which variant is cheapest per unit of accuracy depends on the program: the pruned backend
costs least per sample, the exact one has the least variance but a cost that grows with the
number of events alive at once, K-paths lies between (docs/design.md §1), and the combined
estimator (:mod:`stochad.combined`) adds the score function as a control variate to the
pruned triples. The figure of merit is *time × variance*: the time to reach a given standard
error is proportional to it.

:func:`pilot` runs each candidate on ``n_pilot`` samples, exactly as the estimate will run it
(the compiled engine, replay or the operator engine: the caller passes the samplers), after an
untimed warm-up of a few lanes so that compilation is not counted. It times the candidate at
two sizes to separate the cost per sample from the fixed cost of a run (recording a program
for the compiled engine, setting up a run), charges the fixed cost once per task of the real
run, and returns a :class:`BackendChoice` with the winner and the figures. The pilot's
samples are discarded, so the choice, which depends on them, cannot bias the estimate.

The pilot draws a fixed number of random numbers, so given the choice the final samples are
those of the chosen variant with the generator advanced past the pilot; but the choice itself
depends on timings, so the same seed may choose differently on a busier machine. To reproduce
a run, pass the recorded :attr:`BackendChoice.backend` and :attr:`BackendChoice.estimator`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

AUTO = "auto"
BACKENDS = ("pruned", "kpaths", "exact")
"""The backends a pilot compares (``"kpaths"``: K = 4)."""
CANDIDATES = {
    "triple": {"pruned": ("triple", "pruned"), "kpaths": ("triple", "kpaths"),
               "exact": ("triple", "exact"), "combined": ("combined", "pruned")},
    "combined": {name: ("combined", name) for name in BACKENDS},
}
"""Per estimator asked for, the pilot's candidates: ``label -> (estimator, backend)``. The
triple estimator's pilot includes the combined estimator on the pruned backend (the same
triples with the score function as a control variate); other estimators run no pilot."""
WARM_UP = 8
"""Lanes of each candidate's untimed first run, and of its timed small run."""


@dataclass(frozen=True)
class BackendChoice:
    """The variant a pilot chose, and its figures.

    Attributes
    ----------
    backend : str
        The chosen backend.
    n_pilot : int
        Pilot samples per candidate (discarded afterwards).
    figures : dict
        ``{label: {"estimator", "backend", "seconds_per_sample", "variance",
        "time_x_variance"}}`` per candidate (labels: the backends, and ``"combined"`` for the
        combined estimator on the pruned backend); the variance is summed over output elements
        and the seconds include the fixed cost of a run spread over a task's samples.
    estimator : str
        The chosen estimator: ``"triple"``, or ``"combined"`` when the combined estimator won.
    """

    backend: str
    n_pilot: int
    figures: dict = field(default_factory=dict)
    estimator: str = "triple"


def pilot_size(n_samples: int) -> int:
    """Pilot samples per candidate: 2% of ``n_samples``, between 100 and 2,000.

    Examples
    --------
    >>> pilot_size(1_000), pilot_size(50_000), pilot_size(10**7)
    (100, 1000, 2000)
    """
    return int(np.clip(n_samples // 50, 100, 2000))


def seconds_per_sample(small: float, large: float, n_large: int, task_size: int) -> float:
    """The cost per sample of runs of ``task_size`` samples, from the times of a run of
    :data:`WARM_UP` samples (``small``) and one of ``n_large`` (``large``): the line through
    the two gives the cost per sample and the fixed cost per run, which the real run pays once
    per task. Timing noise that makes either negative counts it as 0.

    Examples
    --------
    A run costs 1 ms plus 1 µs per sample; tasks of 10,000 samples pay 1.1 µs per sample:

    >>> round(seconds_per_sample(1e-3 + 8e-6, 1e-3 + 400e-6, 400, 10_000) * 1e6, 3)
    1.1
    """
    slope = (large - small) / (n_large - WARM_UP)
    fixed = small - WARM_UP * slope
    return max(slope, 0.0) + max(fixed, 0.0) / task_size


def pilot(runners: dict[str, tuple[str, str, Callable]], n_pilot: int,
          generator: np.random.Generator, task_size: Callable[[str], int]) -> BackendChoice:
    """Run every candidate and pick the least time × variance.

    Parameters
    ----------
    runners : dict
        ``{label: (estimator, backend, run)}``; ``run(n, generator)`` returns ``n`` samples
        exactly as the estimate would make them.
    n_pilot : int
        Samples of each candidate's timed pilot, drawn from ``generator``.
    generator : numpy.random.Generator
        Drives the pilot (the warm-up and the small timed run use a throwaway generator).
    task_size : callable
        ``task_size(backend)``: the samples per task of the real run, which pays a run's fixed
        cost once per task.
    """
    figures = {}
    for label, (estimator, backend, run) in runners.items():
        run(WARM_UP, np.random.default_rng(0))  # compiles, records, fills caches: untimed
        start = time.perf_counter()
        run(WARM_UP, np.random.default_rng(1))
        small = time.perf_counter() - start
        start = time.perf_counter()
        samples = run(n_pilot, generator)
        large = time.perf_counter() - start
        seconds = seconds_per_sample(small, large, n_pilot, task_size(backend))
        variance = float(samples.reshape(n_pilot, -1).var(axis=0, ddof=1).sum())
        figures[label] = {"estimator": estimator, "backend": backend,
                          "seconds_per_sample": seconds, "variance": variance,
                          "time_x_variance": seconds * variance}
    best = min(figures, key=lambda b: (figures[b]["time_x_variance"],
                                       figures[b]["seconds_per_sample"]))
    return BackendChoice(figures[best]["backend"], n_pilot, figures,
                         figures[best]["estimator"])
