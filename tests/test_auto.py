"""Automatic backend choice (issue 14): a pilot picks by time × variance, then is discarded."""

import numpy as np
import pytest
from conftest import assert_unbiased

import stochad as sad
from bench.problems import PROBLEMS
from stochad import auto


@pytest.mark.parametrize("name", ["lindley-queue", "galton-watson", "two-bernoullis"])
def test_auto_is_unbiased(name):
    problem = PROBLEMS[name]
    samples = sad.derivative_samples(problem.program, problem.param, n_samples=20_000, rng=4,
                                     backend="auto")
    assert_unbiased(samples, problem.exact)


def test_choice_records_every_candidate():
    problem = PROBLEMS["galton-watson"]
    choice = sad.choose_backend(problem.program, problem.param, n_samples=20_000, rng=1)
    assert isinstance(choice, sad.BackendChoice)
    assert choice.backend in auto.CANDIDATES
    assert choice.n_pilot == 400
    assert sorted(choice.figures) == sorted(auto.CANDIDATES)
    for figure in choice.figures.values():
        assert figure["seconds_per_sample"] > 0
        assert figure["time_x_variance"] == pytest.approx(
            figure["seconds_per_sample"] * figure["variance"])
    best = min(f["time_x_variance"] for f in choice.figures.values())
    assert choice.figures[choice.backend]["time_x_variance"] == best


def test_the_pilot_samples_are_discarded(monkeypatch):
    """backend="auto" gives the chosen backend's samples from the generator advanced past the
    pilot (the choice is forced here, as real timings vary)."""
    def forced(f, p, d, n_pilot, generator, vectorize=True, chunk_size=None):
        generator.random(n_pilot)  # what a pilot consumes does not matter, only that it does
        return auto.BackendChoice("exact", n_pilot)

    monkeypatch.setattr(auto, "pilot", forced)
    f = PROBLEMS["two-bernoullis"].program
    got = sad.derivative_samples(f, 0.1, n_samples=5000, rng=3, backend="auto")
    generator = np.random.default_rng(3)
    generator.random(auto.pilot_size(5000))
    np.testing.assert_array_equal(
        got, sad.derivative_samples(f, 0.1, n_samples=5000, rng=generator, backend="exact"))


def test_classical_estimators_run_no_pilot(monkeypatch):
    monkeypatch.setattr(auto, "pilot", None)  # would fail if called
    f = PROBLEMS["two-bernoullis"].program
    a = sad.derivative_samples(f, 0.1, n_samples=100, rng=1, backend="auto", estimator="score")
    b = sad.derivative_samples(f, 0.1, n_samples=100, rng=1, estimator="score")
    np.testing.assert_array_equal(a, b)


def test_auto_with_an_array_parameter_and_the_combined_estimator():
    def f(q):
        return sad.poisson(q[0]) ** 2 + 3 * sad.bernoulli(q[1])

    samples = sad.derivative_samples(f, [2.0, 0.4], n_samples=20_000, rng=6, backend="auto",
                                     estimator="combined")
    assert_unbiased(samples, [1 + 2 * 2.0, 3.0])
