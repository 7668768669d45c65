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
