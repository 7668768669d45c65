"""numpy's other continuous laws in the replay engine (vectorize=False): drawn by inversion,
their comparisons are Bernoulli events through the law's CDF (stochad.cdf_laws). Exact values
from scipy (closed forms, quadrature), differentiated by central differences of the exact
expectation or by complex step."""

import math
import warnings

import numpy as np
import pytest
from scipy import integrate, stats

import stochad as sad
from stochad import cdf_laws


def _samples(f, theta, n, backend="pruned", seed=1):
    with warnings.catch_warnings():
        warnings.simplefilter("error", sad.LostDerivativeWarning)
        return sad.derivative_samples(f, theta, n_samples=n, rng=seed, vectorize=False,
                                      backend=backend)


def _check(samples, exact):
    mean, err = samples.mean(), samples.std() / math.sqrt(samples.size)
    assert abs(mean - exact) < 5 * err + 1e-12, (mean, err, exact)


def _central(mean, theta, h=1e-5):
    return (mean(theta + h) - mean(theta - h)) / (2 * h)


def test_gamma_mean_follows_the_implicit_dual_part():
    # E[gamma(k, 2)] = 2k: no comparison, the dual part alone
    _check(_samples(lambda k: sad.Generator().gamma(k, 2.0), 3.0, 4000), 2.0)


@pytest.mark.parametrize("backend", ["pruned", "exact"])
def test_gamma_against_a_fixed_threshold_is_an_event_through_the_cdf(backend):
    f = lambda k: float(sad.Generator().gamma(k, 1.0) < 2.0)  # noqa: E731
    _check(_samples(f, 3.0, 4000, backend), _central(lambda k: stats.gamma.cdf(2.0, k), 3.0))


def test_lognormal_and_beta_against_moving_and_fixed_thresholds():
    f = lambda m: float(sad.Generator().lognormal(m, 0.5) > 1.5)  # noqa: E731
    _check(_samples(f, 0.2, 4000),
           stats.norm.pdf((math.log(1.5) - 0.2) / 0.5) / 0.5)
    g = lambda p: float(sad.Generator().beta(2.0, 3.0) < p)  # noqa: E731
    _check(_samples(g, 0.4, 4000), stats.beta.pdf(0.4, 2.0, 3.0))


def test_a_parameter_moved_by_a_flipped_draw_couples_by_inversion():
    # the replay of a flipped Poisson count draws the gamma at another shape from the same u
    def f(lam):
        rng = sad.Generator()
        return rng.gamma(rng.poisson(lam) + 1.0, 1.5)
    _check(_samples(f, 2.0, 6000), 1.5)        # E = 1.5 (λ + 1)
    _check(_samples(f, 2.0, 3000, "exact"), 1.5)


def test_arrays_of_draws_compared_element_by_element():
    def f(k):
        return float(np.sum(sad.Generator().gamma(k, 1.0, size=4) < 2.0))
    _check(_samples(f, 3.0, 3000), 4 * _central(lambda k: stats.gamma.cdf(2.0, k), 3.0))


def warranty_cost(eta, rng):
    """A 2-out-of-3 system with Weibull(shape 1.5, scale eta) components: it fails at its
    second component failure; a system failure before the 1-year warranty ends costs 100."""
    failed = 0
    for _component in range(3):
        if eta * rng.weibull(1.5) < 1.0:
            failed += 1
    return 100.0 if failed >= 2 else 0.0


def warranty_cost_mean(eta):
    F = 1 - np.exp(-(1.0 / eta) ** 1.5)
    return 100 * (3 * F**2 * (1 - F) + F**3)


def test_reliability_warranty_with_weibull_lifetimes():
    exact = np.imag(warranty_cost_mean(2.0 + 1e-20j)) / 1e-20  # complex step
    _check(_samples(lambda eta: warranty_cost(eta, sad.Generator()), 2.0, 8000), exact)


def repair_shop(mean_repair, rng):
    """Five jobs, lognormal repair times; a job finished after the 8-hour day costs
    overtime, 50 per job."""
    clock, cost = 0.0, 0.0
    for _ in range(5):
        clock += rng.lognormal(np.log(mean_repair), 0.4)
        if clock > 8.0:
            cost += 50.0
    return cost


def test_repair_shop_with_lognormal_times_and_an_overtime_branch():
    # P(S_j > 8) for a sum of j lognormals: a 1-d quadrature over the density of the sum,
    # built by convolution on a grid fine enough for a derivative far below the stderr
    def mean(m):
        x = np.linspace(0, 40, 80_001)
        dx = x[1] - x[0]
        pdf = stats.lognorm.pdf(x, 0.4, scale=m)
        density, total = pdf.copy(), 0.0
        for _ in range(5):
            total += 50 * (1 - np.sum(density[x <= 8.0]) * dx)
            density = np.convolve(density, pdf)[: x.size] * dx
        return total
    exact = _central(mean, 1.5, 1e-4)
    assert abs(integrate.quad(lambda t: stats.lognorm.pdf(t, 0.4, scale=1.5), 0, 40)[0]
               - 1) < 1e-9
    _check(_samples(lambda m: repair_shop(m, sad.Generator()), 1.5, 6000), exact)


def test_every_law_draws_numpys_law_by_inversion():
    rng = np.random.default_rng(0)
    u = rng.random(2000)
    cases = {"gamma": (2.0, 1.5), "standard_gamma": (0.7,), "chisquare": (3.0,),
             "beta": (2.0, 0.5), "standard_t": (4.0,), "f": (3.0, 7.0),
             "noncentral_chisquare": (3.0, 1.5), "noncentral_f": (3.0, 7.0, 1.5),
             "lognormal": (0.3, 0.6), "weibull": (1.7,), "pareto": (3.0,), "rayleigh": (2.0,),
             "power": (2.5,), "gumbel": (1.0, 2.0), "logistic": (1.0, 2.0),
             "laplace": (1.0, 2.0), "standard_cauchy": (), "wald": (1.0, 2.0),
             "vonmises": (0.5, 2.0), "triangular": (0.0, 1.0, 3.0)}
    assert set(cases) == set(cdf_laws.LAWS)
    for name, params in cases.items():
        law = cdf_laws.LAWS[name]
        x = law.ppf(u, *params)
        numpy_draws = getattr(rng, name)(*params, size=2000)
        assert stats.ks_2samp(x, numpy_draws).pvalue > 1e-4, name
        # the density is the CDF's derivative, and the CDF inverts the ppf
        np.testing.assert_allclose(law.cdf(x, *params), u, atol=1e-7, err_msg=name)


def test_same_seed_same_samples():
    f = lambda k: float(sad.Generator().gamma(k, 1.0) < 2.0)  # noqa: E731
    a, b = (sad.derivative_samples(f, 3.0, n_samples=50, rng=7, vectorize=False)
            for _ in range(2))
    assert np.array_equal(a, b)


def test_bad_parameters_name_the_argument():
    with pytest.raises(ValueError, match="gamma: shape must be finite and > 0, got -1.0"):
        sad.derivative_estimate(lambda k: sad.Generator().gamma(-k, 1.0), 1.0, n_samples=2,
                                rng=0, vectorize=False)
    with pytest.raises(ValueError, match="triangular"):
        sad.derivative_estimate(lambda c: sad.Generator().triangular(0.0, c, 1.0), 2.0,
                                n_samples=2, rng=0, vectorize=False)


def test_sorted_lifetimes_compare_draws_that_all_move():
    # sorted() compares the moving lifetimes with each other: each comparison is one event on
    # the newer draw and narrows the older one, so the order statistic's event is weighted
    # within its cell (-0.341 for -0.464 with a warning before)
    def second_failure_cost(eta):
        rng = sad.Generator()
        life = sorted(eta * rng.weibull(1.5) for _ in range(3))[1]
        return 100.0 if life < 1.0 else 0.0
    exact = np.imag(warranty_cost_mean(2.0 + 1e-20j)) / 1e-20
    _check(_samples(second_failure_cost, 2.0, 8000), exact)


def test_thresholds_outside_the_support_and_degenerate_triangles():
    # triangular(0, 1, 2) below 2.5 always: nothing moves (the density is 0 outside)
    f = lambda t: float(np.sum(sad.Generator().triangular(0.0, 1.0, 2.0, size=3) < t))  # noqa: E731
    assert np.all(_samples(f, 2.5, 200) == 0.0)
    # mode at the right end: F(x) = x² on [0, 1], so d/ds P(s·T < 0.5) = -0.5 at s = 1
    g = lambda s: float(s * sad.Generator().triangular(0.0, 1.0, 1.0) < 0.5)  # noqa: E731
    _check(_samples(g, 1.0, 4000), -0.5)


def test_a_zero_scale_is_a_point_mass_drawn_as_before():
    # numpy allows sigma = 0: no CDF to invert, so the program runs on one-lane triples
    d = sad.derivative_samples(lambda m: sad.Generator().lognormal(m, 0.0), 1.0, n_samples=20,
                               rng=0, vectorize=False)
    np.testing.assert_allclose(d, math.e, rtol=1e-12)


def test_small_parameters_and_far_tails():
    # beta(a, 1) = u^(1/a): at a = 5e-6 a draw is below 0.5 with probability F = 0.5^a (all
    # of these 50), and its event's sample is dF/da / F = log(0.5), mean dF/da (a step of
    # 1e-5 absolute made the parameter negative: 0, silently)
    d = _samples(lambda a: float(sad.Generator().beta(a, 1.0) < 0.5), 5e-6, 50)
    np.testing.assert_allclose(d, math.log(0.5), rtol=1e-6)
    # F(50) rounds to 1 inside the support: a mass below rounding, no warning (_samples
    # turns LostDerivativeWarning into an error)
    _samples(lambda s: float(sad.Generator().gamma(2.0, s) < 50.0), 1.0, 100)


def test_max_min_and_sort_of_an_array_draw():
    # E[max], E[min] of three Gamma(k) draws: ∫ 1 − F³ and ∫ (1 − F)³ over x > 0
    def moments(k):
        top = integrate.quad(lambda x: 1 - stats.gamma.cdf(x, k) ** 3, 0, np.inf)[0]
        low = integrate.quad(lambda x: stats.gamma.sf(x, k) ** 3, 0, np.inf)[0]
        return np.array([top, low])
    exact = _central(moments, 2.0, 1e-4)

    def extremes(k):
        x = sad.Generator().gamma(k, 1.0, size=3)
        return [np.max(x), x.min(), np.sort(x)[0]]
    d = _samples(extremes, 2.0, 4000)
    for j, e in enumerate([exact[0], exact[1], exact[1]]):
        _check(d[:, j], e)


def test_gamma_at_its_extremes_one_draw_at_a_time():
    # a review of the scalar fast paths: a subnormal draw over a large scale (math.log of 0
    # raised), a shape 0.01 whose draws are often exactly 0 with a moving scale (the CDF's
    # scale derivative was inf·0 = NaN there, which raised), and a scale of 1e-300 divided out
    # (the quotient's dual part squared 1e-300: ZeroDivisionError)
    assert cdf_laws.LAWS["gamma"].pdf(5e-324, 0.5, 2.0) > 0
    below = sad.derivative_samples(lambda k: 1.0 * (sad.Generator().gamma(k, 1e10) < 1e-314),
                                   0.5, n_samples=20, rng=1, vectorize=False)
    np.testing.assert_array_equal(below, 0.0)
    a, c = 0.01, 1e-3
    _check(_samples(lambda k: 1.0 * (sad.Generator().gamma(a, k) < c), 1.0, 20_000),
           -stats.gamma.pdf(c, a) * c)                    # d/dk P(Gamma(a, k) < c) at k = 1
    _check(_samples(lambda k: sad.Generator().gamma(a, k) * 1.0, 1.0, 20_000), a)
    _check(_samples(lambda k: sad.Generator().gamma(k, 1e-300) / 1e-300, 1.5, 5_000), 1.0)


def test_thresholds_beyond_a_laws_range_and_a_running_minimum_from_infinity():
    # a reliability engineer's first failure among three gamma lifetimes, kept as a running
    # minimum that starts at math.inf, and the total of two lognormal claims above 3 (the
    # second compared with 3 minus the first, below its range at times): both raised "the
    # derivative of its CDF in its parameters is not finite"
    def first_failure(scale):
        best = math.inf
        for _ in range(3):
            x = sad.Generator().gamma(2.0, scale)
            if x < best:
                best = x
        return best

    def two_claims(sigma):
        rng = sad.Generator()
        return float(rng.lognormal(0.2, sigma) + rng.lognormal(0.2, sigma) > 3.0)

    def expected_claims(sigma):  # P(X1 + X2 > 3) by quadrature over X1
        law = stats.lognorm(sigma, scale=math.exp(0.2))
        inner = integrate.quad(lambda x: law.pdf(x) * law.sf(3.0 - x), 0, 3.0, limit=200)[0]
        return inner + law.sf(3.0)

    # E min of three Gamma(2, s) lifetimes is s·E min of three Gamma(2, 1): d/ds = that mean
    mean_min = integrate.quad(lambda x: stats.gamma.sf(x, 2.0) ** 3, 0, math.inf)[0]
    _check(_samples(first_failure, 1.5, 20_000), mean_min)
    _check(_samples(two_claims, 0.6, 20_000), _central(expected_claims, 0.6, h=1e-4))


def test_location_scale_laws_are_numpys_loc_plus_scale_times_the_standard_law():
    # what the replay engine's location-scale path relies on (Tape._located_scaled): numpy's
    # sampler computes loc + scale·e from the same bits, so drawing the standard law and
    # moving it gives numpy's numbers exactly
    cases = {"gamma": ((2.5, 1.7), (2.5, 1.0)), "rayleigh": ((1.7,), (1.0,)),
             "gumbel": ((0.3, 1.7), (0.0, 1.0)), "logistic": ((0.3, 1.7), (0.0, 1.0)),
             "laplace": ((0.3, 1.7), (0.0, 1.0))}
    assert {name for name, law in cdf_laws.LAWS.items()
            if getattr(law, "location_scale", None) is not None} == set(cases)
    for name, (params, standard) in cases.items():
        loc, scale = cdf_laws.LAWS[name].location_scale
        a, b = np.random.default_rng(5), np.random.default_rng(5)
        for _ in range(500):
            x = getattr(a, name)(*params)
            e = getattr(b, name)(*standard)
            assert x == (0.0 if loc is None else params[loc]) + e * params[scale], name


def test_flood_and_wave_exceedances_with_moving_location_and_scale():
    # a hydrologist's ten years of Gumbel annual maxima against a levee, the location and
    # the scale each moving, and an offshore engineer's Rayleigh wave heights against a deck
    # clearance, counted with Python ifs: d/dθ of n·P(X > h) from scipy's densities
    def years_overtopped(loc, scale, rng):
        return sum(1.0 for _ in range(10) if rng.gumbel(loc, scale) > 4.0)

    def waves_over_deck(scale):
        rng = sad.Generator()
        count = 0
        for _ in range(20):
            if rng.rayleigh(scale) > 3.0:
                count += 1
        return float(count)

    f = stats.gumbel_r.pdf(4.0, 2.0, 1.2)
    _check(_samples(lambda m: years_overtopped(m, 1.2, sad.Generator()), 2.0, 8_000), 10 * f)
    _check(_samples(lambda s: years_overtopped(2.0, s, sad.Generator()), 1.2, 8_000),
           10 * f * (4.0 - 2.0) / 1.2)
    _check(_samples(waves_over_deck, 1.5, 8_000),
           20 * stats.rayleigh.pdf(3.0, scale=1.5) * 3.0 / 1.5)
