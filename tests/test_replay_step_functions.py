"""Step functions of a continuous draw under ``vectorize=False`` (floor, ceil, trunc, rint,
round, sign, int, ``//``, ``%``): the replay engine follows their jumps as comparisons with
the edges of the value's cell (stochad.steps). They used to give 0 silently (np.floor) or
raise (int, math.floor, round). Kinks (np.maximum, np.minimum, np.clip, abs) pick their
piece by a comparison. Exact values without stochad: closed forms and sums of normal
probabilities."""

import math
import warnings

import numpy as np
import pytest
from conftest import assert_unbiased, central_difference
from scipy import stats

import stochad as sad

G = sad.Generator


def _samples(f, theta, n=20_000, seed=1, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error", sad.LostDerivativeWarning)
        return sad.derivative_samples(f, theta, n_samples=n, rng=seed, vectorize=False, **kw)


def _mean_floor_exponential(scale):
    """E floor(X), X exponential of mean ``scale``: Σ_k≥1 P(X >= k) = 1 / (e^{1/scale} − 1)."""
    return 1.0 / math.expm1(1.0 / scale)


def _mean_rounded_normal(mu, step=np.rint):
    """E step(X), X ~ N(mu, 1), summed over the cells of ``step`` (rint: k on (k − ½, k + ½);
    trunc: toward 0)."""
    k = np.arange(-30, 31)
    if step is np.rint:
        return float(np.sum(k * (stats.norm.cdf(k + 0.5, mu) - stats.norm.cdf(k - 0.5, mu))))
    return float(np.sum(stats.norm.sf(k[k > 0], mu)) - np.sum(stats.norm.cdf(-k[k > 0], mu)))


EXPONENTIAL_FLOORS = {  # each is floor(x) of an exponential x of mean theta
    "np.floor": lambda x: float(np.floor(x)),
    "math.floor": lambda x: float(math.floor(x)),
    "int": lambda x: float(int(x)),
    "floordiv": lambda x: float(x // 1),
    "minus remainder": lambda x: x - x % 1,
    "astype": lambda x: float(np.asarray(x.astype(int)) if hasattr(x, "astype") else int(x)),
    "ceil minus one": lambda x: float(np.ceil(x)) - 1.0,
}


@pytest.mark.parametrize("step", list(EXPONENTIAL_FLOORS))
def test_floor_of_an_exponential_by_every_spelling(step):
    exact = central_difference(_mean_floor_exponential, 1.3)
    assert_unbiased(_samples(lambda s: EXPONENTIAL_FLOORS[step](G().exponential(s)), 1.3), exact)


def test_remainder_keeps_the_draws_own_derivative():
    # x % 1 = x − floor(x): d/ds E = 1 − d/ds E floor(x)
    exact = 1.0 - central_difference(_mean_floor_exponential, 1.3)
    assert_unbiased(_samples(lambda s: G().exponential(s) % 1, 1.3), exact)


@pytest.mark.parametrize("step, exact", [
    (lambda x: float(np.rint(x)), central_difference(_mean_rounded_normal, 0.3)),
    (lambda x: float(round(x)), central_difference(_mean_rounded_normal, 0.3)),
    (lambda x: float(np.trunc(x)),
     central_difference(lambda m: _mean_rounded_normal(m, np.trunc), 0.3)),
    (lambda x: float(np.sign(x)), 2.0 * stats.norm.pdf(0.3)),  # d/dm (1 − 2Φ(−m))
    (lambda x: round(x, 1), 1.0),                               # E round(x, 1) = m (symmetric)
])
def test_rounding_and_sign_of_a_normal(step, exact):
    assert_unbiased(_samples(lambda m: step(G().normal(m, 1.0)), 0.3), exact)


def test_both_edges_of_a_cell_are_weighted_given_the_cell():
    # the scale 1/r falls as r rises: the event is at the lower edge, compared first; its
    # weight must be given the whole cell, not the half-line above the edge (−0.1596 ± 0.002
    # for an exact −0.1810 when the two edges were two comparisons in a row)
    exact = -math.exp(-2.0) / (1.0 - math.exp(-2.0)) ** 2  # d/dr of 1 / (1 − e^{−r})
    assert_unbiased(_samples(lambda r: float(np.ceil(G().exponential(1 / r))), 2.0, n=40_000),
                    exact)


def test_a_detector_histogram_indexed_by_int():
    """A physicist bins five hits ~ N(mu, 1) into unit bins on [-3, 3) and counts bin 3
    (``[0, 1)``): ``counts[int(x + 3)] += 1``; d/dmu E = 5·(φ(−mu) − φ(1 − mu))."""
    def hits_in_bin(mu):
        rng = G()
        counts = [0] * 6
        for _ in range(5):
            x = rng.normal(mu, 1.0)
            if -3.0 <= x < 3.0:
                counts[int(x + 3.0)] += 1
        return float(counts[3])

    exact = 5.0 * (stats.norm.pdf(-0.4) - stats.norm.pdf(1.0 - 0.4))
    assert_unbiased(_samples(hits_in_bin, 0.4, n=10_000), exact)


def test_per_minute_billing_of_calls():
    """A telecom operator bills each started minute of a call (``math.ceil``) at 0.1; four
    calls of exponential length with mean ``m`` minutes: E = 0.4 / (1 − e^{−1/m})."""
    def bill(m):
        rng = G()
        return sum(0.1 * math.ceil(rng.exponential(m)) for _ in range(4))

    exact = central_difference(lambda m: 0.4 / -math.expm1(-1.0 / m), 2.5)
    assert_unbiased(_samples(bill, 2.5, n=10_000), exact)


def test_a_draw_truncated_then_compared_is_conditioned_on_its_cell():
    # int(10u) < 3 says u < 0.3; then u < p at p = 0.5 cannot flip: 0 in every sample (this
    # warned before, the int() being invisible to the tape)
    def gated(p):
        u = G().random()
        if int(10 * u) < 3:
            return float(u < p)
        return 0.0

    np.testing.assert_array_equal(_samples(gated, 0.5, n=500), 0.0)


def test_a_step_of_the_parameter_itself():
    # int(10 p) is constant near p = 0.33: derivative 0, no warning; at p = 0.3 (10 p = 3
    # exactly) it jumps at the point itself: a tie, which warns
    np.testing.assert_array_equal(_samples(lambda p: 1.0 * int(10 * p), 0.33, n=5), 0.0)
    with pytest.warns(sad.LostDerivativeWarning):
        sad.derivative_samples(lambda p: 1.0 * int(10 * p), 0.3, n_samples=2, rng=0,
                               vectorize=False)


def test_a_step_of_a_moving_array_names_the_fix():
    with pytest.raises(TypeError, match=r"step function .* one at a time"):
        sad.derivative_samples(lambda s: float(np.floor(G().exponential(s, size=3)).sum()),
                               1.0, n_samples=2, rng=0, vectorize=False)
    # nothing moves: the floor of an array of fixed draws is plain
    d = sad.derivative_samples(lambda s: s * float(np.floor(3 * G().random(3)).sum()), 1.0,
                               n_samples=4, rng=0, vectorize=False)
    assert np.all(np.isfinite(d))


# np.maximum, np.minimum, np.clip and abs of one number with a draw behind it: the comparison
# that picks the piece, then the piece with its provenance (a later comparison of the result
# at the kink lost its derivative: 0 with a warning, or silently for == 1)
S, EDGE = 1.3, math.exp(-1 / 1.3) / 1.3**2  # x ~ exponential of mean S: d/dS P(x >= 1)


@pytest.mark.parametrize("f, exact", [
    (lambda x: float(np.clip(x, 0.0, 1.0) == 1.0), EDGE),
    (lambda x: float(np.clip(x, 0.0, 1.0) < 1.0), -EDGE),
    (lambda x: float(np.maximum(x, 1.0) > 1.0), EDGE),
    (lambda x: float(np.minimum(1.0, x) < 1.0), -EDGE),
    (lambda x: float(abs(x - 1.0) == x - 1.0), EDGE),
])
def test_kinks_then_compared(f, exact):
    assert_unbiased(_samples(lambda s: f(G().exponential(s)), S), exact)


def test_newsvendor_with_a_stockout_penalty():
    """A newsvendor stocks 2 units against exponential demand of mean ``m``: sales are
    ``np.minimum(demand, 2)`` at 3 each, and selling out (``sales == 2``) costs 5 in lost
    goodwill. E = 3·m(1 − e^{−2/m}) − 5·e^{−2/m}."""
    def profit(m):
        sales = np.minimum(G().exponential(m), 2.0)
        return 3.0 * sales - 5.0 * (sales == 2.0)

    exact = central_difference(lambda m: 3 * m * -math.expm1(-2 / m) - 5 * math.exp(-2 / m), 1.5)
    assert_unbiased(_samples(profit, 1.5), exact)


def test_divmod_and_fmod():
    hours_and_minutes = lambda s: (lambda hm: 60.0 * hm[0] + hm[1])(  # noqa: E731
        divmod(60.0 * G().exponential(s), 60.0))
    assert_unbiased(_samples(hours_and_minutes, 1.3), 60.0)     # = 60·x: d/ds E = 60
    assert_unbiased(_samples(lambda s: np.fmod(G().exponential(s), 1.0), 1.3),
                    1.0 - central_difference(_mean_floor_exponential, 1.3))


def test_a_tie_that_cannot_flip_does_not_warn():
    # max(z, t) <= t picks t itself when z < t: t <= t moves alike on both sides
    assert_unbiased(_samples(lambda t: float(max(G().normal(0.0, 1.0), t) <= t), 0.3),
                    stats.norm.pdf(0.3))


def test_a_step_whose_edge_is_a_known_event_tells_no_older_draw_of_a_branch():
    # a 0.1-wide bin of a service time, an older draw folded into it, then round(service, 1):
    # round's cell edge 2.4 + 0.05 is one ulp below the bin's 2.45, a known event, so the
    # cell reveals nothing new; the interval the step narrows for a moment and puts back must
    # not mark the older draw as branched (a review found the warning that did)
    def billed(lam):
        rng = G()
        first, service = rng.exponential(1 / lam), rng.exponential(1 / lam)
        s = 0.0
        if 2.35 < service < 2.45:
            finish = first + service  # the older draw folded into the newer, then the step
            s += round(service, 1) + 0.0 * finish
        return s + float(first < 1.0)

    def expected(lam):
        return 2.4 * (math.exp(-2.35 * lam) - math.exp(-2.45 * lam)) - math.expm1(-lam)

    assert_unbiased(_samples(billed, 0.5), central_difference(expected, 0.5))
