"""The decorator of every numba kernel: disk caching where possible, and Ctrl-C.

Caching
-------

numba's ``cache=True`` raises ``RuntimeError: cannot cache function ...: no locator available``
at decoration time -- that is, on ``import stochad`` -- when none of the places it looks is
writable: ``NUMBA_CACHE_DIR``, the ``__pycache__`` next to the source, and the user's cache
directory (``~/.cache/numba`` or ``$XDG_CACHE_HOME/numba``). That happens in a read-only
install run by a user without a writable home, and also when the ``__pycache__`` holds a
pre-filled cache but is read-only (numba only uses a location it can write to).

:func:`njit` caches where numba finds a writable location and otherwise compiles in memory
(each process then compiles the kernels it calls on first use). It says so once per process,
with a :class:`RuntimeWarning` that names the fix, ``NUMBA_CACHE_DIR``.

Ctrl-C
------
A compiled function that returns an array runs Python code while it boxes the result (numba
unpickles the array type through a Python function). A SIGINT arriving then raises
``KeyboardInterrupt`` inside that code, which numba's boxing does not check: the call returns
``SystemError: CPUDispatcher(...) returned a result with an exception set``, with the
``KeyboardInterrupt`` in its chain of causes. :func:`njit` turns that back into a
``KeyboardInterrupt``, so ``except KeyboardInterrupt`` sees every interrupt.
"""

from __future__ import annotations

import functools
import warnings

import numba

_warned = False


def _no_cache(name):
    global _warned
    if not _warned:
        _warned = True
        warnings.warn(
            f"stochad: no writable numba cache for {name!r}; compiling in memory (slower "
            "first calls in each process). Set NUMBA_CACHE_DIR to a writable directory "
            "to cache the compiled kernels.",
            RuntimeWarning,
            stacklevel=3,
        )


def _interrupt(error):
    """The ``KeyboardInterrupt`` in ``error``'s chain of causes, or None."""
    while error is not None and not isinstance(error, KeyboardInterrupt):
        error = error.__cause__ or error.__context__
    return error


def _interruptible(compiled):
    """``compiled``, called from Python, with an interrupt while boxing its result raised as
    the ``KeyboardInterrupt`` it is (see the module's docstring); ``py_func`` is kept."""

    @functools.wraps(compiled.py_func)
    def kernel(*args, **kwargs):
        try:
            return compiled(*args, **kwargs)
        except SystemError as error:
            if _interrupt(error) is None:
                raise
            raise KeyboardInterrupt from None

    kernel.py_func = compiled.py_func
    kernel.dispatcher = compiled
    return kernel


def njit(func=None, *, nested=False, **options):
    """``numba.njit(cache=True, nogil=True, **options)``, compiling in memory where no cache is
    writable.

    Used as ``@njit``, ``@njit(nested=True)`` or ``@njit(inline="always")``. A kernel is
    returned wrapped so that Ctrl-C raises ``KeyboardInterrupt`` (module docstring); its
    ``py_func`` is the plain function. Compiled code cannot call the wrapper, so a helper
    that other kernels call is declared ``nested=True`` (or ``inline="always"``) and returned
    unwrapped. With ``NUMBA_DISABLE_JIT=1`` it returns the plain function, as
    ``numba.njit`` does.

    Examples
    --------
    Every kernel of :mod:`stochad.kernels` is decorated with it:

    >>> import numpy as np
    >>> from stochad import kernels
    >>> int(kernels.count_draw_conflicts(np.array([0]), np.array([1.0]), np.array([0.5])))
    1
    >>> kernels.count_draw_conflicts.py_func.__name__
    'count_draw_conflicts'
    """
    if func is None:
        return lambda f: njit(f, nested=nested, **options)
    options.setdefault("nogil", True)  # threads (workers=pool.map) run kernels side by side
    compiled = numba.njit(**options)(func)
    if not hasattr(compiled, "enable_caching"):  # NUMBA_DISABLE_JIT=1
        return compiled
    try:
        compiled.enable_caching()
    except RuntimeError:  # no cache locator: numba found nowhere to write
        _no_cache(func.__qualname__)
    if nested or options.get("inline") == "always":
        return compiled
    return _interruptible(compiled)
