"""Heavy tails of resampling weights (issue 14): ``resample(..., defensive=ε)`` mixes the
uniform law into the proposal in every perturbed sample, which bounds the reweighting; the
particle filter stays unbiased against the exact forward algorithm."""

import numpy as np
import pytest
from conftest import assert_unbiased

import stochad as sad
from bench import exact_values as exact
from stochad.resampling import resample

READINGS = np.array([0.4, 1.3, 1.8, 3.1])


def counting_filter(theta, defensive, n=6):
    """A bootstrap particle filter's likelihood estimate for X_t = X_{t-1} + Bernoulli(θ)."""
    x = np.zeros(n)
    w = np.full(n, 1.0 / n)
    for y in READINGS:
        x = x + sad.bernoulli(theta, size=n)
        w = w * exact.pf_likelihood(y, x)
        w, (x,) = resample(w, [x], defensive=defensive)
    return np.sum(w)


@pytest.mark.parametrize("defensive", [None, 0.3])
def test_defensive_particle_filter_is_unbiased(backend, defensive):
    samples = sad.derivative_samples(lambda t: counting_filter(t, defensive), 0.5,
                                     n_samples=20_000, rng=11, backend=backend)
    assert_unbiased(samples, exact.particle_filter(0.5, READINGS)[1])


def test_defensive_mixture_shortens_the_tail():
    """The largest |sample| of the pruned backend falls with ε = 0.5 on the same seed."""
    biggest = {eps: np.abs(sad.derivative_samples(lambda t, e=eps: counting_filter(t, e), 0.5,
                                                  n_samples=20_000, rng=12)).max()
               for eps in (None, 0.5)}
    assert biggest[0.5] < biggest[None]


@pytest.mark.parametrize("eps", [0.0, 1.0, -0.1])
def test_defensive_out_of_range_is_a_value_error(eps):
    with pytest.raises(ValueError, match="defensive must be in"):
        resample(np.array([1.0, 2.0]), [np.array([1.0, 2.0])], rng=0, defensive=eps)
