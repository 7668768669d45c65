"""The run loop shared by every estimator: split the samples into runs, run the program once
per run on a triple seeded at ``p``, and read its result.

:mod:`stochad.api` (stochastic triples) and :mod:`stochad.estimators` (score function, finite
differences) differ only in the backend they run with and in how they read the result.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .context import ChunkTooLarge, Run, keep_swallowed_interrupts, raise_swallowed_interrupt
from .parallel import bind, task_generators, task_map
from .triple import StochasticTriple


def chunk_lanes(n_samples: int, chunk_size: int) -> list[int]:
    """Lane counts of the batched runs: as few as ``chunk_size`` allows, of equal size.

    Equal chunks rather than full ones and a remainder: every run pays the program's Python
    overhead once, which a small last chunk pays for few lanes (200,000 samples in chunks of
    65,536 left one of 3,392), and smaller arrays stay closer to the cache.

    Examples
    --------
    >>> chunk_lanes(200_000, 65_536)
    [50000, 50000, 50000, 50000]
    >>> chunk_lanes(10, 4)
    [4, 3, 3]
    """
    n_chunks = -(-n_samples // chunk_size)
    size, extra = divmod(n_samples, n_chunks)
    return [size + (i < extra) for i in range(n_chunks)]


SERIAL_TASK = 1024
"""Samples per task when ``vectorize=False`` (one run per sample): small enough that a few
thousand samples spread over several workers."""

MAX_SAMPLES = 10 ** 12
"""The most samples one call takes: at a microsecond each, more would run for days."""


def check_count(value, name: str, limit: int = MAX_SAMPLES) -> int:
    """``value`` as an int in ``[1, limit]``, or an error naming it (no float or str coercion).

    Examples
    --------
    >>> check_count(5, "n_samples")
    5
    >>> check_count(2.5, "n_samples")
    Traceback (most recent call last):
    ...
    TypeError: n_samples must be a positive integer (an int), got 2.5 (float)
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be a positive integer (an int), got {value!r} "
                        f"({type(value).__name__})")
    if not 1 <= value <= limit:
        raise ValueError(f"{name} must be a positive integer no larger than {limit:.0e}, "
                         f"got {value!r}")
    return int(value)


def check_flag(value, name: str) -> bool:
    """``value`` as a bool, refusing anything but ``True``/``False`` (``'no'`` is truthy).

    Examples
    --------
    >>> check_flag("no", "vectorize")
    Traceback (most recent call last):
    ...
    TypeError: vectorize must be True or False, got 'no'
    """
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def split_runs(lanes: int, vectorize: bool, generator, unit) -> tuple:
    """``unit(n)``'s arrays (lanes first) for ``lanes`` samples: one call per sample, or one
    batched call, re-run as two halves (recursively) while a run would outgrow the memory
    budget (:class:`~stochad.context.ChunkTooLarge`), from the same generator state.

    ``unit`` returns a tuple of arrays; the result concatenates each along the lanes.

    Examples
    --------
    >>> import numpy as np
    >>> split_runs(3, False, None, lambda n: (np.zeros(n),))[0].tolist()
    [0.0, 0.0, 0.0]
    """
    if not vectorize:
        parts = [unit(1) for _ in range(lanes)]
    else:
        state = generator.bit_generator.state
        try:
            return unit(lanes)
        except ChunkTooLarge:
            if lanes == 1:
                raise
            generator.bit_generator.state = state  # the halves draw what the whole would
            parts = [split_runs(n, True, generator, unit)
                     for n in chunk_lanes(lanes, -(-lanes // 2))]
    return tuple(np.concatenate(x) for x in zip(*parts, strict=True))


@dataclass(frozen=True)
class Task:
    """``size`` samples along direction number ``direction``, drawn from ``generator``."""

    direction: int
    size: int
    generator: np.random.Generator


def plan(n_samples: int, n_directions: int, task_size: int, generator) -> list[Task]:
    """The tasks of a call, in order: every direction's samples split into chunks.

    One chunk per direction runs on ``generator`` itself, direction after direction (the
    numbers a seed gave before tasks could run in parallel). More chunks give every task a
    generator of its own, spawned in task order, so the samples do not depend on what runs
    the tasks (:func:`stochad.parallel.task_map`).

    Examples
    --------
    >>> import numpy as np
    >>> [(t.direction, t.size) for t in plan(10, 2, 4, np.random.default_rng(0))]
    [(0, 4), (0, 3), (0, 3), (1, 4), (1, 3), (1, 3)]
    """
    sizes = chunk_lanes(n_samples, task_size)
    if len(sizes) == 1:
        return [Task(d, n_samples, generator) for d in range(n_directions)]
    children = iter(task_generators(generator, n_directions * len(sizes)))
    return [Task(d, size, next(children)) for d in range(n_directions) for size in sizes]


def run_tasks(along, f, p, directions, tasks, backend, vectorize, workers, progress):
    """``(direction, samples)`` of every task in order; ``along(f, p, d, lanes, generator,
    backend, vectorize)`` makes one task's samples."""
    sequential = len({t.generator for t in tasks}) < len(tasks)
    jobs = [bind(along, f, p, directions[t.direction], t.size, t.generator, backend, vectorize)
            for t in tasks]
    keep_swallowed_interrupts()  # a Ctrl-C in a weakref callback is raised after the task
    results = task_map(jobs, None if sequential else workers, progress, [t.size for t in tasks])
    for task, samples in zip(tasks, results, strict=True):
        raise_swallowed_interrupt()
        yield task.direction, samples


def run_once(f, p, d, backend, generator, read):
    """``read(run, f(x))`` for one run of ``backend.n_lanes`` lanes, ``x`` the triple of value
    ``p`` and dual part ``d`` (``None``: none) in every lane."""
    run = Run(generator, backend.n_lanes, backend)
    with run:
        lanes = (run.n_lanes,) + p.shape
        x = StochasticTriple(np.broadcast_to(p, lanes),
                             None if d is None else np.broadcast_to(d, lanes), run=run)
        return read(run, f(x))


def plain_result(result) -> np.ndarray:
    """A result of ``f`` that is not a triple, as an array, or an error naming the mistake."""
    if result is None:
        raise TypeError("the function returned None; return the value to differentiate "
                        "(is a return statement missing?)")
    result = np.asarray(result)
    if result.dtype == object:
        raise TypeError(
            "the function returned an object array (numpy cannot hold triples in arrays); "
            "return the triple itself, or build arrays with np.stack"
        )
    if result.dtype.kind not in "biufc":
        raise TypeError(f"the function returned {result.dtype} values ({result!r:.60}); "
                        "return numbers (a triple, a float or an array) to differentiate")
    return result


def contribution(run: Run, result) -> np.ndarray:
    """Per-lane derivative contributions ``δ + Σ w·Δ`` of ``f``'s result, lanes first."""
    if isinstance(result, StochasticTriple):
        if result.run is not run:
            raise ValueError(
                "the function returned a stochastic triple from another run (kept from an "
                "earlier call?); stochastic triples from two different runs cannot be "
                "combined: compute the result within this call of the function"
            )
        out = np.zeros(result.value.shape)
        if result.delta is not None:
            out = out + result.delta
        if result.perturbation is not None:
            out = out + run.backend.contribution(run, result.perturbation)
        return out
    if isinstance(result, list | tuple):
        return np.stack([contribution(run, r) for r in result], axis=1)
    return np.zeros((run.n_lanes,) + plain_result(result).shape)
