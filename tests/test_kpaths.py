"""The K-paths backend (issue 14): up to K perturbations per element, reduced by VarOpt.

Unbiased for every K against exact values (conformance compositions, bench problems with
exact DP or closed forms); K = 1 has the pruned backend's distribution; the reduction kernel
is the same with the JIT on and off; K at least the number of live events is the exact backend.
"""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from conftest import assert_unbiased

import stochad as sad
from bench.problems import PROBLEMS
from stochad import kpath_kernels
from stochad.backends import backend_class

KS = (1, 2, 4)


def _reduce_inputs(seed, n_ch=6, m=40, n_lanes=8, n_events=10):
    rng = np.random.default_rng(seed)
    events = np.sort(rng.choice(n_events, size=(n_ch, m)), axis=0).astype(np.int64)
    events[rng.random((n_ch, m)) < 0.2] = kpath_kernels.NO_EVENT
    events = np.sort(events, axis=0)
    live = rng.random((n_ch, m)) < 0.8
    table = rng.exponential(size=(n_lanes, n_events)) * rng.choice([-1, 1], (n_lanes, n_events))
    table[rng.random(table.shape) < 0.1] = 0.0
    return events, live, table, m // n_lanes, rng.random(n_ch * m)


@pytest.mark.parametrize("k", KS)
def test_reduce_kernel_is_the_same_with_the_jit_off(k):
    events, live, table, per_lane, uniforms = _reduce_inputs(k)
    fast, slow = table.copy(), table.copy()
    keep_fast, used_fast = kpath_kernels.reduce_channels(events, live, fast, per_lane, k,
                                                         uniforms)
    keep_slow, used_slow = kpath_kernels.reduce_channels.py_func(events, live, slow, per_lane, k,
                                                                 uniforms)
    np.testing.assert_array_equal(keep_fast, keep_slow)
    np.testing.assert_array_equal(fast, slow)
    assert used_fast == used_slow
    assert (keep_fast.sum(axis=0) <= k).all()


def test_reduce_keeps_each_weight_in_expectation():
    """E[new weight] = old weight for each of K + 1 = 4 events, over many uniforms, and the
    survivors' weights are max(|w|, τ) with Σ min(1, |w|/τ) = K."""
    weights = np.array([0.1, 0.5, 2.0, 6.0])
    k, n = 3, 20_000
    u = np.random.default_rng(0).random(n)
    after = np.empty((n, 4))
    for i in range(n):
        table = weights[None].copy()
        kpath_kernels.reduce_channels(np.arange(4)[:, None], np.ones((4, 1), bool), table, 1,
                                      k, u[i:i + 1])
        after[i] = table[0]
    assert ((after != 0).sum(axis=1) == k).all()
    # 6 > 8.6/3 and 2 > 2.6/2 are kept for sure; 0.1 and 0.5 share one place: τ = 0.6
    np.testing.assert_allclose(np.unique(after[:, :2][after[:, :2] != 0]), [0.6])
    assert (after[:, 2:] == weights[2:]).all()
    assert_unbiased(after, weights)


def test_k_equal_one_has_the_pruned_distribution():
    """A sum of three Bernoullis: the frequencies of each single-sample value agree."""
    def f(p):
        return sad.bernoulli(p) + 2 * sad.bernoulli(p / 2) + 4 * sad.bernoulli(p / 4)

    n = 40_000
    got = {b: sad.derivative_samples(f, 0.4, n_samples=n, rng=5, backend=b)
           for b in ("pruned", "kpaths:1")}
    values = np.unique(np.concatenate(list(got.values())))
    assert len(values) < 20
    for v in values:
        a, b = ((got[k] == v).mean() for k in got)
        stderr = np.sqrt((a * (1 - a) + b * (1 - b)) / n)
        assert abs(a - b) < 5 * stderr + 1e-12, (v, a, b)


def test_many_paths_is_the_exact_backend():
    """With K above the number of live events nothing is dropped: the exact samples."""
    f = PROBLEMS["random-walk"].program
    a = sad.derivative_samples(f, 0.5, n_samples=300, rng=2, backend="kpaths:200")
    b = sad.derivative_samples(f, 0.5, n_samples=300, rng=2, backend="exact")
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("k", KS)
@pytest.mark.parametrize("name, n", [("random-walk", 2000), ("random-walk-exp", 2000),
                                     ("nested-binomial", 20_000), ("galton-watson", 20_000),
                                     ("lindley-queue", 4000), ("two-bernoullis", 20_000),
                                     ("mixed", 20_000)])
def test_bench_problems_are_unbiased(name, n, k):
    """Exact values by DP (walks, queue) or closed form (bench/exact_values.py)."""
    problem = PROBLEMS[name]
    samples = sad.derivative_samples(problem.program, problem.param, n_samples=n, rng=k,
                                     backend=f"kpaths:{k}")
    assert_unbiased(samples, problem.exact)


@pytest.mark.parametrize("k", KS)
def test_conformance_compositions(k):
    backend = f"kpaths:{k}"
    many = sad.derivative_samples(lambda p: sum(i * sad.bernoulli(p) for i in range(1, 101)),
                                  0.3, n_samples=4000, rng=k, backend=backend)
    assert_unbiased(many, 5050.0)
    table = sad.derivative_samples(
        lambda p: sad.take([3.5, 5.2, 8.4], sad.categorical([p / 2, p / 2, 1 - p])), 0.6,
        n_samples=40_000, rng=k, backend=backend)
    assert_unbiased(table, -4.05)
    vector = sad.derivative_samples(lambda p: np.sum(sad.poisson(p, size=6) ** 2), 3.0,
                                    n_samples=20_000, rng=k, backend=backend)
    assert_unbiased(vector, 6 * 7.0)


def test_variance_falls_with_k_on_a_branching_process():
    """Galton–Watson's per-sample sd: K = 4 well below K = 1, and close to exact."""
    f = PROBLEMS["galton-watson"].program
    sd = {b: sad.derivative_samples(f, 1.5, n_samples=20_000, rng=1, backend=b).std()
          for b in ("kpaths:1", "kpaths:4", "exact")}
    assert sd["kpaths:4"] < 0.8 * sd["kpaths:1"]
    assert sd["kpaths:4"] < 1.1 * sd["exact"]


@pytest.mark.parametrize("name", ["kpaths:0", "kpaths:x", "kpaths:-2"])
def test_a_bad_k_is_a_value_error(name):
    with pytest.raises(ValueError, match="positive integer"):
        backend_class(name)


def _jit_samples(seed):
    """K-paths and combined samples of a program with sums, draws of draws and vectors."""
    def f(p):
        x = sad.poisson(p, size=4)
        n = sad.binomial(10 + x[0], 0.3)
        return np.sum(x**2) + n * sad.bernoulli(p / 4) + sad.geometric(0.2 + p / 10)

    return np.concatenate([
        sad.derivative_samples(f, 1.5, n_samples=120, rng=seed, backend="kpaths:2"),
        sad.derivative_samples(f, 1.5, n_samples=120, rng=seed, estimator="combined",
                               backend="kpaths:3"),
    ])


def test_same_numbers_without_the_jit():
    script = textwrap.dedent(
        f"""
        import json, sys
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        from test_kpaths import _jit_samples
        print(json.dumps(_jit_samples(4).tolist()))
        """
    )
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                         text=True, check=True, timeout=600)
    np.testing.assert_array_equal(np.array(json.loads(out.stdout)), _jit_samples(4))
