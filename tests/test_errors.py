"""Errors that protect the user: no silent loss of derivative information, clear bad input."""

import math
import re

import numpy as np
import pytest

import stochad as sad


def _run(f, p=0.3, **kw):
    return sad.derivative_samples(f, p, n_samples=kw.pop("n_samples", 200), rng=0, **kw)


def test_if_on_a_flippable_comparison_names_the_fix():
    def f(p):
        n = sad.poisson(p)
        return n if n > 2 else -n

    with pytest.raises(TypeError, match=r"stochad\.where.*stochad\.propagate.*vectorize=False"):
        _run(f, 3.0, n_samples=1)  # batched (one lane): the branch cannot follow both paths


def test_if_on_a_comparison_that_cannot_flip_is_fine():
    def f(p):
        n = sad.poisson(p)
        return n * 2 if n >= 0 else n  # n ≥ 0 on every path

    assert np.all(_run(f, 3.0, vectorize=False, n_samples=50) == 2.0)


def test_if_on_batched_samples_that_differ():
    with pytest.raises(TypeError, match="samples differ.*vectorize=False"):
        _run(lambda p: 1 if sad.bernoulli(0.5) else 0)


@pytest.mark.parametrize("convert", [float, int, complex, math.exp, math.sqrt])
def test_conversions_with_live_parts(convert):
    if convert is int:  # one sample per call, int() truncates and follows its jumps
        assert np.all(_run(lambda p: 1.0 * int(10 * p), 0.33, vectorize=False, n_samples=3) == 0)
    else:
        with pytest.raises(TypeError, match=r"lose its derivative.*np\.exp"):
            _run(lambda p: convert(p), vectorize=False, n_samples=1)
    with pytest.raises(TypeError, match=r"lose its derivative"):
        _run(lambda p: convert(sad.poisson(3.0 + 0 * p) + sad.bernoulli(p)), 0.0, n_samples=1)
    # one sample per call, a discrete draw is a plain integer: converting it loses nothing
    # (the replay engine follows its perturbation)
    if convert is not complex:
        _run(lambda p: convert(sad.poisson(3.0 + 0 * p) + sad.bernoulli(p)), vectorize=False,
             n_samples=5)


def test_conversion_without_live_parts_is_allowed():
    assert _run(lambda p: float(sad.poisson(2.0)) * p, vectorize=False, n_samples=5).shape == (5,)


def test_python_index_with_perturbation_names_take():
    with pytest.raises(TypeError, match=r"stochad\.take"):
        _run(lambda p: [1.0, 2.0][sad.bernoulli(p)], n_samples=20)


def test_numpy_array_conversion_and_unsupported_functions():
    with pytest.raises(TypeError, match="drop its dual part"):
        _run(lambda p: np.asarray(p))
    with pytest.raises(TypeError, match=r"numpy\.fft.*not supported.*stochad\.propagate"):
        _run(lambda p: np.fft.fft(p * np.ones(4)))
    with pytest.raises(TypeError, match="immutable"):
        def f(p):
            v = p * np.ones(3)
            v[0] = 1.0
        _run(f)


@pytest.mark.parametrize(
    ("draw", "message"),
    [
        (lambda: sad.bernoulli(1.5), r"p must be in \[0, 1\], got 1\.5"),
        (lambda: sad.bernoulli(-0.1), r"p must be in \[0, 1\], got -0\.1"),
        (lambda: sad.bernoulli(np.nan), r"p must be in \[0, 1\], got nan"),
        (lambda: sad.binomial(-1, 0.5), "n must be a non-negative integer, got -1"),
        (lambda: sad.binomial(2.5, 0.5), "n must be a non-negative integer, got 2.5"),
        (lambda: sad.binomial(3, 2.0), r"p must be in \[0, 1\], got 2\.0"),
        (lambda: sad.poisson(-2.0), "lam must be finite and >= 0, got -2.0"),
        (lambda: sad.poisson(np.inf), "lam must be finite and >= 0, got inf"),
        (lambda: sad.geometric(0.0), r"p must be in \(0, 1\], got 0\.0"),
        (lambda: sad.categorical([0.5, 0.6]), "probabilities must sum to 1, got 1.1"),
        (lambda: sad.categorical([-0.5, 1.5]), "must be finite and >= 0, got -0.5"),
        (lambda: sad.categorical([np.nan, 1.0]), "must be finite and >= 0, got nan"),
        (lambda: sad.categorical([]), "at least one category"),
        (lambda: sad.normal(0.0, -1.0), "scale must be finite and >= 0, got -1.0"),
        (lambda: sad.normal(np.nan, 1.0), "loc must be finite, got nan"),
        (lambda: sad.exponential(-1.0), "scale must be finite and >= 0, got -1.0"),
        (lambda: sad.uniform(0.0, np.inf), "high must be finite, got inf"),
    ],
)
def test_invalid_parameters(draw, message):
    with pytest.raises(ValueError, match=message):
        draw()  # outside a run
    with pytest.raises(ValueError, match=message):
        _run(lambda p: draw())  # inside a run


def test_invalid_triple_parameters_inside_a_run():
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\], got 1\.2"):
        _run(lambda p: sad.bernoulli(4 * p), 0.3)


def test_invalid_alternative_path_parameter():
    """At p = 0, B ~ Bernoulli(p) is 0 but may move to 1, where bernoulli(0.6 + B) has p = 1.6:
    an error, not a silent clip."""
    with pytest.raises(ValueError, match=r"got 1\.6 \(on the alternative path"):
        _run(lambda p: sad.bernoulli(0.6 + sad.bernoulli(p)), 0.0, n_samples=20)


def test_binomial_n_cannot_carry_a_dual_part():
    with pytest.raises(ValueError, match="cannot carry a dual part"):
        _run(lambda p: sad.binomial(10 * p, 0.5), 1.0)


def test_estimator_arguments():
    with pytest.raises(ValueError, match="p must be finite"):
        sad.derivative_estimate(sad.poisson, np.nan)
    with pytest.raises(ValueError, match="n_samples must be a positive integer"):
        sad.derivative_estimate(sad.poisson, 1.0, n_samples=0)
    with pytest.raises(ValueError, match="unknown backend 'fast'"):
        sad.derivative_estimate(sad.poisson, 1.0, backend="fast")
    with pytest.raises(ValueError, match=r"direction has shape \(3,\), but p has shape \(2,\)"):
        sad.derivative_estimate(sad.poisson, np.ones(2), direction=np.ones(3))
    with pytest.raises(ValueError, match="chunk_size must be a positive integer"):
        sad.derivative_estimate(sad.poisson, 1.0, chunk_size=0)


def test_rng_inside_a_run_is_refused():
    with pytest.raises(ValueError, match="pass rng= to the estimator"):
        _run(lambda p: sad.bernoulli(p, rng=1))


def test_mixing_runs_is_refused():
    kept = []

    def first(p):
        kept.append(sad.bernoulli(p))
        return kept[0]

    _run(first)
    with pytest.raises(ValueError, match="two different runs"):
        _run(lambda p: kept[0] + sad.bernoulli(p))


def test_shape_mismatch_reports_the_programs_shapes():
    with pytest.raises(ValueError, match=r"shape \(3,\) and arg 1 with shape \(2,\)"):
        _run(lambda p: p * np.ones(3) + p * np.ones(2))


def test_ufunc_reduce_keywords_are_honoured_or_refused():
    def f(p):
        v = p * np.array([[1.0, 2.0], [3.0, 4.0]])
        kept = np.add.reduce(v, axis=1, keepdims=True)
        assert kept.shape == (2, 1)
        return kept[:, 0]

    np.testing.assert_array_equal(sad.derivative_estimate(f, 1.0), [3.0, 7.0])
    with pytest.raises(TypeError, match="not supported on stochastic triples"):
        _run(lambda p: np.add.reduce(p * np.ones(3), initial=1.0))


@pytest.mark.parametrize("returned", ["abc", ["a", "b"]])
def test_a_program_returning_strings_is_refused(returned):
    with pytest.raises(TypeError, match="the function returned <U"):
        sad.derivative_estimate(lambda p: returned, 0.5, n_samples=2)


def test_a_triple_kept_from_an_earlier_run_is_refused():
    kept = []
    sad.derivative_estimate(lambda p: kept.append(sad.poisson(p)) or kept[0], 2.0, n_samples=2)
    with pytest.raises(ValueError, match="two different runs"):
        sad.derivative_estimate(lambda p: kept[0], 2.0, n_samples=2)


@pytest.mark.parametrize("bad, error", [(2.5, TypeError), ("10", TypeError), (True, TypeError),
                                        (10**30, ValueError), (1e300, TypeError),
                                        (0, ValueError)])
def test_n_samples_must_be_a_positive_int_below_the_limit(bad, error):
    expected = f"n_samples must be a positive integer.*got {re.escape(repr(bad))}"
    with pytest.raises(error, match=expected):
        sad.derivative_estimate(sad.poisson, 1.0, n_samples=bad)


@pytest.mark.parametrize("bad", ["no", 0, None])
def test_vectorize_and_maximize_must_be_booleans(bad):
    with pytest.raises(TypeError, match=f"vectorize must be True or False, got {bad!r}"):
        sad.derivative_estimate(sad.poisson, 1.0, n_samples=2, vectorize=bad)
    with pytest.raises(TypeError, match=f"maximize must be True or False, got {bad!r}"):
        sad.optimize.sgd(sad.poisson, 1.0, learning_rate=0.1, steps=1, maximize=bad)


@pytest.mark.parametrize("method, args", [("gamma", ("2", 1.0)), ("gamma", (None, 1.0)),
                                          ("poisson", ("2",)), ("binomial", (5, None)),
                                          ("normal", ("0", 1.0)),
                                          ("negative_binomial", (3, "0.5"))])
def test_a_parameter_that_is_not_a_number_is_a_type_error_one_sample_per_call(method, args):
    # numpy refuses these; the replay engine read '2' as 2.0 and None as NaN
    with pytest.raises(TypeError, match=r"must be a real number or an array of them, got"):
        _run(lambda p: p * getattr(sad.Generator(), method)(*args), vectorize=False,
             n_samples=1)


@pytest.mark.parametrize("name", ["kpaths:0", "kpaths:x", "kpaths:-1", "kpaths:1.5", "kpaths:",
                                  "kpaths: 4", "kpaths:\u00b2", "kpaths:\u0663"])
def test_kpaths_needs_an_ascii_positive_integer(name):
    with pytest.raises(ValueError, match="K of 'kpaths:K' must be a positive integer"):
        sad.derivative_samples(lambda p: sad.bernoulli(p), 0.5, n_samples=4, rng=0,
                               vectorize=False, backend=name)


def test_smoothed_one_sample_per_call_refuses_an_if_on_a_coin_instead_of_dropping_it():
    # the smoothed backend folds a flip's weight into the boolean's dual part; an if used to
    # drop it silently (0 for an exact 1)
    def coin(p):
        return 1.0 if sad.Generator().random() < p else 0.0

    with pytest.raises(TypeError, match="carries a dual part.*kpaths or exact backend"):
        sad.derivative_samples(coin, 0.4, n_samples=10, rng=0, vectorize=False,
                               backend="smoothed")
