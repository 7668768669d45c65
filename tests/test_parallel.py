"""workers=: the same seed gives bit-identical samples in this process, in a process pool, in
threads and on a Dask cluster; progress reports every chunk."""

import os
import pathlib
import subprocess
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from conftest import assert_unbiased

import stochad as sad


def walk(p):
    n = 0
    for i in range(1, 31):
        n = n + sad.bernoulli(p * (1 - (n + i) / 100))
    return n


def _samples(workers, **options):
    options = {"n_samples": 4_000, "rng": 11, "chunk_size": 1_000, **options}
    return sad.derivative_samples(walk, 0.5, workers=workers, **options)


def test_same_samples_whatever_the_number_of_processes():
    serial = _samples(None)
    np.testing.assert_array_equal(serial, _samples(1))
    np.testing.assert_array_equal(serial, _samples(2))


def test_same_samples_with_a_thread_pool_map():
    with ThreadPoolExecutor(2) as pool:
        np.testing.assert_array_equal(_samples(None), _samples(pool.map))


def test_a_lambda_runs_in_worker_processes():
    f = lambda p: 7 * sad.bernoulli(p) - 3  # noqa: E731 (a lambda on purpose)
    serial = sad.derivative_samples(f, 0.3, n_samples=3_000, rng=2, chunk_size=1_000)
    pooled = sad.derivative_samples(f, 0.3, n_samples=3_000, rng=2, chunk_size=1_000,
                                    workers=2)
    np.testing.assert_array_equal(serial, pooled)


def test_single_chunk_runs_keep_the_serial_numbers_of_the_seed():
    # one task uses the run's generator itself, as before workers= existed
    one = sad.derivative_samples(walk, 0.5, n_samples=500, rng=4)
    np.testing.assert_array_equal(one, sad.derivative_samples(walk, 0.5, n_samples=500,
                                                              rng=4, workers=2))


def digital_option(p):
    """A continuous draw against the moving strike: batched, its mass is lost, with a warning."""
    return (sad.Generator().exponential(1.0) < p) * 1.0


@pytest.mark.parametrize("workers", [2, "threads"])
def test_a_warning_in_a_worker_reaches_the_caller(workers):
    # the one guard behind every lossy pattern: a worker's warning came back nowhere, so a
    # lost derivative read as a confident 0 (an adversarial search, 2026-12-04)
    with ThreadPoolExecutor(2) as pool:
        with pytest.warns(sad.LostDerivativeWarning, match="less of a value"):
            sad.derivative_samples(digital_option, 0.5, n_samples=2_000, rng=0,
                                   chunk_size=500,
                                   workers=pool.map if workers == "threads" else workers)


def guarded_log(p):
    """Code that relies on the process's "error" filter: numpy's divide warning raised."""
    try:
        y = np.log(np.zeros(1))[0]
    except RuntimeWarning:
        y = 0.0
    return sad.poisson(p) * 1.0 + y


def test_workers_keep_the_callers_warning_filters():
    # recording a worker's warnings under an "always" filter turned the caller's "error"
    # filter off in the workers: the program took another branch there (a review, 2026-12-04)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", category=RuntimeWarning)
        serial = sad.derivative_samples(guarded_log, 0.5, n_samples=2_000, rng=0,
                                        chunk_size=500)
        pooled = sad.derivative_samples(guarded_log, 0.5, n_samples=2_000, rng=0,
                                        chunk_size=500, workers=2)
    np.testing.assert_array_equal(serial, pooled)


SCRIPT_WITH_ITS_OWN_WARNING = """
import warnings
import stochad as sad
from stochad import parallel
parallel._start_method = lambda: "forkserver"   # stochad's choice once jax is imported

class ModelWarning(UserWarning):
    pass

def f(p):
    warnings.warn("calibration data is old", ModelWarning, stacklevel=1)
    return sad.poisson(p) * 1.0

if __name__ == "__main__":
    sad.derivative_samples(f, 1.0, n_samples=1_000, rng=0, chunk_size=500, workers=2)
"""


def test_a_scripts_own_warning_class_comes_back_from_forkserver_workers(tmp_path):
    # a warning class defined in the user's script (__main__) could not be sent back from
    # forkserver or spawn workers: PicklingError, the whole call lost (a review)
    script = tmp_path / "model.py"
    script.write_text(SCRIPT_WITH_ITS_OWN_WARNING)
    root = str(pathlib.Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "ModelWarning: calibration data is old" in done.stderr


def test_parallel_estimates_are_unbiased():
    # d/dp E[(K + 1)²] = 15 for K ~ Binomial(3, p) at p = 0.5 (conformance table)
    f = lambda p: (sad.binomial(3, p) + 1) ** 2  # noqa: E731
    samples = sad.derivative_samples(f, 0.5, n_samples=40_000, rng=5, chunk_size=10_000,
                                     workers=2)
    assert_unbiased(samples, 15.0)


def test_dask_local_cluster_gives_the_same_samples():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        on_cluster = _samples(client.get_executor().map)
    np.testing.assert_array_equal(_samples(None), on_cluster)


def test_progress_callback_sees_every_chunk():
    seen = []
    sad.derivative_samples(walk, 0.5, n_samples=2_500, rng=0, chunk_size=1_000,
                           progress=lambda done, total: seen.append((done, total)))
    assert seen == [(834, 2_500), (1_667, 2_500), (2_500, 2_500)]


def test_progress_counts_every_direction_of_a_gradient():
    seen = []
    sad.derivative_estimate(lambda q: sad.poisson(q[0]) * q[1], [2.0, 3.0], n_samples=10,
                            rng=0, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (20, 20)


@pytest.mark.parametrize("bad", [0, -2, 2.5, "2", True])
def test_bad_workers_are_refused_naming_the_value(bad):
    with pytest.raises(ValueError, match=f"workers must be .* got {bad!r}"):
        sad.derivative_estimate(walk, 0.5, n_samples=10, workers=bad)


def test_bad_progress_is_refused_naming_the_value():
    with pytest.raises(TypeError, match="progress must be .* got 'yes'"):
        sad.derivative_estimate(walk, 0.5, n_samples=10, progress="yes")


def test_stochastic_gradient_takes_workers():
    f = lambda q: 7 * sad.bernoulli(q[0]) + q[1] ** 2  # noqa: E731
    serial = sad.stochastic_gradient(f, [0.3, 2.0], n_samples=2_000, rng=0)
    pooled = sad.stochastic_gradient(f, [0.3, 2.0], n_samples=2_000, rng=0, workers=2)
    np.testing.assert_array_equal(serial, pooled)
