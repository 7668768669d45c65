"""Resampling weights: unbiased derivatives through particle-filter resampling.

A particle filter resamples: it draws ancestor indices ``a_k`` with probabilities
``p_i = W_i / Σ W`` and gives every offspring the weight ``Σ W / n``. Differentiating the
primal code misses how the choice of ancestors moves with the parameter. :func:`new_weight`
(StochasticAD.jl's ``new_weight``; Ścibior & Wood 2021) restores it: multiply the weight of the
resampled particle by ``new_weight(p_a)``, which is 1 in value and carries ``δp_a / p_a``.

Why this is unbiased. Draw the ancestors from the *primal* probabilities ``q = p(θ₀)``, a law
that does not move with ``θ``, and correct the offspring weight by ``p_a(θ) / q_a``. For every
``θ`` this resampling is properly weighted, ``E[Σ_k W'_k φ(x_{a_k})] = Σ_i W_i φ(x_i)``, so the
particle filter stays unbiased for ``E[output](θ)`` as long as the weights enter the output
linearly (sums of weights, weighted means' numerators, the likelihood estimate ``Σ W``). The
correction ``p_a(θ)/q_a`` is exactly ``new_weight``: value 1, dual part ``δp_a/p_a``. Any scheme
with ``E[#offspring of i] = n·q_i`` works (multinomial, systematic, stratified).

The same argument gives the finite part. If ``p_a`` carries a finite perturbation ``Δp`` (the
weights depend on an upstream discrete draw), the alternative path keeps the ancestors drawn
under ``q`` and must reweight them by ``(p_a + Δp)/p_a``: the jump of ``new_weight`` is
``(p_a + Δp)/p_a − 1 = Δp/p_a`` on the same event. It is computed as ``p / stop(p)``, where
``stop(p)`` is ``p``'s primal value without dual part or perturbation, so every backend handles
it like any division.

A particle whose primal weight is 0 has ``q_i = 0`` and is never drawn, so no reweighting can
give it the positive weight an alternative path may have (an indicator likelihood that a
perturbation switches on): the argument needs ``q_i > 0`` wherever ``p_i(θ) > 0``. In the
samples where that happens, :func:`resample` draws from the defensive mixture
``q = (1 − ε)·p + ε/N`` (``ε`` = :data:`DEFENSIVE`) and reweights by ``p_a(θ)/q_a``, the same
correction with another fixed proposal; elsewhere ``q = p`` and the correction is
``new_weight``.
"""

from __future__ import annotations

import numpy as np

from ._jit import njit
from .compiled.hook import refuse
from .context import current_run, normalize_rng
from .triple import StochasticTriple

__all__ = ["new_weight", "resample"]

DEFENSIVE = 0.1
"""Share of the uniform law mixed into the resampling proposal of a sample in which a particle
of primal weight 0 has a positive weight on an alternative path (see the module notes)."""


def _primal(x: StochasticTriple) -> StochasticTriple:
    """``x``'s primal value as a triple without dual part or perturbation."""
    return StochasticTriple(x.value, run=x.run)


def new_weight(p):
    """Resampling weight for a choice made with probability ``p``: value 1, dual part ``δp/p``.

    Multiply the weight of a resampled particle by ``new_weight(p)``, where ``p`` is the
    probability with which it was chosen, and draw the choice from the *primal* probabilities
    (:func:`resample` does both). The result is exactly unbiased when it is used linearly, as an
    importance weight (see the module notes for the argument). Do not draw the choice with
    ``sad.categorical`` on the probability *triple* as well: that differentiates the choice by
    its own perturbations, and with ``new_weight`` on top it would be counted twice.

    Parameters
    ----------
    p : float, array_like or StochasticTriple
        Probability of the choice that was made; must be > 0 (a choice of probability 0 is
        never made).

    Returns
    -------
    StochasticTriple or numpy.ndarray
        Ones of ``p``'s shape. For a triple: dual part ``δp/p`` and, if ``p`` carries a finite
        perturbation ``Δp``, the jump ``(p + Δp)/p − 1`` on the same event: the likelihood
        ratio that reweights the same choice on the alternative path.

    Raises
    ------
    ValueError
        If some ``p`` is not finite or not > 0.

    Examples
    --------
    >>> import stochad as sad
    >>> st = sad.stochastic_triple(lambda p: sad.new_weight(p / 4), 2.0)
    >>> float(sad.value(st)), float(sad.delta(st))
    (1.0, 0.5)

    The weight makes ``E[g(choice)]`` differentiable through a choice drawn without
    derivatives: here ``E[g] = 3·p + 1·(1 − p)`` has derivative 2.

    >>> import numpy as np
    >>> from stochad.resampling import resample
    >>> def f(p):
    ...     w, (g,) = resample(np.stack([p, 1 - p]), [np.array([3.0, 1.0])], n=1)
    ...     return w[0] * g[0]
    >>> round(sad.derivative_estimate(f, 0.3, n_samples=100_000, rng=0), 1)
    2.0
    """
    value = p.value if isinstance(p, StochasticTriple) else np.asarray(p, dtype=np.float64)
    bad = ~(np.isfinite(value) & (value > 0))
    if np.any(bad):
        raise ValueError(
            f"new_weight: the probability of a choice that was made must be finite and > 0, "
            f"got {value[bad].reshape(-1)[0]!r}"
        )
    if not isinstance(p, StochasticTriple):
        return np.ones(value.shape)
    return p / _primal(p)


@njit
def inverse_cdf(weights, uniforms):
    """Ancestor indices: per lane, invert the CDF of ``weights`` at sorted ``uniforms``.

    ``weights`` is ``(n_lanes, N)``, non-negative with a positive sum per lane; ``uniforms`` is
    ``(n_lanes, n)`` in ``[0, 1)``, sorted along each row. A particle of weight 0 is never
    chosen, whatever the rounding.
    """
    n_lanes, n_particles = weights.shape
    n = uniforms.shape[1]
    out = np.empty((n_lanes, n), dtype=np.int64)
    for lane in range(n_lanes):
        total = 0.0
        for j in range(n_particles):
            total += weights[lane, j]
        last = n_particles - 1
        while last > 0 and weights[lane, last] <= 0.0:
            last -= 1
        j = 0
        acc = weights[lane, 0]
        for k in range(n):
            target = uniforms[lane, k] * total
            while acc <= target and j < last:
                j += 1
                acc += weights[lane, j]
            out[lane, k] = j
    return out


def _uniforms(rng, shape, method):
    n_lanes, n = shape
    if method == "multinomial":
        return np.sort(rng.random(shape), axis=1)
    if method == "stratified":
        return (np.arange(n) + rng.random(shape)) / n
    if method == "systematic":
        return (np.arange(n) + rng.random((n_lanes, 1))) / n
    raise ValueError(
        f"unknown resampling method {method!r}; choose 'multinomial', 'stratified' or 'systematic'"
    )


def _gather(x, index, run):
    """``x[index]`` along the first logical axis, with a different ``index`` in every lane."""
    def take(a):
        a = np.asarray(a)
        lanes = np.arange(a.shape[0]).reshape((-1,) + (1,) * (index.ndim - 1))
        return a[lanes, index]

    if isinstance(x, StochasticTriple):
        if x.ndim == 0:
            raise ValueError("resample: particle arrays need a particle axis (got a scalar)")
        delta = None if x.delta is None else take(x.delta)
        pert = None if x.perturbation is None else x.perturbation.map(take)
        return StochasticTriple(take(x.value), delta, pert, run=x.run)
    x = np.asarray(x)
    if x.ndim == 0:
        raise ValueError("resample: particle arrays need a particle axis (got a scalar)")
    return StochasticTriple(x[index], run=run)


def resample(weights, particles, *, n=None, method="systematic", rng=None, defensive=None):
    """Resample a weighted particle system, differentiably (bootstrap particle filter step).

    Ancestors ``a_k`` are drawn from the primal normalised weights ``p = W / ΣW``; offspring
    ``k`` gets the weight ``(ΣW / n) · new_weight(p[a_k])``, so the total weight keeps its value
    ``ΣW`` and the derivative of any output linear in the weights stays unbiased (module notes).

    Parameters
    ----------
    weights : StochasticTriple or array_like, shape (N,)
        Non-negative, unnormalised particle weights with a positive sum.
    particles : sequence of StochasticTriple or array_like
        Particle arrays; their first (logical) axis is the particle axis, of length N.
    n : int, optional
        Number of offspring (default N).
    method : {"systematic", "stratified", "multinomial"}
        How the ancestors are drawn (all three keep every ancestor's expected number of
        offspring at ``n·p_i``, which is what unbiasedness needs).
    rng : None, int, SeedSequence or Generator
        Only outside a run; inside one the run's generator is used.
    defensive : float, optional
        ``ε`` in (0, 1): draw the ancestors from ``(1 − ε)·p + ε/N`` in *every* sample whose
        weights carry a perturbation, not only where a weight revives from 0. The reweighting
        ``p_a(θ)/q_a`` is then at most ``N/ε`` times ``p_a(θ)``, which bounds the heavy tail a
        particle of tiny primal weight can give the derivative (a jump ``Δp_a/p_a``); still
        unbiased (module notes). Default: only where needed, with ``ε`` = :data:`DEFENSIVE`.

    Returns
    -------
    new_weights : StochasticTriple or numpy.ndarray, shape (n,)
    new_particles : list
        The particle arrays gathered at the ancestors.

    Examples
    --------
    >>> import numpy as np
    >>> from stochad.resampling import resample
    >>> w, (x,) = resample(np.array([0.0, 2.0, 0.0]), [np.array([7.0, 8.0, 9.0])], rng=0)
    >>> w.tolist(), x.tolist()
    ([0.6666666666666666, 0.6666666666666666, 0.6666666666666666], [8.0, 8.0, 8.0])
    """
    refuse("resample")  # compiled engine: no recorded form
    particles = list(particles)
    is_triple = isinstance(weights, StochasticTriple)
    run = weights.run if is_triple else current_run()
    w_value = weights.value if is_triple else np.asarray(weights, dtype=np.float64)
    shape = weights.shape if is_triple else w_value.shape
    if len(shape) != 1:
        raise ValueError(f"resample: weights must be one-dimensional, got shape {shape}")
    bad = ~(np.isfinite(w_value) & (w_value >= 0))
    if np.any(bad):
        raise ValueError(f"resample: weights must be finite and >= 0, got "
                         f"{w_value[bad].reshape(-1)[0]!r}")
    n_particles = w_value.shape[-1]
    for i, x in enumerate(particles):
        length = (x.shape if isinstance(x, StochasticTriple) else np.shape(x))[:1]
        if length and length[0] != n_particles:
            raise ValueError(f"resample: particles[{i}] has {length[0]} particles along its "
                             f"first axis, but weights has {n_particles}")
    n = n_particles if n is None else int(n)
    if n < 1:
        raise ValueError(f"resample: n must be a positive integer, got {n}")
    if defensive is not None and not 0 < defensive < 1:
        raise ValueError(f"resample: defensive must be in (0, 1), got {defensive!r}")
    if run is not None and rng is not None:
        raise ValueError("resample: inside a run pass rng= to the estimator, not to resample")
    generator = run.rng if run is not None else normalize_rng(rng)
    lanes = np.broadcast_to(w_value, (run.n_lanes if run else 1, n_particles))
    sums = lanes.sum(axis=1, keepdims=True)
    if np.any(sums <= 0):
        raise ValueError("resample: all particle weights are zero (in some sample)")
    chosen_from = lanes / sums  # the proposal q: the primal probabilities p
    if is_triple and weights.perturbation is not None:
        # a particle of weight 0 that an alternative path makes positive must stay drawable:
        # in those samples, mix a little of the uniform law into the proposal (module notes)
        revivable = np.zeros(lanes.shape[0], dtype=bool)
        for jump, weight in run.backend.pairs(run, weights.perturbation):
            moved = (lanes == 0) & (np.broadcast_to(jump, lanes.shape) > 0) \
                & (np.broadcast_to(weight, lanes.shape) != 0)
            revivable |= moved.any(axis=1)
        if defensive is not None:
            revivable[:] = True
        share = DEFENSIVE if defensive is None else defensive
        chosen_from = np.where(revivable[:, None],
                               (1 - share) * chosen_from + share / n_particles,
                               chosen_from)
    index = inverse_cdf(np.ascontiguousarray(chosen_from),
                        _uniforms(generator, (lanes.shape[0], n), method))
    if run is None:
        total = w_value.sum()
        return np.full(n, total / n), [np.asarray(x)[index[0]] for x in particles]
    total = np.sum(weights)
    chosen = _gather(weights / total, index, run)
    proposal = StochasticTriple(np.take_along_axis(chosen_from, index, axis=1), run=run)
    return total / n * (chosen / proposal), [_gather(x, index, run) for x in particles]
