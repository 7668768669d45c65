"""What would fusing a program step into one kernel buy? A prototype on the random walk.

``python -m stochad.bench.fused_walk`` runs the random walk of ``stochad-bench run random-walk``
(``n += Bernoulli(p·(1 − (n + i)/200))``, 100 steps) with stochastic triples and the pruned
backend's rules, written out by hand as one numba kernel per step: the code a compiler for
whole program steps would emit. It is *not* part of the library; it measures the ceiling of the
redesign that the walk's speed target needs (see the README's Performance section), against
the same plain numpy walk, and checks that it is unbiased against the exact derivative.

Per lane the walk holds one perturbation: ``n``'s jump ``Δn`` and its event's weight ``W`` (in
this program no other event outlives a step). Per step, with ``x = n + i``:

* ``q = p(1 − x/200)``, its dual part ``1 − x/200`` (``p`` is the input, and ``n`` has none:
  draws carry no dual part in the pruned backend), and its value on the alternative path
  ``q + Δq`` with ``Δq = −pΔn/200``;
* the draw ``b = [u < q]``, coupled ``Δb = [u < q + Δq] − b`` if ``n``'s perturbation is live;
* the new perturbation of docs/design.md §1: up by 1 with weight ``dq/(1 − q)`` if ``b = 0``
  (``dq > 0``), down by 1 with weight ``−dq/q`` if ``b = 1`` (``dq < 0``);
* the draw's two perturbations pruned against each other (``attach_new_events``), then
  ``n + b`` (``prune_pair``): one uniform decides whichever conflict happens, keeping an event
  with probability proportional to its weight, which becomes the sum of both.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from stochad._jit import njit

from .problems import PROBLEMS


@njit
def walk_step(i, p, n, jump, weight, u, prune):
    """One step of the walk on every lane, in place (``n``, ``jump``, ``weight``)."""
    for lane in range(n.size):
        x = n[lane] + i
        slope = 1.0 - x / 200.0
        q = p * slope
        b = u[lane] < q
        live = weight[lane] != 0.0 and jump[lane] != 0.0
        flip = 0.0
        if live:
            flip = np.float64(u[lane] < q - p * jump[lane] / 200.0) - b
        # the new perturbation: dq = slope (p's dual part is 1); its jump and weight
        if slope > 0.0:
            new_jump, new_weight = 1.0, (slope / (1.0 - q) if not b else 0.0)
        else:
            new_jump, new_weight = -1.0, (-slope / q if b else 0.0)
        if new_weight > 0.0 and live:
            # a conflict: in the draw (the inherited jump is not 0) or in n + b (it is)
            total = weight[lane] + new_weight
            if prune[lane] * total < weight[lane]:
                jump[lane] += flip
            else:
                jump[lane] = new_jump
            weight[lane] = total
        elif new_weight > 0.0:
            jump[lane], weight[lane] = new_jump, new_weight
        elif live:
            jump[lane] += flip
        n[lane] += b


def fused_walk_samples(p: float, n_samples: int, rng) -> np.ndarray:
    """Derivative samples of the walk's final ``n``: ``W·Δn`` per lane."""
    n = np.zeros(n_samples)
    jump = np.zeros(n_samples)
    weight = np.zeros(n_samples)
    uniforms = np.empty((2, n_samples))
    for i in range(1, 101):
        rng.random(out=uniforms)
        walk_step(i, p, n, jump, weight, uniforms[0], uniforms[1])
    return weight * jump


def _best(f, repeats):
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - start)
    return best


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stochad.bench.fused_walk", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    problem = PROBLEMS["random-walk"]
    fused_walk_samples(problem.param, 64, np.random.default_rng(0))  # compile
    samples = fused_walk_samples(problem.param, args.samples, np.random.default_rng(args.seed))
    mean, stderr = samples.mean(), samples.std(ddof=1) / math.sqrt(args.samples)
    fused = _best(lambda: fused_walk_samples(problem.param, args.samples,
                                             np.random.default_rng(args.seed)), args.repeats)
    plain = _best(lambda: problem.plain(problem.param, args.samples,
                                        np.random.default_rng(args.seed)), args.repeats)
    print(f"exact {problem.exact:.4f}  fused {mean:.4f} ± {stderr:.4f} "
          f"(|z| {abs(mean - problem.exact) / stderr:.2f}, sd {samples.std(ddof=1):.2f})")
    print(f"fused {fused:.3f} s  plain {plain:.3f} s  ratio {fused / plain:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
