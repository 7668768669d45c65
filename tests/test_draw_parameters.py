"""Draw parameters: validation on the primal and alternative paths, boundaries, lists of triples,
size=, empty and cast parameters.

A test marked ``# BUG:`` failed before its fix and stays as a regression test; ``# EDGE:``
covers an edge case no other test covers.
"""


import numpy as np
import pytest
from conftest import assert_unbiased, central_difference, check_unbiased, primal_values

import stochad as sad

N = 100_000


@pytest.mark.parametrize("f, p, direction, exact", [
    # E[K] = 1 - p: right derivative -1 at p = 0 (it gave 0: category 0 has probability 0
    # and was never a target, although it gains probability)
    (lambda p: sad.categorical([p, 1 - p]), 0.0, None, -1.0),
    (lambda p: sad.categorical([p, 0.5 - p, 0.5 + 0 * p]), 0.0, None, -1.0),
    (lambda p: sad.categorical([1 - p, p]), 0.0, None, 1.0),       # upward: E[K] = p
    (lambda p: sad.categorical([p, 1 - p]), 1.0, -1.0, 1.0),       # left derivative at p = 1
    # several empty categories that gain probability at different rates:
    # E[K²] = 2p + 4(0.5 - 3p) + 4.5 -> -10; E[K²] = (0.5 - 3p) + 8p + 9p -> 14
    (lambda p: sad.categorical([p, 2 * p, 0.5 - 3 * p, 0.5 + 0 * p]) ** 2, 0.0, None, -10.0),
    (lambda p: sad.categorical([0.5 + 0 * p, 0.5 - 3 * p, 2 * p, p]) ** 2, 0.0, None, 14.0),
])
def test_categorical_at_a_boundary(backend, f, p, direction, exact):
    check_unbiased(f, p, exact, backend=backend, direction=direction)


def test_categorical_at_a_boundary_one_sample_per_call():
    check_unbiased(lambda p: sad.categorical([p, 1 - p]), 0.0, -1.0, n=200, vectorize=False)


@pytest.mark.parametrize("f, message", [
    # at p = 0 the Bernoulli is always 0 and its alternative is 1: scale 0.5 -> -0.5
    (lambda p: sad.normal(0.0, 0.5 - sad.bernoulli(p)), "scale must be finite and >= 0"),
    (lambda p: sad.exponential(0.5 - sad.bernoulli(p)), "scale must be finite and >= 0"),
    (lambda p: sad.uniform(np.log(1.5 - 2 * sad.bernoulli(p)), 2.0), "low must be finite"),
])
def test_continuous_draw_with_an_invalid_alternative_parameter_raises(backend, f, message):
    # exponential(0.5 - B) returned a derivative (-1) computed with a negative scale
    with pytest.raises(ValueError, match=message + r".*alternative path"):
        sad.derivative_samples(f, 0.0, n_samples=100, rng=0, backend=backend)


def test_continuous_draw_with_a_valid_alternative_parameter():
    # E[exponential(1 + B)] = 1 + p
    check_unbiased(lambda p: sad.exponential(1.0 + sad.bernoulli(p)), 0.3, 1.0)


# EDGE: a constant broadcast parameter is passed to numpy as a scalar (_scalar_if_constant):
# the same draws as an explicit per-lane array of the same value (Poisson and binomial).
def test_scalar_parameter_draws_like_an_array_parameter():
    a = primal_values(lambda p: sad.poisson(3.0, size=4), n=500, rng=9)
    b = primal_values(lambda p: sad.poisson(3.0 + 0.0 * p, size=4), n=500, rng=9)
    np.testing.assert_array_equal(a, b)
    a = primal_values(lambda p: sad.binomial(12, 0.3, size=4), n=500, rng=9)
    b = primal_values(lambda p: sad.binomial(12, 0.3 + 0.0 * p, size=4), n=500, rng=9)
    np.testing.assert_array_equal(a, b)


# EDGE: invalid alternative-path parameters raise ValueError naming the value and the path,
# through the Bernoulli kernel (scalar and size=, out of range, NaN, inf) and the generic
# coupled_jump (Poisson, binomial, geometric). B ~ Bernoulli(0) is 0 but moves to 1.
@pytest.mark.parametrize("f, message", [
    (lambda p: sad.bernoulli(0.6 + 0.5 * sad.bernoulli(p)), "p must be in [0, 1], got 1.1"),
    (lambda p: sad.bernoulli(0.6 + 0.5 * sad.bernoulli(p), size=(2, 3)), "got 1.1"),
    (lambda p: sad.bernoulli(0.4 - 0.5 * sad.bernoulli(p)), "got -0.09999"),
    (lambda p: sad.bernoulli(np.where(sad.bernoulli(p) > 0, np.nan, 0.5)), "got nan"),
    (lambda p: sad.bernoulli(0.5 - np.log(1 - sad.bernoulli(p))), "got inf"),
    (lambda p: sad.poisson(0.5 - sad.bernoulli(p)), "lam must be finite and >= 0, got -0.5"),
    (lambda p: sad.binomial(3, 0.5 + sad.bernoulli(p)), "p must be in [0, 1], got 1.5"),
    (lambda p: sad.geometric(0.5 - sad.bernoulli(p)), "p must be in (0, 1], got -0.5"),
], ids=["bern", "bern-size", "bern-neg", "bern-nan", "bern-inf", "poisson", "binomial",
        "geometric"])
def test_invalid_alternative_parameters_raise(backend, f, message):
    with pytest.raises(ValueError) as info:
        sad.derivative_samples(f, 0.0, n_samples=50, rng=0, backend=backend)
    text = str(info.value)
    assert message in text and text.endswith("(on the alternative path of a perturbation)")


# EDGE: draws of size 0 whose parameters carry perturbations, in every backend; float32 and
# integer parameters of coupled draws.
@pytest.mark.all_backends
def test_empty_and_cast_parameter_draws(backend):
    def run(f, n=8):
        return sad.derivative_samples(f, 0.5, n_samples=n, rng=0, backend=backend)

    assert run(lambda p: sad.bernoulli(1 / (1 + sad.poisson(p, size=0)))).shape == (8, 0)
    assert run(lambda p: sad.bernoulli(1 / (1 + sad.poisson(p)), size=0).sum()).shape == (8,)
    assert run(lambda p: sad.poisson(1 + sad.poisson(p), size=(2, 0))).shape == (8, 2, 0)
    assert run(lambda p: sad.binomial(sad.poisson(p, size=0), 0.5)).shape == (8, 0)
    if backend == "smoothed":
        return
    # float32 p of a Bernoulli (d/dl E[B] as above); integer rate of a Poisson:
    # E[K2²] = E[(1 + K1) + (1 + K1)²] = 2 + 4l + l²
    f32 = run(lambda p: sad.bernoulli((1 / (1 + sad.poisson(p))).astype(np.float32)), N)
    lam = 0.5
    assert_unbiased(f32, (lam * np.exp(-lam) - (1 - np.exp(-lam))) / lam**2)
    ints = run(lambda p: sad.poisson(1 + sad.poisson(p)) ** 2, N)
    assert_unbiased(ints, central_difference(lambda t: 2 + 4 * t + t * t, 0.5))


# BUG: sad.poisson([p * np.arange(1., 4.), [1., 2., 3.]]) has shape (3, 2), numpy's
# rng.poisson of the same nested list has shape (2, 3): samplers._as_param stacks a list holding
# triples along axis=-1, which transposes rows of vectors. Row 0 is then [p, 1.0] and
# d/dp E[sum(row 0)] is 1 instead of 6.
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_list_of_vector_parameters_stacks_rows_like_numpy():
    def f(p):
        k = sad.poisson([p * np.arange(1.0, 4.0), [1.0, 2.0, 3.0]])
        assert k.shape == (2, 3)
        return np.sum(k[0])

    assert sad.derivative_estimate(f, 1.0, n_samples=2000, rng=0) == pytest.approx(6.0)


# BUG: sad.categorical([[p, 1 - p], [0.3, 0.7]]) (a batch of two categoricals, nested list
# mixing triples and numbers) raises "TypeError: converting a stochastic triple to a numpy
# array ..." although a flat list mixing them works; numpy takes the nested list as shape (2, 2).
# d/dp E[c0 + 2 c1] = -1.
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_nested_list_probabilities_with_triples():
    def f(p):
        c = sad.categorical([[p, 1 - p], [0.3, 0.7]])
        return c[0] + 2 * c[1]

    samples = sad.derivative_samples(f, 0.4, n_samples=20_000, rng=0)
    assert_unbiased(samples, -1.0)


# BUG: sad.bernoulli(p * np.ones(3), size=(4, 1)) returns shape (4, 3) (inside a run and
# outside); numpy's Generator raises "Output size (4, 1) is not compatible with broadcast
# dimensions of inputs (4, 3)": size= is the output shape, not a shape to broadcast with.
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_size_incompatible_with_the_parameter_shape_raises_like_numpy():
    with pytest.raises(ValueError):
        np.random.default_rng(0).binomial(1, np.full(3, 0.3), size=(4, 1))
    with pytest.raises(ValueError):
        sad.bernoulli(np.full(3, 0.3), size=(4, 1), rng=0)
    with pytest.raises(ValueError):
        sad.stochastic_triple(lambda p: sad.bernoulli(p * np.ones(3), size=(4, 1)), 0.3)


# BUG: sad.categorical(p) with a scalar p inside a run raises "ValueError: input operand has
# more dimensions than allowed by the axis remapping" (from numpy, deep in draw()); outside a
# run the same call says "categorical: probs must have at least one category".
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_categorical_of_a_scalar_inside_a_run_names_the_problem():
    with pytest.raises(ValueError, match="at least one category"):
        sad.categorical(0.3, rng=0)
    with pytest.raises(ValueError, match="at least one category"):
        sad.stochastic_triple(lambda p: sad.categorical(p), 0.3)
