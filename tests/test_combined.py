"""The combined estimator (issue 14): ``T + c·(S − T)`` from one run, ``c`` cross-fitted.

Unbiased against exact values (closed forms, the bench's exact DP), under the pruned, exact
and K-paths triple backends; on programs where both the triple and the score-function
estimators are noisy, its variance is at most the smaller of the two. Batched pruned runs of
programs that record go through the compiled engine, which accumulates the scores in the same
pass: each lane's score is exactly its draws' laws' scores, and the samples are the same with the
JIT off; other programs get exactly the operator engine's samples.
"""

import textwrap
import warnings

import numpy as np
import pytest
from conftest import assert_unbiased, central_difference, stdout_with_and_without_jit

import stochad as sad
from bench.problems import PROBLEMS
from stochad.combined import _operator_samples, combined_samples, fitted_coefficients
from stochad.compiled import engine
from stochad.distributions import Bernoulli, Binomial, Geometric, Poisson


def extinct_by_five(lam):
    """An epidemiologist's question: has a Poisson(λ) branching process died out by
    generation 5?"""
    z = 1
    for _ in range(5):
        z = sad.poisson(lam * z)
    return 1.0 * (z == 0)


def extinction_probability(lam):
    """P(Z₅ = 0) = g⁵(0), g(s) = exp(λ(s − 1)) the offspring generating function."""
    s = 0.0
    for _ in range(5):
        s = np.exp(lam * (s - 1.0))
    return s


def two_bernoullis(theta):
    return 2 * sad.bernoulli(3 * theta) + sad.bernoulli(theta)


CASES = {
    "two-bernoullis": (two_bernoullis, 0.1, 7.0),
    "binomial-square": (lambda p: sad.binomial(20, p) ** 2, 0.3, 248.0),
    "extinction": (extinct_by_five, 1.5, central_difference(extinction_probability, 1.5)),
    "random-walk": (PROBLEMS["random-walk"].program, 0.5, PROBLEMS["random-walk"].exact),
    "lindley-queue": (PROBLEMS["lindley-queue"].program, 0.8, PROBLEMS["lindley-queue"].exact),
}


@pytest.mark.parametrize("name", list(CASES))
def test_combined_is_unbiased(name):
    f, p, exact = CASES[name]
    n = 4000 if name == "random-walk" else 20_000
    assert_unbiased(sad.derivative_samples(f, p, n_samples=n, rng=7, estimator="combined"),
                    exact)


@pytest.mark.parametrize("backend", ["exact", "kpaths:2"])
def test_combined_with_other_triple_backends(backend):
    f, p, exact = CASES["extinction"]
    assert_unbiased(sad.derivative_samples(f, p, n_samples=20_000, rng=8, backend=backend,
                                           estimator="combined"), exact)


@pytest.mark.parametrize("name", ["two-bernoullis", "extinction"])
def test_combined_variance_is_at_most_the_smaller_one(name):
    f, p, _ = CASES[name]
    sd = {e: sad.derivative_samples(f, p, n_samples=20_000, rng=9, **options).std()
          for e, options in [("triple", {}), ("score", {"estimator": "score", "baseline": True}),
                             ("combined", {"estimator": "combined"})]}
    assert sd["combined"] <= 1.01 * min(sd["triple"], sd["score"]), sd


def test_combined_of_a_vector_output_fits_a_coefficient_per_element():
    def f(p):
        return [two_bernoullis(p), extinct_by_five(10 * p + 0.5)]

    samples = sad.derivative_samples(f, 0.1, n_samples=20_000, rng=3, estimator="combined")
    assert samples.shape == (20_000, 2)
    assert_unbiased(samples, [7.0, 10 * central_difference(extinction_probability, 1.5)])


def test_fitted_coefficients_are_the_two_regressor_variance_minimiser():
    rng = np.random.default_rng(1)
    d, e = rng.normal(size=500), rng.normal(size=500)
    t = -(0.7 * d - 1.3 * e) + 0.1 * rng.normal(size=500)
    c, k = fitted_coefficients(t, d, e)
    best = np.var(t + c * d + k * e)
    for dc, dk in [(0.01, 0), (-0.01, 0), (0, 0.01), (0, -0.01)]:
        assert np.var(t + (c + dc) * d + (k + dk) * e) > best
    # one regressor: the one-term least squares
    c, k = fitted_coefficients(t, d, np.zeros(500))
    assert k == 0.0 and c == pytest.approx(-np.cov(t, d)[0, 1] / np.var(d, ddof=1))
    assert fitted_coefficients(t, np.zeros(500), np.zeros(500)) == (0.0, 0.0)


def test_a_score_constant_on_a_half_is_not_fitted():
    """A score constant on a half (no rare draw fired) leaves rounding residue when centred,
    which a fit would read as a regressor."""
    rng = np.random.default_rng(2)
    t, d = rng.normal(size=5000), rng.normal(size=5000)
    c, k = fitted_coefficients(t, d, np.full(5000, -1 / (1 - 1e-4)))
    assert k == 0.0


def test_non_finite_samples_stay_where_they_are():
    def f(theta):  # sqrt of a negative number on a few lanes
        return sad.poisson(theta) * np.sqrt(sad.normal(0.0, 1.0) + 4.5)

    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        for compile in (True, False):
            options = {"n_samples": 200_000, "rng": 0, "compile": compile}
            combined = sad.derivative_samples(f, 2.0, estimator="combined", **options)
            triple = sad.derivative_samples(f, 2.0, **options)
            assert 0 < np.isnan(triple).sum() < 10
            np.testing.assert_array_equal(np.isnan(combined), np.isnan(triple))


@pytest.mark.parametrize("program, theta, exact, chunk_size", [
    # a rare event: most halves see no draw of the first Bernoulli fire
    (lambda th: 10 * sad.bernoulli(th) + sad.bernoulli(0.5 + 0 * th), 1e-4, 10.0, None),
    # tasks too small to fit two coefficients
    (lambda p: sad.binomial(20, p) ** 2, 0.3, 248.0, 16),
])
def test_combined_is_never_much_noisier_than_the_triples(program, theta, exact, chunk_size):
    options = {"n_samples": 100_000, "rng": 3, "chunk_size": chunk_size}
    combined = sad.derivative_samples(program, theta, estimator="combined", **options)
    triple = sad.derivative_samples(program, theta, **options)
    assert combined.std() <= 1.01 * triple.std() + 1e-9
    assert_unbiased(combined, exact)


def test_score_term_lowers_the_variance_of_an_indicator_readout():
    """On the extinction indicator the leave-one-out baseline is far from the best one; the
    fitted score term moves it (sd 0.95 with ``c`` alone, 0.68 with both)."""
    f, p, exact = CASES["extinction"]
    samples = sad.derivative_samples(f, p, n_samples=40_000, rng=11, estimator="combined")
    assert_unbiased(samples, exact)
    assert samples.std() < 0.8


def test_combined_needs_two_halves():
    with pytest.raises(ValueError, match="n_samples >= 8"):
        sad.derivative_samples(two_bernoullis, 0.1, n_samples=5, estimator="combined")


def test_unknown_estimator_lists_combined():
    with pytest.raises(ValueError, match="combined"):
        sad.derivative_samples(two_bernoullis, 0.1, n_samples=5, estimator="mixed")


# -- on the compiled engine (batched pruned runs of programs that record) --------------------

COMPILED = ["binomial-square", "two-bernoullis", "galton-watson", "extinction", "inventory",
            "percolation", "reed-frost"]


@pytest.mark.parametrize("name", COMPILED)
def test_compiled_combined_is_unbiased_on_the_bench_problems(name):
    problem = PROBLEMS[name]
    assert engine.why_not(problem.program) is None
    samples = sad.derivative_samples(problem.program, problem.param, n_samples=100_000, rng=21,
                                     estimator="combined")
    assert_unbiased(samples, problem.exact)


def scored_run(f, p, n, seed, compile=True, direction=1.0):
    """``(T, f, δf, score)`` per lane from the compiled engine or the operator engine's
    scored pruned backend."""
    p, d = np.asarray(p, float), np.asarray(direction, float)
    if compile:
        return engine.scored_samples(f, p, d, n, np.random.default_rng(seed))
    return _operator_samples(f, p, d, n, np.random.default_rng(seed), "pruned", True)


LAWS = {
    "bernoulli": (lambda p: sad.bernoulli(p), Bernoulli(), lambda p: [p]),
    "binomial": (lambda p: sad.binomial(7, p), Binomial(), lambda p: [7.0, p]),
    "poisson": (lambda p: sad.poisson(3 * p), Poisson(), lambda p: [3 * p]),
    "geometric": (lambda p: sad.geometric(p), Geometric(), lambda p: [p]),
}
DUALS = {"bernoulli": [1.0], "binomial": [None, 1.0], "poisson": [3.0], "geometric": [1.0]}


@pytest.mark.parametrize("law", list(LAWS))
@pytest.mark.parametrize("p", [0.3, 0.0, 1.0])
def test_a_lanes_score_is_the_laws_score_of_its_draw(law, p):
    f, dist, params = LAWS[law]
    if law == "geometric" and p == 0.0:
        p = 0.05  # Geometric(0) is not a law
    _, k, delta, score = scored_run(f, p, 2000, seed=3, direction=2.0)
    values = [np.full(k.shape, x) for x in params(p)]
    deltas = [None if x is None else np.full(k.shape, 2.0 * x) for x in DUALS[law]]
    np.testing.assert_array_equal(score, dist.score(k, values, deltas))
    np.testing.assert_array_equal(delta, 0.0)  # a discrete draw's own dual part


def test_a_running_count_scores_every_draw():
    def count(p):  # n = n + Bernoulli(p): the compiled engine fuses each draw with its sum
        n = 0
        for _ in range(12):
            n = n + sad.bernoulli(p)
        return n

    _, n, _, score = scored_run(count, 0.3, 2000, seed=9)
    np.testing.assert_allclose(score, n / 0.3 - (12 - n) / 0.7, rtol=1e-12, atol=1e-12)


def chained(p):
    """A draw whose parameter depends on another draw: the score takes the primal parameter
    ``p(1 + b)`` and its dual part ``(1 + b)·δp``, never the jump that ``b``'s flip gives."""
    b = sad.bernoulli(p)
    return [b, sad.poisson(p * (1 + b)), sad.normal(p, 1.0)]


@pytest.mark.parametrize("compile", [True, False])
def test_both_engines_score_a_chain_of_draws_alike(compile):
    _, value, delta, score = scored_run(chained, 0.4, 5000, seed=4, compile=compile)
    b, k = value[:, 0], value[:, 1]
    expected = (Bernoulli().score(b, [np.full(b.shape, 0.4)], [np.ones(b.shape)])
                + Poisson().score(k, [0.4 * (1 + b)], [1 + b]))
    np.testing.assert_allclose(score, expected, rtol=1e-14, atol=1e-14)
    np.testing.assert_array_equal(delta, [[0.0, 0.0, 1.0]] * 5000)  # the normal: pathwise


def test_scoring_leaves_the_triples_samples_unchanged():
    f = PROBLEMS["galton-watson"].program
    t = scored_run(f, 1.5, 3000, seed=5)[0]
    np.testing.assert_array_equal(
        t, engine.samples(f, np.array(1.5), np.array(1.0), 3000, np.random.default_rng(5)))


def test_compiled_combined_cross_fits_both_coefficients_on_the_other_half():
    f, n = PROBLEMS["extinction"].program, 1000
    samples = combined_samples(f, np.array(1.5), np.array(1.0), n, np.random.default_rng(6),
                               "pruned", True)
    t, value, delta, score = scored_run(f, 1.5, n, seed=6)
    halves = [(t[s], value[s] - (value[s].sum() - value[s]) / (n // 2 - 1), delta[s], score[s])
              for s in (slice(None, n // 2), slice(n // 2, None))]
    d = [v * sc + dl - tt for tt, v, dl, sc in halves]

    def fit(half, dd):
        """Least squares of −T on (D, score), intercept included: the variance minimiser."""
        tt, *_, sc = half
        design = np.column_stack([np.ones_like(dd), dd, sc])
        return np.linalg.lstsq(design, -tt, rcond=None)[0][1:]

    ck = [fit(half, dd) for half, dd in zip(halves, d, strict=True)]
    np.testing.assert_allclose(samples, np.concatenate(
        [halves[0][0] + ck[1][0] * d[0] + ck[1][1] * halves[0][3],
         halves[1][0] + ck[0][0] * d[1] + ck[0][1] * halves[1][3]]),
                               rtol=1e-10, atol=1e-12)


def test_combined_falls_back_to_the_operator_engine_with_its_samples():
    def unrecordable(p):  # a black box: the recorder refuses it
        return sad.propagate(lambda k: np.asarray(k) ** 2, sad.binomial(20, p))

    assert engine.why_not(unrecordable) is not None
    options = {"n_samples": 400, "rng": 8, "estimator": "combined"}
    np.testing.assert_array_equal(sad.derivative_samples(unrecordable, 0.3, **options),
                                  sad.derivative_samples(unrecordable, 0.3, compile=False,
                                                         **options))
    # a program that records draws another stream than compile=False, from the same seed
    f = PROBLEMS["binomial-square"].program
    assert not np.array_equal(sad.derivative_samples(f, 0.3, **options),
                              sad.derivative_samples(f, 0.3, compile=False, **options))


def test_compiled_combined_same_samples_without_the_jit():
    script = textwrap.dedent("""
        import stochad as sad
        from bench.problems import PROBLEMS
        for name in ["extinction", "binomial-square", "two-bernoullis"]:
            problem = PROBLEMS[name]
            out = sad.derivative_samples(problem.program, problem.param, n_samples=48, rng=5,
                                         estimator="combined")
            print(name, out.tobytes().hex())
    """)
    with_jit, without = stdout_with_and_without_jit(script)
    assert with_jit == without


def test_compiled_combined_on_an_array_parameter_and_a_deterministic_program():
    def f(p):  # d/dp = (3 + E[Poisson(p₁)], p₀) = (5, 0.3) at p = (0.3, 2)
        return 3 * sad.bernoulli(p[0]) + sad.poisson(p[1]) * sad.normal(p[0], 1.0)

    assert engine.why_not(f, (2,)) is None
    samples = sad.derivative_samples(f, np.array([0.3, 2.0]), n_samples=100_000, rng=2,
                                     estimator="combined")
    assert samples.shape == (100_000, 2)
    assert_unbiased(samples, [5.0, 0.3])
    exact = sad.derivative_samples(lambda p: p * p, 0.3, n_samples=16, rng=0,
                                   estimator="combined")
    np.testing.assert_allclose(exact, 0.6, rtol=1e-12)


def test_compiled_combined_samples_whatever_runs_the_tasks():
    f, p = PROBLEMS["galton-watson"].program, PROBLEMS["galton-watson"].param
    options = {"n_samples": 3_000, "rng": 2, "chunk_size": 1_000, "estimator": "combined"}
    np.testing.assert_array_equal(sad.derivative_samples(f, p, **options),
                                  sad.derivative_samples(f, p, workers=2, **options))
