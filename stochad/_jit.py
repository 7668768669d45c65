"""One place that decides whether compiled kernels are cached on disk.

numba's ``cache=True`` raises ``RuntimeError: cannot cache function ...: no locator available``
at decoration time -- that is, on ``import stochad`` -- when none of the places it looks is
writable: ``NUMBA_CACHE_DIR``, the ``__pycache__`` next to the source, and the user's cache
directory (``~/.cache/numba`` or ``$XDG_CACHE_HOME/numba``). That happens in a read-only
install run by a user without a writable home, and also when the ``__pycache__`` holds a
pre-filled cache but is read-only (numba only uses a location it can write to).

:func:`njit` caches where numba finds a writable location and otherwise compiles in memory
(each process then compiles the kernels it calls on first use). It says so once per process,
with a :class:`RuntimeWarning` that names the fix, ``NUMBA_CACHE_DIR``.
"""

from __future__ import annotations

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


def njit(func=None, **options):
    """``numba.njit(cache=True, **options)``, compiling in memory where no cache is writable.

    Used as ``@njit`` or ``@njit(inline="always")``. With ``NUMBA_DISABLE_JIT=1`` it returns
    the plain function, as ``numba.njit`` does.

    Examples
    --------
    Every kernel of :mod:`stochad.kernels` is decorated with it:

    >>> import numpy as np
    >>> from stochad import kernels
    >>> int(kernels.count_draw_conflicts(np.array([0]), np.array([1.0]), np.array([0.5])))
    1
    """
    if func is None:
        return lambda f: njit(f, **options)
    compiled = numba.njit(**options)(func)
    if hasattr(compiled, "enable_caching"):  # not with NUMBA_DISABLE_JIT=1
        try:
            compiled.enable_caching()
        except RuntimeError:  # no cache locator: numba found nowhere to write
            _no_cache(func.__qualname__)
    return compiled
