"""stochad-bench: the exact values, the plain programs, the estimators on the problems, the CLI."""

import datetime
import itertools
import json
import math
import platform
import subprocess
import sys

import numba
import numpy as np
import pytest
from conftest import assert_unbiased
from scipy import stats
from stochad.bench.natural import PROGRAMS as NATURAL
from stochad.bench.problems import PROBLEMS, fd_reference

import stochad as sad
from stochad.backends import PrunedBackend
from stochad.bench import exact_values as exact
from stochad.bench import kernel_timings as kernels
from stochad.bench import replay_costs, replay_instructions, runner

EXACT = [name for name, problem in PROBLEMS.items() if not problem.is_reference]


def central(expectation, p, eps=1e-5):
    return (expectation(p + eps) - expectation(p - eps)) / (2 * eps)


# -- the exact values, by a second route ---------------------------------------------------------

def _enumerate(pmf_values, f_values):
    return float(np.sum(pmf_values * f_values))


def _nested_binomial_mean(p):
    m = np.arange(11)
    inner = np.array([_enumerate(stats.binom.pmf(np.arange(k + 1), k, p), np.arange(k + 1))
                      for k in m])
    return _enumerate(stats.binom.pmf(m, 10, p), inner)


def _mixed_mean(p):
    b = np.arange(11)[:, None]
    c = np.array([0, 1])[None, :]
    weight = stats.binom.pmf(b, 10, p) * stats.bernoulli.pmf(c, p)
    return p * (1 - p) * _enumerate(weight, (2 * b + 3 * c) * b)  # the normal has mean b


def _galton_watson_mean(p, cap=400):
    z = np.arange(cap + 1)
    step = stats.poisson.pmf(z[None, :], p * z[:, None])  # P(Z' = j | Z = i)
    dist = np.eye(cap + 1)[1]
    for _ in range(5):
        dist = dist @ step
    return float(dist @ z)


def _extinction_probability(p, cap=400):
    z = np.arange(cap + 1)
    step = stats.poisson.pmf(z[None, :], p * z[:, None])
    dist = np.eye(cap + 1)[1]
    for _ in range(5):
        dist = dist @ step
    return float(dist[0])


def _particle_filter_likelihood(t):
    """Z(θ) by enumerating the 2⁸ paths of Bernoulli increments."""
    total = 0.0
    for steps in itertools.product([0, 1], repeat=len(exact.PF_OBSERVATIONS)):
        x = np.cumsum(steps)
        prob = np.prod(np.where(np.array(steps) == 1, t, 1 - t))
        total += prob * np.prod(exact.pf_likelihood(exact.PF_OBSERVATIONS, x))
    return total


SECOND_ROUTE = {  # E[program(p)] by scipy enumeration, differentiated by central differences
    "binomial-square": lambda p: _enumerate(stats.binom.pmf(np.arange(21), 20, p),
                                            np.arange(21) ** 2),
    "geometric-square": lambda p: _enumerate(stats.geom.pmf(np.arange(1, 3000), p),
                                             np.arange(1, 3000) ** 2.0),
    "poisson-square": lambda lam: _enumerate(stats.poisson.pmf(np.arange(200), lam),
                                             np.arange(200) ** 2.0),
    "nested-binomial": _nested_binomial_mean,
    "two-bernoullis": lambda t: 2 * 3 * t + t,
    "galton-watson": _galton_watson_mean,
    "mixed": _mixed_mean,
    "extinction": _extinction_probability,
    "particle-filter": _particle_filter_likelihood,
    # the DPs: their forward-mode derivative against central differences of their value
    "random-walk": lambda p: exact.random_walk(p)[0],
    "random-walk-exp": lambda p: exact.random_walk_exp(p)[0],
    "lindley-queue": lambda p: exact.lindley_queue(p)[0],
    "lindley-20": lambda p: exact.lindley_waiting(p)[0],
    "poisson-kl": lambda lam: exact.poisson_kl(lam)[0],
    # the batched rewrites: their derivative (complex step) against central differences of the
    # natural programs' exact values (checked against plain Monte Carlo in test_natural_exact)
    "reed-frost": NATURAL["reed_frost"].exact_value,
    "inventory": NATURAL["inventory_sS"].exact_value,
    "finite-buffer-queue": NATURAL["finite_buffer_queue"].exact_value,
    "percolation": NATURAL["site_percolation"].exact_value,
}


def test_every_exact_problem_has_a_second_route():
    assert sorted(SECOND_ROUTE) == sorted(EXACT)


@pytest.mark.parametrize("name", EXACT)
def test_exact_derivatives_agree_with_a_second_route(name):
    problem = PROBLEMS[name]
    want = central(SECOND_ROUTE[name], problem.param)
    assert problem.exact == pytest.approx(want, rel=1e-6, abs=1e-8)


def test_random_walk_value_matches_conformance():
    assert exact.random_walk(0.5)[0] == pytest.approx(32.6443, abs=1e-4)


@pytest.mark.parametrize("name", EXACT)
def test_plain_programs_compute_the_same_expectation(name):
    problem = PROBLEMS[name]
    values = problem.plain(problem.param, 20_000, np.random.default_rng(1))
    assert values.shape == (20_000,)
    assert_unbiased(values, SECOND_ROUTE[name](problem.param))


def test_game_of_life_reference_is_marked_as_such():
    problem = PROBLEMS["game-of-life"]
    assert problem.is_reference and "finite-difference" in problem.exact_method
    assert runner.list_problems().count("≈") == 1


def test_fd_reference_recovers_an_exact_derivative():
    problem = PROBLEMS["binomial-square"]
    estimate, stderr = fd_reference(problem.plain, problem.param, 0.02, 50_000, seed=3)
    assert abs(estimate - problem.exact) < 5 * stderr


# -- estimators on the problems ----------------------------------------------------------------

@pytest.mark.parametrize("estimator", ["triple", "score-baseline"])
@pytest.mark.parametrize("name", list(PROBLEMS))
def test_estimators_on_the_problems_are_unbiased(name, estimator):
    problem = PROBLEMS[name]
    n = 4_000 if name == "game-of-life" else 10_000
    draws = sad.derivative_samples(problem.program, problem.param, n_samples=n, rng=5,
                                   **runner.estimator_options(estimator, problem))
    assert_unbiased(draws, problem.exact)  # game-of-life: reference stderr 0.05 << 5


# -- the command line ----------------------------------------------------------------------------

def test_list_names_every_problem(capsys):
    assert runner.main(["list"]) == 0
    out = capsys.readouterr().out
    for name in PROBLEMS:
        assert name in out


def test_run_prints_a_table_progress_and_json(capsys, tmp_path):
    path = tmp_path / "out.json"
    code = runner.main(["run", "two-bernoullis", "poisson-square", "--samples", "2000",
                        "--seed", "3", "--estimators", "triple,score-baseline,fd",
                        "--json", str(path)])
    assert code == 0
    captured = capsys.readouterr()
    header = captured.out.splitlines()[0].split()
    assert header[:3] == ["problem", "exact", "estimator"]
    assert "samples/s" in captured.out and "× plain" in captured.out
    assert "[6/6] poisson-square: fd" in captured.err
    report = json.loads(path.read_text())
    assert [p["name"] for p in report["problems"]] == ["two-bernoullis", "poisson-square"]
    for problem in report["problems"]:
        assert set(problem) >= {"name", "param", "exact", "estimators"}
        assert list(problem["estimators"]) == ["triple", "score-baseline", "fd"]
        for result in problem["estimators"].values():
            assert set(result) >= {"mean", "stderr", "sd", "seconds"}
            assert result["stderr"] == pytest.approx(result["sd"] / np.sqrt(2000))


def test_run_is_reproducible(tmp_path):
    means = []
    for i in range(2):
        path = tmp_path / f"{i}.json"
        runner.main(["run", "nested-binomial", "--samples", "500", "--json", str(path)])
        report = json.loads(path.read_text())
        means.append({k: v["mean"] for k, v in report["problems"][0]["estimators"].items()})
    assert means[0] == means[1]



def test_estimator_timing_keeps_the_best_of_repeated_runs(monkeypatch):
    """--repeats N: up to N timed runs (same seed, same samples) while they stay within the
    budget; the best time is kept, and one run when the budget is spent at once."""
    calls = []
    clock = iter([0.0, 0.30, 1.0, 1.10, 2.0, 2.25])  # runs of 0.30, 0.10, 0.25 s

    def fake_samples(f, p, *, n_samples, rng, **options):
        calls.append(n_samples)
        return np.arange(float(n_samples))

    monkeypatch.setattr(runner.sad, "derivative_samples", fake_samples)
    monkeypatch.setattr(runner.time, "perf_counter", lambda: next(clock))
    problem = PROBLEMS["two-bernoullis"]
    result = runner.measure(problem, "triple", 100, 0, "pruned", None, repeats=3)
    assert calls == [64, 100, 100, 100] and result.seconds == pytest.approx(0.10)
    calls.clear()
    clock = iter([0.0, 5.0])
    result = runner.measure(problem, "triple", 100, 0, "pruned", None, repeats=3)
    assert calls == [64, 100] and result.seconds == 5.0  # over the budget: one run

@pytest.mark.parametrize("argv, message", [
    (["run", "no-such-problem"], "unknown problem(s) no-such-problem"),
    (["run", "--estimators", "triple,reinforce"], "unknown estimator(s) reinforce"),
    (["run", "--samples", "1"], "needs an integer >= 2"),
    (["run", "--backend", "fastest"], "invalid choice"),
])
def test_bad_arguments_are_reported(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        runner.main(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_plot_without_matplotlib_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    with pytest.raises(SystemExit, match=r"pip install 'stochad\[plot\]'"):
        runner.main(["run", "two-bernoullis", "--samples", "100",
                     "--plot", str(tmp_path / "sd.png")])


def test_python_dash_m_bench_runs():
    done = subprocess.run([sys.executable, "-m", "stochad.bench", "list"], capture_output=True,
                          text=True, check=True)
    assert "galton-watson" in done.stdout


def test_fused_walk_prototype_is_unbiased_and_as_noisy_as_the_library():
    """The hand-fused walk (bench.fused_walk) follows the pruned backend's rules: unbiased for
    the exact derivative, with the library's standard deviation (19.8 at 100,000 samples)."""
    from stochad.bench.fused_walk import fused_walk_samples

    problem = PROBLEMS["random-walk"]
    samples = fused_walk_samples(problem.param, 100_000, np.random.default_rng(12))
    assert_unbiased(samples, problem.exact)
    library = sad.derivative_samples(problem.program, problem.param, n_samples=100_000, rng=12,
                                     compile=False)  # the operator engine it fuses
    assert samples.std() == pytest.approx(library.std(), rel=0.03)

# -- kernels against numpy -----------------------------------------------------------------------

def test_numpy_pruning_step_matches_the_kernels():
    rows = kernels.compare(5_000, 1, repeat=1)
    assert [row[0] for row in rows] == ["prune step", "lookup weights", "draw step",
                                        "bernoulli coupling"]
    assert all(row[3] for row in rows)


def test_numpy_draw_step_matches_the_kernel_with_several_elements_per_lane():
    """Without conflicts no uniform is drawn, so the column-by-column numpy version must give
    the kernel's events (slots included), jumps and table exactly."""
    draw, table = kernels._draw_inputs(300, 8)
    draw = (draw[0], np.zeros_like(draw[1]), *draw[2:])
    tables = [tuple(t.copy() for t in table) for _ in range(2)]
    fast = kernels._kernel_draw(draw, tables[0], 1, PrunedBackend(300))
    slow = kernels._numpy_draw(draw, tables[1], 1)
    assert kernels._same(fast, slow) and kernels._same(tables[0], tables[1])


def test_numpy_lookup_matches_the_kernel_with_several_elements_per_lane():
    rows = dict((row[0], row[3]) for row in kernels.compare(500, 8, repeat=1))
    assert rows["lookup weights"]


# -- output paths, limits, the environment and --check ----------------------------------------

def _no_run(monkeypatch):
    """Make any estimator run fail the test: the checks must come before it."""
    def refuse(*args, **kwargs):
        raise AssertionError("the run started before the arguments were checked")

    monkeypatch.setattr(runner, "measure", refuse)
    monkeypatch.setattr(runner, "time_plain", refuse)


@pytest.mark.parametrize("where", ["missing-dir/out.json", "."])
def test_unwritable_json_path_fails_before_the_run(where, tmp_path, monkeypatch, capsys):
    _no_run(monkeypatch)
    path = str(tmp_path / where)
    with pytest.raises(SystemExit) as info:
        runner.main(["run", "two-bernoullis", "--samples", "100", "--json", path])
    assert info.value.code == 2
    assert f"--json: cannot write {path!r}" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing created


def test_existing_json_file_is_kept_until_the_run_ends(tmp_path, monkeypatch):
    path = tmp_path / "old.json"
    path.write_text("{}")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "measure", interrupted)
    with pytest.raises(KeyboardInterrupt):
        runner.main(["run", "two-bernoullis", "--samples", "100", "--json", str(path)])
    assert path.read_text() == "{}"


def test_unwritable_plot_path_fails_before_the_run(tmp_path, monkeypatch, capsys):
    pytest.importorskip("matplotlib")
    _no_run(monkeypatch)
    path = str(tmp_path / "missing-dir" / "sd.png")
    with pytest.raises(SystemExit):
        runner.main(["run", "two-bernoullis", "--samples", "100", "--plot", path])
    assert f"--plot: cannot write {path!r}" in capsys.readouterr().err


def test_json_to_stdout_with_the_environment(capsys):
    code = runner.main(["run", "two-bernoullis", "--samples", "500", "--estimators", "triple",
                        "--repeats", "1", "--json", "-"])
    assert code == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)  # stdout is the JSON report alone
    assert report["problems"][0]["name"] == "two-bernoullis"
    assert "problem" in captured.err and "exact" in captured.err  # the table went to stderr
    env = report["environment"]
    assert env["stochad"] == sad.__version__ and env["numpy"] == np.__version__
    assert env["numba"] == numba.__version__ and env["platform"] == platform.platform()
    date = datetime.datetime.fromisoformat(env["date"])
    now = datetime.datetime.now(datetime.timezone.utc)
    assert abs((now - date).total_seconds()) < 600


@pytest.mark.parametrize("samples", [str(runner.MAX_SAMPLES + 1), "1" + "0" * 30])
def test_huge_sample_counts_are_refused_up_front(samples, monkeypatch, capsys):
    _no_run(monkeypatch)
    with pytest.raises(SystemExit) as info:
        runner.main(["run", "--samples", samples])
    assert info.value.code == 2
    assert f"at most {runner.MAX_SAMPLES:,}" in capsys.readouterr().err


def test_check_passes_unbiased_estimates(capsys):
    code = runner.main(["run", "two-bernoullis", "poisson-square", "--samples", "2000",
                        "--estimators", "triple,score", "--repeats", "1", "--check"])
    assert code == 0
    assert "check failed" not in capsys.readouterr().err


def test_check_fails_an_estimate_off_by_more_than_five_stderr(monkeypatch, capsys):
    def biased(problem, estimator, samples, *args, **kwargs):
        shift = 6.0 if estimator == "score" else 4.0  # stderr 1: |z| = 6 and 4
        return runner.Result(problem.exact + shift, 1.0, 1.0, 0.1, samples, shift, math.nan)

    monkeypatch.setattr(runner, "measure", biased)
    code = runner.main(["run", "two-bernoullis", "--samples", "100",
                        "--estimators", "triple,score", "--check"])
    err = capsys.readouterr().err
    assert code == 1
    assert "check failed: two-bernoullis score" in err and "triple:" not in err
    assert runner.main(["run", "two-bernoullis", "--samples", "100",
                        "--estimators", "triple,score"]) == 0  # without --check: a report


def test_runner_takes_workers_and_gives_the_same_estimate():
    one = runner.measure(PROBLEMS["random-walk"], "triple", 2_000, 0, "pruned", 500, repeats=1)
    two = runner.measure(PROBLEMS["random-walk"], "triple", 2_000, 0, "pruned", 500, repeats=1,
                         workers=2)
    assert (one.mean, one.sd) == (two.mean, two.sd)


def test_natural_report_sets_replay_against_the_hand_written_score_function():
    from bench import natural_bench
    row = natural_bench.measure(natural_bench.PROGRAMS["reed_frost"], 200, 0, 1)
    assert row.replay.shape == row.score.shape == (200,)
    assert row.time_x_variance_ratio > 0
    table = natural_bench.report(["reed_frost"], 50, 0, 1)
    assert "score+baseline" in table and "t×var" in table and "reed_frost" in table
    table = natural_bench.report(["galton_watson"], 50, 0, 1, backend="kpaths:2")
    assert "replay (kpaths:2)" in table
    with pytest.raises(ValueError, match="replay runs"):
        natural_bench.report(["galton_watson"], 50, 0, 1, backend="smoothed")


@pytest.mark.parametrize("name", ["walk", "yule", "galton_watson"])
@pytest.mark.parametrize("mode", ["replay", "plain"])
def test_replay_instructions_runs_the_work_it_names(name, mode):
    replay_instructions.main([name, "3", mode])
    with pytest.raises(ValueError, match="unknown program"):
        replay_instructions.run("nope", 1, mode)


def test_replay_costs_times_each_operation_both_ways(capsys):
    rows = replay_costs.measure(1)
    assert [r[0] for r in rows][:2] == ["theta * 10 + 5.0", "rng.random()"]
    assert all(plain > 0 and tracked > 0 for _, plain, tracked in rows)
    replay_costs.main(["--repeats", "1"])
    assert "forwarding method" in capsys.readouterr().out
