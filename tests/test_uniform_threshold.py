"""``rng.random() < theta`` in a batched run is the draw ``bernoulli(theta)`` (issue 15), and a
comparison that drops a dual part warns instead of giving a silent 0."""

import warnings

import numpy as np
import pytest
from conftest import assert_unbiased
from scipy import stats

import stochad as sad


@pytest.mark.parametrize("options", [{"backend": "pruned"}, {"backend": "exact"},
                                     {"backend": "smoothed"},
                                     {"estimator": "score", "baseline": True}])
def test_uniform_below_a_moving_threshold_is_a_bernoulli(options):
    # d/dp E[7·1{U < p} − 3] = 7 (conformance table, bernoulli, f = 7x − 3)
    f = lambda p: 7 * (sad.Generator().random() < p) - 3  # noqa: E731
    assert_unbiased(sad.derivative_samples(f, 0.3, n_samples=20_000, rng=0, **options), 7.0)


def test_uniform_above_a_moving_threshold_is_the_complement():
    f = lambda p: 1.0 * (p < sad.Generator().random())  # noqa: E731  (reflected: U > p)
    assert_unbiased(sad.derivative_samples(f, 0.4, n_samples=20_000, rng=1), -1.0)


def test_the_readme_walk_written_with_raw_uniforms():
    # the README walk, each step `rng.random() < prob` as numpy users write a coin flip;
    # exact d/dp E = 56.6079 by dynamic programming (bench.exact_values.random_walk)
    def walk(p):
        rng, n = sad.Generator(), 0
        for i in range(1, 101):
            n = n + (rng.random() < p * (1 - (n + i) / 200))
        return n

    assert_unbiased(sad.derivative_samples(walk, 0.5, n_samples=20_000, rng=2), 56.6079)


def test_vector_uniforms_against_a_scalar_threshold():
    # five independent coins: d/dp E[number of heads²] = d/dp (5p + 20p²) = 5 + 40p = 17
    f = lambda p: np.sum(sad.Generator().random(5) < p) ** 2  # noqa: E731
    assert_unbiased(sad.derivative_samples(f, 0.3, n_samples=20_000, rng=3), 17.0)


def test_a_comparison_that_loses_mass_warns():
    with pytest.warns(sad.LostDerivativeWarning, match="derivative of its jumps is lost"):
        sad.derivative_estimate(lambda m: 1.0 * (sad.normal(m, 1.0) > 0), 0.0, n_samples=10,
                                rng=0)


def test_a_check_of_the_parameter_alone_does_not_warn_but_a_tie_does():
    # an actuary's rate checked as scipy checks it (mu >= 0 inside stats.poisson.rvs) or by
    # hand (if lam > 10: raise): the same in every lane, it flips only at isolated rates, so
    # nothing is lost (it warned in the generator guide's own example); at a tie it can flip
    def claims(lam):
        if lam > 10.0:
            raise ValueError("lam")
        return stats.poisson.rvs(lam, size=1, random_state=sad.Generator())[0] ** 2

    with warnings.catch_warnings():
        warnings.simplefilter("error", sad.LostDerivativeWarning)
        assert_unbiased(sad.derivative_samples(claims, 2.0, n_samples=20_000, rng=0), 5.0)
    with pytest.warns(sad.LostDerivativeWarning, match="greater_equal"):
        sad.derivative_estimate(lambda p: (p >= 0.5) + sad.bernoulli(0.5), 0.5, n_samples=10,
                                rng=0)


@pytest.mark.parametrize("f", [lambda m: sad.exponential(m) % 1.0,
                               lambda m: np.remainder(sad.exponential(m), 1.0),
                               lambda m: np.floor(sad.exponential(m))])
def test_batched_steps_of_a_continuous_draw_warn(f):
    # x % 1 of a moving draw lost its jumps silently in the compiled engine (0.99 for 0.12)
    with pytest.warns(sad.LostDerivativeWarning, match="derivative of its jumps is lost"):
        sad.derivative_samples(f, 1.3, n_samples=10, rng=0)


def test_the_outcome_is_a_boolean_as_numpys_comparison_gives():
    # numpy's `u < p` is a boolean: `~dies` is "survives" and `+` of two masks is OR (an
    # integer outcome made ~ a bitwise not, always true, and + a count; derivative 0 for -5)
    st = sad.stochastic_triple(lambda p: sad.Generator().random(3) < p, 0.3)
    assert sad.value(st).dtype == bool

    def survivors(p):                       # E = 5(1 − p)
        dies = sad.Generator().random(5) < p
        return np.sum(np.where(~dies, 1.0, 0.0))

    def ever_infected(p):                   # E = 5(1 − (1 − p)³), numpy's + of masks is OR
        rng, infected = sad.Generator(), np.zeros(5, dtype=bool)
        for _ in range(3):
            infected = infected + (rng.random(5) < p)
        return np.sum(infected)

    assert_unbiased(sad.derivative_samples(survivors, 0.2, n_samples=20_000, rng=0), -5.0)
    # one number is numpy's Python bool of float < float, which adds as 0 or 1: two births
    # count two (a boolean made them one, OR: 1.41 for 2), births minus deaths subtract

    def births_minus_deaths(p):             # E = 2p - 0.3
        rng = sad.Generator()
        return ((rng.random() < p) + (rng.random() < p) - (rng.random() < 0.3 + 0 * p)) * 1.0

    assert_unbiased(sad.derivative_samples(births_minus_deaths, 0.4, n_samples=20_000,
                                           rng=0), 2.0)
    # ... and, as numpy's weak Python bool, it ORs into a boolean array; an element of an
    # array of uniforms is numpy's boolean, which ORs too (both added as integers: 15 for 7.35)

    def ever_exposed(p):                    # E = 5(1 − (1 − p)³): one exposure a day for all
        rng, exposed = sad.Generator(), np.zeros(5, dtype=bool)
        for _ in range(3):
            exposed = exposed + (rng.random() < p)
        return np.sum(exposed)

    def either(p):                          # E = 1 − (1 − p)²
        u = sad.Generator().random(2)
        return 1.0 * ((u[0] < p) + (u[1] < p))

    assert_unbiased(sad.derivative_samples(ever_exposed, 0.3, n_samples=20_000, rng=0),
                    15 * 0.7 ** 2)
    assert_unbiased(sad.derivative_samples(either, 0.3, n_samples=20_000, rng=0), 2 * 0.7)
    assert_unbiased(sad.derivative_samples(ever_infected, 0.2, n_samples=20_000, rng=0),
                    15 * 0.8 ** 2)


def test_rows_elements_and_ufunc_forms_of_uniforms_are_the_same_draws():
    # a pre-drawn U = rng.random((T, n)) read row by row, np.less(u, p), np.greater(p, u),
    # the transpose, and a threshold above 1 (u < 2p at p = 0.7 always holds: derivative 0)
    def rows(p):
        U, total = sad.Generator().random((6, 3)), 0
        for t in range(6):
            total = total + np.sum(U[t] < p)
        return total * 1.0

    cases = [(rows, 0.3, 18.0),
             (lambda p: np.less(sad.Generator().random(), p) * 1.0, 0.3, 1.0),
             (lambda p: np.greater(p, sad.Generator().random()) * 1.0, 0.3, 1.0),
             (lambda p: np.sum(sad.Generator().random((2, 3)).T < p) * 1.0, 0.3, 6.0),
             (lambda p: np.sum(sad.Generator().random(4) < 2 * p) * 1.0, 0.3, 8.0),
             (lambda p: np.sum(sad.Generator().random(4) < 2 * p) * 1.0, 0.7, 0.0)]
    with warnings.catch_warnings():
        warnings.simplefilter("error", sad.LostDerivativeWarning)
        for f, p, exact in cases:
            assert_unbiased(sad.derivative_samples(f, p, n_samples=20_000, rng=1), exact)


def test_one_uniform_deciding_an_event_and_used_again_warns():
    # a weather chain with one uniform a day for a three-way outcome (dry, showers, storm):
    # the batched engine takes each u < θ as its own bernoulli, so it cannot be right here
    # (0.29 for 1 on the first case, -1.5 for -5.2 on a rating chain); it warns, naming
    # vectorize=False, whose replay engine follows every use of the uniform
    def storms(p):                           # E = 4 · 0.2 whatever p: derivative 0
        rng, count = sad.Generator(), 0
        for _ in range(4):
            u = rng.random()
            count = count + np.where(u < p, 0, np.where(u < 0.8, 1, 2)) // 2
        return count * 1.0

    programs = [(lambda p: (lambda u: ((u < p) & (u < 0.5)) * 1.0)(sad.Generator().random()),
                 0.3, 1.0),
                (lambda p: (lambda u: (u < p) * u)(sad.Generator().random()), 0.3, 0.3),
                (lambda p: (lambda U: np.sum((U[0] < p) & (U[0] < 0.5)) * 1.0)(
                    sad.Generator().random((2, 3))), 0.3, 3.0),
                (storms, 0.3, 0.0)]
    u2 = lambda: sad.Generator().random(2)  # noqa: E731
    programs += [  # reached through stochad's own functions, or two thresholds at once
        (lambda p: (lambda u: sad.where(u < p, u, 0.0))(sad.Generator().random()), 0.3, 0.3),
        (lambda p: (lambda u: sad.take(u, (u[0] < p) * 1))(u2()), 0.3, 0.2),
        (lambda p: (lambda u: sad.propagate(lambda x: x * x, u) * (u < p))(
            sad.Generator().random()), 0.3, 0.09),
        (lambda p: np.prod(sad.Generator().random() < p * np.array([1.0, 2.0])) * 1.0, 0.3,
         1.0)]
    for f, p, exact in programs:
        with pytest.warns(sad.LostDerivativeWarning, match="vectorize=False"):
            sad.derivative_samples(f, p, n_samples=200, rng=0)
        assert_unbiased(sad.derivative_samples(f, p, n_samples=4_000, rng=0,
                                               vectorize=False), exact)
