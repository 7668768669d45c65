"""dtypes through the rules: numpy's promotion (NEP 50), booleans, float32 alternatives, casts,
clip's dtype=.

A test marked ``# BUG:`` failed before its fix and stays as a regression test; ``# EDGE:``
covers an edge case no other test covers.
"""

import warnings

import numpy as np
import pytest
from conftest import ALL_BACKENDS, assert_unbiased, check_unbiased, primal_values
from scipy import stats

import stochad as sad


def _f32_comparison(dtype):
    def f(lam):
        x = (sad.poisson(lam) * 0.5).astype(dtype)   # jumps of 0.5
        return (x > 1.7).astype(float)               # K >= 4
    return f, 2.0, stats.poisson.pmf(3, 2.0)         # d/dlam P(K >= 4) = pmf(3)


def _f32_lookup_threshold(dtype):
    def f(p):                                        # a float32 weight table, thresholded
        w = sad.take(np.array([0.25, 0.5, 0.75], dtype=dtype),
                     sad.categorical([p / 2, p / 2, 1 - p]))
        return np.where(w > 0.3, w, 0.0)
    return f, 0.4, 0.5 / 2 - 0.75                    # E = 0.5 p/2 + 0.75 (1 - p)


def _f32_propagate(dtype):
    def f(lam):
        x = (sad.poisson(lam) * 0.5).astype(dtype)
        return sad.propagate(lambda v: 2.0 * v, x)
    return f, 2.0, 1.0


def _f32_random_table(dtype):
    def f(lam):
        x = (sad.poisson(lam) * 0.25).astype(dtype)
        return sad.asarray([x, 2 * x])[sad.bernoulli(0.5)]
    return f, 2.0, 0.5 * (0.25 + 0.5)


def _f32_where(dtype):
    def f(lam):
        x = (sad.poisson(lam) * 0.5).astype(dtype)
        return np.where(sad.bernoulli(0.5) > 0, x, 0.0)
    return f, 2.0, 0.25                              # E = 0.5 * 0.5 * lam


@pytest.mark.all_backends
@pytest.mark.parametrize("scale", [1, 0.5])   # an integer count, or a float, as the condition
def test_where_with_a_numeric_condition(backend, scale):
    # d/dp E[where(K, 2p, p)] = 2 P(K > 0) + P(K = 0) = 2 - e^-2 for K ~ Poisson(2): the dual
    # parts used ~K (bitwise not: -1, -4, ...) as the partial, and a float K raised TypeError
    def f(p):
        return np.where(sad.poisson(2.0 + 0 * p) * scale, 2 * p, p)

    check_unbiased(f, 0.3, 2 - np.exp(-2), backend=backend)


def test_where_with_a_perturbed_count_as_condition(backend):
    # E[where(K, 3, 1)] = 1 + 2(1 - e^-λ): derivative 2e^-λ
    check_unbiased(lambda lam: np.where(sad.poisson(lam), 3.0, 1.0), 0.7, 2 * np.exp(-0.7),
           backend=backend)


def test_adding_booleans_is_a_logical_or(backend):
    # numpy: (K1 > 3) + (K2 > 3) is K1 > 3 or K2 > 3, and so was the value, but the jump was
    # the sum of the flips (derivative 2·pmf(3) = 0.448 instead of 2·F(3)·pmf(3) = 0.290)
    from scipy import stats

    exact = 2 * stats.poisson.cdf(3, 3.0) * stats.poisson.pmf(3, 3.0)
    check_unbiased(lambda lam: (sad.poisson(lam) > 3) + (sad.poisson(lam) > 3), 3.0, exact,
           backend=backend)


# BUG: apply() now passes a Python bool/int condition unwrapped to the WHERE rule, whose
# partials call c.astype(bool): AttributeError 'bool' object has no attribute 'astype'.
# Reproducer: sad.derivative_estimate(lambda p: sad.where(True, p, 0.0), 1.0) (and
# np.where(True, p, 0.0)); expected 1.0 (as before the change), got AttributeError.
@pytest.mark.all_backends
@pytest.mark.parametrize("where", [sad.where, np.where])
def test_where_with_a_python_bool_condition(backend, where):
    est = sad.derivative_estimate(lambda p: where(True, 3 * p, 0.0), 1.0, rng=0,
                                  backend=backend)
    assert est == 3.0


# BUG: the partial of true_divide w.r.t. x is ``1.0 / y``; with y an unwrapped Python 0 this
# is Python division: ZeroDivisionError, where numpy (and stochad before the change) gives
# inf with a RuntimeWarning. np.mean over an empty axis hits it too (``sum / 0``), where numpy
# returns nan. Reproducer: sad.stochastic_triple(lambda p: p / 0, 1.0) -> ZeroDivisionError.
@pytest.mark.parametrize("f, value, delta", [
    (lambda p: p / 0, np.inf, np.inf),
    (lambda p: np.mean(p * np.ones(0)), np.nan, np.nan),
], ids=["p/0", "mean-of-empty"])
def test_division_by_a_python_zero_follows_numpy(f, value, delta):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        st = sad.stochastic_triple(f, 1.0)
    np.testing.assert_array_equal(sad.value(st), value)
    np.testing.assert_array_equal(sad.delta(st), delta)


# EDGE: weak promotion: a float32 triple times a Python float stays float32 (numpy's rule),
# and the derivative through astype is exact: E[floor(0.7 K)], K ~ Poisson(λ), by enumeration.
def test_astype_int_and_float32_derivatives(backend):
    lam = 3.0
    k = np.arange(200)
    exact = np.sum(np.floor(0.7 * k) * stats.poisson.pmf(k, lam) * (k / lam - 1))
    assert_unbiased(sad.derivative_samples(lambda q: (0.7 * sad.poisson(q)).astype(int), lam,
                                           n_samples=100_000, rng=7, backend=backend), exact)
    st = sad.stochastic_triple(lambda q: sad.poisson(q).astype(np.float32) * 2.5, lam,
                               n_samples=5, rng=0, backend=backend)
    assert sad.value(st).dtype == np.float32
    # E[(2.5 K)^2] = 6.25 (λ + λ²): derivative 6.25 (1 + 2λ)
    assert_unbiased(sad.derivative_samples(
        lambda q: (sad.poisson(q).astype(np.float32) * 2.5) ** 2, lam, n_samples=100_000, rng=8,
        backend=backend), 6.25 * (1 + 2 * lam))


# BUG: reductions of small-integer triples (reachable now with .astype) do not promote to the
# platform integer as numpy does (np.sum/np.prod/np.cumsum of int8 give int64): the chains of
# binary rules stay int8 and wrap around silently. np.prod and np.cumsum are wrong on every
# backend; np.sum is right on pruned/smoothed (one pass) but wrong on exact (chain), so the
# backends disagree on the primal value. Poisson(60) x 3: e.g. prod 156240 -> 80 in int8.
@pytest.mark.parametrize("reduction, backend", [
    (np.sum, "exact"), *((r, b) for r in (np.prod, np.cumsum) for b in ALL_BACKENDS)])
def test_small_integer_reductions_promote_like_numpy(backend, reduction):
    values = primal_values(lambda p: reduction(sad.poisson(30 * p, size=3).astype(np.int8)),
                     backend=backend)
    primal = primal_values(lambda p: sad.poisson(30 * p, size=3), backend=backend)
    expected = np.array([reduction(row.astype(np.int8)) for row in primal])
    assert values.dtype == expected.dtype
    np.testing.assert_array_equal(values, expected)


# BUG: np.clip(x, lo, hi, dtype=int) on a float triple silently truncates; numpy refuses the
# same_kind cast (UFuncTypeError, a TypeError) -- stack(dtype=) checks casting, clip does not.
def test_clip_dtype_refuses_an_unsafe_cast_like_numpy():
    with pytest.raises(TypeError):
        np.clip(np.array([1.5]), 0, 3, dtype=int)
    with pytest.raises(TypeError):
        primal_values(lambda p: np.clip(sad.poisson(p, size=3) * 1.5, 0, 3, dtype=int))


# BUG: numpy >= 2.1 spells the bounds of np.clip min=/max= as well; clip now forwards them to
# _no_out, which rejects them (TypeError "np.clip(..., max=, min=) is not supported ... mask
# with np.where"), though they mean exactly a_min/a_max (before, they were silently ignored).
def test_clip_accepts_numpy_2_min_max_keywords():
    expected = primal_values(lambda p: np.clip(sad.poisson(p, size=3), 1, 2))
    np.testing.assert_array_equal(primal_values(lambda p: np.clip(sad.poisson(p, size=3), min=1,
                                                            max=2)), expected)


# BUG: f = lambda lam: ((sad.poisson(lam) * 0.5).astype(np.float32) > 1.7) (also np.where,
# sad.where, random tables sad.asarray([x, 2x])[i], sad.propagate): propagation.shifted() with
# cast=True rounds the alternative value to an integer (np.rint) whenever its dtype differs from
# the primal's, and a float32 value plus a float64 jump is float64 -> the alternative 1.5 becomes
# 2.0; d/dlam P(K >= 4) = 0.180 comes out 0.451, the float32 lookup + threshold gives -1.0
# instead of -0.5. float64 (the control cases) is exact.
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("case", [_f32_comparison, _f32_where, _f32_lookup_threshold,
                                  _f32_random_table, _f32_propagate],
                         ids=["comparison", "where", "lookup-threshold", "random-table",
                              "propagate"])
def test_float32_alternative_values_are_not_rounded(case, dtype, backend):
    f, p, exact = case(dtype)
    samples = sad.derivative_samples(f, p, n_samples=40_000, rng=1, backend=backend)
    assert_unbiased(samples, exact)
