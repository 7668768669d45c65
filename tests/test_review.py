"""Regression tests from a review: each failed before its fix (exact values derived
independently of stochad: closed forms, or scipy pmf enumeration)."""

import numpy as np
import pytest

import stochad as sad


def _triple(f, p=0.3):
    return sad.stochastic_triple(f, p, rng=0)


# -- reductions must not drop initial= / where= silently -----------------------------------------
@pytest.mark.parametrize("call", [
    lambda x: np.sum(x, initial=10.0),
    lambda x: np.sum(x, where=np.array([True, False, True])),
    lambda x: np.prod(x, initial=2.0),
    lambda x: np.max(x, initial=10.0),
    lambda x: np.min(x, where=np.array([True, False, True]), initial=0.0),
    lambda x: np.mean(x, where=np.array([True, False, False])),
    lambda x: np.any(x > 0.5, where=np.array([True, False, False])),
    lambda x: np.all(x > 0.5, where=np.array([True, False, False])),
])
def test_reduction_keywords_that_change_the_result_raise(call):
    # np.sum(0.3 * [1, 1, 1], initial=10) is 10.9; it used to return 0.9 with no error
    with pytest.raises(TypeError, match="not supported on stochastic triples"):
        _triple(lambda p: call(p * np.ones(3)))


def test_reduction_where_true_is_the_default():
    st = _triple(lambda p: np.sum(p * np.arange(3.0), where=True))
    assert float(sad.value(st)) == pytest.approx(0.9)
    assert float(sad.delta(st)) == pytest.approx(3.0)


# -- categorical draws with a parameter at a boundary ---------------------------------------------
def _check(f, p, exact, n=100_000, **kw):
    s = sad.derivative_samples(f, p, n_samples=n, rng=3, **kw)
    stderr = s.std() / np.sqrt(n)
    assert abs(s.mean() - exact) <= 5 * stderr + 1e-12, (s.mean(), exact, stderr)


@pytest.mark.parametrize("backend", ["pruned", "exact"])
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
    _check(f, p, exact, backend=backend, direction=direction)


def test_categorical_at_a_boundary_one_sample_per_call():
    _check(lambda p: sad.categorical([p, 1 - p]), 0.0, -1.0, n=200, vectorize=False)


# -- Generator.choice(replace=False) validates p as numpy does -----------------------------------
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


# -- a vector draw whose only perturbation is inherited from a scalar parameter -------------------
@pytest.mark.parametrize("backend", ["pruned", "exact"])
@pytest.mark.parametrize("reduce_", [
    np.sum,                                   # E = 3(0.2 + 0.5p): derivative 1.5
    lambda x: 3 * x[2],                       # indexing one element
    lambda x: np.sum(x.reshape(3, 1)),        # reshaping
])
def test_vector_draw_inheriting_a_scalar_perturbation(backend, reduce_):
    # its event array kept the parameter's shape (lanes, 1): x[2] raised IndexError
    def f(p):
        return reduce_(sad.bernoulli(0.2 + 0.5 * sad.bernoulli(p), size=3))

    _check(f, 0.3, 1.5, backend=backend)


# -- inversion coupling towards a law under which the drawn value has (numerically) no mass -------
@pytest.mark.parametrize("backend", ["pruned", "exact"])
@pytest.mark.parametrize("f, p, direction, exact", [
    # E[K²] = 12p for K ~ Poisson(3B), B ~ Bernoulli(p); the left derivative moves λ from 3 to 0
    # (it gave ≈ +45: the coupled outcome walked up to 51 instead of down to 0)
    (lambda p: sad.poisson(3.0 * sad.bernoulli(p)) ** 2, 0.4, -1.0, -12.0),
    (lambda p: sad.poisson(3.0 * (1 - sad.bernoulli(p))) ** 2, 0.4, None, -12.0),
    # Binomial(5, 0.6(1 - B)): p moves to 0, E[K] = 3(1 - p)
    (lambda p: sad.binomial(5, 0.6 * (1 - sad.bernoulli(p))), 0.4, None, -3.0),
    # Binomial(400, 0.91 → 0.01): pmf(k ≈ 364) underflows under the new law;
    # E[K²] = p(400·0.01·0.99 + 4²) + (1 - p)(400·0.91·0.09 + 364²)
    (lambda p: sad.binomial(400, 0.9 * (1 - sad.bernoulli(p)) + 0.01) ** 2, 0.4, None,
     19.96 - (32.76 + 364.0 ** 2)),
])
def test_coupling_into_a_far_or_degenerate_law(backend, f, p, direction, exact):
    _check(f, p, exact, backend=backend, direction=direction)


def test_invert_coupled_when_the_new_pmf_underflows():
    from scipy import stats

    from stochad import kernels

    rng = np.random.default_rng(0)
    k = np.array([3, 7, 364, 380, 0])
    a = np.array([3.0, 5.0, 400.0, 400.0, 400.0])
    b = np.array([0.0, 0.0, 0.91, 0.91, 0.01])
    b_new = np.array([0.0, 0.0, 0.01, 0.0, 0.91])
    a_new = np.array([0.0, 1e-3, 400.0, 400.0, 400.0])
    v = rng.random(k.size)
    # Poisson rows 0-1 (rate to 0 and to 1e-3), binomial rows 2-4
    pois = kernels.invert_coupled(0, k[:2], v[:2], a[:2], b[:2], a_new[:2], b_new[:2])
    u = stats.poisson.cdf(k[:2] - 1, a[:2]) + v[:2] * stats.poisson.pmf(k[:2], a[:2])
    np.testing.assert_array_equal(pois, stats.poisson.ppf(u, a_new[:2]))
    binom = kernels.invert_coupled(1, k[2:], v[2:], a[2:], b[2:], a_new[2:], b_new[2:])
    u = stats.binom.cdf(k[2:] - 1, a[2:], b[2:]) + v[2:] * stats.binom.pmf(k[2:], a[2:], b[2:])
    np.testing.assert_array_equal(binom, stats.binom.ppf(u, a_new[2:], b_new[2:]))


# -- continuous draws validate their parameters on alternative paths, as discrete draws do --------
@pytest.mark.parametrize("backend", ["pruned", "exact"])
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
    _check(lambda p: sad.exponential(1.0 + sad.bernoulli(p)), 0.3, 1.0)


# -- where() with a condition that is not boolean -------------------------------------------------
@pytest.mark.parametrize("backend", ["pruned", "exact", "smoothed"])
@pytest.mark.parametrize("scale", [1, 0.5])   # an integer count, or a float, as the condition
def test_where_with_a_numeric_condition(backend, scale):
    # d/dp E[where(K, 2p, p)] = 2 P(K > 0) + P(K = 0) = 2 - e^-2 for K ~ Poisson(2): the dual
    # parts used ~K (bitwise not: -1, -4, ...) as the partial, and a float K raised TypeError
    def f(p):
        return np.where(sad.poisson(2.0 + 0 * p) * scale, 2 * p, p)

    _check(f, 0.3, 2 - np.exp(-2), backend=backend)


@pytest.mark.parametrize("backend", ["pruned", "exact"])
def test_where_with_a_perturbed_count_as_condition(backend):
    # E[where(K, 3, 1)] = 1 + 2(1 - e^-λ): derivative 2e^-λ
    _check(lambda lam: np.where(sad.poisson(lam), 3.0, 1.0), 0.7, 2 * np.exp(-0.7),
           backend=backend)


def test_score_estimator_refuses_a_dual_part_on_binomial_n():
    # the triple estimator raises; the score function silently returned 0
    with pytest.raises(ValueError, match="number of trials n cannot carry a dual part"):
        sad.derivative_samples(lambda p: sad.binomial(10 * p, 0.5), 0.3, n_samples=10, rng=0,
                               estimator="score")


@pytest.mark.parametrize("backend", ["pruned", "exact"])
def test_adding_booleans_is_a_logical_or(backend):
    # numpy: (K1 > 3) + (K2 > 3) is K1 > 3 or K2 > 3, and so was the value, but the jump was
    # the sum of the flips (derivative 2·pmf(3) = 0.448 instead of 2·F(3)·pmf(3) = 0.290)
    from scipy import stats

    exact = 2 * stats.poisson.cdf(3, 3.0) * stats.poisson.pmf(3, 3.0)
    _check(lambda lam: (sad.poisson(lam) > 3) + (sad.poisson(lam) > 3), 3.0, exact,
           backend=backend)
