"""Automatic choice (``backend="auto"``): a short pilot picks by time × variance.

Which variant is cheapest per unit of accuracy depends on the program: the pruned backend
costs least per sample, the exact one has the least variance but a cost that grows with the
number of events alive at once, K-paths lies between (docs/design.md §1), and the combined
estimator (:mod:`stochad.combined`) adds the score function as a control variate to the
pruned triples. The figure of merit is *time × variance*: the time to reach a given standard
error is proportional to it.

:func:`pilot` runs each candidate on a few samples, and the contenders on ``n_pilot``, exactly
as the estimate will run it (the compiled engine, replay or the operator engine: the caller
passes the samplers), after a warm-up of a few lanes so that compilation and recording are
not counted in its figures (they are in its :data:`BUDGET`). It times a candidate at two
sizes to separate the cost per sample from the fixed cost of a run, charges the fixed cost
once per task of the real run, and returns a :class:`BackendChoice` with the winner and the
figures. The pilot's samples are discarded, so the choice, which depends on them, cannot bias
the estimate.

The pilot draws from a generator of its own, seeded by one draw of the caller's, so given the
choice the final samples are those of the chosen variant with the generator advanced by that
one draw; but the choice itself depends on timings, so the same seed may choose differently
on a busier machine. The recorded :attr:`BackendChoice.backend` and
:attr:`BackendChoice.estimator` reproduce the variant; for the same samples too, pass a
generator advanced by the pilot's one draw (``g.integers(2**63)``).
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
    "triple": {"pruned": ("triple", "pruned"), "combined": ("combined", "pruned"),
               "kpaths": ("triple", "kpaths"), "exact": ("triple", "exact")},
    "combined": {name: ("combined", name) for name in BACKENDS},
}
"""Per estimator asked for, the pilot's candidates: ``label -> (estimator, backend)``, in the
order the pilot runs them (the cheap ones per sample first, see :data:`BUDGET`). The triple
estimator's pilot includes the combined estimator on the pruned backend (the same triples with
the score function as a control variate); other estimators run no pilot."""
WARM_UP = 8
"""Lanes of each candidate's untimed first run, and of its timed small runs."""
FIRST_STAGE = 100
"""Pilot samples of every candidate; the contenders go on to the full pilot."""
DOMINANT = 4.0
"""A first-stage run long enough to time: this many times a run of :data:`WARM_UP` lanes."""
LONG_ENOUGH = 0.05
"""Seconds of a first-stage run that are enough to time it, whatever the fixed cost."""
BUDGET = 0.5
"""The pilot's share of the estimate it chooses for. The first candidate always runs; after
it, a candidate is skipped (named in :attr:`BackendChoice.skipped`) once the runs of the
later candidates have taken this share of what the whole estimate would take with the
cheapest candidate so far (:func:`estimate_seconds`), or would with their next run
(predicted from the runs before it, a lower bound: one run may overshoot); a contender is
topped up to the full pilot only if the top-up alone fits in the budget. A pilot dearer
than the estimate cannot pay for itself. On the bench's inventory problem the K-paths and
exact candidates run the operator engine at 35–75 ms per run of 8 lanes, and the pilot took
three times the 0.1 s estimate before this rule. A candidate's first run, which compiles,
loads kernels and records, is charged too (except a pruned one's, :data:`RECORDS`): in a
fresh process a short estimate may skip K-paths and exact for their kernels' loading time."""

RECORDS = "pruned"
"""The backend whose first run records the program for the compiled engine (tens of ms on
the bench's percolation and Game of Life, once per call; the estimate reuses the chosen
candidate's recording): that run is not charged to the :data:`BUDGET`, so that the cost of
recording does not skip the combined estimator."""

CONTENDER = 4.0
"""A candidate whose first-stage time × variance is within this factor of the best one's is
a contender: its figures are refined on the full pilot."""


@dataclass(frozen=True)
class BackendChoice:
    """The variant a pilot chose, and its figures.

    Attributes
    ----------
    backend : str
        The chosen backend.
    n_pilot : int
        Pilot samples of a contending candidate (discarded afterwards).
    figures : dict
        ``{label: {"estimator", "backend", "n", "seconds_per_sample", "variance",
        "time_x_variance"}}`` per candidate (labels: the backends, and ``"combined"`` for the
        combined estimator on the pruned backend): ``n`` pilot samples, the variance summed
        over output elements, the seconds with the fixed cost of a run spread over a task's
        samples.
    estimator : str
        The chosen estimator: ``"triple"``, or ``"combined"`` when the combined estimator won.
    skipped : dict
        ``{label: reason}``: the candidates the pilot did not finish, over its
        :data:`BUDGET`.
    """

    backend: str
    n_pilot: int
    figures: dict = field(default_factory=dict)
    estimator: str = "triple"
    skipped: dict = field(default_factory=dict)

    @property
    def label(self) -> str | None:
        """The chosen candidate's key in :attr:`figures` (``None`` if it has none)."""
        return next((label for label, f in self.figures.items()
                     if (f["estimator"], f["backend"]) == (self.estimator, self.backend)), None)


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
    slope, fixed = _cost_line(small, large, n_large)
    return slope + fixed / task_size


def estimate_seconds(small: float, large: float, n_large: int, task_size: int,
                     n_samples: int) -> float:
    """The seconds of an estimate of ``n_samples`` in tasks of ``task_size``, from the same two
    timed runs as :func:`seconds_per_sample`: the cost per sample, and the fixed cost once
    per task (an estimate smaller than a task pays it once, not a task's share of it).

    Examples
    --------
    A run costs 1 ms plus 1 µs per sample: 2,000 samples in one task take 3 ms.

    >>> round(estimate_seconds(1e-3 + 8e-6, 1e-3 + 400e-6, 400, 65_536, 2_000) * 1e3, 6)
    3.0
    """
    slope, fixed = _cost_line(small, large, n_large)
    return slope * n_samples + fixed * -(-n_samples // task_size)


def _cost_line(small, large, n_large):
    """``(seconds per sample, fixed seconds per run)``: the line through a run of
    :data:`WARM_UP` samples taking ``small`` and one of ``n_large`` taking ``large``, each
    counted as 0 where timing noise makes it negative."""
    slope = (large - small) / (n_large - WARM_UP)
    return max(slope, 0.0), max(small - WARM_UP * slope, 0.0)


def pilot(runners: dict[str, tuple[str, str, Callable]], n_pilot: int,
          generator: np.random.Generator, task_size: Callable[[str], int],
          n_samples: int | None = None) -> BackendChoice:
    """Run every candidate and pick the least time × variance.

    Every candidate first runs :data:`FIRST_STAGE` samples, and more (fourfold each time)
    while a run is too short to show its cost per sample above its fixed cost; those whose
    time × variance is then within :data:`CONTENDER` times the best go on to ``n_pilot``
    samples in all, so that a candidate hundreds of times dearer per sample (the exact backend
    on a long walk) costs the pilot little. The pilot draws from a generator seeded by one
    draw of ``generator``, so the estimate's samples do not depend on how far each candidate
    got.

    Parameters
    ----------
    runners : dict
        ``{label: (estimator, backend, run)}``; ``run(n, generator)`` returns ``n`` samples
        exactly as the estimate would make them.
    n_pilot : int
        Samples of a contender's pilot.
    generator : numpy.random.Generator
        Seeds the pilot (the warm-up and the small timed runs use throwaway generators).
    task_size : callable
        ``task_size(backend)``: the samples per task of the real run, which pays a run's fixed
        cost once per task.
    n_samples : int, optional
        The estimate's samples, which set the pilot's :data:`BUDGET` (none if omitted).
    """
    if n_pilot <= WARM_UP:
        raise ValueError(f"n_pilot must be more than {WARM_UP} (the small timed runs), "
                         f"got {n_pilot}")
    own = np.random.default_rng(generator.integers(2**63))
    stages, figures, skipped = {}, {}, {}
    spent, budget = 0.0, np.inf
    for label, (_, backend, run) in runners.items():
        stage, charged = _first_stage(run, own, n_pilot, task_size(backend),
                                      budget - spent if figures else np.inf,
                                      free_first=backend == RECORDS)
        if figures:  # the first candidate's runs are the reference, not exploration
            spent += charged
        if stage is None:
            skipped[label] = (f"over the pilot's budget of {budget:.3g} s ({BUDGET:g} of "
                              f"the estimate with the cheapest candidate)")
            continue
        stages[label], figures[label] = stage, _figure(runners[label], task_size, *stage)
        if n_samples is not None:
            budget = min(budget, BUDGET * estimate_seconds(
                stage[0], *stage[2], task_size(backend), n_samples))
    best = min(f["time_x_variance"] for f in figures.values())
    first = next(iter(stages))
    for label, (small, parts, cost) in stages.items():
        top_up = n_pilot - figures[label]["n"]
        if top_up < WARM_UP or figures[label]["time_x_variance"] > CONTENDER * best:
            continue  # nearly there already (and too few for the combined estimator), or lost
        # each top-up within the budget on its own: the first stages of the dear candidates,
        # which come before, must not starve the cheap contenders of theirs
        if label != first and figures[label]["seconds_per_sample"] * top_up > budget:
            continue
        seconds, samples = _timed(runners[label][2], top_up, own)
        parts.append(samples)
        if top_up > cost[1]:  # the longer run shows the cost per sample better
            cost = (seconds, top_up)
        figures[label] = _figure(runners[label], task_size, small, parts, cost)
    best = min(figures, key=lambda b: (figures[b]["time_x_variance"],
                                       figures[b]["seconds_per_sample"]))
    return BackendChoice(figures[best]["backend"], n_pilot, figures,
                         figures[best]["estimator"], skipped)


def _timed(run, n, generator):
    """``(seconds, samples)`` of ``run(n, generator)``."""
    start = time.perf_counter()
    samples = run(n, generator)
    return time.perf_counter() - start, samples


def _first_stage(run, generator, n_pilot, task, allowance=np.inf, free_first=False):
    """``(stage, charged)``. ``stage = (small, parts, (seconds, n))``: the lesser time of two
    runs of :data:`WARM_UP` lanes, the samples of runs of :data:`FIRST_STAGE` samples growing
    fourfold until one takes :data:`DOMINANT` times the small one (so that its cost per sample
    shows above a run's fixed cost) or :data:`LONG_ENOUGH` seconds, or the next would pass a
    task's size or ``n_pilot`` samples in all, and the time and size of the last of them.
    ``stage`` is ``None`` once the runs have taken ``allowance`` seconds, or the next
    (predicted by the last) would: a candidate over the pilot's :data:`BUDGET`. ``charged``:
    the seconds the runs took, the first one left out if ``free_first``."""
    if allowance <= 0:
        return None, 0.0
    start = time.perf_counter()

    def over(last):
        return time.perf_counter() - start + last > allowance

    # the first run may compile, record and fill caches; a second one does not: the lesser
    # time is a run's fixed cost (on a busy machine it varies by milliseconds)
    first = _timed(run, WARM_UP, np.random.default_rng(0))[0]
    if free_first:
        start = time.perf_counter()
    elif over(first):
        return None, time.perf_counter() - start
    small = min(first, _timed(run, WARM_UP, np.random.default_rng(1))[0])
    # a run's time predicted by the line through the last two (at first by the small run's,
    # a lower bound: the compiled engine's fixed cost of a run is most of a small run's, and
    # an upper bound, as if it had none, skipped the combined estimator on short estimates)
    n, total, parts, slope = min(FIRST_STAGE, n_pilot), 0, [], 0.0
    while True:
        if over(small + slope * (n - WARM_UP)):
            return None, time.perf_counter() - start
        seconds, samples = _timed(run, n, generator)
        parts.append(samples)
        total += n
        if (seconds >= min(DOMINANT * small, LONG_ENOUGH)
                or total + 4 * n > n_pilot or 4 * n > task):
            return (small, parts, (seconds, n)), time.perf_counter() - start
        n, slope = 4 * n, max(seconds - small, 0.0) / (n - WARM_UP)


def _figure(runner, task_size, small, parts, cost):
    """A candidate's figures: the cost per sample from the small run and the timed run
    ``cost = (seconds, n)``, the variance from all its samples ``parts``."""
    estimator, backend, _ = runner
    samples = np.concatenate([np.reshape(x, (len(x), -1)) for x in parts])
    seconds = seconds_per_sample(small, *cost, task_size(backend))
    variance = float(samples.var(axis=0, ddof=1).sum())
    product = seconds * variance
    return {"estimator": estimator, "backend": backend, "n": len(samples),
            "seconds_per_sample": seconds, "variance": variance,
            "time_x_variance": product if np.isfinite(product) else np.inf}
