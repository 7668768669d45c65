"""Differentiate a particle filter's likelihood through its resampling steps.

Model (1-D linear-Gaussian, so the Kalman filter gives the exact answer):

    x_0 ~ N(0, 1),   x_t = a·x_{t−1} + N(0, 0.5²),   y_t = x_t + N(0, 0.7²),   t = 1..T.

A bootstrap particle filter estimates the likelihood Z(a) = p(y_1..T; a) without bias. Its
resampling draws ancestors, a discrete choice; ``stochad.resampling.resample`` draws them from
the primal weights and multiplies each offspring's weight by ``sad.new_weight(p_ancestor)``
(value 1, dual part δp/p), which keeps d/da E[Ẑ] = dZ/da. Dropping that factor (stop-gradient
resampling) gives a visibly biased derivative.

Run: ``python examples/particle_filter.py`` (``STOCHAD_EXAMPLE_QUICK=1`` for a few-second run).
"""

import os

import numpy as np
from scipy import stats

import stochad as sad
from stochad.resampling import resample

QUICK = os.environ.get("STOCHAD_EXAMPLE_QUICK") == "1"
Q, R, T, A_TRUE = 0.5, 0.7, 10, 0.8


def simulate(rng):
    x, ys = rng.standard_normal(), []
    for _ in range(T):
        x = A_TRUE * x + Q * rng.standard_normal()
        ys.append(x + R * rng.standard_normal())
    return np.array(ys)


YS = simulate(np.random.default_rng(1))


def particle_filter(a, n_particles=64, differentiable=True):
    """Likelihood estimate Σ W of a bootstrap particle filter (unbiased for Z(a))."""
    x = sad.normal(0.0, 1.0, size=n_particles)
    w = np.full(n_particles, 1.0 / n_particles)
    for t, y in enumerate(YS):
        x = sad.normal(a * x, Q)
        w = w * np.exp(-0.5 * ((y - x) / R) ** 2) / (R * np.sqrt(2 * np.pi))  # N(y; x, R²)
        if t < T - 1:
            if differentiable:
                w, (x,) = resample(w, [x])
            else:
                total = np.sum(w)
                _, (x,) = resample(w, [x])
                w = total / n_particles * np.ones(n_particles)
    return np.sum(w)


def kalman_loglik(a):
    m, p, ll = 0.0, 1.0, 0.0
    for y in YS:
        m, p = a * m, a * a * p + Q * Q
        s = p + R * R
        ll += stats.norm.logpdf(y, m, np.sqrt(s))
        k = p / s
        m, p = m + k * (y - m), (1 - k) * p
    return ll


def main():
    n_runs = 2000 if QUICK else 20_000
    print(f"{T} observations, particle filter with 64 particles, {n_runs} independent runs\n")
    print("   a   Kalman dZ/da   PF with new_weight                 stop-gradient PF")
    for a in (0.5, 0.8, 1.0):
        h = 1e-5
        z = np.exp(kalman_loglik(a))
        dz = z * (kalman_loglik(a + h) - kalman_loglik(a - h)) / (2 * h)
        cells = []
        for differentiable in (True, False):
            s = sad.derivative_samples(
                lambda a, d=differentiable: particle_filter(a, differentiable=d), a,
                n_samples=n_runs, rng=0)
            se = s.std(ddof=1) / np.sqrt(n_runs)
            cells.append(f"{s.mean():.4e} ± {se:.1e} ({(s.mean() - dz) / se:+6.1f} se)")
        print(f"{a:4.1f}   {dz:.4e}   " + "   ".join(cells))
    print("\n(± is one standard error; 'se' columns: distance from the Kalman value)")


if __name__ == "__main__":
    main()
