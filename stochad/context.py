"""The run context: generator, lane count and backend of the evaluation in progress.

A *run* is one batched evaluation of a user program on stochastic triples. It is held in a
:class:`contextvars.ContextVar`, so nested and threaded runs stay apart. Samplers look up the
current run to draw from its generator; everything about perturbations (the pruned backend's
event table, say) belongs to the run's backend (:mod:`stochad.backends`).
"""

from __future__ import annotations

import contextvars
import gc
import sys
from dataclasses import dataclass, field

import numpy as np

_current_run: contextvars.ContextVar[Run | None] = contextvars.ContextVar(
    "stochad_current_run", default=None
)


# replay engine (docs/decisions.md, stochad.replay): the tape of the one-sample run in progress
_current_tape: contextvars.ContextVar = contextvars.ContextVar("stochad_tape", default=None)
current_tape = _current_tape.get
"""Return the replay tape in progress in this context (``None`` outside a replay run)."""


def current_run() -> Run | None:
    """Return the run in progress in this context, or ``None`` outside a run."""
    return _current_run.get()


def normalize_rng(rng) -> np.random.Generator:
    """Normalise ``rng`` (None, int, SeedSequence or Generator) as
    :func:`numpy.random.default_rng` does.

    A :class:`stochad.Generator` stands for the numpy Generator it wraps.

    Examples
    --------
    >>> g = normalize_rng(0)
    >>> isinstance(g, np.random.Generator)
    True
    >>> normalize_rng(g) is g
    True
    """
    wrapped = getattr(rng, "numpy", None)
    return np.random.default_rng(wrapped if isinstance(wrapped, np.random.Generator) else rng)


class _SwallowedInterrupt:
    """A Ctrl-C that Python swallowed: a KeyboardInterrupt raised inside a weakref callback
    or a destructor (the event table's weak set has one) is only reported, never raised.
    Once stochad has run, this hook keeps it instead, and stochad raises it again at the next
    triple (:meth:`Run.allocate`), at the end of a run or of a task of the driver; any other
    report goes on to the hook that was there before."""

    pending = False

    def __init__(self, previous):
        self.previous = previous

    def __call__(self, unraisable):
        if isinstance(unraisable.exc_value, KeyboardInterrupt):
            _SwallowedInterrupt.pending = True
        else:
            self.previous(unraisable)

    @staticmethod
    def install():
        """Chain this hook before whatever hook is in place (once: pytest and others replace
        the hook, so a run checks at its start)."""
        if not isinstance(sys.unraisablehook, _SwallowedInterrupt):
            sys.unraisablehook = _SwallowedInterrupt(sys.unraisablehook)

    @staticmethod
    def raise_pending():
        if _SwallowedInterrupt.pending:
            _SwallowedInterrupt.pending = False
            raise KeyboardInterrupt

keep_swallowed_interrupts = _SwallowedInterrupt.install
raise_swallowed_interrupt = _SwallowedInterrupt.raise_pending

MEMORY_BUDGET = 2 * 2 ** 30
"""Bytes the live triples of one run may hold (values, dual parts, perturbations). A batched
run that would outgrow it is re-run by the driver in smaller chunks of lanes, so a program of
many draws per sample still fits in memory; the chunks a seed's samples come from then
depend on the program (deterministically), not on the machine."""


class ChunkTooLarge(MemoryError):
    """A run's triples would outgrow :data:`MEMORY_BUDGET`: run fewer lanes at a time."""


@dataclass(eq=False)
class Run:
    """One batched evaluation: ``n_lanes`` independent samples advanced together.

    Parameters
    ----------
    rng : numpy.random.Generator
        Drives every primal draw and every pruning choice of the run.
    n_lanes : int
        Number of samples (lanes) evaluated at once.
    backend : stochad.backends.Backend
        The perturbation backend, made for this run's ``n_lanes``.
    """

    rng: np.random.Generator
    n_lanes: int
    backend: object
    live_bytes: int = field(init=False, default=0, repr=False)
    _token: contextvars.Token | None = field(init=False, default=None, repr=False)
    _tape_token: contextvars.Token | None = field(init=False, default=None, repr=False)

    def allocate(self, nbytes: int, what: str = "the program's values") -> None:
        """Count ``nbytes`` more taken by the run's triples, or raise :class:`ChunkTooLarge`.

        The count only grows (triples keep no destructor: a Ctrl-C inside one would be
        swallowed); when it passes the budget, the bytes of the triples still alive are
        counted afresh, and only if those and ``nbytes`` pass it too is the run too large.
        A single sample needing more than the budget is a ``ValueError`` naming ``what``.
        """
        _SwallowedInterrupt.raise_pending()
        if self.live_bytes + nbytes > MEMORY_BUDGET:
            per_lane = nbytes / self.n_lanes
            if per_lane > MEMORY_BUDGET:
                raise ValueError(
                    f"{what} needs {per_lane / 2 ** 30:.3g} GiB for one sample, more than "
                    f"stochad's memory budget of {MEMORY_BUDGET / 2 ** 30:g} GiB; is the "
                    "size absurd?")
            self.live_bytes = self._held_bytes()
            if self.live_bytes + nbytes > MEMORY_BUDGET:
                raise ChunkTooLarge(f"{what}: {self.n_lanes} lanes outgrow the memory budget")
        self.live_bytes += nbytes

    def reserve(self, nbytes: int, what: str) -> None:
        """Check that ``nbytes`` more would fit, before allocating them (see :meth:`allocate`)."""
        self.allocate(nbytes, what)
        self.live_bytes -= nbytes

    def _held_bytes(self) -> int:
        """The bytes of the live objects that refer to this run and say what they hold (its
        triples); a scan of the heap, done only when the running count passes the budget."""
        return sum(getattr(o, "_bytes", 0) for o in gc.get_referrers(self))

    def __enter__(self) -> Run:
        _SwallowedInterrupt.install()
        self._token = _current_run.set(self)
        self._tape_token = _current_tape.set(None)  # a run nested in a replay run is its own
        return self

    def __exit__(self, *exc) -> None:
        _current_tape.reset(self._tape_token)
        _current_run.reset(self._token)
        self._token = None
        _SwallowedInterrupt.raise_pending()
