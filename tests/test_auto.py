"""Automatic backend choice (issue 14): a pilot picks by time × variance, then is discarded."""

import time

import numpy as np
import pytest
from conftest import assert_unbiased

import stochad as sad
from bench.natural import PROGRAMS as NATURAL
from bench.problems import PROBLEMS
from stochad import api, auto


@pytest.mark.parametrize("name", ["lindley-queue", "galton-watson", "two-bernoullis"])
def test_auto_is_unbiased(name):
    problem = PROBLEMS[name]
    samples = sad.derivative_samples(problem.program, problem.param, n_samples=20_000, rng=4,
                                     backend="auto")
    assert_unbiased(samples, problem.exact)


def test_choice_records_every_candidate():
    problem = PROBLEMS["galton-watson"]
    # an estimate long enough that the pilot's budget covers every candidate
    choice = sad.choose_backend(problem.program, problem.param, n_samples=10**7, rng=1)
    assert isinstance(choice, sad.BackendChoice)
    assert choice.n_pilot == auto.pilot_size(10**7) and choice.skipped == {}
    assert sorted(choice.figures) == ["combined", "exact", "kpaths", "pruned"]
    for label, figure in choice.figures.items():
        assert (figure["estimator"], figure["backend"]) == auto.CANDIDATES["triple"][label]
        assert figure["seconds_per_sample"] > 0
        assert figure["time_x_variance"] == pytest.approx(
            figure["seconds_per_sample"] * figure["variance"])
    best = min(choice.figures.values(), key=lambda f: f["time_x_variance"])
    assert (choice.estimator, choice.backend) == (best["estimator"], best["backend"])


def test_the_pilot_times_the_engine_that_runs(monkeypatch):
    """The pruned candidate is timed through the compiled engine (a recordable program), one
    sample per call through replay: the same path as the estimate."""
    seen = []
    real = api._triple_samples

    def spy(f, p, d, lanes, generator, backend, vectorize, compile=True, **options):
        seen.append((backend, vectorize, compile))
        return real(f, p, d, lanes, generator, backend, vectorize, compile, **options)

    monkeypatch.setattr(api, "_triple_samples", spy)
    f = PROBLEMS["two-bernoullis"].program
    sad.choose_backend(f, 0.1, n_samples=5_000, rng=0, vectorize=False)
    assert ("pruned", False, True) in seen
    seen.clear()
    sad.choose_backend(f, 0.1, n_samples=5_000, rng=0, compile=False)
    assert ("pruned", True, False) in seen


def test_fixed_cost_is_charged_once_per_task():
    # 2 ms per run and 1 µs per sample: runs of 65,536 samples pay about 1.03 µs a sample
    small, large = 2e-3 + auto.WARM_UP * 1e-6, 2e-3 + 400e-6
    assert auto.seconds_per_sample(small, large, 400, 65_536) == pytest.approx(
        1e-6 + 2e-3 / 65_536)
    # timing noise: a larger run that took less time has no cost per sample, only a fixed one
    # (the line through them has a negative slope and a fixed cost above 5 ms)
    assert auto.seconds_per_sample(5e-3, 1e-3, 400, 1000) == pytest.approx(5.0816e-6, rel=1e-4)


def test_a_won_combined_estimator_is_reported(monkeypatch):
    def forced(runners, n_pilot, generator, task_size, n_samples):
        assert set(runners) == {"pruned", "kpaths", "exact", "combined"}
        return auto.BackendChoice("pruned", n_pilot, {}, "combined")

    monkeypatch.setattr(auto, "pilot", forced)
    f = PROBLEMS["two-bernoullis"].program
    result = sad.estimate(f, 0.1, n_samples=4_000, rng=2, backend="auto")
    assert (result.estimator, result.backend) == ("combined", "pruned")
    generator = np.random.default_rng(2)
    expected = sad.derivative_samples(f, 0.1, n_samples=4_000, rng=generator,
                                      estimator="combined")
    assert result.df == pytest.approx(expected.mean(), rel=1e-12)


def test_the_pilot_samples_are_discarded(monkeypatch):
    """backend="auto" gives the chosen backend's samples from the generator advanced past the
    pilot (the choice is forced here, as real timings vary)."""
    def forced(runners, n_pilot, generator, task_size, n_samples):
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


def test_only_contenders_run_the_full_pilot():
    def sampler(sd):
        return lambda n, generator: sd * generator.standard_normal(n)

    runners = {"quiet": ("triple", "pruned", sampler(1.0)),
               "noisy": ("triple", "exact", sampler(1000.0))}
    choice = auto.pilot(runners, 1000, np.random.default_rng(0), lambda backend: 1000)
    assert (choice.estimator, choice.backend, choice.n_pilot) == ("triple", "pruned", 1000)
    assert choice.figures["quiet"]["n"] == 1000
    assert choice.figures["noisy"]["n"] < 1000  # 10^6 times the variance: no contender


def test_candidates_over_the_pilots_budget_are_skipped():
    """After the first candidate, the pilot spends at most BUDGET of the estimate it chooses
    for: a candidate whose runs take longer is skipped and named, not timed."""
    def sampler(seconds):
        def run(n, generator):
            end = time.perf_counter() + seconds
            while time.perf_counter() < end:
                pass
            return generator.standard_normal(n)
        return run

    runners = {"cheap": ("triple", "pruned", sampler(1e-4)),
               "dear": ("triple", "exact", sampler(0.05)),
               "after": ("combined", "pruned", sampler(1e-4))}
    # the cheap candidate costs about 0.1 ms a run, whatever its size: an estimate of 1,000
    # samples in tasks of 1,000 takes ~0.1 ms, a budget of ~0.05 ms, which one run of the dear
    # candidate exceeds
    start = time.perf_counter()
    choice = auto.pilot(runners, 200, np.random.default_rng(0), lambda backend: 1000, 1000)
    assert time.perf_counter() - start < 0.5
    assert "dear" in choice.skipped and "budget" in choice.skipped["dear"]
    assert set(choice.figures) == {"cheap"} | ({"after"} - set(choice.skipped))
    assert choice.backend == "pruned"
    # with no estimate size (or a long one) nothing is skipped
    choice = auto.pilot(runners, 200, np.random.default_rng(0), lambda backend: 1000)
    assert choice.skipped == {} and set(choice.figures) == set(runners)


@pytest.mark.parametrize("n_samples", [5_200, 25_200])
def test_a_contender_a_few_samples_short_of_the_pilot_is_not_topped_up(n_samples):
    """The pilot's first stage ends at 100 or 500 samples; a top-up of fewer than 8 samples
    would be too few for the combined estimator's two halves."""
    problem = PROBLEMS["lindley-queue"]
    for estimator in ("triple", "combined"):
        result = sad.estimate(problem.program, problem.param, n_samples=n_samples, rng=0,
                              backend="auto", estimator=estimator)
        assert abs(result.df - problem.exact) < 5 * result.error


def test_the_budget_counts_a_run_of_fewer_samples_than_a_task_once():
    # 1 ms per run and 1 µs per sample; 2,000 samples of tasks of 65,536: 3 ms, not 2 ms
    assert auto.estimate_seconds(1e-3 + 8e-6, 1e-3 + 400e-6, 400, 65_536, 2_000) \
        == pytest.approx(3e-3)
    assert auto.estimate_seconds(1e-3 + 8e-6, 1e-3 + 400e-6, 400, 1_000, 2_000) \
        == pytest.approx(4e-3)


def test_a_doomed_combined_call_raises_before_its_pilot(monkeypatch):
    monkeypatch.setattr(auto, "pilot", None)  # would fail if called
    with pytest.raises(ValueError, match="n_samples >= 8"):
        sad.derivative_samples(PROBLEMS["two-bernoullis"].program, 0.1, n_samples=5,
                               backend="auto", estimator="combined")


def test_the_real_pilot_advances_the_generator_by_one_draw():
    f = PROBLEMS["two-bernoullis"].program
    result = sad.estimate(f, 0.1, n_samples=3_000, rng=5, backend="auto")
    generator = np.random.default_rng(5)
    generator.integers(2**63)
    again = sad.estimate(f, 0.1, n_samples=3_000, rng=generator, backend=result.backend,
                         estimator=result.estimator)
    assert again.df == result.df and again.sd == result.sd


def test_one_sample_per_call_pilots_the_replay_backends():
    """With vectorize=False the candidates are what replay runs, so a program that branches on
    its draws (the natural Reed-Frost epidemic, with its break) gets a pilot and an estimate."""
    program = NATURAL["reed_frost"]
    result = sad.estimate(lambda t: program.prog(t, sad.Generator()), program.theta0,
                          n_samples=3_000, rng=2, vectorize=False, backend="auto")
    choice = result.backend_choice
    assert set(choice.figures) | set(choice.skipped) == {"pruned", "kpaths", "exact"}
    assert abs(result.df - program.exact_derivative(program.theta0)) < 5 * result.error


@pytest.mark.parametrize("n_samples, chunk_size", [(5, None), (1_000, 6)])
def test_combined_is_no_candidate_for_tasks_too_small_for_it(n_samples, chunk_size):
    f = PROBLEMS["two-bernoullis"].program
    result = sad.estimate(f, 0.1, n_samples=n_samples, rng=0, backend="auto",
                          chunk_size=chunk_size)
    assert "combined" not in result.backend_choice.figures
    assert result.estimator == "triple"


@pytest.mark.parametrize("options, message", [
    ({"direction": [1.0]}, "direction has shape"),
    ({"direction": [np.nan, 1.0]}, "direction must be finite"),
    ({"estimator": ["triple"]}, "choose_backend compares"),
    ({"estimator": "score"}, "choose_backend compares"),
])
def test_choose_backend_checks_its_arguments(options, message):
    f = PROBLEMS["two-bernoullis"].program
    with pytest.raises(ValueError, match=message):
        sad.choose_backend(lambda q: f(q[0]) + f(q[1]), [0.1, 0.2], n_samples=1000, **options)


def test_a_pilot_needs_more_samples_than_its_small_runs():
    with pytest.raises(ValueError, match="n_pilot must be more than"):
        auto.pilot({}, auto.WARM_UP, np.random.default_rng(0), lambda backend: 100)
