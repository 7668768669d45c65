"""Record a program, run it compiled, or say why not (the operator engine then runs).

:func:`samples` is what the estimators call for a batched run of the pruned backend. When the
program cannot be recorded, or meets an invalid parameter, it returns ``None`` and logs the
reason on the ``stochad.compiled`` logger at DEBUG level; with the environment variable
``STOCHAD_DEBUG_COMPILE=1`` the reason is also printed to stderr.

The compiled engine draws a different random stream for a seed than the operator engine (one
counter-based stream per lane, :mod:`stochad.compiled.streams`), so the same seed gives other
samples than ``compile=False`` -- equally distributed, and the same whatever the block size and
with the JIT on or off.
"""

from __future__ import annotations

import logging
import os
import sys

import numpy as np

from . import interpreter
from .hook import Unrecordable
from .program import Program, build
from .trace import record

BLOCK = 512
"""Most lanes per block: the rows an instruction reads and writes (up to nine, 4 KiB each) stay
in the L1 cache, and the dispatch of an instruction (about 20 ns) is spread over enough lanes."""
CACHE_BYTES = 1 << 19
"""A block's rows (value, dual part and jump per slot, and a few more: see
:func:`stochad.compiled.interpreter.rows`) fit in this many bytes, so a program with many live
values runs on smaller blocks."""

logger = logging.getLogger("stochad.compiled")


def compile_program(f, shape: tuple[int, ...]) -> Program:
    """Record ``f`` on a parameter of logical ``shape`` into an instruction table.

    Raises :class:`~stochad.compiled.trace.Unrecordable` with the reason when it cannot.

    Examples
    --------
    >>> import stochad as sad
    >>> program = compile_program(lambda p: sad.bernoulli(p) * 2.0, ())
    >>> program.n_instructions, program.n_draws
    (3, 1)
    """
    try:
        rec, result = record(f, shape)
    except Unrecordable:
        raise
    except Exception as error:  # the operator engine will raise it, with its own message
        raise Unrecordable(f"recording raised {type(error).__name__}: {error}") from error
    return build(rec, result)


def why_not(f, shape: tuple[int, ...] = ()) -> str | None:
    """Why ``f`` cannot be compiled (``None`` if it can).

    Examples
    --------
    >>> import stochad as sad
    >>> why_not(lambda p: sad.poisson(p) if sad.poisson(p) > 1 else 0.0)
    'bool() of a value (a Python branch on a random value)'
    >>> why_not(lambda p: sad.poisson(p) ** 2) is None
    True
    """
    try:
        compile_program(f, shape)
    except Unrecordable as reason:
        return str(reason)
    return None


def _fall_back(reason: str) -> None:
    logger.debug("compiled engine not used: %s", reason)
    if os.environ.get("STOCHAD_DEBUG_COMPILE") == "1":
        print(f"stochad: compiled engine not used: {reason}", file=sys.stderr)


def run_program(program: Program, p: np.ndarray, d: np.ndarray, n_samples: int, seed: int,
                block: int | None = None, scores: bool = False):
    """Derivative samples ``(n_samples, *out_shape)`` of ``program`` at ``p`` along ``d``, or
    the index of the instruction that met an invalid parameter.

    With ``scores``, a tuple ``(samples, value, delta, score)`` instead: also the result's
    value and dual part per lane (the samples' shape) and the lane's score ``(n_samples,)``
    (:mod:`stochad.compiled.interpreter`). ``block`` (default: as many lanes as fit
    :data:`CACHE_BYTES`, at most :data:`BLOCK`) changes the speed, never the samples.
    """
    if block is None:
        block = min(BLOCK, max(8, CACHE_BYTES // (8 * interpreter.rows(program.n_slots))))
    n_out = program.outputs.shape[0]
    out = np.empty((n_samples, n_out))
    extra = np.empty((n_samples if scores else 0, 2 * n_out + 1))
    with np.errstate(over="ignore"):  # the streams' wrapping products, without the JIT
        status = interpreter.run(
            program.code, program.consts,
            np.ascontiguousarray(p, dtype=np.float64).reshape(-1),
            np.ascontiguousarray(d, dtype=np.float64).reshape(-1),
            program.n_slots, program.outputs, program.live, np.uint64(seed), 0, int(block),
            out, extra)
    if status >= 0:
        return int(status)
    shape = (n_samples,) + program.out_shape
    if not scores:
        return out.reshape(shape)
    return (out.reshape(shape), extra[:, :n_out].reshape(shape),
            extra[:, n_out:2 * n_out].reshape(shape), extra[:, -1].copy())


def _program(f, p: np.ndarray, programs: dict) -> Program | str:
    """``f``'s recording on ``p``'s shape, or the reason there is none, kept in ``programs``."""
    program = programs.get(np.shape(p))
    if program is None:
        try:
            program = compile_program(f, np.shape(p))
        except Unrecordable as reason:
            program = str(reason)
        programs[np.shape(p)] = program
    return program


def _run(f, p, d, n_samples, generator, block, programs, scores):
    program = _program(f, p, {} if programs is None else programs)
    if isinstance(program, str):
        _fall_back(program)
        return None
    state = generator.bit_generator.state
    seed = int(generator.integers(2**63))
    result = run_program(program, p, d, n_samples, seed, block, scores)
    if isinstance(result, int):
        _fall_back(f"instruction {result} met an invalid parameter")
        generator.bit_generator.state = state  # the operator engine draws as without it
        return None
    return result


def samples(f, p: np.ndarray, d: np.ndarray, n_samples: int, generator: np.random.Generator,
            block: int | None = None, programs: dict | None = None) -> np.ndarray | None:
    """Derivative samples of ``f`` at ``p`` along ``d`` by the compiled engine, or ``None``
    (with the reason logged) when it cannot run ``f``.

    One 63-bit seed is drawn from ``generator``; the lanes' streams follow from it. When it
    returns ``None`` the generator is as it was, so the operator engine then draws what it
    draws with ``compile=False``. ``programs`` (a dict the tasks of one estimator call share)
    keeps the recording, or the reason there is none, so that ``f`` is recorded once per call
    rather than once per chunk.

    Examples
    --------
    >>> import numpy as np, stochad as sad
    >>> s = samples(lambda p: 7 * sad.bernoulli(p) - 3, np.array(0.3), np.array(1.0), 1000,
    ...             np.random.default_rng(0))
    >>> sorted(set(s.round(12).tolist()))     # 0, or 7 jumps of weight 1/(1 - 0.3)
    [0.0, 10.0]
    """
    return _run(f, p, d, n_samples, generator, block, programs, False)


def scored_samples(f, p: np.ndarray, d: np.ndarray, n_samples: int,
                   generator: np.random.Generator, block: int | None = None,
                   programs: dict | None = None) -> tuple | None:
    """As :func:`samples`, but a tuple ``(samples, value, delta, score)`` per lane: the
    triple's derivative samples, the result's value and dual part, and the score of the
    lane's discrete draws (the combined estimator's inputs, :mod:`stochad.combined`); the
    same samples as :func:`samples` from the same generator.

    Examples
    --------
    A Bernoulli(p) draw's score is ``1/p`` where it is 1 and ``-1/(1 - p)`` where it is 0:

    >>> import numpy as np, stochad as sad
    >>> t, value, delta, score = scored_samples(lambda p: sad.bernoulli(p), np.array(0.25),
    ...                                         np.array(1.0), 1000, np.random.default_rng(0))
    >>> sorted(set(zip(value.tolist(), score.tolist())))
    [(0.0, -1.3333333333333333), (1.0, 4.0)]
    """
    return _run(f, p, d, n_samples, generator, block, programs, True)
