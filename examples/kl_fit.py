"""Fit Poisson(λ) to NegBin(10, 0.25) by minimising KL(Poisson(λ) ‖ NegBin) with stochastic
gradients of a *discrete* draw.

    KL(λ) = E_{k ~ Poisson(λ)}[log Poisson(k; λ) − log NegBin(k)]

has no closed form, but one sample of the integrand is a program with a Poisson draw, and
stochad differentiates it without bias. The optimum (by enumerating the pmf) is λ ≈ 28.878.

Run: ``python examples/kl_fit.py`` (``STOCHAD_EXAMPLE_QUICK=1`` for a few-second run).
"""

import os

import numpy as np
from scipy import optimize, special, stats

import stochad as sad

QUICK = os.environ.get("STOCHAD_EXAMPLE_QUICK") == "1"
N, P = 10, 0.25


def kl_sample(lam):
    """log Poisson(k; λ) − log NegBin(k; 10, 0.25) at k ~ Poisson(λ)."""
    k = sad.poisson(lam)
    log_poisson = k * np.log(lam) - lam - special.gammaln(k + 1)
    # a black-box log-pmf works too: propagate runs it on the primal and on the perturbed k
    log_negbin = sad.propagate(lambda k: stats.nbinom.logpmf(k, N, P), k)
    return log_poisson - log_negbin


def exact_kl(lam):
    k = np.arange(400)
    pk = stats.poisson.pmf(k, lam)
    return np.sum(pk * (stats.poisson.logpmf(k, lam) - stats.nbinom.logpmf(k, N, P)))


def main():
    steps, n_samples = (150, 1000) if QUICK else (300, 10_000)
    print(f"minimising KL(Poisson(λ) ‖ NegBin({N}, {P})) from λ = 5 ({steps} Adam steps "
          f"with a decaying step size, {n_samples} samples per gradient)")

    def progress(step, lam, gradient):
        if step % (steps // 10) == 0:
            print(f"step {step:4d}  λ = {lam:8.4f}  gradient ≈ {gradient:+.5f}  "
                  f"KL = {exact_kl(lam):.6f}")

    res = sad.optimize.adam(kl_sample, 5.0, learning_rate=lambda t: 2.0 / (1 + t / 30),
                            steps=steps, n_samples=n_samples, rng=0, callback=progress)
    grad = lambda lam: (exact_kl(lam + 1e-5) - exact_kl(lam - 1e-5)) / 2e-5  # noqa: E731
    best = optimize.brentq(grad, 5.0, 100.0)
    print(f"fitted λ = {res.x:.4f}; exact optimum λ* = {best:.4f} "
          f"(relative error {abs(res.x / best - 1):.2%})")


if __name__ == "__main__":
    main()
