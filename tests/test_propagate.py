"""sad.propagate on black boxes: elements mixed, reduced, per sample, elementwise.

A test marked ``# BUG:`` failed before its fix and stays as a regression test; ``# EDGE:``
covers an edge case no other test covers.
"""

import numpy as np
import pytest
from conftest import assert_unbiased, central_difference, samples_of
from scipy import stats

import stochad as sad


# BUG: sad.propagate(lambda v: np.cumsum(v, axis=-1), sad.bernoulli(t, size=3)), summed, has
# d/dt = 6 (E = 3t + 2t + t); stochad gives ≈ 5.1 with both backends (|z| > 79). propagate
# pairs output element i with the perturbations of input element i only, so any black box
# that mixes elements (cumsum, sort, fft, which the "not supported" error itself points to
# propagate for) is silently biased; the docstring says f "may use any Python or numpy code".
# Fixed: the pruned backend reconciles all elements to one path per sample first; the exact
# backend, which follows each element's events separately, raises instead of guessing.
def test_propagate_black_box_that_mixes_elements(backend):
    def f(t):
        return np.sum(sad.propagate(lambda v: np.cumsum(v, axis=-1), sad.bernoulli(t, size=3)))

    if backend != "pruned":  # exact, kpaths: one path per event, not per sample
        with pytest.raises(ValueError, match="elementwise=True"):
            samples_of(f, 0.3, n=100, backend=backend)
        return
    assert_unbiased(samples_of(f, 0.3, n=50_000, backend=backend), 6.0)


# BUG: the numpy.fft error message recommends sad.propagate; doing so,
# propagate(lambda v: np.real(np.fft.fft(v, axis=-1)), bernoulli(t, size=4))[0] (= Σv) has
# d/dt = 4 but stochad gives ≈ 3.1.
def test_propagate_fft_as_the_error_message_suggests():
    def f(t):
        return sad.propagate(lambda v: np.real(np.fft.fft(v, axis=-1)),
                             sad.bernoulli(t, size=4))[0]

    assert_unbiased(samples_of(f, 0.3, n=50_000), 4.0)


# BUG: sad.propagate(lambda v: np.max(v, axis=-1), sad.bernoulli(t, size=3)) (a black box that
# reduces) raises numpy's "input operand has more dimensions than allowed by the axis
# remapping"; expected d/dt P(any) = 3(1 − t)² = 1.47. Likewise a black box that adds an axis
# (k[..., None] * [1, 2]) raises a broadcasting error.
@pytest.mark.parametrize("vectorized", [True, False])
def test_propagate_black_box_that_reduces(backend, vectorized):
    box = (lambda v: np.max(v, axis=-1)) if vectorized else (lambda v: np.max(v))

    def f(t):
        return sad.propagate(box, sad.bernoulli(t, size=3), vectorized=vectorized)

    if backend != "pruned":  # fixed as above: the exact backend raises, naming elementwise=True
        with pytest.raises(ValueError, match="elementwise=True"):
            samples_of(f, 0.3, n=100, backend=backend)
        return
    assert_unbiased(samples_of(f, 0.3, n=50_000, backend=backend), 3 * 0.7**2)


# BUG: propagate(lambda v, k: float(np.sum(v)) * k, bernoulli(t, size=2), poisson(1 + t),
# vectorized=False) returns logical shape (2,), not (): the per-sample call broadcasts the scalar
# k to v's shape, so f gets k = [k, k]; expected a scalar with d/dt E = d/dt 2t(1 + t) = 3.2.
def test_propagate_per_sample_with_a_vector_and_a_scalar_argument():
    def f(t):
        return sad.propagate(lambda v, k: float(np.sum(v)) * k, sad.bernoulli(t, size=2),
                             sad.poisson(1.0 + t), vectorized=False)

    st = sad.stochastic_triple(f, 0.3, n_samples=3, rng=0)
    assert st.shape == ()
    assert_unbiased(samples_of(f, 0.3, n=5_000), 3.2)


# EDGE: elementwise black boxes: two arguments from different events (per sample, with Python
# control flow), and a boolean result. E[a·c²] = t(3t(1 − t) + 9t²), a ~ Poisson(t),
# c ~ Binomial(3, t); P(Poisson(3t) ≥ 2) has derivative 3·pmf(1; 3t).
def test_propagate_elementwise_black_boxes(backend):
    def two(t):
        return sad.propagate(lambda a, c: a * c**2 if a > 0 else 0, sad.poisson(t),
                             sad.binomial(3, t), vectorized=False)

    exact = central_difference(lambda t: t * (3 * t * (1 - t) + 9 * t * t), 0.3)
    assert_unbiased(samples_of(two, 0.3, n=20_000, backend=backend), exact)

    def flag(t):
        return 1.0 * sad.propagate(lambda k: k >= 2, sad.poisson(3 * t))

    assert_unbiased(samples_of(flag, 0.3, n=50_000, backend=backend),
                    3 * stats.poisson.pmf(1, 0.9))
