"""The replay engine (vectorize=False) on every discrete law, on permutations and on
multivariate counts: programs that branch on such draws, differentiated one sample per call.

Every expected value is independent of stochad: closed forms, or exact dynamic programming /
enumeration over scipy's or hand-written pmfs, differentiated by complex step (exact to
rounding) or, where a special function takes no complex argument, by a central difference
of the exact expectation with h = 1e-5 (error ~1e-10, far below any test's standard error).
"""

import functools
import itertools
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import assert_unbiased
from scipy import special, stats

import stochad as sad
from stochad.tapes import NotReplayable


def replayed(f, p, n=3_000, rng=7, **kw):
    return sad.derivative_samples(f, p, n_samples=n, rng=rng, vectorize=False, **kw)


def complex_step(expectation, p, h=1e-20):
    return expectation(complex(p, h)).imag / h


def central(expectation, p, h=1e-5):
    return (expectation(p + h) - expectation(p - h)) / (2 * h)


def nbinom_pmf(k, n, p):
    """numpy's negative binomial (failures before the n-th success), complex-step safe."""
    return np.exp(special.loggamma(k + n) - special.loggamma(n) - special.gammaln(k + 1)
                  + n * np.log(p) + k * np.log(1 - p))


# -- every DiscreteDistribution: numpy's other laws and a user's own ------------------------------
def test_negative_binomial_inventory_with_an_if_on_demand():
    """An (s, S) inventory: demand NB(3, p) a period, a stock-out costs 2 a unit and empties
    the shelf, a stock below 2 is refilled to 5 at cost 1. Exact: DP over the stock."""
    def inventory(p):
        rng = sad.Generator()
        x, cost = 5, 0.0
        for _ in range(10):
            d = rng.negative_binomial(3, p)
            if d > x:
                cost += 2.0 * (d - x)
                x = 0
            else:
                x -= d
            if x < 2:
                x, cost = 5, cost + 1.0
        return cost

    def expectation(p):
        demand = np.arange(400)
        q = nbinom_pmf(demand, 3.0, p)
        mean = 3 * (1 - p) / p
        stock, total = np.zeros(6, dtype=complex), 0
        stock[5] = 1
        for _ in range(10):
            after = np.zeros(6, dtype=complex)
            for x in range(6):
                short = mean - x + np.sum((x - demand[: x + 1]) * q[: x + 1])  # E[(d − x)+]
                left = np.zeros(6, dtype=complex)
                left[0] = 1 - np.sum(q[: x + 1])
                left[x - demand[: x + 1]] += q[: x + 1]
                total = total + stock[x] * (2 * short + np.sum(left[:2]))
                after[5] += stock[x] * np.sum(left[:2])
                after[2:] += stock[x] * left[2:]
            stock = after
        return total

    exact = complex_step(expectation, 0.5)
    assert_unbiased(replayed(inventory, 0.5, n=3_000), exact)
    assert_unbiased(replayed(inventory, 0.5, n=300, backend="exact"), exact)


def _threshold(k):
    """A non-linear function of a count, with a jump: the replay must follow the ``if``."""
    if k > 2:
        return 3.0
    return 0.5 * k


def _expected_threshold(pmf, top=2000):
    k = np.arange(top)
    return np.sum(np.where(k > 2, 3.0, 0.5 * k) * pmf(k))


@pytest.mark.parametrize("backend", ["pruned", "exact"])
@pytest.mark.parametrize(("label", "draw", "x", "exact"), [
    ("negative_binomial-p", lambda x: sad.Generator().negative_binomial(2.5, x), 0.4,
     lambda: complex_step(lambda p: _expected_threshold(lambda k: nbinom_pmf(k, 2.5, p)),
                          0.4)),
    ("negative_binomial-n", lambda x: sad.Generator().negative_binomial(x, 0.6), 1.5,
     lambda: complex_step(lambda n: _expected_threshold(lambda k: nbinom_pmf(k, n, 0.6)),
                          1.5)),
    ("zipf", lambda x: sad.Generator().zipf(x), 2.5,
     lambda: central(lambda a: _expected_threshold(
         lambda k: np.where(k >= 1, np.maximum(k, 1.0) ** -a / special.zeta(a), 0.0), 10),
         2.5)),
    ("logseries", lambda x: sad.Generator().logseries(x), 0.7,
     lambda: complex_step(lambda p: _expected_threshold(
         lambda k: np.where(k >= 1, p ** np.maximum(k, 1) / (np.maximum(k, 1)
                                                             * -np.log(1 - p)), 0.0), 300),
         0.7)),
], ids=lambda v: v if isinstance(v, str) else "")
def test_each_law_with_an_if(label, draw, x, exact, backend):
    assert_unbiased(replayed(lambda t: _threshold(draw(t)), x, n=3_000, backend=backend),
                    exact())


def test_hypergeometric_moved_by_an_earlier_draw():
    # the sample size is a binomial draw: the hypergeometric moves by inversion coupling
    def program(p):
        rng = sad.Generator()
        m = rng.binomial(6, p)
        return 1.0 if rng.hypergeometric(5, 4, m) >= 2 else 0.0

    def expectation(p):
        m = np.arange(7)
        pmf = special.comb(6, m) * p ** m * (1 - p) ** (6 - m)
        return np.sum(pmf * stats.hypergeom.sf(1, 9, 5, m))

    exact = complex_step(expectation, 0.3)
    assert_unbiased(replayed(program, 0.3), exact)
    assert_unbiased(replayed(program, 0.3, n=1_000, backend="exact"), exact)


class ZeroTruncatedPoisson(sad.DiscreteDistribution):
    """A user's law, known by its CDF only (the class docstring's example)."""

    name, params, support_min = "zero-truncated poisson", ("lam",), 1

    def cdf(self, k, lam):
        seen = -np.expm1(-lam)
        return np.clip((special.pdtr(k, lam) - np.exp(-lam)) / seen, 0, 1) * (k >= 1)


@pytest.mark.parametrize("backend", ["pruned", "exact"])
def test_a_users_discrete_distribution(backend):
    law = ZeroTruncatedPoisson()

    def expectation(lam):
        k = np.arange(1, 60)
        pmf = np.exp(k * np.log(lam) - lam - special.gammaln(k + 1)) / (1 - np.exp(-lam))
        return np.sum(np.where(k > 2, 3.0, 0.5 * k) * pmf)

    samples = replayed(lambda lam: _threshold(sad.draw(law, lam)), 2.0, backend=backend)
    assert_unbiased(samples, complex_step(expectation, 2.0))


def test_arrays_of_draws_element_by_element():
    # size= and array parameters: each element its own draw with its own candidates
    def program(p):
        rng = sad.Generator()
        k = rng.negative_binomial(3.0, p, size=4)
        m = rng.negative_binomial([2.0, 4.0], p)
        if np.sum(k > 2) >= 2:
            return 1.0 + m[1]
        return 1.0 * m[0]

    def expectation(p):
        q = 1 - np.sum(nbinom_pmf(np.arange(3), 3.0, p))
        two = 1 - (1 - q) ** 4 - 4 * q * (1 - q) ** 3
        return two * (1 + 4 * (1 - p) / p) + (1 - two) * 2 * (1 - p) / p

    exact = complex_step(expectation, 0.5)
    assert_unbiased(replayed(program, 0.5), exact)
    assert_unbiased(replayed(program, 0.5, n=500, backend="exact"), exact)


def test_bad_parameters_name_the_argument():
    def draw(make):
        return sad.derivative_samples(lambda t: make(sad.Generator(), t), 0.5, n_samples=2,
                                      rng=0, vectorize=False)

    with pytest.raises(ValueError, match="negative_binomial: n must be finite and > 0"):
        draw(lambda rng, t: rng.negative_binomial(-1.0, t))
    with pytest.raises(ValueError, match=r"negative_binomial: p must be in \(0, 1\]"):
        draw(lambda rng, t: rng.negative_binomial(3.0, t + 1.0))
    with pytest.raises(ValueError, match="zipf: a must be finite and > 1"):
        draw(lambda rng, t: rng.zipf(t))
    with pytest.raises(ValueError, match="nsample must be <= ngood"):
        draw(lambda rng, t: rng.hypergeometric(2, 2, 5) * t)
    with pytest.raises(ValueError, match="hypergeometric: ngood cannot carry a dual part"):
        draw(lambda rng, t: rng.hypergeometric(10 * t, 2, 2))
    with pytest.raises(ValueError, match="binomial: the number of trials n cannot carry"):
        draw(lambda rng, t: rng.binomial(10 * t, 0.5))


def test_a_replay_that_draws_with_other_parameters_before_the_flip_is_a_mismatch():
    calls = []

    def program(p):  # state that outlives a call: the replay's first draw has other parameters
        calls.append(None)
        rng = sad.Generator()
        k = rng.negative_binomial(2.0 + len(calls), 0.5)
        return k + sad.bernoulli(p)

    with pytest.raises(sad.replay.ReplayMismatchError, match="negative_binomial with "
                                                             "parameters"):
        replayed(program, 0.5, n=5)


# -- permutations -------------------------------------------------------------------------------
def _ring_infection(p, sweeps=2):
    """Random sequential updates on a ring of 4: a susceptible agent with an infected
    neighbour is infected with probability p when its turn comes."""
    rng = sad.Generator()
    x = [1, 0, 0, 0]
    for _ in range(sweeps):
        for i in rng.permutation(4):
            if x[i] == 0 and (x[i - 1] or x[(i + 1) % 4]) and rng.random() < p:
                x[i] = 1
    return float(sum(x))


def _ring_infection_expectation(p, sweeps=2):
    states = {(1, 0, 0, 0): 1.0}
    orders = list(itertools.permutations(range(4)))
    for _ in range(sweeps):
        after = {}
        for order in orders:
            dist = dict(states)
            for i in order:
                step = {}
                for s, w in dist.items():
                    if s[i] == 0 and (s[i - 1] or s[(i + 1) % 4]):
                        t = s[:i] + (1,) + s[i + 1:]
                        step[t] = step.get(t, 0) + w * p
                        step[s] = step.get(s, 0) + w * (1 - p)
                    else:
                        step[s] = step.get(s, 0) + w
                dist = step
            for s, w in dist.items():
                after[s] = after.get(s, 0) + w / len(orders)
        states = after
    return sum(w * sum(s) for s, w in states.items())


def test_the_replays_of_a_sample_permute_alike():
    seen = []

    def program(p):
        order = sad.Generator().permutation(6)
        seen.append((type(p) is float, tuple(order.tolist())))  # a replay runs on a float
        return sad.bernoulli(p) * order[0]

    replayed(program, 0.5, n=50)
    replays = [(tracking[1], run[1]) for tracking, run in zip(seen, seen[1:], strict=False)
               if run[0]]
    assert len(replays) > 10 and all(a == b for a, b in replays)
    assert len({order for _, order in seen}) > 1


def test_permuted_values_keep_their_dual_parts_exactly():
    def programs(p):
        rng = sad.Generator()
        a = np.sum(rng.permutation(p * np.arange(3.0)) ** 2)         # 5p²
        x = [p, 2 * p, 3.0]
        rng.shuffle(x)                                                 # a list of duals
        y = p * np.arange(4.0)
        rng.shuffle(y)                                                 # a dual array
        z = np.arange(6.0).reshape(2, 3)
        rng.shuffle(z, axis=1)                                         # plain, in place
        w = rng.permuted(p * np.arange(6.0).reshape(2, 3), axis=1)    # rows apart
        return (a + x[0] * x[1] * x[2] + np.sum(y * y) + z[1].sum() + w[1].sum()
                + np.sum(rng.permuted([p, p * p]) * 1.0))

    # 10p + 12p + 2p·14 + 0 + 12 + 1 + 2p at p = 2, every sample
    samples = replayed(programs, 2.0, n=20)
    np.testing.assert_allclose(samples, 20 + 24 + 56 + 12 + 1 + 4, rtol=1e-12)


def test_permutation_shapes_and_errors_follow_numpy():
    def program(p):
        rng = sad.Generator()
        assert sorted(rng.permutation(5).tolist()) == list(range(5))
        assert rng.permutation(np.zeros((2, 3)), axis=1).shape == (2, 3)
        assert rng.permutation(-1).tolist() == []
        assert rng.permuted(np.arange(6).reshape(2, 3)).shape == (2, 3)
        out = np.empty((2, 3))
        assert rng.permuted(np.arange(6.0).reshape(2, 3), axis=0, out=out) is out
        with pytest.raises(np.exceptions.AxisError):
            rng.permutation(2.5)
        with pytest.raises(NotImplementedError, match="axis"):
            rng.shuffle([1, 2], axis=1)
        return p

    assert np.all(replayed(program, 1.0, n=3) == 1.0)


def test_same_seed_same_numbers():
    a, b = (replayed(_ring_infection, 0.3, n=200, rng=3) for _ in range(2))
    np.testing.assert_array_equal(a, b)


# -- multinomial and multivariate hypergeometric -----------------------------------------------
def _epidemic(p):
    """A chain-multinomial epidemic: each generation a susceptible is infected with
    probability 1 − (1 − p)^I, vaccinated with probability 0.1; it stops when nobody is
    infected. Returns the number ever infected."""
    rng = sad.Generator()
    s, i, total = 6, 1, 0
    while True:
        q = 1 - (1 - p) ** i
        counts = rng.multinomial(s, [q, 0.1, 0.9 - q])
        if counts[0] == 0:
            break
        s, i, total = s - counts[0] - counts[1], counts[0], total + counts[0]
    return float(total)


def _epidemic_expectation(p):
    @functools.cache
    def ahead(s, i):
        q = 1 - (1 - p) ** i
        out = 0
        for a in range(1, s + 1):
            for b in range(s - a + 1):
                pmf = math.factorial(s) / (math.factorial(a) * math.factorial(b)
                                           * math.factorial(s - a - b))
                out += pmf * q ** a * 0.1 ** b * (0.9 - q) ** (s - a - b) * (a + ahead(
                    s - a - b, a))
        return out

    return ahead(6, 1)


@pytest.mark.parametrize("backend", ["pruned", "exact"])
@pytest.mark.parametrize(("program", "expectation", "p", "n_exact"), [
    (_ring_infection, _ring_infection_expectation, 0.3, 800),
    (_epidemic, _epidemic_expectation, 0.2, 600),
], ids=["agent-based model, random-order updates", "epidemic chain multinomial, break"])
def test_realistic_program(program, expectation, p, n_exact, backend):
    exact = complex_step(expectation, p)
    assert_unbiased(replayed(program, p, n=3_000 if backend == "pruned" else n_exact,
                             backend=backend), exact)


def test_multinomial_of_a_dual_array_and_shapes():
    def program(p):
        rng = sad.Generator()
        pvals = p * np.array([1.0, 1.0, -2.0]) + np.array([0.0, 0.0, 1.0])  # a dual array
        c = rng.multinomial(5, pvals)
        assert c.shape == (3,) and c.dtype == np.int64 and c.sum() == 5
        assert rng.multinomial(4, [0.5, 0.5], size=3).shape == (3, 2)
        assert rng.multinomial([4, 5], [[0.5, 0.5], [0.2, 0.8]]).shape == (2, 2)
        return c[0] * c[2]

    # E[c0·c2] = n(n − 1)·p0·p2 = 20·p(1 − 2p)
    exact = 20 * (1 - 4 * 0.2)
    assert_unbiased(replayed(program, 0.2), exact)
    assert_unbiased(replayed(program, 0.2, n=600, backend="exact"), exact)


def test_multivariate_hypergeometric_moved_by_an_earlier_draw():
    def program(p):
        rng = sad.Generator()
        m = rng.binomial(5, p)
        counts = rng.multivariate_hypergeometric([3, 4, 2], m)
        assert counts.shape == (3,) and counts.sum() == m
        if counts[0] >= 1:
            return 1.0 + counts[2]
        return 0.0

    def expectation(p):
        out = 0
        for m in range(6):
            pm = math.comb(5, m) * p ** m * (1 - p) ** (5 - m)
            for c in itertools.product(range(4), range(5), range(3)):
                if sum(c) == m and c[0] >= 1:
                    w = math.comb(3, c[0]) * math.comb(4, c[1]) * math.comb(2, c[2]) / math.comb(
                        9, m)
                    out += pm * w * (1 + c[2])
        return out

    exact = complex_step(expectation, 0.4)
    assert_unbiased(replayed(program, 0.4), exact)
    assert_unbiased(replayed(program, 0.4, n=800, backend="exact"), exact)


def test_multivariate_counts_bad_input_names_the_argument():
    def draw(make):
        return replayed(lambda t: make(sad.Generator(), t), 0.5, n=2)

    with pytest.raises(ValueError, match="multinomial: pvals must be finite and in"):
        draw(lambda rng, t: rng.multinomial(3, [-0.1, 1.1]) * t)
    with pytest.raises(ValueError, match=r"multinomial: the sum of pvals\[:-1\]"):
        draw(lambda rng, t: rng.multinomial(3, [0.6, 0.7, t]))
    with pytest.raises(ValueError, match="multinomial: pvals must have at least one"):
        draw(lambda rng, t: rng.multinomial(3, []) * t)
    with pytest.raises(ValueError, match="multinomial: n must be a non-negative integer"):
        draw(lambda rng, t: rng.multinomial(-1, [t, 1 - t]))
    with pytest.raises(ValueError, match="multivariate_hypergeometric: nsample must be"):
        draw(lambda rng, t: rng.multivariate_hypergeometric([3, 1], 5) * t)
    with pytest.raises(ValueError, match="multivariate_hypergeometric: colors must be"):
        draw(lambda rng, t: rng.multivariate_hypergeometric([3, -1], 1) * t)
    with pytest.raises(ValueError, match="multivariate_hypergeometric: colors and nsample"):
        draw(lambda rng, t: rng.multivariate_hypergeometric([3 * t, 1], 1))


def test_none_of_these_falls_back_to_one_lane_triples():
    # stochastic_triple(vectorize=False) lets NotReplayable through: none is raised here
    def program(t):
        rng = sad.Generator()
        k = rng.negative_binomial(2.0, t / 2) + rng.zipf(3.0) + rng.logseries(t / 2)
        k += rng.hypergeometric(3, 3, 2) + sad.draw(ZeroTruncatedPoisson(), t)
        k += rng.multinomial(3, [t / 2, 1 - t / 2])[0] + rng.permutation(3)[0]
        k += rng.multivariate_hypergeometric([2, 2], 2)[0] + rng.permuted([1, 2])[0]
        rng.shuffle([1, 2])
        return k * 1.0

    sad.stochastic_triple(program, 1.0, n_samples=5, rng=0, vectorize=False)
    with pytest.raises(NotReplayable, match="bytes"):
        sad.stochastic_triple(lambda t: sad.Generator().bytes(2) and t, 1.0, n_samples=2,
                              rng=0, vectorize=False)


# -- the same samples with the JIT off ------------------------------------------------------
def _jit_samples(seed):
    return np.concatenate([replayed(lambda t: _threshold(sad.Generator().negative_binomial(
        2.5, t)), 0.4, n=100, rng=seed), replayed(_epidemic, 0.2, n=100, rng=seed),
        replayed(_ring_infection, 0.3, n=100, rng=seed)])


def test_same_samples_without_the_jit():
    script = (f"import sys, json; sys.path.insert(0, {os.path.dirname(__file__)!r}); "
              "from test_replay_laws import _jit_samples; "
              "print(json.dumps(_jit_samples(11).tolist()))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, timeout=600, env=dict(os.environ, NUMBA_DISABLE_JIT="1"))
    np.testing.assert_array_equal(np.array(json.loads(out.stdout)), _jit_samples(11))


def test_negative_binomial_at_p_one_takes_the_one_sided_derivative():
    # at p = 1 the law is 0 with probability 1; d/dp E = d/dp n(1 - p)/p = -n from inside,
    # carried by the up-move from 0 with a negative weight (its neighbour has probability 0)
    for n in (1, 3):
        d = sad.derivative_samples(lambda p, n=n: 1.0 * sad.Generator().negative_binomial(n, p),
                                   1.0, n_samples=50, rng=0, vectorize=False)
        np.testing.assert_allclose(d, -n, rtol=1e-9)


def test_hypergeometric_messages_and_no_colours():
    with pytest.raises(ValueError, match=r"nsample must be <= ngood \+ nbad = 5.0, got 6.0"):
        sad.derivative_estimate(lambda p: sad.Generator().hypergeometric(2, 3, 6) * p, 1.0,
                                n_samples=2, rng=0, vectorize=False)
    d = sad.derivative_samples(
        lambda p: p * (1.0 + sad.Generator().multivariate_hypergeometric([], 0).sum()), 1.0,
        n_samples=3, rng=0, vectorize=False)
    np.testing.assert_array_equal(d, 1.0)
