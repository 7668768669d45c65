"""A drop-in for :class:`numpy.random.Generator` whose draws are differentiable.

A simulation written against numpy's Generator API, ``def sim(theta, rng): ...
rng.binomial(n, theta) ...``, is differentiated unchanged by passing ``sad.Generator()``:

* **inside an estimator run** (a call of :func:`stochad.derivative_estimate` and friends) every
  method draws from the *run's* generator, one number per lane, and returns a stochastic triple
  (the Generator's own seed is not used: one rng drives the whole run);
* **outside a run** it is numpy's Generator seeded as given: the numpy methods return exactly
  the numbers ``numpy.random.default_rng(seed)`` would.
"""

from __future__ import annotations

import numpy as np

from . import rules, samplers
from .context import current_run, normalize_rng
from .indexing import take
from .propagation import apply
from .triple import StochasticTriple, holds_triple, run_of

METHODS = ("random", "integers", "binomial", "poisson", "geometric", "normal", "exponential",
           "uniform", "choice", "standard_normal", "standard_exponential", "bernoulli",
           "categorical")


def _shape(size) -> tuple[int, ...]:
    return () if size is None else ((int(size),) if np.isscalar(size) else tuple(size))


class Generator:
    """numpy's ``Generator`` interface with differentiable draws (see the module docstring).

    Parameters
    ----------
    seed : None, int, SeedSequence, numpy.random.Generator or stochad.Generator
        Seeds the draws made *outside* an estimator run, as
        :func:`numpy.random.default_rng` does (a numpy Generator is used, not copied).

    Notes
    -----
    Methods: ``random, integers, binomial, poisson, geometric, normal, exponential, uniform,
    choice, standard_normal, standard_exponential`` with numpy's signatures, plus ``bernoulli(p,
    size)`` and ``categorical(probs, size)`` (0-based index). ``size=`` gives the logical shape.
    ``choice(a, size, p=probs)`` with random ``probs`` is ``a[categorical(probs, size)]``, a
    random index into ``a`` (see :func:`stochad.take`). Any other numpy method works outside a
    run and raises inside one (it is not differentiable).

    Examples
    --------
    A simulation written for numpy's Generator:

    >>> import numpy as np, stochad as sad
    >>> def sim(theta, rng):
    ...     infected = rng.binomial(10, theta)
    ...     return rng.poisson(2.0 * infected + 1.0)
    >>> sim(0.3, np.random.default_rng(0))                 # plain numpy: a primal sample
    2
    >>> sim(0.3, sad.Generator(0))                          # the same numbers outside a run
    2
    >>> est = sad.derivative_estimate(lambda t: sim(t, sad.Generator()), 0.3,
    ...                               n_samples=100_000, rng=0)
    >>> abs(est - 20.0) < 0.5                               # d/dθ (2·10θ + 1) = 20
    True
    """

    def __init__(self, seed=None):
        self._numpy = normalize_rng(seed)

    @property
    def numpy(self) -> np.random.Generator:
        """The numpy Generator used outside a run."""
        return self._numpy

    def __repr__(self) -> str:
        return f"stochad.Generator({self._numpy.bit_generator.__class__.__name__})"

    def __getattr__(self, name):
        if name.startswith("_"):  # private and dunder lookups (copy, pickle) are not numpy's
            raise AttributeError(name)
        attribute = getattr(self._numpy, name)
        if not callable(attribute):
            return attribute

        def method(*args, **kwargs):
            if current_run() is not None or holds_triple(list(args) + list(kwargs.values())):
                raise TypeError(
                    f"Generator.{name} has no differentiable version inside a stochad run; "
                    f"supported: {', '.join(METHODS)}. Draw the pieces with those, or use "
                    "stochad.propagate for a deterministic black box"
                )
            return attribute(*args, **kwargs)

        method.__name__ = name
        return method

    @staticmethod
    def _inside(*args) -> bool:
        return current_run() is not None or holds_triple(args)

    def _draw(self, law, params, size):
        """A draw of ``law``: numpy's own method (the same numbers) outside a run, the
        differentiable one inside."""
        if self._inside(*params):
            return samplers.draw(law, *params, size=size)
        if law.numpy_method is None:  # not a numpy method: stochad's sampler on our numpy rng
            return samplers.draw(law, *params, size=size, rng=self._numpy)
        return getattr(self._numpy, law.numpy_method)(*params, size)

    # -- uniform noise ------------------------------------------------------------------------
    def random(self, size=None, dtype=np.float64, out=None):
        """Uniform floats on [0, 1), as ``numpy.random.Generator.random``.

        Examples
        --------
        >>> import numpy as np, stochad as sad
        >>> bool(sad.Generator(3).random() == np.random.default_rng(3).random())
        True
        """
        if not self._inside():
            return self._numpy.random(size, dtype, out)
        if out is not None:
            raise TypeError("Generator.random(out=) is not supported inside a stochad run")
        run = current_run()
        value = run.rng.random((run.n_lanes,) + _shape(size), dtype=dtype)
        return StochasticTriple(value, run=run)

    def integers(self, low, high=None, size=None, dtype=np.int64, endpoint=False):
        """Uniform integers on ``[low, high)`` (``[low, high]`` with ``endpoint=True``).

        Inside a run the bounds may be random integers (e.g. a binomial draw): the draw is
        ``low + floor(u·(high − low))`` with one uniform ``u``, so a perturbed bound moves the
        draw along the same ``u``. Bounds must not carry a dual part (they are integers).

        Examples
        --------
        >>> import stochad as sad
        >>> sad.Generator(0).integers(5, size=3).tolist()   # numpy's numbers
        [4, 3, 2]
        """
        if not self._inside(low, high):
            return self._numpy.integers(low, high, size, dtype, endpoint)
        if high is None:
            low, high = 0, low
        if not (np.issubdtype(dtype, np.integer) or np.dtype(dtype) == np.bool_):
            raise TypeError(f"integers: unsupported dtype {np.dtype(dtype)} (an integer type)")
        if endpoint:
            high = high + 1
        for name, bound in (("low", low), ("high", high)):
            if isinstance(bound, StochasticTriple) and bound.delta is not None \
                    and np.any(bound.delta != 0):
                raise ValueError(
                    f"integers: {name} carries a dual part; integer bounds can only move by "
                    "finite perturbations (from discrete draws)"
                )
        run = run_of([low, high]) or current_run()
        shape = np.broadcast_shapes(np.shape(low) if not isinstance(low, StochasticTriple)
                                    else low.shape,
                                    np.shape(high) if not isinstance(high, StochasticTriple)
                                    else high.shape, _shape(size))
        u = StochasticTriple(run.rng.random((run.n_lanes,) + shape), run=run)
        return apply(rules.uniform_integer(np.dtype(dtype)), u, low, high)

    # -- discrete draws -----------------------------------------------------------------------
    def binomial(self, n, p, size=None):
        """Binomial(n, p); ``n`` may itself be a random (perturbed) integer."""
        return self._draw(samplers.BINOMIAL, (n, p), size)

    def poisson(self, lam=1.0, size=None):
        """Poisson(lam)."""
        return self._draw(samplers.POISSON, (lam,), size)

    def geometric(self, p, size=None):
        """Geometric(p): trials up to the first success (k ≥ 1), as numpy."""
        return self._draw(samplers.GEOMETRIC, (p,), size)

    def bernoulli(self, p, size=None):
        """Bernoulli(p) (not a numpy method): 1 with probability ``p``, else 0.

        Examples
        --------
        >>> import stochad as sad
        >>> sad.Generator(0).bernoulli(0.5, size=4).tolist()
        [0, 1, 1, 1]
        """
        return self._draw(samplers.BERNOULLI, (p,), size)

    def categorical(self, probs, size=None):
        """0-based category index with probabilities ``probs`` (last axis; not a numpy method).

        Examples
        --------
        >>> import stochad as sad
        >>> int(sad.Generator(0).categorical([0.0, 0.0, 1.0]))
        2
        """
        return self._draw(samplers.CATEGORICAL, (probs,), size)

    def choice(self, a, size=None, replace=True, p=None, axis=0, shuffle=True):
        """Random sample from ``a`` (an int ``n`` means ``arange(n)``), as numpy's ``choice``.

        Inside a run, ``p`` may be random (a list of triples, a triple): the sample is
        ``take(a, categorical(p, size), axis)``, so its derivative includes the jump to the
        neighbouring entry of ``a``. ``a`` may be a triple too. ``replace=False`` is supported
        for plain ``p`` only (the sample is then a plain draw, with no derivative).

        Examples
        --------
        >>> import stochad as sad
        >>> f = lambda q: sad.Generator().choice([3.5, 5.2, 8.4], p=[q / 2, q / 2, 1 - q])
        >>> est = sad.derivative_estimate(f, 0.4, n_samples=100_000, rng=0)
        >>> abs(est + 4.05) < 0.15                              # exact: -4.05
        True
        """
        if not self._inside(a, p):
            return self._numpy.choice(a, size, replace, p, axis, shuffle)
        run = run_of([a] + (p if isinstance(p, list | tuple) else [p])) or current_run()
        if isinstance(a, StochasticTriple):
            table = a
        elif np.ndim(a) == 0:
            n = int(a)
            if n != a or n <= 0:
                raise ValueError(f"choice: a must be a positive integer or an array, got {a!r}")
            table = None
        else:
            table = np.asarray(a)
        if table is not None:
            shape = table.shape
            if not shape:
                raise ValueError("choice: a must be 1-dimensional or an integer")
            axis = int(axis) % len(shape)
            n = shape[axis]
        if n == 0:
            raise ValueError("choice: a cannot be empty unless no samples are taken")
        if p is not None:
            p_len = (p.shape[-1] if isinstance(p, StochasticTriple) and p.shape
                     else len(p) if isinstance(p, list | tuple) else np.shape(p)[-1]
                     if np.ndim(p) else None)
            if p_len != n:
                raise ValueError(f"choice: a and p must have the same size, got {n} and "
                                 f"{p_len}")
        if not replace:
            idx = self._without_replacement(run, n, size, p)
        elif p is None:
            idx = self.integers(0, n, size)
        else:
            idx = samplers.categorical(p, size)
        return idx if table is None else take(table, idx, axis=axis)

    @staticmethod
    def _without_replacement(run, n, size, p):
        """Per-lane ordered samples without replacement (Efraimidis–Spirakis keys)."""
        if isinstance(p, StochasticTriple) or (isinstance(p, list | tuple) and holds_triple(p)):
            raise TypeError(
                "choice(replace=False) with random probabilities has no stochastic-triple "
                "rule; draw sequentially with categorical and renormalised probabilities"
            )
        shape = _shape(size)
        k = int(np.prod(shape))
        if k > n:
            raise ValueError(f"choice: cannot take a larger sample ({k}) than the population "
                             f"({n}) when replace=False")
        if p is not None:
            samplers.CATEGORICAL.validate([np.asarray(p, dtype=np.float64)])
            if np.count_nonzero(p) < k:
                raise ValueError(f"choice: fewer non-zero entries in p ({np.count_nonzero(p)}) "
                                 f"than the sample size ({k}) when replace=False")
        u = run.rng.random((run.n_lanes, n))
        with np.errstate(divide="ignore"):
            keys = np.log(u) if p is None else np.log(u) / np.asarray(p, dtype=np.float64)
        order = np.argsort(-keys, axis=1, kind="stable")[:, :k]
        return StochasticTriple(order.reshape((run.n_lanes,) + shape), run=run)

    # -- continuous draws (reparameterised) -----------------------------------------------------
    def normal(self, loc=0.0, scale=1.0, size=None):
        """Normal(loc, scale), reparameterised as ``loc + scale·z``."""
        return self._draw(samplers.NORMAL, (loc, scale), size)

    def standard_normal(self, size=None, dtype=np.float64, out=None):
        """Standard normal noise (no parameters, hence no derivative of its own)."""
        if not self._inside():
            return self._numpy.standard_normal(size, dtype, out)
        return samplers.normal(0.0, 1.0, size)

    def exponential(self, scale=1.0, size=None):
        """Exponential with mean ``scale``, reparameterised as ``scale·e``."""
        return self._draw(samplers.EXPONENTIAL, (scale,), size)

    def standard_exponential(self, size=None, dtype=np.float64, method="zig", out=None):
        """Standard exponential noise (no parameters, hence no derivative of its own)."""
        if not self._inside():
            return self._numpy.standard_exponential(size, dtype, method, out)
        return samplers.exponential(1.0, size)

    def uniform(self, low=0.0, high=1.0, size=None):
        """Uniform(low, high), reparameterised as ``low + (high − low)·u``."""
        return self._draw(samplers.UNIFORM, (low, high), size)
