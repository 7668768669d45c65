"""stochad.jax: a stochad program inside jax.jit(jax.grad(...)), unbiased."""

import numpy as np
import pytest
from conftest import assert_unbiased

import stochad as sad

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")
to_jax = pytest.importorskip("stochad.jax").to_jax


def test_jit_grad_is_unbiased_against_the_exact_derivative():
    # d/dλ E[(K + 1)²] = 2λ + 3 = 9 for K ~ Poisson(3) (conformance table)
    g = to_jax(lambda lam: (sad.poisson(lam) + 1) ** 2, n_samples=2_000)
    grad = jax.jit(jax.grad(g))
    keys = jax.random.split(jax.random.key(0), 30)
    estimates = [float(grad(3.0, key)) for key in keys]
    assert_unbiased(estimates, 9.0)


def test_value_is_the_monte_carlo_mean_and_keys_reproduce():
    g = to_jax(lambda p: 7 * sad.bernoulli(p) - 3, n_samples=50_000)
    value, grad = jax.value_and_grad(g)(0.3, jax.random.key(5))
    assert abs(float(value) - (7 * 0.3 - 3)) < 0.03
    again = jax.value_and_grad(g)(0.3, jax.random.key(5))
    assert (float(value), float(grad)) == (float(again[0]), float(again[1]))


def test_vector_parameters_give_a_gradient_vector():
    g = to_jax(lambda q: q[0] * q[1] ** 2, n_samples=10)   # deterministic: exact gradient
    grad = jax.grad(g)(jnp.array([2.0, 3.0]), jax.random.key(0))
    np.testing.assert_allclose(np.asarray(grad), [9.0, 12.0], rtol=1e-6)


def test_a_non_scalar_program_is_refused():
    g = to_jax(lambda p: sad.poisson(p * np.ones(2)), n_samples=10)
    with pytest.raises(Exception, match="f must return a scalar"):
        jax.grad(g)(1.0, jax.random.key(0))
