"""Chunking: equal chunks, consecutive runs on one generator, timing repeats.

A test marked ``# BUG:`` failed before its fix and stays as a regression test; ``# EDGE:``
covers an edge case no other test covers.
"""

import numpy as np
import pytest

import stochad as sad
from stochad.driver import chunk_lanes


# EDGE: chunk_lanes: as few chunks as chunk_size allows, sizes differing by at most one, none
# above chunk_size, summing to n_samples (n below, at, one above the chunk size; chunk 1).
@pytest.mark.parametrize("n, c", [(1, 1), (1, 65536), (7, 8), (8, 8), (9, 8), (17, 8),
                                  (5, 1), (200_000, 65_536), (65_537, 65_536)])
def test_chunk_lanes(n, c):
    sizes = chunk_lanes(n, c)
    assert sum(sizes) == n and len(sizes) == -(-n // c)
    assert max(sizes) <= c and max(sizes) - min(sizes) <= 1 and min(sizes) >= 1


# EDGE: one chunk draws from the run's generator; several draw from generators spawned from it,
# one per chunk in order (so workers can run them anywhere): n samples in chunks of c equal the
# runs of chunk_lanes(n, c) lanes on those generators, for the triple, score and fd estimators;
# n < c, n == c, n == c + 1; the same seed twice gives the same samples.
@pytest.mark.parametrize("estimator", ["triple", "score", "fd"])
@pytest.mark.parametrize("n, c", [(5, 8), (8, 8), (9, 8), (17, 4)])
def test_chunks_are_runs_on_spawned_generators(estimator, n, c):
    def f(p):
        return np.sqrt(sad.poisson(1.0 + 2.0 * sad.bernoulli(p / 2)) + sad.poisson(p))

    chunked = sad.derivative_samples(f, 0.6, n_samples=n, rng=7, chunk_size=c,
                                     estimator=estimator)
    assert chunked.shape == (n,)
    sizes = chunk_lanes(n, c)
    generators = [np.random.default_rng(7)] if len(sizes) == 1 else \
        np.random.default_rng(7).spawn(len(sizes))
    runs = np.concatenate([sad.derivative_samples(f, 0.6, n_samples=m, rng=gen,
                                                  estimator=estimator)
                           for m, gen in zip(sizes, generators, strict=True)])
    np.testing.assert_array_equal(chunked, runs)
    np.testing.assert_array_equal(
        chunked, sad.derivative_samples(f, 0.6, n_samples=n, rng=7, chunk_size=c,
                                        estimator=estimator))


# BUG (minor, bench only; fixed): runner.measure(..., repeats=0) (or any repeats < 1) never runs the
# estimator and then reads the unset `draws`: UnboundLocalError "cannot access local variable
# 'draws'", instead of a ValueError naming the bad value (the CLI's --repeats checks >= 1, the
# function does not; or it could run once).
def test_measure_with_repeats_below_one_raises_value_error():
    from stochad.bench.problems import PROBLEMS

    from bench import runner

    with pytest.raises(ValueError, match="0"):
        runner.measure(PROBLEMS["two-bernoullis"], "triple", 100, 0, "pruned", None,
                       repeats=0)
