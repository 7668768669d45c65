"""Apply a rule of the table to arguments that may be stochastic triples (docs/design.md §1).

``value = f(v)``, ``delta = Σ ∂ᵢf·δᵢ``, and the perturbation is the exact difference
``f(v + Δ) - f(v)`` along the alternative path, after the backend has reconciled the arguments'
perturbations. Every elementwise ufunc of the rule table is registered here as the triple's
``__array_ufunc__`` implementation.
"""

from __future__ import annotations

import sys
import warnings
from contextlib import nullcontext
from functools import partial

import numpy as np

from .dual import LostDerivativeWarning
from .lanes import broadcast, jump_of, lift, shifted
from .rules import COMPARISONS, RULES, Rule
from .triple import StochasticTriple, implements, logical_shape, run_of

_PYTHON_NUMBERS = (bool, int, float)


def apply(rule: Rule, *args):
    """Evaluate ``rule.func(*args)`` on triples and plain arrays alike.

    Examples
    --------
    >>> import numpy as np, stochad as sad
    >>> from stochad.rules import RULES
    >>> st = sad.stochastic_triple(lambda p: apply(RULES[np.multiply], p, 3.0), 2.0)
    >>> float(sad.value(st)), float(sad.delta(st))
    (6.0, 3.0)
    """
    run = run_of(args)
    if run is None:
        return rule.func(*args)
    triples = [isinstance(a, StochasticTriple) for a in args]
    for a, t in zip(args, triples, strict=True):
        if t:
            a.note_use()
    ndim = max(a.value.ndim - 1 if t else np.ndim(a)  # numpy checks the shapes in rule.func
               for a, t in zip(args, triples, strict=True))
    values = [lift(a.value, ndim) if t else np.asarray(a)
              for a, t in zip(args, triples, strict=True)]
    # A numpy ufunc gets Python numbers as they are, so it promotes them weakly (NEP 50):
    # float32 triple * 3 stays float32, as it does for arrays
    weak = isinstance(rule.func, np.ufunc)
    try:
        out = rule.func(*(a if weak and type(a) in _PYTHON_NUMBERS else v
                          for a, v in zip(args, values, strict=True)))
    except ValueError:
        np.broadcast_shapes(*(logical_shape(a) for a in args))  # report the program's shapes
        raise
    full_shape = out.shape

    delta = None
    for i, (a, is_triple) in enumerate(zip(args, triples, strict=True)):
        partial = rule.partials[i]
        if not is_triple or a.delta is None:
            continue
        if partial is None or rule.jumps:  # a moving argument's mass at a jump is lost here
            if np.any(a.delta != 0) and not _fixed_comparison(rule, args, triples, values):
                warn_lost(getattr(rule.func, "__name__", "a piecewise-constant function"))
            if partial is None:
                continue
        d = lift(a.delta, ndim)
        if partial == 1:
            term = d
        elif partial == -1:
            term = -d
        else:
            with np.errstate(all="ignore") if rule.mask_partials else nullcontext():
                term = partial(*values, out) * d
            if rule.mask_partials:
                # 0·inf where the partial is infinite but d is 0: 0, unless the value itself
                # is NaN (0/0), whose derivative stays NaN as numpy's would
                infinite = ~np.isfinite(term)
                if infinite.any():
                    term = np.where(infinite & (d == 0) & ~np.isnan(out), 0.0, term)
        delta = term if delta is None else delta + term
    if delta is not None:
        delta = broadcast(delta, full_shape)

    perts = [
        None if not t or a.perturbation is None
        else a.perturbation if a.ndim == ndim
        else a.perturbation.lift(a.value.shape[:1] + (1,) * (ndim - a.ndim) + a.shape)
        for a, t in zip(args, triples, strict=True)
    ]
    perturbation = None
    if any(p is not None for p in perts):
        # The backend reconciles the arguments' perturbations into alternative paths (pruned:
        # one per element; exact: one per live event) and asks for the output's jump on each.
        perturbation = run.backend.propagate_paths(
            run, perts, full_shape, lambda jumps: path_jump(rule, values, out, jumps, full_shape)
        )
    return StochasticTriple(out, delta, perturbation, run=run)


def path_jump(rule: Rule, values, out, jumps, shape) -> np.ndarray:
    """The output's jump ``f(v + Δ) - f(v)`` on one alternative path, broadcast to ``shape``.

    ``jumps[i]`` is argument ``i``'s jump on that path, or ``None`` if it does not move.
    """
    moved = [i for i, j in enumerate(jumps) if j is not None]
    # numpy adds booleans as a logical or (True + True is True): not a sum of the jumps
    logical = out.dtype == bool
    if rule.additive and not logical:
        signed = [jumps[i] if rule.partials[i] == 1 else -jumps[i] for i in moved]
        jump = signed[0] if len(signed) == 1 else sum(signed[1:], signed[0])
    elif len(moved) == 1 and rule.linear and rule.linear[moved[0]]:
        i = moved[0]
        jump = rule.func(*(jumps[i] if k == i else v for k, v in enumerate(values)))
    else:
        with np.errstate(all="ignore"):
            cast = rule.cast_alternatives or logical  # bool arguments stay bool
            alternative = rule.func(
                *(shifted(v, j, cast) for v, j in zip(values, jumps, strict=True))
            )
            jump = jump_of(alternative, out)
    return broadcast(jump, shape)


for _ufunc, _rule in RULES.items():
    implements(_ufunc)(partial(apply, _rule))


_COMPARISONS = frozenset(COMPARISONS.values())


def _fixed_comparison(rule, args, triples, values) -> bool:
    """Whether ``rule`` compares values that are the same in every lane and carry no
    perturbation, and differ: a function of the parameter alone against a fixed one (scipy's
    argument check ``mu >= 0``, ``if p > 1: raise``), which flips only at isolated parameter
    values, not at this one. No mass is lost; a tie (it could flip here) still warns. (Two
    lanes at least: in one, a continuous draw is the same in every lane too.)"""
    if rule.func not in _COMPARISONS:
        return False
    for a, is_triple in zip(args, triples, strict=True):
        if is_triple and (a.perturbation is not None or a.value.ndim == 0
                          or a.value.shape[0] < 2 or np.any(a.value != a.value[:1])
                          or a.delta is not None and np.ndim(a.delta)
                          and np.any(a.delta != a.delta[:1])):
            return False
    return not np.any(np.equal(*values))


def warn_user(message: str) -> None:
    """A :class:`LostDerivativeWarning` at the call site in the user's code (the first frame
    outside stochad): once per call site under the default filter."""
    depth, frame = 2, sys._getframe(1)  # stacklevel 2 is warn_user's caller
    while frame is not None and frame.f_globals.get("__name__", "").startswith("stochad"):
        depth, frame = depth + 1, frame.f_back
    warnings.warn(message, LostDerivativeWarning, stacklevel=depth)


def warn_lost(what: str) -> None:
    """Warn, once per call site in the user's code, that ``what`` drops a dual part: a
    comparison or another piecewise-constant function of a value that moves continuously with
    ``p`` (a continuous draw, ``p`` itself) loses the mass of its flips."""
    warn_user(
        f"{what} of a value with a dual part: the derivative of its jumps is lost (its mass "
        "is not followed). Draw the event with sad.bernoulli(prob) or compare a raw "
        "rng.random() with the moving threshold (as drawn: u > 1 - p, not 1 - u < p), or use "
        "vectorize=False, whose replay engine follows comparisons of continuous draws")
