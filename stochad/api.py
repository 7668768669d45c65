"""Estimators and accessors: the public entry points (docs/design.md §2)."""

from __future__ import annotations

import numpy as np

from .auto import AUTO, resolve_backend
from .backends import backend_class
from .context import normalize_rng
from .driver import contribution, lane_counts, run_once
from .estimators import sampler
from .structure import Layout, map_leaves
from .triple import StochasticTriple, delta, perturbations, value

__all__ = ["delta", "derivative_contribution", "derivative_estimate", "derivative_samples",
           "perturbations", "stochastic_triple", "value"]

def _as_parameter(p) -> np.ndarray:
    p = np.asarray(p, dtype=np.float64)
    if not np.all(np.isfinite(p)):
        raise ValueError(f"the parameter p must be finite, got {p!r}")
    return p


def _directions(p: np.ndarray, direction) -> tuple[list[np.ndarray], bool]:
    """The dual parts to seed: one per coordinate of ``p``, or the given ``direction``."""
    if direction is not None:
        d = np.asarray(direction, dtype=np.float64)
        if d.shape != p.shape:
            raise ValueError(f"direction has shape {d.shape}, but p has shape {p.shape}")
        if not np.all(np.isfinite(d)):
            raise ValueError(f"direction must be finite, got {d!r}")
        return [d], False
    if p.ndim == 0:
        return [np.ones(())], False
    basis = np.eye(p.size).reshape((p.size,) + p.shape)
    return list(basis), True


def _samples_along(f, p, d, n_samples, generator, backend, vectorize, chunk_size):
    cls = backend_class(backend)
    return np.concatenate([run_once(f, p, d, cls(n), generator, contribution)
                           for n in lane_counts(n_samples, vectorize, chunk_size, cls)])


def derivative_samples(f, p, *, n_samples, rng=None, backend="pruned", vectorize=True,
                       direction=None, chunk_size=None, estimator="triple", baseline=False,
                       h=None) -> np.ndarray:
    """Independent unbiased samples of ``d/dp E[f(p)]``, sample axis first.

    Parameters
    ----------
    f : callable
        The program: ``f(p)`` with ``p`` a stochastic triple; it draws with the ``stochad``
        samplers and computes with numpy operators and functions.
    p : float, array_like, or tuple/dict of them
        Where to differentiate. For a tuple or dict (nested ones too), ``f`` receives the
        same structure of triples and the result has that structure.
    n_samples : int
        Number of independent samples.
    rng : None, int, SeedSequence or Generator
        Drives every draw and every pruning choice (anything
        :func:`numpy.random.default_rng` accepts).
    backend : {"pruned", "exact", "kpaths", "kpaths:K", "auto", "smoothed"}
        How perturbations are reconciled (docs/design.md §1): ``"pruned"`` keeps one per sample;
        ``"exact"`` keeps all (lowest variance, cost grows with live events); ``"kpaths"``
        keeps up to K = 4 per element (``"kpaths:K"``: another K), unbiased; ``"auto"`` picks
        one of pruned, kpaths, exact by a short pilot (:func:`stochad.choose_backend`);
        ``"smoothed"`` folds them into the dual part (cheapest, **biased** for non-linear
        programs).
    vectorize : bool
        ``True``: call ``f`` once per chunk of samples on a batched triple. ``False``: call ``f``
        once per sample on a single-lane triple, so Python control flow on values works.
    direction : array_like, optional
        A single directional derivative (shape, or tuple/dict structure, of ``p``) in one
        pass, instead of one pass per coordinate.
    chunk_size : int, optional
        Most lanes per batched call (default 65,536), bounding memory; ``n_samples`` is
        split into as few chunks of equal size as that allows.
    estimator : {"triple", "score", "fd", "combined"}
        ``"triple"``: stochastic triples. ``"score"``: the score-function (REINFORCE)
        estimator, unbiased. ``"combined"``: both from one run, ``T + c·(S − T)`` with ``c``
        cross-fitted (:mod:`stochad.combined`), unbiased. ``"fd"``: central differences with
        common random numbers, **biased** for finite ``h``. All run the same ``f``; see
        :mod:`stochad.estimators`.
    baseline : bool
        ``estimator="score"`` only: subtract the leave-one-out mean of ``f`` (still unbiased).
    h : float, optional
        ``estimator="fd"`` only: the step (default ``1e-2·max(1, max|p|)``).

    Returns
    -------
    numpy.ndarray
        Shape ``(n_samples, *out_shape)`` for scalar ``p`` or with ``direction``;
        ``(n_samples, *out_shape, *p.shape)`` for array ``p``; for a tuple/dict ``p``, the
        same structure with ``(n_samples, *out_shape, *leaf.shape)`` leaves.

    Examples
    --------
    >>> import stochad as sad
    >>> samples = sad.derivative_samples(sad.poisson, 3.0, n_samples=4, rng=0)
    >>> samples.tolist()
    [1.0, 1.0, 1.0, 1.0]

    A dict of parameters gives a dict of derivatives, ``d/dλ E[a₀K + a₁] = a₀`` exactly on
    every sample (the ``a`` column of ``a₁`` is 1):

    >>> g = sad.derivative_samples(lambda q: q["a"][0] * sad.poisson(q["lam"]) + q["a"][1],
    ...                            {"lam": 3.0, "a": [2.0, 5.0]}, n_samples=3, rng=0)
    >>> g["lam"].tolist(), g["a"][:, 1].tolist()
    ([2.0, 2.0, 2.0], [1.0, 1.0, 1.0])
    """
    n_samples = int(n_samples)
    if n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples}")
    if chunk_size is not None and int(chunk_size) < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size}")
    if backend != AUTO:
        backend_class(backend)
    along = sampler(estimator, baseline=baseline, h=h) or _samples_along
    generator = normalize_rng(rng)
    layout = Layout.of(p)  # tuple/dict p: differentiate the flat vector of its leaves
    if layout is not None:
        f, p, direction = layout.wrap(f), layout.flatten(p), layout.flatten(direction, "direction")
    p = _as_parameter(p)
    directions, per_coordinate = _directions(p, direction)
    backend = resolve_backend(backend, estimator, f, p, directions, n_samples, generator,
                              vectorize, chunk_size)
    samples = [
        along(f, p, d, n_samples, generator, backend, vectorize, chunk_size)
        for d in directions
    ]
    if not per_coordinate:
        return samples[0]
    stacked = np.stack(samples, axis=-1)
    stacked = stacked.reshape(stacked.shape[:-1] + p.shape)
    return stacked if layout is None else layout.unflatten(stacked)


def derivative_estimate(f, p, *, n_samples=1, rng=None, backend="pruned", vectorize=True,
                        direction=None, chunk_size=None, estimator="triple", baseline=False,
                        h=None):
    """Unbiased estimate of ``d/dp E[f(p)]``: the mean of ``n_samples`` samples.

    See :func:`derivative_samples` for the parameters.

    Examples
    --------
    >>> import stochad as sad
    >>> est = sad.derivative_estimate(lambda p: sad.bernoulli(p), 0.3, n_samples=100_000, rng=0)
    >>> abs(est - 1.0) < 0.05
    True
    """
    samples = derivative_samples(f, p, n_samples=n_samples, rng=rng, backend=backend,
                                 vectorize=vectorize, direction=direction,
                                 chunk_size=chunk_size, estimator=estimator,
                                 baseline=baseline, h=h)
    means = map_leaves(lambda s: s.mean(axis=0), samples)  # a tuple/dict for a tuple/dict p
    return map_leaves(lambda m: m.item() if m.ndim == 0 else m, means)


def stochastic_triple(f, p, *, n_samples=1, rng=None, backend="pruned"):
    """Run ``f`` once on a triple seeded at ``p`` and return its output triple.

    With ``n_samples=1`` the accessors (:func:`value`, :func:`delta`, ...) return values of
    the output's own shape; with more, a leading sample axis.

    Examples
    --------
    >>> import stochad as sad
    >>> sad.stochastic_triple(lambda p: sad.poisson(p), 3.0, rng=0)
    2 + 0ε + (1 with probability 1ε)
    """
    layout = Layout.of(p)  # tuple/dict p: every leaf seeded with dual part 1
    if layout is not None:
        f, p = layout.wrap(f), layout.flatten(p)
    p = _as_parameter(p)
    n_lanes = int(n_samples)
    return run_once(f, p, np.ones(p.shape), backend_class(backend)(n_lanes), normalize_rng(rng),
                    _output)


def _output(run, result):
    return result


def derivative_contribution(st):
    """``delta + Σ weight·jump``: one unbiased derivative sample per lane.

    Examples
    --------
    >>> import stochad as sad
    >>> st = sad.stochastic_triple(lambda p: sad.poisson(p), 3.0, rng=0)
    >>> float(sad.derivative_contribution(st))
    1.0
    """
    if not isinstance(st, StochasticTriple):
        return np.zeros(np.shape(st))
    out = contribution(st.run, st)
    return out[0] if st.n_lanes == 1 else out
