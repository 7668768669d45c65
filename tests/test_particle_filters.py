"""Particle filters: resampling with new_weight, against enumeration.

A test marked ``# BUG:`` failed before its fix and stays as a regression test; ``# EDGE:``
covers an edge case no other test covers.
"""

import itertools

import numpy as np
import pytest
from conftest import assert_unbiased, central_difference, samples_of

import stochad as sad
from stochad.resampling import resample


# BUG: resample(np.stack([sad.bernoulli(t), 1.0 + 0*t]), [[5., 1.]], n=1) gives
# d/dt E[W'g'] = 0, exact 5 (E[W·g] = 5t + 1). A particle whose *primal* weight is 0 is never
# drawn, so the alternative path on which its weight becomes positive cannot reweight it:
# the importance-sampling argument of new_weight needs q_i > 0 wherever p_i(θ + Δ) > 0. The
# README promises unbiasedness for "weights that depend on an upstream discrete draw"; zero
# weights are routine (indicator likelihoods, discrete observations).
# Fixed: in such samples resample draws from a defensive mixture (1 - ε)p + ε/N and reweights
# by p/q.
def test_resampling_a_zero_weight_that_a_perturbation_revives(backend):
    def f(t):
        w = np.stack([sad.bernoulli(t), 1.0 + 0 * t])
        w2, (g2,) = resample(w, [np.array([5.0, 1.0])], n=1, method="multinomial")
        return w2[0] * g2[0]

    assert_unbiased(samples_of(f, 0.3, backend=backend), 5.0)


# EDGE: n ≠ N offspring, all three schemes, both backends; weights and particles carry finite
# perturbations and dual parts. E = 2θ(3 + θ) + (1 − θ/2) + 0.5·2θ, derivative 6.5 + 4θ.
@pytest.mark.parametrize("method", ["systematic", "stratified", "multinomial"])
def test_resampling_more_offspring_than_particles(method, backend):
    def f(t):
        w = np.stack([t + sad.bernoulli(t), 1 - t / 2, 0.5 + 0 * t])
        g = np.stack([3 + sad.bernoulli(t), 1.0 + 0 * t, 2 * t])
        w2, (g2,) = resample(w, [g], n=5, method=method)
        return np.sum(w2 * g2)

    assert_unbiased(samples_of(f, 0.3, n=50_000, backend=backend), 6.5 + 4 * 0.3)


# EDGE: a two-step particle filter over *discrete* particles (X1 ~ B(θ), X2 = X1 + B(θ)) with
# weights g1 = 1 + 2x, g2 = 0.5 + x and test function 1 + x²; E[output] = Z(θ) exactly,
# enumerated over the four paths.
def test_discrete_particle_filter_against_enumeration(backend):
    def pf(t, n=3):
        x = sad.bernoulli(t, size=n)
        w = np.full(n, 1.0 / n) * (1.0 + 2.0 * x)
        w, (x,) = resample(w, [x])
        x = x + sad.bernoulli(t, size=n)
        w = w * (0.5 + x)
        w, (x,) = resample(w, [x])
        return np.sum(w * (1.0 + x * x))

    def z(t):
        total = 0.0
        for a, b in itertools.product([0, 1], [0, 1]):
            x2 = a + b
            total += ((t if a else 1 - t) * (t if b else 1 - t)
                      * (1 + 2 * a) * (0.5 + x2) * (1 + x2 * x2))
        return total

    assert_unbiased(samples_of(pf, 0.3, n=50_000, backend=backend), central_difference(z, 0.3))


# EDGE: particles with a trailing axis (N, 2) that carry perturbations are gathered whole.
# E = Σ_i w_i (θ + 10·2θ) = 6·21θ.
def test_resampling_two_dimensional_particles(backend):
    def f(t):
        x = np.stack([sad.bernoulli(t, size=3), sad.poisson(2 * t, size=3)], axis=1)
        w2, (x2,) = resample(np.array([1.0, 2.0, 3.0]), [x], n=4)
        return np.sum(w2[:, None] * x2 * np.array([1.0, 10.0]))

    assert_unbiased(samples_of(f, 0.3, n=50_000, backend=backend), 126.0)
