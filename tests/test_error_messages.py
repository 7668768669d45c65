"""Errors that name the mistake and the fix.

A test marked ``# BUG:`` failed before its fix and stays as a regression test; ``# EDGE:``
covers an edge case no other test covers.
"""

import re

import numpy as np
import pytest

import stochad as sad


def test_score_estimator_refuses_a_dual_part_on_binomial_n():
    # the triple estimator raises; the score function silently returned 0
    with pytest.raises(ValueError, match="number of trials n cannot carry a dual part"):
        sad.derivative_samples(lambda p: sad.binomial(10 * p, 0.5), 0.3, n_samples=10, rng=0,
                               estimator="score")


# BUG: a program that forgets `return` (f returns None) gets "TypeError: the function returned
# an object array (numpy cannot hold triples in arrays); return the triple itself, or build
# arrays with np.stack", which does not say that f returned None (triple and score estimators).
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("estimator", ["triple", "score"])
def test_a_program_that_returns_none_is_named(estimator):
    def forgot_return(p):
        sad.bernoulli(p)

    with pytest.raises(TypeError, match="None"):
        sad.derivative_estimate(forgot_return, 0.3, n_samples=10, rng=0, estimator=estimator)


# BUG: estimator="fd" at p = 0.003 (valid; default h = 0.01) raises "poisson: the rate lam
# must be finite and >= 0, got -0.007": the parameter the user never passed is p - h, and the
# message mentions neither the step h nor finite differences (README calls fd merely "biased"
# at boundaries, e.g. bernoulli(p) at p = 0, which raises the same way).
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("f, p", [(lambda lam: sad.poisson(lam), 0.003),
                                  (lambda q: sad.bernoulli(q), 0.0)])
def test_fd_step_outside_the_domain_is_explained(f, p):
    try:
        est = sad.derivative_estimate(f, p, n_samples=2000, rng=0, estimator="fd")
    except ValueError as e:
        assert re.search(r"\bh\b|step|finite.difference", str(e)), str(e)
    else:
        assert np.isfinite(est)


# BUG: total = np.zeros(3); total += sad.bernoulli(p, size=3) (a common accumulation idiom)
# raises "numpy.add.__call__ with ['out'] keyword arguments is not supported ...; use
# stochad.where(cond, a, b) ... or stochad.propagate": the suggested fix is unrelated; the
# message should say that a numpy array cannot hold a triple in place (write total = total + x).
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_in_place_accumulation_into_a_numpy_array_names_the_fix():
    def f(p):
        total = np.zeros(3)
        total += sad.bernoulli(p, size=3)
        return np.sum(total)

    with pytest.raises(TypeError, match=r"in.place|total = total \+|= \w+ \+"):
        sad.derivative_estimate(f, 0.3, n_samples=10, rng=0)


def test_item_of_a_triple_is_numpys_or_names_the_fix():
    # x.item() raised AttributeError; it is the number where lanes agree and nothing moves
    assert sad.stochastic_triple(lambda p: (0 * p + 3).item(), 0.3) == 3.0
    with pytest.raises(TypeError, match="vectorize=False"):
        sad.derivative_samples(lambda p: sad.bernoulli(p).item() * 1.0, 0.3, n_samples=10,
                               rng=0)
