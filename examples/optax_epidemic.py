"""Calibrate an epidemic's infection probability with optax, through JAX's own autodiff.

A Reed–Frost chain binomial in a village of 60: every generation each susceptible escapes
each infective independently with probability 1 − p, so

    new = Binomial(S, 1 − (1 − p)^I),   S -= new,   I = new,

and the final size is the number ever infected. The task: find the p that minimises the mean
squared miss ``E[(size − 25)²]`` (the outbreaks are either minor or major, so at the optimum
the mean size is not 25). The loss is an expectation of a discrete simulation: JAX cannot
differentiate it, stochad can. :func:`stochad.jax.to_jax` turns the stochad program
into a JAX function, so ``jax.value_and_grad`` and an optax Adam loop use it as they would
any loss; the gradient is stochad's unbiased estimate. The same loop with
:func:`stochad.stochastic_gradient` instead of JAX is at the end.

Run: ``python examples/optax_epidemic.py`` (``STOCHAD_EXAMPLE_QUICK=1`` for a quick run;
needs ``pip install stochad[jax] optax``).
"""

import os

import jax
import jax.numpy as jnp
import optax

import stochad as sad
from stochad.jax import to_jax

QUICK = os.environ.get("STOCHAD_EXAMPLE_QUICK") == "1"
VILLAGE, TARGET = 60, 25.0


def final_size(p):
    """The number ever infected in one epidemic started by one infective."""
    susceptible, infective, size = VILLAGE - 1, 1, 1
    for _ in range(12):
        new = sad.binomial(susceptible, 1 - (1 - p) ** infective)
        susceptible, infective, size = susceptible - new, new, size + new
    return size


def squared_miss(p):
    return (final_size(p) - TARGET) ** 2


def calibrate_with_optax(steps, n_samples):
    loss = to_jax(squared_miss, n_samples=n_samples)
    optimiser = optax.adam(learning_rate=0.002)
    p = jnp.asarray(0.02)
    state = optimiser.init(p)
    keys = jax.random.split(jax.random.key(0), steps)
    for key in keys:
        value, grad = jax.value_and_grad(loss)(p, key)
        updates, state = optimiser.update(grad, state)
        p = jnp.clip(optax.apply_updates(p, updates), 0.001, 0.2)
    return float(p), float(value)


def calibrate_with_stochad(steps, n_samples):
    result = sad.optimize.adam(squared_miss, 0.02, learning_rate=0.002, steps=steps,
                               n_samples=n_samples, rng=0, bounds=(0.001, 0.2))
    return result.x


def main():
    steps, n_samples = (10, 300) if QUICK else (100, 2_000)
    p, loss = calibrate_with_optax(steps, n_samples)
    print(f"optax + stochad.jax: p = {p:.4f} after {steps} steps (loss {loss:.1f})")
    sizes = sad.value(sad.stochastic_triple(final_size, p, n_samples=20_000, rng=1))
    print(f"expected final size there: {sizes.mean():.1f} (target {TARGET:g})")
    print(f"stochad.optimize.adam: p = {calibrate_with_stochad(steps, n_samples):.4f}")


if __name__ == "__main__":
    main()
