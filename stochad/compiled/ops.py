"""Opcodes of the instruction table, and the numpy functions they stand for.

An instruction is one row ``(op, out, a, b, c, flags, aux, live, n_live)`` of int64: operands
``a, b, c`` are slots (``>= 0``) or constants (``-1 - index`` into the constant table);
``flags`` says which operands may carry a dual part or a jump (:data:`A_DUAL` ...), so the
interpreter reads only what can be there; ``aux`` is the draw's index (draws) or the
parameter's index (inputs); a discrete draw's ``live, n_live`` locate, in the program's list of
live slots, the slots whose jumps may still reach the result when it runs.
"""

from __future__ import annotations

import numpy as np

# one row of the table
OP, OUT, A, B, C, FLAGS, AUX, LIVE, N_LIVE = range(9)
WIDTH = 9

# flags: bit 2i is "operand i may carry a dual part", bit 2i+1 "may carry a jump"; the output's
# bits follow the three operands
A_DUAL, A_JUMP, B_DUAL, B_JUMP, C_DUAL, C_JUMP, OUT_DUAL, OUT_JUMP = (1 << i for i in range(8))
ACCUMULATE = 1 << 8
"""A Bernoulli draw fused with the sum that is its only use (``n = n + bernoulli(q)``): operand
``c`` is the other term, and the row writes the sum (its output flags are the sum's)."""

# -- elementwise, one argument
(NEG, ABS, EXP, LOG, SQRT, SQUARE, RECIP, LOG1P, EXPM1, SIN, COS, TANH, FLOOR, CEIL, SIGN,
 NOT, TRUNC) = range(1, 18)
# -- elementwise, two arguments
(ADD, SUB, MUL, DIV, POW, MIN, MAX, LT, LE, GT, GE, EQ, NE, AND, OR, XOR, FLOORDIV,
 MOD) = range(20, 38)
# -- three arguments
WHERE = 40
AFFINE = 41
"""``a·s + c``, ``s`` and ``c`` constants (operands ``b`` and ``c``): a chain of additions,
subtractions, products and divisions by constants, recorded as one row."""
# -- sources: a parameter, and draws
INPUT = 50
BERNOULLI, BINOMIAL, POISSON, GEOMETRIC = 51, 52, 53, 54
NOISE_UNIFORM, NOISE_NORMAL, NOISE_EXPONENTIAL = 55, 56, 57
CHECK = 58  # a continuous law's parameter: finite (aux 0), finite and >= 0 (aux 1)

FIRST_BINARY, FIRST_SOURCE = ADD, INPUT

UNARY = {
    np.negative: NEG, np.absolute: ABS, np.exp: EXP, np.log: LOG, np.sqrt: SQRT,
    np.square: SQUARE, np.reciprocal: RECIP, np.log1p: LOG1P, np.expm1: EXPM1, np.sin: SIN,
    np.cos: COS, np.tanh: TANH, np.floor: FLOOR, np.ceil: CEIL, np.sign: SIGN,
    np.logical_not: NOT, np.trunc: TRUNC,
}
BINARY = {
    np.add: ADD, np.subtract: SUB, np.multiply: MUL, np.true_divide: DIV, np.power: POW,
    np.minimum: MIN, np.maximum: MAX, np.less: LT, np.less_equal: LE, np.greater: GT,
    np.greater_equal: GE, np.equal: EQ, np.not_equal: NE, np.logical_and: AND,
    np.logical_or: OR, np.logical_xor: XOR, np.floor_divide: FLOORDIV, np.remainder: MOD,
}
BOOLEAN = {LT, LE, GT, GE, EQ, NE, AND, OR, XOR, NOT}
"""Operations whose output is a truth value (1.0 or 0.0)."""
PIECEWISE_CONSTANT = BOOLEAN | {FLOOR, CEIL, SIGN, TRUNC, FLOORDIV}
"""Operations with a zero dual part: only their jumps move."""
DISCRETE = {"bernoulli": BERNOULLI, "binomial": BINOMIAL, "poisson": POISSON,
            "geometric": GEOMETRIC}
