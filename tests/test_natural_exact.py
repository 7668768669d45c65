"""The exact values of the natural programs (bench/natural.py), checked without stochad.

Each exact expectation against a plain Monte Carlo mean of the program on numpy's Generator;
each exact derivative against a central difference of the exact expectation; and, for the
programs but the bandit, the derivative against a score-function (likelihood-ratio) estimator
with a constant baseline, written by hand (no stochad).
"""

import numpy as np
import pytest
from conftest import assert_unbiased
from scipy import linalg

from bench import natural
from bench.natural import PROGRAMS
from bench.natural_score import Dual, ScoreGenerator

# Plain runs per program: a stderr under 1% of the mean, a few seconds each.
RUNS = {"noisy_voter": 8_000, "epsilon_greedy": 15_000}
DEFAULT_RUNS = 20_000


def plain_samples(program, theta, runs, seed):
    rng = np.random.default_rng(seed)
    return np.array([program.prog(theta, rng) for _ in range(runs)])


@pytest.mark.parametrize("name", PROGRAMS)
def test_exact_value_matches_plain_monte_carlo(name):
    program = PROGRAMS[name]
    samples = plain_samples(program, program.theta0, RUNS.get(name, DEFAULT_RUNS), seed=2026)
    assert_unbiased(samples, program.exact_value(program.theta0))


@pytest.mark.parametrize("name", PROGRAMS)
def test_exact_derivative_matches_central_difference_of_exact_value(name):
    program, h = PROGRAMS[name], 1e-5
    theta = program.theta0
    central = (program.exact_value(theta + h) - program.exact_value(theta - h)) / (2 * h)
    assert program.exact_derivative(theta) == pytest.approx(central, rel=1e-6)


@pytest.mark.parametrize("name", PROGRAMS)
def test_registry_entry_is_complete_and_derivative_clearly_nonzero(name):
    program = PROGRAMS[name]
    assert program.name == name and program.field and program.description
    assert isinstance(program.prog(program.theta0, np.random.default_rng(0)), float)
    assert abs(program.exact_derivative(program.theta0)) > 0.1


# -- score-function (likelihood-ratio) estimators, by hand ---------------------------------------

def score_samples(program, runs, seed):
    """``(f - E f) * score``: the score-function estimator with the exact mean as baseline."""
    theta, rng = program.theta0, np.random.default_rng(seed)
    baseline = program.exact_value(theta)  # a constant: E[score] = 0 keeps it unbiased
    samples = np.empty(runs)
    for r in range(runs):
        generator = ScoreGenerator(rng)
        samples[r] = (program.prog(Dual(theta, 1.0), generator) - baseline) * generator.score
    return samples


# Runs per program: a stderr of 2-6% of the derivative in a few seconds; the bandit's score has
# too large a variance for a useful check in that time.
SCORE_RUNS = {"reed_frost": 20_000, "inventory_sS": 5_000, "finite_buffer_queue": 8_000,
              "galton_watson": 20_000, "site_percolation": 5_000, "noisy_voter": 6_000,
              "birth_death_gillespie": 8_000, "birth_death_thinning": 6_000,
              "logistic_gillespie": 6_000, "mm1_event_heap": 8_000, "repair_overtime": 6_000,
              "call_billing": 8_000}


@pytest.mark.parametrize("name", SCORE_RUNS)
def test_exact_derivative_matches_score_function_estimator(name):
    program = PROGRAMS[name]
    samples = score_samples(program, SCORE_RUNS[name], seed=7)
    assert_unbiased(samples, program.exact_derivative(program.theta0))


# -- the exact methods, by a second route --------------------------------------------------------

class Sites:
    """A stand-in Generator whose ``random()`` opens exactly the sites of a bit mask."""

    def __init__(self, mask):
        self._mask, self._site = mask, 0

    def random(self):
        bit = (self._mask >> self._site) & 1
        self._site += 1
        return 0.0 if bit else 1.0


def test_spanning_counts_match_the_programs_flood_fill_on_every_configuration():
    sites = natural.PERC_SIZE**2
    counts = np.zeros(sites + 1, dtype=int)
    for mask in range(2**sites):
        if natural.site_percolation(0.5, Sites(mask)) == 1.0:
            counts[mask.bit_count()] += 1
    np.testing.assert_array_equal(counts, natural.spanning_counts())


def test_linear_birth_death_closed_form_matches_truncated_master_equation():
    cap, lam = 150, 1.0  # P(N(2) >= 150) is far below rounding
    n = np.arange(cap + 1)
    up, down = lam * n[:-1], natural.BD_DEATH * n[1:]
    generator = np.diag(up, 1) + np.diag(down, -1) - np.diag(np.append(up, 0) + np.append(0, down))
    mean = linalg.expm(generator * natural.BD_HORIZON)[natural.BD_INITIAL] @ n
    assert mean == pytest.approx(natural.birth_death_mean(lam), rel=1e-10)


def test_bandit_with_epsilon_one_pulls_uniformly_and_with_zero_exploits_deterministically():
    mean_arm = np.mean(natural.BANDIT_ARMS)
    assert PROGRAMS["epsilon_greedy"].exact_value(1.0) == pytest.approx(
        natural.BANDIT_STEPS * mean_arm, rel=1e-12)
    # epsilon = 0: pulls 0, 1, 2 first, so the first three expected rewards are the arm means.
    assert PROGRAMS["epsilon_greedy"].exact_value(0.0) > 3 * mean_arm
