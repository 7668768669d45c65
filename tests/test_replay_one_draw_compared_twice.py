"""One continuous draw compared with a fixed and a moving threshold (replay, ``vectorize=False``).

The tracking run knows, from the earlier comparisons of a draw, an interval of its CDF value;
a comparison event's probability is conditional on it, and nil when the moving boundary lies
outside it (``if u < 0.5: ... if u < p:`` with ``p < 0.5`` and ``u >= 0.5``: no move of ``p``
flips the second). Where the moving boundary meets another threshold of the same draw exactly
(``p = 0.5`` above) a replay cannot flip one comparison without the other: that event is
dropped with a :class:`~stochad.LostDerivativeWarning` instead of a wrong number. Found by the
review of 2026-12-03 (the two-``if`` program gave 1.73 for an exact 1).
"""

import math
import warnings

import numpy as np
import pytest
from conftest import assert_unbiased, central_difference
from scipy import integrate

import stochad as sad


def fixed_then_moving(p):
    """E = 0.5 + p for p < 0.5 and p for p > 0.5 (plus 0.5): d/dp = 1 either way."""
    u = sad.Generator().random()
    out = 0.0
    if u < 0.5:
        out += 1.0
    if u < p:
        out += 1.0
    return out


def moving_then_fixed(p):
    """The same two comparisons in the other order: d/dp = 1."""
    u = sad.Generator().random()
    out = 0.0
    if u < p:
        out += 1.0
    if u < 0.5:
        out += 1.0
    return out


def waiting_time_twice(s):
    """t ~ Exp(1): E = P(t < 1) + P(t < s), d/ds = exp(-s)."""
    t = sad.Generator().exponential(1.0)
    return float(t < 1.0) + float(t < s)


def opposite_thresholds(p):
    """E = p + 2(1 - p): d/dp = -1; at p = 0.5 both thresholds meet and move apart."""
    u = sad.Generator().random()
    out = 0.0
    if u < p:
        out += 1.0
    if u < 1.0 - p:
        out += 2.0
    return out


@pytest.mark.parametrize("backend", ["pruned", "exact"])
@pytest.mark.parametrize("program", [fixed_then_moving, moving_then_fixed])
@pytest.mark.parametrize("p", [0.3, 0.7])
def test_a_fixed_then_a_moving_threshold_on_one_uniform(program, p, backend):
    samples = sad.derivative_samples(program, p, n_samples=4_000, rng=1, vectorize=False,
                                     backend=backend)
    assert_unbiased(samples, 1.0)


@pytest.mark.parametrize("s", [0.5, 2.0])
def test_a_fixed_then_a_moving_threshold_on_one_waiting_time(s):
    samples = sad.derivative_samples(waiting_time_twice, s, n_samples=4_000, rng=2,
                                     vectorize=False)
    assert_unbiased(samples, math.exp(-s))


def test_thresholds_that_move_apart_from_one_boundary_away_from_it():
    samples = sad.derivative_samples(opposite_thresholds, 0.3, n_samples=4_000, rng=3,
                                     vectorize=False)
    assert_unbiased(samples, -1.0)


@pytest.mark.parametrize("program", [fixed_then_moving, moving_then_fixed,
                                     opposite_thresholds])
def test_thresholds_that_meet_at_the_parameter_warn_instead_of_a_wrong_number(program):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        samples = sad.derivative_samples(program, 0.5, n_samples=500, rng=4,
                                         vectorize=False)
    lost = [w for w in caught if issubclass(w.category, sad.LostDerivativeWarning)]
    assert lost and "equals, at this parameter, a threshold" in str(lost[0].message)
    # the event is dropped, not replayed across both thresholds (which gave 2 for an exact 1)
    np.testing.assert_array_equal(samples, 0.0)


@pytest.mark.parametrize("backend", ["pruned", "exact"])
def test_one_threshold_computed_two_ways_is_one_event(backend):
    """``u < p`` and ``u + 0.1 < p + 0.1``: boundaries one ulp apart, which the replay's
    nudge flips together; one event, not two (each counted the jump: 6 for an exact 3).
    E = 3p: derivative 3."""
    def twice(p):
        u = sad.Generator().random()
        out = 0.0
        if u < p:
            out += 1.0
        if u + 0.1 < p + 0.1:
            out += 2.0
        return out

    assert_unbiased(sad.derivative_samples(twice, 0.3, n_samples=6_000, rng=5,
                                           vectorize=False, backend=backend), 3.0)


def test_a_moving_threshold_at_the_end_of_the_noise_range_warns():
    """``u < p`` at ``p = 1`` moving down, or at ``p = 0`` moving up: the flipped draw would
    lie outside ``[0, 1)``, which a replay cannot run (``if u < 1.0`` would flip with it,
    ``np.log(u)`` would be NaN): the event is lost with a warning naming ``sad.bernoulli``
    (it was dropped silently)."""
    def top(p):
        u = sad.Generator().random()
        if u < 0.3:
            return 0.0
        elif u < p:
            return 1.0
        return 4.0

    def bottom(p):
        u = sad.Generator().random()
        if u < 0.5:
            return 1.0 if u < p else 2.0
        return 0.0

    for f, p, direction in ((top, 1.0, -1.0), (bottom, 0.0, 1.0)):
        with pytest.warns(sad.LostDerivativeWarning, match="end of the draw's range.*bernoulli"):
            samples = sad.derivative_samples(f, p, n_samples=200, rng=1, vectorize=False,
                                             direction=direction)
        assert not samples.any()


def test_a_branch_on_another_draw_narrows_the_newer_one():
    """``if u2 < u1:`` reveals ``u2 < u1`` (a fixed threshold on the newer draw's noise):
    the event ``u2 < p`` after it is conditional on that. E = P(u2 < min(u1, p)) = p − p²/2:
    derivative 1 − p."""
    def nested(p):
        rng = sad.Generator()
        u1, u2 = rng.random(), rng.random()
        return float(u2 < p) if u2 < u1 else 0.0

    for backend in ("pruned", "exact"):
        assert_unbiased(sad.derivative_samples(nested, 0.3, n_samples=8_000, rng=2,
                                               vectorize=False, backend=backend), 0.7)


def test_a_branch_no_interval_holds_then_an_event_warns():
    """``if u * u < 0.25: return u < p``: the first comparison is not affine in ``u``, so the
    event's weight cannot be conditioned on it (it gives 0.29 for an exact 1, as only this
    branch reaches the event): a warning names the fix, ``u < 0.5``."""
    def squared(p):
        u = sad.Generator().random()
        return float(u < p) if u * u < 0.25 else 0.0

    with pytest.warns(sad.LostDerivativeWarning, match=r"u \* u < 0\.25.*Compare the draw"):
        sad.derivative_samples(squared, 0.3, n_samples=20, rng=0, vectorize=False)


def test_branches_every_path_passes_keep_their_events():
    """Fixed thresholds the run can narrow by (an array of them, a category by cumulative
    thresholds), and a monotone non-affine branch that every path passes (weighted as if it
    revealed nothing, which is right here, with a warning): unbiased. E = ∫₀ᵖ (k(u) + 1) du
    with k(u) = #{0.2, 0.5 below u}: derivative k(0.7) + 1 = 3; and P(x < b) for a standard
    normal: φ(0.2)."""
    def category(p):
        u = sad.Generator().random()
        k = int(np.sum(u > np.array([0.2, 0.5])))
        return float(k + 1) if u < p else 0.0

    assert_unbiased(sad.derivative_samples(category, 0.7, n_samples=4_000, rng=1,
                                           vectorize=False), 3.0)

    def monotone(b):
        x = sad.Generator().normal()
        out = 1.0 if np.exp(x) < 1.5 else 0.0
        return out + (1.0 if x < b else 0.0)

    with pytest.warns(sad.LostDerivativeWarning, match="every branch reaches"):
        samples = sad.derivative_samples(monotone, 0.2, n_samples=4_000, rng=1,
                                         vectorize=False)
    assert_unbiased(samples, math.exp(-0.02) / math.sqrt(2 * math.pi))


def test_min_of_two_draws_narrows_both():
    """``min(u1, u2) < p``: Python's ``min`` compares the draws (nothing moves), revealing
    each one's side of the other; the event on the smaller is conditional on it.
    E = 1 − (1 − p)²: derivative 2(1 − p)."""
    def smaller(p):
        rng = sad.Generator()
        return float(min(rng.random(), rng.random()) < p)

    for backend in ("pruned", "exact"):
        assert_unbiased(sad.derivative_samples(smaller, 0.3, n_samples=6_000, rng=3,
                                               vectorize=False, backend=backend), 1.4)


def test_a_draw_compared_with_an_affine_function_of_itself_narrows():
    """``if u < 1 - u:`` is ``u < 0.5``: a fixed threshold, so ``u < p`` after it is
    conditional on it, without a warning (0.28 for an exact 1 before). E = p for p < 0.5."""
    def halves(p):
        u = sad.Generator().random()
        return float(u < p) if u < 1 - u else 0.0

    with warnings.catch_warnings():
        warnings.simplefilter("error", sad.LostDerivativeWarning)
        samples = sad.derivative_samples(halves, 0.3, n_samples=6_000, rng=2, vectorize=False)
    assert_unbiased(samples, 1.0)


def _older_after_a_branch_on_the_sum(p):
    g = sad.Generator()
    u1, u2 = g.random(), g.random()
    return (1.0 if u1 < p else 0.0) if u1 + u2 < 1.0 else 0.0


def _older_after_a_branch_with_one_draw_a_side(p):
    g = sad.Generator()
    u1, u2 = g.random(), g.random()
    return (1.0 if u1 < p else 0.0) if u1 < 1.0 - u2 else 0.0


def test_a_branch_with_one_draw_on_each_side_narrows_both():
    """``if u1 < 1 - u2: return u1 < p``: E = ∫₀ᵖ (1 − u) du, derivative 1 − p."""
    assert_unbiased(sad.derivative_samples(_older_after_a_branch_with_one_draw_a_side, 0.4,
                                           n_samples=8_000, rng=1, vectorize=False), 0.6)


def test_a_branch_on_a_sum_of_draws_then_an_event_on_the_older_warns():
    """``if u1 + u2 < 1: return u1 < p``: the branch tells the engine about ``u2`` (the newer
    draw, whose provenance folded ``u1`` in) only, so the event on ``u1`` after it is weighted
    as if nothing were known of ``u1`` (0.30 for an exact 0.6): it warns, naming the rewrite
    above. A sum that is not branched on before the event does not warn."""
    with pytest.warns(sad.LostDerivativeWarning, match=r"u1 \+ u2 < 1.*u1 < 1 - u2"):
        sad.derivative_samples(_older_after_a_branch_on_the_sum, 0.4, n_samples=50, rng=1,
                               vectorize=False)

    def summed_after(p):
        g = sad.Generator()
        u1, u2 = g.random(), g.random()
        total = u1 + u2
        return (1.0 if u1 < p else 0.0) + total

    with warnings.catch_warnings():
        warnings.simplefilter("error", sad.LostDerivativeWarning)
        samples = sad.derivative_samples(summed_after, 0.4, n_samples=4_000, rng=1,
                                         vectorize=False)
    assert_unbiased(samples, 1.0)


def test_a_draw_read_as_a_number_then_compared_warns():
    # which comparisons the program reaches depends on u through k: no interval of u holds
    # that, so the event on u warns (0.36 for an exact e^-1.5·2.5 = 0.558 before, silently)
    def gated(p):
        rng = sad.Generator()
        u = rng.random()
        k = rng.poisson(3 * u)
        if k < 2:
            return float(u < p)
        return 0.0

    def as_array(p):
        u = sad.Generator().random()
        if np.asarray(u) < 0.5:
            return float(u < p)
        return 0.0

    for f in (gated, as_array):
        with pytest.warns(sad.LostDerivativeWarning, match="read as a number"):
            sad.derivative_samples(f, 0.5, n_samples=200, rng=0, vectorize=False)


def test_a_draw_rounded_into_another_draws_parameter():
    # y depends on x through round(x), which now tells the tape x's cell (stochad.steps):
    # x < y, then x < 0.4 p are weighted within it (0.37 for 0.33 once, silently; then a
    # warning). Exact: P(x < y, x < 0.4 p) = ∫_0^{0.4p} exp(−x / (p (1 + round(x)))) dx
    def rounded(p):
        rng = sad.Generator()
        x = rng.random()
        y = rng.exponential(p * (1 + round(x)))
        if x < y:
            return float(x < 0.4 * p)
        return 0.0

    def expectation(p):
        return integrate.quad(lambda x: np.exp(-x / (p * (1 + round(x)))), 0, 0.4 * p)[0]

    with warnings.catch_warnings():
        warnings.simplefilter("error", sad.LostDerivativeWarning)
        d = sad.derivative_samples(rounded, 0.5, n_samples=20_000, rng=0, vectorize=False)
    assert_unbiased(d, central_difference(expectation, 0.5))


def test_integer_casts_of_moving_arrays_raise():
    with pytest.raises(TypeError, match="step function .* array of moving draws"):
        sad.derivative_samples(lambda p: float(sad.Generator().exponential(p, size=2)
                                               .astype(int).sum()), 1.0, n_samples=2, rng=0,
                               vectorize=False)
