"""Lane arrays: helpers on plain numpy arrays whose axis 0 is the lane (sample) axis.

The bottom layer of the package: it imports nothing from stochad, and every module that moves
lanes-first arrays around (triples, backends, draws) uses it.
"""

from __future__ import annotations

import numpy as np


def broadcast(array: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``np.broadcast_to``, skipped when the shape already matches (it costs microseconds,
    which add up in single-lane runs)."""
    return array if array.shape == shape else np.broadcast_to(array, shape)


def flat_rows(array: np.ndarray, shape: tuple[int, ...], dtype=None) -> np.ndarray:
    """``array`` broadcast to ``shape`` as a C-contiguous ``(shape[0], m)`` array, the layout
    the numba kernels take (lanes, or channels, first)."""
    return np.ascontiguousarray(broadcast(array, shape), dtype=dtype).reshape(shape[0], -1)


def lift(array: np.ndarray, ndim: int) -> np.ndarray:
    """Insert logical axes after the lane axis so ``array`` broadcasts against ``ndim`` axes."""
    missing = ndim - (array.ndim - 1)
    if missing <= 0:
        return array
    return array.reshape(array.shape[:1] + (1,) * missing + array.shape[1:])


def jump_of(alternative: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``alternative - out`` as float64 (booleans give the flip -1, 0 or +1)."""
    if out.dtype == bool:
        return alternative.astype(np.float64) - out.astype(np.float64)
    return np.subtract(alternative, out, dtype=np.float64)


def shifted(value: np.ndarray, jump: np.ndarray | None, cast: bool) -> np.ndarray:
    """The alternative-path value ``value + jump`` (kept in value's dtype when ``cast``)."""
    if jump is None:
        return value
    moved = value + jump
    if cast and value.dtype != moved.dtype:
        if value.dtype == bool:
            return moved > 0.5
        if np.issubdtype(value.dtype, np.integer):  # jumps of integers are whole numbers
            return np.rint(moved).astype(value.dtype)
        return moved.astype(value.dtype)  # float32 stays float32, without rounding
    return moved
