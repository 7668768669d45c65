"""The benchmark problems: a stochad program, the same program in plain numpy, and its exact
derivative (from :mod:`bench.exact`, computed without stochad).

Each ``program(p)`` is written once with the stochad samplers and runs unchanged under every
estimator. Each ``plain(p, n, rng)`` is a hand-vectorised numpy version of the same program
(``n`` samples at once, no derivative); the runner times it in the same process to report the
cost ratio of each estimator to the plain program.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import stats

import stochad as sad
from stochad.resampling import resample

from . import exact_values as exact
from . import rewritten
from .natural import PROGRAMS as NATURAL


@dataclass(frozen=True)
class Problem:
    """One benchmark problem.

    Attributes
    ----------
    name, description : str
    param : float
        Where the derivative is taken.
    program : callable
        ``program(p)`` with stochad samplers (runs under every estimator).
    plain : callable
        ``plain(p, n, rng)``: ``n`` samples of the same program in plain numpy.
    exact : float
        ``d/dp E[program(p)]``.
    fd_h : float
        The finite-difference step the runner uses for ``fd``.
    exact_stderr : float
        0 for exact values; the standard error of a Monte Carlo reference otherwise.
    exact_method : str
        How ``exact`` was obtained.
    """

    name: str
    description: str
    param: float
    program: Callable
    plain: Callable
    exact: float
    fd_h: float
    exact_method: str = "closed form"
    exact_stderr: float = 0.0

    @property
    def is_reference(self) -> bool:
        """``True`` when ``exact`` is a Monte Carlo reference, not an exact value."""
        return self.exact_stderr > 0


# -- random walks ------------------------------------------------------------------------------

def random_walk(p):
    n = 0
    for i in range(1, 101):
        n = n + sad.bernoulli(p * (1 - (n + i) / 200))
    return n


def random_walk_plain(p, size, rng):
    n = np.zeros(size)
    for i in range(1, 101):
        n += rng.random(size) < p * (1 - (n + i) / 200)
    return n


def random_walk_exp(p):
    x = 0
    for _ in range(50):
        x = x + 2 * sad.bernoulli(np.exp(-x / p)) - 1
    return x**2


def random_walk_exp_plain(p, size, rng):
    x = np.zeros(size)
    for _ in range(50):
        x += 2.0 * (rng.random(size) < np.exp(-x / p)) - 1.0
    return x**2


# -- single draws ------------------------------------------------------------------------------

def binomial_square(p):
    return sad.binomial(20, p) ** 2


def binomial_square_plain(p, size, rng):
    return rng.binomial(20, p, size).astype(float) ** 2


def geometric_square(p):
    return sad.geometric(p) ** 2


def geometric_square_plain(p, size, rng):
    return rng.geometric(p, size).astype(float) ** 2


def poisson_square(lam):
    return sad.poisson(lam) ** 2


def poisson_square_plain(lam, size, rng):
    return rng.poisson(lam, size).astype(float) ** 2


def nested_binomial(p):
    return sad.binomial(sad.binomial(10, p), p)


def nested_binomial_plain(p, size, rng):
    return rng.binomial(rng.binomial(10, p, size), p).astype(float)


def two_bernoullis(theta):
    return 2 * sad.bernoulli(3 * theta) + sad.bernoulli(theta)


def two_bernoullis_plain(theta, size, rng):
    return 2.0 * (rng.random(size) < 3 * theta) + (rng.random(size) < theta)


# -- processes ---------------------------------------------------------------------------------

def galton_watson(p):
    z = 1
    for _ in range(5):
        z = sad.poisson(p * z)
    return z


def galton_watson_plain(p, size, rng):
    z = np.ones(size)
    for _ in range(5):
        z = rng.poisson(p * z).astype(float)
    return z


def lindley_queue(lam):
    w, total = 0, 0
    for _ in range(30):
        w = np.maximum(w + sad.poisson(lam) - 1, 0)
        total = total + w
    return total / 30


def lindley_queue_plain(lam, size, rng):
    w, total = np.zeros(size), np.zeros(size)
    for _ in range(30):
        w = np.maximum(w + rng.poisson(lam, size) - 1, 0)
        total += w
    return total / 30


def lindley_waiting(lam):
    """Lindley's recursion for the waiting time of the 20th customer of a single-server queue:
    service times Poisson(λ), interarrival times Geometric(1/2) (in time slots)."""
    w = 0
    for _ in range(20):
        w = np.maximum(w + sad.poisson(lam) - sad.geometric(0.5), 0)
    return w


def lindley_waiting_plain(lam, size, rng):
    w = np.zeros(size)
    for _ in range(20):
        w = np.maximum(w + rng.poisson(lam, size) - rng.geometric(0.5, size), 0)
    return w


def _log_ratio_constant(k):
    """``−log k! − log NegBin(k; 10, 0.25)``: the parts of the KL integrand free of λ."""
    return -exact.log_factorial(k) - stats.nbinom.logpmf(k, 10, 0.25)


def poisson_kl(lam):
    k = sad.poisson(lam)
    return k * np.log(lam) - lam + sad.propagate(_log_ratio_constant, k)


def poisson_kl_plain(lam, size, rng):
    k = rng.poisson(lam, size)
    return k * np.log(lam) - lam + _log_ratio_constant(k)


def mixed(p):
    s = p * (1 - p)
    b = sad.binomial(10, p)
    c = sad.bernoulli(p)
    return s * (2 * b + 3 * c) * sad.normal(b, s)


def mixed_plain(p, size, rng):
    s = p * (1 - p)
    b = rng.binomial(10, p, size)
    c = rng.random(size) < p
    return s * (2 * b + 3 * c) * (b + s * rng.standard_normal(size))


# -- indicator readouts and particle filters ----------------------------------------------------

def extinction(lam):
    """Has a Poisson(λ) branching process (one founder) died out by generation 5?"""
    return 1.0 * (galton_watson(lam) == 0)


def extinction_plain(lam, size, rng):
    return (galton_watson_plain(lam, size, rng) == 0).astype(float)


PF_PARTICLES = 16


def particle_filter(theta):
    """A bootstrap particle filter's likelihood estimate for a counting process
    ``X_t = X_{t-1} + Bernoulli(θ)`` read with unit Gaussian noise (systematic resampling)."""
    x = np.zeros(PF_PARTICLES)
    w = np.full(PF_PARTICLES, 1.0 / PF_PARTICLES)
    for y in exact.PF_OBSERVATIONS:
        x = x + sad.bernoulli(theta, size=PF_PARTICLES)
        w = w * exact.pf_likelihood(y, x)
        w, (x,) = resample(w, [x])
    return np.sum(w)


def particle_filter_plain(theta, size, rng):
    x = np.zeros((size, PF_PARTICLES))
    total = np.ones(size)
    for y in exact.PF_OBSERVATIONS:
        x = x + (rng.random((size, PF_PARTICLES)) < theta)
        w = exact.pf_likelihood(y, x)
        total *= w.mean(axis=1)
        cdf = np.cumsum(w / w.sum(axis=1, keepdims=True), axis=1)
        grid = (rng.random((size, 1)) + np.arange(PF_PARTICLES)) / PF_PARTICLES
        ancestors = np.minimum(
            (cdf[:, None, :] < grid[:, :, None]).sum(axis=2), PF_PARTICLES - 1)
        x = np.take_along_axis(x, ancestors, axis=1)
    return total


# -- stochastic Game of Life -------------------------------------------------------------------

GRID, GENERATIONS = 8, 4
_SHIFTS = [(dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1) if (dr, dc) != (0, 0)]


def _rolled(grid, dr, dc):
    """The torus grid shifted by ``(dr, dc)``: indexing with permutations works on triples."""
    rows = (np.arange(GRID) - dr) % GRID
    cols = (np.arange(GRID) - dc) % GRID
    return grid[rows][:, cols]


def game_of_life(p):
    """Cells start alive with probability ``p``; each generation a cell is alive with
    probability 0.95 where Conway's rule says alive, else 0.05. Returns the live cells."""
    alive = sad.bernoulli(p, size=(GRID, GRID))
    for _ in range(GENERATIONS):
        neighbours = sum(_rolled(alive, dr, dc) for dr, dc in _SHIFTS)
        conway = (neighbours == 3) | ((alive == 1) & (neighbours == 2))
        alive = sad.bernoulli(0.05 + 0.9 * conway)
    return np.sum(alive)


def game_of_life_plain(p, size, rng):
    alive = rng.random((size, GRID, GRID)) < p
    for _ in range(GENERATIONS):
        neighbours = sum(np.roll(alive, (dr, dc), axis=(1, 2)).astype(np.int8)
                         for dr, dc in _SHIFTS)
        conway = (neighbours == 3) | (alive & (neighbours == 2))
        alive = rng.random((size, GRID, GRID)) < 0.05 + 0.9 * conway
    return alive.sum(axis=(1, 2)).astype(float)


def fd_reference(plain, p, h, n_samples, seed, chunk=250_000):
    """A high-sample finite-difference reference for ``d/dp E[plain(p)]``.

    Central differences with common random numbers at steps ``h`` and ``2h``, combined by
    Richardson extrapolation ``(4·D(h) − D(2h)) / 3`` (error O(h⁴)). Returns
    ``(estimate, standard error)``; the remaining bias is not included in the error.
    """
    rng = np.random.default_rng(seed)
    samples = []
    for start in range(0, n_samples, chunk):
        size = min(chunk, n_samples - start)
        state = rng.bit_generator.state
        values = {}
        for step in (-2 * h, -h, h, 2 * h):
            rng.bit_generator.state = state  # the same uniforms at every step
            values[step] = plain(p + step, size, rng)
        d1 = (values[h] - values[-h]) / (2 * h)
        d2 = (values[2 * h] - values[-2 * h]) / (4 * h)
        samples.append((4 * d1 - d2) / 3)
    samples = np.concatenate(samples)
    return float(samples.mean()), float(samples.std(ddof=1) / np.sqrt(samples.size))


# (estimate, stderr), computed once (3 minutes) with
#   python -c "from stochad.bench.problems import *
#   print(fd_reference(game_of_life_plain, 0.5, 0.05, 4_000_000, seed=2024))"
GAME_OF_LIFE_REFERENCE = (-30.762187916666665, 0.04721197399707032)


PROBLEMS: dict[str, Problem] = {problem.name: problem for problem in [
    Problem("random-walk", "n += Bernoulli(p(1 - (n+i)/200)), i = 1..100; f = n", 0.5,
             random_walk, random_walk_plain, exact.random_walk(0.5)[1], 0.01,
             exact_method="exact DP"),
    Problem("random-walk-exp", "X += 1 w.p. exp(-X/p), else X -= 1; 50 steps; f = X^2", 100.0,
             random_walk_exp, random_walk_exp_plain, exact.random_walk_exp(100.0)[1], 1.0,
             exact_method="exact DP"),
    Problem("binomial-square", "Binomial(20, p)^2", 0.3, binomial_square,
             binomial_square_plain, exact.binomial_square(0.3)[1], 0.01),
    Problem("geometric-square", "Geometric(p)^2 (trials, k >= 1)", 0.3, geometric_square,
             geometric_square_plain, exact.geometric_square(0.3)[1], 0.005),
    Problem("poisson-square", "Poisson(p)^2", 3.0, poisson_square, poisson_square_plain,
             exact.poisson_square(3.0)[1], 0.05),
    Problem("nested-binomial", "Binomial(Binomial(10, p), p) = Binomial(10, p^2)", 0.3,
             nested_binomial, nested_binomial_plain, exact.nested_binomial(0.3)[1], 0.01),
    Problem("two-bernoullis", "2 Bernoulli(3t) + Bernoulli(t)", 0.1, two_bernoullis,
             two_bernoullis_plain, exact.two_bernoullis(0.1)[1], 0.005),
    Problem("galton-watson", "Z <- Poisson(p Z), Z0 = 1, 5 generations; f = Z5", 1.5,
             galton_watson, galton_watson_plain, exact.galton_watson(1.5)[1], 0.02),
    Problem("lindley-queue", "W <- max(W + Poisson(p) - 1, 0), 30 steps; f = mean W", 0.8,
             lindley_queue, lindley_queue_plain, exact.lindley_queue(0.8)[1], 0.02,
             exact_method="exact DP"),
    Problem("lindley-20", "W <- max(W + Poisson(p) - Geometric(1/2), 0), 20 customers; f = W",
             1.5, lindley_waiting, lindley_waiting_plain, exact.lindley_waiting(1.5)[1], 0.02,
             exact_method="exact DP"),
    Problem("poisson-kl", "KL(Poisson(p) || NegBin(10, 0.25)), single-sample integrand", 20.0,
             poisson_kl, poisson_kl_plain, exact.poisson_kl(20.0)[1], 0.2,
             exact_method="scipy enumeration"),
    Problem("mixed", "p(1-p)(2b + 3c) Normal(b, p(1-p)), b ~ Bin(10, p), c ~ Bern(p)", 0.3,
             mixed, mixed_plain, exact.mixed(0.3)[1], 0.01),
    Problem("extinction", "1{Z5 = 0}: has the Galton-Watson process died out by generation 5",
             1.5, extinction, extinction_plain, exact.extinction(1.5)[1], 0.02),
    Problem("particle-filter", f"bootstrap particle filter, {PF_PARTICLES} particles, "
             "X += Bernoulli(p), 8 Gaussian readings; f = likelihood estimate", 0.5,
             particle_filter, particle_filter_plain, exact.particle_filter(0.5)[1], 0.01,
             exact_method="exact forward algorithm"),
    Problem("game-of-life", f"stochastic Game of Life, {GRID}x{GRID} torus, "
             f"{GENERATIONS} generations, cells alive w.p. p; f = live cells", 0.5,
             game_of_life, game_of_life_plain, GAME_OF_LIFE_REFERENCE[0], 0.02,
             exact_method="finite-difference reference", exact_stderr=GAME_OF_LIFE_REFERENCE[1]),
    *(Problem(name, description, NATURAL[natural].theta0, program, plain,
              NATURAL[natural].exact_derivative(NATURAL[natural].theta0), h,
              exact_method=NATURAL[natural].exact_method)
      for name, natural, description, program, plain, h in [
          ("reed-frost", "reed_frost", "Reed-Frost epidemic, N = 20, final size (batched rewrite)",
           rewritten.reed_frost, rewritten.reed_frost_plain, 0.005),
          ("inventory", "inventory_sS", "(s, S) = (4, 10) inventory, Poisson demand, lost "
           "sales, 20 periods (batched rewrite)", rewritten.inventory, rewritten.inventory_plain,
           0.1),
          ("finite-buffer-queue", "finite_buffer_queue", "Geo/Geo/1/5 queue, holding + loss "
           "cost, 30 slots (batched rewrite)", rewritten.queue, rewritten.queue_plain, 0.01),
          ("percolation", "site_percolation", "4x4 site percolation, top-bottom spanning, "
           "flood fill by shifts (batched rewrite)", rewritten.percolation,
           rewritten.percolation_plain, 0.01),
      ]),
]}
