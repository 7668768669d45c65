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
from .continuous import ContinuousDistribution, Exponential, Normal, Uniform
from .counts import Bernoulli, Binomial, Geometric, Poisson
from .discrete import DiscreteDistribution
from .multivariate import Categorical

__all__ = ["Bernoulli", "Binomial", "Categorical", "ContinuousDistribution",
           "DiscreteDistribution", "Distribution", "Exponential", "Geometric", "Normal",
           "Poisson", "Uniform"]
