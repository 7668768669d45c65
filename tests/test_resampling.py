"""new_weight and differentiable resampling: a particle filter against the Kalman filter."""

import numpy as np
import pytest
from conftest import assert_unbiased
from scipy import stats

import stochad as sad
from stochad.resampling import inverse_cdf, resample

# 1-D linear-Gaussian state-space model: x0 ~ N(M0, S0²), x_t = a·x_{t-1} + N(0, Q²),
# y_t = x_t + N(0, R²), t = 1..T. The parameter is a.
M0, S0, Q, R, T, A = 0.0, 1.0, 0.5, 0.7, 5, 0.8


def _observations():
    g = np.random.default_rng(20240611)
    x, ys = M0 + S0 * g.standard_normal(), []
    for _ in range(T):
        x = A * x + Q * g.standard_normal()
        ys.append(x + R * g.standard_normal())
    return np.array(ys)


YS = _observations()


def kalman_loglik(a):
    """Exact log-likelihood of YS by the Kalman filter (independent of stochad)."""
    m, p, ll = M0, S0**2, 0.0
    for y in YS:
        m, p = a * m, a * a * p + Q * Q
        s = p + R * R
        ll += stats.norm.logpdf(y, m, np.sqrt(s))
        k = p / s
        m, p = m + k * (y - m), (1 - k) * p
    return ll


def kalman_likelihood_and_derivative(a, h=1e-5):
    z = np.exp(kalman_loglik(a))
    return z, z * (kalman_loglik(a + h) - kalman_loglik(a - h)) / (2 * h)


def particle_filter(a, n=32, method="systematic", differentiable=True):
    """Bootstrap particle filter; returns the likelihood estimate Σ W (unbiased for Z)."""
    x = sad.normal(M0, S0, size=n)
    w = np.full(n, 1.0 / n)
    for t, y in enumerate(YS):
        x = sad.normal(a * x, Q)
        w = w * np.exp(-0.5 * ((y - x) / R) ** 2) / (R * np.sqrt(2 * np.pi))
        if t < T - 1:
            if differentiable:
                w, (x,) = resample(w, [x], method=method)
            else:  # stop-gradient resampling: the weights forget how the choice moved
                total = np.sum(w)
                _, (x,) = resample(w, [x], method=method)
                w = total / n * np.ones(n)
    return np.sum(w)


def test_kalman_reference_is_consistent():
    # central differences of the Kalman log-likelihood agree at two step sizes
    z, dz = kalman_likelihood_and_derivative(A)
    _, dz2 = kalman_likelihood_and_derivative(A, h=1e-4)
    assert z > 0 and abs(dz - dz2) < 1e-6 * abs(dz)


def test_particle_filter_likelihood_is_unbiased():
    st = sad.stochastic_triple(particle_filter, A, n_samples=20_000, rng=7)
    assert_unbiased(sad.value(st), kalman_likelihood_and_derivative(A)[0])


@pytest.mark.parametrize("method", ["systematic", "stratified", "multinomial"])
def test_particle_filter_derivative_matches_kalman(method):
    samples = sad.derivative_samples(lambda a: particle_filter(a, method=method), A,
                                     n_samples=20_000, rng=11)
    assert_unbiased(samples, kalman_likelihood_and_derivative(A)[1])


def test_stop_gradient_resampling_is_detectably_biased():
    # the test above has the power to see a missing resampling term
    samples = sad.derivative_samples(lambda a: particle_filter(a, differentiable=False), A,
                                     n_samples=20_000, rng=11)
    stderr = samples.std(ddof=1) / np.sqrt(samples.size)
    assert abs(samples.mean() - kalman_likelihood_and_derivative(A)[1]) > 10 * stderr


def test_new_weight_parts():
    st = sad.stochastic_triple(lambda p: sad.new_weight(p**2), 0.5)
    assert sad.value(st) == 1.0 and sad.delta(st) == pytest.approx(4.0)  # δ(p²)/p² = 2/p
    # a finite perturbation Δp of p gives the jump (p + Δp)/p - 1 on the same event: a
    # Bernoulli(q) drawn 0 moves p = 1/4 to 1/2 (jump 1) with weight 1/(1 - q)
    st = sad.stochastic_triple(lambda q: sad.new_weight((1 + sad.bernoulli(q)) / 4), 0.3,
                               n_samples=200, rng=0)
    assert np.all(sad.value(st) == 1.0)
    [(jump, weight)] = sad.perturbations(st)
    live = weight != 0
    assert 100 < live.sum() < 180
    assert np.allclose(jump[live], 1.0) and np.allclose(weight[live], 1 / 0.7)


def test_new_weight_outside_a_run_and_errors():
    assert sad.new_weight(0.2) == 1.0
    assert sad.new_weight([0.2, 0.5]).tolist() == [1.0, 1.0]
    for bad in (0.0, -0.1, np.nan):
        with pytest.raises(ValueError, match="new_weight"):
            sad.new_weight(bad)
    with pytest.raises(ValueError, match="-0.5"):
        sad.derivative_estimate(lambda p: sad.new_weight(p - 1), 0.5)


def test_resampling_with_discrete_weights_and_particles():
    # Two particles; weights W = [θ + b, 1 - θ/2], values g = [3 + b', 1] with b, b' ~
    # Bernoulli(θ) independent. Resampling keeps E[Σ_k W'_k g_k] = E[Σ_i W_i g_i]
    # = 2θ(3 + θ) + 1 - θ/2, derivative 6 + 4θ - 1/2: dual part, finite parts of the weights
    # (through new_weight) and of the particles (gathered with them) all contribute.
    def f(theta):
        w = np.stack([theta + sad.bernoulli(theta), 1 - theta / 2])
        g = np.stack([3 + sad.bernoulli(theta), 1.0])
        w2, (g2,) = resample(w, [g], n=1, method="multinomial")
        return w2[0] * g2[0]

    theta = 0.3
    samples = sad.derivative_samples(f, theta, n_samples=100_000, rng=3)
    assert_unbiased(samples, 6 + 4 * theta - 0.5)


def test_resample_plain_arrays_and_errors():
    w, (x, y) = resample([1.0, 0.0, 3.0], [np.arange(3.0), np.array([[0, 0], [1, 1], [2, 2]])],
                         n=4, rng=0)
    assert w.tolist() == [1.0] * 4
    assert set(x.tolist()) <= {0.0, 2.0} and y.shape == (4, 2)
    with pytest.raises(ValueError, match="-1.0"):
        resample([1.0, -1.0], [np.zeros(2)], rng=0)
    with pytest.raises(ValueError, match="all particle weights are zero"):
        resample([0.0, 0.0], [np.zeros(2)], rng=0)
    with pytest.raises(ValueError, match="unknown resampling method"):
        resample([1.0, 1.0], [np.zeros(2)], method="residual", rng=0)
    with pytest.raises(ValueError, match="one-dimensional"):
        resample(np.ones((2, 2)), [np.zeros(2)], rng=0)
    with pytest.raises(ValueError, match="n must be a positive integer"):
        resample([1.0, 1.0], [np.zeros(2)], n=0, rng=0)


def test_inverse_cdf_kernel_matches_plain_python_and_searchsorted():
    g = np.random.default_rng(5)
    weights = g.random((50, 7)) * (g.random((50, 7)) < 0.6)
    weights[:, 0] += 1e-3 * (weights.sum(axis=1) == 0)
    uniforms = np.sort(g.random((50, 9)), axis=1)
    uniforms[0, -1] = np.nextafter(1.0, 0.0)  # the largest uniform never picks beyond the last
    jitted = inverse_cdf(weights, uniforms)
    plain = getattr(inverse_cdf, "py_func", inverse_cdf)  # NUMBA_DISABLE_JIT=1: a function
    assert np.array_equal(jitted, plain(weights, uniforms))
    for lane in range(50):
        cdf = np.cumsum(weights[lane]) / weights[lane].sum()
        expected = np.minimum(np.searchsorted(cdf, uniforms[lane], side="right"), 6)
        positive = np.flatnonzero(weights[lane] > 0)
        expected = np.minimum(expected, positive[-1])
        assert np.array_equal(jitted[lane], expected)
        assert np.all(weights[lane, jitted[lane]] > 0)
