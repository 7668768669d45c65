"""A random walk whose steps depend on where it is, differentiated three ways.

    n = 0;  n += Bernoulli(p·(1 − (n + i)/200)),  i = 1..100

Every step is a discrete coin flip whose probability depends on p *and* on the walk so far,
so d/dp E[n] has no pathwise derivative. The same program is differentiated by

* stochastic triples (``estimator="triple"``, the default): unbiased, low variance;
* the score function (REINFORCE), without and with a leave-one-out baseline: unbiased,
  higher variance;
* central finite differences with common random numbers: biased for a finite step h,

and compared with the exact derivative from dynamic programming (``bench/exact_values.py``).

Run: ``python examples/random_walk.py`` (``STOCHAD_EXAMPLE_QUICK=1`` for a few-second run).
"""

import os
import time

import numpy as np
from stochad.bench.exact_values import random_walk as exact_random_walk

import stochad as sad

QUICK = os.environ.get("STOCHAD_EXAMPLE_QUICK") == "1"
P = 0.5


def walk(p):
    """The program, written once: ``p`` is a number, or a stochastic triple under an estimator."""
    n = 0
    for i in range(1, 101):
        n = n + sad.bernoulli(p * (1 - (n + i) / 200))
    return n


ESTIMATORS = {  # label -> keyword arguments of sad.derivative_samples
    "triple": {},
    "score": {"estimator": "score"},
    "score + baseline": {"estimator": "score", "baseline": True},
    "finite differences": {"estimator": "fd", "h": 0.01},
}


def main():
    n_samples = 2_000 if QUICK else 100_000
    value, derivative = exact_random_walk(P)
    print(f"E[n] at p = {P}: {value:.4f};  exact d/dp E[n] = {derivative:.4f} (dynamic "
          f"programming)\n")

    # One run on a single sample: the value, and the perturbation that a small increase of p
    # would cause (one more step up, with the printed rate per unit of p).
    st = sad.stochastic_triple(walk, P, rng=1)
    print(f"one sample as a stochastic triple: {st}\n")

    print(f"{'estimator':20s} {'mean ± stderr':>19s} {'sd':>8s} {'|z|':>6s} {'seconds':>8s}")
    for label, options in ESTIMATORS.items():
        start = time.perf_counter()
        samples = sad.derivative_samples(walk, P, n_samples=n_samples, rng=0, **options)
        seconds = time.perf_counter() - start
        mean, sd = samples.mean(), samples.std(ddof=1)
        stderr = sd / np.sqrt(n_samples)
        z = abs(mean - derivative) / stderr
        print(f"{label:20s} {mean:10.3f} ± {stderr:6.3f} {sd:8.2f} {z:6.2f} {seconds:8.2f}")
    print(f"\n{n_samples} samples each. Every estimate should be within a few standard errors "
          "of the exact value\n(finite differences up to their O(h²) bias); the sd column is "
          "the cost in samples: the score\nfunction needs (sd_score / sd_triple)² times as "
          "many samples for the same accuracy.")


if __name__ == "__main__":
    main()
