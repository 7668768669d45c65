"""The instruction table of a recording: nodes become rows over a few reusable slots.

Every node writes one *slot* (a row of per-lane value, dual part, jump and generation in the
interpreter's block). A slot is reused as soon as the last node reading its value has run, so
the walk's 100 steps need a handful of slots, and a block of lanes stays in cache whatever the
length of the program. Flags per row say which operands may carry a dual part or a jump (known
when recording), so the interpreter touches only those arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from . import ops as O
from .trace import Recorder, Traced


@dataclass(frozen=True)
class Program:
    """A recorded program ready for :func:`stochad.compiled.interpreter.run`.

    Attributes
    ----------
    code : ndarray of int64, shape (n_instructions, ops.WIDTH)
        The instruction table (see :mod:`stochad.compiled.ops`).
    consts : ndarray of float64
        The constant table (operand ``-1 - i`` is ``consts[i]``).
    n_slots : int
        Slots a block needs.
    outputs : ndarray of int64, shape (n_outputs, 3)
        Per output element: its operand, may-carry-dual, may-carry-jump.
    out_shape : tuple
        The logical shape of ``f``'s result.
    n_draws : int
        Draw instructions (each has its own counter range in the random streams).
    live : ndarray of int64
        The slots each discrete draw's ``(live, n_live)`` columns point to: those holding a
        value that is read at the draw or later, or is a result. A lane whose jumps in these
        slots are all 0 has a dead event (its alternative world has rejoined the primal one),
        which a new perturbation then replaces outright.
    """

    code: np.ndarray
    consts: np.ndarray
    n_slots: int
    outputs: np.ndarray
    out_shape: tuple[int, ...]
    n_draws: int
    live: np.ndarray

    @property
    def n_instructions(self) -> int:
        return self.code.shape[0]


def _flags(rec: Recorder, node) -> int:
    flags = 0
    for i, code in enumerate(node.args):
        flags |= (O.A_DUAL << 2 * i) if rec.dual(code) else 0
        flags |= (O.A_JUMP << 2 * i) if rec.jump(code) else 0
    return flags | (O.OUT_DUAL if node.dual else 0) | (O.OUT_JUMP if node.jump else 0)


DISCONTINUOUS = O.PIECEWISE_CONSTANT | {O.MOD, O.CHECK}
"""Operations whose result can change when an operand moves by one rounding error."""


def _exact_chains(nodes, exact: dict, flat_out):
    """``(nodes, flat_out)`` with every affine row whose value may reach a discontinuous
    operation (a comparison, floor, a check...) through continuous ones replaced by the chain
    the user wrote (``exact``): ``n·(−0.005) + 0.995`` and ``1 − (n + 1)/200`` can differ in
    the last bit, which a comparison or a floor can turn into a different value (``(k + 1)/3``
    composed as ``k/3 + 1/3`` is below 1 at ``k = 2``). A draw's parameter or the result may
    take the composed row: an ulp moves a draw only when its uniform falls within it."""
    consumers = [[] for _ in nodes]
    for j, node in enumerate(nodes):
        for a in node.args:
            if a >= 0:
                consumers[a].append(j)
    reaches = [False] * len(nodes)  # may reach a discontinuous operation
    for i in range(len(nodes) - 1, -1, -1):
        reaches[i] = any(nodes[j].op in DISCONTINUOUS
                         or (nodes[j].op < O.FIRST_SOURCE and reaches[j])
                         for j in consumers[i])
    swap = {i: chain for i, chain in exact.items() if reaches[i]}
    if not swap:
        return nodes, flat_out
    nodes = [replace(node, args=tuple(swap.get(a, a) for a in node.args))
             if any(a in swap for a in node.args) else node for node in nodes]
    return nodes, np.array([swap.get(c, c) for c in flat_out.tolist()], dtype=np.int64)


def _fused_draws(nodes, needed, flat_out) -> dict:
    """The Bernoulli draws whose only use is the sum recorded right after them (``n = n +
    bernoulli(q)``): the interpreter runs each with its sum, in one loop
    (:data:`stochad.compiled.ops.ACCUMULATE`). Keys: the draws' nodes."""
    uses = [0] * len(nodes)
    for i, node in enumerate(nodes):
        if needed[i]:
            for a in node.args:
                if a >= 0:
                    uses[a] += 1
    for code in flat_out.tolist():
        if code >= 0:
            uses[code] += 2  # a result keeps its own row
    return {i: None for i, node in enumerate(nodes[:-1])
            if needed[i] and node.op == O.BERNOULLI and uses[i] == 1
            and nodes[i + 1].op == O.ADD and needed[i + 1] and i in nodes[i + 1].args}


def build(rec: Recorder, result) -> Program:
    """The table of ``rec``'s nodes that ``result`` (a :class:`Traced` or a constant) needs.

    Nodes the result does not depend on are dropped, draws too (their events would only
    compete with the ones that matter, adding variance), but not the checks of continuous
    laws' parameters, which stop a run with an invalid one.

    Examples
    --------
    >>> from stochad.compiled.trace import record
    >>> rec, out = record(lambda p: p * p + 1.0, ())
    >>> program = build(rec, out)
    >>> program.n_instructions, program.n_slots
    (3, 2)
    """
    out_codes = rec.codes(result) if isinstance(result, Traced) else np.asarray(
        rec.codes(result))
    out_shape = out_codes.shape
    flat_out = out_codes.reshape(-1)
    nodes, flat_out = _exact_chains(rec.nodes, rec.exact, flat_out)
    # plain lists, not arrays: a recording has thousands of nodes, read one at a time
    needed = [False] * len(nodes)
    for code in flat_out.tolist():
        if code >= 0:
            needed[code] = True
    for i in range(len(nodes) - 1, -1, -1):
        if nodes[i].op == O.CHECK:
            needed[i] = True
        if needed[i]:
            for a in nodes[i].args:
                if a >= 0:
                    needed[a] = True
    last_use = [-1] * len(nodes)  # by the nodes that run
    for i, node in enumerate(nodes):
        if needed[i]:
            for a in node.args:
                if a >= 0:
                    last_use[a] = i
    for code in flat_out.tolist():
        if code >= 0:
            last_use[code] = len(nodes)  # outputs live to the end

    fused = _fused_draws(nodes, needed, flat_out)
    slot_of = [-1] * len(nodes)
    free: list[int] = []
    n_slots = 0
    rows = []
    live: list[int] = []
    holding: dict[int, int] = {}  # slot -> the node whose value it holds, while it is read
    for i, node in enumerate(nodes):
        if not needed[i]:
            continue
        start = len(live)
        if O.BERNOULLI <= node.op <= O.GEOMETRIC:
            live += sorted(slot for slot, j in holding.items() if last_use[j] >= i)
            if i in fused:  # emitted with the sum that follows it
                fused[i] = (start, len(live) - start)
                continue
        draw = i - 1 if i - 1 in fused else -1
        # the output never shares an operand's slot (the interpreter writes it while it still
        # reads the operands); operands read for the last time free theirs afterwards
        if free:
            slot = free.pop()
        else:
            slot, n_slots = n_slots, n_slots + 1
        slot_of[i] = slot
        if draw < 0:
            row = [node.op, *[slot_of[a] if a >= 0 else int(a) for a in node.args]]
            row = [node.op, slot, *row[1:], *[0] * (3 - len(node.args)), _flags(rec, node),
                   node.aux, start, len(live) - start]
        else:  # n = n + bernoulli(q), in one row: the draw's parameter, then the term
            term = node.args[1] if node.args[0] == draw else node.args[0]
            flags = (_flags(rec, nodes[draw]) & (O.A_DUAL | O.A_JUMP)
                     | (O.C_DUAL if rec.dual(term) else 0) | (O.C_JUMP if rec.jump(term) else 0)
                     | _flags(rec, node) & (O.OUT_DUAL | O.OUT_JUMP) | O.ACCUMULATE)
            parameter = nodes[draw].args[0]
            row = [O.BERNOULLI, slot, slot_of[parameter] if parameter >= 0 else int(parameter),
                   0, slot_of[term] if term >= 0 else int(term), flags, nodes[draw].aux,
                   *fused[draw]]
        for j in (i, draw) if draw >= 0 else (i,):
            for a in set(nodes[j].args):
                if a >= 0 and last_use[a] == j and a != draw:
                    free.append(slot_of[a])
                    holding.pop(slot_of[a], None)
        if last_use[i] < 0:  # never read (a check): free at once
            free.append(slot)
        else:
            holding[slot] = i
        rows.append(row)
    code = np.array(rows, dtype=np.int64).reshape(-1, O.WIDTH)
    outputs = np.array([[slot_of[c] if c >= 0 else c, rec.dual(c), rec.jump(c)]
                        for c in flat_out], dtype=np.int64).reshape(-1, 3)
    return Program(code, np.array(rec.consts, dtype=np.float64), max(n_slots, 1), outputs,
                   out_shape, rec.n_draws, np.array(live + [0], dtype=np.int64))
