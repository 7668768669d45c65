"""sad.estimate: a result with the estimate, its standard error and how it was made."""

import numpy as np
import pytest
from conftest import assert_unbiased

import stochad as sad


def f(p):
    return (sad.poisson(p) + 1) ** 2  # d/dλ E[(K + 1)²] = 2λ + 3 = 9 at λ = 3


def test_estimate_reports_the_samples_mean_and_standard_error():
    samples = sad.derivative_samples(f, 3.0, n_samples=20_000, rng=3)
    result = sad.estimate(f, 3.0, n_samples=20_000, rng=3)
    assert result.df == pytest.approx(samples.mean(), rel=1e-12)
    assert result.sd == pytest.approx(samples.std(ddof=1), rel=1e-12)
    assert result.error == pytest.approx(samples.std(ddof=1) / np.sqrt(20_000), rel=1e-12)
    assert (result.n_samples, result.estimator, result.backend) == (20_000, "triple", "pruned")
    assert abs(result.df - 9.0) < 5 * result.error


def test_estimate_streams_chunks_to_the_same_statistics():
    samples = sad.derivative_samples(f, 3.0, n_samples=10_000, rng=8, chunk_size=1_000)
    result = sad.estimate(f, 3.0, n_samples=10_000, rng=8, chunk_size=1_000)
    assert result.df == pytest.approx(samples.mean(), rel=1e-12)
    assert result.sd == pytest.approx(samples.std(ddof=1), rel=1e-10)


def test_derivative_estimate_is_the_estimate_df():
    assert sad.derivative_estimate(f, 3.0, n_samples=5_000, rng=1, chunk_size=1_000) == \
        pytest.approx(sad.estimate(f, 3.0, n_samples=5_000, rng=1, chunk_size=1_000).df,
                      rel=1e-12)


def test_repr_shows_value_plus_minus_error():
    result = sad.estimate(f, 3.0, n_samples=20_000, rng=3)
    text = repr(result)
    value, error = text.split(" ± ")
    assert float(value) == pytest.approx(result.df, abs=float(error))
    assert 0 < float(error) < 1


def test_heavy_tailed_samples_are_flagged():
    # derivative samples 1/U (U uniform): finite mean 1/U·p... infinite variance, a few
    # samples carry most of it
    heavy = sad.estimate(lambda p: p / sad.uniform(0.0, 1.0), 1.0, n_samples=10_000, rng=0)
    assert heavy.heavy_tailed and heavy.tail_share > 0.25
    assert "heavy-tailed" in repr(heavy)
    light = sad.estimate(f, 3.0, n_samples=10_000, rng=0)
    assert not light.heavy_tailed and light.tail_share < 0.05


def test_gradient_results_have_the_parameters_shape():
    result = sad.estimate(lambda q: sad.poisson(q[0]) * q[1], [2.0, 3.0], n_samples=20_000,
                          rng=0)
    assert result.df.shape == result.error.shape == (2,)
    assert_unbiased(sad.derivative_samples(lambda q: sad.poisson(q[0]) * q[1], [2.0, 3.0],
                                           n_samples=20_000, rng=0), [3.0, 2.0])


def test_estimate_of_a_deterministic_program_has_zero_error():
    result = sad.estimate(lambda p: p ** 3, 2.0, n_samples=100, rng=0)
    assert result.df == pytest.approx(12.0, abs=1e-12)
    assert result.error == 0.0
    assert repr(result) == "12 ± 0"


def test_auto_records_its_choice_in_the_result():
    # a pilot picks the backend; the result names it and keeps the pilot's figures
    result = sad.estimate(f, 3.0, n_samples=5_000, rng=0, backend="auto")
    assert result.backend in ("pruned", "kpaths", "exact")
    assert result.backend_choice.backend == result.backend
    assert result.backend_choice.estimator == result.estimator
    # every candidate has figures, or is named as skipped over the pilot's budget
    choice = result.backend_choice
    assert set(choice.figures) | set(choice.skipped) == {"pruned", "kpaths", "exact", "combined"}
    assert "pruned" in choice.figures
    assert abs(result.df - 9.0) < 5 * result.error
