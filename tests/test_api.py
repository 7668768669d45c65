"""The public interface: accessors, shapes, lanes, chunking and per-sample control flow."""

import numpy as np
import pytest
from conftest import assert_unbiased

import stochad as sad
from stochad.context import current_run


def test_accessors_single_lane():
    st = sad.stochastic_triple(lambda p: 2 * p + sad.poisson(p), 3.0, rng=0)
    k = sad.value(st) - 6.0
    assert k == int(k) and k >= 0
    assert sad.delta(st) == 2.0
    ((jump, weight),) = sad.perturbations(st)
    assert (jump, weight) == (1.0, 1.0)
    assert sad.derivative_contribution(st) == 3.0


def test_accessors_many_lanes_and_vector_shape():
    st = sad.stochastic_triple(lambda p: p * np.array([1.0, 2.0]) + sad.bernoulli(p, size=2),
                               0.5, n_samples=7, rng=0)
    assert st.shape == (2,) and st.n_lanes == 7
    assert sad.value(st).shape == (7, 2)
    np.testing.assert_array_equal(sad.delta(st), np.tile([1.0, 2.0], (7, 1)))
    contribution = sad.derivative_contribution(st)
    k = sad.value(st) - 0.5 * np.array([1.0, 2.0])
    np.testing.assert_allclose(contribution, [1.0, 2.0] + np.where(k == 0, 2.0, 0.0))


def test_accessors_on_plain_numbers():
    assert sad.value(3.0) == 3.0
    assert sad.delta(3.0) == 0.0
    assert sad.perturbations(3.0) == []
    assert sad.derivative_contribution(np.ones(2)).tolist() == [0.0, 0.0]


def test_lanes_are_invisible_to_the_program():
    shapes = []

    def f(p):
        x = sad.bernoulli(p)
        v = x * np.array([1.0, 0.0])
        shapes.append((x.shape, v.shape, np.shape(v), len(v), np.ndim(v)))
        return v.sum()

    sad.derivative_samples(f, 0.5, n_samples=100, rng=0)
    assert shapes == [((), (2,), (2,), 2, 1)]


def test_samples_shapes():
    assert sad.derivative_samples(sad.poisson, 2.0, n_samples=5, rng=0).shape == (5,)
    vec = sad.derivative_samples(lambda p: sad.poisson(p, size=3), 2.0, n_samples=5, rng=0)
    assert vec.shape == (5, 3)
    grad = sad.derivative_samples(lambda p: sad.poisson(p[0]) * p[1], np.array([2.0, 3.0]),
                                  n_samples=5, rng=0)
    assert grad.shape == (5, 2)
    jac = sad.derivative_samples(lambda p: p * 2.0, np.ones((2, 2)), n_samples=3, rng=0)
    assert jac.shape == (3, 2, 2, 2, 2)
    np.testing.assert_array_equal(jac[0], 2.0 * np.eye(4).reshape(2, 2, 2, 2))
    both = sad.derivative_samples(lambda p: [p, 2 * p], 1.0, n_samples=4, rng=0)
    assert both.shape == (4, 2) and np.all(both == [1.0, 2.0])


def test_gradient_and_direction_are_unbiased():
    """E[bernoulli(p0)·poisson(p1)] = p0·p1: gradient (p1, p0)."""
    def f(p):
        return sad.bernoulli(p[0]) * sad.poisson(p[1])

    p = np.array([0.3, 2.0])
    assert_unbiased(sad.derivative_samples(f, p, n_samples=100_000, rng=1), [2.0, 0.3])
    assert_unbiased(sad.derivative_samples(f, p, n_samples=100_000, rng=2,
                                           direction=np.array([1.0, -2.0])), 2.0 - 0.6)


def test_huge_sample_counts_run_in_bounded_chunks():
    lanes = []

    def f(p):
        lanes.append(current_run().n_lanes)
        return sad.bernoulli(p)

    samples = sad.derivative_samples(f, 0.5, n_samples=150_000, rng=0)
    assert samples.shape == (150_000,)
    assert lanes == [50_000] * 3  # as few chunks as 65,536 lanes allow, of equal size
    assert_unbiased(samples, 1.0)
    lanes.clear()
    sad.derivative_samples(f, 0.5, n_samples=1000, rng=0, chunk_size=100)
    assert lanes == [100] * 10
    lanes.clear()
    sad.derivative_samples(f, 0.5, n_samples=1001, rng=0, chunk_size=100)
    assert lanes == [91] * 11


def test_per_sample_control_flow_on_primal_values():
    """A loop whose length is random: count Bernoulli trials until the second success.

    The count is a sum of two Geometric(p) draws: E = 2/p, derivative -2/p². With
    vectorize=False the Python ``while`` sees one sample at a time; no comparison in the loop
    condition can flip (each draw's own perturbation only moves the result, via propagate).
    """
    def f(p):
        total = 0
        for _ in range(2):
            total = total + sad.geometric(p)
        return total if total >= 2 else -1.0  # always true, on every path

    assert_unbiased(sad.derivative_samples(f, 0.4, n_samples=5_000, rng=3, vectorize=False),
                    -2 / 0.4**2)


def test_plain_draws_outside_a_run_behave_like_numpy():
    a = sad.poisson(3.0, size=5, rng=0)
    assert a.shape == (5,) and a.dtype == np.int64
    assert isinstance(sad.bernoulli(0.5, rng=1), int | np.integer)
    assert sad.normal(0.0, 1.0, size=(2, 3), rng=0).shape == (2, 3)
    np.testing.assert_array_equal(sad.binomial(10, 0.5, size=4, rng=7),
                                  np.random.default_rng(7).binomial(10, 0.5, size=4))
    counts = np.bincount(sad.categorical([0.2, 0.5, 0.3], size=100_000, rng=2), minlength=3)
    np.testing.assert_allclose(counts / 100_000, [0.2, 0.5, 0.3], atol=0.01)


def test_triple_methods():
    def f(p):
        v = sad.bernoulli(p, size=(2, 3)) + p
        assert v.T.shape == (3, 2) and v.reshape(6).shape == (6,) and v[1].shape == (3,)
        assert [row.shape for row in v] == [(3,), (3,)]
        return v.sum() + v.mean(axis=0).prod() + np.max(v) + np.min(v, axis=1).sum()

    assert np.isfinite(sad.derivative_estimate(f, 0.5, n_samples=50, rng=0))
    with pytest.raises(TypeError, match="len"):
        sad.derivative_estimate(lambda p: len(p), 0.5)
