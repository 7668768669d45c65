"""Step functions of a dual number (``floor``, ``ceil``, ``trunc``, ``rint``, ``round``,
``sign``, ``int``, ``//``, ``%``), in the replay engine (:mod:`stochad.replay`), by comparisons.

A step function is constant on cells of its argument. What it contributes to the derivative
of a program's expectation comes from the argument crossing the edge of its cell as the
parameter moves, and that is what a comparison with the edge says. So the step of a dual
number is its value on the cell, a plain number, after the comparisons that pin the argument
inside the cell, as if the program had written ``if k <= x < k + 1``: the tracking run
records them as events on the draw's noise where an edge moves relative to it, and narrows
what it knows of the noise where none does (:mod:`stochad.dual`); a replay evaluates the step
at the replayed value. ``x % y`` is ``x − y·floor(x / y)``, affine in ``x`` between the
jumps, so it keeps ``x``'s derivative and its draw.

Only the tracking run sees dual numbers: a replay runs on plain floats, and numpy's own
functions apply there.

Examples
--------
>>> import stochad as sad
>>> def wait_in_whole_minutes(rate):   # a clock that bills each started minute
...     return float(np.ceil(sad.Generator().exponential(1 / rate)))
>>> d = sad.derivative_estimate(wait_in_whole_minutes, 2.0, n_samples=20_000, rng=1,
...                             vectorize=False)
>>> exact = -np.exp(-2.0) / (1 - np.exp(-2.0)) ** 2    # d/dλ of E[ceil(X)] = 1/(1 − e^{−λ})
>>> bool(abs(d - exact) < 0.02)
True
"""

from __future__ import annotations

import numpy as np

__all__ = ["ceil", "floor", "remainder", "rint", "round_to", "sign", "trunc"]


def _cell(x, low, high):
    """Compare ``x`` with the edges of its cell, ``low < x < high``, both known at once
    (:meth:`~stochad.dual.Dual.within`): the comparisons are the step's derivative. Whether
    an edge belongs to the cell matters only where ``x`` lies on it, which a draw's continuous
    noise does with probability 0 (a value without noise there is a tie, which warns)."""
    x.within(low, high)


def _plain(k):
    """The step's value: a Python float for one number (numpy's float64 otherwise)."""
    return float(k) if type(k) is np.float64 or np.ndim(k) == 0 else k


def floor(x):
    """``np.floor`` of a dual number: ``k`` on ``k <= x < k + 1``."""
    k = _plain(np.floor(x.v))
    _cell(x, k, k + 1.0)
    return k


def ceil(x):
    """``np.ceil`` of a dual number: ``k`` on ``k − 1 < x <= k``."""
    k = _plain(np.ceil(x.v))
    _cell(x, k - 1.0, k)
    return k


def trunc(x):
    """``np.trunc`` of a dual number: toward 0, so the cell of 0 is ``(−1, 1)``."""
    k = _plain(np.trunc(x.v))
    _cell(x, _plain(np.where(k > 0, k, k - 1.0)), _plain(np.where(k < 0, k, k + 1.0)))
    return k


def rint(x):
    """``np.rint`` of a dual number: the nearest integer, ``k`` on ``(k − ½, k + ½)``."""
    k = _plain(np.rint(x.v))
    _cell(x, k - 0.5, k + 0.5)
    return k


def round_to(x, ndigits=None):
    """Python's ``round(x, ndigits)`` of a dual number (an ``int`` without ``ndigits``)."""
    if ndigits is None:
        k = round(x.v)
        _cell(x, k - 0.5, k + 0.5)
        return k
    k, half = round(x.v, ndigits), 0.5 * 10.0 ** -ndigits
    _cell(x, k - half, k + half)
    return k


def sign(x):
    """``np.sign`` of a dual number: ``1`` on ``(0, ∞)``, ``−1`` on ``(−∞, 0)``."""
    k = _plain(np.sign(x.v))
    _cell(x, _plain(np.where(k > 0, 0.0, -np.inf)), _plain(np.where(k < 0, 0.0, np.inf)))
    return k


def remainder(x, y):
    """``np.remainder`` (``x % y``): ``x − y·floor(x / y)``, affine in ``x`` and ``y`` between
    the jumps of the floor."""
    return x - y * floor(x / y)
