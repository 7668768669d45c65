"""Running chunks of samples on several cores or a cluster, reproducibly, with progress.

The driver splits a run into *tasks* (chunks of samples), gives task ``i`` a generator of
its own, and maps the tasks with :func:`task_map`. Task generators come from
:meth:`numpy.random.Generator.spawn` in task order (a single task uses the run's generator
itself), and results are gathered in task order, so the same seed gives bit-identical
samples whatever runs the tasks: the calling process, a process pool, threads, or a Dask
cluster's executor.

``workers`` follows scipy's convention (:func:`scipy.optimize.differential_evolution`):
``None`` or ``1`` runs in this process, an int ``n > 1`` a process pool of ``n`` (``-1``:
every core), and any *map-like* callable ``workers(func, iterable)`` is used as it is:
``multiprocessing.Pool.map``, ``concurrent.futures.Executor.map``, or
``distributed.Client.get_executor().map``. Programs are sent to other processes with
cloudpickle where it is installed (lambdas and functions defined in ``__main__`` need it).
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import pickle
import sys
import warnings
from concurrent.futures import ProcessPoolExecutor

import numpy as np

try:  # optional: serialises lambdas and functions defined in __main__ by value
    import cloudpickle
except ImportError:  # pragma: no cover - exercised only where cloudpickle is absent
    cloudpickle = None


def check_workers(workers):
    """Validate ``workers`` (None, a non-zero int, ``-1``, or a map-like callable).

    Examples
    --------
    >>> check_workers(-1), check_workers(None)
    (-1, None)
    >>> check_workers(0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: workers must be None, a positive int, -1 (all cores) or a map-like ... got 0
    """
    if workers is None or callable(workers):
        return workers
    if isinstance(workers, int | np.integer) and not isinstance(workers, bool) and \
            (workers >= 1 or workers == -1):
        return int(workers)
    raise ValueError("workers must be None, a positive int, -1 (all cores) or a map-like "
                     f"callable such as multiprocessing.Pool.map, got {workers!r}")


def task_generators(generator: np.random.Generator, n_tasks: int):
    """One generator per task: the run's own for a single task, else spawned children.

    Examples
    --------
    >>> import numpy as np
    >>> g = np.random.default_rng(0)
    >>> task_generators(g, 1)[0] is g
    True
    >>> a = task_generators(np.random.default_rng(0), 3)
    >>> b = task_generators(np.random.default_rng(0), 3)
    >>> [x.random() == y.random() for x, y in zip(a, b)]
    [True, True, True]
    """
    if n_tasks == 1:
        return [generator]
    return generator.spawn(n_tasks)


class Progress:
    """Reports ``(done, total)`` samples to a callable or a tqdm bar.

    Parameters
    ----------
    progress : None, bool or callable
        ``None``/``False``: silent; ``True``: a tqdm progress bar (the optional dependency
        ``tqdm``); a callable is called as ``progress(done, total)`` after each chunk.
    total : int
        The number of samples to come.

    Examples
    --------
    >>> seen = []
    >>> with Progress(lambda done, total: seen.append((done, total)), 10) as bar:
    ...     bar.advance(4)
    ...     bar.advance(6)
    >>> seen
    [(4, 10), (10, 10)]
    """

    def __init__(self, progress, total: int, description: str = "samples"):
        if progress is not None and not isinstance(progress, bool) and not callable(progress):
            raise TypeError(f"progress must be True, False, None or a callable "
                            f"progress(done, total), got {progress!r}")
        self.total, self.done = total, 0
        self._callback, self._bar = None, None
        if progress is True:
            try:
                from tqdm.auto import tqdm  # optional dependency
            except ImportError:
                raise ImportError("progress=True shows a tqdm bar: pip install tqdm (or "
                                  "stochad[progress]), or pass a callable "
                                  "progress(done, total)") from None
            self._bar = tqdm(total=total, unit=description)
        elif callable(progress):
            self._callback = progress

    def advance(self, n: int) -> None:
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
        if self._callback is not None:
            self._callback(self.done, self.total)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.close()


def _dumps(task) -> bytes:
    if cloudpickle is not None:
        return cloudpickle.dumps(task)
    try:
        return pickle.dumps(task)
    except (pickle.PicklingError, AttributeError, TypeError) as error:
        raise TypeError(
            f"workers= sends the program to other processes, and it cannot be pickled "
            f"({error}); install cloudpickle (pip install cloudpickle, or stochad[dask]), "
            "or define the program as a module-level function"
        ) from error


def _run_pickled(blob: bytes):
    """Run a pickled ``(task, caller's process id, caller's warning filters)`` (module level,
    so any executor can send it by reference): its result, and, in another process, the
    warnings it raised, each once, as ``(message, category, filename, lineno)``: a worker's
    warnings never reach the caller by themselves. The task runs under the caller's filters
    (an "error" filter raises there too, whatever started the worker). (In the caller's
    process, a thread pool's, warnings arrive by themselves; and recording them there would
    swap the process's filters under the other threads.)"""
    task, caller, filters = pickle.loads(blob)
    if os.getpid() == caller:
        return task(), []
    with warnings.catch_warnings(record=True) as caught:
        warnings.resetwarnings()
        for action, message, category, module, lineno in reversed(filters):
            warnings.filterwarnings(action, _pattern(message), category, _pattern(module),
                                    lineno)
        result = task()
    seen = dict.fromkeys((str(w.message), _portable(w.category), w.filename, w.lineno)
                         for w in caught)
    return result, list(seen)


def _portable(category):
    """A warning class as the caller can unpickle it: itself, or ``(module, name)`` for a
    class the worker cannot send by reference (one defined in the user's script, which a
    forkserver or spawn worker imported under another name)."""
    try:
        pickle.dumps(category)
    except (pickle.PicklingError, AttributeError, TypeError):
        return category.__module__, category.__qualname__
    return category


def _category(category):
    """:func:`_portable`'s class back in the caller (``UserWarning`` if it is gone)."""
    if isinstance(category, tuple):
        module, name = category
        found = getattr(sys.modules.get(module), name, None)
        return found if isinstance(found, type) and issubclass(found, Warning) else UserWarning
    return category


def _pattern(text):
    """A warning filter's message or module as ``filterwarnings`` takes it (a compiled
    expression, a plain string in Python's default filters, or ``None``: any)."""
    return "" if text is None else getattr(text, "pattern", text)


def _reissued(outcomes, shown):
    """The results of :func:`_run_pickled`, their warnings raised here, where the program
    runs, once per call site of the user's module (its warning registry, as in this
    process) and once per run (``shown``)."""
    for result, caught in outcomes:
        for message, category, filename, lineno in caught:
            if (message, category, filename, lineno) in shown:
                continue
            shown.add((message, category, filename, lineno))
            module = next((m for m in list(sys.modules.values())
                           if getattr(m, "__file__", None) == filename), None)
            warnings.warn_explicit(message, _category(category), filename, lineno,
                                   registry=None if module is None else
                                   vars(module).setdefault("__warningregistry__", {}))
        yield result


def cpu_count() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


FORK_UNSAFE = ("jax", "torch", "tensorflow")
"""Libraries whose own threads make ``fork`` deadlock-prone (numpy's OpenBLAS threads are
fork-safe)."""


def _start_method() -> str:
    """``fork`` where it is safe (fast: workers inherit the imported, compiled package), else
    ``forkserver`` (which, like ``spawn``, needs a script's work under
    ``if __name__ == "__main__":``)."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and not any(name in sys.modules for name in FORK_UNSAFE):
        return "fork"
    return "forkserver" if "forkserver" in methods else "spawn"


def task_map(tasks, workers, progress: Progress, sizes):
    """Results of the zero-argument callables ``tasks``, in order, run as ``workers`` says.

    ``sizes[i]`` samples are reported to ``progress`` as task ``i`` finishes (in order).
    """
    workers = check_workers(workers)
    if workers is None or workers == 1 or len(tasks) == 1 and not callable(workers):
        for task, size in zip(tasks, sizes, strict=True):
            result = task()
            progress.advance(size)
            yield result
        return
    blobs = [_dumps((task, os.getpid(), list(warnings.filters))) for task in tasks]
    if callable(workers):
        results = _reissued(workers(_run_pickled, blobs), set())
        for result, size in zip(results, sizes, strict=True):
            progress.advance(size)
            yield result
        return
    n = cpu_count() if workers == -1 else workers
    context = multiprocessing.get_context(_start_method())
    with ProcessPoolExecutor(max_workers=min(n, len(tasks)), mp_context=context) as pool:
        results = _reissued(pool.map(_run_pickled, blobs), set())
        for result, size in zip(results, sizes, strict=True):
            progress.advance(size)
            yield result


def bind(func, *args, **kwargs):
    """``func`` with its arguments bound: a zero-argument task for :func:`task_map`."""
    return functools.partial(func, *args, **kwargs)
