"""Random indexing (table[idx] with a triple idx) and reductions over logical axes.

Exact values are closed forms derived by hand; the cellular automaton is checked against
central finite differences with common random numbers computed with plain numpy.
"""

import numpy as np
import pytest
from conftest import assert_unbiased

import stochad as sad
from stochad.indexing import LookupArray

TABLE = [3.5, 5.2, 8.4]


def lookup_by_take(p):
    return sad.take(TABLE, sad.categorical([p / 2, p / 2, 1 - p]))


def lookup_by_asarray(p):
    return sad.asarray(TABLE)[sad.categorical([p / 2, p / 2, 1 - p])]


@pytest.mark.parametrize("f", [lookup_by_take, lookup_by_asarray])
@pytest.mark.parametrize("p", [0.2, 0.7])
def test_conformance_lookup(f, p):
    # E = 4.35p + 8.4(1 − p): derivative −4.05 at any p.
    assert_unbiased(sad.derivative_samples(f, p, n_samples=100_000, rng=int(10 * p)), -4.05)


def test_bernoulli_plus_one_index_into_plain_tables():
    # E[t[B + 1]] = 2(1 − p) + 7p; rows of a 2-D table: E[row] = [1, 2](1 − p) + [5, 9]p.
    p = 0.3
    table = np.array([0.0, 2.0, 7.0])
    assert_unbiased(sad.derivative_samples(lambda q: sad.asarray(table)[sad.bernoulli(q) + 1],
                                           p, n_samples=50_000, rng=1), 5.0)
    rows = np.array([[0.0, 0.0], [1.0, 2.0], [5.0, 9.0]])
    samples = sad.derivative_samples(lambda q: np.take(sad.asarray(rows), sad.bernoulli(q) + 1,
                                                       axis=0), p, n_samples=50_000, rng=2)
    assert samples.shape == (50_000, 2)
    assert_unbiased(samples, [4.0, 7.0])


def test_triple_table_same_event_follows_the_alternative_table():
    # x ~ B(p); [x, 2x + 5][x] is 0 or 7: E = 7p. A lookup that moved only the index would
    # give table[1] = 5 on the alternative path and derivative 6 (x's jump also moves the table).
    def f(p):
        x = sad.bernoulli(p)
        return sad.asarray([x, 2 * x + 5])[x]

    for backend in ("pruned", "exact"):
        samples = sad.derivative_samples(f, 0.3, n_samples=20_000, rng=3, backend=backend)
        assert_unbiased(samples, 7.0)


def test_triple_table_independent_events():
    # t = Binomial(3, p)·[1, 2, 3], i = B(p) + 1: E[t[i]] = 6p(1 − p) + 9p² -> 6 + 6p.
    def f(p):
        t = sad.binomial(3, p, size=3) * np.array([1.0, 2.0, 3.0])
        return t[sad.bernoulli(p) + 1]

    assert_unbiased(sad.derivative_samples(f, 0.3, n_samples=100_000, rng=4), 7.8)


def test_two_dimensional_random_indexing():
    # tab = Poisson(p)·[[0..3], [4..7], [8..11]], i ~ B(p), j ~ Binomial(3, p):
    # E tab[i, j] = p·(4p + 3p) = 7p²; E Σ tab[:, j] = p·(12 + 9p), twice (slice and np.take).
    def f(p):
        tab = sad.poisson(p, size=(3, 4)) * np.arange(12.0).reshape(3, 4)
        j = sad.binomial(3, p)
        return tab[sad.bernoulli(p), j] + tab[:, j].sum() + np.sum(np.take(tab, j, axis=1))

    p = 0.3
    assert_unbiased(sad.derivative_samples(f, p, n_samples=50_000, rng=5), 14 * p + 24 + 36 * p)


def test_indexing_facts():
    st = sad.stochastic_triple(lambda p: sad.asarray([[1.0, 2.0], [3.0, 4.0]])[
        sad.bernoulli(1.0), 0], 0.5, rng=0)
    assert float(sad.value(st)) == 3.0
    grid = np.arange(24.0).reshape(2, 3, 4)
    st = sad.stochastic_triple(lambda p: sad.take(grid, sad.bernoulli(p, size=2) + 1, axis=1)
                               * p, 0.5, rng=0)
    k = sad.value(sad.stochastic_triple(lambda p: sad.bernoulli(p, size=2) + 1, 0.5, rng=0))
    assert sad.value(st).shape == (2, 2, 4)
    np.testing.assert_allclose(sad.value(st), np.take(grid, k, axis=1) * 0.5, rtol=0, atol=1e-12)
    np.testing.assert_allclose(sad.delta(st), np.take(grid, k, axis=1), rtol=0, atol=1e-12)
    assert type(sad.asarray([1.0, 2.0])) is LookupArray
    assert type(np.asarray(sad.asarray([1.0, 2.0]))) is np.ndarray


def test_indexing_errors_name_the_fix():
    def run(f):
        return sad.derivative_estimate(f, 0.3, n_samples=8, rng=0)

    with pytest.raises(TypeError, match=r"stochad\.take"):
        run(lambda p: TABLE[sad.categorical([p / 2, p / 2, 1 - p])])
    with pytest.raises(TypeError, match=r"stochad\.take"):
        run(lambda p: np.take(np.array(TABLE), sad.bernoulli(p)))
    with pytest.raises(IndexError, match="index 3 is out of bounds"):
        run(lambda p: sad.asarray([p, p, p])[sad.bernoulli(1.0) + 2])
    with pytest.raises(TypeError, match=r"np\.where\(mask, x, 0\)"):
        run(lambda p: (p * np.ones(3))[sad.bernoulli(p, size=3) > 0])
    with pytest.raises(TypeError, match="supported random indexing"):
        run(lambda p: sad.asarray(np.ones((3, 3)))[sad.bernoulli(p), 1:])


# -- reductions ---------------------------------------------------------------------------------
W = np.arange(1.0, 11.0)


def test_reductions_against_closed_forms():
    # E[Σ w·B] = pΣw, E[mean] = p·mean(w), E[Π (1 + B)] = (1 + p)^10, E[#(Poisson(p) > 1)]
    # = 4(1 − e^{−p}(1 + p)) whose derivative is 4p·e^{−p}.
    p = 0.3

    def f(q):
        b = sad.bernoulli(q, size=10)
        return np.stack([np.sum(b * W), np.mean(b * W), np.prod(1 + b),
                         np.sum(sad.poisson(q, size=4) > 1)])

    samples = sad.derivative_samples(f, p, n_samples=40_000, rng=7)
    assert_unbiased(samples, [W.sum(), W.mean(), 10 * (1 + p) ** 9, 4 * p * np.exp(-p)])


def test_sums_that_prune_against_closed_forms(backend):
    """The pruned backend sums in one kernel pass, the exact one as a chain; both unbiased.

    S = ΣB over 20 Bernoulli(p): d/dp E[S²] = n(1 − 2p) + 2n²p = 248 at p = 0.3.
    S·B₀ with 10 terms reuses an event the sum may have killed: E[S·B₀] = p + 9p², so
    d/dp = 1 + 18p = 6.4. Row sums of a 3×4 board squared: 4(1 − 2p) + 32p = 11.2 each.
    """
    p = 0.3

    def f(q):
        b = sad.bernoulli(q, size=20)
        board = sad.bernoulli(q, size=(3, 4))
        return sad.asarray([np.sum(b) ** 2, np.sum(b[:10]) * b[0],
                            *(np.sum(board, axis=1, keepdims=True) ** 2)[:, 0]])

    samples = sad.derivative_samples(f, p, n_samples=60_000, rng=11, backend=backend)
    assert_unbiased(samples, [248.0, 6.4, 11.2, 11.2, 11.2])


def test_axis_cumsum_dot_and_masks_against_closed_forms():
    # B is 3×4 Bernoulli(p): E[Σ_rows B] = 3p per column, E[cumsum(w·B[0])] = p·cumsum(w),
    # E[B[0] @ M] = p·colsum(M), E[where(B[1] > 0, 5, −1)] = 6p − 1 -> 6 per element.
    p = 0.4
    M = np.array([[1.0, -2.0], [0.5, 3.0], [2.0, 0.0], [-1.0, 1.0]])
    w = np.array([1.0, 2.0, 3.0, 4.0])

    def f(q):
        b = sad.bernoulli(q, size=(3, 4))
        return sad.asarray([
            *np.sum(b, axis=0), *np.cumsum(w * b[0]), *(b[0] @ M), *np.dot(M.T, b[2]),
            *np.where(b[1] > 0, 5.0, -1.0)])

    samples = sad.derivative_samples(f, p, n_samples=40_000, rng=8)
    exact = np.concatenate([np.full(4, 3.0), np.cumsum(w), M.sum(axis=0), M.sum(axis=0),
                            np.full(4, 6.0)])
    assert_unbiased(samples, exact)


def test_reduction_facts():
    # Deterministic programs: values and dual parts exactly.
    A = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])

    def f(p):
        x = p * A                                     # value pA, delta A
        return sad.asarray([np.sum(x), *np.sum(x, axis=1), *np.mean(x, axis=0),
                            np.prod(x[0]), *np.cumsum(x, axis=1)[1], *np.cumprod(x[0]),
                            *(A @ x.T)[0], *(x @ np.ones(3)), np.dot(x[0], x[1])])

    p = 1.5
    st = sad.stochastic_triple(f, p)
    value = np.array([21 * p, 6 * p, 15 * p, 2.5 * p, 3.5 * p, 4.5 * p, 6 * p**3,
                      4 * p, 9 * p, 15 * p, p, 2 * p**2, 6 * p**3, 14 * p, 32 * p, 6 * p,
                      15 * p, 32 * p**2])
    delta = np.array([21, 6, 15, 2.5, 3.5, 4.5, 18 * p**2, 4, 9, 15, 1, 4 * p, 18 * p**2,
                      14, 32, 6, 15, 64 * p])
    np.testing.assert_allclose(sad.value(st), value, rtol=0, atol=1e-12)
    np.testing.assert_allclose(sad.delta(st), delta, rtol=0, atol=1e-12)
    st = sad.stochastic_triple(lambda p: np.sum(sad.bernoulli(p, size=5) > 2), 0.5, rng=0)
    assert sad.value(st).dtype.kind == "i"            # booleans sum as integers, as in numpy
    st = sad.stochastic_triple(lambda p: np.sum(p * A, axis=(0, 1), keepdims=True), 1.0)
    assert st.shape == (1, 1)


# -- a stochastic cellular automaton ------------------------------------------------------------
BOARD0 = np.random.default_rng(42).random((8, 8)) < 0.4
SHIFTS = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0)]
STEPS = 3


def noisy_life(p, rng):
    """Game of Life on an 8×8 torus; every cell's update flips with probability p."""
    board = BOARD0
    for _ in range(STEPS):
        neighbours = sum(np.roll(board, s, axis=(0, 1)) for s in SHIFTS)
        alive = (neighbours == 3) | ((board == 1) & (neighbours == 2))
        board = alive ^ (rng.bernoulli(p, size=(8, 8)) == 1)
    return np.sum(board)


def noisy_life_fd(p, h, n, seed):
    """Central differences with common random numbers, plain numpy, n boards at once."""
    u = np.random.default_rng(seed).random((n, STEPS, 8, 8))
    counts = []
    for q in (p + h, p - h):
        board = np.broadcast_to(BOARD0, (n, 8, 8))
        for t in range(STEPS):
            neighbours = sum(np.roll(board, s, axis=(1, 2)) for s in SHIFTS)
            board = ((neighbours == 3) | (board & (neighbours == 2))) ^ (u[:, t] < q)
        counts.append(board.sum(axis=(1, 2)))
    return (counts[0] - counts[1]) / (2 * h)


def test_cellular_automaton_against_finite_differences():
    p = 0.1
    fd = noisy_life_fd(p, 0.01, 200_000, seed=1)
    samples = sad.derivative_samples(lambda q: noisy_life(q, sad.Generator()), p,
                                     n_samples=50_000, rng=2)
    gap = samples.mean() - fd.mean()
    stderr = np.hypot(samples.std(ddof=1) / np.sqrt(len(samples)),
                      fd.std(ddof=1) / np.sqrt(len(fd)))
    assert abs(gap) < 5 * stderr, (samples.mean(), fd.mean(), stderr)
