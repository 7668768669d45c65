"""Counter-based uniforms: the ``n``-th number of a lane is a hash of (seed, lane, n).

A lane's key is SplitMix64's output for ``seed + lane·γ`` mixed once more, and its ``n``-th
uniform is SplitMix64's output at position ``n`` of the sequence seeded by that key. Nothing
is stored between draws: any number can be computed in any order, by any block of lanes, with
the same result, and the plain-Python meaning (``NUMBA_DISABLE_JIT=1``) gives the same bits
(run it under ``numpy.errstate(over="ignore")``: numpy warns on the wrapping products that
the hash relies on).
"""

from __future__ import annotations

import numpy as np

from .._jit import njit

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_UNIT = 1.0 / 9007199254740992.0  # 2**-53

DRAW_STRIDE = 4
"""Uniforms reserved per draw instruction: primal, prune, and two for noise (Box-Muller)."""


@njit(nested=True)
def mix(z):
    """SplitMix64's output function (Stafford's Mix13) of a uint64."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(nested=True)
def lane_key(seed, lane):
    """The key of global lane ``lane`` (an int) under ``seed`` (a uint64)."""
    return mix(mix(seed + np.uint64(lane) * GOLDEN) ^ seed)


@njit(nested=True)
def uniform(key, counter):
    """The uniform number ``counter`` (an int) of the lane with ``key``, in [0, 1)."""
    bits = mix(key + (np.uint64(counter) + np.uint64(1)) * GOLDEN)
    return np.float64(bits >> _S11) * _UNIT


@njit
def _uniforms(seed, lanes, counters, out):
    for i in range(out.size):
        out[i] = uniform(lane_key(seed, lanes[i]), counters[i])


def uniforms(seed: int, lanes, counters) -> np.ndarray:
    """``uniform(lane_key(seed, lane), counter)`` for every pair (a reference for tests).

    Examples
    --------
    >>> u = uniforms(7, [0, 1], [0, 0])
    >>> bool(((0 <= u) & (u < 1)).all() and u[0] != u[1])
    True
    """
    lanes = np.asarray(lanes, dtype=np.int64)
    out = np.empty(lanes.size)
    with np.errstate(over="ignore"):
        _uniforms(np.uint64(seed), lanes, np.asarray(counters, dtype=np.int64), out)
    return out
