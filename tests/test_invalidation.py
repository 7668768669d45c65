"""Shared invalidation and pruning: a pruned-away event is dead everywhere it is referenced."""

import numpy as np
from conftest import assert_unbiased

import stochad as sad


def test_shared_invalidation():
    """X1, X2 ~ Bernoulli(p) independent, f = (X1 + X2)·X1 + 3p.

    E[f] = E[X1²] + E[X1]E[X2] + 3p = p + p² + 3p, so d/dp E[f] = 4 + 2p (4.6 at p = 0.3).
    Without shared invalidation, X1's perturbation would survive in the second factor after
    being pruned away in the first, and the estimate would be biased.
    """
    def f(p):
        x1, x2 = sad.bernoulli(p), sad.bernoulli(p)
        return (x1 + x2) * x1 + 3 * p

    assert_unbiased(sad.derivative_samples(f, 0.3, n_samples=200_000, rng=21), 4.6)


def test_sum_of_squares_of_two_draws():
    """E[(X1 + X2)²] with X1, X2 ~ Bernoulli(p): 2p + 2p², derivative 2 + 4p."""
    def f(p):
        return (sad.bernoulli(p) + sad.bernoulli(p)) ** 2

    assert_unbiased(sad.derivative_samples(f, 0.4, n_samples=200_000, rng=22), 2 + 4 * 0.4)


def test_vector_draws_reduce_to_one_perturbation():
    """E[Σ w_i X_i] with X_i ~ Bernoulli(p) i.i.d.: derivative Σ w_i, via np.sum over a vector."""
    w = np.arange(1.0, 11.0)

    def f(p):
        return np.sum(w * sad.bernoulli(p, size=10))

    assert_unbiased(sad.derivative_samples(f, 0.6, n_samples=100_000, rng=23), w.sum())


def test_vector_output_has_one_derivative_per_element():
    """f = [X1, X1·X2, X2²]: derivatives [1, 2p, 1]."""
    def f(p):
        x1, x2 = sad.bernoulli(p), sad.bernoulli(p)
        return np.stack([x1, x1 * x2, x2**2])

    assert_unbiased(sad.derivative_samples(f, 0.25, n_samples=100_000, rng=24), [1, 0.5, 1])


def test_where_follows_both_branches():
    """f = where(N > 2, N², -N) with N ~ Poisson(λ): exact derivative by enumeration."""
    from scipy import stats

    lam = 2.5
    k = np.arange(200)
    g = np.where(k > 2, k**2, -k)
    h = 1e-6
    exact = (np.sum(stats.poisson(lam + h).pmf(k) * g)
             - np.sum(stats.poisson(lam - h).pmf(k) * g)) / (2 * h)

    def f(p):
        n = sad.poisson(p)
        return sad.where(n > 2, n**2, -n)

    assert_unbiased(sad.derivative_samples(f, lam, n_samples=100_000, rng=25), exact)


def test_propagate_black_box():
    """A Python-control-flow black box on a Poisson draw, exact by enumeration."""
    from scipy import stats

    def box(k):
        return 2 * k if k > 3 else k

    lam = 3.0
    k = np.arange(200)
    g = np.array([box(int(v)) for v in k], dtype=float)
    h = 1e-6
    exact = (np.sum(stats.poisson(lam + h).pmf(k) * g)
             - np.sum(stats.poisson(lam - h).pmf(k) * g)) / (2 * h)

    def f(p):
        return sad.propagate(box, sad.poisson(p), vectorized=False)

    assert_unbiased(sad.derivative_samples(f, lam, n_samples=20_000, rng=26), exact)

    def f_vectorized(p):
        return sad.propagate(lambda n: np.where(n > 3, 2 * n, n), sad.poisson(p))

    assert_unbiased(sad.derivative_samples(f_vectorized, lam, n_samples=100_000, rng=27), exact)


def test_continuous_draws_are_reparameterised():
    """E[N(μ, σ)²] = μ² + σ²; E[Exp(s)] = s; E[U(a, b)²] = (a² + ab + b²)/3."""
    assert_unbiased(sad.derivative_samples(lambda m: sad.normal(m, 2.0) ** 2, 1.5,
                                           n_samples=100_000, rng=28), 3.0)
    assert_unbiased(sad.derivative_samples(lambda s: sad.normal(0.0, s) ** 2, 1.5,
                                           n_samples=100_000, rng=29), 3.0)
    assert_unbiased(sad.derivative_samples(lambda s: sad.exponential(s), 2.0,
                                           n_samples=1_000, rng=30), 1.0)
    assert_unbiased(sad.derivative_samples(lambda b: sad.uniform(1.0, b) ** 2, 3.0,
                                           n_samples=100_000, rng=31), (1.0 + 2 * 3.0) / 3)


def test_poisson_with_discrete_and_smooth_rate():
    """N ~ Poisson(λ(p)) with λ = 2p + 5·B, B ~ Bernoulli(p): E[N] = 2p + 5p, derivative 7."""
    def f(p):
        return sad.poisson(2 * p + 5 * sad.bernoulli(p))

    assert_unbiased(sad.derivative_samples(f, 0.4, n_samples=100_000, rng=32), 7.0)


def test_geometric_and_categorical_with_perturbed_parameters():
    """Couplings through closed-form inverses: exact values by enumeration."""
    # G ~ Geometric(0.2 + 0.5·B), B ~ Bernoulli(p): E[G] = p/0.7 + (1-p)/0.2
    exact = 1 / 0.7 - 1 / 0.2
    assert_unbiased(sad.derivative_samples(lambda p: sad.geometric(0.2 + 0.5 * sad.bernoulli(p)),
                                           0.3, n_samples=100_000, rng=33), exact)
    # C ~ Categorical([q, 1 - q]) with q = 0.2 + 0.6·B: E[C] = 1 - (0.2 + 0.6p), derivative -0.6
    def f(p):
        q = 0.2 + 0.6 * sad.bernoulli(p)
        return sad.categorical([q, 1 - q])

    assert_unbiased(sad.derivative_samples(f, 0.5, n_samples=100_000, rng=34), -0.6)


def _queue(lam, steps=30):
    w, total = 0, 0
    for _ in range(steps):
        w = np.maximum(w + sad.poisson(lam) - 1, 0)
        total = total + w
    return total


def _queue_by_dynamic_programming(lam, steps=30, top=200):
    """d/dλ E[Σ w_t] for w_{t+1} = max(w_t + X_t − 1, 0), X_t ~ Poisson(λ): forward-mode DP."""
    from scipy import stats

    k = np.arange(top)
    pmf = stats.poisson(lam).pmf(k)
    dpmf = pmf * (k / lam - 1)
    law, dlaw = np.zeros(top), np.zeros(top)
    law[0] = 1.0
    derivative = 0.0
    for _ in range(steps):
        new, dnew = np.zeros(top), np.zeros(top)
        for w in np.nonzero(law > 1e-300)[0]:
            target = np.minimum(np.maximum(w + k - 1, 0), top - 1)
            np.add.at(new, target, law[w] * pmf)
            np.add.at(dnew, target, dlaw[w] * pmf + law[w] * dpmf)
        law, dlaw = new, dnew
        derivative += np.sum(dlaw * np.arange(top))
    return derivative


def test_unreferenced_events_are_collected_without_bias():
    """np.maximum(·, 0) absorbs jumps, so events go unreferenced; their slots are freed
    (the table stays small) and the estimate is still unbiased."""
    from stochad.context import current_run

    slots = []

    def f(lam):
        total = _queue(lam)
        slots.append(current_run().backend.weights.shape[1])
        return total

    samples = sad.derivative_samples(f, 0.8, n_samples=50_000, rng=35)
    assert max(slots) <= 8
    assert_unbiased(samples, _queue_by_dynamic_programming(0.8))
