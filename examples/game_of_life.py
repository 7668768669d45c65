"""A stochastic Game of Life, differentiated with respect to two parameters at once.

The board is a torus. Every cell starts alive with probability ``density``; then, at each
generation, a cell is alive with probability ``1 − noise`` where Conway's rule says it should
be, and with probability ``noise`` where it says it should not. We differentiate the expected
number of live cells at the end with respect to ``theta = [density, noise]``.

Everything random here is a discrete draw and the rule is made of comparisons and logic, so
there is no pathwise derivative at all; stochastic triples follow the alternative board that a
flipped cell would produce, through every later generation.

Run: ``python examples/game_of_life.py`` (``STOCHAD_EXAMPLE_QUICK=1`` for a few-second run).
"""

import os

import numpy as np

import stochad as sad

QUICK = os.environ.get("STOCHAD_EXAMPLE_QUICK") == "1"
SIZE, GENERATIONS = (6, 3) if QUICK else (12, 8)
THETA = np.array([0.4, 0.05])  # initial density, noise


def neighbours(board):
    """Live neighbours of every cell on the torus (indexing with permutations of the rows and
    columns works on stochastic triples as on arrays)."""
    index = np.arange(SIZE)
    total = 0
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            if (dr, dc) != (0, 0):
                total = total + board[(index - dr) % SIZE][:, (index - dc) % SIZE]
    return total


def life(theta):
    """Number of live cells after ``GENERATIONS`` noisy generations."""
    density, noise = theta[0], theta[1]
    board = sad.bernoulli(density, size=(SIZE, SIZE))
    for _ in range(GENERATIONS):
        count = neighbours(board)
        conway = (count == 3) | ((board == 1) & (count == 2))  # comparisons give triples too
        board = sad.bernoulli(noise + (1 - 2 * noise) * conway)
    return np.sum(board)


def show(board):
    return "\n".join("".join("█" if cell else "·" for cell in row) for row in board)


def main():
    n_samples = 1_000 if QUICK else 20_000
    final = sad.stochastic_triple(life, THETA, rng=3)
    print(f"{SIZE}x{SIZE} torus, {GENERATIONS} generations, density {THETA[0]}, noise "
          f"{THETA[1]}; one run ends with {int(sad.value(final))} live cells\n")

    print(f"d/dθ E[live cells], θ = (density, noise), {n_samples} samples:")
    for label, options in [("triple", {}),
                           ("score + baseline", {"estimator": "score", "baseline": True}),
                           ("finite differences", {"estimator": "fd", "h": 0.01})]:
        grad = sad.derivative_samples(life, THETA, n_samples=n_samples, rng=0, **options)
        mean, stderr = grad.mean(axis=0), grad.std(axis=0, ddof=1) / np.sqrt(n_samples)
        print(f"  {label:20s} density {mean[0]:8.2f} ± {stderr[0]:5.2f}   "
              f"noise {mean[1]:8.2f} ± {stderr[1]:5.2f}")

    # What a board looks like: draw one with plain numbers (outside an estimator the samplers
    # behave like numpy's, given an rng).
    board = sad.bernoulli(THETA[0], size=(SIZE, SIZE), rng=3)
    print(f"\nan initial board at density {THETA[0]}:\n{show(board)}")


if __name__ == "__main__":
    main()
