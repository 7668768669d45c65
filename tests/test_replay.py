"""The replay engine (vectorize=False, DESIGN §5): natural Python control flow, differentiated.

Every expected value is independent of stochad: closed forms, or exact dynamic programming /
enumeration differentiated by complex step.
"""

import copy
import functools
import math
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
from conftest import assert_unbiased
from scipy import stats
from test_conformance import DRAWS, F, _walk, _walk_by_dynamic_programming

import stochad as sad


def replayed(f, p, n=4_000, rng=5, **kw):
    return sad.derivative_samples(f, p, n_samples=n, rng=rng, vectorize=False, **kw)


def complex_step(expectation, p, h=1e-20):
    return expectation(complex(p, h)).imag / h


# -- conformance.md single draws, both directions (δ < 0: the left derivative) --------------
@pytest.mark.parametrize("direction", [1.0, -1.0])
@pytest.mark.parametrize(("label", "draw", "p", "exacts"), DRAWS, ids=[d[0] for d in DRAWS])
def test_conformance_draws_both_directions(label, draw, p, exacts, direction):
    for f, exact in zip(F.values(), exacts, strict=True):
        samples = replayed(lambda q, f=f: f(draw(q)), p, n=3_000, direction=direction)
        assert_unbiased(samples, direction * exact)


@pytest.mark.parametrize("backend", ["pruned", "exact"])
def test_random_walk(backend):
    _, exact = _walk_by_dynamic_programming(0.5)
    assert_unbiased(replayed(_walk, 0.5, n=3_000 if backend == "pruned" else 400,
                             backend=backend), exact)


# -- Python control flow on discrete draws ------------------------------------------------------
def test_for_loop_with_break_on_a_bernoulli():
    def run_length(p):  # successes before the first failure, at most 10 trials
        n = 0
        for _ in range(10):
            if sad.bernoulli(p) == 0:
                break
            n += 1
        return n

    exact = sum(k * 0.6 ** (k - 1) for k in range(1, 11))   # d/dp Σ_{k≤10} p^k
    assert_unbiased(replayed(run_length, 0.6), exact)


def test_if_on_a_binomial_with_early_return():
    def f(p):
        k = sad.binomial(5, p)
        if k >= 3:
            return k ** 2
        return -k

    def expectation(p):
        return sum(math.comb(5, k) * p**k * (1 - p) ** (5 - k) * (k**2 if k >= 3 else -k)
                   for k in range(6))

    assert_unbiased(replayed(f, 0.4), complex_step(expectation, 0.4))


def test_loop_with_break_and_a_set():
    """Up to four Poisson draws, stopping at the first 0; the distinct values are counted."""
    def f(lam):
        total, seen = 0, set()
        for _ in range(4):
            k = sad.poisson(lam)
            if k == 0:
                break
            total += k
            seen.add(k)
        return 10 * len(seen) + total

    def expectation(lam):
        pmf = [lam**k * np.exp(-lam) / math.factorial(k) for k in range(40)]

        @functools.cache
        def future(depth, seen):   # E[10·|seen at the end| + total still to come]
            if depth == 4:
                return 10 * len(seen)
            return pmf[0] * 10 * len(seen) + sum(
                pmf[k] * (k + future(depth + 1, seen | {k})) for k in range(1, 40))

        return future(0, frozenset())

    assert_unbiased(replayed(f, 1.5, n=3_000), complex_step(expectation, 1.5))


# -- rng.random() < p and continuous draws against moving thresholds --------------------------
def test_uniform_below_threshold_is_a_bernoulli():
    f = lambda p: 1.0 if sad.Generator().random() < p else 0.0  # noqa: E731
    assert_unbiased(replayed(f, 0.3), 1.0)
    # single-sample fact: 1/(1 − p) when the uniform is above p, else 0
    s = replayed(f, 0.3, n=200)
    assert set(np.round(s, 12)) <= {0.0, round(1 / 0.7, 12)}


def test_uniform_used_beyond_its_comparison():
    def f(p):
        u = sad.Generator().random()
        return u if u >= p else 0.0   # E = (1 − p²)/2

    assert_unbiased(replayed(f, 0.3), -0.3)

    def g(p):   # the noise read by a second comparison with a fixed threshold
        u = sad.Generator().random()
        return (u < p) + 2 * (u < 0.5)   # E = p + 1: derivative 1

    assert_unbiased(replayed(g, 0.45), 1.0)

    def h(p):   # the noise as another draw's parameter: E = p + 3·E[u] = p + 1.5
        u = sad.Generator().random()
        return float(u < p) + 3 * sad.bernoulli(u)

    assert_unbiased(replayed(h, 0.4), 1.0)


@pytest.mark.parametrize("backend", ["pruned", "exact"])
def test_elif_on_one_uniform_conditions_on_the_earlier_comparisons(backend):
    # the elif is reached knowing u >= the first threshold: its event's probability is
    # conditional on that (an unconditional weight gave 0.5 and 0.14 here)
    def fixed_first(p):   # E = (0.7 − p)·1 + p·2: derivative 1
        u = sad.Generator().random()
        if u < 0.3:
            return 0.0
        elif u < 1.0 - p:
            return 1.0
        return 2.0

    def moving_first(p):  # E = (1.2 − 2p)·1 + (p − 0.2)·5: derivative 3
        u = sad.Generator().random()
        if u < p:
            return 0.0
        elif u < 1.2 - p:
            return 1.0
        return 5.0

    assert_unbiased(replayed(fixed_first, 0.4, backend=backend), 1.0)
    assert_unbiased(replayed(moving_first, 0.4, backend=backend), 3.0)


def test_queue_with_random_below_p_and_nested_ifs():
    """A discrete-time queue: arrival with probability p, else a service with probability
    1/2 if the queue is not empty (the skipped draw keeps the others coupled)."""
    def f(p):
        rng = sad.Generator()
        q = 0
        for _ in range(20):
            if rng.random() < p:
                if q < 5:
                    q += 1
            elif q > 0 and rng.random() < 0.5:
                q -= 1
        return q

    def expectation(p):
        law = np.zeros(6, dtype=complex)
        law[0] = 1
        for _ in range(20):
            new = np.zeros(6, dtype=complex)
            for q in range(6):
                new[min(q + 1, 5)] += law[q] * p
                if q > 0:
                    new[q - 1] += law[q] * (1 - p) * 0.5
                    new[q] += law[q] * (1 - p) * 0.5
                else:
                    new[q] += law[q] * (1 - p)
            law = new
        return np.sum(law * np.arange(6))

    assert_unbiased(replayed(f, 0.4), complex_step(expectation, 0.4))


def test_thresholds_with_negative_coefficients_and_exponentials():
    def f(p):
        u = sad.Generator().random()
        return (1 - u) if -(2 * u) >= -2 * p else 0.5   # E = p − p²/2 + (1 − p)/2

    assert_unbiased(replayed(f, 0.3), 1 - 0.3 - 0.5)

    def g(mu):
        e = sad.Generator().exponential(2.0)
        return e if e < mu else mu                       # E[min(E, mu)] = 2(1 − e^{−mu/2})

    assert_unbiased(replayed(g, 1.0), math.exp(-0.5))


def test_normal_against_a_moving_threshold():
    def f(mu):
        x = sad.Generator().normal(mu, 2.0)
        return 1.0 if x > 1.0 else 0.0    # P = Φ((mu − 1)/2)

    density = math.exp(-0.5 * ((0.4 - 1.0) / 2) ** 2) / math.sqrt(2 * math.pi) / 2
    assert_unbiased(replayed(f, 0.4), density)


@pytest.mark.parametrize("backend", ["pruned", "exact"])
def test_gillespie_poisson_process_count(backend):
    T = 2.0

    def count(lam):
        rng = sad.Generator()
        t, n = 0.0, 0
        while True:
            t += rng.exponential(1 / lam)
            if t > T:
                break
            n += 1
        return n

    assert_unbiased(replayed(count, 1.5, n=2_000, backend=backend), T)   # E = λT


def test_gillespie_yule_process():
    """Pure birth at rate λn from one individual: E[N(T)] = e^{λT}; `while t < T` form."""
    T = 1.0

    def population(lam):
        rng = sad.Generator()
        t, n = 0.0, 1
        while t < T:
            t = t + rng.exponential(1 / (lam * n))
            if t < T:
                n += 1
        return n

    assert_unbiased(replayed(population, 0.8), T * math.exp(0.8 * T))


# -- categorical and choice ---------------------------------------------------------------------
def test_choice_with_random_probabilities_and_branches():
    def f(q):
        rng = sad.Generator()
        total = 0
        for _ in range(3):
            c = rng.choice(3, p=[q, (1 - q) / 2, (1 - q) / 2])
            if c == 0:
                total += 2
            elif c == 1:
                total -= 1
        return total

    assert_unbiased(replayed(f, 0.3), 3 * (2 + 0.5))   # E = 3(2q − (1 − q)/2)
    g = lambda q: sad.Generator().choice([3.5, 5.2, 8.4], p=[q / 2, q / 2, 1 - q])  # noqa: E731
    assert_unbiased(replayed(g, 0.4), -4.05)


# -- array parameters: gradients and direction= ---------------------------------------------------
def test_gradient_of_an_array_parameter():
    f = lambda p: 3 * sad.bernoulli(p[0]) + sad.poisson(p[1]) ** 2  # noqa: E731
    assert_unbiased(replayed(f, [0.3, 2.0]), [3.0, 5.0])       # d/dλ (λ + λ²) = 1 + 2λ
    g = lambda p: (sad.binomial(4, p) ** 2).sum()                 # noqa: E731
    p = np.array([0.2, 0.5, 0.7])
    assert_unbiased(replayed(g, p, n=3_000), 4 + 24 * p)       # E[K²] = 4p(1−p) + 16p²
    d = np.array([1.0, -2.0, 0.5])
    assert_unbiased(replayed(g, p, n=3_000, direction=d), np.dot(4 + 24 * p, d))


# -- exact single-sample facts ---------------------------------------------------------------------
@pytest.mark.parametrize("backend", ["pruned", "exact"])
def test_single_sample_facts(backend):
    assert np.all(replayed(sad.poisson, 3.0, n=300, backend=backend) == 1.0)
    s = replayed(sad.bernoulli, 0.3, n=300, backend=backend)
    assert set(s.tolist()) <= {0.0, 1 / 0.7}
    s = replayed(lambda p: sad.binomial(6, p), 0.3, n=300, backend=backend)
    assert set(np.round(s * 0.7, 9).tolist()) <= {float(m) for m in range(7)}


def test_deterministic_program_to_1e12():
    def f(p):
        y = p**3 + np.sin(p) * np.exp(p) - 2 / p + sad.log(p)
        return y if sad.poisson(2.0) > -1 else 0.0   # a branch on a draw that cannot move

    def exact(p):
        return 3 * p**2 + np.cos(p) * np.exp(p) + np.sin(p) * np.exp(p) + 2 / p**2 + 1 / p

    s = replayed(f, 1.3, n=5)
    assert np.all(np.abs(s - exact(1.3)) < 1e-12)


# -- reproducibility -------------------------------------------------------------------------------
_SCRIPT = """
import numpy as np, stochad as sad
def f(p):
    rng = sad.Generator()
    n = rng.poisson(40 * p)
    k = rng.binomial(n, 0.3) + sad.geometric(0.2)
    return k if rng.random() < p else -k
print(repr(sad.derivative_samples(f, 0.5, n_samples=50, rng=7, vectorize=False).tolist()))
"""


def test_same_seed_same_samples_with_and_without_jit():
    def run(disable):
        env = dict(os.environ, NUMBA_DISABLE_JIT="1" if disable else "0",
                   PYTHONPATH=os.getcwd())
        return subprocess.run([sys.executable, "-c", _SCRIPT], env=env, check=True,
                              capture_output=True, text=True).stdout

    assert run(False) == run(True)


def test_same_seed_same_samples():
    f = lambda p: sad.poisson(p) + sad.Generator().normal(p, 1.0)  # noqa: E731
    assert np.array_equal(replayed(f, 2.0, n=50, rng=3), replayed(f, 2.0, n=50, rng=3))


# -- what is outside the method is detected or warned about ---------------------------------------
def test_hidden_state_between_runs_raises():
    calls = [0]

    def f(p):
        calls[0] += 1
        first = sad.bernoulli(1.0 if calls[0] % 2 else 0.0)   # differs in the replay run
        return first + sad.bernoulli(p)

    with pytest.raises(RuntimeError, match="randomness that does not come through stochad"):
        replayed(f, 0.0, n=5)


def test_invalid_parameter_on_the_alternative_path():
    with pytest.raises(ValueError, match=r"got 1\.6 \(on the alternative path"):
        replayed(lambda p: sad.bernoulli(0.6 + sad.bernoulli(p)), 0.0, n=5)


def test_lost_derivative_warning_once_per_site():
    def f(p):
        k = sad.poisson(3.0)
        return 1.0 if p * k > 2.0 else 0.0   # a deterministic threshold in p: mass is lost

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        replayed(f, 0.5, n=50)
    lost = [w for w in caught if issubclass(w.category, sad.LostDerivativeWarning)]
    assert len(lost) == 1
    assert "sad.bernoulli" in str(lost[0].message)
    assert issubclass(sad.LostDerivativeWarning, RuntimeWarning)


def test_conversion_of_a_live_dual_number_names_the_fix():
    with pytest.raises(TypeError, match=r"lose its derivative.*np\.exp"):
        replayed(lambda p: math.exp(p), 0.5, n=1)
    # math.* on plain (drawn) values is fine
    assert_unbiased(replayed(lambda p: math.sqrt(sad.poisson(p) + 1), 3.0), 0.251471)


def test_a_deep_copied_snapshot_of_a_draw_is_the_draw():
    # a history of states kept with copy.deepcopy, the later test made on the snapshot:
    # P(1 <= T < 2) for T ~ Exp(lam), d/dlam = -e^(-lam) + 2e^(-2 lam); the copy cloned the
    # draw's record and its event was weighted as a draw of its own (0.161 for -0.046)

    def in_the_second_hour(lam):
        t = sad.Generator().exponential(1 / lam)
        history = [copy.deepcopy({"t": t}), copy.copy({"t": t})]
        if t < 1.0:
            return 0.0
        return float(history[0]["t"] < 2.0) + 0.0 * float(history[1]["t"] < 2.0)

    with warnings.catch_warnings():
        warnings.simplefilter("error", sad.LostDerivativeWarning)
        assert_unbiased(replayed(in_the_second_hour, 0.8, n=20_000),
                        -math.exp(-0.8) + 2 * math.exp(-1.6))


def test_infinite_sentinels_and_zero_coefficients_reveal_nothing():
    # an adjuster's claims against a moving deadline, the earliest kept as a running minimum
    # from math.inf: x < inf was taken as a tie with the deadline's event and dropped it
    # (-0.90 for -1.35, with a warning blaming equal thresholds); and a worker paid 1 an hour
    # up and 0 down, whose zero rate put the down time into the sum as its newest draw
    # (0 for 0.274, warned): 0·x is 0 whatever x is (an adversarial search, 2026-12-04)
    def late_claims(deadline):
        rng, best, late = sad.Generator(), math.inf, 0
        for _ in range(3):
            x = rng.exponential(1.0)
            if x > deadline:
                late += 1
            if x < best:
                best = x
        return float(late)

    def paid_over_one(scale):
        rng = sad.Generator()
        up, down = rng.exponential(scale), rng.exponential(0.5)
        return float(1.0 * up + 0.0 * down > 1.0)

    with warnings.catch_warnings():
        warnings.simplefilter("error", sad.LostDerivativeWarning)
        assert_unbiased(replayed(late_claims, 0.8, n=20_000), -3 * math.exp(-0.8))
        assert_unbiased(replayed(paid_over_one, 1.3, n=20_000),
                        math.exp(-1 / 1.3) / 1.3 ** 2)


def test_a_roulette_wheel_normalised_by_its_total_is_silent():
    # a chemist's reaction pick, acc += w[k] / total until u < acc: the last acc is 1 with a
    # dual part of rounding (1e-17), which warned of a threshold at the end of u's range
    def reaction(b):
        w = [b, 1.0, 2.0 * b]
        total = w[0] + w[1] + w[2]
        u, acc = sad.Generator().random(), 0.0
        for k in range(3):
            acc += w[k] / total
            if u < acc:
                return float(k)
        return 3.0

    with warnings.catch_warnings():
        warnings.simplefilter("error", sad.LostDerivativeWarning)
        assert_unbiased(replayed(reaction, 0.7, n=20_000), 1 / (1 + 3 * 0.7) ** 2)


def test_a_log_line_formats_the_values_of_a_run():
    # a modeller's progress line, f"{t:.2f}", inside the simulated loop: it failed with
    # "unsupported format string passed to Dual.__format__"
    lines = []

    def arrivals_before_two(lam):
        rng, t, n = sad.Generator(), 0.0, 0
        while True:
            t += rng.exponential(1 / lam)
            lines.append(f"t = {t:.2f}, lam = {lam:.1f}")
            if t > 2.0:
                return float(n)
            n += 1

    with warnings.catch_warnings():
        warnings.simplefilter("error", sad.LostDerivativeWarning)
        assert_unbiased(replayed(arrivals_before_two, 1.5), 2.0)  # d/dlam E N(2) = 2
    assert lines[0].startswith("t = ") and lines[0].endswith("lam = 1.5")


def test_a_draw_read_as_a_plain_number_then_compared_with_a_moving_value_warns():
    # a reliability engineer's textbook inversion sampler: the lifetime -log(U)/rate is a
    # plain float times a moving one, compared with the warranty; nothing marks it as the
    # draw's any more, and its share of the derivative was lost without a word (0 for
    # -w·e^(-rate·w)). Now the run remembers that a draw left as a plain number and warns
    warranty = 2.0
    inversion = [  # each loses the event; each must warn
        lambda rate: float(-math.log(sad.Generator().random()) / rate > warranty),
        lambda p: float(float(sad.Generator().random()) < p),
        lambda k: float(math.exp(0.2 * sad.Generator().standard_normal()) > k),
        lambda rate: float(np.array([sad.Generator().exponential()])[0] / rate > warranty),
    ]
    for f in inversion:
        with pytest.warns(sad.LostDerivativeWarning, match="read a continuous draw as a plain"):
            replayed(f, 0.5, n=20)

    def by_the_law(rate):  # the fix the warning names: draw the law itself
        return float(sad.Generator().exponential(1 / rate) > warranty)

    def counts_against_a_moving_threshold(s):  # a plain int is a count, not the draw
        return float(math.sqrt(sad.Generator().random()) < 0.5) \
            + float(sad.Generator().poisson(3.0) < 4 * s)

    with warnings.catch_warnings():
        warnings.simplefilter("error", sad.LostDerivativeWarning)
        assert_unbiased(replayed(by_the_law, 0.5), -warranty * math.exp(-0.5 * warranty))
        assert_unbiased(replayed(counts_against_a_moving_threshold, 0.8, n=200), 0.0)


# -- programs written for triples keep working ----------------------------------------------------
def test_triple_idioms_one_sample_per_call():
    def f(p):
        k = sad.poisson(p)
        x = sad.where(k > 2, 2.0 * k, 1.0 * k)
        y = sad.propagate(lambda j: j**2, k)
        table = sad.asarray([1.0, 4.0, 9.0, 16.0])
        return x + y + table[sad.bernoulli(0.5 + 0 * p)]

    def expectation(lam):
        ks = np.arange(60)
        pmf = np.array([lam**k * np.exp(-lam) / math.factorial(k) for k in ks])
        return np.sum(pmf * (np.where(ks > 2, 2.0 * ks, ks) + ks**2))

    assert_unbiased(replayed(f, 2.0), complex_step(expectation, 2.0))


def test_stochastic_gradient_and_smoothed_one_sample_per_call():
    g = sad.stochastic_gradient(lambda p: sad.poisson(p) * 2.0, 3.0, n_samples=50, rng=0,
                                vectorize=False)
    assert g == 2.0
    # the smoothed backend keeps its batched-triple path (one lane per call)
    s = replayed(lambda p: sad.bernoulli(p) * 7.0, 0.3, n=50, backend="smoothed")
    assert s.shape == (50,)


def test_stochastic_triple_shows_the_replayed_event():
    def f(p):
        n = sad.poisson(p)
        return n if n > 2 else -n

    st = sad.stochastic_triple(f, 3.0, rng=0, n_samples=2_000, vectorize=False)
    assert sad.value(st).shape == (2_000,)
    assert len(sad.perturbations(st)) == 1
    ks = np.arange(80)
    pmf = np.array([3.0**k * np.exp(-3.0) / math.factorial(k) for k in ks])
    g = np.where(ks > 2, ks, -ks)
    exact = np.sum(pmf * (np.roll(g, -1) - g)[:80])   # d/dλ E[g(K)] = E[g(K + 1) − g(K)]
    assert_unbiased(sad.derivative_contribution(st), exact)
    one = sad.stochastic_triple(sad.poisson, 3.0, rng=1, vectorize=False)
    assert float(sad.derivative_contribution(one)) == 1.0


@pytest.mark.parametrize("backend", ["pruned", "exact"])
def test_branching_process_with_a_random_size(backend):
    """Galton–Watson: each individual has Poisson(m) children, ``size=Z`` with random Z:
    E[Z₃] = m³. A replay whose Z changed keeps the common prefix of the uniforms coupled; the
    exact backend replays every element of a generation's block of events."""
    def generations(m):
        rng = sad.Generator()
        z = 1
        for _ in range(3):
            z = rng.poisson(m, size=z).sum()
            if z == 0:
                break
        return z

    assert_unbiased(replayed(generations, 1.3, n=3_000 if backend == "pruned" else 800,
                             backend=backend), 3 * 1.3**2)


def test_arrays_of_uniforms_and_normals_against_thresholds():
    assert_unbiased(replayed(lambda p: (sad.Generator().random(5) < p).sum(), 0.3), 5.0)

    def f(mu):
        x = sad.normal(mu, 1.0, size=4)
        return (x > 0.5).sum() + x.sum()   # E = 4Φ(mu − 0.5) + 4 mu

    density = math.exp(-0.5 * 0.3**2) / math.sqrt(2 * math.pi)
    assert_unbiased(replayed(f, 0.2, n=3_000), 4 * density + 4)


def test_structured_parameters_one_sample_per_call():
    f = lambda q: sad.bernoulli(q[0]) * q[1]  # noqa: E731   E = p·a: gradient (a, p)
    assert_unbiased(np.stack(replayed(f, (0.3, 2.0)), axis=1), [2.0, 0.3])
    g = sad.derivative_samples(lambda q: q["a"][0] * sad.poisson(q["lam"]) + q["a"][1],
                               {"lam": 3.0, "a": [2.0, 5.0]}, n_samples=3, rng=0,
                               vectorize=False)
    assert g["lam"].tolist() == [2.0, 2.0, 2.0] and g["a"][:, 1].tolist() == [1.0, 1.0, 1.0]


# -- natural programs with containers and item assignment ------------------------------------------
def test_epsilon_greedy_bandit_with_counts():
    """A two-armed ε-greedy bandit written as a practitioner would: lists of counts updated
    in place (``counts[arm] += 1``), ``rng.random() < ε`` to explore, rewards drawn as
    ``rng.random() < probs[arm]``; exact by enumerating every path."""
    def bandit(p):
        rng = sad.Generator()
        probs = [p, 0.5]
        counts, wins, total = [0, 0], [0, 0], 0
        for _ in range(5):
            if rng.random() < 0.2 or counts[0] == 0 or counts[1] == 0:
                arm = rng.integers(2)
            else:
                arm = 0 if wins[0] / counts[0] >= wins[1] / counts[1] else 1
            reward = 1 if rng.random() < probs[arm] else 0
            counts[arm] += 1
            wins[arm] += reward
            total += reward
        return total

    def expectation(p):
        probs = [p, 0.5]

        def go(t, counts, wins):
            if t == 5:
                return 0
            explore = 1.0 if 0 in counts else 0.2
            arms = [(0, explore / 2), (1, explore / 2)]
            if explore < 1:
                arms.append((0 if wins[0] / counts[0] >= wins[1] / counts[1] else 1, 0.8))
            out = 0
            for arm, p_arm in arms:
                for reward, p_reward in ((1, probs[arm]), (0, 1 - probs[arm])):
                    c, w = list(counts), list(wins)
                    c[arm] += 1
                    w[arm] += reward
                    out += p_arm * p_reward * (reward + go(t + 1, tuple(c), tuple(w)))
            return out

        return go(0, (0, 0), (0, 0))

    assert_unbiased(replayed(bandit, 0.6), complex_step(expectation, 0.6))


def test_voter_model_with_item_assignment():
    """Agents on a ring copy their neighbour's opinion with probability p (``x[i] = x[j]``)."""
    def voter(p):
        rng = sad.Generator()
        x = [1, 0, 0, 1, 0]
        for _ in range(3):
            i = rng.integers(5)
            if rng.random() < p:
                x[i] = x[(i + 1) % 5]
        return sum(x)

    def expectation(p):
        def go(t, x):
            if t == 3:
                return sum(x)
            out = 0
            for i in range(5):
                y = list(x)
                y[i] = x[(i + 1) % 5]
                out += (p * go(t + 1, tuple(y)) + (1 - p) * go(t + 1, x)) / 5
            return out

        return go(0, (1, 0, 0, 1, 0))

    assert_unbiased(replayed(voter, 0.4), complex_step(expectation, 0.4))


def test_laws_without_a_scalar_version_fall_back_to_one_lane_triples():
    # dirichlet has no replayed version: the estimators run the program on one-lane triples
    # (E[X₀] = t/(t + 1)); stochastic_triple names the limit instead
    f = lambda t: sad.Generator().dirichlet([t, 1.0])[0]  # noqa: E731
    assert_unbiased(replayed(f, 1.5, n=2_000), 1 / 2.5**2)
    with pytest.raises(TypeError, match="replay engine.*vectorize=True"):
        sad.stochastic_triple(f, 1.5, rng=0, vectorize=False)
    with pytest.raises(TypeError, match=r"Generator\.bytes.*replay engine"):
        sad.stochastic_triple(lambda t: sad.Generator().bytes(3) and t, 1.0, rng=0,
                              vectorize=False)


def test_matrix_products_with_a_plain_array():
    # a forward pass W @ h: the plain side's dual part is 0 (numpy's matmul refused its
    # scalar 0 before)
    W = np.array([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(replayed(lambda p: (W @ (p * np.ones(2))).sum(), 1.0, n=2),
                                  10.0)
    np.testing.assert_array_equal(replayed(lambda p: np.dot(p * np.ones(2), W.T).sum(), 1.0,
                                           n=2), 10.0)
    np.testing.assert_array_equal(replayed(lambda p: (p * np.ones(2)) @ np.ones(2), 1.0, n=2),
                                  2.0)


def test_a_call_payoff_of_an_exponential_price_and_one_warning_per_call_site():
    """``np.maximum(S − K, 0)`` of ``S = 100·e^{sZ}`` (not affine in the draw) is continuous:
    its rule's dual part is the whole derivative, with no comparison to warn of. Exact:
    ``d/ds 100·(e^{s²/2}·Φ(s) − ½)``. A comparison of ``S`` with a barrier does lose its
    share, and warns once for the whole call under the default filter (once per chunk of
    samples before)."""
    def call(s):
        return np.maximum(100 * np.exp(s * sad.Generator().normal()) - 100, 0.0)

    exact = 100 * math.exp(0.045) * (0.3 * stats.norm.cdf(0.3) + stats.norm.pdf(0.3))
    with warnings.catch_warnings():
        warnings.simplefilter("error", sad.LostDerivativeWarning)
        assert_unbiased(replayed(call, 0.3, n=20_000), exact)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        replayed(lambda s: float(np.exp(s * sad.Generator().normal()) < 1.2), 1.0, n=20_000)
    lost = [w for w in caught if issubclass(w.category, sad.LostDerivativeWarning)]
    assert len(lost) == 1 and "logarithm" in str(lost[0].message)
