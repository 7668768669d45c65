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
