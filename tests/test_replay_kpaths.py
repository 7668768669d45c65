"""One sample per call with ``backend="kpaths:K"``: ``K`` events of a sample replayed, chosen by
threshold sampling (stochad.replay._selection), instead of one (pruned) or all (exact)."""

import math

import numpy as np
import pytest
from conftest import assert_unbiased, central_difference

import stochad as sad
from bench.natural import PROGRAMS as NATURAL
from stochad import replay
from stochad.tapes import Block


def _events(weights):
    return [(w, serial, None, None, None) for serial, w in enumerate(weights)]


WEIGHTS = [0.5, -3.0, 0.2, 0.0, 1.1, 0.05, 2.0, -0.4]


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_every_event_keeps_its_weight_on_average_over_the_uniform(k):
    # the selection is a step function of u: its average over a fine grid of u is its
    # expectation up to the grid's resolution
    grid = (np.arange(20_000) + 0.5) / 20_000
    total = np.zeros(len(WEIGHTS))
    for u in grid:
        for candidate, weight in replay._selection(_events(WEIGHTS), k, float(u).__float__):
            total[candidate[1]] += weight
    np.testing.assert_allclose(total / grid.size, WEIGHTS, atol=1e-3)


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_k_distinct_events_are_replayed_and_heavy_ones_always(k):
    tau = replay._threshold([abs(w) for w in WEIGHTS], k)
    for u in np.linspace(0, 1, 101, endpoint=False):
        chosen = replay._selection(_events(WEIGHTS), k, float(u).__float__)
        serials = [c[1] for c, _ in chosen]
        assert len(serials) == k == len(set(serials))
        for c, weight in chosen:
            assert weight == (c[0] if abs(c[0]) >= tau else math.copysign(tau, c[0]))
        assert {s for s, w in enumerate(WEIGHTS) if abs(w) >= tau} <= set(serials)


def test_events_without_weight_are_never_replayed():
    # two of five events carry a weight: both are replayed with it, whatever K >= 2
    chosen = replay._selection(_events([0.0, 5.0, 0.0, -3.0, 0.0]), 3, lambda: 0.5)
    assert [(c[1], w) for c, w in chosen] == [(1, 5.0), (3, -3.0)]


def test_threshold_solves_the_inclusion_equation():
    magnitudes = [abs(w) for w in WEIGHTS if w]
    for k in range(1, len(magnitudes)):
        tau = replay._threshold(magnitudes, k)
        assert sum(min(1.0, m / tau) for m in magnitudes) == pytest.approx(k)


def test_at_most_k_events_is_the_exact_backend_and_k_one_is_pruned():
    def three_coins(p):
        n = 0
        for _ in range(3):
            if sad.bernoulli(p):
                n += 1
        return n * n

    def options(backend):
        return dict(n_samples=500, rng=4, vectorize=False, backend=backend)

    assert np.array_equal(sad.derivative_samples(three_coins, 0.3, **options("kpaths:3")),
                          sad.derivative_samples(three_coins, 0.3, **options("exact")))
    assert np.array_equal(sad.derivative_samples(three_coins, 0.3, **options("kpaths:1")),
                          sad.derivative_samples(three_coins, 0.3, **options("pruned")))
    assert replay.events_of("kpaths") == 4


# -- a clinical trial with early stopping (biostatistics), exact by dynamic programming ----------
MAX_PATIENTS, SUCCESSES, INTERIM, FUTILE = 24, 9, 12, 3


def trial_enrolment(p, rng):
    """Patients enrolled in a single-arm trial: each responds with probability ``p``; stop for
    efficacy at 9 responses, or for futility at the interim look after 12 patients with fewer
    than 3."""
    responses = 0
    for patient in range(1, MAX_PATIENTS + 1):
        if rng.random() < p:
            responses += 1
        if responses >= SUCCESSES:
            break
        if patient == INTERIM and responses < FUTILE:
            break
    return float(patient)


def trial_mean(p):
    """``E[patients enrolled]`` by dynamic programming over (patients, responses)."""
    alive, mean = {0: 1.0}, 0.0
    for patient in range(1, MAX_PATIENTS + 1):
        nxt = {}
        for r, prob in alive.items():
            for r2, q in ((r + 1, p), (r, 1 - p)):
                stop = r2 >= SUCCESSES or (patient == INTERIM and r2 < FUTILE) \
                    or patient == MAX_PATIENTS
                if stop:
                    mean += prob * q * patient
                else:
                    nxt[r2] = nxt.get(r2, 0.0) + prob * q
        alive = nxt
    return mean


def test_clinical_trial_with_early_stopping_is_unbiased():
    # (its variance is the trajectory's own: the exact backend's is the pruned one's, 5.5e3)
    def f(p):
        return trial_enrolment(p, sad.Generator())

    kpaths = sad.derivative_samples(f, 0.3, n_samples=4_000, rng=5, vectorize=False,
                                    backend="kpaths")
    assert_unbiased(kpaths, central_difference(trial_mean, 0.3))


def test_birth_death_by_thinning_with_kpaths_is_unbiased_with_less_variance_than_pruned():
    program = NATURAL["birth_death_thinning"]

    def f(birth):
        return program.prog(birth, sad.Generator())

    kpaths = sad.derivative_samples(f, program.theta0, n_samples=3_000, rng=6,
                                    vectorize=False, backend="kpaths:4")
    pruned = sad.derivative_samples(f, program.theta0, n_samples=3_000, rng=6,
                                    vectorize=False)
    assert_unbiased(kpaths, program.exact_derivative(program.theta0))
    assert kpaths.var() < 0.5 * pruned.var()


@pytest.mark.parametrize("backend", ["kpaths:2", "exact"])
def test_stochastic_triple_shows_the_replayed_events_of_each_sample(backend):
    def coins(p):
        heads = sum(1 for _ in range(4) if sad.bernoulli(p))
        return np.array([heads**2, 3.0 * heads])

    triple = sad.stochastic_triple(coins, 0.3, n_samples=300, rng=3, vectorize=False,
                                   backend=backend)
    samples = sad.derivative_samples(coins, 0.3, n_samples=300, rng=3, vectorize=False,
                                     backend=backend)
    assert np.array_equal(sad.derivative_contribution(triple), samples)
    assert len(sad.perturbations(triple)) >= 2
    with pytest.raises(ValueError, match="backend must be one of"):
        sad.stochastic_triple(coins, 0.3, rng=3, vectorize=False, backend="smoothed")


def test_weights_over_many_decades_and_non_finite_ones():
    # weights spanning 1e±20: exactly K distinct events (the sums of the small weights are not
    # lost to cancellation); an infinite weight replays every event, as the exact sample does
    rng = np.random.default_rng(0)
    for _ in range(2_000):
        n, k = int(rng.integers(3, 13)), int(rng.integers(2, 6))
        weights = 10.0 ** rng.uniform(-20, 20, n) * rng.choice([-1.0, 1.0], n)
        u = float(rng.random())
        chosen = replay._selection(_events(weights), k, lambda u=u: u)
        serials = [c[1] for c, _ in chosen]
        assert len(serials) == len(set(serials)) == min(k, n)
    chosen = replay._selection(_events([1.0, math.inf, 2.0, 0.5]), 2, lambda: 0.5)
    assert [w for _, w in chosen] == [1.0, math.inf, 2.0, 0.5]


def test_jumps_that_alternate_along_the_run_still_gain():
    # 24 Poisson draws added with alternating signs: the events' jumps alternate in the run's
    # order, which a systematic pass in that order would pick in step (no gain for even τ)
    def alternating(lam):
        g, s = sad.Generator(), 0
        for i in range(24):
            s += g.poisson(lam) * (1 if i % 2 == 0 else -1)
        return float(s * s)  # E s² = 24·lam: derivative 24

    kpaths = sad.derivative_samples(alternating, 1.0, n_samples=3_000, rng=0,
                                    vectorize=False, backend="kpaths:2")
    pruned = sad.derivative_samples(alternating, 1.0, n_samples=3_000, rng=0,
                                    vectorize=False)
    assert_unbiased(kpaths, 24.0)
    assert kpaths.var() < 0.6 * pruned.var()


def test_a_pruned_triple_keeps_an_event_of_negative_weight():
    # at p = 1 a Bernoulli event has the one-sided weight -1 (docs/decisions.md)
    def f(p):
        n = sum(sad.bernoulli(p) for _ in range(6))
        return float((n - sum(sad.bernoulli(0.4 * p) for _ in range(3))) ** 2)

    triple = sad.stochastic_triple(f, 1.0, n_samples=500, rng=3, vectorize=False)
    samples = sad.derivative_samples(f, 1.0, n_samples=500, rng=3, vectorize=False)
    assert np.array_equal(sad.derivative_contribution(triple), samples)


def _random_candidates(rng):
    """Single events and blocks of events (``Block``), some weights zero, some tied."""
    candidates = []
    for _ in range(rng.integers(1, 6)):
        if rng.random() < 0.5:
            w = float(rng.choice([0.0, 1.0, -2.0, 0.5]) if rng.random() < 0.3
                      else rng.normal() * 10.0 ** rng.integers(-3, 4))
            candidates.append((w, int(rng.integers(10)), None, 1, None))
        else:
            m = int(rng.integers(1, 40))
            w = float(rng.exponential()) if rng.random() < 0.3 else \
                rng.normal(size=m) * (rng.random(m) > 0.2)
            candidates.append(Block(int(rng.integers(10)), None, rng.integers(0, 5, size=m), w))
    return candidates


def test_large_blocks_go_by_arrays_and_choose_the_same_events():
    # rng.poisson(m, size=100_000) under kpaths made a tuple per event (100 ms a sample):
    # the array form must draw the same uniforms and choose the same events with the same
    # weights as the tuple form, which serves every smaller sample
    rng = np.random.default_rng(5)
    for _ in range(400):
        candidates, k = _random_candidates(rng), int(rng.integers(1, 8))
        seed = int(rng.integers(99))
        first, second = np.random.default_rng(seed), np.random.default_rng(seed)
        assert replay._selection(candidates, k, lambda g=first: float(g.random())) == \
            replay._selection_arrays(candidates, k, lambda g=second: float(g.random()))


def test_a_field_survey_with_hundreds_of_plots_under_kpaths():
    # an ecologist's count of the 400 plots where no seedling came up, the seedlings of a plot
    # Poisson(m): E = 400·e^(−m); one block of 400 events a sample, chosen from by arrays
    def empty_plots(m):
        return float(np.sum(sad.Generator().poisson(m, size=400) == 0))

    assert 400 > replay._LARGE_BLOCK
    samples = sad.derivative_samples(empty_plots, 1.2, n_samples=3_000, rng=2,
                                     vectorize=False, backend="kpaths:4")
    assert_unbiased(samples, -400 * math.exp(-1.2))
