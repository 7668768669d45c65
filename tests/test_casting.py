"""``astype`` and numpy's ``dtype=`` arguments on stochastic triples."""

import numpy as np
import pytest
from conftest import assert_unbiased
from scipy import stats

import stochad as sad

N = 100_000


def test_a_float_cast_passes_the_dual_part():
    """Deterministic: d/dp (2.5 p) cast to float32 is 2.5, exactly."""
    st = sad.stochastic_triple(lambda p: (2.5 * p).astype(np.float32), 1.2)
    assert sad.value(st).dtype == np.float32
    assert sad.delta(st) == 2.5


def test_an_integer_cast_truncates_with_exact_jumps():
    """E[int(K / 2)] for K ~ Poisson(λ): d/dλ = Σ_k int(k/2)·(pmf(k-1) - pmf(k)), by scipy."""
    lam = 3.0
    k = np.arange(200)
    exact = np.sum((k // 2) * (stats.poisson.pmf(k - 1, lam) - stats.poisson.pmf(k, lam)))
    samples = sad.derivative_samples(lambda p: (sad.poisson(p) / 2).astype(np.int64), lam,
                                     n_samples=N, rng=1)
    assert_unbiased(samples, exact)
    st = sad.stochastic_triple(lambda p: (sad.poisson(p) / 2).astype(int), lam)
    assert sad.value(st).dtype.kind == "i" and sad.delta(st) == 0


def test_a_bool_cast_is_a_comparison_with_zero():
    """P(K > 0) = 1 - e^{-λ}: d/dλ = e^{-λ}."""
    lam = 0.7
    samples = sad.derivative_samples(
        lambda p: sad.poisson(p).astype(bool).astype(float), lam, n_samples=N, rng=2)
    assert_unbiased(samples, np.exp(-lam))


@pytest.mark.parametrize("reduce", [
    lambda x: np.sum(x, dtype=np.float32),
    lambda x: x.sum(dtype=np.float32),
    lambda x: np.mean(x, dtype=np.float32) * 3,
    lambda x: np.cumsum(x, dtype=np.float32)[-1],
    lambda x: np.stack([x, x], dtype=np.float32).sum() / 2,
    lambda x: np.clip(x, 0, 1, dtype=np.float32).sum(),
])
def test_reductions_honour_dtype(reduce):
    """Three Bernoulli(p): E[sum] = 3p, d/dp = 3; the result has the dtype asked for."""
    st = sad.stochastic_triple(lambda p: reduce(sad.bernoulli(p, size=3)), 0.3, n_samples=4)
    assert sad.value(st).dtype == np.float32
    samples = sad.derivative_samples(lambda p: reduce(sad.bernoulli(p, size=3)), 0.3,
                                     n_samples=N, rng=3)
    assert_unbiased(samples, 3.0)


def test_casting_errors():
    def to_complex(p):
        return sad.bernoulli(p).astype(complex)

    with pytest.raises(TypeError, match="cannot be cast to complex128"):
        sad.derivative_estimate(to_complex, 0.3, rng=0)

    def unsafe_stack(p):
        return np.stack([sad.normal(p, 1.0)], dtype=np.int64)

    with pytest.raises(TypeError, match="cannot cast float64 to int64 with casting='same_kind'"):
        sad.derivative_estimate(unsafe_stack, 0.3, rng=0)

    def clip_where(p):
        return np.clip(sad.normal(p, 1.0), 0, 1, where=[True])

    with pytest.raises(TypeError, match="where"):
        sad.derivative_estimate(clip_where, 0.3, rng=0)
