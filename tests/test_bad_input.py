"""Public entry points given invalid input raise a clear exception that names the value.

Each case: a call, the exception type, and a pattern the message must match (the argument
and the offending value). Extended as entry points gain checks.
"""

import numpy as np
import pytest

import stochad as sad
from bench import runner
from stochad.resampling import resample


def _in_a_run(g):
    """Call ``g(p)`` inside a derivative run (the checks there differ from plain calls)."""
    return lambda: sad.derivative_estimate(g, 0.3, n_samples=10, rng=0)


CASES = [
    # resample: particle arrays whose length is not the number of weights
    ("resample, more particles than weights",
     lambda: resample(np.ones(3), [np.arange(5.0)], rng=0),
     ValueError, r"particles\[0\] has 5 .*weights has 3"),
    ("resample, fewer particles than weights",
     lambda: resample(np.ones(3), [np.arange(3.0), np.arange(2.0)], rng=0),
     ValueError, r"particles\[1\] has 2 .*weights has 3"),
    ("resample in a run, fewer particles",
     _in_a_run(lambda p: resample(sad.bernoulli(p) + np.ones(4), [np.arange(3.0)])[0][0]),
     ValueError, r"particles\[0\] has 3 .*weights has 4"),
    # Generator.integers: bounds outside the dtype (numpy raises; the cast used to wrap)
    ("integers high above uint8",
     _in_a_run(lambda p: sad.Generator().integers(300, dtype=np.uint8) + sad.bernoulli(p)),
     ValueError, r"high \(exclusive\) is out of bounds for uint8, got 300"),
    ("integers low below uint8",
     _in_a_run(lambda p: sad.Generator().integers(-1, 3, dtype=np.uint8) + sad.bernoulli(p)),
     ValueError, r"low is out of bounds for uint8, got -1"),
    ("integers high above int8 with endpoint",
     _in_a_run(lambda p: sad.Generator().integers(0, 127, endpoint=True, dtype=np.int8)
               + sad.bernoulli(p) + sad.Generator().integers(0, 128, endpoint=True,
                                                              dtype=np.int8)),
     ValueError, r"high \(exclusive\) is out of bounds for int8, got 129"),
    ("integers perturbed bound leaves uint8 on an alternative path",
     _in_a_run(lambda p: sad.Generator().integers(0, 250 + 10 * sad.bernoulli(p),
                                                  dtype=np.uint8)),
     ValueError, r"high \(exclusive\) is out of bounds for uint8, got 260"),
    ("integers float dtype",
     _in_a_run(lambda p: sad.Generator().integers(3, dtype=float) + sad.bernoulli(p)),
     TypeError, r"unsupported dtype float64"),
    # parameters outside the domain (the boundary itself is valid: test_boundaries.py)
    ("bernoulli p above 1", _in_a_run(lambda p: sad.bernoulli(p + 1)),
     ValueError, r"p must be in \[0, 1\], got 1\.3"),
    ("poisson negative rate", _in_a_run(lambda lam: sad.poisson(lam - 1)),
     ValueError, r"lam must be finite and >= 0, got -0\.7"),
    ("geometric p = 0", lambda: sad.geometric(0.0, rng=0),
     ValueError, r"p must be in \(0, 1\], got 0\.0"),
]


@pytest.mark.parametrize("call, error, pattern", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_bad_input_raises_a_clear_error(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


def test_numpy_raises_the_same_for_plain_integers():
    """Outside a run Generator.integers is numpy's, which raises for these bounds too."""
    with pytest.raises(ValueError, match="high is out of bounds for uint8"):
        sad.Generator(0).integers(300, dtype=np.uint8)


@pytest.mark.parametrize("argv, message", [
    (["run", "--samples", "1" + "0" * 30], "at most 10,000,000 (every sample is kept in "
                                            "memory), got '1" + "0" * 30 + "'"),
    (["run", "--samples", "2.5"], "needs an integer >= 2, got '2.5'"),
    (["run", "--seed", "-1"], "needs an integer >= 0, got '-1'"),
    (["run", "--json", "/nonexistent-dir/out.json"],
     "--json: cannot write '/nonexistent-dir/out.json'"),
    (["run", "--estimators", "triple,reinforce"], "unknown estimator(s) reinforce"),
    (["run", "no-such-problem"], "unknown problem(s) no-such-problem"),
])
def test_bench_cli_refuses_bad_arguments_before_running(argv, message, capsys, monkeypatch):
    monkeypatch.setattr(runner, "measure", None)  # a run would fail: calling None
    with pytest.raises(SystemExit) as info:
        runner.main(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("bad", ["0.5", ["0.5"], b"1"])
def test_numeric_strings_are_not_parameters(bad):
    with pytest.raises(TypeError, match=r"the parameter p must be numbers, got .*0\.5|got b'1'"):
        sad.derivative_estimate(lambda q: q, bad, n_samples=2)
    with pytest.raises(TypeError, match="parameter must be numbers"):
        sad.bernoulli(bad)


@pytest.mark.parametrize("empty", [[], [[]], np.zeros(0)])
def test_an_empty_parameter_is_refused_naming_it(empty):
    with pytest.raises(ValueError, match="no element to differentiate"):
        sad.derivative_estimate(lambda q: q, empty, n_samples=2)
