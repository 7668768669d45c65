"""Gradients (array, tuple, dict parameters) and directional derivatives vs closed forms."""

from collections import namedtuple

import numpy as np
import pytest
from conftest import assert_unbiased

import stochad as sad

P0, P1 = 0.3, 2.0  # E[Bernoulli(p0)·Poisson(p1)] = p0·p1: gradient (p1, p0)
N = 40_000


def bern_times_poisson(p):
    return sad.bernoulli(p[0]) * sad.poisson(p[1])


def test_gradient_of_an_array_parameter(backend):
    g = sad.derivative_samples(bern_times_poisson, np.array([P0, P1]), n_samples=N, rng=0,
                               backend=backend)
    assert g.shape == (N, 2)
    assert_unbiased(g, [P1, P0])


def test_gradient_of_a_tuple_parameter():
    g = sad.derivative_samples(bern_times_poisson, (P0, P1), n_samples=N, rng=0)
    assert isinstance(g, tuple) and len(g) == 2
    assert g[0].shape == g[1].shape == (N,)
    assert_unbiased(g[0], P1)
    assert_unbiased(g[1], P0)


def test_gradient_of_a_dict_parameter():
    def f(q):
        return sad.bernoulli(q["b"]) * sad.poisson(q["lam"])

    est = sad.derivative_estimate(f, {"b": P0, "lam": P1}, n_samples=N, rng=0)
    assert list(est) == ["b", "lam"] and isinstance(est["b"], float)
    g = sad.derivative_samples(f, {"b": P0, "lam": P1}, n_samples=N, rng=0)
    assert_unbiased(g["b"], P1)
    assert_unbiased(g["lam"], P0)
    assert est == {"b": g["b"].mean(), "lam": g["lam"].mean()}  # same seed, same numbers


def test_nested_structure_with_array_leaves():
    # f = Σ_ij a_ij·Bernoulli(b)·k with a (2, 2), b and k (a namedtuple): E f = b·k·Σa
    Params = namedtuple("Params", ["b", "k"])
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    p = {"a": a, "rest": Params(0.4, 3.0)}

    def f(q):
        b = sad.bernoulli(q["rest"].b)
        return np.sum(q["a"] * b) * q["rest"].k

    g = sad.derivative_samples(f, p, n_samples=N, rng=2)
    assert g["a"].shape == (N, 2, 2) and isinstance(g["rest"], Params)
    assert_unbiased(g["a"], 0.4 * 3.0 * np.ones((2, 2)))
    assert_unbiased(g["rest"].b, 3.0 * a.sum())
    assert_unbiased(g["rest"].k, 0.4 * a.sum())


@pytest.mark.parametrize("p,direction", [
    (np.array([P0, P1]), np.array([1.0, -2.0])),
    ((P0, P1), (1.0, -2.0)),
])
def test_directional_derivative_in_one_pass(p, direction):
    calls = []

    def f(q):
        calls.append(1)
        return bern_times_poisson(q)

    g = sad.derivative_samples(f, p, n_samples=N, rng=3, direction=direction)
    assert g.shape == (N,) and len(calls) == 1
    assert_unbiased(g, P1 * 1.0 + P0 * -2.0)


def test_directional_derivative_of_a_dict():
    def f(q):
        return sad.bernoulli(q["b"]) * sad.poisson(q["lam"])

    g = sad.derivative_samples(f, {"b": P0, "lam": P1}, n_samples=N, rng=4,
                               direction={"b": 0.5, "lam": 1.0})
    assert_unbiased(g, 0.5 * P1 + 1.0 * P0)


# -- a deterministic program: the gradient is exact ----------------------------------------------
X = (1.0, 2.0, np.pi / 2)
E2 = np.exp(2.0)
# f = (x1·x2·sin x3 + exp(x1·x2)) / x3 with u = x1·x2 = 2, sin x3 = 1, cos x3 = 0, x3 = π/2:
#   ∂1 = x2 (sin x3 + e^u) / x3 = 4(1 + e²)/π;   ∂2 = x1 (sin x3 + e^u) / x3 = 2(1 + e²)/π;
#   ∂3 = u cos x3 / x3 − (u sin x3 + e^u) / x3² = −4(2 + e²)/π²
GRADIENT = np.array([4 * (1 + E2) / np.pi, 2 * (1 + E2) / np.pi, -4 * (2 + E2) / np.pi**2])


def smooth(x):
    return (x[0] * x[1] * np.sin(x[2]) + np.exp(x[0] * x[1])) / x[2]


def test_deterministic_gradient_of_an_array_is_exact():
    g = sad.derivative_estimate(smooth, np.array(X), rng=0)
    np.testing.assert_allclose(g, GRADIENT, rtol=1e-12, atol=1e-12)


def test_deterministic_gradient_of_a_tuple_and_a_dict_is_exact():
    g = sad.derivative_estimate(smooth, X, rng=0)
    np.testing.assert_allclose(np.array(g), GRADIENT, rtol=1e-12, atol=1e-12)
    g = sad.derivative_estimate(lambda q: smooth((q["x1"], q["x2"], q["x3"])),
                                dict(zip(["x1", "x2", "x3"], X, strict=True)), rng=0)
    np.testing.assert_allclose(list(g.values()), GRADIENT, rtol=1e-12, atol=1e-12)


def test_deterministic_directional_derivative_is_exact():
    d = np.array([0.5, -1.0, 2.0])
    g = sad.derivative_estimate(smooth, tuple(X), direction=tuple(d), rng=0)
    assert g == pytest.approx(GRADIENT @ d, rel=1e-12)


def test_stochastic_triple_of_a_tuple_seeds_every_leaf():
    st = sad.stochastic_triple(lambda q: q[0] * q[1], (2.0, 3.0))
    assert float(sad.value(st)) == 6.0
    assert float(sad.delta(st)) == 5.0  # d/dt (2 + t)(3 + t) at t = 0


# -- bad input is named --------------------------------------------------------------------------
@pytest.mark.parametrize("p,direction,match", [
    ((P0, P1), (1.0,), "direction must have the structure of p"),
    ((P0, P1), np.array([1.0, 0.0]), "direction must have the structure of p"),
    ({"b": P0, "lam": P1}, {"b": 1.0, "mu": 0.0}, "direction must have the structure of p"),
    ((P0, np.zeros(2)), (1.0, np.zeros(3)), "direction must have the structure of p"),
    ((P0, P1), (1.0, np.nan), r"direction\[1\] must be finite"),
    (np.array([P0, P1]), np.array([1.0]), "direction has shape"),
])
def test_mismatched_direction_raises(p, direction, match):
    with pytest.raises(ValueError, match=match):
        sad.derivative_samples(bern_times_poisson, p, n_samples=1, direction=direction)


def test_non_finite_leaf_is_named():
    with pytest.raises(ValueError, match=r"p\['lam'\] must be finite"):
        sad.derivative_samples(lambda q: q["lam"], {"lam": np.inf}, n_samples=1)


def test_empty_structure_raises():
    with pytest.raises(ValueError, match="no parameters"):
        sad.derivative_samples(lambda q: 0.0, (), n_samples=1)
