"""The replay engine's fast paths give the samples of its general paths (issue 15's speed work).

Call sites are the user's lines whichever entry point draws; an array draw (``size=``), sampled
at once and kept as one block of candidate events, gives sample for sample what the same number
of scalar draws gives; and its derivative is unbiased against closed forms in both directions.
"""

import numpy as np
import pytest
from conftest import assert_unbiased
from scipy import stats

import stochad as sad
from stochad import replay, tracking
from stochad.dual import Dual

ENTRY_POINTS = {
    "sad.bernoulli": lambda p: sad.bernoulli(p),
    "sad.binomial": lambda p: sad.binomial(5, p),
    "sad.poisson": lambda p: sad.poisson(3 * p),
    "sad.geometric": lambda p: sad.geometric(p),
    "sad.categorical": lambda p: sad.categorical([p, 1 - p]),
    "sad.normal": lambda p: sad.normal(p, 1.0) > 0.2,
    "sad.exponential": lambda p: sad.exponential(p) > 0.2,
    "sad.uniform": lambda p: sad.uniform(0.0, p) > 0.2,
    "sad.poisson(size=2)": lambda p: sad.poisson(p, size=2).sum(),
    "Generator.random": lambda p: sad.Generator().random() < p,
    "Generator.random(size=2)": lambda p: (sad.Generator().random(2) < p).sum(),
    "Generator.integers": lambda p: sad.Generator().integers(4),
    "Generator.choice": lambda p: sad.Generator().choice([1, 2, 3]),
    "Generator.choice(p=)": lambda p: sad.Generator().choice(3, p=[p / 2, p / 2, 1 - p]),
    "Generator.bernoulli": lambda p: sad.Generator().bernoulli(p),
    "Generator.binomial": lambda p: sad.Generator().binomial(4, p),
    "Generator.poisson": lambda p: sad.Generator().poisson(p),
    "Generator.poisson(size=3)": lambda p: sad.Generator().poisson(p, size=3).sum(),
    "Generator.geometric": lambda p: sad.Generator().geometric(p),
    "Generator.categorical": lambda p: sad.Generator().categorical([p, 1 - p]),
    "Generator.normal": lambda p: sad.Generator().normal(p, 2.0) > 0.0,
    "Generator.exponential": lambda p: sad.Generator().exponential(p) > 0.3,
    "Generator.uniform": lambda p: sad.Generator().uniform(0.0, p) > 0.3,
    "Generator.standard_normal": lambda p: sad.Generator().standard_normal() < p,
}


@pytest.mark.parametrize("name", sorted(ENTRY_POINTS))
def test_call_sites_are_the_user_lines(name):
    """Every draw is keyed by the user's line, however many stochad frames lie between (a
    start depth too deep would key every draw by an outer frame and lose the coupling)."""
    f = ENTRY_POINTS[name]
    tracking = replay.Tracking(replay.Shared(np.random.default_rng(0)))
    replay._run(tracking, f, Dual(0.4, 1.0))
    assert tracking.sites
    assert {code for code, _ in tracking.sites} == {id(f.__code__)}
    # the replay finds the same sites: after the first draw it is aligned, by position
    _, payload, outcome = tracking.records[0]
    forced = getattr(payload, "z", payload) if outcome is None else outcome
    replayed = replay.Replay(tracking, 0, None, forced)
    replay._run(replayed, f, 0.4)
    assert replayed.counts is None


DRAWS = {
    "poisson": (lambda rng, p, n: rng.poisson(2 * p, size=n),
                lambda rng, p: rng.poisson(2 * p)),
    "binomial": (lambda rng, p, n: rng.binomial(4, p, size=n),
                 lambda rng, p: rng.binomial(4, p)),
    "bernoulli": (lambda rng, p, n: rng.bernoulli(p, size=n),
                  lambda rng, p: rng.bernoulli(p)),
}


@pytest.mark.parametrize("size", [3, 100])
@pytest.mark.parametrize("direction", [1.0, -1.0])
@pytest.mark.parametrize("law", sorted(DRAWS))
def test_array_draw_gives_the_samples_of_scalar_draws(law, direction, size):
    """``rng.<law>(θ, size=n)`` uses the same uniforms, weights and choice as ``n`` scalar
    draws: the samples agree exactly (the block's running sums add in the loop's order, in
    Python for a small block and by numpy's cumulative sum for a large one)."""
    block, scalar = DRAWS[law]

    def as_array(p):
        rng = sad.Generator()
        k = block(rng, p, size)
        return float(k.sum() + k[0] * k[2])

    def as_scalars(p):
        rng = sad.Generator()
        k = [scalar(rng, p) for _ in range(size)]
        return float(sum(k) + k[0] * k[2])

    kw = dict(n_samples=300 if size < 10 else 100, rng=4, vectorize=False,
              direction=direction)
    np.testing.assert_array_equal(sad.derivative_samples(as_array, 0.35, **kw),
                                  sad.derivative_samples(as_scalars, 0.35, **kw))


@pytest.mark.parametrize("backend", ["pruned", "exact"])
def test_array_draws_at_a_boundary_and_with_parameter_arrays(backend):
    """One-sided derivatives at p = 1 and p = 0 (negative weights, docs/decisions.md), and
    parameters given as arrays (the general path of the block): closed forms."""
    def at_one(p):  # E = 3p: the left derivative at p = 1 is 3
        return float(sad.Generator().bernoulli(p, size=3).sum())

    samples = sad.derivative_samples(at_one, 1.0, n_samples=2_000, rng=1, vectorize=False,
                                     backend=backend)
    assert_unbiased(samples, 3.0)

    def rates(m):  # E = Σ (1 + j)·m·(j + 1) for j = 0, 1, 2: derivative 1 + 4 + 9 = 14
        k = sad.Generator().poisson(m * np.array([1.0, 2.0, 3.0]))
        return float((k * np.array([1.0, 2.0, 3.0])).sum())

    assert_unbiased(sad.derivative_samples(rates, 0.7, n_samples=3_000, rng=2,
                                           vectorize=False, backend=backend), 14.0)


def test_if_elif_on_one_uniform_needs_no_reference_replay():
    """``if u < a: ... elif u < b:``: each event's reference (its boundary, on ``u``'s side)
    gives every comparison of ``u`` the outcome ``u`` gave, so ``f_ref = f``: two runs a
    sample. E = a + 2(b − a) with a = p/3, b = (p + 0.8)/3: derivative 1/3."""
    calls = []

    def f(p):
        calls.append(p)
        u = sad.Generator().random()
        if u < p / 3:
            return 1.0
        elif u < (p + 0.8) / 3:
            return 2.0
        return 0.0

    samples = sad.derivative_samples(f, 1.0, n_samples=4_000, rng=6, vectorize=False)
    assert_unbiased(samples, 1 / 3)
    assert len(calls) <= 2 * 4_000


def test_reference_replay_when_a_later_comparison_sees_the_noise():
    """A fixed threshold compared after the event (``u < 0.8`` after ``u < p``) may come out
    otherwise at the event's boundary: the reference replay runs. E = p + 1.6."""
    def f(p):
        u = sad.Generator().random()
        below = u < p
        low = u < 0.8
        return float(below) + 2.0 * float(low)

    samples = sad.derivative_samples(f, 0.5, n_samples=4_000, rng=7, vectorize=False)
    assert_unbiased(samples, 1.0)


def _three_thresholds(p):
    """Cells of ``u``: [0, 0.2) -> 0, [0.2, p) -> 1, [p, 1 − p/2) -> 3, the rest -> 10.
    E = (p − 0.2) + 3(1 − 1.5p) + 5p = 2.8 + 1.5p: derivative 1.5."""
    u = sad.Generator().random()
    if u < 0.2:
        return 0.0
    elif u < p:
        return 1.0
    elif u < 1 - p / 2:
        return 3.0
    return 10.0


def test_elif_chain_with_fixed_rising_and_falling_thresholds():
    """Each event is weighted by what the comparisons before it revealed: at p = 0.5, for
    u >= 0.5 the event at p (weight dθ/(1 − 0.5) = 2, jump 1 − 3 against its reference
    replay), and for u in [0.5, 0.75) also the one at 0.75 (dθ = −1/2 over 0.25: weight 2,
    jump 10 − 3). The exact backend's sample is therefore 0, 2·(−2) + 2·7 or 2·(−2)."""
    exact = sad.derivative_samples(_three_thresholds, 0.5, n_samples=6_000, rng=4,
                                   vectorize=False, backend="exact")
    assert np.all(np.isclose(exact[:, None], [0.0, 10.0, -4.0], rtol=0, atol=1e-9).any(axis=1))
    assert_unbiased(exact, 1.5)
    assert_unbiased(sad.derivative_samples(_three_thresholds, 0.5, n_samples=6_000, rng=4,
                                           vectorize=False), 1.5)


def test_a_threshold_moved_by_an_older_draw_uses_its_noise_up():
    """``u2 < u1·p`` is an event on ``u2``; ``u1``'s value moves its threshold, so an event on
    ``u1`` (``u1 < p``) needs its reference replay. E = p + 2·E[u1·p] = 2p: derivative 2."""
    def f(p):
        rng = sad.Generator()
        u1 = rng.random()
        below = u1 < p
        u2 = rng.random()
        return float(below) + 2.0 * float(u2 < u1 * p)

    for backend in ("pruned", "exact"):
        samples = sad.derivative_samples(f, 0.5, n_samples=6_000, rng=3, vectorize=False,
                                         backend=backend)
        assert_unbiased(samples, 2.0)


def test_an_array_changed_in_place_by_the_program_keeps_the_record():
    """``k = rng.poisson(m, size=3); k[0] += 1``: the tracking run hands out a copy, so the
    replay's draws (and the flipped one) start from what was drawn. The output is
    ``Σk + 1 + 1{k0 ≥ 2}``: E = 3m + 2 − e^{−m}(1 + m), d/dm = 3 + m·e^{−m}."""
    def bumped(m):
        k = sad.Generator().poisson(m, size=3)
        k[0] += 1
        return float(k.sum() + (k[0] > 2))

    assert_unbiased(sad.derivative_samples(bumped, 1.5, n_samples=3_000, rng=6,
                                           vectorize=False), 3.0 + 1.5 * np.exp(-1.5))


def test_a_replay_whose_array_draw_changed_shape_before_the_flip_raises():
    """Hidden randomness deciding between a scalar and an array draw at one site: the replay
    sees a different draw before the flipped event and says so."""
    hidden = np.random.default_rng(0)

    def f(m):
        rng = sad.Generator()
        first = rng.poisson(m, size=int(hidden.integers(1, 3)))
        return float(first.sum() + rng.poisson(m))

    with pytest.raises(replay.ReplayMismatchError, match="poisson of size"):
        sad.derivative_samples(f, 1.0, n_samples=200, rng=0, vectorize=False)


@pytest.mark.parametrize("size", [2.5, 2.0, np.float64(3)])
def test_a_float_size_raises_as_numpy_does(size):
    with pytest.raises(TypeError, match="size must be an integer"):
        sad.derivative_samples(lambda m: sad.Generator().poisson(m, size=size).sum(), 1.0,
                               n_samples=10, rng=0, vectorize=False)
    with pytest.raises(TypeError):
        np.random.default_rng(0).poisson(1.0, size=size)


def test_small_arrays_compared_in_python_give_the_numpy_paths_samples(monkeypatch):
    """Arrays of draws up to SMALL_ARRAY are compared element by element in plain Python;
    numpy's whole-array path gives the same events, weights and sides."""
    def program(p):
        g = sad.Generator()
        coins = np.sum(g.random(8) < p)                       # rng.random(n) < p
        late = np.sum(g.exponential(p, size=(2, 3)) > 1.0)    # a moving scale
        low = np.sum(g.normal(p, 2.0, size=5) <= np.array([0.0, 0.5, 1.0, 1.5, 2.0]))
        return float(coins**2 + 3 * late - low)

    python = sad.derivative_samples(program, 0.4, n_samples=400, rng=8, vectorize=False)
    monkeypatch.setattr(tracking, "SMALL_ARRAY", 0)
    numpy = sad.derivative_samples(program, 0.4, n_samples=400, rng=8, vectorize=False)
    np.testing.assert_allclose(python, numpy, rtol=1e-12, atol=1e-12)
    assert np.count_nonzero(python) > 300


def test_acceptance_sampling_with_a_vector_of_uniforms():
    """A quality engineer's acceptance sampling: 20 items drawn at once, each defective when
    its uniform is below the defect rate; the lot is rejected above 2 defects. P(reject) =
    P(Bin(20, p) > 2), whose derivative is 20·P(Bin(19, p) = 2)."""
    def rejected(p):
        defective = sad.Generator().random(20) < p
        return float(np.count_nonzero(defective) > 2)

    samples = sad.derivative_samples(rejected, 0.1, n_samples=20_000, rng=3, vectorize=False)
    assert_unbiased(samples, 20 * stats.binom.pmf(2, 19, 0.1))
