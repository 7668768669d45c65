"""The run loop shared by every estimator: split the samples into runs, run the program once
per run on a triple seeded at ``p``, and read its result.

:mod:`stochad.api` (stochastic triples) and :mod:`stochad.estimators` (score function, finite
differences) differ only in the backend they run with and in how they read the result.
"""

from __future__ import annotations

import numpy as np

from .context import Run
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


def lane_counts(n_samples: int, vectorize: bool, chunk_size, backend_class) -> list[int]:
    """Lane counts of the successive runs: one lane per run unless ``vectorize``; otherwise
    chunks of at most ``chunk_size`` lanes (default: the backend's ``chunk_size``).

    Examples
    --------
    >>> from stochad.backends import ExactBackend
    >>> lane_counts(3, False, None, ExactBackend)
    [1, 1, 1]
    >>> lane_counts(10_000, True, None, ExactBackend)
    [5000, 5000]
    """
    if not vectorize:
        return [1] * n_samples
    return chunk_lanes(n_samples, int(chunk_size or backend_class.chunk_size))


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
    return result


def contribution(run: Run, result) -> np.ndarray:
    """Per-lane derivative contributions ``δ + Σ w·Δ`` of ``f``'s result, lanes first."""
    if isinstance(result, StochasticTriple):
        out = np.zeros(result.value.shape)
        if result.delta is not None:
            out = out + result.delta
        if result.perturbation is not None:
            out = out + run.backend.contribution(run, result.perturbation)
        return out
    if isinstance(result, list | tuple):
        return np.stack([contribution(run, r) for r in result], axis=1)
    return np.zeros((run.n_lanes,) + plain_result(result).shape)
