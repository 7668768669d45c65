"""The score-function estimator of the natural programs, written by hand as a user would.

The classical rival of replay on :mod:`bench.natural`'s programs, and an independent check of
their exact derivatives (tests/test_natural_exact.py): the program runs unchanged on a
:class:`ScoreGenerator`, a numpy Generator stand-in that sums ``d/dθ log p(draw)`` into
``score``, with the parameter a forward-mode :class:`Dual`. No stochad: this is what a
practitioner writes when no tool differentiates the simulation. :func:`score_baseline_samples`
subtracts a leave-one-out baseline (the mean of the other samples' values), which keeps each
sample unbiased because a sample's score has mean zero and is independent of the others.
"""

from __future__ import annotations

import operator

import numpy as np


class Dual:
    """The parameter as a forward-mode dual number (value ``v``, derivative ``d``).

    Arithmetic carries the derivative; comparisons with plain numbers compare values.
    """

    __slots__ = ("v", "d")

    def __init__(self, v, d=0.0):
        self.v, self.d = v, d

    def __add__(self, other):
        v, d = parts(other)
        return Dual(self.v + v, self.d + d)

    __radd__ = __add__

    def __sub__(self, other):
        v, d = parts(other)
        return Dual(self.v - v, self.d - d)

    def __rsub__(self, other):
        return Dual(other - self.v, -self.d)

    def __mul__(self, other):
        v, d = parts(other)
        return Dual(self.v * v, self.d * v + self.v * d)

    __rmul__ = __mul__

    def __truediv__(self, other):
        v, d = parts(other)
        return Dual(self.v / v, (self.d * v - self.v * d) / v**2)

    def __rtruediv__(self, other):
        return Dual(other / self.v, -other * self.d / self.v**2)

    def __pow__(self, k):
        return Dual(self.v**k, k * self.v ** (k - 1) * self.d)

    def _compare(self, other, op):
        return NotImplemented if isinstance(other, Uniform) else op(self.v, parts(other)[0])

    def __lt__(self, other):
        return self._compare(other, operator.lt)

    def __le__(self, other):
        return self._compare(other, operator.le)

    def __gt__(self, other):
        return self._compare(other, operator.gt)

    def __ge__(self, other):
        return self._compare(other, operator.ge)

    def __eq__(self, other):
        return self._compare(other, operator.eq)

    __hash__ = None


def parts(x):
    return (x.v, x.d) if isinstance(x, Dual) else (x, 0.0)


def dlog(x):
    """``d log x``: 0 for a plain number."""
    return x.d / x.v if isinstance(x, Dual) else 0.0


class Uniform(float):
    """A ``random()`` draw used only in comparisons: each one is a Bernoulli outcome.

    The draw is known to lie in ``[lo, hi)`` from its earlier comparisons, so ``u < x`` has
    probability ``(x - lo) / (hi - lo)`` given them (``if u < a: ... elif u < b:`` is a
    categorical draw); the log-derivative of that probability joins the score.
    """

    def __new__(cls, value, generator):
        u = super().__new__(cls, value)
        u.generator, u.lo, u.hi = generator, 0.0, 1.0
        return u

    def _below(self, x):
        below = float(self) < parts(x)[0]
        if parts(self.lo)[0] < parts(x)[0] < parts(self.hi)[0]:
            kept = x - self.lo if below else self.hi - x
            self.generator.score += dlog(kept) - dlog(self.hi - self.lo)
            self.lo, self.hi = (self.lo, x) if below else (x, self.hi)
        return below

    def __lt__(self, x):
        return self._below(x)

    __le__ = __lt__  # equal with probability 0

    def __gt__(self, x):
        return not self._below(x)

    __ge__ = __gt__


class ScoreGenerator:
    """A numpy Generator that sums ``d/dθ log p(draw)`` over its draws into ``score``.

    The parameters of the draws are :class:`Dual` numbers where they depend on ``θ``. Valid for
    programs that use each ``random()`` only in comparisons (true of every natural program).
    """

    def __init__(self, rng):
        self._rng, self.score = rng, 0.0

    def random(self):
        return Uniform(self._rng.random(), self)

    def binomial(self, n, q):
        p, dp = parts(q)
        k = self._rng.binomial(n, p)
        self.score += (k / p - (n - k) / (1 - p)) * dp if dp else 0.0
        return k

    def poisson(self, lam, size=None):
        mean, dmean = parts(lam)
        k = self._rng.poisson(mean, size)
        self.score += float(np.sum(k / mean - 1)) * dmean
        return k

    def exponential(self, scale, size=None):
        s, ds = parts(scale)
        x = self._rng.exponential(s, size)
        self.score += float(np.sum(x / s - 1)) / s * ds
        return x

    def gamma(self, shape, scale=1.0):
        k = _constant((shape,), "gamma")[0]
        s, ds = parts(scale)
        x = self._rng.gamma(k, s)
        self.score += (x / s - k) / s * ds
        return x

    def integers(self, *args):
        return self._rng.integers(*_constant(args, "integers"))

    def choice(self, *args):
        return self._rng.choice(*_constant(args, "choice"))


def _constant(args, method):
    """``args`` if none depends on θ: these draws add no score, so a :class:`Dual` argument
    would lose its derivative silently."""
    if any(isinstance(a, Dual) for a in args):
        raise TypeError(f"ScoreGenerator.{method} adds no score: its arguments must not "
                        f"depend on the parameter, got {args!r}")
    return args


def score_baseline_samples(program, theta: float, n: int, rng: np.random.Generator):
    """``n`` samples of ``(f − b)·score + δf``, ``b`` the mean of the other samples' ``f``.

    Examples
    --------
    >>> from bench.natural import PROGRAMS
    >>> samples = score_baseline_samples(PROGRAMS["reed_frost"], 0.05, 500,
    ...                                  np.random.default_rng(0))
    >>> samples.shape
    (500,)
    """
    if n < 2:
        raise ValueError(f"a leave-one-out baseline needs n >= 2 samples, got {n}")
    values, scores, deltas = np.empty(n), np.empty(n), np.empty(n)
    for r in range(n):
        generator = ScoreGenerator(rng)
        values[r], deltas[r] = parts(program.prog(Dual(theta, 1.0), generator))
        scores[r] = generator.score
    baseline = (values.sum() - values) / (n - 1)
    return (values - baseline) * scores + deltas
