"""Stochastic-gradient optimisation of ``E[f(p)]`` with unbiased stochastic-triple gradients.

:func:`stochastic_gradient` estimates ``∇ E[f(p)]``; :func:`sgd` and :func:`adam` use it to
minimise (or, with ``maximize=True``, maximise) ``E[f(p)]``. One ``rng`` drives every step, so
a run is reproducible. The learning rate may be a number or a schedule ``step -> rate``; a
decaying schedule (``lambda t: a / (1 + t / b)``) lets the iterates settle despite the
gradient noise. The result is an :class:`~stochad.result.OptimizeResult` (``x``, ``nit``,
``success``, ``message``), which behaves as scipy's. ``workers=`` spreads each gradient's
samples over processes or a cluster (see :func:`stochad.derivative_samples`).
"""

from __future__ import annotations

import numpy as np

from .api import estimate
from .context import normalize_rng
from .driver import check_flag
from .result import OptimizeResult
from .structure import leaf_values

__all__ = ["stochastic_gradient", "sgd", "adam"]


def stochastic_gradient(f, p, *, n_samples=1, rng=None, backend="pruned", vectorize=True,
                        workers=None, compile=True):
    """Unbiased estimate of ``∇ E[f(p)]``: the mean of ``n_samples`` stochastic-triple samples.

    Parameters
    ----------
    f : callable
        The program ``f(p)``; it returns a scalar (the objective).
    p : float, array_like, or tuple/dict of them
        Where to take the gradient (a tuple or dict gives a gradient of the same structure).
    n_samples : int
        Independent samples averaged into the estimate.
    rng : None, int, SeedSequence or Generator
        Drives every draw (anything :func:`numpy.random.default_rng` accepts).
    backend : str
        Perturbation backend (see :func:`stochad.derivative_samples`).
    vectorize : bool
        Call ``f`` on a batch of samples at once (default) or once per sample.
    workers : None, int or map-like callable, optional
        Where the samples are made (see :func:`stochad.derivative_samples`).
    compile : bool
        Whether a batched pruned run may use the compiled engine (see
        :func:`stochad.derivative_samples`).

    Returns
    -------
    float or numpy.ndarray
        A float for scalar ``p``, else an array of ``p``'s shape.

    Raises
    ------
    ValueError
        If ``f`` does not return a scalar.

    Examples
    --------
    >>> import stochad as sad
    >>> g = sad.stochastic_gradient(lambda p: 7 * sad.bernoulli(p[0]) + p[1] ** 2,
    ...                             [0.3, 2.0], n_samples=10_000, rng=0)
    >>> [round(x) for x in g.tolist()]
    [7, 4]
    """
    gradient = estimate(f, p, n_samples=n_samples, rng=rng, backend=backend,
                        vectorize=vectorize, workers=workers, compile=compile).df
    if isinstance(p, tuple | dict):  # one gradient leaf per leaf of p
        entries = sum(np.size(g) for g in leaf_values(gradient))
        parameters = sum(np.size(leaf) for leaf in leaf_values(p))
        if entries != parameters:
            raise ValueError("stochastic_gradient: f must return a scalar; the gradient has "
                             f"{entries} entries for p's {parameters} parameters")
        return gradient
    shape = np.shape(p)
    if np.shape(gradient) != shape:
        raise ValueError(
            f"stochastic_gradient: f must return a scalar; the derivative samples have shape "
            f"{np.shape(gradient)} for a parameter of shape {shape}"
        )
    return gradient


def _rate(learning_rate, step):
    rate = learning_rate(step) if callable(learning_rate) else learning_rate
    rate = float(rate)
    if not (np.isfinite(rate) and rate > 0):
        raise ValueError(f"learning_rate must be finite and > 0, got {rate!r} at step {step}")
    return rate


def _check_common(learning_rate, steps, bounds):
    if not callable(learning_rate):
        _rate(learning_rate, 0)
    if int(steps) != steps or steps < 0:
        raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
    if bounds is not None:
        low, high = bounds
        if any(b is not None and np.any(np.isnan(b)) for b in bounds):
            raise ValueError(f"bounds must not be NaN (use None or ±inf for no bound), "
                             f"got {bounds!r}")
        if low is not None and high is not None and np.any(np.asarray(low) > np.asarray(high)):
            raise ValueError(f"bounds must satisfy low <= high, got {bounds!r}")


def _descend(f, p0, update, *, steps, n_samples, rng, callback, maximize, bounds, backend,
             vectorize, workers):
    """The loop shared by the optimisers: ``update(step, x, gradient) -> x``."""
    maximize = check_flag(maximize, "maximize")
    generator = normalize_rng(rng)
    x = np.array(p0, dtype=np.float64)
    if not np.all(np.isfinite(x)):
        raise ValueError(f"p0 must be finite, got {p0!r}")
    sign = -1.0 if maximize else 1.0
    message = f"completed {steps} steps"
    step = 0
    for step in range(1, int(steps) + 1):
        gradient = np.asarray(stochastic_gradient(f, x, n_samples=n_samples, rng=generator,
                                                  backend=backend, vectorize=vectorize,
                                                  workers=workers))
        if not np.all(np.isfinite(gradient)):
            raise ValueError(
                f"the gradient estimate is not finite at step {step} (x = {x!r}): {gradient!r}"
            )
        x = update(step, x, sign * gradient)
        if bounds is not None:
            x = np.clip(x, *bounds)
        if callback is not None and callback(step, x.item() if x.ndim == 0 else x.copy(),
                                             gradient):
            message = f"stopped by the callback at step {step}"
            break
    return OptimizeResult(x=x.item() if x.ndim == 0 else x, nit=step, success=True,
                          message=message)


def sgd(f, p0, *, learning_rate, steps, n_samples=1, rng=None, callback=None, maximize=False,
        momentum=0.0, bounds=None, backend="pruned", vectorize=True, workers=None):
    """Minimise (or maximise) ``E[f(p)]`` by stochastic gradient descent.

    ``x ← x − rate·v`` with ``v ← momentum·v + g`` and ``g`` an unbiased gradient estimate
    from ``n_samples`` samples (``+`` instead of ``−`` when ``maximize``).

    Parameters
    ----------
    f : callable
        The program ``f(p)``, returning a scalar.
    p0 : float or array_like
        Starting point.
    learning_rate : float or callable
        Step size, or a schedule ``step -> step size`` (steps count from 1); must be > 0.
    steps : int
        Number of updates.
    n_samples : int
        Samples per gradient estimate.
    rng : None, int, SeedSequence or Generator
        One generator drives every step.
    callback : callable, optional
        ``callback(step, x, gradient)`` after each update; return ``True`` to stop.
    maximize : bool
        Maximise ``E[f]`` instead of minimising it.
    momentum : float
        Heavy-ball momentum in ``[0, 1)``.
    bounds : (low, high), optional
        Clip the iterate into ``[low, high]`` after each step (projected SGD); ``None`` for an
        open side.
    backend, vectorize, workers
        Passed to :func:`stochastic_gradient`.

    Returns
    -------
    OptimizeResult
        ``x`` (the last iterate), ``nit``, ``success``, ``message``.

    Examples
    --------
    >>> import stochad as sad
    >>> f = lambda p: (sad.poisson(p) - 4.0) ** 2      # E[f] = p + (p - 4)², minimum at 3.5
    >>> res = sad.optimize.sgd(f, 1.0, learning_rate=0.1, steps=100, n_samples=1000, rng=0)
    >>> bool(abs(res.x - 3.5) < 0.2)
    True
    """
    _check_common(learning_rate, steps, bounds)
    if not 0 <= momentum < 1:
        raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
    velocity = [0.0]

    def update(step, x, gradient):
        velocity[0] = momentum * velocity[0] + gradient
        return x - _rate(learning_rate, step) * velocity[0]

    return _descend(f, p0, update, steps=steps, n_samples=n_samples, rng=rng,
                    callback=callback, maximize=maximize, bounds=bounds, backend=backend,
                    vectorize=vectorize, workers=workers)


def adam(f, p0, *, learning_rate=0.01, steps, n_samples=1, rng=None, callback=None,
         maximize=False, beta1=0.9, beta2=0.999, eps=1e-8, bounds=None, backend="pruned",
         vectorize=True, workers=None):
    """Minimise (or maximise) ``E[f(p)]`` with Adam (Kingma & Ba, 2015).

    Moment estimates ``m``, ``v`` of the gradient with bias correction; the step is
    ``rate · m̂ / (√v̂ + eps)``, so ``learning_rate`` is roughly the largest move per step in
    units of ``p``.

    Parameters
    ----------
    f, p0
        As for :func:`sgd`.
    learning_rate : float or callable
        Step size, or a schedule ``step -> step size``; must be > 0.
    steps, n_samples, rng, callback, maximize
        As for :func:`sgd`.
    beta1, beta2 : float
        Decay rates of the moment estimates, in ``[0, 1)``.
    eps : float
        Added to ``√v̂``; must be > 0.
    bounds, backend, vectorize, workers
        As for :func:`sgd`.

    Returns
    -------
    OptimizeResult
        ``x`` (the last iterate), ``nit``, ``success``, ``message``.

    Examples
    --------
    >>> import stochad as sad
    >>> f = lambda p: (sad.poisson(p) - 4.0) ** 2      # E[f] = p + (p - 4)², minimum at 3.5
    >>> res = sad.optimize.adam(f, 1.0, learning_rate=lambda t: 0.5 / (1 + t / 20),
    ...                         steps=100, n_samples=1000, rng=0)
    >>> bool(abs(res.x - 3.5) < 0.2)
    True
    """
    _check_common(learning_rate, steps, bounds)
    for name, beta in (("beta1", beta1), ("beta2", beta2)):
        if not 0 <= beta < 1:
            raise ValueError(f"{name} must be in [0, 1), got {beta!r}")
    if not eps > 0:
        raise ValueError(f"eps must be > 0, got {eps!r}")
    moments = [0.0, 0.0]

    def update(step, x, gradient):
        moments[0] = beta1 * moments[0] + (1 - beta1) * gradient
        moments[1] = beta2 * moments[1] + (1 - beta2) * gradient**2
        m_hat = moments[0] / (1 - beta1**step)
        v_hat = moments[1] / (1 - beta2**step)
        return x - _rate(learning_rate, step) * m_hat / (np.sqrt(v_hat) + eps)

    return _descend(f, p0, update, steps=steps, n_samples=n_samples, rng=rng,
                    callback=callback, maximize=maximize, bounds=bounds, backend=backend,
                    vectorize=vectorize, workers=workers)
