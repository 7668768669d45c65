"""Backends: how the finite perturbations of a triple are stored and reconciled.

:class:`~stochad.backends.base.Backend` declares the contract; one module per backend:
``"pruned"`` (default, :mod:`~stochad.backends.pruned`), ``"exact"``
(:mod:`~stochad.backends.exact`), ``"kpaths"`` / ``"kpaths:K"`` (:mod:`~stochad.backends.kpaths`),
``"smoothed"`` (:mod:`~stochad.backends.smoothed`, biased),
and the inert ones of the score-function and finite-difference estimators
(:mod:`~stochad.backends.inert`). :data:`BACKENDS` lists those a user can choose.
"""

from __future__ import annotations

from .base import DEFAULT_CHUNK, Backend
from .exact import ExactBackend
from .inert import InertBackend, ScoreBackend
from .kpaths import KPathsBackend
from .pruned import PrunedBackend
from .smoothed import SmoothedBackend

__all__ = ["BACKENDS", "DEFAULT_CHUNK", "Backend", "ExactBackend", "InertBackend",
           "KPathsBackend", "PrunedBackend", "ScoreBackend", "SmoothedBackend", "backend_class",
           "make_backend"]

BACKENDS = {"pruned": PrunedBackend, "exact": ExactBackend, "smoothed": SmoothedBackend,
            "kpaths": KPathsBackend}


def backend_class(name: str) -> type[Backend]:
    """The backend class called ``name``.

    Examples
    --------
    >>> backend_class("exact").chunk_size
    8192
    >>> backend_class("kpaths:8").paths
    8
    >>> backend_class("fastest")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: unknown backend 'fastest'; choose one of ['exact', 'kpaths', 'kpaths:K', ...]
    """
    if isinstance(name, str) and name.startswith("kpaths:"):
        paths = name.removeprefix("kpaths:")
        if not (paths.isascii() and paths.isdigit()) or int(paths) < 1:
            raise ValueError(f"backend {name!r}: K of 'kpaths:K' must be a positive integer")
        return KPathsBackend.with_paths(int(paths))
    try:
        return BACKENDS[name]
    except KeyError:
        raise ValueError(
            f"unknown backend {name!r}; choose one of {sorted([*BACKENDS, 'kpaths:K'])}"
        ) from None


def make_backend(name: str, n_lanes: int = 1) -> Backend:
    """A backend called ``name`` for a run of ``n_lanes`` lanes.

    Examples
    --------
    >>> make_backend("exact").name
    'exact'
    """
    return backend_class(name)(n_lanes)
