"""sad.Generator: numpy's Generator API, plain outside a run, differentiable inside one.

Exact values are derived independently of stochad: by hand (closed forms) or by enumerating
the chain-binomial epidemic with scipy.stats.binom and differencing the exact expectation.
"""

import numpy as np
import pytest
from conftest import assert_unbiased
from scipy import stats

import stochad as sad

# -- a simulation written for numpy's Generator -------------------------------------------------
S0, I0, GENERATIONS = 7, 1, 3


def epidemic(theta, rng):
    """Reed-Frost chain-binomial epidemic: total number ever infected."""
    s, i, total = S0, I0, I0
    for _ in range(GENERATIONS):
        new = rng.binomial(s, 1 - (1 - theta) ** i)
        s, i, total = s - new, new, total + new
    return total


def epidemic_mean(theta):
    """Exact E[total] by enumerating every path of the chain (scipy pmf)."""
    states = {(S0, I0, I0): 1.0}
    for _ in range(GENERATIONS):
        following = {}
        for (s, i, total), prob in states.items():
            q = 1 - (1 - theta) ** i
            for k in range(s + 1):
                key = (s - k, k, total + k)
                following[key] = following.get(key, 0.0) + prob * stats.binom.pmf(k, s, q)
        states = following
    return sum(prob * total for (_, _, total), prob in states.items())


def test_epidemic_primal_with_numpy_and_derivative_with_stochad():
    theta, h = 0.15, 1e-5
    exact = epidemic_mean(theta)                                           # 3.172306...
    exact_derivative = (epidemic_mean(theta + h) - epidemic_mean(theta - h)) / (2 * h)
    rng = np.random.default_rng(0)
    assert_unbiased([epidemic(theta, rng) for _ in range(20_000)], exact)   # plain numpy
    samples = sad.derivative_samples(lambda t: epidemic(t, sad.Generator()), theta,
                                     n_samples=60_000, rng=1)
    assert_unbiased(samples, exact_derivative)                             # 20.7657


def clinic(theta, rng):
    """Every supported method in one numpy-style program."""
    arrivals = rng.poisson(4 * theta)                                   # E = 4θ
    ward = rng.choice(np.array([1.0, 2.0, 5.0]), p=[theta / 2, theta / 2, 1 - theta])
    wait = rng.exponential(2 * theta)                                   # E = 2θ
    noise = rng.normal(theta, 1.0) ** 2                                 # E = θ² + 1
    extra = rng.geometric(1 / (1 + theta))                              # E = 1 + θ
    spread = rng.uniform(0.0, theta)                                    # E = θ/2
    return arrivals * ward + wait + noise + extra + spread + rng.integers(0, 10) + rng.random()


def test_clinic_against_closed_form():
    # E[arrivals·ward] = 4θ·(1.5θ + 5(1 − θ)) = 20θ − 14θ²; the rest adds 2 + 2θ + 1 + 1/2.
    theta = 0.4
    exact_mean = 20 * theta - 14 * theta**2 + 2 * theta + theta**2 + 1 + 1 + theta \
        + theta / 2 + 4.5 + 0.5
    rng = np.random.default_rng(2)
    assert_unbiased([clinic(theta, rng) for _ in range(20_000)], exact_mean)
    samples = sad.derivative_samples(lambda t: clinic(t, sad.Generator()), theta,
                                     n_samples=100_000, rng=3)
    assert_unbiased(samples, 23.5 - 26 * theta)


def test_choice_with_random_p_is_the_conformance_lookup():
    f = lambda p: sad.Generator().choice([3.5, 5.2, 8.4], p=[p / 2, p / 2, 1 - p])  # noqa: E731
    assert_unbiased(sad.derivative_samples(f, 0.3, n_samples=100_000, rng=4), -4.05)


def test_choice_from_a_random_table_with_random_p():
    # a = Poisson(θ)·[1, 2, 3], p = [θ, 1/2, 1/2 − θ]: E = θ(θ + 1 + 3(1/2 − θ)) = 2.5θ − 2θ².
    def f(theta):
        rng = sad.Generator()
        return rng.choice(rng.poisson(theta, size=3) * np.array([1.0, 2.0, 3.0]),
                          p=[theta, 0.5, 0.5 - theta])

    assert_unbiased(sad.derivative_samples(f, 0.3, n_samples=60_000, rng=12), 2.5 - 4 * 0.3)


def test_size_gives_the_logical_shape():
    def f(theta):
        draws = sad.Generator().binomial(5, theta, size=(2, 3))
        assert draws.shape == (2, 3)
        return np.sum(draws)

    samples = sad.derivative_samples(f, 0.3, n_samples=20_000, rng=5)
    assert_unbiased(samples, 30.0)
    st = sad.stochastic_triple(lambda t: sad.Generator().normal(t, 1.0, size=4), 0.0, rng=0)
    assert st.shape == (4,)
    assert np.all(sad.delta(st) == 1.0)


def test_integers_with_a_random_bound():
    # K ~ Binomial(5, θ); J uniform on {0..K}: E[J] = E[K]/2 = 2.5θ.
    def f(theta):
        rng = sad.Generator()
        return rng.integers(0, rng.binomial(5, theta), endpoint=True)

    assert_unbiased(sad.derivative_samples(f, 0.3, n_samples=100_000, rng=6), 2.5)


def test_outside_a_run_it_is_numpys_generator():
    ours, theirs = sad.Generator(11), np.random.default_rng(11)
    calls = [("random", (3,)), ("integers", (2, 9, 4)), ("binomial", (10, 0.3, 5)),
             ("poisson", (2.5, 5)), ("geometric", (0.3, 5)), ("normal", (1.0, 2.0, 5)),
             ("exponential", (2.0, 5)), ("uniform", (-1.0, 1.0, 5)),
             ("choice", ([1.0, 2.0, 4.0], 5, True, [0.2, 0.3, 0.5])),
             ("standard_normal", (3,)), ("permutation", (6,))]
    for name, args in calls:
        np.testing.assert_array_equal(getattr(ours, name)(*args), getattr(theirs, name)(*args))
    assert sad.Generator(theirs).numpy is theirs
    assert sad.Generator(7).bernoulli(0.5, size=8).tolist() == \
        (np.random.default_rng(7).random(8) < 0.5).astype(int).tolist()


def test_the_run_generator_drives_the_draws():
    # The Generator's own seed is not used inside a run: the estimator's rng decides.
    f = lambda seed: (lambda t: epidemic(t, sad.Generator(seed)))  # noqa: E731
    a = sad.derivative_samples(f(1), 0.2, n_samples=500, rng=9)
    b = sad.derivative_samples(f(2), 0.2, n_samples=500, rng=9)
    np.testing.assert_array_equal(a, b)
    outside = sad.Generator(3)
    before = outside.numpy.bit_generator.state
    sad.derivative_samples(lambda t: epidemic(t, outside), 0.2, n_samples=10, rng=0)
    assert outside.numpy.bit_generator.state == before


def test_choice_without_replacement_gives_permutations():
    st = sad.stochastic_triple(lambda t: sad.Generator().choice(6, size=6, replace=False),
                               0.5, n_samples=200, rng=0)
    values = np.sort(sad.value(st), axis=1)
    np.testing.assert_array_equal(values, np.broadcast_to(np.arange(6), (200, 6)))


def test_errors_name_the_fix():
    def run(f):
        return sad.derivative_estimate(f, 0.3, n_samples=4, rng=0)

    with pytest.raises(TypeError, match="bytes has no differentiable version.*nothing to "
                                        "differentiate"):
        run(lambda t: sad.Generator().bytes(3) and t)
    with pytest.raises(ValueError, match="same size, got 3 and 2"):
        run(lambda t: sad.Generator().choice([1.0, 2.0, 3.0], p=[t, 1 - t]))
    with pytest.raises(ValueError, match="high carries a dual part"):
        run(lambda t: sad.Generator().integers(0, 10 * t))
    with pytest.raises(ValueError, match="random.*vectorize=False"):
        run(lambda t: sad.Generator().poisson(t, size=sad.Generator().poisson(3.0)))
    with pytest.raises(ValueError, match="low >= high, got low=0, high=0"):
        run(lambda t: sad.Generator().integers(0, sad.binomial(3, 0.0)))
