"""The combined estimator (``estimator="combined"``): triple and score function from one run.

One run of the program under a triple backend (``backend=``, default pruned) that also
accumulates the score of every discrete draw (:func:`stochad.backends.scored.scored`) gives,
per sample, the triple estimate ``T = δf + Σ w·Δ`` and the score-function estimate with a
leave-one-out baseline ``S = (f − b)·score + δf``. Both are unbiased, so ``D = S − T`` has mean
zero and ``T + c·D`` is unbiased for any ``c`` fixed in advance. The score itself has mean
zero too, so the estimator is ``T + c·D + k·score``, ``(c, k)`` the least-squares fit that
minimises its variance (elementwise over the output). ``k`` moves the baseline to where it
helps most: the leave-one-out mean of ``f`` is not the variance-minimising baseline, and on an
indicator readout (the bench's extinction problem) the fitted ``k`` brings the per-sample sd
from 0.95 to 0.68. The result's variance is at most that of ``T`` (``c = k = 0``) and of ``S``
(``c = 1, k = 0``), up to the error in fitting ``(c, k)``.

A batched run of the pruned backend (the default) runs in the compiled engine when the
program records (:mod:`stochad.compiled`; ``compile=False``: never), which accumulates the
scores in the same pass as the triple, as the triple estimator's runs do: then it draws another
random stream from a seed than ``compile=False`` (the same distribution, other samples).

Cross-fitting keeps it unbiased: the samples are split in two halves; ``(c, k)`` is fitted
on one half and applied to the other, and vice versa, and the baseline ``b`` of a sample is the
mean of ``f`` over the other samples of its own half. So the coefficients a sample is combined
with, and its baseline, do not depend on its own draws.

Examples
--------
``d/dp E[Binomial(20, p)²] = 20 + 2·20·19·p = 248`` at ``p = 0.3``:

>>> import stochad as sad
>>> f = lambda p: sad.binomial(20, p) ** 2
>>> round(sad.derivative_estimate(f, 0.3, n_samples=40_000, rng=0, estimator="combined"))
248
"""

from __future__ import annotations

import functools

import numpy as np

from .backends import backend_class
from .backends.scored import scored
from .compiled import engine as compiled
from .driver import contribution, run_once, split_runs
from .estimators import REGISTERED, _primal_and_delta

MIN_SAMPLES = 8
"""Fewest samples of ``estimator="combined"``: two halves of at least four (a variance and a
leave-one-out mean in each)."""


def check_samples(n_samples: int) -> None:
    """Raise unless ``n_samples`` makes two halves of :data:`MIN_SAMPLES` // 2."""
    if n_samples < MIN_SAMPLES:
        raise ValueError(f"estimator='combined' needs n_samples >= {MIN_SAMPLES} (a "
                         f"coefficient fitted on each half), got {n_samples}")


def _read(run, result):
    """``(T, f, δf)`` per lane: the triple estimate, the value and its dual part."""
    value, delta = _primal_and_delta(run, result)
    return contribution(run, result), value, delta


FIT_MIN = 32
"""Fewest samples of a half that ``(c, k)`` is fitted on; a smaller half gives
``c = k = 0`` (the triple estimate) to the other: two coefficients fitted on a handful of
samples add more noise than they remove (halves of 4 gave sd 265 against the triples' 45 on
binomial-square)."""


def _centred(x, rows):
    """``x`` minus its mean over ``rows`` (elementwise over the output; 0 off ``rows``),
    exactly 0 where ``x`` is constant on them: centring a constant leaves rounding residue
    that a fit would read as a regressor (a score constant on a half, as when a rare draw never
    fires, gave a ``k`` of order ``|T|/ulp``)."""
    count = np.maximum(rows.sum(axis=0), 1)
    inside = np.where(rows, x, 0.0)
    centred = np.where(rows, x - inside.sum(axis=0) / count, 0.0)
    flat = (centred * centred).sum(axis=0) <= 1e-24 * (inside * inside).sum(axis=0)
    return np.where(flat, 0.0, centred)


def fitted_coefficients(t: np.ndarray, d: np.ndarray, e: np.ndarray):
    """``(c, k)`` minimising the sample variance of ``t + c·d + k·e`` (elementwise over the
    output): the least-squares fit of ``−t`` on ``d`` and ``e`` over the samples where all
    three are finite. A regressor that is constant there gets 0; so does ``k`` where ``d``
    and ``e`` are collinear.

    Examples
    --------
    >>> d = np.array([1.0, -1.0, 2.0, 0.0, 1.5, -0.5, 0.5, -2.0])
    >>> e = np.array([0.0, 1.0, 1.0, -1.0, 0.5, -1.5, 2.0, -2.0])
    >>> c, k = fitted_coefficients(-(2 * d + 3 * e), d, e)
    >>> round(float(c), 12), round(float(k), 12)
    (2.0, 3.0)
    >>> c, k = fitted_coefficients(-(2 * d), d, np.full(8, 0.1))  # a constant score: k = 0
    >>> round(float(c), 12), float(k)
    (2.0, 0.0)
    """
    t, d, e = (np.asarray(x, dtype=np.float64) for x in (t, d, e))
    rows = np.isfinite(t) & np.isfinite(d) & np.isfinite(e)
    tc, dc, ec = (_centred(x, rows) for x in (t, d, e))
    dd, de, ee = (dc * dc).sum(axis=0), (dc * ec).sum(axis=0), (ec * ec).sum(axis=0)
    td, te = (tc * dc).sum(axis=0), (tc * ec).sum(axis=0)
    det = dd * ee - de * de
    # a determinant that is rounding noise next to its terms: the two are collinear
    both = det > 1e-12 * dd * ee
    with np.errstate(invalid="ignore", divide="ignore"):
        c_alone = np.where(dd > 0, -td / np.where(dd > 0, dd, 1.0), 0.0)
        k_alone = np.where((dd == 0) & (ee > 0), -te / np.where(ee > 0, ee, 1.0), 0.0)
        safe = np.where(both, det, 1.0)
        c = np.where(both, (de * te - ee * td) / safe, c_alone)
        k = np.where(both, (de * td - dd * te) / safe, k_alone)
    return c, k


def _half(t, value, delta, score):
    """``(T, D, score)`` of one half, ``D = S − T`` with the half's leave-one-out baseline
    and the score broadcast to the output's shape."""
    # the baseline of a sample: the mean of the other finite values (a non-finite value would
    # otherwise spoil every sample's baseline, not just its own)
    finite = np.isfinite(value)
    total, count = np.where(finite, value, 0.0).sum(axis=0), finite.sum(axis=0)
    others = np.where(finite, count - 1, count)
    with np.errstate(invalid="ignore", divide="ignore"):
        centred = value - (total - np.where(finite, value, 0.0)) / others
    score = np.broadcast_to(score.reshape(score.shape + (1,) * (value.ndim - 1)), value.shape)
    return t, centred * score + delta - t, score


def _operator_samples(f, p, d, n_samples, generator, backend, vectorize):
    """``(T, f, δf, score)`` per lane from the operator engine's scored ``backend``."""
    cls = scored(backend_class(backend))

    def unit(lanes):
        run_backend = cls(lanes)
        return (*run_once(f, p, d, run_backend, generator, _read), run_backend.score)

    return split_runs(n_samples, vectorize, generator, unit)


def combined_samples(f, p, d, n_samples, generator, backend, vectorize, compile=True,
                     programs=None):
    """Samples of the combined estimator (see the module docstring); rows of one half are
    ``T + c·D + k·score`` with ``(c, k)`` fitted on the other half.

    A batched run of the pruned backend goes through the compiled engine when ``f`` records
    and ``compile`` is true (``programs``: the call's cache of recordings), as the triple
    estimator's does (:func:`stochad.api.derivative_samples`); else the operator engine.
    """
    check_samples(n_samples)
    runs = None
    if vectorize and compile and backend == "pruned":
        runs = compiled.scored_samples(f, p, d, n_samples, generator, programs=programs)
    if runs is None:
        runs = _operator_samples(f, p, d, n_samples, generator, backend, vectorize)
    t, value, delta, score = runs
    mid = n_samples // 2
    a, b = (_half(t[s], value[s], delta[s], score[s])
            for s in (slice(None, mid), slice(mid, None)))
    return np.concatenate([_apply(a, _fitted(b)), _apply(b, _fitted(a))])


def _fitted(half):
    """``(c, k)`` fitted on ``half``; 0 if it has fewer than :data:`FIT_MIN` samples."""
    if len(half[0]) < FIT_MIN:
        return 0.0, 0.0
    return fitted_coefficients(*half)


def _apply(half, coefficients):
    """``T + c·D + k·score`` of one half, ``(c, k)`` fitted on the other."""
    (t, d, score), (c, k) = half, coefficients
    return t + c * d + k * score


def _make(option, compile=True):
    if option:
        raise ValueError(f"estimator='combined' takes no option, got {option!r}")
    return functools.partial(combined_samples, compile=compile, programs={})


REGISTERED["combined"] = _make
