"""Differentiable random draws (docs/design.md §1): discrete ones by stochastic triples,
continuous ones by reparameterisation.

Inside a run (a call of an estimator), a draw takes its numbers from the run's generator, one
per lane, and returns a triple; its parameters may carry a dual part (a new perturbation with
the weights of docs/design.md §1), a finite perturbation (inherited through inversion
coupling), or both. Outside a run the samplers behave like numpy's: pass ``rng=`` (anything
:func:`numpy.random.default_rng` accepts) for reproducible plain draws.

What a law is (parameters, sampler, weights, coupling, score) lives in its class in
:mod:`stochad.distributions`; :func:`draw` runs any of them, and the public samplers
(:func:`bernoulli` ...) are one-liners over it.
"""

from __future__ import annotations

import math

import numpy as np

from . import distributions as laws
from .compiled.hook import recording
from .context import current_run, current_tape, normalize_rng
from .lanes import broadcast, lift
from .propagation import apply, warn_user
from .shape import stack
from .triple import StochasticTriple, holds_triple, logical_shape, nested, run_of

__all__ = ["bernoulli", "binomial", "categorical", "draw", "exponential", "geometric",
           "normal", "poisson", "uniform"]


class NewPerturbation:
    """The perturbation a draw's dual parts create, evaluated where its backend wants it.

    :meth:`compute` gives ``(jump, weight)`` arrays (``(None, None)`` if there is none);
    backends that carry no perturbation (score function, finite differences) never call it.
    """

    def __init__(self, dist, rng, k, values, deltas):
        self.dist, self.rng, self.k, self.values, self.deltas = dist, rng, k, values, deltas

    def compute(self):
        core = self.dist.core_ndim
        deltas = [np.zeros(v.shape) if d is None and core else d
                  for v, d in zip(self.values, self.deltas, strict=True)]
        created = self.dist.new_perturbation(self.rng, self.k, self.values, deltas)
        return (None, None) if created is None else created


def _as_param(arg):
    """Plain numbers stay arrays; (nested) lists containing triples are stacked into one
    triple as numpy builds an array from them: the list's axis first."""
    if isinstance(arg, StochasticTriple):
        return arg
    if isinstance(arg, list | tuple) and holds_triple(arg):
        return stack([_as_param(a) for a in arg], axis=0)
    raw = np.asarray(arg)
    if raw.dtype.kind not in "biuf":  # '0.5' would pass as 0.5 through a float cast
        raise TypeError(f"a distribution's parameter must be numbers, got {arg!r} "
                        f"(dtype {raw.dtype})")
    return raw.astype(np.float64)


def draw(dist: laws.Distribution, *params, size=None, rng=None):
    """Draw from the law ``dist`` with parameters ``params`` (triples or numbers).

    The built-in samplers are ``draw`` of their law (``sad.poisson(lam)`` is
    ``sad.draw(sad.distributions.Poisson(), lam)``); a law of your own, a subclass of
    :class:`~stochad.distributions.DiscreteDistribution`, is drawn the same way.

    Parameters
    ----------
    dist : stochad.distributions.Distribution
        The law: discrete (stochastic triples) or continuous (reparameterised).
    *params : triples or array_like
        Its parameters, in the order of ``dist.params``.
    size : int or tuple of int, optional
        Output (logical) shape, as in numpy.
    rng : None, int, SeedSequence or Generator
        Only outside a run; inside one the run's generator is used.

    Returns
    -------
    StochasticTriple or numpy.ndarray
        A triple inside a run, plain draws outside.

    Examples
    --------
    >>> import stochad as sad
    >>> int(sad.draw(sad.distributions.Poisson(), 0.0, rng=0))
    0
    """
    if isinstance(dist, laws.ContinuousDistribution):
        return reparameterised(dist, params, size, rng)
    return _draw(dist, params, size, rng)


def _draw(dist, args, size, rng):
    """:func:`draw` with the parameters as a sequence (the one-liners below)."""
    tape = current_tape()  # the replay engine (vectorize=False, stochad.replay)
    if tape is not None:
        return tape.draw(dist, args, size, rng)
    if recording() is not None:  # compiled engine: the recording takes the draw
        return recording().draw(dist, args, size, rng)
    args = [_as_param(a) for a in args]
    size = _size(dist.name, size)
    core = dist.core_ndim
    run = run_of(args) or current_run()
    if core and any(len(logical_shape(a)) < core for a in args):
        raise ValueError(f"{dist.name}: probs must have at least one category (an axis of "
                         f"probabilities), got shape {logical_shape(args[0])}")
    shapes = [logical_shape(a)[: len(logical_shape(a)) - core] for a in args]
    batch = np.broadcast_shapes(*shapes, size)
    if size and batch != size:  # as numpy: size= is the output shape the parameters fill
        raise ValueError(f"{dist.name}: output size {size} is not compatible with the "
                         f"parameters' shapes {', '.join(map(str, shapes))}")
    if run is None:
        generator = normalize_rng(rng)
        values = [np.broadcast_to(a, batch + a.shape[a.ndim - core:]) for a in args]
        dist.validate(values)
        k, _ = dist.sample(generator, values, batch + values[0].shape[len(batch):])
        return k[()] if k.ndim == 0 else k
    if rng is not None:
        raise ValueError(
            f"{dist.name}: inside a run every draw comes from the run's generator; "
            "pass rng= to the estimator, not to the sampler"
        )
    n_lanes = run.n_lanes
    ndim = len(batch) + core
    # the draw's arrays (outcomes, uniforms, weights, jumps) must fit, checked before they exist
    run.reserve(32 * n_lanes * math.prod(batch), f"{dist.name}(size={batch})")

    def full(a):
        core_shape = logical_shape(a)[len(logical_shape(a)) - core:]
        return (n_lanes,) + batch + core_shape

    values = [
        broadcast(lift(a.value, ndim) if isinstance(a, StochasticTriple)
                        else np.asarray(a), full(a))
        for a in args
    ]
    dist.validate(values)
    k, state = dist.sample(run.rng, values, (n_lanes,) + batch + values[0].shape[1 + len(batch):])

    deltas = [
        broadcast(lift(a.delta, ndim), full(a))
        if isinstance(a, StochasticTriple) and a.delta is not None else None
        for a in args
    ]
    run.backend.observe_draw(run, dist, k, values, deltas)  # the score estimator's hook
    new = NewPerturbation(dist, run.rng, k, values, deltas) if any(
        d is not None for d in deltas) else None

    def coupled_jump(jumps):
        return dist.coupled_jump(run.rng, k, state, values, jumps)

    # The backend reconciles the parameters' perturbations into alternative paths (pruned: one
    # per element; exact: one per live event) and couples the draw along each of them.
    event, alternative_jump = _inherit(run, args, values, k.shape, core, ndim, coupled_jump,
                                      walks=dist.walks)
    delta, pert = run.backend.attach(run, event, alternative_jump, new)
    return StochasticTriple(k, delta, pert, run=run)


def _inherit(run, args, values, shape, core, ndim, coupled_jump, walks):
    """Reconcile the parameters' perturbations and couple the draw along each alternative path.

    Returns the backend's ``(event, alternative_jump)`` (``(None, None)`` if no parameter is
    perturbed); categorical probabilities are split into one perturbation per category.
    ``walks``: the coupling is an inversion walk (the backend skips dead events' jumps).
    """
    perts, owners = [], []
    for i, a in enumerate(args):
        if not isinstance(a, StochasticTriple) or a.perturbation is None:
            continue
        pert = a.perturbation.lift(a.value.shape[:1] + (1,) * (ndim - a.ndim) + a.shape)
        if core:
            shape_i = values[i].shape
            for c in range(shape_i[-1]):
                perts.append(pert.map(lambda x, c=c, s=shape_i: np.broadcast_to(x, s)[..., c]))
                owners.append((i, c))
        else:
            perts.append(pert)
            owners.append((i, None))
    if not perts:
        return None, None

    def path(parts):  # parts[j]: the jump of perts[j] on one path -> the draw's jump
        jumps = [None] * len(args)
        for (i, c), j in zip(owners, parts, strict=True):
            if c is None:
                jumps[i] = j
            else:
                if jumps[i] is None:
                    jumps[i] = np.zeros(values[i].shape)
                jumps[i][..., c] = j
        return coupled_jump(jumps)

    return run.backend.inherit(run, perts, shape, path, walks=walks)


BERNOULLI, BINOMIAL, POISSON = laws.Bernoulli(), laws.Binomial(), laws.Poisson()
GEOMETRIC, CATEGORICAL = laws.Geometric(), laws.Categorical()
NORMAL, EXPONENTIAL, UNIFORM = laws.Normal(), laws.Exponential(), laws.Uniform()


def bernoulli(p, size=None, *, rng=None):
    """Bernoulli(p) draw: 1 with probability ``p``, else 0.

    Parameters
    ----------
    p : float, array_like or StochasticTriple
        Probability of 1, in [0, 1].
    size : int or tuple of ints, optional
        Output shape (the logical shape inside a run), as numpy's ``size=``.
    rng : None, int, SeedSequence or Generator, optional
        Outside a run: seeds the plain draw (as :func:`numpy.random.default_rng`). Inside a run the
        run's generator is used.

    Returns
    -------
    numpy.ndarray, int or StochasticTriple
        0 or 1 per element (a triple inside a run).

    Examples
    --------
    >>> import stochad as sad
    >>> round(sad.derivative_estimate(lambda p: 7 * sad.bernoulli(p) - 3, 0.3,
    ...                               n_samples=100_000, rng=0))
    7
    """
    tape = current_tape()  # the replay engine's hot path (skips _draw's frame)
    if tape is not None:
        return tape.bernoulli(p, size, rng)
    return _draw(BERNOULLI, [p], size, rng)


def binomial(n, p, size=None, *, rng=None):
    """Binomial(n, p) draw; ``n`` may itself be a (perturbed) discrete draw.

    Parameters
    ----------
    n : int, array_like or StochasticTriple
        Number of trials (a random integer may carry a finite perturbation, not a dual part).
    p : float, array_like or StochasticTriple
        Success probability, in [0, 1].
    size : int or tuple of ints, optional
        Output shape (the logical shape inside a run), as numpy's ``size=``.
    rng : None, int, SeedSequence or Generator, optional
        Outside a run: seeds the plain draw (as :func:`numpy.random.default_rng`). Inside a run the
        run's generator is used.

    Returns
    -------
    numpy.ndarray, scalar or StochasticTriple
        The draw: plain numbers outside a run, a stochastic triple inside one.

    Examples
    --------
    >>> import stochad as sad
    >>> int(sad.binomial(10, 0.0, rng=0))
    0
    """
    return _draw(BINOMIAL, [n, p], size, rng)


def poisson(lam=1.0, size=None, *, rng=None):
    """Poisson(lam) draw.

    Parameters
    ----------
    lam : float, array_like or StochasticTriple
        Rate, >= 0.
    size : int or tuple of ints, optional
        Output shape (the logical shape inside a run), as numpy's ``size=``.
    rng : None, int, SeedSequence or Generator, optional
        Outside a run: seeds the plain draw (as :func:`numpy.random.default_rng`). Inside a run the
        run's generator is used.

    Returns
    -------
    numpy.ndarray, scalar or StochasticTriple
        The draw: plain numbers outside a run, a stochastic triple inside one.

    Examples
    --------
    >>> import stochad as sad
    >>> sad.derivative_estimate(sad.poisson, 3.0, n_samples=5, rng=0)
    1.0
    """
    return _draw(POISSON, [lam], size, rng)


def geometric(p, size=None, *, rng=None):
    """Geometric(p) draw: trials up to and including the first success (k >= 1), as numpy.

    Parameters
    ----------
    p : float, array_like or StochasticTriple
        Success probability, in (0, 1].
    size : int or tuple of ints, optional
        Output shape (the logical shape inside a run), as numpy's ``size=``.
    rng : None, int, SeedSequence or Generator, optional
        Outside a run: seeds the plain draw (as :func:`numpy.random.default_rng`). Inside a run the
        run's generator is used.

    Returns
    -------
    numpy.ndarray, int or StochasticTriple
        Trials up to the first success (>= 1), as numpy.

    Examples
    --------
    >>> import stochad as sad
    >>> int(sad.geometric(1.0, rng=0))
    1
    """
    return _draw(GEOMETRIC, [p], size, rng)


def categorical(probs, size=None, *, rng=None):
    """0-based category index drawn with probabilities ``probs`` (last axis).

    ``probs`` may be a list mixing numbers and triples, e.g. ``[p / 2, p / 2, 1 - p]``.

    Parameters
    ----------
    probs : array_like or StochasticTriple
        Probabilities along the last axis, summing to 1.
    size : int or tuple of ints, optional
        Output shape (the logical shape inside a run), as numpy's ``size=``.
    rng : None, int, SeedSequence or Generator, optional
        Outside a run: seeds the plain draw (as :func:`numpy.random.default_rng`). Inside a run the
        run's generator is used.

    Returns
    -------
    numpy.ndarray, int or StochasticTriple
        0-based category indices.

    Examples
    --------
    >>> import stochad as sad
    >>> int(sad.categorical([0.0, 1.0, 0.0], rng=0))
    1
    """
    return _draw(CATEGORICAL, [probs], size, rng)


def _check(name, what, values, ok, where):
    values = np.asarray(values)
    if values.size and not np.all(ok(values)):
        bad = values[~ok(values)]
        raise ValueError(f"{name}: {what}, got {np.asarray(bad).reshape(-1)[0].item()!r}{where}")


def _size(name, size) -> tuple[int, ...]:
    """``size=`` as a shape; a random size (a triple) has no fixed shape to batch lanes in."""
    if size is None:
        return ()
    sizes = (size,) if np.isscalar(size) or isinstance(size, StochasticTriple) else size
    if any(isinstance(s, StochasticTriple) for s in sizes):
        raise ValueError(
            f"{name}: size= is random (a stochastic triple), so the draw's shape differs "
            "between samples, which the batched lanes cannot hold; run the estimator with "
            "vectorize=False (one sample at a time), or draw a fixed maximal size and mask it "
            "(e.g. sad.poisson(m, size=n_max) * (np.arange(n_max) < Z))")
    return tuple(int(s) for s in sizes)


class Within:
    """What a continuous law draws its parts with inside a run: noise and other laws of the
    draw's logical ``shape``, one per lane (see
    :meth:`stochad.distributions.ContinuousDistribution.in_run`)."""

    def __init__(self, run, shape):
        self.run, self.shape = run, shape

    def noise(self, standard):
        """Parameter-free noise ``standard(rng, shape)``: a triple with no derivative."""
        return StochasticTriple(standard(self.run.rng, (self.run.n_lanes,) + self.shape),
                                run=self.run)

    def draw(self, law, *params):
        """A draw of ``law`` (any kind) of this shape."""
        return draw(law, *params, size=self.shape)

    def implicit(self, law, *params):
        """A draw of the implicitly reparameterised ``law``: sampled on the primal values,
        then carried by ``law.rule()`` (its dual part and its inversion coupling)."""
        run, full = self.run, (self.run.n_lanes,) + self.shape
        triples = [isinstance(a, StochasticTriple) for a in params]
        values = [broadcast(lift(a.value, len(self.shape)) if t else np.asarray(a), full)
                  for a, t in zip(params, triples, strict=True)]
        z = StochasticTriple(law.sample(run.rng, values, full), run=run)
        if not any(triples):
            return z
        return apply(law.rule(), z, *(StochasticTriple(v, run=run) for v in values), *params)


def reparameterised(dist: laws.ContinuousDistribution, params, size=None, rng=None):
    """A draw of the continuous law ``dist``: ``dist.transform(noise, *params)`` with plain
    ``dist.standard`` noise, or its own :meth:`in_run` (the triples' dual parts and
    perturbations flow through it)."""
    tape = current_tape()  # the replay engine (vectorize=False, stochad.replay)
    if tape is not None:
        return tape.continuous(dist.name, params, size, rng)
    if recording() is not None:  # compiled engine: the recording takes the draw
        return recording().draw(dist, params, size, rng)
    params = [_as_param(a) for a in params]
    for label, (what, ok), arg in zip(dist.params, dist.checks, params, strict=True):
        value = arg.value if isinstance(arg, StochasticTriple) else arg
        _check(dist.name, f"{label} {what}", value, ok, "")
        if isinstance(arg, StochasticTriple) and arg.perturbation is not None:
            for jump, weight in arg.run.backend.pairs(arg.run, arg.perturbation):
                alternative, moved = np.broadcast_arrays(value + jump, (weight != 0) & (jump != 0))
                _check(dist.name, f"{label} {what}", alternative[moved], ok,
                       " (on the alternative path of a perturbation)")
    size = _size(dist.name, size)
    run = run_of(params) or current_run()
    if run is None:
        generator = normalize_rng(rng)
        if dist.numpy_method is not None:
            return getattr(generator, dist.numpy_method)(*params, size=size or None)
        shape = dist.out_shape([np.shape(a) for a in params], size)
        values = [np.broadcast_to(a, shape) for a in params]
        if isinstance(dist, laws.ImplicitDistribution):
            out = dist.sample(generator, values, shape)
        else:
            out = dist.transform(dist.standard(generator, shape), *values)
        return out[()] if np.ndim(out) == 0 else out
    if rng is not None:
        raise ValueError(f"{dist.name}: inside a run pass rng= to the estimator, not to the "
                         "sampler")
    shape = dist.out_shape([logical_shape(a) for a in params], size)
    return dist.in_run(Within(run, shape), *params)


def normal(loc=0.0, scale=1.0, size=None, *, rng=None):
    """Normal(loc, scale) draw, reparameterised as ``loc + scale * z``.

    Parameters
    ----------
    loc : float, array_like or StochasticTriple
        Mean.
    scale : float, array_like or StochasticTriple
        Standard deviation, >= 0.
    size : int or tuple of ints, optional
        Output shape (the logical shape inside a run), as numpy's ``size=``.
    rng : None, int, SeedSequence or Generator, optional
        Outside a run: seeds the plain draw (as :func:`numpy.random.default_rng`). Inside a run the
        run's generator is used.

    Returns
    -------
    numpy.ndarray, scalar or StochasticTriple
        The draw: plain numbers outside a run, a stochastic triple inside one.

    Examples
    --------
    >>> import stochad as sad
    >>> sad.derivative_estimate(lambda m: sad.normal(m, 2.0), 1.0, n_samples=4, rng=0)
    1.0
    """
    return reparameterised(NORMAL, [loc, scale], size, rng)


def exponential(scale=1.0, size=None, *, rng=None):
    """Exponential draw with mean ``scale``, reparameterised as ``scale * e``.

    Parameters
    ----------
    scale : float, array_like or StochasticTriple
        Mean, >= 0.
    size : int or tuple of ints, optional
        Output shape (the logical shape inside a run), as numpy's ``size=``.
    rng : None, int, SeedSequence or Generator, optional
        Outside a run: seeds the plain draw (as :func:`numpy.random.default_rng`). Inside a run the
        run's generator is used.

    Returns
    -------
    numpy.ndarray, scalar or StochasticTriple
        The draw: plain numbers outside a run, a stochastic triple inside one.

    Examples
    --------
    >>> import stochad as sad
    >>> float(sad.exponential(0.0, rng=0))
    0.0
    """
    return reparameterised(EXPONENTIAL, [scale], size, rng)


def uniform(low=0.0, high=1.0, size=None, *, rng=None):
    """Uniform(low, high) draw, reparameterised as ``low + (high - low) * u``.

    Parameters
    ----------
    low : float, array_like or StochasticTriple
        Lower bound.
    high : float, array_like or StochasticTriple
        Upper bound.
    size : int or tuple of ints, optional
        Output shape (the logical shape inside a run), as numpy's ``size=``.
    rng : None, int, SeedSequence or Generator, optional
        Outside a run: seeds the plain draw (as :func:`numpy.random.default_rng`). Inside a run the
        run's generator is used.

    Returns
    -------
    numpy.ndarray, scalar or StochasticTriple
        The draw: plain numbers outside a run, a stochastic triple inside one.

    Examples
    --------
    >>> import stochad as sad
    >>> est = sad.derivative_estimate(lambda b: sad.uniform(0.0, b), 2.0, n_samples=100_000,
    ...                               rng=0)
    >>> abs(est - 0.5) < 0.01
    True
    """
    return reparameterised(UNIFORM, [low, high], size, rng)


class _GivenUniform(laws.Bernoulli):
    """Bernoulli(p) drawn as ``u < p`` with a uniform ``u`` already drawn (lanes first)."""

    def __init__(self, u):
        self.u = u

    def sample(self, rng, params, shape):
        u = np.broadcast_to(self.u, shape)
        return (u < params[0]).astype(np.int64), u


class UniformNoise(StochasticTriple):
    """``rng.random()`` inside a batched run: uniform noise that, compared with a threshold
    carrying a dual part or a perturbation (``rng.random() < theta``), *is* the draw
    ``bernoulli(theta)``, with its weights and its coupling through this very uniform
    (docs/design.md §5): the comparison gives that draw's outcome as numpy's comparison
    would, a boolean triple for an array (``~hit``, ``infected | hit`` read it as numpy
    would) and 0 or 1 for one number (Python's ``bool``, which adds as a number). A threshold
    outside ``[0, 1]`` is clipped to it, as ``u < t`` is.
    Used anywhere else it is a plain value. The same uniform may decide only that one event:
    a second comparison, or another use before or after (``(u < p) & (u < 0.5)``, ``(u <
    p) * u``), needs the flip to move the uniform to the threshold, which the batched engine
    does not do; such a program gets a :class:`~stochad.dual.LostDerivativeWarning` that
    names ``vectorize=False``, whose replay engine follows every use.

    Examples
    --------
    >>> import stochad as sad
    >>> f = lambda p: 7 * (sad.Generator().random() < p) - 3      # d/dp E = 7
    >>> round(sad.derivative_estimate(f, 0.3, n_samples=20_000, rng=0))
    7
    """

    __slots__ = ("_uses", "_cells", "_python")

    def __init__(self, value, delta=None, perturbation=None, *, run, uses=None, cells=None,
                 python=False):
        super().__init__(value, delta, perturbation, run=run)
        self._python = python  # numpy's rng.random(): a Python float, compared a Python bool
        # per uniform of the draw: 0 unused, 1 used as a value, 2 decided an event; shared by
        # the views (u[i], u.T, ...), each covering the flat indices ``cells`` (None: all)
        self._uses = np.zeros(max(1, self.size), dtype=np.int8) if uses is None else uses
        self._cells = cells

    def _used(self, how):
        """Note a use of these uniforms (``"event"`` or ``"value"``): warn when one both
        decides an event and is used otherwise, or decides two."""
        code = 2 if how == "event" else 1
        cells = self._uses if self._cells is None else self._uses[self._cells]
        if np.any(cells == 2) or code == 2 and (np.any(cells) or self._cells is not None and
                                                np.unique(self._cells).size < self._cells.size):
            warn_user(
                "one raw uniform (rng.random()) decides an event against a moving threshold "
                "and is also compared again or used otherwise ((u < p) & (u < 0.5), (u < p) * "
                "u, if/elif-style np.where chains on one u): the batched engine takes u < p as "
                "an independent bernoulli(p) draw, which such a program does not keep: its "
                "derivative is wrong unless the uses do not interact (a sum of them). Draw a "
                "uniform for each event, or use vectorize=False, whose replay engine follows "
                "every use of a uniform")
        if self._cells is None:
            np.maximum(self._uses, code, out=self._uses)
        else:
            self._uses[self._cells] = np.maximum(cells, code)

    def note_use(self):
        self._used("value")

    def _view(self, out, cells):
        """``out`` (this draw indexed, reshaped or transposed) as uniform noise whose uses
        count for this draw's cells ``cells`` (the same operation on the cell indices)."""
        if type(out) is not StochasticTriple or out.delta is not None \
                or out.perturbation is not None or out.shape != np.shape(cells):
            self._used("value")
            return out
        return UniformNoise(out.value, run=out.run, uses=self._uses,
                            cells=np.reshape(cells, -1))

    def _cell_indices(self):
        return (np.arange(self._uses.size) if self._cells is None else self._cells).reshape(
            self.shape)

    def _moving(self, other) -> bool:
        return isinstance(other, StochasticTriple) and (
            other.delta is not None or other.perturbation is not None)

    def _below(self, threshold):
        self._used("event")
        if math.prod(np.broadcast_shapes(self.shape, threshold.shape)) > max(1, self.size):
            self._used("event")  # u < p * np.array([1, 2]): one uniform decides two events
        if np.any(np.isnan(threshold.value)):
            raise ValueError(f"rng.random() compared with a threshold that is NaN in "
                             f"{np.count_nonzero(np.isnan(threshold.value))} of "
                             f"{threshold.value.size} lanes: the comparison has no probability")
        uniform = np.asarray(self.value, dtype=np.float64)
        threshold = np.clip(threshold, 0.0, 1.0)  # (u < 1.2 always holds: probability 1)
        threshold = threshold if threshold.ndim >= self.ndim else threshold * np.ones(self.shape)
        return _draw(_GivenUniform(lift(uniform, threshold.ndim)), [threshold], None, None)

    def __lt__(self, other):
        if self._moving(other):
            return self._boolean(self._below(other))
        return super().__lt__(other)  # (np.less: __array_ufunc__ notes the use)

    __le__ = __lt__

    def __gt__(self, other):
        if self._moving(other):
            return self._boolean(1 - self._below(other))
        return super().__gt__(other)

    __ge__ = __gt__

    def _boolean(self, outcome):
        """A Bernoulli outcome (0 or 1) as numpy's comparison gives it: a boolean (an array's
        ``~hit`` is "missed", ``+`` of masks is OR), or for numpy's one-number
        ``rng.random()``, a Python float, the Python ``bool`` of ``float < float``
        (:class:`PythonBool`). The smoothed backend's outcome, a number with a dual part,
        which a boolean cannot hold, stays as it is."""
        if outcome.delta is not None:
            return outcome
        if self._python and outcome.shape == ():
            return PythonBool(outcome.value, None, outcome.perturbation, run=outcome.run)
        return outcome.astype(bool)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method == "__call__" and not kwargs and len(inputs) == 2 and ufunc in _ORDERINGS:
            if inputs[0] is self and self._moving(inputs[1]):  # np.less(u, p): u < p
                return (self.__lt__ if _ORDERINGS[ufunc] else self.__gt__)(inputs[1])
            if inputs[1] is self and self._moving(inputs[0]):  # np.greater(p, u): u < p
                return (self.__gt__ if _ORDERINGS[ufunc] else self.__lt__)(inputs[0])
        for a in inputs:
            if type(a) is UniformNoise:
                a._used("value")
        return super().__array_ufunc__(ufunc, method, *inputs, **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        for a in nested(args):
            if type(a) is UniformNoise:
                a._used("value")
        return super().__array_function__(func, types, args, kwargs)

    def __getitem__(self, key):  # u[t] < p in a loop: each element its own event
        out = super().__getitem__(key)
        if isinstance(key, int | np.integer) and self.ndim:  # a row: its cells at once, not
            row = math.prod(self.shape[1:])                  # an index of every cell each
            start = key % self.shape[0] * row                # time (a loop over rows)
            cells = (np.arange(start, start + row) if self._cells is None
                     else self._cells[start:start + row])
            return self._view(out, cells.reshape(self.shape[1:]))
        try:
            cells = self._cell_indices()[key]
        except (IndexError, TypeError, ValueError):  # a random index (a triple in the key)
            self._used("value")
            return out
        return self._view(out, cells)

    def reshape(self, *shape):
        out = super().reshape(*shape)
        return self._view(out, self._cell_indices().reshape(out.shape))

    @property
    def T(self):  # noqa: N802 (numpy's name)
        return self._view(super().T, self._cell_indices().T)

    def astype(self, dtype, copy=True):
        self._used("value")
        return super().astype(dtype, copy)


class PythonBool(StochasticTriple):
    """The outcome of numpy's one-number ``rng.random() < p`` in a batched run: Python's
    ``bool``, held as 0 or 1. With numbers and other such outcomes it is an integer
    (``(u < p) + (v < p)`` counts two, ``-(u < p)`` is -1); with a boolean array, numpy's
    boolean or a boolean triple it is a boolean, as numpy's weak Python ``bool`` is
    (``infected + (u < p)`` is OR)."""

    __slots__ = ()

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if any(_boolean_operand(a) for a in inputs if type(a) is not PythonBool):
            inputs = tuple(StochasticTriple.astype(a, bool) if type(a) is PythonBool else a
                           for a in inputs)
        return super().__array_ufunc__(ufunc, method, *inputs, **kwargs)


def _boolean_operand(a) -> bool:
    """Whether numpy would make a Python ``bool`` beside ``a`` a boolean: ``a`` is numpy's
    boolean (an array or a scalar) or a boolean triple."""
    if isinstance(a, StochasticTriple):
        return a.dtype == bool
    return isinstance(a, np.ndarray | np.bool_) and a.dtype == bool


_ORDERINGS = {np.less: True, np.less_equal: True, np.greater: False, np.greater_equal: False}
"""numpy's ordering ufuncs on a uniform, ``True`` where ``ufunc(u, t)`` is ``u < t``."""
