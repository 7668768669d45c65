"""The exact values of the natural programs (bench/natural.py), checked without stochad.

Each exact expectation against a plain Monte Carlo mean of the program on numpy's Generator;
each exact derivative against a central difference of the exact expectation; and, for the
programs whose parameter is a Poisson rate or a site's open probability, the derivative against
a score-function (likelihood-ratio) estimator with a constant baseline, written by hand.
"""

import numpy as np
import pytest
from conftest import assert_unbiased
from scipy import linalg

from bench import natural
from bench.natural import PROGRAMS

# Plain runs per program: enough for a tight check, about 2-6 s each on this machine.
RUNS = {"noisy_voter": 10_000, "epsilon_greedy": 20_000}
DEFAULT_RUNS = 40_000


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

class PoissonScore:
    """A numpy Generator that adds ``Σ (k/λ - 1)`` over its Poisson(λ) draws to ``score``."""

    def __init__(self, rng, lam):
        self._rng, self._lam, self.score = rng, lam, 0.0

    def poisson(self, lam, size=None):
        assert lam == self._lam, "every Poisson draw must have the differentiated rate"
        k = self._rng.poisson(lam, size)
        self.score += float(np.sum(k / lam - 1))
        return k


@pytest.mark.parametrize("name, runs", [("inventory_sS", 40_000), ("galton_watson", 40_000)])
def test_poisson_rate_derivative_matches_score_function(name, runs):
    program = PROGRAMS[name]
    theta, rng = program.theta0, np.random.default_rng(7)
    baseline = program.exact_value(theta)  # a constant: E[score] = 0 keeps it unbiased
    estimates = np.empty(runs)
    for r in range(runs):
        recorder = PoissonScore(rng, theta)
        estimates[r] = (program.prog(theta, recorder) - baseline) * recorder.score
    assert_unbiased(estimates, program.exact_derivative(theta))


def test_percolation_derivative_matches_score_function():
    # The program draws its 16 uniforms first, row by row: replaying the seed gives the sites.
    program, runs = PROGRAMS["site_percolation"], 40_000
    p, seeds = program.theta0, np.random.SeedSequence(11).spawn(runs)
    baseline, estimates = program.exact_value(p), np.empty(runs)
    for r, seed in enumerate(seeds):
        opened = np.random.default_rng(seed).random(natural.PERC_SIZE**2) < p
        score = np.sum(np.where(opened, 1 / p, -1 / (1 - p)))
        estimates[r] = (program.prog(p, np.random.default_rng(seed)) - baseline) * score
    assert_unbiased(estimates, program.exact_derivative(p))


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
