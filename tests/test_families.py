"""numpy's other laws inside a run (issue 11): each family's derivative of a non-linear
function of the draw against an exact value independent of stochad -- scipy's density
integrated by quadrature, scipy's pmf enumerated, or a closed form -- differentiated by a
central difference of that exact expectation. Discrete laws are checked on both sides
(direction +1 and -1)."""

import numpy as np
import pytest
from conftest import assert_unbiased, central_difference
from scipy import integrate, special, stats

import stochad as sad

N = 20_000


def _quad(law, g, lo=-np.inf, hi=np.inf):
    """E[g(X)] for the frozen scipy law ``law``, by quadrature of its density."""
    lo, hi = max(lo, law.support()[0]), min(hi, law.support()[1])
    with np.errstate(over="ignore"):  # the density's far tails underflow to 0
        return integrate.quad(lambda x: g(x) * law.pdf(x), lo, hi, epsabs=1e-13, epsrel=1e-12,
                              limit=200)[0]


def _by_quadrature(frozen, g, theta, **bounds):
    return central_difference(lambda t: _quad(frozen(t), g, **bounds), theta, h=1e-4)


CONTINUOUS = [
    # name, program of θ and the Generator, scipy law of θ, g, θ
    ("gamma-shape", lambda t, r: r.gamma(t, 1.5), lambda t: stats.gamma(t, scale=1.5),
     np.sqrt, 2.5),
    ("standard_gamma-small-shape", lambda t, r: r.standard_gamma(t), lambda t: stats.gamma(t),
     np.square, 0.7),
    ("beta-a", lambda t, r: r.beta(t, 2.0), lambda t: stats.beta(t, 2.0), np.square, 1.5),
    ("chisquare", lambda t, r: r.chisquare(t), lambda t: stats.chi2(t), np.sqrt, 3.0),
    ("standard_t", lambda t, r: r.standard_t(t), lambda t: stats.t(t),
     lambda x: np.log1p(x * x), 5.0),
    ("f-dfnum", lambda t, r: r.f(t, 7.0), lambda t: stats.f(t, 7.0), np.sqrt, 5.0),
    ("noncentral_chisquare-nonc", lambda t, r: r.noncentral_chisquare(3.0, t),
     lambda t: stats.ncx2(3.0, t), np.sqrt, 2.0),
    ("noncentral_f-nonc", lambda t, r: r.noncentral_f(5.0, 7.0, t),
     lambda t: stats.ncf(5.0, 7.0, t), np.sqrt, 2.0),
    ("weibull", lambda t, r: r.weibull(t), lambda t: stats.weibull_min(t), np.square, 1.5),
    ("pareto", lambda t, r: r.pareto(t), lambda t: stats.lomax(t), np.sqrt, 3.0),
    ("power", lambda t, r: r.power(t), lambda t: stats.powerlaw(t), np.square, 2.5),
    ("rayleigh", lambda t, r: r.rayleigh(t), lambda t: stats.rayleigh(scale=t),
     lambda x: x**3, 2.0),
    ("gumbel-loc", lambda t, r: r.gumbel(t, 2.0), lambda t: stats.gumbel_r(t, 2.0),
     np.square, 0.5),
    ("logistic-scale", lambda t, r: r.logistic(1.0, t), lambda t: stats.logistic(1.0, t),
     np.square, 0.8),
    ("laplace-scale", lambda t, r: r.laplace(1.0, t), lambda t: stats.laplace(1.0, t),
     np.square, 0.8),
    ("lognormal-mean", lambda t, r: r.lognormal(t, 0.5),
     lambda t: stats.lognorm(0.5, scale=np.exp(t)), np.sqrt, 0.3),
    ("triangular-mode", lambda t, r: r.triangular(0.0, t, 1.0),
     lambda t: stats.triang(t, 0.0, 1.0), np.square, 0.3),
    ("wald-mean", lambda t, r: r.wald(t, 2.0), lambda t: stats.invgauss(t / 2.0, scale=2.0),
     np.sqrt, 1.5),
    ("wald-scale", lambda t, r: r.wald(1.5, t), lambda t: stats.invgauss(1.5 / t, scale=t),
     np.sqrt, 2.0),
]


@pytest.mark.parametrize("name, program, law, g, theta", CONTINUOUS,
                         ids=[c[0] for c in CONTINUOUS])
def test_continuous_family_is_unbiased(name, program, law, g, theta):
    samples = sad.derivative_samples(lambda t: g(program(t, sad.Generator())), theta,
                                     n_samples=N, rng=1)
    assert_unbiased(samples, _by_quadrature(law, g, theta))


@pytest.mark.parametrize("parameter", ["mu", "kappa"])
def test_vonmises_counts_the_mass_wrapping_round(parameter):
    # x³ differs at -π and π: moving mu carries mass across ±π, which the implicit
    # derivative counts (a plain shift of the wrapped draw, dz/dmu = 1, would miss it)
    def density(mu, kappa):
        return lambda x: x**3 * stats.vonmises.pdf(x - mu, kappa)

    if parameter == "mu":
        def exact(t):
            return integrate.quad(density(t, 1.0), -np.pi, np.pi, epsabs=1e-13)[0]
        program = lambda t: sad.Generator().vonmises(t, 1.0) ** 3  # noqa: E731
        theta = 2.5
    else:
        def exact(t):
            return integrate.quad(density(0.5, t), -np.pi, np.pi, epsabs=1e-13)[0]
        program = lambda t: sad.Generator().vonmises(0.5, t) ** 3  # noqa: E731
        theta = 2.0
    samples = sad.derivative_samples(program, theta, n_samples=N, rng=2)
    assert_unbiased(samples, central_difference(exact, theta, h=1e-4))


def test_dirichlet_is_unbiased():
    # E[X0·X1] = α0·α1 / (A(A + 1)), A = Σα (closed form of the Dirichlet moments)
    def exact(t):
        total = t + 3.0
        return t * 1.0 / (total * (total + 1.0))

    samples = sad.derivative_samples(
        lambda t: np.prod(sad.Generator().dirichlet([t, 1.0, 2.0])[:2]), 1.5, n_samples=N,
        rng=3)
    assert_unbiased(samples, central_difference(exact, 1.5))


def test_multivariate_normal_through_a_random_covariance():
    # E[X0²·X1²] = Σ00·Σ11 + 2·Σ01² for a centred normal (Isserlis): d/dθ = Σ11 + 4·Σ01·dΣ01
    def program(t):
        cov = sad.asarray([[t, 0.3 * t], [0.3 * t, 1.0]])
        x = sad.Generator().multivariate_normal([0.0, 0.0], cov)
        return (x[0] * x[1]) ** 2

    exact = central_difference(lambda t: t * 1.0 + 2 * (0.3 * t) ** 2, 2.0)
    assert_unbiased(sad.derivative_samples(program, 2.0, n_samples=N, rng=4), exact)


def test_multivariate_normal_mean():
    # E[X0²] = μ0² + Σ00
    def program(t):
        x = sad.Generator().multivariate_normal([t, 1.0], [[2.0, 0.5], [0.5, 1.0]])
        return x[0] ** 2 + x[1]

    assert_unbiased(sad.derivative_samples(program, 0.7, n_samples=N, rng=5), 1.4)


def _enumerated(pmf, g, ks):
    return lambda t: float(np.sum(g(ks) * pmf(ks, t)))


DISCRETE = [
    # name, program, exact E[g] as a function of θ, θ
    ("negative_binomial-n", lambda t: sad.Generator().negative_binomial(t, 0.4) ** 2,
     _enumerated(lambda k, t: stats.nbinom.pmf(k, t, 0.4), np.square, np.arange(400)), 3.0),
    ("negative_binomial-p", lambda t: sad.Generator().negative_binomial(3.0, t) ** 2,
     _enumerated(lambda k, t: stats.nbinom.pmf(k, 3.0, t), np.square, np.arange(400)), 0.4),
    # E[sqrt(K)] = ζ(a − 1/2) / ζ(a)
    ("zipf", lambda t: np.sqrt(sad.Generator().zipf(t)),
     lambda t: special.zeta(t - 0.5) / special.zeta(t), 3.5),
    ("logseries", lambda t: sad.Generator().logseries(t) ** 2,
     _enumerated(lambda k, t: stats.logser.pmf(k, t), np.square, np.arange(1, 400)), 0.6),
    # the number of good items is itself random: 5 + Binomial(4, θ) (finite perturbations)
    ("hypergeometric", lambda t: sad.Generator().hypergeometric(
        5 + sad.Generator().binomial(4, t), 6, 4) ** 2,
     lambda t: sum(stats.binom.pmf(m, 4, t) * stats.hypergeom(11 + m, 5 + m, 4).moment(2)
                   for m in range(5)), 0.6),
    # E[X0·X2] = n(n − 1)·p0·p2
    ("multinomial", lambda t: np.prod(sad.Generator().multinomial(10, [t, 0.5, 0.5 - t])[::2]),
     lambda t: 90 * t * (0.5 - t), 0.2),
    ("multivariate_hypergeometric", lambda t: sad.Generator().multivariate_hypergeometric(
        [3, 4, 5], 2 + sad.Generator().binomial(4, t))[0] ** 2,
     lambda t: sum(stats.binom.pmf(m, 4, t) * stats.hypergeom(12, 3, 2 + m).moment(2)
                   for m in range(5)), 0.3),
]


@pytest.mark.parametrize("direction", [1.0, -1.0], ids=["up", "down"])
@pytest.mark.parametrize("name, program, exact, theta", DISCRETE, ids=[d[0] for d in DISCRETE])
def test_discrete_family_is_unbiased_on_both_sides(name, program, exact, theta, direction):
    samples = sad.derivative_samples(program, theta, n_samples=N, rng=6, direction=direction)
    assert_unbiased(samples, direction * central_difference(exact, theta))


def test_hypergeometric_parameters_carry_no_dual_part():
    with pytest.raises(ValueError, match="hypergeometric: ngood cannot carry a dual part"):
        sad.derivative_estimate(lambda t: sad.Generator().hypergeometric(10 * t, 5, 3), 0.5,
                                n_samples=4, rng=0)


def test_a_random_size_names_the_one_sample_mode():
    with pytest.raises(ValueError, match="size= is random.*vectorize=False"):
        sad.derivative_estimate(lambda m: np.sum(sad.Generator().poisson(m, size=sad.Generator()
                                .poisson(3.0))), 1.0, n_samples=4, rng=0)


def test_implicit_coupling_inverts_the_cdf():
    # a gamma whose shape jumps (a discrete draw) moves to F⁻¹(F(z; α); α'): the same quantile
    law = sad.distributions.StandardGamma()
    z = np.array([0.3, 1.0, 4.0, 40.0])
    moved = law.moved(z, [np.full(4, 2.0)], [np.full(4, 3.0)])
    np.testing.assert_allclose(stats.gamma.cdf(moved, 3.0), stats.gamma.cdf(z, 2.0),
                               rtol=1e-10)
    np.testing.assert_allclose(stats.gamma.sf(moved, 3.0), stats.gamma.sf(z, 2.0), rtol=1e-8)


def test_an_epidemic_with_gamma_distributed_infectious_periods():
    # a practitioner's program: each of Poisson(θ) index cases infects Poisson(β·T) others,
    # with infectious period T ~ Gamma(k, s); E[cases] = θ·(1 + β·k·s)... and the k-derivative
    # of E[total²], by the compound law: total = I + Σ secondary
    beta, scale = 0.5, 2.0

    def program(k):
        rng = sad.Generator()
        periods = rng.gamma(k, scale, size=3)
        secondary = rng.poisson(beta * periods)
        return np.sum(secondary) ** 2

    # Σ of 3 independent mixed Poissons: E[S²] = Var + mean², with mean 3·β·k·s and
    # Var = 3·(β·k·s + β²·k·s²)
    def exact(k):
        mean = beta * k * scale
        return 3 * (mean + beta**2 * k * scale**2) + (3 * mean) ** 2

    samples = sad.derivative_samples(program, 1.5, n_samples=N, rng=7)
    assert_unbiased(samples, central_difference(exact, 1.5))


BY_NAME = {d[0]: d[1:] for d in DISCRETE}


@pytest.mark.parametrize("name", ["negative_binomial-p", "hypergeometric", "multinomial"])
def test_discrete_family_under_every_unbiased_backend(name, backend):
    program, exact, theta = BY_NAME[name]
    samples = sad.derivative_samples(program, theta, n_samples=N, rng=8, backend=backend)
    assert_unbiased(samples, central_difference(exact, theta))


def test_a_gamma_coupled_across_poisson_jumps_under_the_exact_backend():
    _, program, law, g, theta = CONTINUOUS[[c[0] for c in CONTINUOUS].index(
        "noncentral_chisquare-nonc")]
    samples = sad.derivative_samples(lambda t: g(program(t, sad.Generator())), theta,
                                     n_samples=N, rng=9, backend="exact")
    assert_unbiased(samples, _by_quadrature(law, g, theta))


@pytest.mark.parametrize("name", ["negative_binomial-n", "zipf"])
def test_the_generic_score_of_a_numpy_law(name):
    program, exact, theta = BY_NAME[name]
    samples = sad.derivative_samples(program, theta, n_samples=N, rng=10, estimator="score")
    assert_unbiased(samples, central_difference(exact, theta))


@pytest.mark.parametrize("name", ["gamma-shape", "vonmises", "negative_binomial-p",
                                  "multinomial"])
def test_one_sample_mode(name):
    # vectorize=False: one lane per run, the same laws (fewer samples: one Python call each)
    if name == "vonmises":
        program = lambda t: sad.Generator().vonmises(t, 1.0) ** 3  # noqa: E731
        exact = central_difference(lambda t: integrate.quad(
            lambda x: x**3 * stats.vonmises.pdf(x - t, 1.0), -np.pi, np.pi,
            epsabs=1e-13)[0], 2.5, h=1e-4)
        theta = 2.5
    else:
        program, exact, theta = _program_and_exact(name)
    samples = sad.derivative_samples(program, theta, n_samples=2000, rng=11, vectorize=False)
    assert_unbiased(samples, exact)


def test_multivariate_normal_checks_its_covariance_inside_a_run():
    with pytest.raises(ValueError, match="cov must be a symmetric positive semi-definite"):
        sad.derivative_estimate(lambda t: sad.Generator().multivariate_normal(
            [t, 0.0], [[1.0, 2.0], [2.0, 1.0]])[0], 0.0, n_samples=4, rng=0)
    # a singular covariance (numpy accepts it): X1 = X0, so E[(X0 + X1)²] = 4(t² + 1)
    samples = sad.derivative_samples(lambda t: np.sum(sad.Generator().multivariate_normal(
        [t, t], [[1.0, 1.0], [1.0, 1.0]])) ** 2, 0.5, n_samples=N, rng=12)
    assert_unbiased(samples, 4.0)


def _program_and_exact(name):
    """A family's test program (by its name in DISCRETE or CONTINUOUS), exact derivative, θ."""
    if name in BY_NAME:
        program, expectation, theta = BY_NAME[name]
        return program, central_difference(expectation, theta), theta
    _, make, law, g, theta = CONTINUOUS[[c[0] for c in CONTINUOUS].index(name)]
    return (lambda t: g(make(t, sad.Generator()))), _by_quadrature(law, g, theta), theta


ONE_SAMPLE = ([(c[0], 1.0) for c in CONTINUOUS]
              + [(d[0], s) for d in DISCRETE for s in (1.0, -1.0)])


@pytest.mark.parametrize("name, direction", ONE_SAMPLE,
                         ids=[f"{n}-{'up' if s > 0 else 'down'}" for n, s in ONE_SAMPLE])
def test_every_family_in_one_sample_mode(name, direction):
    # vectorize=False runs each family one sample per call (the replay engine, or one-lane
    # triples for the laws it lacks): few samples, so a weak but honest 5-stderr check
    program, exact, theta = _program_and_exact(name)
    samples = sad.derivative_samples(program, theta, n_samples=300, rng=12, vectorize=False,
                                     direction=direction)
    assert_unbiased(samples, direction * exact)
