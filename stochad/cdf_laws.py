"""numpy's other continuous laws in the replay engine (:mod:`stochad.replay`), each by its CDF.

The replay engine's own noises (uniform, exponential, normal) give draws affine in a fixed
noise. Every other continuous law is drawn with numpy's sampler and seen through the uniform
it stands for, ``u = F(x; θ)``: the draw's dual part is the implicit one,
``−(∂F/∂θ)(x)·δθ / f(x)``; a replay whose parameters moved carries the draw to
``F⁻¹(u; θ')`` (inversion coupling, :func:`moved`); and a comparison ``x < c`` is the
Bernoulli event ``u < F(c; θ)``, whose probability moves by ``f(c)·δc + (∂F/∂θ)(c)·δθ``
(:meth:`Bound.dcdf` is the second term). A law whose numpy sampler is ``loc + scale·e``
(``location_scale``: the indices of ``loc``, ``None`` for gamma and Rayleigh, and of
``scale``) is drawn as its standard law, at ``loc = 0``, ``scale = 1``, then moved and
scaled with dual arithmetic (:meth:`stochad.tapes.Tape._continuous_cdf_law`): the same
numbers, a draw affine in a noise whose law does not move. Each law is an
:class:`~stochad.distributions.ImplicitDistribution` (CDF, density, inverse; the parameter
derivatives of the CDF by its central differences); the four implicit laws of
:mod:`stochad.distributions` serve as they are.

Examples
--------
>>> import numpy as np
>>> law = LAWS["lognormal"]
>>> bound = Bound(law, [0.0, 1.0], [1.0, None])      # d/dmean at mean 0, sigma 1
>>> x = float(law.ppf(0.5, 0.0, 1.0))                # the median, e^0
>>> x, round(float(bound.dcdf(x)), 6)                # dF/dmean = −φ(0)
(1.0, -0.398942)
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from .distributions import composite as built
from .distributions import implicit, transforms
from .distributions.base import check, real_array
from .distributions.continuous import ImplicitDistribution
from .dual import nonzero

__all__ = ["LAWS", "Bound", "real", "validated"]


def _gamma_term(power, y, a):
    """``y^power·e^{−y} / Γ(a)``: ``math`` on one positive float (the hot path of gamma
    service times), numpy otherwise (``y = 0`` included; ``math.exp`` raises where numpy
    gives inf)."""
    if type(y) is float and type(a) is float and y > 0.0:
        if y == math.inf:  # (inf − inf in the exponent: the term's limit, 0)
            return 0.0
        e = power * math.log(y) - y - math.lgamma(a)
        if e < 700.0:
            return math.exp(e)
    with np.errstate(over="ignore"):  # an infinite density (shape < 1 at 0) is inf, not a warning
        return np.exp(special.xlogy(power, y) - y - special.gammaln(a))


def _floor(x, low):
    """``max(x, low)``, a float for a float (``np.maximum`` costs half a microsecond on one
    number: the replay engine calls these laws one draw at a time)."""
    return max(x, low) if type(x) is float else np.maximum(x, low)


def _over(x, scale):
    """``max(x, 0) / scale``, a float for floats."""
    return _floor(x, 0.0) / scale


class _Gamma(ImplicitDistribution):
    """Gamma(shape, scale): ``F = P(shape, x/scale)``."""

    name, params, checks, support = "gamma", ("shape", "scale"), built.Gamma.checks, (0, np.inf)
    scale_index, location_scale = 1, (None, 1)

    def cdf(self, x, a, scale):
        return special.gammainc(a, _over(x, scale))

    def sf(self, x, a, scale):
        return special.gammaincc(a, _over(x, scale))

    def pdf(self, x, a, scale):
        return _gamma_term(a - 1.0, _over(x, scale), a) / scale

    def ppf(self, u, a, scale):
        return scale * special.gammaincinv(a, u)

    def isf(self, q, a, scale):
        return scale * special.gammainccinv(a, q)

    def cdf_derivative(self, i, x, a, scale):
        if i == 1:  # a scale: F(x/scale), so −f(x)·x/scale = −y^a e^{−y} / (Γ(a)·scale) with
            # y = x/scale: 0 at y = 0, where a shape below 1 has an infinite density (numpy
            # draws exact and subnormal zeros there)
            d = -_gamma_term(a, _over(x, scale), a) / scale
            return d if type(d) is np.ndarray and d.ndim else float(d)
        return super().cdf_derivative(i, x, a, scale)


class _Chisquare(_Gamma):
    """Chi-square of ``df``: a gamma of shape ``df/2``, scale 2."""

    name, params, checks, scale_index = "chisquare", ("df",), built.Chisquare.checks, None
    location_scale = None

    def cdf(self, x, df):
        return super().cdf(x, 0.5 * df, 2.0)

    def sf(self, x, df):
        return super().sf(x, 0.5 * df, 2.0)

    def pdf(self, x, df):
        return super().pdf(x, 0.5 * df, 2.0)

    def ppf(self, u, df):
        return super().ppf(u, 0.5 * df, 2.0)

    def isf(self, q, df):
        return super().isf(q, 0.5 * df, 2.0)

    def cdf_derivative(self, i, x, df):
        return ImplicitDistribution.cdf_derivative(self, i, x, df)


class _Beta(ImplicitDistribution):
    name, params, checks, support = "beta", ("a", "b"), built.Beta.checks, (0.0, 1.0)

    def cdf(self, x, a, b):
        return special.betainc(a, b, np.clip(x, 0.0, 1.0))

    def sf(self, x, a, b):
        return special.betainc(b, a, 1.0 - np.clip(x, 0.0, 1.0))  # betaincc: scipy >= 1.11

    def pdf(self, x, a, b):
        x = np.clip(x, 0.0, 1.0)
        return np.exp(special.xlogy(a - 1.0, x) + special.xlog1py(b - 1.0, -x)
                      - special.betaln(a, b))

    def ppf(self, u, a, b):
        return special.betaincinv(a, b, u)


class _StandardT(ImplicitDistribution):
    name, params, checks = "standard_t", ("df",), built.StandardT.checks

    def cdf(self, x, df):
        return special.stdtr(df, x)

    def sf(self, x, df):
        return special.stdtr(df, -x)

    def pdf(self, x, df):
        return np.exp(special.gammaln(0.5 * (df + 1.0)) - special.gammaln(0.5 * df)
                      - 0.5 * np.log(df * np.pi) - 0.5 * (df + 1.0) * np.log1p(x * x / df))

    def ppf(self, u, df):
        return special.stdtrit(df, u)


class _F(ImplicitDistribution):
    name, params, checks, support = "f", ("dfnum", "dfden"), built.F.checks, (0, np.inf)

    def cdf(self, x, m, n):
        return special.fdtr(m, n, _floor(x, 0.0))

    def sf(self, x, m, n):
        return special.fdtrc(m, n, _floor(x, 0.0))

    def ppf(self, u, m, n):
        return special.fdtri(m, n, u)


class _NoncentralChisquare(ImplicitDistribution):
    name, params, support = "noncentral_chisquare", ("df", "nonc"), (0, np.inf)
    checks = built.NoncentralChisquare.checks

    def cdf(self, x, df, nonc):
        return special.chndtr(_floor(x, 0.0), df, nonc)

    def ppf(self, u, df, nonc):
        return special.chndtrix(u, df, nonc)


class _NoncentralF(ImplicitDistribution):
    name, params, support = "noncentral_f", ("dfnum", "dfden", "nonc"), (0, np.inf)
    checks = built.NoncentralF.checks

    def cdf(self, x, m, n, nonc):
        return special.ncfdtr(m, n, nonc, _floor(x, 0.0))

    def ppf(self, u, m, n, nonc):
        return special.ncfdtri(m, n, nonc, u)


class _Lognormal(ImplicitDistribution):
    """``exp(mean + sigma·z)``: ``F = Φ((log x − mean)/sigma)``."""

    name, params, support = "lognormal", ("mean", "sigma"), (0, np.inf)
    checks, scale_index = transforms.Lognormal.checks, 1

    def _z(self, x, mean, sigma):
        with np.errstate(divide="ignore"):
            return (np.log(_floor(x, 0.0)) - mean) / sigma

    def cdf(self, x, mean, sigma):
        return special.ndtr(self._z(x, mean, sigma))

    def sf(self, x, mean, sigma):
        return special.ndtr(-self._z(x, mean, sigma))

    def pdf(self, x, mean, sigma):
        z = self._z(x, mean, sigma)
        return np.where(x > 0, np.exp(-0.5 * z * z) / (math.sqrt(2 * math.pi) * sigma
                                                        * np.maximum(x, 1e-300)), 0.0)

    def ppf(self, u, mean, sigma):
        return np.exp(mean + sigma * special.ndtri(u))

    def cdf_derivative(self, i, x, mean, sigma):
        # F = Φ(z), z = (log x − mean)/sigma: dz/dmean = −1/sigma, dz/dsigma = −z/sigma
        z = self._z(x, mean, sigma)
        density = np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
        return -density / sigma * (1.0 if i == 0 else z)


class _ExponentialPower(ImplicitDistribution):
    """A law with ``1 − F(x) = exp(−H(x))`` (Weibull, Lomax, Rayleigh): :meth:`hazard` is
    ``(H, H')``, :meth:`inverse` solves ``H(x) = e``."""

    support = (0, np.inf)

    def cdf(self, x, *params):
        return -np.expm1(-self.hazard(_floor(x, 0.0), *params)[0])

    def sf(self, x, *params):
        return np.exp(-self.hazard(_floor(x, 0.0), *params)[0])

    def pdf(self, x, *params):
        h, dh = self.hazard(_floor(x, 0.0), *params)
        return np.where(x >= 0, dh * np.exp(-h), 0.0)

    def ppf(self, u, *params):
        return self.inverse(-np.log1p(-np.asarray(u, dtype=float)), *params)

    def isf(self, q, *params):
        return self.inverse(-np.log(q), *params)

    def cdf_derivative(self, i, x, *params):
        # F = 1 − exp(−H): dF/dθ = exp(−H)·dH/dθ
        x = _floor(x, 0.0)
        return np.exp(-self.hazard(x, *params)[0]) * self.hazard_derivative(x, *params)


class _Weibull(_ExponentialPower):
    """numpy's ``weibull(a)``: ``H(x) = x^a``."""

    name, params, checks = "weibull", ("a",), transforms.Weibull.checks

    def hazard(self, x, a):
        with np.errstate(divide="ignore", invalid="ignore"):
            return x ** a, np.nan_to_num(a * x ** (a - 1.0), posinf=np.inf)

    def inverse(self, e, a):
        return e ** (1.0 / a)

    def hazard_derivative(self, x, a):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(x > 0, x**a * np.log(np.where(x > 0, x, 1.0)), 0.0)


class _Pareto(_ExponentialPower):
    """numpy's ``pareto(a)`` (Lomax): ``H(x) = a·log(1 + x)``."""

    name, params, checks = "pareto", ("a",), transforms.Pareto.checks

    def hazard(self, x, a):
        return a * np.log1p(x), a / (1.0 + x)

    def inverse(self, e, a):
        return np.expm1(e / a)

    def hazard_derivative(self, x, a):
        return np.log1p(x)


class _Rayleigh(_ExponentialPower):
    """``H(x) = x² / (2·scale²)``."""

    name, params, checks = "rayleigh", ("scale",), transforms.Rayleigh.checks
    scale_index, location_scale = 0, (None, 0)

    def hazard(self, x, scale):
        return 0.5 * (x / scale) ** 2, x / (scale * scale)

    def inverse(self, e, scale):
        return scale * np.sqrt(2.0 * e)

    def hazard_derivative(self, x, scale):
        return -((x / scale) ** 2) / scale


class _Power(ImplicitDistribution):
    """numpy's ``power(a)``: ``F = x^a`` on [0, 1]."""

    name, params, checks, support = "power", ("a",), transforms.Power.checks, (0.0, 1.0)

    def cdf(self, x, a):
        return np.clip(x, 0.0, 1.0) ** a

    def pdf(self, x, a):
        with np.errstate(divide="ignore"):
            return np.where((x > 0) & (x <= 1), a * np.clip(x, 1e-300, 1.0) ** (a - 1.0), 0.0)

    def ppf(self, u, a):
        return np.asarray(u, dtype=float) ** (1.0 / a)

    def cdf_derivative(self, i, x, a):
        x = np.clip(x, 0.0, 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(x > 0, x**a * np.log(np.where(x > 0, x, 1.0)), 0.0)


class _LocationScale(ImplicitDistribution):
    """``loc + scale·e``: the standard law's ``cdf``/``pdf``/``ppf`` of ``(x − loc)/scale``."""

    params, scale_index, location_scale = ("loc", "scale"), 1, (0, 1)

    def cdf(self, x, loc, scale):
        return self.standard_cdf((x - loc) / scale)

    def pdf(self, x, loc, scale):
        return self.standard_pdf((x - loc) / scale) / scale

    def ppf(self, u, loc, scale):
        return loc + scale * self.standard_ppf(np.asarray(u, dtype=float))

    def cdf_derivative(self, i, x, loc, scale):
        # F((x − loc)/scale): −f(x) per unit of loc, −f(x)·(x − loc)/scale per unit of scale
        return -self.pdf(x, loc, scale) * (1.0 if i == 0 else (x - loc) / scale)


class _Gumbel(_LocationScale):
    name, checks = "gumbel", transforms.Gumbel.checks

    def standard_cdf(self, e):
        return np.exp(-np.exp(-e))

    def standard_pdf(self, e):
        return np.exp(-e - np.exp(-e))

    def standard_ppf(self, u):
        with np.errstate(divide="ignore"):
            return -np.log(-np.log(u))


class _Logistic(_LocationScale):
    name, checks = "logistic", transforms.Logistic.checks

    def standard_cdf(self, e):
        return special.expit(e)

    def standard_pdf(self, e):
        s = special.expit(e)
        return s * (1.0 - s)

    def standard_ppf(self, u):
        return special.logit(u)


class _Laplace(_LocationScale):
    name, checks = "laplace", transforms.Laplace.checks

    def standard_cdf(self, e):
        return np.where(e < 0, 0.5 * np.exp(np.minimum(e, 0.0)),
                        1.0 - 0.5 * np.exp(-np.maximum(e, 0.0)))

    def standard_pdf(self, e):
        return 0.5 * np.exp(-np.abs(e))

    def standard_ppf(self, u):
        with np.errstate(divide="ignore"):
            return np.where(u < 0.5, np.log(2.0 * u), -np.log(2.0 - 2.0 * u))


class _Wald(implicit.Wald):
    """The batched engine's Wald law with its CDF, tail and density in closed form:
    ``Φ(√(λ/x)(x/μ − 1)) + e^(2λ/μ)·Φ(−√(λ/x)(x/μ + 1))`` (the second term in log space, where
    ``e^(2λ/μ)`` alone would overflow) instead of a scipy object per call; its inverse stays
    scipy's (a replay whose parameters moved only)."""

    def _terms(self, x, mean, scale):
        x = np.maximum(x, 1e-300)
        root = np.sqrt(scale / x)
        return root * (x / mean - 1.0), root * (x / mean + 1.0), 2.0 * scale / mean

    def cdf(self, x, mean, scale):
        a, b, c = self._terms(x, mean, scale)
        return np.where(x > 0, special.ndtr(a) + np.exp(c + special.log_ndtr(-b)), 0.0)

    def sf(self, x, mean, scale):
        a, b, c = self._terms(x, mean, scale)
        return np.where(x > 0, special.ndtr(-a) - np.exp(c + special.log_ndtr(-b)), 1.0)

    def pdf(self, x, mean, scale):
        y = np.maximum(x, 1e-300)
        return np.where(x > 0, np.sqrt(scale / (2 * np.pi * y**3))
                        * np.exp(-scale * (y - mean) ** 2 / (2 * mean**2 * y)), 0.0)

class _Triangular(implicit.Triangular):
    """The batched engine's triangular law, living on ``[left, right]``."""

    def bounds(self, left, mode, right):
        return left, right


class _StandardCauchy(ImplicitDistribution):
    name, params, checks = "standard_cauchy", (), ()

    def cdf(self, x):
        return 0.5 + np.arctan(x) / np.pi

    def pdf(self, x):
        return 1.0 / (np.pi * (1.0 + np.square(x)))

    def ppf(self, u):
        return np.tan(np.pi * (np.asarray(u, dtype=float) - 0.5))


LAWS = {law.name: law for law in (
    implicit.StandardGamma(), _Gamma(), _Chisquare(), _Beta(), _StandardT(), _F(),
    _NoncentralChisquare(), _NoncentralF(), _Lognormal(), _Weibull(), _Pareto(), _Rayleigh(),
    _Power(), _Gumbel(), _Logistic(), _Laplace(), _StandardCauchy(), _Wald(),
    implicit.VonMises(), _Triangular())}
"""The laws by numpy's method name."""


def point_mass(law, values) -> str | None:
    """The name of the parameter that makes the law a point mass at these ``values`` (a zero
    scale, which numpy allows), or ``None``: such a law has no CDF to invert."""
    i = getattr(law, "scale_index", None)
    if i is None:
        return None
    v = values[i]
    if v == 0.0 if type(v) is float else np.any(np.asarray(v) == 0):
        return law.params[i]
    return None


def sample(law, rng, values, shape):
    """Draws of ``shape`` with numpy's own sampler for the law (a float for ``()``)."""
    x = getattr(rng, law.name)(*values, size=None if shape == () else shape)
    return float(x) if shape == () else np.asarray(x, dtype=float)


def moved(law, z, old, new):
    """The draws ``z`` made at parameters ``old`` carried to ``new`` by inversion,
    ``F⁻¹(F(z; old); new)`` (through the upper tail where ``F > 1/2``): a replay's coupling."""
    if type(z) is float and all(type(p) is float for p in old) \
            and all(type(p) is float for p in new):  # one draw (the hot path): no arrays
        u = float(law.cdf(z, *old))
        if u > 0.5:
            return float(law.isf(law.sf(z, *old), *new))
        return float(law.ppf(u, *new))
    shape = np.shape(z)
    flat = np.reshape(z, -1).astype(float)
    out = law.moved(flat, *([np.broadcast_to(p, shape).reshape(-1).astype(float)
                             for p in params] for params in (old, new)))
    return float(out[0]) if shape == () else out.reshape(shape)


def _support(law, values):
    """Where the law lives at these parameter values."""
    bounds = getattr(law, "bounds", None)
    return law.support if bounds is None else bounds(*values)


def real(law, values):
    """``values`` as floats (arrays of floats), or a ``TypeError`` naming the parameter where
    one is not a real number (numpy's ``gamma('2')`` refuses what ``float('2')`` would read)."""
    return [float(v) if type(v) is float or type(v) is int else real_array(law.name, label, v)
            for label, v in zip(law.params, values, strict=True)]


def validated(law, values):
    """``values`` (plain numbers or arrays), after the law's checks: a ``ValueError`` naming
    the parameter and its value otherwise."""
    for label, (what, ok), v in zip(law.params, law.checks, values, strict=True):
        if type(v) is not float or not ok(v):  # one float: the checks' scalar fast path
            check(law.name, f"{label} {what}", v, ok, "")
    order = getattr(law, "validate_order", None)  # triangular: left <= mode <= right
    if order is not None:
        order(*(np.asarray(v, dtype=float) for v in values))
    return values


class Bound:
    """A law at one draw's parameter values (and their dual parts, ``None`` for a plain
    one): the noise law of the draw's record (the interface of
    :class:`~stochad.scalar_laws.NoiseLaw`, plus :meth:`dcdf`)."""

    def __init__(self, law, values, deltas):
        self.law, self.values, self.deltas = law, values, deltas
        self.name = law.name
        self.low, self.high = _support(law, values)
        self.movers = [(i, d) for i, d in enumerate(deltas) if nonzero(d)]
        self.moving = bool(self.movers)

    def cdf(self, x):
        return self.law.cdf(x, *self.values)

    def pdf(self, x):
        return self.law.pdf(x, *self.values)

    def cdf_pdf(self, x):
        return float(self.cdf(x)), float(self.pdf(x))

    def dcdf(self, x):
        """``Σᵢ (∂F/∂θᵢ)(x)·δθᵢ``: how the probability below ``x`` moves with the parameters:
        0 outside the law's range and at its ends, where ``F`` is 0 or 1 whatever they are
        (a running minimum that starts at ``math.inf``, a threshold below a positive law's
        range), which the formulas would give as ``0·inf``."""
        if type(x) is float and not self.low < x < self.high:
            return 0.0
        state = None if type(x) is float else np.errstate(invalid="ignore", divide="ignore",
                                                              over="ignore")
        if state is not None:  # (an array's ends: 0·inf; setting numpy's state costs a
            state.__enter__()  # microsecond, too much for one draw)
        try:
            total = 0.0
            for i, d in self.movers:
                total = total + self.law.cdf_derivative(i, x, *self.values) * d
        finally:
            if state is not None:
                state.__exit__(None, None, None)
        if type(total) is not np.ndarray:  # one draw (the hot path): math, no arrays
            total = float(total)
            if math.isfinite(total):
                return total
        else:
            total = np.where((np.asarray(x) > self.low) & (np.asarray(x) < self.high), total, 0.0)
        if not np.all(np.isfinite(total)):
            raise ValueError(
                f"{self.name}: the derivative of its CDF in its parameters is not finite at "
                f"{x!r} with parameters {dict(zip(self.law.params, self.values, strict=True))}; "
                "the replay engine cannot weight this draw's events there")
        return total if np.ndim(total) else float(total)

    def dual_part(self, x):
        """The draw's dual part at ``x``: ``−dcdf(x) / f(x)`` (0 where the density is 0)."""
        if not self.moving:
            return 0.0 if type(x) is float or np.ndim(x) == 0 else np.zeros(np.shape(x))
        if type(x) is float:  # one draw (the hot path)
            f = float(self.pdf(x))
            dcdf = self.dcdf(x)
            if type(dcdf) is float:
                return -dcdf / f if f > 0.0 else 0.0
        f = self.pdf(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            d = np.where(f > 0, -np.asarray(self.dcdf(x)) / f, 0.0)
        return float(d) if d.ndim == 0 else d
