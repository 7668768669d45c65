"""A bridge to JAX: a stochad program as a JAX function with an unbiased derivative.

:func:`to_jax` wraps a program ``f(p)`` (scalar output; ``p`` a float or a 1-d array) as a
JAX function ``g(p, key)`` whose value is the Monte Carlo mean of ``f`` over ``n_samples``
runs and whose derivative is stochad's unbiased estimate from the same runs. It is a
:func:`jax.custom_jvp` around :func:`jax.pure_callback`, so ``jax.grad``, ``jax.jit``,
``jax.value_and_grad`` and optax loops use it like any JAX function: the callback runs the
program on the host with numpy, and the tangent is the estimated gradient dotted with the
input tangent, which is linear and so also transposes for reverse mode.

``key`` is a JAX PRNG key (``jax.random.key(0)`` or ``jax.random.PRNGKey(0)``); it seeds
the run, so the same key gives the same value and gradient, and a training loop splits keys
as usual. Requires the optional dependency ``jax`` (``pip install stochad[jax]``).

Examples
--------
>>> import jax, stochad as sad
>>> from stochad.jax import to_jax
>>> g = to_jax(lambda p: 7 * sad.bernoulli(p) - 3, n_samples=10_000)
>>> grad = jax.jit(jax.grad(g))(0.3, jax.random.key(0))
>>> round(float(grad))                                 # d/dp E[7·Bernoulli(p) − 3] = 7
7
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .api import derivative_samples, stochastic_triple, value

__all__ = ["to_jax"]


def _seed(key) -> np.random.SeedSequence:
    data = np.asarray(key, dtype=np.uint32).reshape(-1)
    return np.random.SeedSequence([int(x) for x in data])


def to_jax(f, *, n_samples, backend="pruned", vectorize=True):
    """Wrap ``f`` as a JAX function ``g(p, key)`` with an unbiased stochad derivative.

    Parameters
    ----------
    f : callable
        The program ``f(p)``, returning a scalar; ``p`` is a float or a 1-d array.
    n_samples : int
        Samples averaged for the value and for the derivative.
    backend : str
        The stochad backend (see :func:`stochad.derivative_samples`).
    vectorize : bool
        As in :func:`stochad.derivative_samples`.

    Returns
    -------
    callable
        ``g(p, key)``: a JAX-differentiable function of ``p``; ``key`` is a JAX PRNG key.

    Examples
    --------
    >>> import jax, jax.numpy as jnp, stochad as sad
    >>> from stochad.jax import to_jax
    >>> g = to_jax(lambda p: sad.poisson(p[0]) * p[1], n_samples=1_000)
    >>> [round(float(x), 1) for x in jax.grad(g)(jnp.array([2.0, 3.0]), jax.random.key(1))]
    [3.0, 2.0]
    """
    n_samples = int(n_samples)

    def host_value(p, key):
        p = np.asarray(p, dtype=np.float64)
        st = stochastic_triple(f, p, n_samples=n_samples, rng=np.random.default_rng(_seed(key)),
                               backend=backend)
        values = np.asarray(value(st), dtype=np.float64)
        if values.shape != (n_samples,):
            raise ValueError(f"to_jax: f must return a scalar, got shape {values.shape[1:]}")
        return np.asarray(values.mean(), dtype=_out_dtype())

    def host_gradient(p, key):
        p = np.asarray(p, dtype=np.float64)
        generator = np.random.default_rng(_seed(key))
        samples = derivative_samples(f, p, n_samples=n_samples, rng=generator,
                                     backend=backend, vectorize=vectorize)
        if samples.shape[1:] != p.shape:
            raise ValueError(f"to_jax: f must return a scalar; the derivative samples have "
                             f"shape {samples.shape[1:]} for p of shape {p.shape}")
        return np.asarray(samples.mean(axis=0), dtype=_out_dtype())

    def primal(p, key):
        return jax.pure_callback(host_value, jax.ShapeDtypeStruct((), _out_dtype()), p,
                                 _key_data(key))

    @jax.custom_jvp
    def g(p, key):
        return primal(p, key)

    @g.defjvp
    def g_jvp(primals, tangents):
        p, key = primals
        dp, _ = tangents
        gradient = jax.pure_callback(host_gradient,
                                     jax.ShapeDtypeStruct(jnp.shape(p), _out_dtype()),
                                     p, _key_data(key))
        return primal(p, key), jnp.sum(gradient * dp)

    return g


def _out_dtype():
    """JAX's default float: float64 under ``jax_enable_x64``, else float32."""
    return np.float64 if jax.config.jax_enable_x64 else np.float32


def _key_data(key):
    """The raw uint32 words of a PRNG key (typed ``jax.random.key`` or legacy ``PRNGKey``)."""
    if jnp.issubdtype(jnp.asarray(key).dtype, jax.dtypes.prng_key):
        return jax.random.key_data(key)
    return jnp.asarray(key)
