"""sad.Generator: numpy's numbers outside a run, differentiable draws inside, choice's checks.

A test marked ``# BUG:`` failed before its fix and stays as a regression test; ``# EDGE:``
covers an edge case no other test covers.
"""


import numpy as np
import pytest
from conftest import assert_unbiased, samples_of

import stochad as sad


@pytest.mark.parametrize("probs, message", [
    ([-0.5, 1.0, 0.5], "-0.5"),                 # negative probability
    ([0.5, 1.0, 0.5], "sum to 1, got 2.0"),      # does not sum to 1
    ([np.nan, 0.5, 0.5], "nan"),
    ([0.0, 1.0, 0.0], "fewer non-zero entries"),  # 2 items from 1 possible one
])
def test_choice_without_replacement_rejects_bad_probabilities(probs, message):
    # inside a run these were accepted silently (and zero-probability items were chosen)
    def f(p):
        return p * sad.Generator().choice(3, size=2, replace=False, p=probs)[0]

    with pytest.raises(ValueError, match=message):
        sad.derivative_samples(f, 0.3, n_samples=3, rng=0)


# EDGE: outside a run, methods stochad does not wrap (shuffle, permutation, multinomial) and the
# dtype=/method= keywords of wrapped ones give numpy's own numbers for the same seed.
def test_generator_outside_a_run_matches_numpy_for_other_methods_and_keywords():
    ours, theirs = sad.Generator(5), np.random.default_rng(5)
    a, b = np.arange(7), np.arange(7)
    ours.shuffle(a)
    theirs.shuffle(b)
    np.testing.assert_array_equal(a, b)
    for name, args, kwargs in [("permutation", (6,), {}),
                               ("multinomial", (5, [0.2, 0.8]), {}),
                               ("standard_normal", (), {"size": 3, "dtype": np.float32}),
                               ("standard_exponential", (3,), {"method": "inv"}),
                               ("integers", (0, 5), {"endpoint": True, "size": 4}),
                               ("choice", (5,), {"size": 3, "replace": False}),
                               ("binomial", ([3, 4], 0.5), {})]:
        x, y = getattr(ours, name)(*args, **kwargs), getattr(theirs, name)(*args, **kwargs)
        np.testing.assert_array_equal(x, y)
        assert np.asarray(x).dtype == np.asarray(y).dtype, name
    assert sad.Generator(sad.Generator(3)).random() == np.random.default_rng(3).random()


# EDGE: inside a run, size= with broadcasting parameters, choice with a 2-D size and random p,
# a random *lower* bound of integers, and degenerate parameters (n = 0, λ = 0, σ = 0, low > high).
@pytest.mark.parametrize("name, f, exact", [
    # E = 3·(2 + 5)·θ
    ("binomial-broadcast", lambda t: np.sum(sad.Generator().binomial(np.array([2, 5]), t,
                                                                     size=(3, 2))), 21.0),
    # 4 draws of a = [1, 4, 9] with p = [θ, 1/2, 1/2 − θ]: E = 4(θ + 2 + 4.5 − 9θ)
    ("choice-2d-size", lambda t: np.sum(sad.Generator().choice(
        np.array([1.0, 4.0, 9.0]), size=(2, 2), p=[t, 0.5, 0.5 - t])), -32.0),
    # L ~ Binomial(3, θ), J uniform on {L..9}: E = (3θ + 9)/2
    ("integers-random-low", lambda t: sad.Generator().integers(sad.Generator().binomial(3, t),
                                                               10), 1.5),
    ("uniform-low-above-high", lambda t: sad.Generator().uniform(2 * t, t), 1.5),
    ("degenerate", lambda t: sad.Generator().binomial(0, t) + sad.Generator().poisson(0.0)
     + sad.Generator().normal(t, 0.0) + t * sad.Generator().binomial(4, 1.0), 5.0),
    # choice from a random table, without replacement: E = 2·mean(θ·[1, 2, 3]) = 4θ
    ("choice-random-table-no-replace", lambda t: np.sum(sad.Generator().choice(
        t * np.array([1.0, 2.0, 3.0]), size=2, replace=False)), 4.0),
])
def test_generator_draws_inside_a_run(name, f, exact):
    assert_unbiased(samples_of(f, 0.3), exact)


@pytest.mark.parametrize("method", ["standard_normal", "standard_exponential", "random"])
@pytest.mark.parametrize("vectorize", [True, False])
def test_out_inside_a_run_raises_rather_than_leaving_the_array_unwritten(method, vectorize):
    # standard_normal(out=buf) ignored out= and left buf all zeros: derivative 3 for 1.74
    def f(mu):
        buf = np.zeros(3)
        getattr(sad.Generator(), method)(out=buf)
        return np.sum(np.maximum(buf + mu, 0))

    with pytest.raises(TypeError, match=rf"{method}\(out=\) is not supported"):
        sad.derivative_samples(f, 0.2, n_samples=10, rng=0, vectorize=vectorize)
