"""Exact derivatives of the benchmark problems, computed without stochad.

Closed forms where they exist; otherwise exact dynamic programming over the program's state
(a Markov chain whose transition matrix is differentiated in forward mode, so ``dE/dp`` comes
out exactly, not by finite differences), or enumeration of a scipy pmf.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from scipy import special, stats


def markov_derivative(start: np.ndarray, steps: Iterable[tuple[np.ndarray, np.ndarray]],
                      final: np.ndarray | None = None, running: np.ndarray | None = None):
    """``E`` and ``dE/dp`` of a reward of a Markov chain, by forward-mode dynamic programming.

    Parameters
    ----------
    start : (S,) array
        Distribution of the initial state (independent of ``p``).
    steps : iterable of ``(M, dM)``
        Transition matrices ``M[s, s']`` of each step and their derivatives in ``p``.
    final : (S,) array, optional
        Reward of the state after the last step.
    running : (S,) array, optional
        Reward of the state after every step, summed over the steps.

    Returns
    -------
    (float, float)
        The expected reward and its derivative.

    Examples
    --------
    One Bernoulli(p) step from state 0 (reward: the state): ``E = p``, ``dE/dp = 1``.

    >>> p = 0.3
    >>> M, dM = np.array([[1 - p, p], [0, 1]]), np.array([[-1.0, 1.0], [0, 0]])
    >>> markov_derivative(np.array([1.0, 0.0]), [(M, dM)], final=np.array([0.0, 1.0]))
    (0.3, 1.0)
    """
    prob = np.asarray(start, dtype=float)
    dprob = np.zeros_like(prob)
    value = derivative = 0.0
    for matrix, dmatrix in steps:
        prob, dprob = prob @ matrix, dprob @ matrix + prob @ dmatrix
        if running is not None:
            value += float(prob @ running)
            derivative += float(dprob @ running)
    if final is not None:
        value += float(prob @ final)
        derivative += float(dprob @ final)
    return value, derivative


def _bernoulli_step(q: np.ndarray, dq: np.ndarray, up: np.ndarray, down: np.ndarray):
    """Transition (and derivative) moving state ``s`` to ``up[s]`` with probability ``q[s]``,
    else to ``down[s]``."""
    n = q.size
    matrix, dmatrix = np.zeros((n, n)), np.zeros((n, n))
    rows = np.arange(n)
    np.add.at(matrix, (rows, up), q)
    np.add.at(matrix, (rows, down), 1 - q)
    np.add.at(dmatrix, (rows, up), dq)
    np.add.at(dmatrix, (rows, down), -dq)
    return matrix, dmatrix


def random_walk(p: float, steps: int = 100):
    """``n += Bernoulli(p·(1 − (n + i)/200))`` for ``i = 1..steps``: ``(E[n], dE/dp)``."""
    states = np.arange(steps + 2)
    up = np.minimum(states + 1, steps + 1)

    def transitions():
        for i in range(1, steps + 1):
            slope = 1 - (states + i) / 200
            yield _bernoulli_step(p * slope, slope, up, states)

    start = np.eye(states.size)[0]
    return markov_derivative(start, transitions(), final=states.astype(float))


def random_walk_exp(p: float, steps: int = 50):
    """``X += 1`` with probability ``exp(−X/p)``, else ``X −= 1``, from 0: ``(E[X²], d/dp)``.

    From ``X = 0`` the walk steps up with probability 1, so it stays in ``0..steps``.
    """
    states = np.arange(steps + 2)
    q = np.exp(-states / p)
    dq = q * states / p**2
    step = _bernoulli_step(q, dq, np.minimum(states + 1, steps + 1), np.maximum(states - 1, 0))
    start = np.eye(states.size)[0]
    return markov_derivative(start, [step] * steps, final=states.astype(float) ** 2)


def lindley_queue(lam: float, steps: int = 30, cap: int = 200):
    """``W ← max(W + Poisson(λ) − 1, 0)`` from 0: ``(E[mean of W over the steps], d/dλ)``.

    States above ``cap`` are cut off; their probability is below 1e-100 for the defaults.
    """
    k = np.arange(cap + 1)
    pmf = stats.poisson.pmf(k, lam)
    dpmf = np.concatenate([[0.0], pmf[:-1]]) - pmf  # d/dλ of the Poisson pmf
    target = np.clip(k[:, None] + k[None, :] - 1, 0, None)  # from state w with a arrivals
    keep = target <= cap
    matrix, dmatrix = np.zeros((cap + 1, cap + 1)), np.zeros((cap + 1, cap + 1))
    rows = np.broadcast_to(k[:, None], target.shape)
    cols = np.broadcast_to(k[None, :], target.shape)
    np.add.at(matrix, (rows[keep], target[keep]), pmf[cols[keep]])
    np.add.at(dmatrix, (rows[keep], target[keep]), dpmf[cols[keep]])
    start = np.eye(cap + 1)[0]
    value, derivative = markov_derivative(start, [(matrix, dmatrix)] * steps,
                                          running=k.astype(float))
    return value / steps, derivative / steps


def lindley_waiting(lam: float, q: float = 0.5, customers: int = 20, cap: int = 150):
    """Lindley's recursion ``W ← max(W + S − A, 0)`` from 0 for ``customers`` customers,
    service times ``S ~ Poisson(λ)`` and interarrival times ``A ~ Geometric(q)`` (trials, ``A
    >= 1``): ``(E[W], d/dλ)`` of the last customer's waiting time.

    Service times above 80 and interarrival times above ``cap`` are cut off, and so are waits
    above ``cap`` (each below 1e-35 for the defaults).
    """
    s = np.arange(81)
    pmf = stats.poisson.pmf(s, lam)
    dpmf = np.concatenate([[0.0], pmf[:-1]]) - pmf  # d/dλ of the Poisson pmf
    a = np.arange(1, cap + 1)
    gap = stats.geom.pmf(a, q)
    increments = (s[:, None] - a[None, :]).reshape(-1)  # S − A, with its probability
    prob = (pmf[:, None] * gap[None, :]).reshape(-1)
    dprob = (dpmf[:, None] * gap[None, :]).reshape(-1)
    w = np.arange(cap + 1)
    target = np.maximum(w[:, None] + increments[None, :], 0)
    keep = target <= cap
    rows = np.broadcast_to(w[:, None], target.shape)[keep]
    matrix, dmatrix = np.zeros((cap + 1, cap + 1)), np.zeros((cap + 1, cap + 1))
    np.add.at(matrix, (rows, target[keep]), np.broadcast_to(prob, target.shape)[keep])
    np.add.at(dmatrix, (rows, target[keep]), np.broadcast_to(dprob, target.shape)[keep])
    start = np.eye(cap + 1)[0]
    return markov_derivative(start, [(matrix, dmatrix)] * customers, final=w.astype(float))


def poisson_kl(lam: float, r: float = 10, q: float = 0.25, cap: int = 400):
    """``KL(Poisson(λ) ‖ NegBin(r, q))`` and its derivative in ``λ``, by enumeration."""
    k = np.arange(cap + 1)
    pmf = stats.poisson.pmf(k, lam)
    dpmf = np.concatenate([[0.0], pmf[:-1]]) - pmf
    log_ratio = stats.poisson.logpmf(k, lam) - stats.nbinom.logpmf(k, r, q)
    # d/dλ Σ P log(P/Q) = Σ dP·log(P/Q) + Σ dP, and Σ dP = 0
    return float(pmf @ log_ratio), float(dpmf @ log_ratio)


def binomial_square(p: float, n: int = 20):
    """``d/dp E[Binomial(n, p)²] = d/dp [np(1 − p) + n²p²]``."""
    return n * p * (1 - p) + (n * p) ** 2, n * (1 - 2 * p) + 2 * n * n * p


def geometric_square(p: float):
    """``d/dp E[Geometric(p)²] = d/dp (2 − p)/p²`` (trials, support 1, 2, ...)."""
    return (2 - p) / p**2, -1 / p**2 - 2 * (2 - p) / p**3


def poisson_square(lam: float):
    """``d/dλ E[Poisson(λ)²] = d/dλ (λ + λ²)``."""
    return lam + lam**2, 1 + 2 * lam


def nested_binomial(p: float, n: int = 10):
    """``Binomial(Binomial(n, p), p)`` is ``Binomial(n, p²)``: mean ``np²``."""
    return n * p * p, 2 * n * p


def two_bernoullis(theta: float):
    """``2·Bernoulli(3θ) + Bernoulli(θ)``: mean ``7θ``."""
    return 7 * theta, 7.0


def galton_watson(p: float, generations: int = 5, founders: int = 1):
    """Poisson(p) offspring per individual: ``E[Z_g] = Z_0·p^g``."""
    return founders * p**generations, founders * generations * p ** (generations - 1)


def mixed(p: float, n: int = 10):
    """``s·(2b + 3c)·Normal(b, s)``, ``s = p(1 − p)``, ``b ~ Bin(n, p)``, ``c ~ Bern(p)``.

    The normal noise has mean zero and is independent, so
    ``E = s·(2E[b²] + 3E[b]E[c]) = s·(2(np(1 − p) + n²p²) + 3np²)``.
    """
    s, ds = p * (1 - p), 1 - 2 * p
    inner = 2 * (n * p * (1 - p) + n * n * p * p) + 3 * n * p * p
    dinner = 2 * (n * (1 - 2 * p) + 2 * n * n * p) + 6 * n * p
    return s * inner, ds * inner + s * dinner


def log_factorial(k):
    """``log k!`` (used by the Poisson log-pmf of the KL problem)."""
    return special.gammaln(np.asarray(k, dtype=float) + 1.0)


def extinction(lam: float, generations: int = 5):
    """``P(Z₅ = 0)`` of a Poisson(λ) Galton–Watson process from one founder: ``(P, dP/dλ)``.

    ``P = g⁵(0)`` with ``g(s) = exp(λ(s − 1))``, differentiated in forward mode:
    ``ds' = s'·((s − 1) + λ·ds)``.
    """
    s, ds = 0.0, 0.0
    for _ in range(generations):
        s, ds = np.exp(lam * (s - 1.0)), np.exp(lam * (s - 1.0)) * ((s - 1.0) + lam * ds)
    return float(s), float(ds)


PF_OBSERVATIONS = np.array([0.3, 1.2, 1.9, 2.1, 3.4, 3.2, 4.1, 4.8])
"""Noisy readings of a counting process (the particle-filter problem's data)."""


def pf_likelihood(y, x):
    """Observation density (up to a constant) of reading ``y`` at count ``x``: a unit
    Gaussian kernel."""
    return np.exp(-0.5 * (y - x) ** 2)


def particle_filter(theta: float, observations=PF_OBSERVATIONS):
    """The likelihood ``Z(θ) = E[Π_t g(y_t | X_t)]`` of ``X_t = X_{t-1} + Bernoulli(θ)``,
    ``X_0 = 0``, by the forward algorithm (substochastic transition matrices ``M·diag(g_t)``):
    ``(Z, dZ/dθ)``. A particle filter's likelihood estimate is unbiased for ``Z``."""
    steps = len(observations)
    states = np.arange(steps + 1)
    up, down = np.minimum(states + 1, steps), states
    q = np.full(states.size, theta)
    matrix, dmatrix = _bernoulli_step(q, np.ones(states.size), up, down)
    likelihoods = [np.diag(pf_likelihood(y, states)) for y in observations]
    return markov_derivative(np.eye(states.size)[0],
                             [(matrix @ g, dmatrix @ g) for g in likelihoods],
                             final=np.ones(states.size))
