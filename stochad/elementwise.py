"""Elementwise numpy functions on triples that are compositions of rule-table rows: casts
(``astype``), ``np.clip`` and ``np.round``; and :func:`no_out`, the check every numpy function
on triples makes of the options it cannot honour.
"""

from __future__ import annotations

import numpy as np

from . import rules
from .propagation import apply
from .triple import StochasticTriple, implements


def no_out(out, name, kwargs=None):
    if out is not None:
        raise TypeError(f"np.{name}(..., out=) is not supported on stochastic triples")
    # initial= and where= would change the result; ignoring them would be silently wrong
    unsupported = sorted(k for k, v in (kwargs or {}).items() if not (k == "where" and v is True))
    if unsupported:
        raise TypeError(
            f"np.{name}(..., {'=, '.join(unsupported)}=) is not supported on stochastic "
            "triples; mask with np.where(mask, x, neutral) (stochad.where) and combine an "
            "initial value with the operator instead"
        )


@implements("astype")
def astype(x, dtype):
    """``x.astype(dtype)`` for a triple (a row of the rule table made for the two dtypes).

    Examples
    --------
    >>> import stochad as sad
    >>> st = sad.stochastic_triple(lambda p: (2.5 * p).astype(int), 1.0)
    >>> int(sad.value(st)), float(sad.delta(st))  # truncation: piecewise constant
    (2, 0.0)
    >>> st = sad.stochastic_triple(lambda p: (2.5 * p).astype("float32"), 1.0)
    >>> str(sad.value(st).dtype), float(sad.delta(st))
    ('float32', 2.5)
    """
    if not isinstance(x, StochasticTriple):
        return np.asarray(x).astype(dtype)
    dtype = np.dtype(dtype)
    if dtype.kind not in "biuf":
        raise TypeError(f"a stochastic triple holds real numbers; it cannot be cast to {dtype}")
    if dtype == x.dtype:
        return x
    return apply(rules.casting(x.dtype, dtype), x)


def cast_checked(name, a, dtype, casting):
    """``a`` cast to ``dtype`` for ``np.<name>(..., dtype=, casting=)``, refusing what numpy
    refuses."""
    source = a.dtype if isinstance(a, StochasticTriple) else np.result_type(a)
    if not np.can_cast(source, dtype, casting):
        raise TypeError(f"np.{name}: cannot cast {source} to {np.dtype(dtype)} with "
                        f"casting={casting!r}")
    return astype(a, dtype)


@implements(np.clip)
def clip(a, a_min=None, a_max=None, out=None, *, min=None, max=None, dtype=None,  # noqa: A002
         casting="same_kind", **kwargs):
    """``np.clip`` (numpy 2.1's ``min=``/``max=`` included) as ``maximum`` then ``minimum``."""
    no_out(out, "clip", kwargs)
    if (min is not None and a_min is not None) or (max is not None and a_max is not None):
        raise TypeError("np.clip: pass each bound once (a_min or min, a_max or max)")
    a_min, a_max = (a_min if min is None else min), (a_max if max is None else max)
    if a_min is not None:
        a = np.maximum(a, a_min)
    if a_max is not None:
        a = np.minimum(a, a_max)
    return a if dtype is None else cast_checked("clip", a, dtype, casting)


@implements(np.round)
@implements(np.around)
def round_(a, decimals=0, out=None):
    no_out(out, "round")
    return apply(rules.rounding(int(decimals)), a)
