"""numpy's shape functions, differences and variances on triples: np.squeeze, expand_dims,
broadcast_to, concatenate, diff, var, std, and the methods min, max, var, std, squeeze, ravel,
flatten and copy."""

import numpy as np
import pytest
from conftest import assert_unbiased

import stochad as sad

A = np.array([[1.0, 4.0, 2.0], [3.0, 0.5, 7.0]])

# (program of p, its derivative at p = 2 from the program's closed form)
DETERMINISTIC = {
    "squeeze": (lambda p: np.squeeze(p * A[None, :, None, :]), A),
    "squeeze axis": (lambda p: np.squeeze(p * A[None], axis=0), A),
    "squeeze method": (lambda p: (p * A[:, None]).squeeze(1), A),
    "expand_dims": (lambda p: np.expand_dims(p * A, (0, 2)), np.expand_dims(A, (0, 2))),
    "broadcast_to": (lambda p: np.broadcast_to(p * A[0], (4, 3)),
                     np.broadcast_to(A[0], (4, 3))),
    "concatenate": (lambda p: np.concatenate([p * A, A ** 2, p * p * A[:1]]),
                    np.concatenate([A, 0 * A, 4.0 * A[:1]])),
    "concatenate axis 1": (lambda p: np.concatenate([p * A, A[:, :1]], axis=-1),
                           np.concatenate([A, 0 * A[:, :1]], axis=1)),
    "diff": (lambda p: np.diff(p * p * A), np.diff(4.0 * A)),
    "diff n=2 axis 0": (lambda p: np.diff(p ** 3 * np.vstack([A, 2 * A]), n=2, axis=0),
                        np.diff(12.0 * np.vstack([A, 2 * A]), n=2, axis=0)),
    "var": (lambda p: np.var(p * A, axis=1, ddof=1), 2 * 2.0 * np.var(A, axis=1, ddof=1)),
    "var keepdims": (lambda p: np.var(p * A, axis=0, keepdims=True),
                     2 * 2.0 * np.var(A, axis=0, keepdims=True)),
    "std": (lambda p: np.std(p * A), np.std(A)),
    "var method": (lambda p: (p * A).var(), 2 * 2.0 * np.var(A)),
    "std method": (lambda p: (p * A).std(axis=0, ddof=1), np.std(A, axis=0, ddof=1)),
    "min method": (lambda p: (p * A).min(axis=0), A.min(axis=0)),
    "max method": (lambda p: (-p * A).max(), -A.min()),
    "ravel": (lambda p: (p * A).ravel(), A.ravel()),
    "flatten": (lambda p: (p * A).flatten(), A.ravel()),
    "copy": (lambda p: (p * A).copy(), A),
}


@pytest.mark.parametrize("name", list(DETERMINISTIC))
def test_deterministic_programs_have_the_analytic_derivative(name):
    f, derivative = DETERMINISTIC[name]
    got = sad.derivative_estimate(f, 2.0, n_samples=3, rng=0)
    assert np.shape(got) == np.shape(derivative)
    np.testing.assert_allclose(got, derivative, rtol=0, atol=1e-12)
    np.testing.assert_allclose(sad.value(sad.stochastic_triple(f, 2.0)), f(2.0), atol=1e-12)


def test_squared_differences_of_poisson_draws(backend):
    """X1..X3 iid Poisson(λ), then a 0: E[Σ diff²] = 2λ + 2λ + (λ + λ²), derivative 5 + 2λ."""
    def f(lam):
        x = np.concatenate([sad.poisson(lam, size=3), [0.0]])
        return np.sum(np.diff(x) ** 2)

    samples = sad.derivative_samples(f, 1.5, n_samples=100_000, rng=4, backend=backend)
    assert_unbiased(samples, 5 + 2 * 1.5)


def test_variance_of_bernoulli_draws(backend):
    """n iid Bernoulli(p): E[var(X)] = (n − 1)/n · p(1 − p) with ddof = 0, and the unbiased
    sample variance (ddof = 1) has mean p(1 − p): derivatives (n − 1)/n · (1 − 2p), 1 − 2p."""
    n, p = 5, 0.3
    for ddof, scale in ((0, (n - 1) / n), (1, 1.0)):
        samples = sad.derivative_samples(lambda q, d=ddof: np.var(sad.bernoulli(q, size=n), ddof=d),
                                         p, n_samples=100_000, rng=5, backend=backend)
        assert_unbiased(samples, scale * (1 - 2 * p))


def test_errors_follow_numpy():
    def run(f):
        return sad.stochastic_triple(f, 0.5)

    with pytest.raises(ValueError, match="size not equal to one"):
        run(lambda p: np.squeeze(p * A, axis=0))
    with pytest.raises(ValueError, match="same number of dimensions"):
        run(lambda p: np.concatenate([p * A, A[0]]))
    with pytest.raises(ValueError):
        run(lambda p: np.broadcast_to(p * A, (3, 3)))
    with pytest.raises((ValueError, IndexError)):  # numpy's AxisError is both
        run(lambda p: np.diff(p * A, axis=2))
    with pytest.raises((ValueError, IndexError)):  # numpy's AxisError is both
        run(lambda p: np.concatenate([p * A, A], axis=2))
