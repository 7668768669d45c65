"""The samplers of numpy's other laws, one line each over their class in
:mod:`stochad.distributions` (:func:`stochad.draw`), with numpy's names and signatures.

Outside a run each returns numpy's own numbers for the same ``rng``; inside one, a triple
(docs/design.md §1: discrete laws by stochastic triples, continuous ones by reparameterisation,
explicit or implicit). ``multinomial`` and ``multivariate_hypergeometric`` are chains of
conditional binomial and hypergeometric draws, so each category's count carries its own
perturbation.

Examples
--------
>>> import stochad as sad
>>> from stochad import families
>>> est = sad.derivative_estimate(lambda k: families.gamma(k, 2.0), 3.0, n_samples=10_000,
...                               rng=0)
>>> abs(est - 2.0) < 0.05                               # d/dk E = d/dk 2k
True
"""

from __future__ import annotations

import numpy as np

from . import distributions as laws
from .compiled.hook import recording
from .context import current_run, normalize_rng
from .samplers import _as_param, binomial, draw
from .shape import stack
from .triple import StochasticTriple, holds_triple

__all__ = ["beta", "chisquare", "dirichlet", "f", "gamma", "gumbel", "hypergeometric",
           "laplace", "logistic", "lognormal", "logseries", "multinomial",
           "multivariate_hypergeometric", "multivariate_normal", "negative_binomial",
           "noncentral_chisquare", "noncentral_f", "pareto", "power", "rayleigh",
           "standard_cauchy", "standard_gamma", "standard_t", "triangular", "vonmises", "wald",
           "weibull", "zipf"]

BETA, CHISQUARE, DIRICHLET, F = laws.Beta(), laws.Chisquare(), laws.Dirichlet(), laws.F()
GAMMA, STANDARD_GAMMA, STANDARD_T = laws.Gamma(), laws.StandardGamma(), laws.StandardT()
GUMBEL, LAPLACE, LOGISTIC, LOGNORMAL = laws.Gumbel(), laws.Laplace(), laws.Logistic(), \
    laws.Lognormal()
NONCENTRAL_CHISQUARE, NONCENTRAL_F = laws.NoncentralChisquare(), laws.NoncentralF()
PARETO, POWER, RAYLEIGH, WEIBULL = laws.Pareto(), laws.Power(), laws.Rayleigh(), laws.Weibull()
STANDARD_CAUCHY, TRIANGULAR = laws.StandardCauchy(), laws.Triangular()
VONMISES, WALD, MULTIVARIATE_NORMAL = laws.VonMises(), laws.Wald(), laws.MultivariateNormal()
NEGATIVE_BINOMIAL, HYPERGEOMETRIC = laws.NegativeBinomial(), laws.Hypergeometric()
ZIPF, LOGSERIES = laws.Zipf(), laws.Logseries()


def beta(a, b, size=None, *, rng=None):
    """Beta(a, b) as a ratio of implicit gammas."""
    return draw(BETA, a, b, size=size, rng=rng)


def chisquare(df, size=None, *, rng=None):
    """Chi-square with ``df`` degrees of freedom (twice an implicit gamma)."""
    return draw(CHISQUARE, df, size=size, rng=rng)


def dirichlet(alpha, size=None, *, rng=None):
    """Dirichlet(alpha): implicit gammas normalised along the last axis."""
    return draw(DIRICHLET, alpha, size=size, rng=rng)


def f(dfnum, dfden, size=None, *, rng=None):
    """F distribution: a ratio of scaled chi-squares."""
    return draw(F, dfnum, dfden, size=size, rng=rng)


def gamma(shape, scale=1.0, size=None, *, rng=None):
    """Gamma(shape, scale): ``scale`` times an implicitly reparameterised standard gamma."""
    return draw(GAMMA, shape, scale, size=size, rng=rng)


def standard_gamma(shape, size=None, *, rng=None):
    """Standard gamma by implicit reparameterisation (``∂F/∂shape`` numerically)."""
    return draw(STANDARD_GAMMA, shape, size=size, rng=rng)


def standard_t(df, size=None, *, rng=None):
    """Student's t with ``df`` degrees of freedom (normal over the root of a gamma)."""
    return draw(STANDARD_T, df, size=size, rng=rng)


def noncentral_chisquare(df, nonc, size=None, *, rng=None):
    """Non-central chi-square: a Poisson(nonc/2) mixture of chi-squares."""
    return draw(NONCENTRAL_CHISQUARE, df, nonc, size=size, rng=rng)


def noncentral_f(dfnum, dfden, nonc, size=None, *, rng=None):
    """Non-central F: a non-central chi-square over a chi-square."""
    return draw(NONCENTRAL_F, dfnum, dfden, nonc, size=size, rng=rng)


def gumbel(loc=0.0, scale=1.0, size=None, *, rng=None):
    """Gumbel(loc, scale), location-scale."""
    return draw(GUMBEL, loc, scale, size=size, rng=rng)


def laplace(loc=0.0, scale=1.0, size=None, *, rng=None):
    """Laplace(loc, scale), location-scale."""
    return draw(LAPLACE, loc, scale, size=size, rng=rng)


def logistic(loc=0.0, scale=1.0, size=None, *, rng=None):
    """Logistic(loc, scale), location-scale."""
    return draw(LOGISTIC, loc, scale, size=size, rng=rng)


def lognormal(mean=0.0, sigma=1.0, size=None, *, rng=None):
    """Log-normal: ``exp(mean + sigma·z)``."""
    return draw(LOGNORMAL, mean, sigma, size=size, rng=rng)


def pareto(a, size=None, *, rng=None):
    """Pareto II (Lomax) with shape ``a``, as numpy."""
    return draw(PARETO, a, size=size, rng=rng)


def power(a, size=None, *, rng=None):
    """Power law on [0, 1] with exponent ``a - 1``."""
    return draw(POWER, a, size=size, rng=rng)


def rayleigh(scale=1.0, size=None, *, rng=None):
    """Rayleigh(scale)."""
    return draw(RAYLEIGH, scale, size=size, rng=rng)


def weibull(a, size=None, *, rng=None):
    """Weibull with shape ``a`` and scale 1."""
    return draw(WEIBULL, a, size=size, rng=rng)


def standard_cauchy(size=None, *, rng=None):
    """Standard Cauchy noise (no parameter)."""
    return draw(STANDARD_CAUCHY, size=size, rng=rng)


def triangular(left, mode, right, size=None, *, rng=None):
    """Triangular(left, mode, right) by implicit reparameterisation (numpy's sampler)."""
    return draw(TRIANGULAR, left, mode, right, size=size, rng=rng)


def vonmises(mu, kappa, size=None, *, rng=None):
    """von Mises on [-π, π] by implicit reparameterisation (numpy's sampler)."""
    return draw(VONMISES, mu, kappa, size=size, rng=rng)


def wald(mean, scale, size=None, *, rng=None):
    """Wald (inverse Gaussian) by implicit reparameterisation (numpy's sampler)."""
    return draw(WALD, mean, scale, size=size, rng=rng)


def multivariate_normal(mean, cov, size=None, *, rng=None):
    """Multivariate normal ``mean + L·z`` with ``L`` the Cholesky factor of ``cov``."""
    return draw(MULTIVARIATE_NORMAL, mean, cov, size=size, rng=rng)


def negative_binomial(n, p, size=None, *, rng=None):
    """Failures before the ``n``-th success (numpy's convention; ``n`` real > 0)."""
    return draw(NEGATIVE_BINOMIAL, n, p, size=size, rng=rng)


def hypergeometric(ngood, nbad, nsample, size=None, *, rng=None):
    """Hypergeometric; its integer parameters move by finite perturbations only."""
    return draw(HYPERGEOMETRIC, ngood, nbad, nsample, size=size, rng=rng)


def zipf(a, size=None, *, rng=None):
    """Zipf(a), ``k >= 1``."""
    return draw(ZIPF, a, size=size, rng=rng)


def logseries(p, size=None, *, rng=None):
    """Logarithmic series law, ``k >= 1``."""
    return draw(LOGSERIES, p, size=size, rng=rng)


def _inside(*args) -> bool:
    if recording() is not None:  # compiled engine: the chain's draws are recorded
        return True
    return current_run() is not None or holds_triple(list(args))


def multinomial(n, pvals, size=None, *, rng=None):
    """Multinomial counts as a chain of binomials: category ``i`` gets ``Binomial(n_left,
    p_i / p_left)`` of the trials the earlier ones left (the last one takes the rest, as
    numpy), so each count carries the perturbations of its probability.

    Examples
    --------
    >>> import stochad as sad
    >>> from stochad import families
    >>> f = lambda q: families.multinomial(10, [q, 0.5, 0.5 - q])[2]
    >>> est = sad.derivative_estimate(f, 0.2, n_samples=20_000, rng=0)
    >>> abs(est + 10.0) < 0.5                               # E = 10(0.5 − q)
    True
    """
    if not _inside(n, pvals):
        return normalize_rng(rng).multinomial(n, pvals, size)
    pvals = _as_param(pvals)
    if len(pvals.shape) != 1 or pvals.shape[0] == 0:
        raise ValueError(f"multinomial: pvals must be 1-dimensional and non-empty, got shape "
                         f"{pvals.shape}")
    left, mass, counts = n, 1.0, []
    for i in range(pvals.shape[0] - 1):
        p = pvals[i]
        share = np.minimum(p / np.maximum(mass, 1e-300), 1.0)  # rounding may pass 1
        counts.append(binomial(left, share, size))
        left, mass = left - counts[-1], mass - p
    counts.append(left if isinstance(left, StochasticTriple) or not counts
                  else left * np.ones(np.shape(counts[-1]), dtype=np.int64))
    if not counts[:-1]:  # one category: all n trials, of the requested size
        return binomial(n, 1.0, size)[..., None]
    return stack(counts, axis=-1)


def multivariate_hypergeometric(colors, nsample, size=None, method="marginals", *, rng=None):
    """Counts of each colour among ``nsample`` drawn without replacement, as a chain of
    hypergeometric draws (each colour against the colours after it)."""
    if not _inside(colors, nsample):
        return normalize_rng(rng).multivariate_hypergeometric(colors, nsample, size, method)
    colors = [int(c) for c in np.asarray(colors)] if not holds_triple(list(colors)) \
        else list(colors)
    left, counts = nsample, []
    for i in range(len(colors) - 1):
        rest = sum(colors[i + 1:])
        counts.append(hypergeometric(colors[i], rest, left, size))
        left = left - counts[-1]
    counts.append(left)
    return stack(counts, axis=-1)
