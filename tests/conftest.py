"""Shared helpers for the statistical tests, and the ``backend`` argument."""

import os
import subprocess
import sys

import numpy as np

import stochad as sad

UNBIASED_BACKENDS = ("pruned", "exact", "kpaths:2")
ALL_BACKENDS = (*UNBIASED_BACKENDS, "smoothed")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "all_backends: run the test on the smoothed backend too (it is biased for "
        "non-linear programs, so only tests of exact facts use it)")


def pytest_generate_tests(metafunc):
    """A test that takes ``backend`` runs once per unbiased backend ("pruned", "exact"), and
    once more on "smoothed" if marked ``all_backends`` (unless it parametrises ``backend``
    itself, jointly with other arguments)."""
    if "backend" not in metafunc.fixturenames:
        return
    for marker in metafunc.definition.iter_markers("parametrize"):
        names = marker.args[0]
        names = names if isinstance(names, list | tuple) else names.replace(" ", "").split(",")
        if "backend" in names:
            return
    every = metafunc.definition.get_closest_marker("all_backends") is not None
    metafunc.parametrize("backend", ALL_BACKENDS if every else UNBIASED_BACKENDS)


def assert_unbiased(samples, exact, z=5.0):
    """|mean - exact| < z standard errors (or exact agreement for zero-variance samples)."""
    samples = np.asarray(samples, dtype=float)
    mean = samples.mean(axis=0)
    stderr = samples.std(axis=0, ddof=1) / np.sqrt(samples.shape[0])
    gap = np.abs(mean - exact)
    ok = np.where(stderr > 0, gap < z * stderr, gap < 1e-9 * np.maximum(1, np.abs(exact)))
    assert np.all(ok), f"mean {mean} vs exact {exact}: gap {gap}, stderr {stderr}"


def central_difference(expectation, p, h=1e-5):
    """``d/dp`` of an *exactly* computed expectation by a central difference (error O(h²),
    about 1e-10 for the smooth enumerations of the tests)."""
    return (expectation(p + h) - expectation(p - h)) / (2 * h)


def samples_of(f, p, n=100_000, rng=1, **options):
    """``n`` derivative samples of ``f`` at ``p`` (the tests' usual sample size and seed)."""
    return sad.derivative_samples(f, p, n_samples=n, rng=rng, **options)


def check_unbiased(f, p, exact, n=100_000, **options):
    """``n`` derivative samples of ``f`` at ``p`` (seed 3) agree with ``exact`` to 5 stderr."""
    s = sad.derivative_samples(f, p, n_samples=n, rng=3, **options)
    stderr = s.std() / np.sqrt(n)
    assert abs(s.mean() - exact) <= 5 * stderr + 1e-12, (s.mean(), exact, stderr)


def primal_values(f, p=2.0, n=4, backend="pruned", rng=0):
    """The primal values of ``f``'s output triple over ``n`` lanes."""
    return sad.value(sad.stochastic_triple(f, p, n_samples=n, rng=rng, backend=backend))


def stdout_with_and_without_jit(script):
    """The standard output of ``python -c script`` with the JIT on and with it off
    (``NUMBA_DISABLE_JIT``), this worktree's stochad first on the path."""
    outputs = []
    for disable in ("0", "1"):
        env = dict(os.environ, NUMBA_DISABLE_JIT=disable, PYTHONPATH=os.getcwd())
        run = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                             text=True, check=True)
        outputs.append(run.stdout)
    return outputs
