"""The relaxed straight-through estimator (issue 14): biased, with a bias that shrinks with τ."""

import numpy as np
import pytest

import stochad as sad


def _bias_and_stderr(f, p, exact, estimator):
    s = sad.derivative_samples(f, p, n_samples=100_000, rng=0, estimator=estimator)
    return abs(s.mean() - exact), s.std() / np.sqrt(len(s))


def test_bernoulli_bias_shrinks_with_the_temperature():
    """d/dp E[7·B(p) − 3] = 7: off by about 1.8 at τ = 1, 0.6 at τ = 0.5, and within noise of
    7 at τ = 0.1 (with three times the standard deviation)."""
    def f(p):
        return 7 * sad.bernoulli(p) - 3

    big, big_se = _bias_and_stderr(f, 0.3, 7.0, "relaxed:1")
    mid, mid_se = _bias_and_stderr(f, 0.3, 7.0, "relaxed")
    small, small_se = _bias_and_stderr(f, 0.3, 7.0, "relaxed:0.1")
    assert big > 10 * big_se and mid > 5 * mid_se
    assert small < big - 5 * (small_se + big_se)


def test_categorical_index_is_relaxed():
    """E[index of categorical([p/2, p/2, 1 − p])] = 2 − 1.5p: derivative −1.5; the relaxed
    estimate at τ = 0.2 is near, but biased."""
    def f(p):
        return 1.0 * sad.categorical([p / 2, p / 2, 1 - p])

    bias, stderr = _bias_and_stderr(f, 0.6, -1.5, "relaxed:0.2")
    assert bias < 0.2


def test_a_poisson_draw_has_no_relaxation():
    with pytest.raises(ValueError, match="estimator='triple'"):
        sad.derivative_samples(lambda lam: sad.poisson(lam), 2.0, n_samples=10,
                               estimator="relaxed")


@pytest.mark.parametrize("name", ["relaxed:0", "relaxed:-1", "relaxed:hot"])
def test_a_bad_temperature_is_a_value_error(name):
    with pytest.raises(ValueError, match="positive finite temperature"):
        sad.derivative_samples(lambda p: sad.bernoulli(p), 0.3, n_samples=10, estimator=name)


def test_combined_takes_no_option():
    with pytest.raises(ValueError, match="no option"):
        sad.derivative_samples(lambda p: sad.bernoulli(p), 0.3, n_samples=10,
                               estimator="combined:2")
