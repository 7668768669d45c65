"""Streaming statistics of derivative samples, and the result object that reports them.

:class:`Moments` folds chunks of samples into a count, mean and sum of squared deviations
(Chan et al.'s pairwise update), so an estimate over any number of samples needs memory for
one chunk only. It also keeps the few most extreme samples per element, enough to say which
share of the variance the largest 0.1% of the samples carry (:attr:`Moments.tail_share`):
a heavy-tailed estimator (a particle filter with resampling weights) shows up there before
its standard error can be trusted.

:class:`EstimateResult` is what :func:`stochad.estimate` returns, in the style of
:func:`scipy.differentiate.derivative`'s result: ``df`` and ``error`` plus how they were made.
"""

from __future__ import annotations

import math

import numpy as np

TAIL_FRACTION = 1e-3
"""The tail whose share of the variance :attr:`Moments.tail_share` reports: the largest
``ceil(TAIL_FRACTION·n)`` squared deviations from the mean (at least one sample)."""

HEAVY_TAIL_SHARE = 0.25
"""A tail share above this is flagged: for normal samples the largest 0.1% carry about 1.3%
of the variance (the largest single one of 100 samples, about 6%)."""


def tail_count(n_samples: int) -> int:
    """How many of ``n_samples`` samples make the tail of :attr:`Moments.tail_share`.

    Examples
    --------
    >>> tail_count(10), tail_count(1000), tail_count(1001)
    (1, 1, 2)
    """
    return max(1, math.ceil(TAIL_FRACTION * n_samples))


class Moments:
    """Count, mean and sum of squared deviations of samples added chunk by chunk.

    Parameters
    ----------
    n_expected : int
        The number of samples that will be added (it sets the size of the tail kept).

    Examples
    --------
    >>> import numpy as np
    >>> m = Moments(6)
    >>> m.add(np.array([1.0, 2.0, 3.0]))
    >>> m.add(np.array([4.0, 5.0, 6.0]))
    >>> float(m.mean), float(m.variance)
    (3.5, 3.5)
    >>> float(m.tail_share)          # the largest of 6 squared deviations: 6.25 of 17.5
    0.35714285714285715
    """

    def __init__(self, n_expected: int):
        self.k = tail_count(n_expected)
        self.count = 0
        self.mean = None
        self.m2 = None
        self._high = None  # the k largest samples seen, per element
        self._low = None   # the k smallest

    def add(self, samples: np.ndarray) -> None:
        """Fold a chunk of samples (sample axis first) into the statistics."""
        samples = np.asarray(samples, dtype=np.float64)
        n = samples.shape[0]
        if n == 0:
            return
        with np.errstate(invalid="ignore"):  # inf samples: NaN moments, as numpy's
            mean = samples.mean(axis=0)
            m2 = ((samples - mean) ** 2).sum(axis=0)
        if self.count == 0:
            self.mean, self.m2 = mean, m2
        else:
            total = self.count + n
            gap = mean - self.mean
            self.mean = self.mean + gap * (n / total)
            self.m2 = self.m2 + m2 + gap ** 2 * (self.count * n / total)
        self.count += n
        self._high = _extreme(samples, self._high, self.k, largest=True)
        self._low = _extreme(samples, self._low, self.k, largest=False)

    @property
    def variance(self):
        """The per-sample variance (``ddof=1``; NaN for fewer than two samples)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.m2 / (self.count - 1) if self.count > 1 else self.m2 * np.nan

    @property
    def stderr(self):
        """The standard error of the mean."""
        return np.sqrt(self.variance / self.count)

    @property
    def tail_share(self):
        """Share of the sum of squared deviations carried by the ``k`` largest ones.

        The largest deviations from the final mean are among the ``k`` largest or the ``k``
        smallest samples, which is all that is kept. 0 where every sample is equal.
        """
        candidates = np.concatenate([self._high, self._low])
        with np.errstate(invalid="ignore", divide="ignore"):
            squared = (candidates - self.mean) ** 2
            top = -np.partition(-squared, self.k - 1, axis=0)[: self.k].sum(axis=0)
            share = np.where(self.m2 > 0, top / self.m2, 0.0)
        return np.minimum(share, 1.0)


def _extreme(samples, kept, k, largest):
    """The ``k`` largest (or smallest) values per element of ``samples`` and ``kept``."""
    pool = samples if kept is None else np.concatenate([kept, samples])
    if pool.shape[0] <= k:
        return pool
    if largest:
        return -np.partition(-pool, k - 1, axis=0)[:k]
    return np.partition(pool, k - 1, axis=0)[:k]


def _decimals(error: float) -> int:
    """Decimals that show ``error`` to one significant digit (two when it starts with 1 or 2)."""
    if not np.isfinite(error) or error <= 0:
        return 6
    exponent = math.floor(math.log10(error))
    leading = error / 10.0 ** exponent
    return max(0, -exponent + (1 if leading < 3 else 0))


def format_estimate(value, error) -> str:
    """``value ± error`` rounded to the error's precision.

    Examples
    --------
    >>> format_estimate(56.6123, 0.0612)
    '56.61 ± 0.06'
    >>> format_estimate(7.0, 0.0)
    '7 ± 0'
    """
    value, error = float(value), float(error)
    if error == 0:
        return f"{value:g} ± 0"
    digits = _decimals(error)
    return f"{value:.{digits}f} ± {error:.{digits}f}"


class EstimateResult:
    """An estimate of ``d/dp E[f(p)]`` with its standard error, as :func:`stochad.estimate`
    returns it.

    Parameters
    ----------
    df, error, sd, n_samples, estimator, backend, tail_share, backend_choice
        The attributes below, by keyword.

    Attributes
    ----------
    df : float or numpy.ndarray (or a tuple/dict of them, as ``p``)
        The estimate: the mean of the samples.
    error : same structure as ``df``
        Its standard error, ``sd / sqrt(n_samples)``.
    sd : same structure as ``df``
        The per-sample standard deviation (``ddof=1``).
    n_samples : int
        The number of samples averaged.
    estimator, backend : str
        How the samples were made.
    tail_share : float
        The largest share of the variance carried by the largest 0.1% of the samples (at
        least one sample), over the elements of ``df``: above 0.25 the samples are
        heavy-tailed and ``error`` is not to be trusted (see :attr:`heavy_tailed`).
    backend_choice : stochad.auto.BackendChoice or None
        With ``backend="auto"``: the backend the pilot chose and the pilot's figures
        (seconds per sample, variance, their product, per candidate).

    Examples
    --------
    >>> r = EstimateResult(df=56.6123, error=0.0612, sd=19.4, n_samples=100_000,
    ...                    estimator="triple", backend="pruned", tail_share=0.004)
    >>> r
    56.61 ± 0.06
    >>> r.heavy_tailed
    False
    """

    def __init__(self, *, df, error, sd, n_samples, estimator, backend, tail_share,
                 backend_choice=None):
        self.df, self.error, self.sd = df, error, sd
        self.n_samples, self.estimator, self.backend = n_samples, estimator, backend
        self.tail_share, self.backend_choice = tail_share, backend_choice

    @property
    def heavy_tailed(self) -> bool:
        """Whether a few samples carry more than a quarter of the variance."""
        return bool(self.tail_share > HEAVY_TAIL_SHARE)

    def __repr__(self) -> str:
        if np.ndim(self.df) == 0 and not isinstance(self.df, dict | tuple | list):
            text = format_estimate(self.df, self.error)
        else:
            text = (f"EstimateResult(df={self.df!r}, error={self.error!r}, "
                    f"n_samples={self.n_samples})")
        if self.heavy_tailed:
            text += (f"  [heavy-tailed: {self.tail_share:.0%} of the variance from "
                     f"{tail_count(self.n_samples)} sample(s); the error is unreliable]")
        return text

    def __float__(self) -> float:
        return float(self.df)


class OptimizeResult(dict):
    """The optimisers' result, as :class:`scipy.optimize.OptimizeResult`: a dict whose keys
    are also attributes (``x``, ``nit``, ``success``, ``message``).

    stochad defines its own so that ``import stochad`` does not import :mod:`scipy.optimize`
    (0.3 s, half of the import time).

    Examples
    --------
    >>> r = OptimizeResult(x=3.5, nit=100, success=True, message="completed 100 steps")
    >>> r.x, r["nit"]
    (3.5, 100)
    """

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    __setattr__ = dict.__setitem__
    __delattr__ = dict.__delitem__

    def __repr__(self) -> str:
        width = max(map(len, self), default=0)
        return "\n".join(f"{key:>{width}}: {value!r}" for key, value in self.items())

    def __dir__(self):
        return list(self)
