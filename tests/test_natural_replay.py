"""The natural programs of bench/natural.py, differentiated unchanged by replay (issue 15).

Each program is written for numpy's Generator (plain ``if``, ``while``, ``break``, lists, sets,
item assignment, ``rng.random() < p``); here it runs on ``sad.Generator()`` with
``vectorize=False`` and its derivative is checked at 5 stderr against the exact derivative
computed without stochad (DP, enumeration, closed form; tests/test_natural_exact.py checks
those). The sample counts keep each test to a few seconds of CPU; with the per-sample standard
deviations (``stochad-bench natural``) the stderr is under 7% of the exact derivative for every
program but the noisy voter model (its sd is 13 times its derivative: a test at ~15%) and the
bandit (~15%).
"""

import warnings

import pytest
from conftest import assert_unbiased

import stochad as sad
from bench.natural import PROGRAMS

N = {
    "reed_frost": 10_000,
    "inventory_sS": 10_000,
    "finite_buffer_queue": 8_000,
    "galton_watson": 4_000,
    "site_percolation": 10_000,
    "noisy_voter": 8_000,   # the noisiest: a coarser test
    "epsilon_greedy": 20_000,  # its derivative is small next to its sd
    "birth_death_gillespie": 6_000,
    "birth_death_thinning": 5_000,
    "logistic_gillespie": 6_000,
    "mm1_event_heap": 12_000,
    "repair_overtime": 6_000,
    "call_billing": 4_000,
    "bakery_sales": 6_000,
}


def replayed(program, n, backend="pruned", seed=2026):
    with warnings.catch_warnings():
        warnings.simplefilter("error", sad.LostDerivativeWarning)  # nothing may be lost
        return sad.derivative_samples(lambda th: program.prog(th, sad.Generator()),
                                      program.theta0, n_samples=n, rng=seed, vectorize=False,
                                      backend=backend)


def test_every_program_has_a_sample_count():
    assert set(N) == set(PROGRAMS)


@pytest.mark.parametrize("name", PROGRAMS)
def test_natural_program_unchanged_is_unbiased(name):
    program = PROGRAMS[name]
    assert_unbiased(replayed(program, N[name]), program.exact_derivative(program.theta0))


@pytest.mark.parametrize("name", ["reed_frost", "finite_buffer_queue", "site_percolation"])
def test_natural_program_with_the_exact_variant(name):
    program = PROGRAMS[name]
    samples = replayed(program, N[name] // 2, backend="exact", seed=7)
    assert_unbiased(samples, program.exact_derivative(program.theta0))
