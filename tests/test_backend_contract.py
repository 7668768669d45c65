"""The backend contract (issue 9): every backend is a Backend, a run holds only its generator,
lane count and backend, and the pruned backend owns its event table."""

import dataclasses

import numpy as np
import pytest

import stochad as sad
from stochad.backends import (
    BACKENDS,
    Backend,
    InertBackend,
    PrunedBackend,
    ScoreBackend,
    backend_class,
)
from stochad.context import Run, current_run


@pytest.mark.parametrize("cls", [*BACKENDS.values(), InertBackend, ScoreBackend])
def test_every_backend_is_a_backend_made_for_a_lane_count(cls):
    assert issubclass(cls, Backend)
    assert cls(3).n_lanes == 3
    assert cls.chunk_size >= 1


def test_a_run_holds_only_its_generator_lanes_backend_and_memory_count():
    fields = [f.name for f in dataclasses.fields(Run) if not f.name.startswith("_")]
    assert fields == ["rng", "n_lanes", "backend", "live_bytes"]


def test_the_pruned_backend_owns_the_event_table_of_its_run():
    seen = []

    def f(p):
        x = sad.bernoulli(p, size=5)
        seen.append(current_run().backend)
        return np.sum(x)

    sad.stochastic_triple(f, 0.5, n_samples=7, rng=0)
    (backend,) = seen
    assert isinstance(backend, PrunedBackend)
    assert backend.weights.shape[0] == 7 and np.count_nonzero(backend.weights) > 0


def test_backend_defaults_describe_a_backend_without_perturbations():
    backend = Backend(2)
    assert backend.attach(None, None, None, None) == (None, None)
    assert backend.stack(None, [None, None], (2, 2), 1) is None
    assert backend.pairs(None, None) == [] and backend.contribution(None, None) == 0.0
    with pytest.raises(NotImplementedError, match="creates no perturbations"):
        backend.propagate_paths(None, [None], (2,), None)
    assert not backend.one_path_per_sample and backend_class("pruned").one_path_per_sample
