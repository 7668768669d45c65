"""Numba kernels for the per-lane loops numpy cannot express in one pass.

Every kernel takes plain arrays (and arrays of uniforms drawn from the run's generator, never a
Generator object), so that the same numbers come out with the JIT on or off
(``NUMBA_DISABLE_JIT=1``). Each kernel's plain-Python meaning is ``kernel.py_func``; the tests
check that both agree exactly.

Shapes: ``(n_lanes, m)`` arrays hold ``m`` logical elements per lane, lanes first, C order.

Two modules: :mod:`~stochad.kernels.events` (the pruned backend's event table) and
:mod:`~stochad.kernels.coupling` (new perturbations' weights, inversion coupling); their names
are all reachable from here.
"""

from .coupling import (
    _log_pmf,
    _normal_quantile,
    bernoulli_coupled,
    categorical_perturbation,
    invert_coupled,
    new_perturbation,
)
from .events import (
    BERNOULLI,
    BINOMIAL,
    GEOMETRIC,
    NO_EVENT,
    POISSON,
    SLOT_BITS,
    SLOT_MASK,
    attach_new_events,
    count_conflicts,
    count_draw_conflicts,
    free_unmarked,
    lookup_weights,
    mark_referenced,
    prune_pair,
    prune_sum,
)

__all__ = [
    "BERNOULLI", "BINOMIAL", "GEOMETRIC", "NO_EVENT", "POISSON", "SLOT_BITS", "SLOT_MASK",
    "_log_pmf", "_normal_quantile", "attach_new_events", "bernoulli_coupled",
    "categorical_perturbation", "count_conflicts", "count_draw_conflicts", "free_unmarked",
    "invert_coupled", "lookup_weights", "mark_referenced", "new_perturbation", "prune_pair",
    "prune_sum",
]
