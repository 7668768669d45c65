"""The compiled batched engine (DESIGN §6): unbiased where it records, reproducible whatever
the block size and with the JIT off, and a fallback with a reason where it cannot record."""

import logging
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from conftest import assert_unbiased, stdout_with_and_without_jit

import stochad as sad
from bench.problems import PROBLEMS
from stochad.compiled import engine, ops
from stochad.compiled import program as program_module
from stochad.resampling import resample

RECORDED = ["random-walk", "random-walk-exp", "binomial-square", "geometric-square",
            "poisson-square", "nested-binomial", "two-bernoullis", "galton-watson",
            "lindley-queue", "lindley-20", "mixed"]


def compiled_samples(f, p, n, seed, direction=1.0, block=None):
    """Samples of the compiled engine only (an error if it cannot run ``f``)."""
    program = engine.compile_program(f, np.shape(p))
    out = engine.run_program(program, np.asarray(p, float), np.asarray(direction, float), n,
                             seed, block)
    assert not isinstance(out, int), f"instruction {out} met an invalid parameter"
    return out


# -- unbiasedness against exact values -------------------------------------------------------

@pytest.mark.parametrize("name", RECORDED)
def test_bench_problems_are_recorded_and_unbiased(name):
    problem = PROBLEMS[name]
    assert engine.why_not(problem.program) is None
    n = 60_000 if name.startswith("random-walk") else 200_000
    samples = compiled_samples(problem.program, problem.param, n, seed=11)
    assert_unbiased(samples, problem.exact)


CONFORMANCE = [  # (draw, p, [d/dp E f for f = 7x - 3, (x + 1)^2, sqrt(x + 1)])
    (sad.bernoulli, 0.3, [7, 3, 0.414214]),
    (lambda p: sad.binomial(3, p), 0.5, [21, 15, 0.988378]),
    (lambda p: sad.binomial(20, p), 0.3, [140, 288, 3.853985]),
    (sad.poisson, 3.0, [7, 9, 0.251471]),
    (sad.poisson, 0.5, [7, 4, 0.371291]),
    (sad.geometric, 0.3, [-77.777778, -159.259259, -2.302542]),
]
FUNCTIONS = [lambda x: 7 * x - 3, lambda x: (x + 1) ** 2, lambda x: np.sqrt(x + 1)]


@pytest.mark.parametrize("draw, p, exact", CONFORMANCE)
def test_conformance_draws(draw, p, exact):
    for i, (g, value) in enumerate(zip(FUNCTIONS, exact, strict=True)):
        samples = compiled_samples(lambda q, g=g: g(draw(q)), p, 200_000, seed=i)
        assert_unbiased(samples, value)


def test_draws_through_public_api_and_generator():
    def sim(theta, rng):  # numpy's Generator interface
        infected = rng.binomial(10, theta)
        return rng.poisson(2.0 * infected + 1.0)

    f = lambda t: sim(t, sad.Generator())  # noqa: E731
    assert engine.why_not(f) is None
    samples = sad.derivative_samples(f, 0.3, n_samples=100_000, rng=3)
    assert_unbiased(samples, 20.0)


def test_compositions():
    nested = compiled_samples(lambda p: sad.binomial(sad.binomial(10, p), p), 0.7, 200_000, 1)
    assert_unbiased(nested, 14.0)
    linear = compiled_samples(lambda p: sum(i * sad.bernoulli(p) for i in range(1, 101)), 0.4,
                              20_000, 2)
    assert_unbiased(linear, 5050.0)


def test_continuous_draws_are_reparameterised():
    # E[N(p, 2)^2] = p^2 + 4; E[Exp(p)^2] = 2p^2; E[U(0, p)^2] = p^2 / 3; E[N(0, p)^2] = p^2
    assert_unbiased(compiled_samples(lambda p: sad.normal(p, 2.0) ** 2, 1.5, 100_000, 1), 3.0)
    assert_unbiased(compiled_samples(lambda p: sad.exponential(p) ** 2, 1.5, 100_000, 2), 6.0)
    assert_unbiased(compiled_samples(lambda p: sad.uniform(0.0, p) ** 2, 1.5, 100_000, 3), 1.0)
    assert_unbiased(compiled_samples(lambda p: sad.normal(0.0, p) ** 2, 1.5, 100_000, 4), 3.0)


def test_where_and_a_small_vector_sum():
    # E[sum_j Bernoulli(p c_j)] = p sum c_j; where(K > 2, K, 0) for K ~ Poisson(p):
    # d/dp E[K 1{K > 2}] = E[(K + 1) 1{K + 1 > 2} - K 1{K > 2}] = 3 P(K = 2) + P(K > 2)
    weights = np.array([0.2, 0.5, 1.0])
    assert_unbiased(compiled_samples(lambda p: np.sum(sad.bernoulli(p * weights)), 0.5,
                                     100_000, 1), 1.7)
    lam = 2.5
    pmf = np.exp(-lam) * lam ** np.arange(3) / np.array([1, 1, 2])
    exact = 3 * pmf[2] + 1 - pmf.sum()
    # two independent draws: d/dp E[K2 1{K1 > 2}] = d/dp p P(K1 > 2) = P(K1 > 2) + p P(K1 = 2)
    two = lambda p: sad.where(sad.poisson(p) > 2, sad.poisson(p), 0.0)  # noqa: E731
    assert_unbiased(compiled_samples(two, lam, 200_000, 2), (1 - pmf.sum()) + lam * pmf[2])
    same = lambda p: (lambda k: np.where(k > 2, k, 0))(sad.poisson(p))  # noqa: E731
    assert_unbiased(compiled_samples(same, lam, 200_000, 3), exact)


def test_deterministic_program_derivative_is_exact():
    def f(p):
        return np.exp(p) * np.sin(p) / (1 + p ** 2) + np.maximum(p, 0.5) - np.sqrt(p) * np.log(p)

    p = 0.8
    exact = (np.exp(p) * (np.sin(p) + np.cos(p)) / (1 + p ** 2)
             - np.exp(p) * np.sin(p) * 2 * p / (1 + p ** 2) ** 2 + 1.0
             - 0.5 / np.sqrt(p) * np.log(p) - np.sqrt(p) / p)
    samples = sad.derivative_samples(f, p, n_samples=5, rng=0)
    np.testing.assert_allclose(samples, exact, rtol=0, atol=1e-12)


def test_array_parameter_and_single_sample_facts():
    samples = sad.derivative_samples(lambda p: sad.poisson(p[0]) + 2 * sad.poisson(p[1]),
                                     [3.0, 1.0], n_samples=10, rng=0)
    np.testing.assert_array_equal(samples, np.tile([1.0, 2.0], (10, 1)))
    k_and_d = compiled_samples(lambda p: sad.binomial(20, p), 0.3, 1000, 5)
    assert set(np.round(k_and_d * 0.7, 9)) <= set(float(20 - k) for k in range(21))


def test_a_dead_event_is_replaced_outright():
    # the first draw's jump dies in the maximum (max(b - 1, 0) is always 0): the second draw's
    # perturbation takes the lane with its own weight, 7 jumps of weight 1/(1 - 0.3), exactly
    def f(p):
        return np.maximum(sad.bernoulli(p) - 1, 0) + 7 * sad.bernoulli(p)

    samples = compiled_samples(f, 0.3, 2000, seed=4)
    assert sorted(set(np.round(samples, 12).tolist())) == [0.0, 10.0]
    assert_unbiased(compiled_samples(f, 0.3, 100_000, seed=5), 7.0)


FUSED = {  # programs with a Bernoulli draw whose only use is the sum after it
    "walk": PROBLEMS["random-walk"].program,
    "term with a dual part": lambda p: p * p + sad.bernoulli(p),
    "term with a jump": lambda p: 3 * sad.poisson(p) + sad.bernoulli(p / 4),
    "constant term": lambda p: 2.0 + sad.bernoulli(p / 4),
}


@pytest.mark.parametrize("name", FUSED)
def test_a_draw_fused_with_its_sum_gives_the_samples_of_both_apart(name, monkeypatch):
    f = FUSED[name]
    fused = engine.compile_program(f, ())
    fused_samples = engine.run_program(fused, np.array(0.6), np.array(1.0), 3000, 8)
    monkeypatch.setattr(program_module, "_fused_draws", lambda *args: {})
    apart = engine.compile_program(f, ())
    assert fused.n_instructions < apart.n_instructions
    np.testing.assert_array_equal(
        fused_samples, engine.run_program(apart, np.array(0.6), np.array(1.0), 3000, 8))


def test_fused_draw_is_unbiased():  # d/dp E[p² + Bernoulli(p)] = 2p + 1
    assert_unbiased(compiled_samples(FUSED["term with a dual part"], 0.6, 100_000, 9), 2.2)


def test_a_chain_of_operations_by_constants_is_one_affine_row():
    """``1 - (n + i) / 200`` is recorded as one row ``n·s + c`` (the walk: 3 rows a step
    instead of 5); its dual part is exact, and the jump it passes on is its change."""
    walk = engine.compile_program(PROBLEMS["random-walk"].program, ())
    assert walk.n_instructions <= 3 * 100 + 1
    assert (walk.code[:, 0] == ops.AFFINE).sum() == 99  # the first step's is a constant

    def chain(p):  # d/dp = 3/4, exactly (0.75 is a binary fraction)
        return ((p + 1) / 4 - 2) * 3 + 0 * sad.bernoulli(0.5 + 0 * p)

    np.testing.assert_allclose(compiled_samples(chain, 0.3, 8, seed=1), 0.75, rtol=0,
                               atol=1e-12)

    def jumps(p):  # a jump through the chain: d/dp E[(7·B(p) + 1)/2 - 3] = 3.5
        return (7 * sad.bernoulli(p) + 1) / 2 - 3

    assert engine.compile_program(jumps, ()).code[-1, 0] == ops.AFFINE
    # a failure (k = 0) flips to 1 with weight 1/(1 - p): 3.5 / 0.7 = 5; a success cannot
    assert set(np.round(compiled_samples(jumps, 0.3, 500, seed=2), 9).tolist()) == {5.0, 0.0}
    assert_unbiased(compiled_samples(jumps, 0.3, 100_000, seed=3), 3.5)


def test_a_chain_that_reaches_a_floor_or_a_comparison_is_computed_as_written():
    """``(b + 0.2) / 0.1`` composed as ``b·10 + 2`` is 12 at ``b = 1``, as written
    11.999999999999998: its floor differs. Where a chain's value can reach a discontinuous
    operation the recording keeps the chain, so the compiled program means what numpy does."""
    def f(p):
        return np.floor((sad.bernoulli(p) + 0.2) / 0.1)

    program = engine.compile_program(f, ())
    assert ops.AFFINE not in program.code[:, 0]
    jump = np.floor((1 + 0.2) / 0.1) - np.floor(0.2 / 0.1)  # 9 in numpy, not 10
    samples = compiled_samples(f, 0.3, 1000, seed=3)
    # a failure flips to a success with weight 1/(1 - p); a success cannot flip
    assert set(np.round(samples, 9).tolist()) == {round(jump / 0.7, 9), 0.0}


def test_a_lone_operation_by_a_constant_keeps_its_row():
    program = engine.compile_program(lambda p: sad.poisson(p) / 2, ())
    assert ops.AFFINE not in program.code[:, 0]


# -- reproducibility -------------------------------------------------------------------------

def test_same_samples_whatever_the_block_size():
    f = PROBLEMS["lindley-queue"].program
    reference = compiled_samples(f, 0.8, 1000, seed=7, block=512)
    for block in (1, 7, 64, 1000, 4096):
        np.testing.assert_array_equal(compiled_samples(f, 0.8, 1000, seed=7, block=block),
                                      reference)


def test_same_samples_without_the_jit():
    script = textwrap.dedent("""
        import numpy as np, stochad as sad
        from bench.problems import PROBLEMS
        from stochad.compiled import engine, ops
        for name in ["random-walk", "galton-watson", "binomial-square", "mixed", "lindley-20"]:
            program = engine.compile_program(PROBLEMS[name].program, ())
            out = engine.run_program(program, np.array(PROBLEMS[name].param), np.array(1.0),
                                     40, 123, 16)
            print(name, out.tobytes().hex())
    """)
    with_jit, without = stdout_with_and_without_jit(script)
    assert with_jit == without


def test_seed_drives_the_compiled_stream():
    f = PROBLEMS["binomial-square"].program
    a = sad.derivative_samples(f, 0.3, n_samples=100, rng=1)
    b = sad.derivative_samples(f, 0.3, n_samples=100, rng=1)
    c = sad.derivative_samples(f, 0.3, n_samples=100, rng=2)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


# -- fallback --------------------------------------------------------------------------------

def test_unsupported_programs_fall_back_with_a_reason(caplog):
    def branchy(p):  # a Python branch on a random value
        k = sad.poisson(p)
        return k if k > 3 else 0

    cases = {
        branchy: "bool()",
        PROBLEMS["poisson-kl"].program: "plain array",
        lambda p: sad.categorical([p, 1 - p]): "categorical",
        lambda p: sad.take([1.0, 5.0], sad.bernoulli(p)): "plain array",
    }
    for f, reason in cases.items():
        assert reason in engine.why_not(f)
    with caplog.at_level(logging.DEBUG, logger="stochad.compiled"):
        samples = sad.derivative_samples(PROBLEMS["poisson-kl"].program, 20.0,
                                         n_samples=20_000, rng=0)
    assert "compiled engine not used" in caplog.text
    assert_unbiased(samples, PROBLEMS["poisson-kl"].exact)
    cat = sad.derivative_samples(lambda p: sad.categorical([p ** 2, 1 - p ** 2]), 0.5,
                                 n_samples=50_000, rng=0)
    assert_unbiased(cat, -1.0)


def test_debug_switch_prints_the_reason():
    script = ("import stochad as sad\n"
              "sad.derivative_estimate(lambda p: sad.categorical([p, 1 - p]), 0.5, rng=0)\n")
    env = dict(os.environ, STOCHAD_DEBUG_COMPILE="1", PYTHONPATH=os.getcwd())
    run = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                         text=True, check=True)
    assert "compiled engine not used" in run.stderr and "categorical" in run.stderr


def test_invalid_parameter_falls_back_and_raises_the_operator_engines_error():
    with pytest.raises(ValueError, match="p must be in"):
        sad.derivative_estimate(lambda p: sad.bernoulli(2 * p), 0.7, n_samples=10, rng=0)
    with pytest.raises(ValueError, match="scale"):
        sad.derivative_estimate(lambda p: sad.normal(0.0, p - 1.0), 0.5, n_samples=10, rng=0)


def test_compile_false_forces_the_operator_engine():
    # the engines draw different streams from one seed: compile=False reproduces itself, and
    # equals the operator engine's run of a program the recorder refuses
    f = PROBLEMS["binomial-square"].program
    operator = sad.derivative_samples(f, 0.3, n_samples=50, rng=4, compile=False)
    np.testing.assert_array_equal(
        operator, sad.derivative_samples(f, 0.3, n_samples=50, rng=4, compile=False))
    assert not np.array_equal(operator, sad.derivative_samples(f, 0.3, n_samples=50, rng=4))

    def unrecordable(p):
        return sad.propagate(lambda k: np.asarray(k) ** 2, sad.binomial(20, p))

    np.testing.assert_array_equal(
        sad.derivative_samples(unrecordable, 0.3, n_samples=50, rng=4), operator)


# -- the driver's task contract and the recording hooks ----------------------------------------

def test_workers_and_chunks_give_the_same_compiled_samples():
    f = PROBLEMS["galton-watson"].program
    assert engine.why_not(f) is None
    serial = sad.derivative_samples(f, PROBLEMS["galton-watson"].param, n_samples=3_000,
                                    rng=2, chunk_size=1_000)
    pooled = sad.derivative_samples(f, PROBLEMS["galton-watson"].param, n_samples=3_000,
                                    rng=2, chunk_size=1_000, workers=2)
    np.testing.assert_array_equal(serial, pooled)
    operator = sad.derivative_samples(f, PROBLEMS["galton-watson"].param, n_samples=3_000,
                                      rng=2, chunk_size=1_000, compile=False)
    assert not np.array_equal(serial, operator)  # the compiled engine ran the tasks


def test_a_recording_never_bakes_in_plain_random_numbers():
    refused = {
        lambda p: sad.Generator().random() * p: "Generator.random",
        lambda p: sad.Generator().integers(3) * p: "Generator.integers",
        lambda p: sad.Generator().permutation(3)[0] * p: "Generator.permutation",
        lambda p: resample(np.ones(3), [p * np.arange(3.0)])[0][0]: "resample",
    }
    for f, name in refused.items():
        assert name in engine.why_not(f)
    # draws with constant parameters are recorded, one per lane: E[p·K] = 3p for K ~ Poisson(3)
    samples = sad.derivative_samples(lambda p: p * sad.poisson(3.0), 0.5, n_samples=20_000,
                                     rng=1)
    assert engine.why_not(lambda p: p * sad.poisson(3.0)) is None and samples.std() > 0
    assert_unbiased(samples, 3.0)
    # a multinomial of constant parameters (a chain of binomials, stacked) is not recorded
    # today, and is not baked in either: E[q·N₂] = 3q with N₂ drawn per sample
    chain = lambda q: q * sad.Generator().multinomial(10, [0.2, 0.5, 0.3])[2]  # noqa: E731
    assert engine.why_not(chain) is not None
    samples = sad.derivative_samples(chain, 0.2, n_samples=50_000, rng=3)
    assert samples.std() > 0
    assert_unbiased(samples, 3.0)


def test_a_subclass_of_a_builtin_law_is_not_compiled():
    class Shifted(sad.distributions.Poisson):  # another sampler under the same name
        pass

    assert "poisson" in engine.why_not(lambda p: sad.draw(Shifted(), p))
