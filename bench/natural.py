"""Natural simulation programs from nine fields, with the exact derivative of each expectation.

Each program ``prog(theta, rng)`` is written the way its field writes it: plain Python ``if``,
``while`` and ``break``, lists, sets and item assignment, and draws from ``rng`` through numpy's
``Generator`` methods only (``rng.random() < p`` for a Bernoulli, ``rng.binomial``,
``rng.poisson``, ...). It runs unchanged on ``np.random.default_rng(seed)`` (the plain program)
and on ``sad.Generator()`` (differentiated by replay). It returns a float.

The exact values are computed without stochad: closed forms where they exist, otherwise exact
dynamic programming over the program's state or enumeration of its configurations. The DP is
written for a complex parameter, so ``d/dθ`` comes out exactly (to rounding) by the complex step
``Im f(θ + ih) / h`` with ``h = 1e-30`` (the logistic process: the Fréchet derivative of
``expm``); no finite difference, no Monte Carlo.

:data:`PROGRAMS` maps each name to a :class:`NaturalProgram` (the program, ``theta0``, the exact
value and derivative, a one-line description and the field).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
from scipy import linalg, special

_STEP = 1e-30


def complex_step(mean: Callable, theta: float) -> float:
    """``d/dθ mean(θ)`` by the complex step ``Im mean(θ + ih) / h``, ``h = 1e-30``.

    Exact to rounding for a ``mean`` built from analytic operations (no ``abs``, no comparison
    of the parameter), since there is no subtraction of nearby values.

    Examples
    --------
    >>> complex_step(lambda t: t**3, 2.0)
    12.0
    """
    return float(mean(complex(theta, _STEP)).imag / _STEP)


def _binomial_pmf(n: int, q) -> np.ndarray:
    """``P(k)``, ``k = 0..n``, of Binomial(n, q); ``q`` may be complex."""
    k = np.arange(n + 1)
    return special.comb(n, k, exact=False) * q**k * (1 - q) ** (n - k)


def _poisson_pmf(lam, kmax: int) -> np.ndarray:
    """``P(k)``, ``k = 0..kmax``, of Poisson(lam); ``lam`` may be complex."""
    k = np.arange(kmax + 1)
    return np.exp(-lam) * lam**k / special.factorial(k)


# -- 1. epidemiology: Reed–Frost chain binomial --------------------------------------------------

RF_POPULATION, RF_INITIAL = 20, 1


def reed_frost(p, rng):
    """Final size of a Reed–Frost epidemic (chain binomial) in a closed population.

    Each generation, every susceptible escapes each of the ``i`` infectives independently with
    probability ``1 - p``, so the new cases are Binomial(s, 1 - (1 - p)**i); the epidemic stops
    (``break``) at the first generation without new cases. ``p`` is the per-contact
    infection probability; population 20, one initial case.

    Parameters
    ----------
    p : float
        Per-contact infection probability.
    rng : numpy.random.Generator
        Or ``sad.Generator()``: only its Generator methods are called.

    Returns
    -------
    float

    Notes
    -----
    Exact method: DP over the state (susceptibles, infectives) with the binomial pmf written for
    a complex ``p``; derivative by complex step.

    Examples
    --------
    >>> import numpy as np
    >>> reed_frost(0.1, np.random.default_rng(1)) >= 1
    True
    >>> round(PROGRAMS["reed_frost"].exact_derivative(0.1), 4)
    163.7523
    """
    s, i = RF_POPULATION - RF_INITIAL, RF_INITIAL
    total = i
    for _generation in range(RF_POPULATION):
        new_cases = rng.binomial(s, 1 - (1 - p) ** i)
        if new_cases == 0:
            break
        s -= new_cases
        i = new_cases
        total += new_cases
    return float(total)


def reed_frost_mean(p):
    """``E[final size]`` of :func:`reed_frost` by DP over (susceptibles, infectives)."""
    alive = {(RF_POPULATION - RF_INITIAL, RF_INITIAL): 1.0}
    mean = 0.0
    while alive:
        nxt = {}
        for (s, i), prob in alive.items():
            pmf = prob * _binomial_pmf(s, 1 - (1 - p) ** i)
            mean += pmf[0] * (RF_POPULATION - s)  # no new case: the epidemic is over
            for c in range(1, s + 1):
                nxt[s - c, c] = nxt.get((s - c, c), 0.0) + pmf[c]
        alive = nxt
    return mean


# -- 2. operations research: (s, S) inventory policy ---------------------------------------------

INV_SMALL_S, INV_BIG_S, INV_PERIODS = 4, 10, 20
INV_FIXED, INV_UNIT, INV_HOLDING, INV_LOST = 20.0, 2.0, 1.0, 5.0


def inventory_sS(demand_rate, rng):
    """Total cost of an (s, S) inventory policy with Poisson demand and lost sales.

    Each period: if the stock is below ``s = 4`` (``if x < s``), order up to ``S = 10`` (fixed
    cost 20 plus 2 a unit, delivered at once); then Poisson(``demand_rate``) customers arrive;
    unmet demand is lost (5 a unit) and the stock left over is held (1 a unit). 20 periods from
    a full stock.

    Parameters
    ----------
    demand_rate : float
        Mean demand per period (Poisson rate).
    rng : numpy.random.Generator
        Or ``sad.Generator()``: only its Generator methods are called.

    Returns
    -------
    float

    Notes
    -----
    Exact method: DP over the stock level ``0..S`` with the Poisson pmf written for a complex
    rate (expected lost sales ``E(D - y)^+ = λ - y + E(y - D)^+``); derivative by complex step.

    Examples
    --------
    >>> import numpy as np
    >>> inventory_sS(4.0, np.random.default_rng(1)) > 0
    True
    >>> round(PROGRAMS["inventory_sS"].exact_derivative(4.0), 4)
    66.9369
    """
    x = INV_BIG_S
    cost = 0.0
    for _period in range(INV_PERIODS):
        if x < INV_SMALL_S:
            cost += INV_FIXED + INV_UNIT * (INV_BIG_S - x)
            x = INV_BIG_S
        demand = rng.poisson(demand_rate)
        if demand > x:
            cost += INV_LOST * (demand - x)
            x = 0
        else:
            x -= demand
        cost += INV_HOLDING * x
    return cost


def inventory_sS_mean(lam):
    """``E[total cost]`` of :func:`inventory_sS` by DP over the stock level."""
    levels = INV_BIG_S + 1
    pmf = _poisson_pmf(lam, INV_BIG_S)
    prob = np.zeros(levels, dtype=complex)
    prob[INV_BIG_S] = 1.0
    mean = 0.0
    for _period in range(INV_PERIODS):
        nxt = np.zeros(levels, dtype=complex)
        for x in range(levels):
            y = x
            if x < INV_SMALL_S:
                mean += prob[x] * (INV_FIXED + INV_UNIT * (INV_BIG_S - x))
                y = INV_BIG_S
            left = np.arange(y, 0, -1)  # stock left after demand k = 0..y-1
            held = np.sum(pmf[:y] * left)  # E (y - D)^+
            mean += prob[x] * (INV_HOLDING * held + INV_LOST * (lam - y + held))
            nxt[1 : y + 1] += prob[x] * pmf[:y][::-1]
            nxt[0] += prob[x] * (1 - np.sum(pmf[:y]))
        prob = nxt
    return mean


# -- 3. queueing: finite-buffer discrete-time queue ----------------------------------------------

Q_BUFFER, Q_SERVICE, Q_STEPS, Q_LOSS_COST = 5, 0.5, 30, 5.0


def finite_buffer_queue(p_arrival, rng):
    """Cost of a discrete-time single-server queue with a finite buffer (Geo/Geo/1/B).

    Each time slot a customer arrives with probability ``p_arrival`` (``rng.random() < p``); if
    the buffer (5 places) is full they are lost (cost 5), else they join. Then, if anyone is
    waiting, service completes with probability 0.5. The cost adds the queue length each slot
    (holding) over 30 slots.

    Parameters
    ----------
    p_arrival : float
        Arrival probability per slot.
    rng : numpy.random.Generator
        Or ``sad.Generator()``: only its Generator methods are called.

    Returns
    -------
    float

    Notes
    -----
    Exact method: DP over the queue length ``0..B`` (a Markov chain), written for a complex
    ``p_arrival``; derivative by complex step.

    Examples
    --------
    >>> import numpy as np
    >>> finite_buffer_queue(0.4, np.random.default_rng(1)) >= 0
    True
    >>> round(PROGRAMS["finite_buffer_queue"].exact_derivative(0.4), 4)
    153.5493
    """
    q = 0
    lost = 0
    waiting = 0
    for _slot in range(Q_STEPS):
        if rng.random() < p_arrival:
            if q < Q_BUFFER:
                q += 1
            else:
                lost += 1
        if q > 0:
            if rng.random() < Q_SERVICE:
                q -= 1
        waiting += q
    return waiting + Q_LOSS_COST * lost


def finite_buffer_queue_mean(p):
    """``E[cost]`` of :func:`finite_buffer_queue` by DP over the queue length."""
    states = Q_BUFFER + 1
    prob = np.zeros(states, dtype=complex)
    prob[0] = 1.0
    lengths = np.arange(states)
    mean = 0.0
    for _slot in range(Q_STEPS):
        mean += Q_LOSS_COST * p * prob[Q_BUFFER]
        arrived = (1 - p) * prob
        arrived[1:] += p * prob[:-1]
        arrived[Q_BUFFER] += p * prob[Q_BUFFER]
        prob = (1 - Q_SERVICE) * arrived
        prob[0] = arrived[0]  # an empty queue has no service to complete
        prob[:-1] += Q_SERVICE * arrived[1:]
        mean += np.sum(prob * lengths)
    return mean


# -- 4. population biology: Galton–Watson branching process --------------------------------------

GW_GENERATIONS = 12


def galton_watson(mean_offspring, rng):
    """Number of generations (out of 12) a Galton–Watson lineage survives.

    One ancestor; each individual of a generation has Poisson(``mean_offspring``) children,
    drawn for the whole generation at once (``rng.poisson(m, size=z).sum()``); the loop stops
    (``break``) at extinction.

    Parameters
    ----------
    mean_offspring : float
        Mean number of children (Poisson).
    rng : numpy.random.Generator
        Or ``sad.Generator()``: only its Generator methods are called.

    Returns
    -------
    float

    Notes
    -----
    Exact method: ``E = Σ_{k=1}^{12} (1 - f_k(0))`` with ``f_k`` the ``k``-th iterate of the
    offspring generating function ``f(s) = exp(m (s - 1))``; derivative by complex step.

    Examples
    --------
    >>> import numpy as np
    >>> 0 <= galton_watson(1.2, np.random.default_rng(1)) <= 12
    True
    >>> round(PROGRAMS["galton_watson"].exact_derivative(1.2), 4)
    9.003
    """
    z = 1
    survived = 0
    for _generation in range(GW_GENERATIONS):
        z = rng.poisson(mean_offspring, size=z).sum()
        if z == 0:
            break
        survived += 1
    return float(survived)


def galton_watson_mean(m):
    """``E[generations survived]`` of :func:`galton_watson` from the generating function."""
    extinct = 0.0  # P(Z_k = 0) = f_k(0)
    mean = 0.0
    for _generation in range(GW_GENERATIONS):
        extinct = np.exp(m * (extinct - 1))
        mean += 1 - extinct
    return mean


# -- 5. statistical physics: site percolation with a flood fill ----------------------------------

PERC_SIZE = 4


def site_percolation(p, rng):
    """Whether an open path joins the top row to the bottom row of a 4x4 grid.

    Each site is open with probability ``p`` (``rng.random() < p``, row by row); a depth-first
    flood fill over Python sets from the open top sites looks for the bottom row.

    Parameters
    ----------
    p : float
        Probability that a site is open.
    rng : numpy.random.Generator
        Or ``sad.Generator()``: only its Generator methods are called.

    Returns
    -------
    float

    Notes
    -----
    Exact method: enumerate all ``2**16`` configurations (bit-parallel flood fill in numpy) to
    count the spanning ones with ``k`` open sites, ``N_k``; then
    ``E = Σ_k N_k p**k (1 - p)**(16 - k)``, differentiated by complex step.

    Examples
    --------
    >>> import numpy as np
    >>> site_percolation(0.6, np.random.default_rng(1)) in (0.0, 1.0)
    True
    >>> round(PROGRAMS["site_percolation"].exact_derivative(0.6), 4)
    2.4073
    """
    n = PERC_SIZE
    open_sites = {(r, c) for r in range(n) for c in range(n) if rng.random() < p}
    frontier = [(0, c) for c in range(n) if (0, c) in open_sites]
    seen = set(frontier)
    while frontier:
        r, c = frontier.pop()
        if r == n - 1:
            return 1.0
        for site in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):
            if site in open_sites and site not in seen:
                seen.add(site)
                frontier.append(site)
    return 0.0


@cache
def spanning_counts(n: int = PERC_SIZE) -> np.ndarray:
    """``N_k``: the configurations of the ``n x n`` grid with ``k`` open sites that span.

    Site ``(r, c)`` is bit ``r*n + c``; the flood fill grows the reached set of every
    configuration at once until it stops changing.

    Examples
    --------
    >>> spanning_counts(2).tolist()  # 2x2: a full column is needed
    [0, 0, 2, 4, 1]
    """
    configs = np.arange(2 ** (n * n), dtype=np.int64)
    row = (1 << n) - 1
    first_col = sum(1 << (r * n) for r in range(n))
    last_col = first_col << (n - 1)
    reached = configs & row
    while True:
        grown = (reached | (reached << n) | (reached >> n)
                 | ((reached << 1) & ~first_col) | ((reached >> 1) & ~last_col))
        grown &= configs
        if np.array_equal(grown, reached):
            break
        reached = grown
    spans = (reached >> (n * (n - 1))) & row != 0
    open_count = np.zeros_like(configs)
    for bit in range(n * n):
        open_count += (configs >> bit) & 1
    return np.bincount(open_count[spans], minlength=n * n + 1)


def site_percolation_mean(p):
    """``P(spanning)`` of :func:`site_percolation`: a polynomial in ``p``."""
    sites = PERC_SIZE**2
    k = np.arange(sites + 1)
    return np.sum(spanning_counts() * p**k * (1 - p) ** (sites - k))


# -- 6. agent-based modelling: noisy voter model on a ring ---------------------------------------

VOTER_AGENTS, VOTER_STEPS = 8, 30


def noisy_voter(noise, rng):
    """Number of disagreeing neighbour pairs after 30 updates of a noisy voter model.

    8 agents on a ring, opinions ``[1, 1, 1, 1, 0, 0, 0, 0]``. Each update picks an agent; with
    probability ``noise`` it takes a random opinion, otherwise it copies a random neighbour
    (``x[i] = x[j]``). The output counts the active interfaces.

    Parameters
    ----------
    noise : float
        Probability that an update takes a random opinion.
    rng : numpy.random.Generator
        Or ``sad.Generator()``: only its Generator methods are called.

    Returns
    -------
    float

    Notes
    -----
    Exact method: the Markov chain on all ``2**8`` opinion profiles; its transition matrix is
    ``(1 - noise) A + noise B``, powered by forward DP; derivative by complex step.

    Examples
    --------
    >>> import numpy as np
    >>> noisy_voter(0.2, np.random.default_rng(1)) in range(0, 9, 2)
    True
    >>> round(PROGRAMS["noisy_voter"].exact_derivative(0.2), 4)
    3.1781
    """
    x = [1, 1, 1, 1, 0, 0, 0, 0]
    n = len(x)
    for _step in range(VOTER_STEPS):
        i = rng.integers(n)
        if rng.random() < noise:
            x[i] = rng.integers(2)
        else:
            j = (i + rng.choice([-1, 1])) % n
            x[i] = x[j]
    return float(sum(x[k] != x[(k + 1) % n] for k in range(n)))


@cache
def _voter_matrices() -> tuple[np.ndarray, np.ndarray]:
    """Transition matrices of the copy move (``A``) and the noise move (``B``); bit k = agent k."""
    n = VOTER_AGENTS
    copy = np.zeros((2**n, 2**n))
    noise = np.zeros((2**n, 2**n))
    for state in range(2**n):
        for i in range(n):
            cleared = state & ~(1 << i)
            for j in ((i - 1) % n, (i + 1) % n):
                copy[state, cleared | (((state >> j) & 1) << i)] += 1 / (2 * n)
            for opinion in (0, 1):
                noise[state, cleared | (opinion << i)] += 1 / (2 * n)
    return copy, noise


def noisy_voter_mean(noise):
    """``E[active interfaces]`` of :func:`noisy_voter` by forward DP over opinion profiles."""
    n = VOTER_AGENTS
    copy, move = _voter_matrices()
    matrix = (1 - noise) * copy + noise * move
    states = np.arange(2**n)
    rotated = (states >> 1) | ((states & 1) << (n - 1))
    interfaces = np.array([bin(s).count("1") for s in states ^ rotated])
    prob = np.zeros(2**n, dtype=complex)
    prob[0b00001111] = 1.0  # agents 0..3 hold opinion 1
    for _step in range(VOTER_STEPS):
        prob = prob @ matrix
    return prob @ interfaces


# -- 7. reinforcement learning: epsilon-greedy bandit --------------------------------------------

BANDIT_ARMS, BANDIT_STEPS = (0.3, 0.5, 0.7), 12


def epsilon_greedy(epsilon, rng):
    """Total reward of an epsilon-greedy agent on a 3-armed Bernoulli bandit over 12 pulls.

    Arms pay 1 with probabilities 0.3, 0.5, 0.7. With probability ``epsilon`` the agent pulls a
    uniformly random arm, otherwise the arm with the best average reward so far (untried arms
    first, ties to the lowest index); it updates ``counts[arm] += 1`` and ``values[arm] += r``.

    Parameters
    ----------
    epsilon : float
        Exploration probability.
    rng : numpy.random.Generator
        Or ``sad.Generator()``: only its Generator methods are called.

    Returns
    -------
    float

    Notes
    -----
    Exact method: DP over the sufficient state (pulls and successes of each arm), with the same
    greedy rule evaluated on each state; derivative by complex step.

    Examples
    --------
    >>> import numpy as np
    >>> 0 <= epsilon_greedy(0.2, np.random.default_rng(1)) <= 12
    True
    >>> round(PROGRAMS["epsilon_greedy"].exact_derivative(0.2), 4)
    -0.5624
    """
    k = len(BANDIT_ARMS)
    counts = np.zeros(k, dtype=int)
    values = np.zeros(k)  # total reward of each arm
    total = 0.0
    for _step in range(BANDIT_STEPS):
        if rng.random() < epsilon:
            arm = rng.integers(k)
        else:
            means = np.full(k, np.inf)
            tried = counts > 0
            means[tried] = values[tried] / counts[tried]
            arm = int(np.argmax(means))
        reward = 1.0 if rng.random() < BANDIT_ARMS[arm] else 0.0
        counts[arm] += 1
        values[arm] += reward
        total += reward
    return total


def _greedy_arm(state: tuple) -> int:
    """The arm :func:`epsilon_greedy` exploits in ``state = (n_0, s_0, n_1, s_1, ...)``."""
    means = [state[2 * a + 1] / state[2 * a] if state[2 * a] else math.inf
             for a in range(len(BANDIT_ARMS))]
    return means.index(max(means))


def epsilon_greedy_mean(epsilon):
    """``E[total reward]`` of :func:`epsilon_greedy` by DP over (pulls, successes) per arm."""
    k = len(BANDIT_ARMS)
    states = {(0,) * (2 * k): 1.0}
    mean = 0.0
    for _step in range(BANDIT_STEPS):
        nxt = {}
        for state, prob in states.items():
            choice = [epsilon / k] * k
            choice[_greedy_arm(state)] += 1 - epsilon
            for arm, q in enumerate(choice):
                win = BANDIT_ARMS[arm]
                mean += prob * q * win
                for reward, r_prob in ((1, win), (0, 1 - win)):
                    after = list(state)
                    after[2 * arm] += 1
                    after[2 * arm + 1] += reward
                    after = tuple(after)
                    nxt[after] = nxt.get(after, 0.0) + prob * q * r_prob
        states = nxt
    return mean


# -- 8. systems biology: Gillespie simulation of birth–death processes ---------------------------

BD_DEATH, BD_INITIAL, BD_HORIZON = 0.8, 5, 2.0


def birth_death_gillespie(birth, rng):
    """Population at time 2 of a linear birth–death process, by Gillespie's direct method.

    Each of the ``n`` individuals gives birth at rate ``birth`` and dies at rate 0.8; start
    from 5. ``while t < T``: draw the exponential waiting time to the next event, then pick the
    reaction with probability proportional to its rate.

    Parameters
    ----------
    birth : float
        Per-capita birth rate.
    rng : numpy.random.Generator
        Or ``sad.Generator()``: only its Generator methods are called.

    Returns
    -------
    float

    Notes
    -----
    Exact method: closed form ``E N(T) = n0 exp((λ - μ) T)``, so
    ``dE/dλ = n0 T exp((λ - μ) T)``.

    Examples
    --------
    >>> import numpy as np
    >>> birth_death_gillespie(1.0, np.random.default_rng(1)) >= 0
    True
    >>> round(PROGRAMS["birth_death_gillespie"].exact_derivative(1.0), 4)
    14.9182
    """
    n, t = BD_INITIAL, 0.0
    while t < BD_HORIZON:
        birth_rate, death_rate = birth * n, BD_DEATH * n
        total_rate = birth_rate + death_rate
        if total_rate == 0:
            break
        t += rng.exponential(1 / total_rate)
        if t >= BD_HORIZON:
            break
        if rng.random() < birth_rate / total_rate:
            n += 1
        else:
            n -= 1
    return float(n)


def birth_death_mean(birth):
    """``E N(T)`` of :func:`birth_death_gillespie` (closed form)."""
    return BD_INITIAL * np.exp((birth - BD_DEATH) * BD_HORIZON)



BD_CLOCK = 3.0


def birth_death_thinning(birth, rng):
    """The birth–death process of :func:`birth_death_gillespie`, simulated by thinning.

    Events ring at the fixed per-capita rate 3 (an upper bound on ``birth + 0.8``); one uniform
    picks the reaction: a birth if ``u < birth / 3``, else a death if ``u < (birth + 0.8) / 3``,
    else nothing (``if``/``elif`` on the same uniform). Valid for ``birth <= 2.2``.

    Parameters
    ----------
    birth : float
        Per-capita birth rate.
    rng : numpy.random.Generator
        Or ``sad.Generator()``: only its Generator methods are called.

    Returns
    -------
    float

    Notes
    -----
    Exact method: the same closed form as :func:`birth_death_gillespie`.

    Examples
    --------
    >>> import numpy as np
    >>> birth_death_thinning(1.0, np.random.default_rng(1)) >= 0
    True
    >>> round(PROGRAMS["birth_death_thinning"].exact_derivative(1.0), 4)
    14.9182
    """
    n, t = BD_INITIAL, 0.0
    while t < BD_HORIZON and n > 0:
        t += rng.exponential(1 / (BD_CLOCK * n))
        if t >= BD_HORIZON:
            break
        u = rng.random()
        if u < birth / BD_CLOCK:
            n += 1
        elif u < (birth + BD_DEATH) / BD_CLOCK:
            n -= 1
    return float(n)


LOG_CAPACITY, LOG_DEATH, LOG_INITIAL, LOG_HORIZON = 20, 1.0, 2, 4.0


def logistic_gillespie(birth, rng):
    """Population at time 4 of a stochastic logistic (SIS-type) process, by Gillespie.

    Births at rate ``birth * n * (1 - n / 20)`` (no births at the capacity 20), deaths at rate
    ``n``, from 2 individuals; extinction (rate 0) ends the run.

    Parameters
    ----------
    birth : float
        Per-capita birth rate at low density.
    rng : numpy.random.Generator
        Or ``sad.Generator()``: only its Generator methods are called.

    Returns
    -------
    float

    Notes
    -----
    Exact method: the master equation on ``0..20``: ``E N(T) = e_2ᵀ expm(Q T) n`` and its
    derivative from the Fréchet derivative of ``expm`` in the direction ``T dQ/dλ``
    (``scipy.linalg.expm_frechet``).

    Examples
    --------
    >>> import numpy as np
    >>> 0 <= logistic_gillespie(1.5, np.random.default_rng(1)) <= 20
    True
    >>> round(PROGRAMS["logistic_gillespie"].exact_derivative(1.5), 4)
    4.8755
    """
    n, t = LOG_INITIAL, 0.0
    while t < LOG_HORIZON:
        rates = [birth * n * (1 - n / LOG_CAPACITY), LOG_DEATH * n]
        total_rate = sum(rates)
        if total_rate == 0:
            break
        t += rng.exponential(1 / total_rate)
        if t < LOG_HORIZON:
            n += 1 if rng.random() < rates[0] / total_rate else -1
    return float(n)


def _logistic_generator() -> tuple[np.ndarray, np.ndarray]:
    """Generator parts of :func:`logistic_gillespie`: ``Q = birth * G_birth + G_death``."""
    n = np.arange(LOG_CAPACITY + 1)
    up = n[:-1] * (1 - n[:-1] / LOG_CAPACITY)
    down = LOG_DEATH * n[1:]
    g_birth = np.diag(up, 1) - np.diag(np.append(up, 0.0))
    g_death = np.diag(down, -1) - np.diag(np.insert(down, 0, 0.0))
    return g_birth, g_death


def logistic_exact(birth: float) -> tuple[float, float]:
    """``E N(T)`` of :func:`logistic_gillespie` and its derivative in ``birth``."""
    g_birth, g_death = _logistic_generator()
    expm, dexpm = linalg.expm_frechet((birth * g_birth + g_death) * LOG_HORIZON,
                                      g_birth * LOG_HORIZON)
    n = np.arange(LOG_CAPACITY + 1)
    return float(expm[LOG_INITIAL] @ n), float(dexpm[LOG_INITIAL] @ n)


# -- 11. queueing: a discrete-event loop over a heap of events -----------------------------------

MM1_SERVICE, MM1_HORIZON, MM1_CAP = 1.0, 5.0, 80


def mm1_event_heap(arrival_rate, rng):
    """Customers an M/M/1 queue serves by time 5, simulated over a heap of ``(time, kind)``.

    The discrete-event loop of queueing textbooks: pop the next event, stop past the horizon,
    push the next arrival (exponential gaps of rate ``arrival_rate``) and the departure of the
    customer entering service (exponential, rate 1). The heap compares event times that all
    move with the parameter.

    Parameters
    ----------
    arrival_rate : float
        Poisson arrival rate.
    rng : numpy.random.Generator
        Or ``sad.Generator()``: only its Generator methods are called.

    Returns
    -------
    float

    Notes
    -----
    Exact method: ``E[departures by T] = E ∫_0^T 1{q > 0} ds`` by the Markov chain of the queue
    length (truncated at 80, beyond reach), its reward accumulated in an extra column of the
    generator; ``expm`` and its Fréchet derivative.

    Examples
    --------
    >>> import numpy as np
    >>> mm1_event_heap(0.7, np.random.default_rng(1)) >= 0
    True
    >>> round(PROGRAMS["mm1_event_heap"].exact_derivative(0.7), 4)
    2.4921
    """
    events = [(rng.exponential(1 / arrival_rate), 0)]  # (time, kind): 0 arrival, 1 departure
    queue, served = 0, 0
    while events:
        t, kind = heapq.heappop(events)
        if t > MM1_HORIZON:
            break
        if kind == 0:
            queue += 1
            heapq.heappush(events, (t + rng.exponential(1 / arrival_rate), 0))
            if queue == 1:
                heapq.heappush(events, (t + rng.exponential(MM1_SERVICE), 1))
        else:
            queue -= 1
            served += 1
            if queue > 0:
                heapq.heappush(events, (t + rng.exponential(MM1_SERVICE), 1))
    return float(served)


def mm1_exact(arrival_rate: float) -> tuple[float, float]:
    """``E[departures by T]`` of :func:`mm1_event_heap` and its derivative."""
    size = MM1_CAP + 2  # queue lengths 0..cap, then the accumulated reward
    g_arrival, g_rest = np.zeros((size, size)), np.zeros((size, size))
    for q in range(MM1_CAP + 1):
        if q < MM1_CAP:
            g_arrival[q, q + 1], g_arrival[q, q] = 1.0, -1.0
        if q > 0:
            g_rest[q, q - 1], g_rest[q, q] = 1 / MM1_SERVICE, -1 / MM1_SERVICE
            g_rest[q, MM1_CAP + 1] = 1 / MM1_SERVICE  # the departure rate, integrated
    expm, dexpm = linalg.expm_frechet((arrival_rate * g_arrival + g_rest) * MM1_HORIZON,
                                      g_arrival * MM1_HORIZON)
    return float(expm[0, MM1_CAP + 1]), float(dexpm[0, MM1_CAP + 1])


# -- 12. maintenance: gamma repair times and an overtime branch ----------------------------------

REPAIR_JOBS, REPAIR_SHAPE, REPAIR_DAY, REPAIR_OVERTIME = 5, 2.0, 8.0, 50.0


def repair_overtime(mean_repair, rng):
    """Overtime cost of a day of five repairs with Gamma(2) times of mean ``mean_repair`` hours.

    The jobs run back to back; each one that ends after the 8-hour day costs 50 (``if clock >
    8``). The times are ``rng.gamma(2, mean / 2)``: a law the replay engine draws by inversion.

    Parameters
    ----------
    mean_repair : float
        Mean repair time, hours.
    rng : numpy.random.Generator
        Or ``sad.Generator()``: only its Generator methods are called.

    Returns
    -------
    float

    Notes
    -----
    Exact method: the ``j``-th job ends at a Gamma(2j, mean/2) time, so ``E = 50 Σ_j Q(2j,
    16/mean)`` with ``Q`` the regularised upper incomplete gamma function, and ``dQ/dx`` is the
    Gamma(2j) density: a closed form for the derivative.

    Examples
    --------
    >>> import numpy as np
    >>> repair_overtime(1.5, np.random.default_rng(1)) >= 0
    True
    >>> round(PROGRAMS["repair_overtime"].exact_derivative(1.5), 4)
    77.9613
    """
    clock, cost = 0.0, 0.0
    for _job in range(REPAIR_JOBS):
        clock += rng.gamma(REPAIR_SHAPE, mean_repair / REPAIR_SHAPE)
        if clock > REPAIR_DAY:
            cost += REPAIR_OVERTIME
    return cost


def repair_exact(mean_repair: float) -> tuple[float, float]:
    """``E`` of :func:`repair_overtime` and its derivative in ``mean_repair``."""
    x = REPAIR_DAY * REPAIR_SHAPE / mean_repair  # the day in units of the gamma scale
    shapes = REPAIR_SHAPE * np.arange(1, REPAIR_JOBS + 1)
    value = REPAIR_OVERTIME * special.gammaincc(shapes, x).sum()
    # d/dmean Q(a, x) = -x^(a-1) e^-x / Γ(a) · dx/dmean, dx/dmean = -x / mean
    density = np.exp((shapes - 1) * np.log(x) - x - special.gammaln(shapes))
    return float(value), float(REPAIR_OVERTIME * (density * x / mean_repair).sum())


CALLS, MINUTE_PRICE, BILLED_CAP = 20, 0.1, 10.0


def call_billing(mean_minutes, rng):
    """A telecom operator's revenue from a day's 20 calls, each billed per started minute
    (``math.ceil``) and at most 10 minutes (``np.minimum``), call lengths exponential with
    mean ``mean_minutes``, drawn at once and billed in a loop.

    Parameters
    ----------
    mean_minutes : float
        Mean call length, minutes.
    rng : numpy.random.Generator
        Or ``sad.Generator()``: only its Generator methods are called.

    Returns
    -------
    float

    Notes
    -----
    Exact method: ``ceil(min(X, 10)) >= k`` iff ``X > k − 1`` for ``k = 1..10``, so
    ``E = 20·0.1·Σ_{j=0}^{9} e^{−j/m}``.

    Examples
    --------
    >>> import numpy as np
    >>> call_billing(3.0, np.random.default_rng(1)) > 0
    True
    >>> round(PROGRAMS["call_billing"].exact_derivative(3.0), 4)
    1.6312
    """
    revenue = 0.0
    for minutes in rng.exponential(mean_minutes, size=CALLS):
        revenue += MINUTE_PRICE * math.ceil(np.minimum(minutes, BILLED_CAP))
    return revenue


def call_billing_mean(mean_minutes):
    """``E`` of :func:`call_billing` (closed form; complex ``mean_minutes`` allowed)."""
    return CALLS * MINUTE_PRICE * sum(np.exp(-j / mean_minutes) for j in range(int(BILLED_CAP)))


BAKERY_LOAVES, BAKERY_CLOSING, BAKERY_PRICE = 12, 3.0, 2.5


def bakery_sales(rate, rng):
    """A bakery's takings on an afternoon: customers arrive as a Poisson process of ``rate``
    an hour, written as the retail modeller writes one (arrival times the running sum,
    ``np.cumsum``, of exponential gaps drawn at once); each buys one of 12 loaves at 2.5
    until the loaves run out or the shop closes after 3 hours.

    Parameters
    ----------
    rate : float
        Customers per hour.
    rng : numpy.random.Generator
        Or ``sad.Generator()``: only its Generator methods are called.

    Returns
    -------
    float

    Notes
    -----
    Exact method: the sales are ``min(N(3), 12)``, ``N(3)`` Poisson with mean ``3·rate``, so
    ``E = 2.5·Σ_{k=0}^{11} P(N(3) > k)``.

    Examples
    --------
    >>> import numpy as np
    >>> bakery_sales(3.0, np.random.default_rng(1)) > 0
    True
    >>> round(PROGRAMS["bakery_sales"].exact_derivative(3.0), 4)
    6.0226
    """
    arrivals = np.cumsum(rng.exponential(1 / rate, size=BAKERY_LOAVES))
    takings = 0.0
    for t in arrivals:
        if t > BAKERY_CLOSING:
            break
        takings += BAKERY_PRICE
    return takings


def bakery_sales_mean(rate):
    """``E`` of :func:`bakery_sales` (closed form; complex ``rate`` allowed)."""
    mu = BAKERY_CLOSING * rate
    terms = [mu**j / math.factorial(j) for j in range(BAKERY_LOAVES)]
    at_most = np.cumsum(terms) * np.exp(-mu)  # P(N <= k), k = 0..11
    return BAKERY_PRICE * np.sum(1 - at_most)


# -- the registry -------------------------------------------------------------------------------

@dataclass(frozen=True)
class NaturalProgram:
    """A natural program with the exact derivative of its expectation.

    Attributes
    ----------
    name, field, description, exact_method : str
    prog : callable
        ``prog(theta, rng)`` with ``rng`` a numpy ``Generator`` (or ``sad.Generator()``).
    theta0 : float
        Where the derivative is taken.
    exact_value, exact_derivative : callable
        ``E[prog(theta, rng)]`` and its derivative in ``theta``, computed without stochad.
    """

    name: str
    field: str
    description: str
    prog: Callable
    theta0: float
    exact_value: Callable
    exact_derivative: Callable
    exact_method: str


def _by_complex_step(name, field, description, prog, theta0, mean, method) -> NaturalProgram:
    return NaturalProgram(name, field, description, prog, theta0,
                          lambda theta: float(np.real(mean(theta))),
                          lambda theta: complex_step(mean, theta),
                          method + "; derivative by complex step")


PROGRAMS: dict[str, NaturalProgram] = {p.name: p for p in [
    _by_complex_step("reed_frost", "epidemiology",
                     "Reed–Frost chain binomial, N=20, final size, break when no new case",
                     reed_frost, 0.1, reed_frost_mean, "DP over (susceptible, infective)"),
    _by_complex_step("inventory_sS", "operations research",
                     "(s, S) = (4, 10) policy, Poisson demand, lost sales, cost over 20 periods",
                     inventory_sS, 4.0, inventory_sS_mean, "DP over the stock level"),
    _by_complex_step("finite_buffer_queue", "queueing",
                     "Geo/Geo/1/5 queue with rng.random() < p, holding + loss cost, 30 slots",
                     finite_buffer_queue, 0.4, finite_buffer_queue_mean,
                     "DP over the queue length"),
    _by_complex_step("galton_watson", "population biology",
                     "Poisson Galton–Watson, poisson(m, size=z).sum(), generations survived",
                     galton_watson, 1.2, galton_watson_mean,
                     "iterated generating function"),
    _by_complex_step("site_percolation", "statistical physics",
                     "4x4 site percolation, flood fill over sets, top-bottom spanning",
                     site_percolation, 0.6, site_percolation_mean,
                     "enumeration of 2**16 configurations"),
    _by_complex_step("noisy_voter", "agent-based modelling",
                     "noisy voter model on a ring of 8, x[i] = x[j], interfaces after 30 steps",
                     noisy_voter, 0.2, noisy_voter_mean, "Markov chain on 2**8 profiles"),
    _by_complex_step("epsilon_greedy", "reinforcement learning",
                     "epsilon-greedy on 3 Bernoulli arms, counts[arm] += 1, reward of 12 pulls",
                     epsilon_greedy, 0.2, epsilon_greedy_mean,
                     "DP over pulls and successes per arm"),
    _by_complex_step("birth_death_gillespie", "systems biology",
                     "linear birth-death by Gillespie, while t < T, population at T=2",
                     birth_death_gillespie, 1.0, birth_death_mean, "closed form"),
    _by_complex_step("birth_death_thinning", "systems biology",
                     "linear birth-death by thinning at a fixed clock, if/elif on one uniform",
                     birth_death_thinning, 1.0, birth_death_mean, "closed form"),
    NaturalProgram("logistic_gillespie", "systems biology",
                   "logistic birth-death (capacity 20) by Gillespie, population at T=4",
                   logistic_gillespie, 1.5,
                   lambda theta: logistic_exact(theta)[0],
                   lambda theta: logistic_exact(theta)[1],
                   "master equation, expm and its Fréchet derivative"),
    NaturalProgram("mm1_event_heap", "queueing",
                   "M/M/1 as a heap of (time, kind) events, customers served by T=5",
                   mm1_event_heap, 0.7,
                   lambda theta: mm1_exact(theta)[0], lambda theta: mm1_exact(theta)[1],
                   "Markov chain of the queue length, expm and its Fréchet derivative"),
    NaturalProgram("repair_overtime", "maintenance",
                   "five Gamma(2) repairs back to back, 50 per job ending after 8 hours",
                   repair_overtime, 1.5,
                   lambda theta: repair_exact(theta)[0], lambda theta: repair_exact(theta)[1],
                   "closed form (incomplete gamma function)"),
    _by_complex_step("call_billing", "telecommunications",
                     "20 calls drawn at once, billed per started minute (ceil), capped at 10",
                     call_billing, 3.0, call_billing_mean, "closed form"),
    _by_complex_step("bakery_sales", "retail",
                     "Poisson arrivals as np.cumsum of gaps, 12 loaves, closing after 3 hours",
                     bakery_sales, 3.0, bakery_sales_mean, "closed form (Poisson tail sums)"),
]}
