"""An array of draws read one element at a time under ``vectorize=False`` (``for t in
times:``, ``times[i]``, ``sorted(times)``): each element is a record of its own for the
comparisons the program makes of it, whose events flip that element of the array draw. These
gave 0 with a warning before (an element had no affine provenance). Exact values without
stochad: closed forms and binomial sums."""

import math
import warnings

import numpy as np
import pytest
from conftest import assert_unbiased, central_difference
from scipy import stats

import stochad as sad

G = sad.Generator


def _samples(f, theta, n=20_000, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error", sad.LostDerivativeWarning)
        return sad.derivative_samples(f, theta, n_samples=n, rng=0, vectorize=False, **kw)


@pytest.mark.parametrize("backend", ["pruned", "exact"])
def test_a_loop_over_an_array_of_exponentials(backend):
    def arrivals_before_one(lam):
        return float(sum(1 for t in G().exponential(1 / lam, size=4) if t < 1.0))

    assert_unbiased(_samples(arrivals_before_one, 1.5, backend=backend), 4 * math.exp(-1.5))


def test_indexing_sorting_and_other_laws():
    def second_smallest_below_one(lam):
        return float(sorted(G().exponential(1 / lam, size=3))[1] < 1.0)

    def two_of_three(lam):
        q = -math.expm1(-lam)
        return 3 * q**2 * (1 - q) + q**3

    assert_unbiased(_samples(second_smallest_below_one, 1.5), central_difference(two_of_three, 1.5))
    assert_unbiased(_samples(lambda p: float(sum(u < p for u in G().random(5))), 0.3), 5.0)
    assert_unbiased(  # a law of stochad.cdf_laws, its parameters element by element
        _samples(lambda s: float(sum(x < 2.0 for x in G().gamma(2.0, s, size=3))), 1.1),
        central_difference(lambda s: 3 * stats.gamma.cdf(2.0, 2.0, scale=s), 1.1))
    assert_unbiased(  # a 2-d index
        _samples(lambda m: (lambda x: float((x[0, 1] < 0.5) + (x[1, 0] < 0.5)))(
            G().normal(m, 1.0, size=(2, 2))), 0.2), -2 * stats.norm.pdf(0.3))


def test_components_that_fail_before_the_warranty_ends():
    """A reliability engineer draws five component lifetimes at once, ``eta·Weibull(1.5)``
    years, and walks through them until two have failed within the one-year warranty: the
    system is then replaced (cost 1). Exact: P(Binomial(5, q) >= 2), q = 1 − e^{−(1/eta)^1.5}."""
    def replaced(eta):
        lifetimes = eta * G().weibull(1.5, size=5)
        failed = 0
        for i in range(5):
            if lifetimes[i] < 1.0:
                failed += 1
                if failed == 2:
                    return 1.0
        return 0.0

    def probability(eta):
        return stats.binom.sf(1, 5, -math.expm1(-(1.0 / eta) ** 1.5))

    assert_unbiased(_samples(replaced, 2.0), central_difference(probability, 2.0))


def test_an_array_compared_whole_and_element_by_element_warns():
    # the elements' intervals and the array's comparisons do not see each other: either
    # order warns (the array first: the element's event is weighted as if nothing were known)
    for f in (lambda lam: (lambda ts: float((ts < 1.0).sum() + (ts[0] < 2.0)))(
                  G().exponential(1 / lam, size=3)),
              lambda lam: (lambda ts: float((ts[0] < 2.0) + (ts < 1.0).sum()))(
                  G().exponential(1 / lam, size=3))):
        with pytest.warns(sad.LostDerivativeWarning):
            sad.derivative_samples(f, 1.5, n_samples=50, rng=0, vectorize=False)


def test_np_max_and_min_of_an_array_of_draws():
    # picked element by element, as builtin max() does, so every comparison that picks the
    # largest is on the tape (np.max of a size=3 draw compared with a threshold gave 0)
    def all_three(lam):
        return (-math.expm1(-lam)) ** 3

    assert_unbiased(_samples(lambda lam: float(np.max(G().exponential(1 / lam, size=3)) < 1.0),
                             1.5), central_difference(all_three, 1.5))
    assert_unbiased(_samples(lambda lam: float(G().exponential(1 / lam, size=(3, 2)).min()
                                               < 0.2), 1.5),
                    central_difference(lambda lam: -math.expm1(-6 * lam * 0.2), 1.5))


def test_the_mixing_warnings_name_the_cause():
    with pytest.warns(sad.LostDerivativeWarning, match="compared as a whole array before"):
        sad.derivative_samples(lambda lam: (lambda ts: float((ts < 1.0).sum() + (ts[0] < 2.0)))(
            G().exponential(1 / lam, size=3)), 1.5, n_samples=20, rng=0, vectorize=False)
    with pytest.warns(sad.LostDerivativeWarning, match="elements were compared one by one"):
        sad.derivative_samples(lambda lam: (lambda ts: float((ts[0] < 2.0) + (ts < 1.0).sum()))(
            G().exponential(1 / lam, size=3)), 1.5, n_samples=20, rng=0, vectorize=False)
