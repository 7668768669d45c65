"""Automatic backend choice (``backend="auto"``): a short pilot picks by time × variance.

Which backend is cheapest per unit of accuracy depends on the program: the pruned backend
costs least per sample, the exact one has the least variance but a cost that grows with the
number of events alive at once, and K-paths lies between (docs/design.md §1). The figure of
merit is *time × variance*: the time to reach a given standard error is proportional to it.

:func:`choose_backend` runs a pilot of each candidate on ``n_pilot`` samples (after a warm-up of
a few lanes, untimed, so that compilation is not counted), measures seconds per sample and the
per-sample variance, and returns a :class:`BackendChoice` with the winner and the figures.
``derivative_samples(..., backend="auto")`` calls it and then draws its samples afresh: the
pilot's samples are discarded, so the choice, which depends on them, cannot bias the result.

The pilot draws a fixed number of random numbers, so given the choice the final samples are
those of the chosen backend with the generator advanced past the pilot; but the choice itself
depends on timings, so the same seed may choose differently on a busier machine. To reproduce
a run, pass the recorded :attr:`BackendChoice.backend` explicitly.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .backends import backend_class
from .context import normalize_rng
from .driver import contribution, run_once, split_runs
from .structure import Layout

AUTO = "auto"
CANDIDATES = ("pruned", "kpaths", "exact")
"""The backends a pilot compares (``"kpaths"``: K = 4)."""
WARM_UP = 8
"""Lanes of each candidate's untimed first run."""


@dataclass(frozen=True)
class BackendChoice:
    """The backend a pilot chose, and its figures.

    Attributes
    ----------
    backend : str
        The chosen backend: the smallest ``seconds_per_sample × variance``.
    n_pilot : int
        Pilot samples per candidate (discarded afterwards).
    figures : dict
        ``{backend: {"seconds_per_sample", "variance", "time_x_variance"}}`` per candidate;
        the variance is summed over output elements.
    """

    backend: str
    n_pilot: int
    figures: dict = field(default_factory=dict)


def pilot_size(n_samples: int) -> int:
    """Pilot samples per candidate: 2% of ``n_samples``, between 100 and 2,000.

    Examples
    --------
    >>> pilot_size(1_000), pilot_size(50_000), pilot_size(10**7)
    (100, 1000, 2000)
    """
    return int(np.clip(n_samples // 50, 100, 2000))


def choose_backend(f, p, *, n_samples=100_000, rng=None, direction=None, vectorize=True,
                   chunk_size=None, candidates=CANDIDATES) -> BackendChoice:
    """The backend ``backend="auto"`` would choose for ``n_samples`` samples, and the pilot's
    figures (a pilot of :func:`pilot_size` samples per candidate).

    ``f``, ``p``, ``rng``, ``vectorize``, ``chunk_size`` as for
    :func:`stochad.derivative_samples`; ``direction`` (default: every coordinate at once) is the
    direction of the pilot's derivative.

    Examples
    --------
    Thirty Poisson queue steps: the exact backend keeps every arrival's perturbation.

    >>> import numpy as np
    >>> import stochad as sad
    >>> def queue(lam):
    ...     w, total = 0, 0
    ...     for _ in range(30):
    ...         w = np.maximum(w + sad.poisson(lam) - 1, 0)
    ...         total = total + w
    ...     return total / 30
    >>> choice = sad.choose_backend(queue, 0.8, n_samples=20_000, rng=0)
    >>> sorted(choice.figures), choice.n_pilot
    (['exact', 'kpaths', 'pruned'], 400)
    >>> choice.figures["exact"]["variance"] < choice.figures["pruned"]["variance"]
    True
    """
    layout = Layout.of(p)
    if layout is not None:
        f, p, direction = layout.wrap(f), layout.flatten(p), layout.flatten(direction, "direction")
    p = np.asarray(p, dtype=np.float64)
    d = np.ones(p.shape) if direction is None else np.asarray(direction, dtype=np.float64)
    return pilot(f, p, d, pilot_size(int(n_samples)), normalize_rng(rng), vectorize, chunk_size,
                 candidates)


def pilot(f, p, d, n_pilot, generator, vectorize=True, chunk_size=None,
          candidates=CANDIDATES) -> BackendChoice:
    """Run a pilot of every candidate backend and pick by time × variance.

    ``f`` is run at the parameter array ``p`` with dual part ``d`` (as the estimators do);
    ``generator`` (a :class:`numpy.random.Generator`) drives the pilot.
    """
    figures = {}
    for name in candidates:
        cls = backend_class(name)
        run_once(f, p, d, cls(WARM_UP), np.random.default_rng(0), contribution)
        start = time.perf_counter()
        samples = split_runs(n_pilot, vectorize, generator, lambda n, cls=cls: (
            run_once(f, p, d, cls(n), generator, contribution),))[0]
        seconds = (time.perf_counter() - start) / n_pilot
        variance = float(samples.reshape(n_pilot, -1).var(axis=0, ddof=1).sum())
        figures[name] = {"seconds_per_sample": seconds, "variance": variance,
                         "time_x_variance": seconds * variance}
    best = min(figures, key=lambda b: (figures[b]["time_x_variance"],
                                       figures[b]["seconds_per_sample"]))
    return BackendChoice(best, n_pilot, figures)


def resolve_backend(backend, estimator, f, p, directions, n_samples, generator, vectorize,
                    chunk_size):
    """For ``"auto"``, the :class:`BackendChoice` a pilot makes (along the sum of the
    ``directions``, so one pilot serves every coordinate); ``None`` for a named backend, and
    for the score-function and finite-difference estimators, which run no triple backend
    (they then run the pruned backend's inert twin: the name does not matter)."""
    if backend != AUTO:
        return None
    if estimator in ("score", "fd"):
        return BackendChoice("pruned", 0, {})
    d = np.sum(directions, axis=0)
    return pilot(f, p, d, pilot_size(n_samples), generator, vectorize, chunk_size)
