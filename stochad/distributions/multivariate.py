"""Laws with a core axis (the categories): categorical."""

from __future__ import annotations

import numpy as np

from .. import kernels
from .base import check
from .discrete import DiscreteDistribution

__all__ = ["Categorical"]


class Categorical(DiscreteDistribution):
    """Index of a category, 0-based, with probabilities along the last axis of ``probs``."""

    name, params, numpy_method = "categorical", ("probs",), None
    core_ndim = 1

    def validate(self, params, where=""):
        probs = np.asarray(params[0])
        if probs.ndim == 0 or probs.shape[-1] == 0:
            raise ValueError(f"categorical: probs must have at least one category{where}")
        check(self.name, "probabilities must be finite and >= 0", probs,
               lambda v: np.isfinite(v) & (v >= 0), where)
        total = probs.sum(axis=-1)
        tolerance = np.sqrt(np.finfo(float).eps) * max(1, probs.shape[-1])
        check(self.name, "probabilities must sum to 1", total,
               lambda t: np.abs(t - 1) <= tolerance, where)

    @staticmethod
    def _invert(u, probs):
        cdf = np.cumsum(probs, axis=-1)
        return np.sum(cdf[..., :-1] <= u[..., None], axis=-1, dtype=np.int64)

    def sample(self, rng, params, shape):
        u = rng.random(shape[:-1])
        return self._invert(u, params[0]), u

    def new_perturbation(self, rng, k, params, deltas):
        (probs,), (dprobs,) = params, deltas
        n_cat = probs.shape[-1]
        cdf = np.cumsum(probs, axis=-1).reshape(-1, n_cat)
        dcdf = np.cumsum(np.broadcast_to(dprobs, probs.shape), axis=-1).reshape(-1, n_cat)
        uniforms = rng.random(k.size)
        jump, weight = kernels.categorical_perturbation(
            np.ascontiguousarray(cdf), np.ascontiguousarray(dcdf), k.reshape(-1), uniforms
        )
        return jump.reshape(k.shape), weight.reshape(k.shape)

    def alternative(self, rng, k, state, params, alt_params, jumps):
        return self._invert(state, alt_params[0])

    def score(self, k, values, deltas):
        (probs,), (dprobs,) = values, deltas
        if dprobs is None:
            return np.zeros(k.shape)
        pick = k[..., None]
        return (np.take_along_axis(np.broadcast_to(dprobs, probs.shape), pick, -1)[..., 0]
                / np.take_along_axis(probs, pick, -1)[..., 0])

