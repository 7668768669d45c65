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

from . import families, rules, samplers
from .compiled.hook import recording, refuse
from .context import current_run, current_tape, normalize_rng
from .distributions import ContinuousDistribution
from .indexing import take
from .propagation import apply
from .shape import stack
from .tapes import NotReplayable, shape_of
from .triple import StochasticTriple, holds_triple, run_of

UNSUPPORTED = {
    "bytes": "random bytes are not numbers of a law with parameters: there is nothing to "
             "differentiate; draw them outside the run",
    "permuted": "an independent shuffle of every slice has no per-lane form in a batched run; "
                "use permutation (whole-axis) or choice(replace=False) per slice, or run one "
                "sample per call (vectorize=False), where the replay engine draws it",
}
"""Generator methods that raise inside a run, and why (every other method is differentiable;
the replay engine, ``vectorize=False``, draws ``permuted`` too)."""


def _refuse_out(method):
    """``out=`` inside a run, which would leave the array unwritten (a draw is a new triple)."""
    raise TypeError(f"Generator.{method}(out=) is not supported inside a stochad run: a draw "
                    f"is a new triple, not written into an array; assign it instead (x = "
                    f"rng.{method}(...))")


class Generator(np.random.Generator):
    """numpy's ``Generator``, with differentiable draws inside a run (module docstring).

    It *is* a :class:`numpy.random.Generator` (a subclass), so it goes wherever numpy accepts
    one: ``np.random.default_rng(g)`` returns ``g`` itself, ``scipy.stats.<law>.rvs(...,
    random_state=g)`` draws through its methods.

    Parameters
    ----------
    seed : None, int, SeedSequence, BitGenerator, numpy.random.Generator or stochad.Generator
        Seeds the draws made *outside* an estimator run, as
        :func:`numpy.random.default_rng` does (a Generator's bit generator is shared, not
        copied: the two draw one stream).

    Notes
    -----
    Every method of numpy's Generator works inside a run except those in
    :data:`UNSUPPORTED` (which raise, saying why); ``bernoulli(p, size)`` and
    ``categorical(probs, size)`` (0-based index) are extra. ``size=`` gives the logical
    shape. ``choice(a, size, p=probs)`` with random ``probs`` is ``a[categorical(probs,
    size)]``, a random index into ``a`` (see :func:`stochad.take`); without replacement, it
    draws sequentially with the chosen entries' probabilities removed and the rest
    renormalised. Inside a run every method draws from the *run's* generator, so the numbers
    differ from numpy's; outside a run they are numpy's own for the same seed.

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
    >>> isinstance(sad.Generator(), np.random.Generator)
    True
    """

    def __init__(self, seed=None):
        if seed is None and current_tape() is not None:
            # made inside a replay run (lambda t: sim(t, sad.Generator())), where its draws
            # come from the run: skip the OS entropy (~60 µs a sample) for a shared stream
            numpy = self._numpy = _replay_numpy()
        else:
            numpy = self._numpy = normalize_rng(seed)
        _numpy_init(self, numpy.bit_generator)  # super().__init__, without its lookup

    @property
    def numpy(self) -> np.random.Generator:
        """The numpy Generator whose bit generator this one draws from outside a run."""
        return self._numpy

    def __repr__(self) -> str:
        return f"stochad.Generator({self.bit_generator.__class__.__name__})"

    def __reduce__(self):  # numpy's would rebuild a plain numpy Generator
        return type(self), (self.bit_generator,)

    def spawn(self, n_children):
        """``n_children`` independent Generators of this type (numpy's ``spawn``); inside a
        run they draw from the run's generator like this one.

        Examples
        --------
        >>> import stochad as sad
        >>> [type(g).__name__ for g in sad.Generator(0).spawn(2)]
        ['Generator', 'Generator']
        """
        return [type(self)(bit) for bit in self.bit_generator.spawn(n_children)]

    def bytes(self, length):
        """numpy's ``bytes``; it raises inside a run (:data:`UNSUPPORTED`)."""
        self._not_replayed("bytes")
        self._unsupported("bytes")
        return super().bytes(length)

    def permuted(self, x, *, axis=None, out=None):
        """numpy's ``permuted``: every slice of ``x`` along ``axis`` shuffled independently.

        Inside a replay run (``vectorize=False``) the values keep their dual parts, as in
        :meth:`permutation`; a batched run raises (:data:`UNSUPPORTED`).

        Examples
        --------
        >>> import numpy as np, stochad as sad
        >>> f = lambda t: sad.Generator().permuted(t * np.arange(6.0).reshape(2, 3), axis=1)
        >>> float(sad.derivative_estimate(lambda t: f(t)[1].sum(), 2.0, n_samples=10, rng=0,
        ...                               vectorize=False))    # 3 + 4 + 5, whatever the order
        12.0
        """
        tape = current_tape()  # the replay engine (stochad.replay)
        if tape is not None:
            return tape.permuted(x, axis, out)
        self._unsupported("permuted", x)
        return super().permuted(x, axis=axis, out=out)

    def _unsupported(self, name, *args):
        refuse(f"Generator.{name}")  # compiled engine: no recorded form
        if self._inside(*args):
            raise TypeError(f"Generator.{name} has no differentiable version inside a stochad "
                            f"run: {UNSUPPORTED[name]}")

    @staticmethod
    def _inside(*args) -> bool:
        if recording() is not None:  # compiled engine: the samplers' hook takes the draws
            return True
        return current_run() is not None or current_tape() is not None or holds_triple(args)

    @staticmethod
    def _not_replayed(name):
        """Raise inside a replay run (vectorize=False): ``name`` has no replayed version."""
        if current_tape() is not None:
            raise NotReplayable(
                f"Generator.{name} is not supported by the replay engine (vectorize=False "
                "with backend 'pruned' or 'exact'): it has no one-number-at-a-time coupling "
                "there. Run the program batched (vectorize=True), or draw the pieces with "
                "integers, random, choice and the scalar laws")

    def _draw(self, law, params, size, **options):
        """A draw of ``law``: numpy's own method (the same numbers) outside a run, the
        differentiable one inside (``options``: numpy's keywords, used outside a run only)."""
        tape = current_tape()  # the replay engine (stochad.replay): its hot path
        if tape is not None and options.get("out") is None:
            if isinstance(law, ContinuousDistribution):
                return tape.continuous(law.name, params, size)
            return tape.draw(law, params, size)
        if self._inside(*params, size):
            if options.get("out") is not None:
                _refuse_out(law.numpy_method)
            return samplers.draw(law, *params, size=size)
        if law.numpy_method is None:  # not a numpy method: stochad's sampler on our numpy rng
            return samplers.draw(law, *params, size=size, rng=self._numpy)
        return getattr(np.random.Generator, law.numpy_method)(self, *params, size=size,
                                                              **options)

    # -- uniform noise ------------------------------------------------------------------------
    def random(self, size=None, dtype=np.float64, out=None):
        """Uniform floats on [0, 1), as ``numpy.random.Generator.random``.

        Parameters
        ----------
        size : int or tuple of ints, optional
            Output shape (the logical shape inside a run).
        dtype : data-type, optional
            As numpy's.
        out : numpy.ndarray, optional
            As numpy's; outside a run only.

        Returns
        -------
        numpy.ndarray, scalar or StochasticTriple
            numpy's numbers outside a run, a stochastic triple inside one.

        Examples
        --------
        >>> import numpy as np, stochad as sad
        >>> bool(sad.Generator(3).random() == np.random.default_rng(3).random())
        True
        """
        tape = current_tape()  # the replay engine (stochad.replay): its hot path
        if tape is not None and out is None:
            return tape.random(size, dtype)
        refuse("Generator.random")  # compiled engine: no recorded form
        if not self._inside():
            return super().random(size, dtype, out)
        if out is not None:
            _refuse_out("random")
        run = current_run()
        value = run.rng.random((run.n_lanes,) + shape_of(size), dtype=dtype)
        return samplers.UniformNoise(value, run=run, python=size is None)

    def integers(self, low, high=None, size=None, dtype=np.int64, endpoint=False):
        """Uniform integers on ``[low, high)`` (``[low, high]`` with ``endpoint=True``).

        Inside a run the bounds may be random integers (e.g. a binomial draw): the draw is
        ``low + floor(u·(high − low))`` with one uniform ``u``, so a perturbed bound moves the
        draw along the same ``u``. Bounds must not carry a dual part (they are integers).

        Parameters
        ----------
        low : int, array_like or StochasticTriple
            Lowest value (or the bound, with ``high=None``).
        high : int, array_like or StochasticTriple, optional
            One above the highest value.
        size : int or tuple of ints, optional
            Output shape (the logical shape inside a run).
        dtype : data-type, optional
            As numpy's.
        endpoint : bool
            Include ``high``.

        Returns
        -------
        numpy.ndarray, scalar or StochasticTriple
            numpy's numbers outside a run, a stochastic triple inside one.

        Examples
        --------
        >>> import stochad as sad
        >>> sad.Generator(0).integers(5, size=3).tolist()   # numpy's numbers
        [4, 3, 2]
        """
        tape = current_tape()  # the replay engine (stochad.replay)
        if tape is not None:
            return tape.integers(low, high, size, dtype, endpoint)
        refuse("Generator.integers")  # compiled engine: no recorded form
        if not self._inside(low, high):
            return super().integers(low, high, size, dtype, endpoint)
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
                                    else high.shape, shape_of(size))
        u = StochasticTriple(run.rng.random((run.n_lanes,) + shape), run=run)
        return apply(rules.uniform_integer(np.dtype(dtype)), u, low, high)

    # -- discrete draws -----------------------------------------------------------------------
    def binomial(self, n, p, size=None):
        """Binomial(n, p); ``n`` may itself be a random (perturbed) integer.

        Parameters
        ----------
        n : int, array_like or StochasticTriple
            Number of trials.
        p : float, array_like or StochasticTriple
            Success probability.
        size : int or tuple of ints, optional
            Output shape (the logical shape inside a run).

        Returns
        -------
        numpy.ndarray, scalar or StochasticTriple
            numpy's numbers outside a run, a stochastic triple inside one.
        """
        tape = current_tape()  # the replay engine's hot path
        if tape is not None:
            return tape.binomial(n, p, size)
        return self._draw(samplers.BINOMIAL, (n, p), size)

    def poisson(self, lam=1.0, size=None):
        """Poisson(lam).

        Parameters
        ----------
        lam : float, array_like or StochasticTriple
            Rate.
        size : int or tuple of ints, optional
            Output shape (the logical shape inside a run).

        Returns
        -------
        numpy.ndarray, scalar or StochasticTriple
            numpy's numbers outside a run, a stochastic triple inside one.
        """
        tape = current_tape()  # the replay engine's hot path
        if tape is not None:
            return tape.poisson(lam, size)
        return self._draw(samplers.POISSON, (lam,), size)

    def geometric(self, p, size=None):
        """Geometric(p): trials up to the first success (k ≥ 1), as numpy.

        Parameters
        ----------
        p : float, array_like or StochasticTriple
            Success probability.
        size : int or tuple of ints, optional
            Output shape (the logical shape inside a run).

        Returns
        -------
        numpy.ndarray, scalar or StochasticTriple
            numpy's numbers outside a run, a stochastic triple inside one.
        """
        tape = current_tape()  # the replay engine's hot path
        if tape is not None:
            return tape.draw(samplers.GEOMETRIC, (p,), size)
        return self._draw(samplers.GEOMETRIC, (p,), size)

    def bernoulli(self, p, size=None):
        """Bernoulli(p) (not a numpy method): 1 with probability ``p``, else 0.

        Parameters
        ----------
        p : float, array_like or StochasticTriple
            Probability of 1.
        size : int or tuple of ints, optional
            Output shape (the logical shape inside a run).

        Returns
        -------
        numpy.ndarray, scalar or StochasticTriple
            numpy's numbers outside a run, a stochastic triple inside one.

        Examples
        --------
        >>> import stochad as sad
        >>> sad.Generator(0).bernoulli(0.5, size=4).tolist()
        [0, 1, 1, 1]
        """
        return self._draw(samplers.BERNOULLI, (p,), size)

    def categorical(self, probs, size=None):
        """0-based category index with probabilities ``probs`` (last axis; not a numpy method).

        Parameters
        ----------
        probs : array_like or StochasticTriple
            Probabilities along the last axis.
        size : int or tuple of ints, optional
            Output shape (the logical shape inside a run).

        Returns
        -------
        numpy.ndarray, scalar or StochasticTriple
            numpy's numbers outside a run, a stochastic triple inside one.

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

        Parameters
        ----------
        a : int, array_like or StochasticTriple
            The population (an int ``n``: ``arange(n)``).
        size : int or tuple of ints, optional
            Output shape (the logical shape inside a run).
        replace : bool
            Sample with replacement.
        p : array_like or StochasticTriple, optional
            Probabilities of the entries of ``a``.
        axis : int
            Axis of ``a`` to sample along.
        shuffle : bool
            As numpy's (``replace=False``).

        Returns
        -------
        numpy.ndarray, scalar or StochasticTriple
            numpy's numbers outside a run, a stochastic triple inside one.

        Examples
        --------
        >>> import stochad as sad
        >>> f = lambda q: sad.Generator().choice([3.5, 5.2, 8.4], p=[q / 2, q / 2, 1 - q])
        >>> est = sad.derivative_estimate(f, 0.4, n_samples=100_000, rng=0)
        >>> abs(est + 4.05) < 0.15                              # exact: -4.05
        True
        """
        tape = current_tape()  # the replay engine (stochad.replay)
        if tape is not None:
            return tape.choice(a, size, replace, p, axis, shuffle)
        refuse("Generator.choice")  # compiled engine: no recorded form
        if not self._inside(a, p):
            return super().choice(a, size, replace, p, axis, shuffle)
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
        shape = shape_of(size)
        k = int(np.prod(shape))
        if k > n:
            raise ValueError(f"choice: cannot take a larger sample ({k}) than the population "
                             f"({n}) when replace=False")
        if isinstance(p, StochasticTriple) or (isinstance(p, list | tuple) and holds_triple(p)):
            return Generator._sequential(p, k, shape)
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

    @staticmethod
    def _sequential(p, k, shape):
        """``k`` categorical draws without replacement: each from the probabilities left,
        renormalised, so the random ``p``'s perturbations reach every pick."""
        p = samplers._as_param(p)
        n = p.shape[-1]
        picks = []
        for _ in range(k):
            pick = samplers.categorical(p)
            picks.append(pick)
            p = p * (np.arange(n) != pick[..., None])
            p = p / np.sum(p, axis=-1, keepdims=True)
        return np.reshape(stack(picks), shape)

    # -- continuous draws (reparameterised) -----------------------------------------------------
    def normal(self, loc=0.0, scale=1.0, size=None):
        """Normal(loc, scale), reparameterised as ``loc + scale·z``.

        Parameters
        ----------
        loc : float, array_like or StochasticTriple
            Mean.
        scale : float, array_like or StochasticTriple
            Standard deviation.
        size : int or tuple of ints, optional
            Output shape (the logical shape inside a run).

        Returns
        -------
        numpy.ndarray, scalar or StochasticTriple
            numpy's numbers outside a run, a stochastic triple inside one.
        """
        tape = current_tape()  # the replay engine's hot path
        if tape is not None:
            return tape.continuous("normal", (loc, scale), size)
        return self._draw(samplers.NORMAL, (loc, scale), size)

    def standard_normal(self, size=None, dtype=np.float64, out=None):
        """Standard normal noise (no parameters, hence no derivative of its own).

        Parameters
        ----------
        size : int or tuple of ints, optional
            Output shape (the logical shape inside a run).
        dtype : data-type, optional
            As numpy's.
        out : numpy.ndarray, optional
            As numpy's; outside a run only.

        Returns
        -------
        numpy.ndarray, scalar or StochasticTriple
            numpy's numbers outside a run, a stochastic triple inside one.
        """
        if not self._inside():
            return super().standard_normal(size, dtype, out)
        if out is not None:
            _refuse_out("standard_normal")
        return samplers.normal(0.0, 1.0, size)

    def exponential(self, scale=1.0, size=None):
        """Exponential with mean ``scale``, reparameterised as ``scale·e``.

        Parameters
        ----------
        scale : float, array_like or StochasticTriple
            Mean.
        size : int or tuple of ints, optional
            Output shape (the logical shape inside a run).

        Returns
        -------
        numpy.ndarray, scalar or StochasticTriple
            numpy's numbers outside a run, a stochastic triple inside one.
        """
        tape = current_tape()  # the replay engine's hot path
        if tape is not None:
            return tape.exponential(scale, size)
        return self._draw(samplers.EXPONENTIAL, (scale,), size)

    def standard_exponential(self, size=None, dtype=np.float64, method="zig", out=None):
        """Standard exponential noise (no parameters, hence no derivative of its own).

        Parameters
        ----------
        size : int or tuple of ints, optional
            Output shape (the logical shape inside a run).
        dtype : data-type, optional
            As numpy's.
        method : str
            As numpy's (outside a run).
        out : numpy.ndarray, optional
            As numpy's; outside a run only.

        Returns
        -------
        numpy.ndarray, scalar or StochasticTriple
            numpy's numbers outside a run, a stochastic triple inside one.
        """
        if not self._inside():
            return super().standard_exponential(size, dtype, method, out)
        if out is not None:
            _refuse_out("standard_exponential")
        return samplers.exponential(1.0, size)

    def uniform(self, low=0.0, high=1.0, size=None):
        """Uniform(low, high), reparameterised as ``low + (high − low)·u``.

        Parameters
        ----------
        low : float, array_like or StochasticTriple
            Lower bound.
        high : float, array_like or StochasticTriple
            Upper bound.
        size : int or tuple of ints, optional
            Output shape (the logical shape inside a run).

        Returns
        -------
        numpy.ndarray, scalar or StochasticTriple
            numpy's numbers outside a run, a stochastic triple inside one.
        """
        tape = current_tape()  # the replay engine's hot path
        if tape is not None:
            return tape.continuous("uniform", (low, high), size)
        return self._draw(samplers.UNIFORM, (low, high), size)

    # -- numpy's other laws (stochad.families) ------------------------------------------------
    def gamma(self, shape, scale=1.0, size=None):
        """Gamma(shape, scale): ``scale`` times an implicit standard gamma."""
        return self._draw(families.GAMMA, (shape, scale), size)

    def standard_gamma(self, shape, size=None, dtype=np.float64, out=None):
        """Standard gamma, implicitly reparameterised (``dtype=``, ``out=``: outside a run)."""
        return self._draw(families.STANDARD_GAMMA, (shape,), size, dtype=dtype, out=out)

    def beta(self, a, b, size=None):
        """Beta(a, b) as a ratio of implicit gammas."""
        return self._draw(families.BETA, (a, b), size)

    def dirichlet(self, alpha, size=None):
        """Dirichlet(alpha): normalised implicit gammas."""
        return self._draw(families.DIRICHLET, (alpha,), size)

    def chisquare(self, df, size=None):
        """Chi-square: twice an implicit gamma of ``df/2``."""
        return self._draw(families.CHISQUARE, (df,), size)

    def standard_t(self, df, size=None):
        """Student's t: a normal over the root of an implicit gamma."""
        return self._draw(families.STANDARD_T, (df,), size)

    def f(self, dfnum, dfden, size=None):
        """F: a ratio of scaled chi-squares."""
        return self._draw(families.F, (dfnum, dfden), size)

    def noncentral_chisquare(self, df, nonc, size=None):
        """Non-central chi-square: a Poisson(nonc/2) mixture of chi-squares."""
        return self._draw(families.NONCENTRAL_CHISQUARE, (df, nonc), size)

    def noncentral_f(self, dfnum, dfden, nonc, size=None):
        """Non-central F."""
        return self._draw(families.NONCENTRAL_F, (dfnum, dfden, nonc), size)

    def gumbel(self, loc=0.0, scale=1.0, size=None):
        """Gumbel(loc, scale), location-scale."""
        return self._draw(families.GUMBEL, (loc, scale), size)

    def laplace(self, loc=0.0, scale=1.0, size=None):
        """Laplace(loc, scale), location-scale."""
        return self._draw(families.LAPLACE, (loc, scale), size)

    def logistic(self, loc=0.0, scale=1.0, size=None):
        """Logistic(loc, scale), location-scale."""
        return self._draw(families.LOGISTIC, (loc, scale), size)

    def lognormal(self, mean=0.0, sigma=1.0, size=None):
        """Log-normal ``exp(mean + sigma·z)``."""
        return self._draw(families.LOGNORMAL, (mean, sigma), size)

    def pareto(self, a, size=None):
        """Pareto II (Lomax), ``expm1(e / a)``."""
        return self._draw(families.PARETO, (a,), size)

    def power(self, a, size=None):
        """Power law on [0, 1], ``(1 − exp(−e))^(1/a)``."""
        return self._draw(families.POWER, (a,), size)

    def rayleigh(self, scale=1.0, size=None):
        """Rayleigh(scale), ``scale·sqrt(2e)``."""
        return self._draw(families.RAYLEIGH, (scale,), size)

    def weibull(self, a, size=None):
        """Weibull of shape ``a``, ``e^(1/a)``."""
        return self._draw(families.WEIBULL, (a,), size)

    def standard_cauchy(self, size=None):
        """Standard Cauchy noise (no parameter)."""
        return self._draw(families.STANDARD_CAUCHY, (), size)

    def triangular(self, left, mode, right, size=None):
        """Triangular, implicitly reparameterised."""
        return self._draw(families.TRIANGULAR, (left, mode, right), size)

    def vonmises(self, mu, kappa, size=None):
        """von Mises on [-π, π], implicitly reparameterised."""
        return self._draw(families.VONMISES, (mu, kappa), size)

    def wald(self, mean, scale, size=None):
        """Wald (inverse Gaussian), implicitly reparameterised."""
        return self._draw(families.WALD, (mean, scale), size)

    def negative_binomial(self, n, p, size=None):
        """Failures before the ``n``-th success (``n`` real > 0), as numpy."""
        return self._draw(families.NEGATIVE_BINOMIAL, (n, p), size)

    def hypergeometric(self, ngood, nbad, nsample, size=None):
        """Hypergeometric; its integer parameters move by finite perturbations only."""
        return self._draw(families.HYPERGEOMETRIC, (ngood, nbad, nsample), size)

    def zipf(self, a, size=None):
        """Zipf(a), ``k >= 1``."""
        return self._draw(families.ZIPF, (a,), size)

    def logseries(self, p, size=None):
        """Logarithmic series, ``k >= 1``."""
        return self._draw(families.LOGSERIES, (p,), size)

    def multivariate_normal(self, mean, cov, size=None, check_valid="warn", tol=1e-8, *,
                            method="svd"):
        """Multivariate normal; inside a run ``mean + L·z`` with ``L`` the Cholesky factor of
        ``cov`` (the other keywords: outside a run)."""
        return self._draw(families.MULTIVARIATE_NORMAL, (mean, cov), size,
                          check_valid=check_valid, tol=tol, method=method)

    def multinomial(self, n, pvals, size=None):
        """Multinomial counts: a chain of conditional binomials inside a run.

        Examples
        --------
        An epidemic whose chain stops when nobody is infected, one sample per call (the
        replay engine follows the ``if``): ``E[infected in the first round] = 10·θ``.

        >>> import stochad as sad
        >>> def first_round(theta):
        ...     infected, spared = sad.Generator().multinomial(10, [theta, 1 - theta])
        ...     if infected == 0:
        ...         return 0.0
        ...     return 1.0 * infected
        >>> est = sad.derivative_estimate(first_round, 0.3, n_samples=4_000, rng=0,
        ...                               vectorize=False)
        >>> abs(est - 10.0) < 0.5
        True
        """
        tape = current_tape()  # the replay engine (stochad.replay)
        if tape is not None:
            return tape.multinomial(n, pvals, size)
        if not self._inside(n, pvals, size):
            return super().multinomial(n, pvals, size)
        return families.multinomial(n, pvals, size)

    def multivariate_hypergeometric(self, colors, nsample, size=None, method="marginals"):
        """Counts per colour without replacement: a chain of hypergeometrics inside a run."""
        tape = current_tape()  # the replay engine (stochad.replay)
        if tape is not None:
            return tape.multivariate_hypergeometric(colors, nsample, size, method)
        if not self._inside(colors, nsample, size):
            return super().multivariate_hypergeometric(colors, nsample, size, method)
        return families.multivariate_hypergeometric(colors, nsample, size)

    # -- permutations: plain draws; the values keep their derivatives -------------------------
    def permutation(self, x, axis=0):
        """A random permutation of ``arange(x)`` (an int) or of ``x`` along ``axis``.

        Inside a run the permutation is a plain draw per lane (it carries no derivative) and
        the permuted values keep their dual parts and perturbations. In a replay run
        (``vectorize=False``) it is the ``argsort`` of uniforms recorded like any draw's, so
        the replays of a sample permute alike: ``for i in rng.permutation(n): if rng.random()
        < p: ...`` is differentiated one sample per call.

        Examples
        --------
        >>> import numpy as np, stochad as sad
        >>> f = lambda t: sad.Generator().permutation(t * np.arange(3.0))[0]
        >>> float(sad.derivative_estimate(f, 2.0, n_samples=30_000, rng=0))  # E = t·1
        1.0...
        """
        tape = current_tape()  # the replay engine (stochad.replay)
        if tape is not None:
            return tape.permutation(x, axis)
        refuse("Generator.permutation")  # compiled engine: no recorded form
        if not self._inside(x):
            return super().permutation(x, axis)
        run = run_of([x]) or current_run()
        n = int(x) if np.ndim(x) == 0 and not isinstance(x, StochasticTriple) else None
        length = n if n is not None else np.shape(x)[axis]
        order = np.argsort(run.rng.random((run.n_lanes, length)), axis=1)
        idx = StochasticTriple(order, run=run)
        return idx if n is not None else take(x, idx, axis=axis)

    def shuffle(self, x, axis=0):
        """Shuffle ``x`` in place along ``axis``; inside a batched run ``x`` must be a triple
        (its lanes are permuted independently; the values keep their derivatives). In a
        replay run (``vectorize=False``) ``x`` is a list, a numpy array or dual numbers, as
        in numpy."""
        tape = current_tape()  # the replay engine (stochad.replay)
        if tape is not None:
            return tape.shuffle(x, axis)
        refuse("Generator.shuffle")  # compiled engine: no recorded form
        if not self._inside(x):
            return super().shuffle(x, axis)
        if not isinstance(x, StochasticTriple):
            raise TypeError("Generator.shuffle inside a stochad run: x is a plain array, which "
                            "cannot hold one permutation per lane; use "
                            "x = rng.permutation(x)")
        shuffled = self.permutation(x, axis)
        x.value, x.delta, x.perturbation = shuffled.value, shuffled.delta, shuffled.perturbation
        return None


_REPLAY_NUMPY: list = []
_numpy_init = np.random.Generator.__init__


def _replay_numpy() -> np.random.Generator:
    """The numpy Generator behind every unseeded Generator made inside a replay run, seeded
    once per process (its draws outside the run are numpy's; inside, they come from the run)."""
    if not _REPLAY_NUMPY:
        _REPLAY_NUMPY.append(np.random.default_rng())
    return _REPLAY_NUMPY[0]
