"""Scalar distribution laws for the replay engine (DESIGN §5): one number at a time.

Each discrete law draws by *inversion of a uniform* ``u`` (so the replay couples a draw to
its tracking twin by drawing again through the same ``u`` under moved parameters), and
gives the *new perturbation* of DESIGN §1's table: the alternative outcome and its weight
``w ≥ 0`` for a parameter with dual part ``δ`` (the ``δ < 0`` column too). Continuous draws
are reparameterised: a :class:`NoiseLaw` maps a uniform to standard noise and gives the
noise's CDF and density, which a comparison with a moving threshold needs.

Everything here works on Python floats; the ppf walks of Poisson and binomial laws are numba
kernels (their plain-Python meaning is the same code, ``NUMBA_DISABLE_JIT=1``).

Examples
--------
>>> BERNOULLI.sample(0.2, 0.3), BERNOULLI.sample(0.5, 0.3)
(1, 0)
>>> BERNOULLI.candidates(0, (0.3,), 1.0)          # k = 0 may move up with weight δ/(1 − p)
[(1, 1.4285714285714286)]
>>> POISSON.sample(0.5, 3.0), POISSON.candidates(2, (3.0,), -1.0)
(3, [(1, 0.6666666666666666)])
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import erfc

from ._jit import njit


@njit(nested=True)  # a scalar result (nothing to box): the bare dispatcher, the cheapest call
def _ppf(kind, u, a, b):
    """Smallest ``k`` with ``F(k) > u``: Poisson(``a``) (kind 0) or Binomial(``a``, ``b``).

    Starts at the mode (``F`` there summed downwards until the terms vanish), so the cost is
    the spread of the law, not its mean; ``u`` at the rounding edge of 1 stops where ``F``
    stops growing.
    """
    if kind == 0:
        if a == 0.0:
            return 0
        m = math.floor(a)
        log_pmf = m * math.log(a) - a - math.lgamma(m + 1.0)
    else:
        if b == 0.0 or a == 0.0:
            return 0
        if b == 1.0:
            return int(a)
        m = min(math.floor((a + 1.0) * b), a)
        log_pmf = (math.lgamma(a + 1.0) - math.lgamma(m + 1.0) - math.lgamma(a - m + 1.0)
                   + m * math.log(b) + (a - m) * math.log1p(-b))
    pmf_m = math.exp(log_pmf)
    # F(m): sum the pmf from m downwards by the ratio pmf(j - 1) / pmf(j)
    cdf, term, j = pmf_m, pmf_m, m
    while j > 0:
        term *= j / a if kind == 0 else j * (1.0 - b) / ((a - j + 1.0) * b)
        j -= 1
        cdf += term
        if term < 1e-18 * cdf:
            break
    k, pmf = m, pmf_m
    if u < cdf:  # walk down while F(k - 1) = F(k) - pmf(k) > u
        while k > 0 and cdf - pmf > u:
            cdf -= pmf
            pmf *= k / a if kind == 0 else k * (1.0 - b) / ((a - k + 1.0) * b)
            k -= 1
        return int(k)
    while cdf <= u:  # walk up
        if kind == 1 and k >= a:
            break
        pmf *= a / (k + 1.0) if kind == 0 else (a - k) * b / ((k + 1.0) * (1.0 - b))
        k += 1
        grown = cdf + pmf
        if grown == cdf:
            break
        cdf = grown
    return int(k)



@njit
def _ppf_array(kind, u, a, b):
    """:func:`_ppf` of every element (flat float arrays of one length)."""
    out = np.empty(u.size, np.int64)
    for i in range(u.size):
        out[i] = _ppf(kind, u[i], a[i], b[i])
    return out


@njit
def ppf_fill(kind, u, a, b):
    """:func:`_ppf` of every uniform of the flat array ``u`` with the parameters ``a``,
    ``b`` (floats)."""
    out = np.empty(u.size, np.int64)
    for i in range(u.size):
        out[i] = _ppf(kind, u[i], a, b)
    return out


def _ppfs(kind, u, a, b):
    """:func:`_ppf` of flat uniforms with parameters that are floats or flat arrays."""
    if type(a) is float and type(b) is float:
        return ppf_fill(kind, u, a, b)
    a, b = (np.array(np.broadcast_to(np.asarray(x, dtype=float), u.shape)) for x in (a, b))
    return _ppf_array(kind, u, a, b)


class Law:
    """A discrete law: ``sample(u, *params)`` by inversion and ``candidates(k, params, δ)``,
    the new perturbations ``[(alternative outcome, weight), ...]`` created by the dual part
    ``δ`` of the last parameter."""

    name = ""

    def sample(self, u, *params):
        raise NotImplementedError

    def candidates(self, k, params, d):
        """DESIGN §1's row; at a boundary where ``δ`` points out of the domain, the
        one-sided derivative into it: the column of ``−δ`` with its weights negated
        (docs/decisions.md, as :func:`stochad.kernels.new_perturbation`)."""
        if self.outward(params, d):
            return [(alt, -w) for alt, w in self.column(k, params, -d)]
        return self.column(k, params, d)

    def outward(self, params, d) -> bool:
        """Whether ``δ`` points out of the parameter's domain (p = 1, δ > 0 by default)."""
        return d > 0 and params[-1] >= 1.0

    def column(self, k, params, d):
        raise NotImplementedError

    sample_array = None
    """``sample_array(u, *params)``: :meth:`sample` of the flat array ``u`` at once, with
    parameters that are floats or flat arrays like it; ``None``: the law is drawn element by
    element."""

    def candidates_array(self, k, params, d):
        """:meth:`candidates` of the flat outcomes ``k`` at once (laws with at most one new
        perturbation per element): ``(present, alternative, weight)``, arrays or scalars
        that broadcast to ``k``'s shape, the same numbers as :meth:`candidates` element by
        element. ``params`` and ``d``: floats (one for every element, the hot path) or flat
        arrays."""
        if type(d) is float and all(type(v) is float for v in params):
            if self.outward(params, d):
                present, alt, w = self.column_array(k, params, -d)
                return present, alt, -w
            return self.column_array(k, params, d)
        flip = self.outward_array(params, d)
        with np.errstate(divide="ignore", invalid="ignore"):
            present, alt, w = self.column_array(k, params, np.where(flip, -d, d))
        return present, alt, np.where(flip, -w, w)

    def outward_array(self, params, d):
        return (d > 0) & (params[-1] >= 1.0)


class Bernoulli(Law):
    name = "bernoulli"

    def sample(self, u, p):
        return 1 if u < p else 0

    def outward(self, params, d):
        return d > 0 and params[0] >= 1.0 or d < 0 and params[0] <= 0.0

    def column(self, k, params, d):
        p = params[0]
        if d > 0 and k == 0:
            return [(1, d / (1.0 - p))]
        if d < 0 and k == 1:
            return [(0, -d / p)]
        return []

    def sample_array(self, u, p):
        return (u < p).astype(np.int64)

    def outward_array(self, params, d):
        return (d > 0) & (params[0] >= 1.0) | (d < 0) & (params[0] <= 0.0)

    def column_array(self, k, params, d):
        p = params[0]
        if type(d) is float:
            return (k == 0, 1, d / (1.0 - p)) if d > 0 else (k == 1, 0, -d / p)
        up, down = (d > 0) & (k == 0), (d < 0) & (k == 1)
        return up | down, np.where(up, 1, 0), np.where(up, d / (1.0 - p), -d / p)


class Binomial(Law):
    name = "binomial"

    def sample(self, u, n, p):
        return _ppf(1, u, float(n), p)

    def outward(self, params, d):
        return d > 0 and params[1] >= 1.0 or d < 0 and params[1] <= 0.0

    def column(self, k, params, d):
        n, p = params
        if d > 0 and k < n:
            return [(k + 1, d * (n - k) / (1.0 - p))]
        if d < 0 and k > 0:
            return [(k - 1, -d * k / p)]
        return []

    def sample_array(self, u, n, p):
        return _ppfs(1, u, n, p)

    def outward_array(self, params, d):
        return (d > 0) & (params[1] >= 1.0) | (d < 0) & (params[1] <= 0.0)

    def column_array(self, k, params, d):
        n, p = params
        if type(d) is float:
            return (k < n, k + 1, d * (n - k) / (1.0 - p)) if d > 0 else (k > 0, k - 1,
                                                                          -d * k / p)
        up, down = (d > 0) & (k < n), (d < 0) & (k > 0)
        return (up | down, np.where(up, k + 1, k - 1),
                np.where(up, d * (n - k) / (1.0 - p), -d * k / p))


class Poisson(Law):
    name = "poisson"

    def sample(self, u, lam):
        return _ppf(0, u, lam, 0.0)

    def outward(self, params, d):
        return d < 0 and params[0] <= 0.0

    def column(self, k, params, d):
        if d > 0:
            return [(k + 1, d)]
        if d < 0 and k > 0:
            return [(k - 1, -d * k / params[0])]
        return []

    def sample_array(self, u, lam):
        return _ppfs(0, u, lam, 0.0)

    def outward_array(self, params, d):
        return (d < 0) & (params[0] <= 0.0)

    def column_array(self, k, params, d):
        if type(d) is float:
            return (True, k + 1, d) if d > 0 else (k > 0, k - 1, -d * k / params[0])
        up, down = d > 0, (d < 0) & (k > 0)
        return up | down, np.where(up, k + 1, k - 1), np.where(up, d, -d * k / params[0])


class Geometric(Law):
    """Trials up to the first success, ``k ≥ 1`` (numpy's convention)."""

    name = "geometric"

    def sample(self, u, p):
        if p >= 1.0:
            return 1
        return max(1, math.ceil(math.log1p(-u) / math.log1p(-p)))

    def column(self, k, params, d):
        p = params[0]
        if d > 0 and k > 1:
            return [(k - 1, d * (k - 1) / (p * (1.0 - p)))]
        if d < 0:
            return [(k + 1, -d * k / p)]
        return []


class Categorical(Law):
    """0-based index; ``params`` is the sequence of probabilities, ``d`` their dual parts."""

    name = "categorical"

    def sample(self, u, probs):
        acc = 0.0
        last = len(probs) - 1
        for j in range(last):
            acc += probs[j]
            if u < acc:
                return j
        return last

    def candidates(self, k, probs, d, v=0.5):
        """DESIGN §1's categorical row, with the boundary rule of docs/decisions.md: the moved
        part of ``[F(k−1), F(k)]`` is entered at the point ``v`` (a fresh uniform) of its
        width, and the outcome is where inversion sends that point (a category of
        probability 0 whose probability grows, at a boundary)."""
        cdf, dcdf, acc, dacc = [], [], 0.0, 0.0
        for pj, dj in zip(probs, d, strict=True):
            acc += pj
            dacc += dj
            cdf.append(acc)
            dcdf.append(dacc)
        out = []
        low = dcdf[k - 1] if k > 0 else 0.0
        if low > 0:  # F(k−1) moves up: u just above it falls to a lower category
            edge = cdf[k - 1]
            target = next(j for j in range(k) if cdf[j] >= edge and dcdf[j] >= v * low)
            out.append((target, low / probs[k]))
        high = dcdf[k]
        if high < 0 and k < len(probs) - 1:  # F(k) moves down: u just below it rises
            edge = cdf[k]
            target = next((j for j in range(k + 1, len(probs))
                           if cdf[j] > edge or dcdf[j] >= v * high), None)
            if target is not None:  # (none: the later categories have probability 0 and
                out.append((target, -high / probs[k]))  # F(k) = 1 moves by rounding only)
        return out


BERNOULLI, BINOMIAL, POISSON = Bernoulli(), Binomial(), Poisson()
GEOMETRIC, CATEGORICAL = Geometric(), Categorical()
LAWS = {law.name: law for law in (BERNOULLI, BINOMIAL, POISSON, GEOMETRIC, CATEGORICAL)}



# -- any DiscreteDistribution, through its CDF (numpy's other laws, a user's own) ----------------
def cdf_sample(dist, rng, full, shape):
    """``(k, u)``: draws of ``shape`` from ``dist`` (parameters ``full``: float arrays of the
    draw's shape) by its own sampler, and the uniforms they stand for, ``u`` in ``(F(k − 1),
    F(k)]`` (drawn given ``k`` if the sampler does not invert one), so that inverting ``u``
    under moved parameters couples a later draw to this one.

    Examples
    --------
    >>> from stochad.distributions import NegativeBinomial
    >>> law, full = NegativeBinomial(), [np.array(3.0), np.array(0.5)]
    >>> k, u = cdf_sample(law, np.random.default_rng(0), full, ())
    >>> bool(law.cdf(k - 1, *full) < u <= law.cdf(k, *full))
    True
    """
    k, u = dist.sample(rng, full, shape)
    k = np.asarray(k, dtype=np.int64).reshape(shape)
    if u is None:  # 1 − v, v in [0, 1): the upper end F(k) included, F(k − 1) excluded
        low, high = dist.cdf(k - 1, *full), dist.cdf(k, *full)
        u = high - rng.random(shape) * (high - low)
    return k, np.asarray(u, dtype=float).reshape(shape)


def cdf_candidates(dist, k, full, deltas):
    """The new perturbations of DESIGN §1 for a law given by its CDF, element by element of
    the flat outcomes ``k``: ``(element, alternative, weight)``, up by one with weight
    ``−dF(k)/P(k)`` and down by one with weight ``dF(k − 1)/P(k)`` where positive (``dF =
    Σᵢ ∂F/∂θᵢ·δθᵢ``, ``deltas``: the parameters' dual parts, ``None`` for a plain one). A
    negative weight is kept where the neighbour has probability 0, which then cannot carry the
    move the other way (the one-sided derivative at the edge of the domain, docs/decisions.md:
    ``negative_binomial`` at ``p = 1`` is 0 with probability 1, and ``dE/dp = −n``).

    Examples
    --------
    >>> from stochad.distributions import NegativeBinomial
    >>> law = NegativeBinomial()
    >>> [(i, alt) for i, alt, w in cdf_candidates(law, np.array(2), [3.0, 0.5], [None, 1.0])]
    [(0, 1)]
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        pmf = dist.pmf(k, *full)
        moves = ((1, -dist._dcdf(k, full, deltas) / pmf),
                 (-1, dist._dcdf(k - 1, full, deltas) / pmf))
    flat = k.reshape(-1)
    out = []
    for step, w in moves:
        w = np.broadcast_to(w, k.shape).reshape(-1)
        keep = w > 0
        if (w < 0).any():  # the neighbour's probability, only where it may be 0
            keep |= (w < 0) & (np.broadcast_to(dist.pmf(k + step, *full), k.shape)
                               .reshape(-1) == 0)
        for i in np.flatnonzero(keep & (np.abs(w) < math.inf)).tolist():
            out.append((i, int(flat[i]) + step, float(w[i])))
    return out


def cdf_couple(dist, u, k, old, new):
    """The outcomes of a later draw coupled to the tracking run's ``k`` (drawn with
    parameters ``old`` and uniforms ``u``) under the parameters ``new``: ``u`` inverted by a
    walk from ``k`` where a parameter moved, ``k`` itself where none did (re-inverting ``u``
    can land one below ``k`` by rounding where ``P(k)`` is tiny next to ``F(k − 1)``)."""
    moved = np.zeros(k.shape, dtype=bool)
    for a, b in zip(old, new, strict=True):
        moved |= a != b
    out = k.copy()
    if moved.any():
        out[moved] = dist.invert(u[moved], [np.broadcast_to(b, k.shape)[moved] for b in new],
                                 start=k[moved])
    return out


_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


class NoiseLaw:
    """The standard noise of a reparameterised draw: ``cdf`` and ``pdf`` (numpy-aware),
    ``cdf_pdf`` of one float (plain Python, fast), and the support on which a nudged boundary
    must stay. Its law does not move with the parameters (``moving``: that of
    :class:`stochad.cdf_laws.Bound`, whose CDF does)."""

    moving = False

    def __init__(self, name, cdf, pdf, cdf_pdf, low, high):
        self.name, self.cdf, self.pdf, self.cdf_pdf = name, cdf, pdf, cdf_pdf
        self.low, self.high = low, high


def _normal_cdf(z):
    return 0.5 * erfc(-np.asarray(z) / _SQRT2)


NORMAL_NOISE = NoiseLaw(
    "normal", _normal_cdf, lambda z: _INV_SQRT_2PI * np.exp(-0.5 * np.square(z)),
    lambda z: (0.5 * math.erfc(-z / _SQRT2), _INV_SQRT_2PI * math.exp(-0.5 * z * z)),
    -math.inf, math.inf)
EXPONENTIAL_NOISE = NoiseLaw(
    "exponential", lambda e: -np.expm1(-np.maximum(e, 0.0)),
    lambda e: np.where(np.asarray(e) >= 0, np.exp(-np.maximum(e, 0.0)), 0.0),
    lambda e: (-math.expm1(-e), math.exp(-e)) if e >= 0 else (0.0, 0.0), 0.0, math.inf)
UNIFORM_NOISE = NoiseLaw(
    "uniform", lambda u: np.clip(u, 0.0, 1.0),
    lambda u: ((np.asarray(u) >= 0) & (np.asarray(u) <= 1)) * 1.0,
    lambda u: (min(max(u, 0.0), 1.0), 1.0 if 0.0 <= u <= 1.0 else 0.0), 0.0, 1.0)
