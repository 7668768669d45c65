"""Two draws that move, compared with each other: the event times of a discrete-event loop
over a heap (bench/natural.py, ``mm1_event_heap``: an arrival's time against a departure's,
then each popped time against the horizon) and two racing clocks. Exact values without
stochad."""

import math
import warnings

import numpy as np

import stochad as sad
from bench.natural import PROGRAMS


def test_heap_event_loop_with_both_backends_without_warnings():
    program = PROGRAMS["mm1_event_heap"]  # its pruned test: tests/test_natural_replay.py
    exact = program.exact_derivative(program.theta0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", sad.LostDerivativeWarning)
        d = sad.derivative_samples(lambda lam: program.prog(lam, sad.Generator()),
                                   program.theta0, n_samples=6_000, rng=3, vectorize=False,
                                   backend="exact")
    assert abs(d.mean() - exact) < 5 * d.std() / math.sqrt(d.size), (d.mean(), exact)


def _race(lam):
    """Two exponential clocks, rates lam and 1: the first one's time if it rings first and
    before 0.5, as a 0/1 outcome."""
    rng = sad.Generator()
    x = rng.exponential(1 / lam)
    y = rng.exponential(1.0)
    if x < y:
        return float(x < 0.5)
    return 0.0


def _race_mean(lam):
    return lam / (lam + 1) * (1 - np.exp(-(lam + 1) * 0.5))


def test_the_older_of_two_compared_moving_draws_is_narrowed_for_its_own_event():
    # x < y is an event on y, whose outcome also narrows x; x < 0.5 is then an event on x
    # within that cell (before: weighted as if x < y had said nothing of x, with a warning)
    exact = np.imag(_race_mean(1.3 + 1e-20j)) / 1e-20
    for backend in ("pruned", "exact"):
        with warnings.catch_warnings():
            warnings.simplefilter("error", sad.LostDerivativeWarning)
            d = sad.derivative_samples(_race, 1.3, n_samples=20_000, rng=2, vectorize=False,
                                       backend=backend)
        assert abs(d.mean() - exact) < 5 * d.std() / math.sqrt(d.size), (backend, d.mean())


def test_equality_of_two_draws_reads_nothing_and_costs_no_reference_replay():
    # a heap's tuples test t1 == t2 before t1 < t2; two continuous draws are equal with
    # probability 0 (at their replayed values too), so == must not count as a use of their
    # noise, which would cost each sample a second replay at the event's reference side
    calls = []

    def race(lam, tuples):
        calls.append(lam)
        rng = sad.Generator()
        x, y = rng.exponential(1 / lam), rng.exponential(1.0)
        return float((x, 0) < (y, 1)) if tuples else float(x < y)

    by_value = sad.derivative_samples(lambda lam: race(lam, False), 1.5, n_samples=200, rng=4,
                                      vectorize=False)
    plain_calls, calls[:] = len(calls), []
    by_tuple = sad.derivative_samples(lambda lam: race(lam, True), 1.5, n_samples=200, rng=4,
                                      vectorize=False)
    np.testing.assert_array_equal(by_tuple, by_value)
    assert len(calls) == plain_calls  # a tracking run, and a replay where an event can flip
    d = np.asarray(by_tuple)  # and both unbiased: d/dλ P(x < y) = d/dλ λ/(λ + 1) = 1/(λ + 1)²
    assert abs(d.mean() - 1 / 2.5**2) < 5 * d.std() / math.sqrt(d.size)
