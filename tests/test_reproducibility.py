"""One rng drives everything: same seed, same numbers; with numba's JIT on or off."""

import json
import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import stochad as sad


def _program(p):
    n = 0
    for i in range(1, 31):
        n = n + sad.bernoulli(p * (1 - (n + i) / 80))
    m = sad.binomial(sad.binomial(6, p), p) + sad.poisson(2 * sad.bernoulli(p) + p)
    c = sad.categorical([p / 2, p / 2, 1 - p])
    return (n + m) ** 2 + sad.take([1.0, 4.0, 2.0], c) + sad.geometric(0.5 + 0.3 * p)


def _samples(seed, **kw):
    return sad.derivative_samples(_program, 0.4, n_samples=300, rng=seed, **kw)


def test_same_seed_same_samples():
    np.testing.assert_array_equal(_samples(5), _samples(5))
    np.testing.assert_array_equal(_samples(np.random.SeedSequence(5)),
                                  _samples(np.random.default_rng(np.random.SeedSequence(5))))
    assert not np.array_equal(_samples(5), _samples(6))
    np.testing.assert_array_equal(_samples(sad.Generator(5)), _samples(5))


def test_chunking_is_reproducible_and_changes_only_the_stream():
    a = _samples(7, chunk_size=64)
    np.testing.assert_array_equal(a, _samples(7, chunk_size=64))
    assert a.shape == (300,)


def test_global_numpy_rng_is_untouched():
    state = np.random.get_state()[1].copy()  # noqa: NPY002 (checking the legacy global RNG)
    _samples(8)
    sad.bernoulli(0.5, size=3)
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # noqa: NPY002


def _new_paths_program(p):
    """Vector draws that make the table grow mid-call, one-pass sums along axes, the small
    Poisson window, binomial walks and couplings of dead events."""
    y = sad.bernoulli(p, size=3)
    x = sad.poisson(p * np.ones((2, 2)) + 3 * y[0])
    n = sad.binomial(20 + 10 * y[1], 0.3 + 0.2 * y[2])
    g = sad.geometric(0.3 + 0.4 * y[0])
    return np.sum(x.sum(axis=0) ** 2) + n * g + y.sum() ** 2


def _new_paths_samples(seed):
    return sad.derivative_samples(_new_paths_program, 0.4, n_samples=150, rng=seed)


@pytest.mark.parametrize("samples, seed", [("_samples", 9), ("_new_paths_samples", 17)])
def test_same_numbers_without_the_jit(samples, seed):
    script = textwrap.dedent(
        f"""
        import json, sys
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        from test_reproducibility import {samples}
        print(json.dumps({samples}({seed}).tolist()))
        """
    )
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                         text=True, check=True, timeout=600)
    np.testing.assert_array_equal(np.array(json.loads(out.stdout)), globals()[samples](seed))


def test_threads_keep_their_runs_apart():
    results = {}

    def work(seed):
        results[seed] = _samples(seed)

    threads = [threading.Thread(target=work, args=(s,)) for s in (10, 11)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    np.testing.assert_array_equal(results[10], _samples(10))
    np.testing.assert_array_equal(results[11], _samples(11))


def test_nested_runs_stay_apart():
    def outer(p):
        inner = sad.derivative_estimate(lambda q: sad.poisson(q), 2.0, n_samples=10, rng=1)
        return sad.bernoulli(p) * inner

    assert np.all(np.isin(sad.derivative_samples(outer, 0.5, n_samples=50, rng=2),
                          [0.0, 2.0]))
