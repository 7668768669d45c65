"""An array of draws read one element at a time under ``vectorize=False`` (``for t in
times:``, ``times[i]``, ``sorted(times)``): each element is a record of its own for the
comparisons the program makes of it, whose events flip that element of the array draw. These
gave 0 with a warning before (an element had no affine provenance). Exact values without
stochad: closed forms and binomial sums."""

import math
import warnings

import numpy as np
import pytest
from conftest import assert_unbiased, central_difference
from scipy import stats

import stochad as sad
from stochad.dual import Dual

G = sad.Generator


def _samples(f, theta, n=20_000, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error", sad.LostDerivativeWarning)
        return sad.derivative_samples(f, theta, n_samples=n, rng=0, vectorize=False, **kw)


@pytest.mark.parametrize("backend", ["pruned", "exact"])
def test_a_loop_over_an_array_of_exponentials(backend):
    def arrivals_before_one(lam):
        return float(sum(1 for t in G().exponential(1 / lam, size=4) if t < 1.0))

    assert_unbiased(_samples(arrivals_before_one, 1.5, backend=backend), 4 * math.exp(-1.5))


def test_indexing_sorting_and_other_laws():
    def second_smallest_below_one(lam):
        return float(sorted(G().exponential(1 / lam, size=3))[1] < 1.0)

    def two_of_three(lam):
        q = -math.expm1(-lam)
        return 3 * q**2 * (1 - q) + q**3

    assert_unbiased(_samples(second_smallest_below_one, 1.5), central_difference(two_of_three, 1.5))
    assert_unbiased(_samples(lambda p: float(sum(u < p for u in G().random(5))), 0.3), 5.0)
    assert_unbiased(  # a law of stochad.cdf_laws, its parameters element by element
        _samples(lambda s: float(sum(x < 2.0 for x in G().gamma(2.0, s, size=3))), 1.1),
        central_difference(lambda s: 3 * stats.gamma.cdf(2.0, 2.0, scale=s), 1.1))
    assert_unbiased(  # a 2-d index
        _samples(lambda m: (lambda x: float((x[0, 1] < 0.5) + (x[1, 0] < 0.5)))(
            G().normal(m, 1.0, size=(2, 2))), 0.2), -2 * stats.norm.pdf(0.3))


def test_components_that_fail_before_the_warranty_ends():
    """A reliability engineer draws five component lifetimes at once, ``eta·Weibull(1.5)``
    years, and walks through them until two have failed within the one-year warranty: the
    system is then replaced (cost 1). Exact: P(Binomial(5, q) >= 2), q = 1 − e^{−(1/eta)^1.5}."""
    def replaced(eta):
        lifetimes = eta * G().weibull(1.5, size=5)
        failed = 0
        for i in range(5):
            if lifetimes[i] < 1.0:
                failed += 1
                if failed == 2:
                    return 1.0
        return 0.0

    def probability(eta):
        return stats.binom.sf(1, 5, -math.expm1(-(1.0 / eta) ** 1.5))

    assert_unbiased(_samples(replaced, 2.0), central_difference(probability, 2.0))


def test_an_array_compared_whole_and_element_by_element_warns():
    # the elements' intervals and the array's comparisons do not see each other: either
    # order warns (the array first: the element's event is weighted as if nothing were known)
    for f in (lambda lam: (lambda ts: float((ts < 1.0).sum() + (ts[0] < 2.0)))(
                  G().exponential(1 / lam, size=3)),
              lambda lam: (lambda ts: float((ts[0] < 2.0) + (ts < 1.0).sum()))(
                  G().exponential(1 / lam, size=3))):
        with pytest.warns(sad.LostDerivativeWarning):
            sad.derivative_samples(f, 1.5, n_samples=50, rng=0, vectorize=False)


def test_np_max_and_min_of_an_array_of_draws():
    # picked element by element, as builtin max() does, so every comparison that picks the
    # largest is on the tape (np.max of a size=3 draw compared with a threshold gave 0)
    def all_three(lam):
        return (-math.expm1(-lam)) ** 3

    assert_unbiased(_samples(lambda lam: float(np.max(G().exponential(1 / lam, size=3)) < 1.0),
                             1.5), central_difference(all_three, 1.5))
    assert_unbiased(_samples(lambda lam: float(G().exponential(1 / lam, size=(3, 2)).min()
                                               < 0.2), 1.5),
                    central_difference(lambda lam: -math.expm1(-6 * lam * 0.2), 1.5))


def test_the_mixing_warnings_name_the_cause():
    with pytest.warns(sad.LostDerivativeWarning, match="compared as a whole array before"):
        sad.derivative_samples(lambda lam: (lambda ts: float((ts < 1.0).sum() + (ts[0] < 2.0)))(
            G().exponential(1 / lam, size=3)), 1.5, n_samples=20, rng=0, vectorize=False)
    with pytest.warns(sad.LostDerivativeWarning, match="elements were compared one by one"):
        sad.derivative_samples(lambda lam: (lambda ts: float((ts[0] < 2.0) + (ts < 1.0).sum()))(
            G().exponential(1 / lam, size=3)), 1.5, n_samples=20, rng=0, vectorize=False)


# -- running sums, slices and np.sort keep the elements' identity --------------------------------
CLOSING = 2.0


def customers_before_closing(lam, rng):
    """A shop's arrivals as a queueing modeller writes a Poisson process: the arrival times are
    the running sum of ten exponential gaps, counted until the first after closing."""
    arrivals = np.cumsum(rng.exponential(1 / lam, size=10))
    served = 0
    for t in arrivals:
        if t > CLOSING:
            break
        served += 1
    return float(served)


def expected_customers(lam):
    """``E min(N(2), 10)`` of a Poisson process of rate ``lam``: ``Σ_{k<10} P(N(2) > k)``."""
    return float(stats.poisson.sf(np.arange(10), lam * CLOSING).sum())


@pytest.mark.parametrize("backend", ["pruned", "exact"])
def test_arrival_times_as_a_running_sum_of_gaps(backend):
    samples = _samples(lambda lam: customers_before_closing(lam, G()), 1.5, backend=backend,
                       n=4_000 if backend == "exact" else 20_000)
    assert_unbiased(samples, central_difference(expected_customers, 1.5))


def test_a_busy_days_running_sum_of_three_hundred_gaps():
    # every arrival's comparison asks whether a branch on a later arrival revealed something
    # of it: a flag set when that happens (NoiseRecord.changed), not a walk over the later
    # arrivals, which made this day cost the square of its length (75 ms a sample at 1,000)
    def customers(lam, rng, n=300, closing=290.0):
        served = 0
        for t in np.cumsum(rng.exponential(1 / lam, size=n)):
            if t > closing:
                break
            served += 1
        return float(served)

    def expected(lam):
        return float(stats.poisson.sf(np.arange(300), lam * 290.0).sum())

    assert_unbiased(_samples(lambda lam: customers(lam, G()), 1.0, n=2_000),
                    central_difference(expected, 1.0))


def test_slices_and_np_sort_of_an_array_of_draws():
    def short_gaps_after_the_first(lam):
        gaps = G().exponential(1 / lam, size=5)
        return float(sum(1 for g in gaps[1:] if g < 0.5))

    def second_smallest_below(lam):  # np.sort, then an element
        return float(np.sort(G().exponential(1 / lam, size=4))[1] < 0.3)

    def two_of_four(lam):
        q = -math.expm1(-0.3 * lam)
        return 1 - stats.binom.cdf(1, 4, q)

    assert_unbiased(_samples(short_gaps_after_the_first, 1.5), 4 * 0.5 * math.exp(-0.75))
    assert_unbiased(_samples(second_smallest_below, 1.5), central_difference(two_of_four, 1.5))


def test_a_running_sum_read_backwards_and_from_its_end():
    def latest_of_three(lam):  # the last arrival time, read as arrivals[::-1][0] and [-1]
        arrivals = np.cumsum(G().exponential(1 / lam, size=3))
        return float(arrivals[::-1][0] < 1.0) + float(arrivals[np.int64(-1)] < 1.0)

    exact = central_difference(lambda lam: 2 * stats.gamma.cdf(1.0, 3, scale=1 / lam), 1.5)
    assert_unbiased(_samples(latest_of_three, 1.5), exact)


def test_a_long_running_sum_compared_as_a_whole_array_warns():
    # up to ELEMENTS_AT_ONCE elements the whole comparison goes element by element (exact,
    # below); beyond, numpy's, which no element's record sees
    def count_before_closing(lam):
        return float(np.sum(np.cumsum(G().exponential(1 / lam, size=100)) < CLOSING))

    with pytest.warns(sad.LostDerivativeWarning):
        sad.derivative_samples(count_before_closing, 1.5, n_samples=20, rng=0, vectorize=False)


def test_rows_of_a_two_dimensional_draw():
    def quick_jobs(lam):  # 3 machines x 4 jobs each, counted row by row, then two by index
        durations = G().exponential(1 / lam, size=(3, 4))
        quick = 0
        for machine in durations:
            for duration in machine:
                if duration < 0.5:
                    quick += 1
        return quick + float(durations[1][2] < 0.2) + float(durations[-1, 0] < 0.3)

    exact = sum(c * t * math.exp(-1.5 * t) for c, t in ((12, 0.5), (1, 0.2), (1, 0.3)))
    assert_unbiased(_samples(quick_jobs, 1.5), exact)


# -- what the engine cannot weight warns (a review, /work/notes/review-elements) ---------------
def _warns(f, theta=0.5):
    with pytest.warns(sad.LostDerivativeWarning):
        sad.derivative_samples(f, theta, n_samples=50, rng=0, vectorize=False)


def test_a_branch_the_engine_keeps_no_interval_for_warns():
    def fixed_whole_then_element(theta):  # gave 0.054 for 0.239 without a warning
        arrivals = np.cumsum(G().exponential(1.0, size=10))
        return float(np.sum(arrivals < 1.0) >= 2 and arrivals[0] < theta)

    def fixed_whole_then_whole(theta):  # gave 2.08 for 3.44 without a warning
        u = G().random(5)
        return float(np.sum(u < theta)) if np.sum(u < 0.5) >= 3 else 0.0

    def element_squared_then_whole(theta):
        u = G().random(4)
        return float(np.sum(u < theta)) if u[0] ** 2 < 0.25 else 0.0

    def read_as_a_number_after_the_views(theta):  # gave 0.060 for 0.223 without a warning
        ts = G().exponential(1.0, size=3)
        arrivals = np.cumsum(ts)
        k = G().poisson(5 * ts)
        return float(k[0] == 0 and arrivals[0] < theta)

    def refolded_after_a_branch(theta):  # gave 0.186 for 0.264 without a warning
        a = np.cumsum(G().exponential(1.0, size=3))
        gap = a[2] - a[0]
        return float(a[1] < 1.0 and a[0] < theta) + 0.0 * gap

    def sum_of_two_arrays_then_one(theta):  # gave 0.347 for 0.700 without a warning
        a, b = G().random(2), G().random(2)
        return float((a + b)[0] < 1.0 and a[0] < theta)

    for f in (fixed_whole_then_element, fixed_whole_then_whole, element_squared_then_whole,
              read_as_a_number_after_the_views, refolded_after_a_branch,
              sum_of_two_arrays_then_one):
        _warns(f)


def test_an_empty_running_sum_and_numpys_index_errors():
    def arrivals_before_one(lam):  # n is 0 in one sample of twenty
        arrivals = np.cumsum(G().exponential(1 / lam, size=G().poisson(3.0)))
        return float(sum(1 for t in arrivals if t < 1.0))

    def expected(lam):
        n = np.arange(40)
        before = [stats.gamma.cdf(1.0, np.arange(1, k + 1), scale=1 / lam).sum() for k in n]
        return float(np.dot(stats.poisson.pmf(n, 3.0), before))

    assert_unbiased(_samples(arrivals_before_one, 1.5), central_difference(expected, 1.5))

    def out_of_range(lam):
        return np.cumsum(G().exponential(lam, size=5))[5]

    with pytest.raises(IndexError, match="index 5 is out of bounds for axis 0 with size 5"):
        sad.derivative_samples(out_of_range, 1.0, n_samples=2, rng=0, vectorize=False)


def test_a_scalar_draw_against_an_array_threshold_is_one_event_a_threshold():
    # a scalar draw broadcast against up to 64 moving thresholds (it warned and lost them):
    # E = P(u < p) + P(u < 2p) = 3p, and the thresholds on the left, E = 2p
    def two_thresholds(p):
        return float(np.sum(G().random() < p * np.array([1.0, 2.0])))

    def on_the_left(p):
        return float(np.sum(np.array([0.5, 1.5]) * p > G().random()))

    assert_unbiased(_samples(two_thresholds, 0.3), 3.0)
    assert_unbiased(_samples(on_the_left, 0.3), 2.0)


def test_a_running_sum_scaled_and_shifted_keeps_its_elements():
    def opened_late(lam):  # times in half-hours from an opening at 1: 2·S_k + 1 <= 5
        arrivals = 2.0 * np.cumsum(G().exponential(1 / lam, size=10)) + 1.0
        return float(sum(1 for t in arrivals if t <= 5.0))

    def by_the_rate(lam):  # the parameter itself as a factor, and a difference with it
        arrivals = np.cumsum(G().exponential(1.0, size=10)) / lam
        shifted = Dual(2.0, 0.0) - arrivals
        return float(sum(1 for t in shifted if t >= 0.0))

    exact = central_difference(lambda lam: stats.poisson.sf(np.arange(10), 2 * lam).sum(), 1.5)
    assert_unbiased(_samples(opened_late, 1.5), exact)
    assert_unbiased(_samples(by_the_rate, 1.5), exact)


def test_np_diff_of_arrival_times_gives_the_gaps_back():
    def short_gaps(lam):
        arrivals = np.cumsum(G().exponential(1 / lam, size=5))
        return float(sum(1 for gap in np.diff(arrivals) if gap < 0.5))

    assert_unbiased(_samples(short_gaps, 1.5), 4 * 0.5 * math.exp(-0.75))


def test_which_component_fails_first_and_last_by_argmin_and_argmax():
    # a reliability engineer's three components with failure rates (lam, 1, 1/2): which one
    # fails first (times.argmin(), was an AttributeError) and which last (np.argmax):
    # P(first) = lam/(lam + 3/2); P(last) by inclusion–exclusion over exponential races
    def first_and_last(lam):
        times = G().exponential(np.array([1.0, 1.0, 2.0]) / np.stack([lam, 1.0, 1.0]))
        return float(times.argmin() == 0) + float(np.argmax(times) == 2)

    def expected(lam):
        r = np.array([lam, 1.0, 0.5])
        last = 1 - r[2] / (r[2] + r[0]) - r[2] / (r[2] + r[1]) + r[2] / r.sum()
        return r[0] / (r[0] + 1.5) + last

    assert_unbiased(_samples(first_and_last, 1.0), central_difference(expected, 1.0))
    with pytest.raises(TypeError, match="1-d array, or axis=None"):
        _samples(lambda lam: float(np.argmin(G().exponential(1 / lam, size=(2, 2)), axis=1)[0]),
                 1.0, n=2)


def test_ndarray_methods_of_an_array_of_draws():
    # a warranty analyst's habits on an array of lifetimes: .tolist(), .item(i), .copy(),
    # .ravel(), .T (were bare AttributeErrors); each element keeps its own record
    def warranty_claims(lam):
        lives = G().exponential(1 / lam, size=4)
        early = sum(1 for t in lives.ravel().tolist() if t < 1.0)
        return float(early) + float(lives.T.copy().item(0) < 0.5)

    def by_flat_and_axis_index(lam):  # numpy's item(3) is a flat index, item(0, 1) per axis
        lives = G().exponential(1 / lam, size=(2, 2))
        return float(lives.item(3) < 0.5) + float(lives.item(0, 1) < 0.5)

    exact = 4 * math.exp(-1.0) + 0.5 * math.exp(-0.5)  # d/dlam at lam = 1
    assert_unbiased(_samples(warranty_claims, 1.0), exact)
    assert_unbiased(_samples(by_flat_and_axis_index, 1.0), math.exp(-0.5))


def test_what_an_array_of_draws_cannot_do_names_the_way():
    def std_of_lives(lam):
        return float(G().exponential(1 / lam, size=3).std())

    def calendar_keyed_by_time(lam):
        t = G().exponential(1 / lam)
        return float(len({t: "arrival"}))

    with pytest.raises(TypeError, match="ndarray.std is not supported.*loop"):
        _samples(std_of_lives, 1.0, n=2)
    with pytest.raises(TypeError, match="cannot key a dict.*heap"):
        _samples(calendar_keyed_by_time, 1.0, n=2)


def test_small_arrays_of_draws_compared_and_summed_whole():
    # an analyst's whole-array habits on arrays seen element by element: the later coins
    # (u[1:] < p), arrivals before closing counted from the running sum, and a total of
    # claims (np.sum(x) > c, as builtin sum(x) > c): each compared element by element up to
    # ELEMENTS_AT_ONCE (0 with a warning before)
    def later_coins(p):
        return float(np.sum(G().random(4)[1:] < p))

    def arrivals_before_two(lam):
        return float(np.sum(np.cumsum(G().exponential(1 / lam, size=10)) < 2.0))

    def large_total(lam):
        claims = G().exponential(1 / lam, size=3)
        return float(np.sum(claims) > 2.0) + float(claims.mean() > 1.0)

    def expected_total(lam):
        return stats.gamma.sf(2.0, 3, scale=1 / lam) + stats.gamma.sf(3.0, 3, scale=1 / lam)

    assert_unbiased(_samples(later_coins, 0.3), 3.0)
    assert_unbiased(_samples(arrivals_before_two, 1.6),
                    2 * stats.poisson.cdf(9, 3.2))  # d/dlam Σ_k P(N(2) >= k), k <= 10
    assert_unbiased(_samples(large_total, 1.3), central_difference(expected_total, 1.3))
    with pytest.raises(TypeError, match="maximum.accumulate is not supported.*loop"):
        _samples(lambda m: float(np.maximum.accumulate(G().normal(m, 1.0, size=3))[-1] > 1),
                 0.2, n=2)
