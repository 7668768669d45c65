"""Reductions of triples: keywords numpy honours, one-pass sums and their dtype=, axes, and
reductions over grids of draws against enumeration.

A test marked ``# BUG:`` failed before its fix and stays as a regression test; ``# EDGE:``
covers an edge case no other test covers.
"""

import itertools

import numpy as np
import pytest
from conftest import assert_unbiased, central_difference, primal_values

import stochad as sad


def _triple(f, p=0.3):
    return sad.stochastic_triple(f, p, rng=0)


_OUT_OF_BOUNDS = {
    "sum axis=2": lambda x, i: np.sum(x, axis=2),
    "mean axis=-3": lambda x, i: np.mean(x, axis=-3),
    "max axis=2": lambda x, i: np.max(x, axis=2),
    "cumsum axis=2": lambda x, i: np.cumsum(x, axis=2),
    "take axis=2": lambda x, i: sad.take(x, i, axis=2),
    "stack axis=3": lambda x, i: np.stack([x, x], axis=3),
    "roll axis=2": lambda x, i: np.roll(x, 1, axis=2),
}


_COLUMNS = np.array([0.5, 1.0, 1.5])


_GRID_PROGRAMS = {
    "cumsum-axis1-max": lambda b: np.max(np.cumsum(2 * b - 1, axis=1)),
    "any-all": lambda b: np.sum(np.any(b, axis=1)) + 2 * np.sum(np.all(b, axis=0)),
    "gram-matrix": lambda b: np.sum(b.T @ b * np.arange(9.0).reshape(3, 3)),
    "floordiv-mod-counts": lambda b: (np.sum(np.sum(b, axis=0) // 2)
                                      + np.sum(np.sum(b, axis=1) % 2)
                                      + np.count_nonzero(b, axis=0) @ np.array([1., -1., 2.])),
    "centred-squares": lambda b: np.sum((b - np.mean(b, axis=1, keepdims=True)) ** 2),
}


def _bernoulli_grid_expectation(g, p):
    q = np.tile(p * _COLUMNS, 2)
    total = 0.0
    for bits in itertools.product([0, 1], repeat=6):
        b = np.array(bits)
        total += np.prod(np.where(b == 1, q, 1 - q)) * g(b.reshape(2, 3))
    return total



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


# BUG: PrunedBackend.sum_along reshapes the terms to (lanes, prod(kept axes), -1); when a kept
# axis has length 0 the -1 cannot be inferred: ValueError "cannot reshape array of size 0 into
# shape (n,0,newaxis)". The exact and smoothed backends (and numpy) return an empty result.
# Reproducer: sad.poisson(p, size=(0, 3)).sum(axis=1) under the pruned backend.
@pytest.mark.all_backends
@pytest.mark.parametrize("size, axis", [((0, 3), 1), ((3, 0), 0)])
def test_sum_with_an_empty_kept_axis(backend, size, axis):
    samples = sad.derivative_samples(lambda p: sad.poisson(p, size=size).sum(axis=axis), 2.0,
                                     n_samples=3, rng=0, backend=backend)
    assert samples.shape == (3, 0)


# BUG: dtype= of np.sum is not honoured by the one-pass sum: np.sum(x, dtype=bool) returns
# int64 (numpy: bool, a logical or) and np.sum(x, dtype=np.int8) returns int64 (numpy: int8),
# because _sum_triple calls np.add.reduce without dtype after the cast (and _promote_bool turns
# the bool cast back into int64). The chain (exact backend, with a perturbation) returns int8.
@pytest.mark.parametrize("dtype, backend", [(bool, "pruned"), (bool, "exact"), (bool, "smoothed"),
                                            (np.int8, "pruned"), (np.int8, "smoothed")])
def test_sum_honours_dtype(backend, dtype):
    values = primal_values(lambda p: np.sum(sad.poisson(p, size=3), dtype=dtype), backend=backend)
    primal = primal_values(lambda p: sad.poisson(p, size=3), backend=backend)
    expected = np.array([np.sum(row, dtype=dtype) for row in primal])
    assert values.dtype == expected.dtype
    np.testing.assert_array_equal(values, expected)


# EDGE: the one-pass sum along an axis (transposed terms), with keepdims, where one event is
# shared by two output rows: pruned away in one row, it must be dead in the other too.
# X ~ Poisson(λ) x 3, M = [[X0, X1], [X1, X2]]: S = M.sum(axis=1, keepdims=True) (shape (2,1));
# E[S0² + S1²] = 2(2λ + 4λ²), derivative 4 + 16λ. Also M.T summed over axis 0 (same S).
def test_sum_along_an_axis_with_a_shared_event(backend):
    def f(lam, transpose):
        x = sad.poisson(lam, size=3)
        m = np.stack([np.stack([x[0], x[1]]), np.stack([x[1], x[2]])])
        s = m.T.sum(axis=0, keepdims=True).T if transpose else m.sum(axis=1, keepdims=True)
        assert s.shape == (2, 1)
        return np.sum(s ** 2)

    lam = 0.7
    for transpose, seed in ((False, 11), (True, 12)):
        assert_unbiased(sad.derivative_samples(lambda q, t=transpose: f(q, t), lam,
                                               n_samples=100_000, rng=seed, backend=backend),
                        4 + 16 * lam)


# EDGE: sum of a 0-d triple (axes ()), sum over an empty axis (numpy: 0) and np.mean with
# dtype=int / float32 give numpy's values and dtypes on every backend.
@pytest.mark.all_backends
def test_degenerate_sums_and_mean_dtype(backend):
    k = primal_values(lambda p: sad.poisson(30 * p, size=3), backend=backend)
    np.testing.assert_array_equal(primal_values(lambda p: np.sum(sad.poisson(30 * p, size=3)[0]),
                                          backend=backend), k[:, 0])
    z = primal_values(lambda p: np.sum(sad.poisson(p, size=(2, 0)), axis=1), backend=backend)
    assert z.shape == (4, 2) and not z.any()
    for dtype in (int, np.float32):
        got = primal_values(lambda p, d=dtype: np.mean(sad.poisson(30 * p, size=3) * 1.7, dtype=d),
                      backend=backend)
        expected = np.array([np.mean(row * 1.7, dtype=dtype) for row in k])
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)


# BUG: np.sum(x, axis=2) on a triple of shape (2, 3) silently sums over axis 0 (result shape
# (3,)); numpy raises AxisError. arrayfuncs wraps every axis with `% ndim` (_normalize_axis,
# cumulative, take, stack, roll), so a wrong axis gives a wrong result instead of an error.
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("call", list(_OUT_OF_BOUNDS.values()), ids=list(_OUT_OF_BOUNDS))
def test_out_of_bounds_axis_raises_like_numpy(call):
    with pytest.raises((ValueError, IndexError)):   # np.exceptions.AxisError is both
        call(np.ones((2, 3)), np.array(1))
    with pytest.raises((ValueError, IndexError)):
        sad.stochastic_triple(
            lambda p: call(sad.bernoulli(p, size=(2, 3)), sad.bernoulli(p)), 0.3, rng=0)


# EDGE: a (2, 3) grid of Bernoulli draws (size=) whose p broadcasts from a (3,) row, through
# cumsum/max over axes, any/all, a Gram matrix x.T @ x, integer // and % of counts,
# count_nonzero, mean with keepdims; exact enumeration of the 64 outcomes.
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name", list(_GRID_PROGRAMS))
def test_reductions_over_a_grid_of_draws(name, backend):
    g = _GRID_PROGRAMS[name]
    p = 0.4
    exact = central_difference(lambda q: _bernoulli_grid_expectation(g, q), p)
    samples = sad.derivative_samples(
        lambda q: g(sad.bernoulli(q * _COLUMNS, size=(2, 3))), p, n_samples=40_000, rng=3,
        backend=backend)
    assert_unbiased(samples, exact)
