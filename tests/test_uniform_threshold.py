"""``rng.random() < theta`` in a batched run is the draw ``bernoulli(theta)`` (issue 15), and a
comparison that drops a dual part warns instead of giving a silent 0."""

import warnings

import numpy as np
import pytest
from conftest import assert_unbiased
from scipy import stats

import stochad as sad


@pytest.mark.parametrize("options", [{"backend": "pruned"}, {"backend": "exact"},
                                     {"backend": "smoothed"},
                                     {"estimator": "score", "baseline": True}])
def test_uniform_below_a_moving_threshold_is_a_bernoulli(options):
    # d/dp E[7·1{U < p} − 3] = 7 (conformance table, bernoulli, f = 7x − 3)
    f = lambda p: 7 * (sad.Generator().random() < p) - 3  # noqa: E731
    assert_unbiased(sad.derivative_samples(f, 0.3, n_samples=20_000, rng=0, **options), 7.0)


def test_uniform_above_a_moving_threshold_is_the_complement():
    f = lambda p: 1.0 * (p < sad.Generator().random())  # noqa: E731  (reflected: U > p)
    assert_unbiased(sad.derivative_samples(f, 0.4, n_samples=20_000, rng=1), -1.0)


def test_the_readme_walk_written_with_raw_uniforms():
    # the README walk, each step `rng.random() < prob` as numpy users write a coin flip;
    # exact d/dp E = 56.6079 by dynamic programming (bench.exact_values.random_walk)
    def walk(p):
        rng, n = sad.Generator(), 0
        for i in range(1, 101):
            n = n + (rng.random() < p * (1 - (n + i) / 200))
        return n

    assert_unbiased(sad.derivative_samples(walk, 0.5, n_samples=20_000, rng=2), 56.6079)


def test_vector_uniforms_against_a_scalar_threshold():
    # five independent coins: d/dp E[number of heads²] = d/dp (5p + 20p²) = 5 + 40p = 17
    f = lambda p: np.sum(sad.Generator().random(5) < p) ** 2  # noqa: E731
    assert_unbiased(sad.derivative_samples(f, 0.3, n_samples=20_000, rng=3), 17.0)


def test_a_comparison_that_loses_mass_warns():
    with pytest.warns(sad.LostDerivativeWarning, match="derivative of its jumps is lost"):
        sad.derivative_estimate(lambda m: 1.0 * (sad.normal(m, 1.0) > 0), 0.0, n_samples=10,
                                rng=0)


def test_a_check_of_the_parameter_alone_does_not_warn_but_a_tie_does():
    # an actuary's rate checked as scipy checks it (mu >= 0 inside stats.poisson.rvs) or by
    # hand (if lam > 10: raise): the same in every lane, it flips only at isolated rates, so
    # nothing is lost (it warned in the generator guide's own example); at a tie it can flip
    def claims(lam):
        if lam > 10.0:
            raise ValueError("lam")
        return stats.poisson.rvs(lam, size=1, random_state=sad.Generator())[0] ** 2

    with warnings.catch_warnings():
        warnings.simplefilter("error", sad.LostDerivativeWarning)
        assert_unbiased(sad.derivative_samples(claims, 2.0, n_samples=20_000, rng=0), 5.0)
    with pytest.warns(sad.LostDerivativeWarning, match="greater_equal"):
        sad.derivative_estimate(lambda p: (p >= 0.5) + sad.bernoulli(0.5), 0.5, n_samples=10,
                                rng=0)


@pytest.mark.parametrize("f", [lambda m: sad.exponential(m) % 1.0,
                               lambda m: np.remainder(sad.exponential(m), 1.0),
                               lambda m: np.floor(sad.exponential(m))])
def test_batched_steps_of_a_continuous_draw_warn(f):
    # x % 1 of a moving draw lost its jumps silently in the compiled engine (0.99 for 0.12)
    with pytest.warns(sad.LostDerivativeWarning, match="derivative of its jumps is lost"):
        sad.derivative_samples(f, 1.3, n_samples=10, rng=0)
