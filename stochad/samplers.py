"""Differentiable random draws (DESIGN §1): discrete ones by stochastic triples, continuous ones
by reparameterisation.

Inside a run (a call of an estimator), a draw takes its numbers from the run's generator, one
per lane, and returns a triple; its parameters may carry a dual part (a new perturbation with
the weights of DESIGN §1), a finite perturbation (inherited through inversion coupling), or
both. Outside a run the samplers behave like numpy's: pass ``rng=`` (anything
:func:`numpy.random.default_rng` accepts) for reproducible plain draws.
"""

from __future__ import annotations

import numpy as np

from . import kernels
from .context import current_run, normalize_rng
from .propagation import broadcast, flat_rows, lift, logical_shape, run_of, shifted
from .triple import StochasticTriple


def _fail(name: str, what: str, bad: np.ndarray, where: str):
    raise ValueError(f"{name}: {what}, got {np.asarray(bad).reshape(-1)[0].item()!r}{where}")


def _check(name, what, values, ok, where):
    values = np.asarray(values)
    if values.size and not np.all(ok(values)):
        _fail(name, what, values[~ok(values)], where)


def _scalar_if_constant(x):
    """The single value of ``x`` if it is one number broadcast (every stride 0), else ``x``:
    numpy samples a scalar parameter about 12% faster than an array of copies of it, and
    gives the same numbers."""
    x = np.asarray(x)
    return x.reshape(-1)[0] if x.size and not any(x.strides) else x


_UNIT_INTERVAL = "p must be in [0, 1]"
_ON_ALTERNATIVE = " (on the alternative path of a perturbation)"


def _in_unit_interval(name, p, where, open_low=False):
    p = np.asarray(p)
    if not p.size:
        return
    lo, hi = p.min(), p.max()
    if open_low:
        if not (lo > 0 and hi <= 1):
            _fail(name, "p must be in (0, 1]", p[~((p > 0) & (p <= 1))], where)
    elif not (lo >= 0 and hi <= 1):
        _fail(name, _UNIT_INTERVAL, p[~((p >= 0) & (p <= 1))], where)


class Distribution:
    """A discrete distribution: sampling, new perturbation and coupled alternative outcome."""

    name: str
    core_ndim = 0  # trailing parameter axes that are not broadcast (categorical: categories)

    def validate(self, params, where=""):
        raise NotImplementedError

    def sample(self, rng, params, shape):
        """Primal draws of ``shape``; returns ``(k, state)`` for the coupling."""
        raise NotImplementedError

    kind: int  # row of kernels.new_perturbation

    def check_deltas(self, deltas):
        """Raise if a parameter that cannot carry a dual part carries one."""

    def new_perturbation(self, rng, k, params, deltas):
        """``(jump, weight)`` created by the dual part of the last parameter (DESIGN §1)."""
        self.check_deltas(deltas)
        d = deltas[-1]
        if d is None:
            return None
        flat = [np.ascontiguousarray(broadcast(x, k.shape), dtype=np.float64).reshape(-1)
                for x in (params[0], params[-1], d)]
        jump, weight = kernels.new_perturbation(self.kind, k.reshape(-1), *flat)
        return jump.reshape(k.shape), weight.reshape(k.shape)

    def coupled_jump(self, rng, k, state, params, jumps):
        """The draw's jump on an alternative path on which parameter ``i`` jumps by
        ``jumps[i]`` (``None``: it does not move), by inversion coupling; float64 like ``k``.

        Raises ``ValueError`` if a moved parameter is invalid on that path.
        """
        alt_params = [shifted(v, j, cast=False) for v, j in zip(params, jumps, strict=True)]
        # elements that do not move keep their (already validated) parameters
        self.validate(alt_params, where=_ON_ALTERNATIVE)
        alternative = self.alternative(rng, k, state, params, alt_params, jumps)
        return np.subtract(alternative, k, dtype=np.float64)

    def alternative(self, rng, k, state, params, alt_params, jumps):
        """The outcome coupled to ``k`` under ``alt_params`` (``params`` moved by ``jumps``)."""
        raise NotImplementedError


class Bernoulli(Distribution):
    name = "bernoulli"
    kind = kernels.BERNOULLI

    def validate(self, params, where=""):
        _in_unit_interval(self.name, params[0], where)

    def sample(self, rng, params, shape):
        u = rng.random(shape)
        return (u < params[0]).astype(np.int64), u

    def coupled_jump(self, rng, k, state, params, jumps):
        """``[u < p + Δ] - [u < p]`` in one pass (:func:`stochad.kernels.bernoulli_coupled`)
        instead of the generic shift, validation, comparison and difference."""
        p = flat_rows(params[0], k.shape, np.float64).reshape(-1)
        dp = flat_rows(jumps[0], k.shape, np.float64).reshape(-1)
        jump = np.empty(k.shape)
        bad = kernels.bernoulli_coupled(state.reshape(-1), p, dp, jump.reshape(-1))
        if bad >= 0:
            _fail(self.name, _UNIT_INTERVAL, np.asarray(p[bad] + dp[bad]), _ON_ALTERNATIVE)
        return jump


class Geometric(Distribution):
    """Number of trials up to the first success (numpy's convention: k >= 1)."""

    name = "geometric"
    kind = kernels.GEOMETRIC

    def validate(self, params, where=""):
        _in_unit_interval(self.name, params[0], where, open_low=True)

    @staticmethod
    def _invert(u, p):
        with np.errstate(divide="ignore", invalid="ignore"):
            k = np.ceil(np.log1p(-u) / np.log1p(-p))
        k = np.maximum(np.nan_to_num(k, nan=1.0), 1)
        big = k >= 2.0**63  # beyond int64 (p ~ 1e-20): saturate, as numpy's sampler does
        return np.where(big, np.iinfo(np.int64).max, np.where(big, 1, k).astype(np.int64))

    def sample(self, rng, params, shape):
        u = rng.random(shape)
        return self._invert(u, params[0]), u

    def alternative(self, rng, k, state, params, alt_params, jumps):
        return self._invert(state, alt_params[0])


class _WalkCoupled(Distribution):
    """Draws with numpy's fast sampler, coupled by an inverse-CDF walk when a parameter moves
    (:func:`stochad.kernels.invert_coupled`)."""

    walk: int  # kernels.invert_coupled: 0 Poisson, 1 Binomial

    def _walk_params(self, params):
        raise NotImplementedError

    def alternative(self, rng, k, state, params, alt_params, jumps):
        moved = np.zeros(k.shape, dtype=bool)
        for j in jumps:
            if j is not None:
                moved |= j != 0
        count = np.count_nonzero(moved)
        if not count:
            return k.copy()

        def flat(x, dtype=np.float64):
            return np.ascontiguousarray(np.broadcast_to(x, k.shape), dtype).reshape(-1)

        # whole arrays and the mask: the kernel skips the elements that do not move, which
        # costs less than gathering the moved ones (typically most of them) and scattering back
        coupled = kernels.invert_coupled(
            self.walk, flat(k, np.int64), rng.random(count),
            *(flat(x) for x in self._walk_params(params)),
            *(flat(x) for x in self._walk_params(alt_params)),
            None if count == moved.size else flat(moved, np.bool_))
        return coupled.reshape(k.shape)


class Poisson(_WalkCoupled):
    name = "poisson"
    kind = kernels.POISSON
    walk = 0

    def validate(self, params, where=""):
        _check(self.name, "the rate lam must be finite and >= 0", params[0],
               lambda v: np.isfinite(v) & (v >= 0), where)

    def sample(self, rng, params, shape):
        return rng.poisson(_scalar_if_constant(params[0]), shape), None

    def _walk_params(self, new):
        return new[0], new[0]  # the kernel ignores the second parameter of a Poisson law


class Binomial(_WalkCoupled):
    name = "binomial"
    kind = kernels.BINOMIAL
    walk = 1

    def validate(self, params, where=""):
        _check(self.name, "n must be a non-negative integer", params[0],
               lambda v: np.isfinite(v) & (v >= 0) & (v == np.floor(v)), where)
        _in_unit_interval(self.name, params[1], where)

    def sample(self, rng, params, shape):
        n, p = (_scalar_if_constant(x) for x in params)
        return rng.binomial(np.asarray(n).astype(np.int64), p, shape), None

    def check_deltas(self, deltas):
        dn = deltas[0]
        if dn is not None and np.any(dn != 0):
            raise ValueError(
                "binomial: the number of trials n cannot carry a dual part (it is an integer); "
                "only finite perturbations of n (from discrete draws) are supported"
            )

    def _walk_params(self, new):
        return new[0], new[1]


class Categorical(Distribution):
    """Index of a category, 0-based, with probabilities along the last axis of ``probs``."""

    name = "categorical"
    core_ndim = 1

    def validate(self, params, where=""):
        probs = np.asarray(params[0])
        if probs.ndim == 0 or probs.shape[-1] == 0:
            raise ValueError(f"categorical: probs must have at least one category{where}")
        _check(self.name, "probabilities must be finite and >= 0", probs,
               lambda v: np.isfinite(v) & (v >= 0), where)
        total = probs.sum(axis=-1)
        tolerance = np.sqrt(np.finfo(float).eps) * max(1, probs.shape[-1])
        _check(self.name, "probabilities must sum to 1", total,
               lambda t: np.abs(t - 1) <= tolerance, where)

    @staticmethod
    def _invert(u, probs):
        cdf = np.cumsum(probs, axis=-1)
        return np.sum(cdf[..., :-1] <= u[..., None], axis=-1, dtype=np.int64)

    def sample(self, rng, params, shape):
        u = rng.random(shape[:-1])
        return self._invert(u, params[0]), u

    def new_perturbation(self, rng, k, params, deltas):
        (probs,), (dprobs,) = params, deltas
        n_cat = probs.shape[-1]
        cdf = np.cumsum(probs, axis=-1).reshape(-1, n_cat)
        dcdf = np.cumsum(np.broadcast_to(dprobs, probs.shape), axis=-1).reshape(-1, n_cat)
        uniforms = rng.random(k.size)
        jump, weight = kernels.categorical_perturbation(
            np.ascontiguousarray(cdf), np.ascontiguousarray(dcdf), k.reshape(-1), uniforms
        )
        return jump.reshape(k.shape), weight.reshape(k.shape)

    def alternative(self, rng, k, state, params, alt_params, jumps):
        return self._invert(state, alt_params[0])


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


def _holds_triples(arg) -> bool:
    if isinstance(arg, StochasticTriple):
        return True
    return isinstance(arg, list | tuple) and any(_holds_triples(a) for a in arg)


def _as_param(arg):
    """Plain numbers stay arrays; (nested) lists containing triples are stacked into one
    triple as numpy builds an array from them: the list's axis first."""
    if isinstance(arg, StochasticTriple):
        return arg
    if isinstance(arg, list | tuple) and _holds_triples(arg):
        from .arrayfuncs import stack

        return stack([_as_param(a) for a in arg], axis=0)
    return np.asarray(arg, dtype=np.float64)


def draw(dist: Distribution, args, size=None, rng=None):
    """Draw from ``dist`` with parameters ``args`` (triples or numbers); see module docstring."""
    args = [_as_param(a) for a in args]
    size = () if size is None else ((size,) if np.isscalar(size) else tuple(size))
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
    observe = getattr(run.backend, "observe_draw", None)
    if observe is not None:  # estimators that are not triples (score function) see each draw
        observe(run, dist, k, values, deltas)
    new = NewPerturbation(dist, run.rng, k, values, deltas) if any(
        d is not None for d in deltas) else None

    def coupled_jump(jumps):
        return dist.coupled_jump(run.rng, k, state, values, jumps)

    # The backend reconciles the parameters' perturbations into alternative paths (pruned: one
    # per element; exact: one per live event) and couples the draw along each of them.
    event, alternative_jump = _inherit(run, args, values, k.shape, core, ndim, coupled_jump,
                                      walks=isinstance(dist, _WalkCoupled))
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


_BERNOULLI, _BINOMIAL, _POISSON = Bernoulli(), Binomial(), Poisson()
_GEOMETRIC, _CATEGORICAL = Geometric(), Categorical()


def bernoulli(p, size=None, *, rng=None):
    """Bernoulli(p) draw: 1 with probability ``p``, else 0.

    Examples
    --------
    >>> import stochad as sad
    >>> sad.derivative_estimate(lambda p: 7 * sad.bernoulli(p) - 3, 0.3, n_samples=10, rng=0)
    7.0...
    """
    return draw(_BERNOULLI, [p], size, rng)


def binomial(n, p, size=None, *, rng=None):
    """Binomial(n, p) draw; ``n`` may itself be a (perturbed) discrete draw.

    Examples
    --------
    >>> import stochad as sad
    >>> int(sad.binomial(10, 0.0, rng=0))
    0
    """
    return draw(_BINOMIAL, [n, p], size, rng)


def poisson(lam=1.0, size=None, *, rng=None):
    """Poisson(lam) draw.

    Examples
    --------
    >>> import stochad as sad
    >>> sad.derivative_estimate(sad.poisson, 3.0, n_samples=5, rng=0)
    1.0
    """
    return draw(_POISSON, [lam], size, rng)


def geometric(p, size=None, *, rng=None):
    """Geometric(p) draw: trials up to and including the first success (k >= 1), as numpy.

    Examples
    --------
    >>> import stochad as sad
    >>> int(sad.geometric(1.0, rng=0))
    1
    """
    return draw(_GEOMETRIC, [p], size, rng)


def categorical(probs, size=None, *, rng=None):
    """0-based category index drawn with probabilities ``probs`` (last axis).

    ``probs`` may be a list mixing numbers and triples, e.g. ``[p / 2, p / 2, 1 - p]``.

    Examples
    --------
    >>> import stochad as sad
    >>> int(sad.categorical([0.0, 1.0, 0.0], rng=0))
    1
    """
    return draw(_CATEGORICAL, [probs], size, rng)


_FINITE = ("must be finite", lambda v: np.isfinite(v))
_NON_NEGATIVE = ("must be finite and >= 0", lambda v: np.isfinite(v) & (v >= 0))


def _continuous(name, numpy_method, standard, transform, params, size, rng, checks):
    """A reparameterised draw: ``transform(noise, *params)`` with plain ``standard`` noise."""
    params = [a if isinstance(a, StochasticTriple) else np.asarray(a, float) for a in params]
    for label, (what, ok), arg in zip(checks[::2], checks[1::2], params, strict=True):
        value = arg.value if isinstance(arg, StochasticTriple) else arg
        _check(name, f"{label} {what}", value, ok, "")
        if isinstance(arg, StochasticTriple) and arg.perturbation is not None:
            for jump, weight in arg.run.backend.pairs(arg.run, arg.perturbation):
                alternative, moved = np.broadcast_arrays(value + jump, (weight != 0) & (jump != 0))
                _check(name, f"{label} {what}", alternative[moved], ok,
                       " (on the alternative path of a perturbation)")
    run = run_of(params) or current_run()
    if run is None:
        return getattr(normalize_rng(rng), numpy_method)(*params, size=size)
    if rng is not None:
        raise ValueError(f"{name}: inside a run pass rng= to the estimator, not to the sampler")
    size = () if size is None else ((size,) if np.isscalar(size) else tuple(size))
    shape = np.broadcast_shapes(*(logical_shape(a) for a in params), size)
    noise = StochasticTriple(standard(run.rng, (run.n_lanes,) + shape), run=run)
    return transform(noise, *params)


def normal(loc=0.0, scale=1.0, size=None, *, rng=None):
    """Normal(loc, scale) draw, reparameterised as ``loc + scale * z``.

    Examples
    --------
    >>> import stochad as sad
    >>> sad.derivative_estimate(lambda m: sad.normal(m, 2.0), 1.0, n_samples=4, rng=0)
    1.0
    """
    return _continuous("normal", "normal", lambda g, s: g.standard_normal(s),
                       lambda z, mu, sigma: mu + sigma * z, [loc, scale], size, rng,
                       ["loc", _FINITE, "scale", _NON_NEGATIVE])


def exponential(scale=1.0, size=None, *, rng=None):
    """Exponential draw with mean ``scale``, reparameterised as ``scale * e``.

    Examples
    --------
    >>> import stochad as sad
    >>> float(sad.exponential(0.0, rng=0))
    0.0
    """
    return _continuous("exponential", "exponential", lambda g, s: g.standard_exponential(s),
                       lambda e, s: s * e, [scale], size, rng, ["scale", _NON_NEGATIVE])


def uniform(low=0.0, high=1.0, size=None, *, rng=None):
    """Uniform(low, high) draw, reparameterised as ``low + (high - low) * u``.

    Examples
    --------
    >>> import stochad as sad
    >>> sad.derivative_estimate(lambda b: sad.uniform(0.0, b), 2.0, n_samples=100_000, rng=0)
    0.49...
    """
    return _continuous("uniform", "uniform", lambda g, s: g.random(s),
                       lambda u, a, b: a + (b - a) * u, [low, high], size, rng,
                       ["low", _FINITE, "high", _FINITE])
