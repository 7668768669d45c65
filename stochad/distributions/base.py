"""What every law shares: the :class:`Distribution` interface and the parameter checks."""

from __future__ import annotations

import numpy as np

__all__ = ["Distribution"]


def ratio(count, denominator):
    """``count / denominator`` with 0 where ``count`` is 0 (the term is absent there)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(count > 0, count / denominator, 0.0)


def fail(name: str, what: str, bad: np.ndarray, where: str):
    raise ValueError(f"{name}: {what}, got {np.asarray(bad).reshape(-1)[0].item()!r}{where}")


def real_array(name: str, label: str, v) -> np.ndarray:
    """``v`` as a float array, or a ``TypeError`` naming the parameter where it holds no real
    numbers (numpy's samplers refuse ``'2'`` and ``None``, which ``float()`` would read as 2
    and NaN)."""
    a = np.asarray(v)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{name}: {label} must be a real number or an array of them, got {v!r}")
    return a.astype(float)


def check(name, what, values, ok, where):
    values = np.asarray(values)
    if values.size and not np.all(ok(values)):
        fail(name, what, values[~ok(values)], where)


def scalar_if_constant(x):
    """The single value of ``x`` if it is one number broadcast (every stride 0), else ``x``:
    numpy samples a scalar parameter about 12% faster than an array of copies of it, and
    gives the same numbers."""
    x = np.asarray(x)
    return x.reshape(-1)[0] if x.size and not any(x.strides) else x


UNIT_INTERVAL = "p must be in [0, 1]"
ON_ALTERNATIVE = " (on the alternative path of a perturbation)"


def in_unit_interval(name, p, where, open_low=False):
    p = np.asarray(p)
    if not p.size:
        return
    lo, hi = p.min(), p.max()
    if open_low:
        if not (lo > 0 and hi <= 1):
            fail(name, "p must be in (0, 1]", p[~((p > 0) & (p <= 1))], where)
    elif not (lo >= 0 and hi <= 1):
        fail(name, UNIT_INTERVAL, p[~((p >= 0) & (p <= 1))], where)



class Distribution:
    """A law a program draws from: its parameters, their validation and its sampler.

    Subclasses: :class:`DiscreteDistribution` (stochastic triples: new perturbations and
    inversion coupling) and :class:`ContinuousDistribution` (reparameterised draws).
    """

    name: str
    params: tuple[str, ...] = ()
    """The parameters' names, in the order the sampler takes them."""
    numpy_method: str | None = None
    """The :class:`numpy.random.Generator` method drawing from this law (``None``: none)."""
    core_ndim = 0  # trailing parameter axes that are not broadcast (categorical: categories)

    def validate(self, params, where=""):
        """Raise ``ValueError`` naming the parameter if ``params`` are outside the domain."""

    def sample(self, rng, params, shape):
        """Primal draws of ``shape``; returns ``(k, state)`` for the coupling."""
        raise NotImplementedError

