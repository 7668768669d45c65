"""stochad: unbiased derivatives of programs with discrete randomness (stochastic triples).

Examples
--------
>>> import stochad as sad
>>> def walk(p):
...     n = 0
...     for i in range(1, 101):
...         n = n + sad.bernoulli(p * (1 - (n + i) / 200))
...     return n
>>> est = sad.derivative_estimate(walk, 0.5, n_samples=20_000, rng=0)
"""

from . import (
    combined,  # noqa: F401  (registers estimator="combined")
    distributions,
    families,
    optimize,
    parallel,
    relaxed,  # noqa: F401  (registers estimator="relaxed")
    result,
)
from . import rules as _rules
from ._version import __version__
from .api import (
    choose_backend,
    delta,
    derivative_contribution,
    derivative_estimate,
    derivative_samples,
    estimate,
    perturbations,
    stochastic_triple,
    value,
)
from .auto import BackendChoice
from .branching import propagate, where
from .distributions import ContinuousDistribution, DiscreteDistribution, ImplicitDistribution
from .dual import LostDerivativeWarning
from .generator import Generator
from .indexing import asarray, take
from .optimize import stochastic_gradient
from .resampling import new_weight
from .samplers import (
    bernoulli,
    binomial,
    categorical,
    draw,
    exponential,
    geometric,
    normal,
    poisson,
    uniform,
)
from .triple import StochasticTriple

# Math functions, generated from the rule table: sad.exp(x) is np.exp(x) for triples and numbers.
_MATH = {ufunc.__name__: ufunc for ufunc in _rules.RULES}
globals().update(_MATH)

__all__ = [
    "BackendChoice",
    "ContinuousDistribution",
    "DiscreteDistribution",
    "ImplicitDistribution",
    "Generator",
    "LostDerivativeWarning",
    "StochasticTriple",
    "__version__",
    "asarray",
    "bernoulli",
    "binomial",
    "categorical",
    "choose_backend",
    "delta",
    "derivative_contribution",
    "derivative_estimate",
    "derivative_samples",
    "distributions",
    "draw",
    "parallel",
    "result",
    "estimate",
    "exponential",
    "families",
    "geometric",
    "new_weight",
    "normal",
    "optimize",
    "perturbations",
    "poisson",
    "propagate",
    "stochastic_gradient",
    "stochastic_triple",
    "take",
    "uniform",
    "value",
    "where",
    *sorted(_MATH),
]
