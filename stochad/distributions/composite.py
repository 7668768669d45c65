"""Continuous laws built from other draws, as numpy builds them: gammas scaled, summed and
divided (gamma, chi-square, beta, Student's t, F, Dirichlet), Poisson mixtures (the
non-central laws), and the multivariate normal through a Cholesky factor. Their derivatives
are those of the parts (implicit gammas, Poisson triples, normal noise)."""

from __future__ import annotations

import numpy as np

from .continuous import FINITE, NON_NEGATIVE, POSITIVE, ContinuousDistribution
from .counts import Poisson
from .implicit import StandardGamma

__all__ = ["Beta", "Chisquare", "Dirichlet", "F", "Gamma", "MultivariateNormal",
           "NoncentralChisquare", "NoncentralF", "StandardT"]

STANDARD_GAMMA, POISSON = StandardGamma(), Poisson()


def _chisquare(within, df):
    return 2.0 * within.draw(STANDARD_GAMMA, df / 2.0)


def _noncentral_chisquare(within, df, nonc):
    # a Poisson(nonc/2) number of extra pairs of degrees of freedom: its jumps are stochastic
    # triples, and the gamma draw is coupled across them by inversion
    return _chisquare(within, df + 2.0 * within.draw(POISSON, nonc / 2.0))


class Gamma(ContinuousDistribution):
    """``scale·G`` with ``G`` standard gamma of ``shape``."""

    name, params, numpy_method = "gamma", ("shape", "scale"), "gamma"
    checks = (POSITIVE, NON_NEGATIVE)

    def in_run(self, within, shape, scale):
        return scale * within.draw(STANDARD_GAMMA, shape)


class Chisquare(ContinuousDistribution):
    """``2·G`` with ``G`` standard gamma of ``df/2``."""

    name, params, numpy_method = "chisquare", ("df",), "chisquare"
    checks = (POSITIVE,)

    def in_run(self, within, df):
        return _chisquare(within, df)


class Beta(ContinuousDistribution):
    """``Ga / (Ga + Gb)`` with independent standard gammas of shapes ``a`` and ``b`` (numpy
    uses Jöhnk's algorithm when both are <= 1: the same law, other numbers)."""

    name, params, numpy_method = "beta", ("a", "b"), "beta"
    checks = (POSITIVE, POSITIVE)

    def in_run(self, within, a, b):
        ga, gb = within.draw(STANDARD_GAMMA, a), within.draw(STANDARD_GAMMA, b)
        return ga / (ga + gb)


class StandardT(ContinuousDistribution):
    """``sqrt(df/2)·z / sqrt(G)`` with ``z`` standard normal, ``G`` standard gamma of
    ``df/2`` (numpy's recipe)."""

    name, params, numpy_method = "standard_t", ("df",), "standard_t"
    checks = (POSITIVE,)

    def in_run(self, within, df):
        z = within.noise(lambda rng, shape: rng.standard_normal(shape))
        return np.sqrt(df / 2.0) * z / np.sqrt(within.draw(STANDARD_GAMMA, df / 2.0))


class F(ContinuousDistribution):
    """``(χ²(dfnum)/dfnum) / (χ²(dfden)/dfden)``."""

    name, params, numpy_method = "f", ("dfnum", "dfden"), "f"
    checks = (POSITIVE, POSITIVE)

    def in_run(self, within, dfnum, dfden):
        return (_chisquare(within, dfnum) * dfden) / (_chisquare(within, dfden) * dfnum)


class NoncentralChisquare(ContinuousDistribution):
    """``χ²(df + 2N)`` with ``N`` Poisson(``nonc``/2) (numpy uses this mixture for
    ``df <= 1`` and a shifted normal otherwise: the same law)."""

    name, params, numpy_method = "noncentral_chisquare", ("df", "nonc"), "noncentral_chisquare"
    checks = (POSITIVE, NON_NEGATIVE)

    def in_run(self, within, df, nonc):
        return _noncentral_chisquare(within, df, nonc)


class NoncentralF(ContinuousDistribution):
    """``(χ²(dfnum; nonc)/dfnum) / (χ²(dfden)/dfden)``."""

    name, numpy_method = "noncentral_f", "noncentral_f"
    params = ("dfnum", "dfden", "nonc")
    checks = (POSITIVE, POSITIVE, NON_NEGATIVE)

    def in_run(self, within, dfnum, dfden, nonc):
        return ((_noncentral_chisquare(within, dfnum, nonc) * dfden)
                / (_chisquare(within, dfden) * dfnum))


class Dirichlet(ContinuousDistribution):
    """Normalised standard gammas of shapes ``alpha`` (last axis: the categories)."""

    name, params, numpy_method = "dirichlet", ("alpha",), "dirichlet"
    checks, core_ndim = (POSITIVE,), 1

    def out_shape(self, shapes, size):
        (alpha,) = shapes
        if len(alpha) != 1:
            raise ValueError(f"dirichlet: alpha must be 1-dimensional, got shape {alpha}")
        return tuple(size) + alpha

    def in_run(self, within, alpha):
        g = within.draw(STANDARD_GAMMA, alpha)
        return g / np.sum(g, axis=-1, keepdims=True)


def _cholesky(cov):
    """The lower Cholesky factor of ``cov``, as a nested list of entries: written with
    elementwise operations, so that a random covariance (a triple) differentiates through it."""
    k = cov.shape[-1]
    factor = [[0.0] * k for _ in range(k)]
    for i in range(k):
        for j in range(i + 1):
            total = cov[..., i, j] - sum((factor[i][m] * factor[j][m] for m in range(j)), 0.0)
            factor[i][j] = np.sqrt(total) if i == j else total / factor[j][j]
    return factor


def _positive_semidefinite(cov):
    """Elementwise mask of ``cov``'s entries: true where their matrix is symmetric positive
    semi-definite (numpy's ``multivariate_normal`` only warns)."""
    cov = np.asarray(cov, dtype=np.float64)
    if cov.ndim < 2:  # loose entries (moved ones on an alternative path): finite at least
        return np.isfinite(cov)
    if cov.shape[-1] != cov.shape[-2] or not np.all(np.isfinite(cov)):
        return np.zeros(cov.shape, dtype=bool)
    scale = np.maximum(1.0, np.abs(cov).max(axis=(-2, -1), keepdims=True))
    symmetric = np.abs(cov - np.swapaxes(cov, -1, -2)).max(axis=(-2, -1)) <= 1e-8 * scale[..., 0, 0]
    lowest = np.linalg.eigvalsh(cov).min(axis=-1) >= -1e-8 * scale[..., 0, 0]
    return np.broadcast_to((symmetric & lowest)[..., None, None], cov.shape)


class MultivariateNormal(ContinuousDistribution):
    """``mean + A·z`` with ``A·Aᵀ = cov``: for a plain ``cov`` the eigen-factor
    ``V·sqrt(w)`` (singular ones too), for a random one (a triple) the lower Cholesky factor,
    written elementwise so that the derivative flows through it (``cov`` must then be
    positive definite). numpy's own sampler uses an SVD factor: the same law, other numbers."""

    name, params, numpy_method = "multivariate_normal", ("mean", "cov"), "multivariate_normal"
    checks = (FINITE, ("must be a symmetric positive semi-definite matrix",
                       _positive_semidefinite))

    def out_shape(self, shapes, size):
        mean, cov = shapes
        if len(mean) != 1 or cov != mean * 2:
            raise ValueError(f"multivariate_normal: mean must be 1-dimensional and cov square "
                             f"of the same size, got shapes {mean} and {cov}")
        return tuple(size) + mean

    def in_run(self, within, mean, cov):
        z = within.noise(lambda rng, shape: rng.standard_normal(shape))
        if isinstance(cov, np.ndarray):  # a plain covariance: one factorisation for all lanes
            w, v = np.linalg.eigh(cov)
            return mean + z @ (v * np.sqrt(np.maximum(w, 0.0))).T
        factor = _cholesky(cov)
        k = len(factor)
        rows = [sum((factor[i][j] * z[..., j] for j in range(i + 1)), 0.0) for i in range(k)]
        return mean + np.stack(rows, axis=-1)
