"""Shared helpers for the statistical tests."""

import numpy as np


def assert_unbiased(samples, exact, z=5.0):
    """|mean - exact| < z standard errors (or exact agreement for zero-variance samples)."""
    samples = np.asarray(samples, dtype=float)
    mean = samples.mean(axis=0)
    stderr = samples.std(axis=0, ddof=1) / np.sqrt(samples.shape[0])
    gap = np.abs(mean - exact)
    ok = np.where(stderr > 0, gap < z * stderr, gap < 1e-9 * np.maximum(1, np.abs(exact)))
    assert np.all(ok), f"mean {mean} vs exact {exact}: gap {gap}, stderr {stderr}"
