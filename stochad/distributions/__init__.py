"""Distributions: one class per law, carrying everything stochad needs to know about it.

A law is one class: its parameters' names and validation, its sampler, the new perturbation its
parameters' dual parts create (the weights of docs/design.md §1), its score ``∂ log P`` (for
``estimator="score"``), its inversion coupling and the name of its numpy ``Generator`` method.
:class:`DiscreteDistribution` is the public base class: a subclass that gives a CDF gets all of
that generically (see its docstring); the built-in laws replace the generic methods with closed
forms and numba kernels (:mod:`stochad.kernels`). The draws themselves -- triples, backends,
runs -- are :mod:`stochad.samplers`' business: this package works on plain lanes-first
arrays.
"""

from .base import Distribution
from .composite import (
    Beta,
    Chisquare,
    Dirichlet,
    F,
    Gamma,
    MultivariateNormal,
    NoncentralChisquare,
    NoncentralF,
    StandardT,
)
from .continuous import ContinuousDistribution, ImplicitDistribution
from .counts import (
    Bernoulli,
    Binomial,
    Geometric,
    Hypergeometric,
    Logseries,
    NegativeBinomial,
    Poisson,
    Zipf,
)
from .discrete import DiscreteDistribution
from .implicit import StandardGamma, Triangular, VonMises, Wald
from .multivariate import Categorical
from .transforms import (
    Exponential,
    Gumbel,
    Laplace,
    Logistic,
    Lognormal,
    Normal,
    Pareto,
    Power,
    Rayleigh,
    StandardCauchy,
    Uniform,
    Weibull,
)

__all__ = [
    "Bernoulli", "Beta", "Binomial", "Categorical", "Chisquare",
    "ContinuousDistribution", "Dirichlet", "DiscreteDistribution", "Distribution",
    "Exponential", "F", "Gamma", "Geometric", "Gumbel", "Hypergeometric",
    "ImplicitDistribution", "Laplace", "Logistic", "Lognormal", "Logseries",
    "MultivariateNormal", "NegativeBinomial", "NoncentralChisquare", "NoncentralF",
    "Normal", "Pareto", "Poisson", "Power", "Rayleigh", "StandardCauchy",
    "StandardGamma", "StandardT", "Triangular", "Uniform", "VonMises", "Wald",
    "Weibull", "Zipf",
]
