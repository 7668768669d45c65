"""Estimators and accessors: the public entry points (docs/design.md §2)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from . import auto, replay
from .auto import AUTO, BackendChoice
from .backends import backend_class
from .combined import MIN_SAMPLES, check_samples
from .compiled import engine as compiled
from .context import normalize_rng
from .driver import (
    SERIAL_TASK,
    check_count,
    check_flag,
    chunk_lanes,
    contribution,
    plan,
    run_once,
    run_tasks,
    split_runs,
)
from .estimators import sampler
from .parallel import Progress, check_workers
from .result import EstimateResult, Moments
from .structure import Layout, map_leaves
from .triple import StochasticTriple, delta, perturbations, value

__all__ = ["choose_backend", "delta", "derivative_contribution", "derivative_estimate",
           "derivative_samples", "estimate", "perturbations", "stochastic_triple", "value"]

def _as_parameter(p) -> np.ndarray:
    raw = np.asarray(p)
    if raw.dtype.kind not in "biuf":  # '0.5' would pass as 0.5 through a float cast
        raise TypeError(f"the parameter p must be numbers, got {p!r} (dtype {raw.dtype})")
    if raw.size == 0:
        raise ValueError(f"the parameter p has no element to differentiate, got {p!r}")
    p = raw.astype(np.float64)
    if not np.all(np.isfinite(p)):
        raise ValueError(f"the parameter p must be finite, got {p!r}")
    return p


def _directions(p: np.ndarray, direction) -> tuple[list[np.ndarray], bool]:
    """The dual parts to seed: one per coordinate of ``p``, or the given ``direction``."""
    if direction is not None:
        d = np.asarray(direction, dtype=np.float64)
        if d.shape != p.shape:
            raise ValueError(f"direction has shape {d.shape}, but p has shape {p.shape}")
        if not np.all(np.isfinite(d)):
            raise ValueError(f"direction must be finite, got {d!r}")
        return [d], False
    if p.ndim == 0:
        return [np.ones(())], False
    basis = np.eye(p.size).reshape((p.size,) + p.shape)
    return list(basis), True


def _triple_samples(f, p, d, lanes, generator, backend, vectorize, compile=True, programs=None):
    """One task's samples of the stochastic-triple estimator: one sample per call with the
    pruned, kpaths or exact backend is the replay engine (:mod:`stochad.replay`, which replays
    one, ``K`` or every event of a sample); a batched run of the
    pruned backend goes through the compiled engine when ``f`` records (its seed drawn from
    the task's generator; ``programs``, a dict shared by a call's tasks, keeps the recording);
    anything else runs on the operator engine."""
    if not vectorize and replay.replays(backend):
        state = generator.bit_generator.state
        try:
            return replay.samples_along(f, p, d, lanes, generator, backend)
        except replay.NotReplayable:  # a law replay lacks: one-lane triples, from the same state
            generator.bit_generator.state = state
    if vectorize and compile and backend == "pruned":  # compiled engine (docs/design.md §6)
        samples = compiled.samples(f, p, d, lanes, generator, programs=programs)
        if samples is not None:
            return samples
    cls = backend_class(backend)
    return split_runs(lanes, vectorize, generator,
                      lambda n: (run_once(f, p, d, cls(n), generator, contribution),))[0]


@dataclass
class _Call:
    """A call's checked arguments: the flat parameter, its directions and the tasks."""

    f: object
    p: np.ndarray
    directions: list
    per_coordinate: bool
    layout: Layout | None
    along: object
    tasks: list
    options: dict

    def run(self):
        """``(direction, samples)`` of every task, in order."""
        o = self.options
        total = sum(t.size for t in self.tasks)
        with Progress(o["progress"], total) as progress:
            yield from run_tasks(self.along, self.f, self.p, self.directions, self.tasks,
                                 o["backend"], o["vectorize"], o["workers"], progress)

    def shaped(self, per_direction):
        """Per-direction arrays (sample axis first, or none) as the result's structure:
        coordinates of an array ``p`` last, a tuple/dict ``p``'s structure."""
        if not self.per_coordinate:
            return per_direction[0]
        stacked = np.stack(per_direction, axis=-1)
        stacked = stacked.reshape(stacked.shape[:-1] + self.p.shape)
        return stacked if self.layout is None else self.layout.unflatten(stacked)


def _along(estimator, compile=True, baseline=False, h=None):
    """The per-task sampling function of ``estimator`` (the triple estimator's: this module's
    :func:`_triple_samples`)."""
    return sampler(estimator, baseline=baseline, h=h, compile=compile) or functools.partial(
        _triple_samples, compile=compile, programs={})


def _task_size(backend, vectorize, chunk_size):
    return chunk_size or (backend_class(backend).chunk_size if vectorize else SERIAL_TASK)


def _candidates(estimator, vectorize, n_samples, task_size):
    """``auto``'s candidates ``{label: (estimator, backend)}`` for this call: one sample per
    call, triples have the backends replay runs (the combined estimator would run one-lane
    triples, which refuse the ``if`` that replay is for); the combined estimator of a triple
    pilot is left out when a task would have fewer samples than it needs."""
    pairs = dict(auto.CANDIDATES[estimator])
    if estimator == "triple" and not vectorize:
        pairs = {k: v for k, v in pairs.items() if v[0] == "triple" and v[1] in replay.REPLAYED}
    if estimator == "triple" and min(chunk_lanes(n_samples, task_size("pruned"))) < MIN_SAMPLES:
        pairs = {k: v for k, v in pairs.items() if v[0] != "combined"}
    return pairs


def _pilot(f, p, d, estimator, n_samples, generator, vectorize, chunk_size, compile):
    """``(choice, along)``: the :class:`~stochad.auto.BackendChoice` of a pilot of the
    candidates (:func:`_candidates`) along ``d``, each run as the estimate would run it, and
    the chosen one's sampling function (whose program cache holds the pilot's recording)."""
    def task_size(backend):
        return _task_size(backend, vectorize, chunk_size)

    alongs, runners = {}, {}
    for label, (est, backend) in _candidates(estimator, vectorize, n_samples, task_size).items():
        alongs[label] = along = _along(est, compile)
        runners[label] = (est, backend, functools.partial(
            lambda n, gen, along, backend: along(f, p, d, n, gen, backend, vectorize),
            along=along, backend=backend))
    choice = auto.pilot(runners, auto.pilot_size(n_samples), generator, task_size, n_samples)
    return choice, alongs.get(choice.label) or _along(choice.estimator, compile)


def _prepare(f, p, *, n_samples, rng, backend, vectorize, direction, chunk_size, estimator,
             baseline, h, workers, progress, compile=True) -> _Call:
    n_samples = check_count(n_samples, "n_samples")
    if chunk_size is not None:
        chunk_size = check_count(chunk_size, "chunk_size")
    vectorize = check_flag(vectorize, "vectorize")
    workers = check_workers(workers)
    if backend != AUTO:
        backend_class(backend)
    compile = check_flag(compile, "compile")
    along = _along(estimator, compile, baseline, h)
    generator = normalize_rng(rng)
    layout = Layout.of(p)  # tuple/dict p: differentiate the flat vector of its leaves
    if layout is not None:
        f, p, direction = layout.wrap(f), layout.flatten(p), layout.flatten(direction, "direction")
    p = _as_parameter(p)
    directions, per_coordinate = _directions(p, direction)
    choice = None
    if backend == AUTO:  # a pilot along the sum of the directions serves every coordinate
        if estimator == "combined":
            check_samples(n_samples)  # before a pilot that would be wasted
        if estimator in auto.CANDIDATES:
            choice, along = _pilot(f, p, np.sum(directions, axis=0), estimator, n_samples,
                                   generator, vectorize, chunk_size, compile)
            estimator = choice.estimator
        else:  # the classical estimators run the pruned backend's inert twin: no choice
            choice = BackendChoice("pruned", 0, {}, estimator)
        backend = choice.backend
    tasks = plan(n_samples, len(directions), _task_size(backend, vectorize, chunk_size),
                 generator)
    options = {"backend": backend, "vectorize": vectorize, "workers": workers,
               "progress": progress, "estimator": estimator, "n_samples": n_samples,
               "choice": choice, "compile": compile}
    return _Call(f, p, directions, per_coordinate, layout, along, tasks, options)


def choose_backend(f, p, *, n_samples=100_000, rng=None, direction=None, vectorize=True,
                   chunk_size=None, estimator="triple", compile=True) -> BackendChoice:
    """The variant ``backend="auto"`` would choose for ``n_samples`` samples, and the pilot's
    figures (a pilot of :func:`stochad.auto.pilot_size` samples per candidate; candidates
    over the pilot's budget, :data:`stochad.auto.BUDGET` of the estimate, are skipped).

    ``f``, ``p``, ``rng``, ``vectorize``, ``chunk_size``, ``estimator`` (``"triple"`` or
    ``"combined"``) and ``compile`` as for :func:`derivative_samples`; ``direction`` (default:
    every coordinate at once) is the direction of the pilot's derivative. The triple
    estimator's candidates are the pruned, kpaths (K = 4) and exact backends and the combined
    estimator on the pruned backend (one sample per call: the three backends, which replay
    runs); the combined estimator's are the three backends.

    Examples
    --------
    Thirty Poisson queue steps: the exact backend keeps every arrival's perturbation.

    >>> import numpy as np
    >>> import stochad as sad
    >>> def queue(lam):
    ...     w, total = 0, 0
    ...     for _ in range(30):
    ...         w = np.maximum(w + sad.poisson(lam) - 1, 0)
    ...         total = total + w
    ...     return total / 30
    >>> choice = sad.choose_backend(queue, 0.8, n_samples=10_000_000, rng=0)
    >>> sorted(choice.figures), choice.n_pilot
    (['combined', 'exact', 'kpaths', 'pruned'], 2000)
    >>> choice.figures["exact"]["variance"] < choice.figures["pruned"]["variance"]
    True
    """
    if not isinstance(estimator, str) or estimator not in auto.CANDIDATES:
        raise ValueError(f"choose_backend compares the variants of estimator='triple' or "
                         f"'combined', got estimator={estimator!r}")
    layout = Layout.of(p)
    if layout is not None:
        f, p, direction = layout.wrap(f), layout.flatten(p), layout.flatten(direction, "direction")
    p = _as_parameter(p)
    directions, _ = _directions(p, direction)
    return _pilot(f, p, np.sum(directions, axis=0), estimator,
                  check_count(n_samples, "n_samples"), normalize_rng(rng),
                  check_flag(vectorize, "vectorize"),
                  None if chunk_size is None else check_count(chunk_size, "chunk_size"),
                  check_flag(compile, "compile"))[0]


def derivative_samples(f, p, *, n_samples, rng=None, backend="pruned", vectorize=True,
                       direction=None, chunk_size=None, estimator="triple", baseline=False,
                       h=None, workers=None, progress=None, compile=True) -> np.ndarray:
    """Independent unbiased samples of ``d/dp E[f(p)]``, sample axis first.

    Parameters
    ----------
    f : callable
        The program: ``f(p)`` with ``p`` a stochastic triple; it draws with the ``stochad``
        samplers and computes with numpy operators and functions.
    p : float, array_like, or tuple/dict of them
        Where to differentiate. For a tuple or dict (nested ones too), ``f`` receives the
        same structure of triples and the result has that structure.
    n_samples : int
        Number of independent samples (an int from 1 to 10**12).
    rng : None, int, SeedSequence or Generator
        Drives every draw and every pruning choice (anything
        :func:`numpy.random.default_rng` accepts).
    backend : {"pruned", "exact", "kpaths", "kpaths:K", "auto", "smoothed"}
        How perturbations are reconciled (docs/design.md §1): ``"pruned"`` keeps one per sample;
        ``"exact"`` keeps all (lowest variance, cost grows with live events); ``"kpaths"``
        keeps up to K = 4 per element (``"kpaths:K"``: another K), unbiased; ``"auto"`` picks
        one of pruned, kpaths, exact (and, for ``estimator="triple"``, the combined estimator
        on pruned) by a short pilot (:func:`stochad.choose_backend`);
        ``"smoothed"`` folds them into the dual part (cheapest, **biased** for non-linear
        programs).
    vectorize : bool
        ``True``: call ``f`` once per chunk of samples on a batched triple. ``False``: call ``f``
        once per sample on a single-lane triple, so Python control flow on values works.
    direction : array_like, optional
        A single directional derivative (shape, or tuple/dict structure, of ``p``) in one
        pass, instead of one pass per coordinate.
    chunk_size : int, optional
        Most samples per task: lanes per batched call (default 65,536; 8,192 for the exact
        backend), bounding memory, or samples per task when ``vectorize=False`` (default
        1,024). ``n_samples`` is split into as few tasks of equal size as that allows.
        **The samples a seed gives depend on** ``chunk_size`` **and** ``vectorize``: a call
        of one task per direction draws from ``rng`` itself; several tasks draw from
        generators spawned from it, one per task.
    estimator : {"triple", "score", "fd", "combined"} or "relaxed[:TAU]"
        ``"triple"``: stochastic triples. ``"score"``: the score-function (REINFORCE)
        estimator, unbiased. ``"combined"``: both from one run, ``T + c·(S − T) + k·score``
        with ``(c, k)`` cross-fitted (:mod:`stochad.combined`), unbiased. ``"fd"``: central
        differences with common random numbers, **biased** for finite ``h``. All run the same
        ``f``; see :mod:`stochad.estimators`.
    baseline : bool
        ``estimator="score"`` only: subtract the leave-one-out mean of ``f`` over the other
        samples of the task (still unbiased).
    h : float, optional
        ``estimator="fd"`` only: the step (default ``1e-2·max(1, max|p|)``).
    workers : None, int or map-like callable, optional
        Where the tasks run: ``None`` or ``1`` in this process; an int ``n`` in a pool of
        ``n`` processes (``-1``: all cores); or any ``map(func, iterable)`` such as
        ``multiprocessing.Pool.map``, ``concurrent.futures.Executor.map`` or a Dask
        cluster's ``Client.get_executor().map``. The samples are the same whatever runs
        them (see :mod:`stochad.parallel`).
    progress : None, bool or callable, optional
        ``True`` shows a tqdm bar (optional dependency); a callable is called as
        ``progress(done, total)`` with sample counts after every task.
    compile : bool
        ``True`` (default): a batched run of the pruned backend (estimator ``"triple"`` or
        ``"combined"``) records ``f`` once and runs it in the compiled engine
        (:mod:`stochad.compiled`) when ``f`` can be recorded, else in the operator engine
        (``STOCHAD_DEBUG_COMPILE=1`` prints why). ``False``: always the operator engine.
        The two engines draw different random streams from one seed: the same distribution,
        other samples. Other backends and estimators ignore it.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_samples, *out_shape)`` for scalar ``p`` or with ``direction``;
        ``(n_samples, *out_shape, *p.shape)`` for array ``p``; for a tuple/dict ``p``, the
        same structure with ``(n_samples, *out_shape, *leaf.shape)`` leaves.

    Examples
    --------
    >>> import stochad as sad
    >>> samples = sad.derivative_samples(sad.poisson, 3.0, n_samples=4, rng=0)
    >>> samples.tolist()
    [1.0, 1.0, 1.0, 1.0]

    A dict of parameters gives a dict of derivatives, ``d/dλ E[a₀K + a₁] = a₀`` exactly on
    every sample (the ``a`` column of ``a₁`` is 1):

    >>> g = sad.derivative_samples(lambda q: q["a"][0] * sad.poisson(q["lam"]) + q["a"][1],
    ...                            {"lam": 3.0, "a": [2.0, 5.0]}, n_samples=3, rng=0)
    >>> g["lam"].tolist(), g["a"][:, 1].tolist()
    ([2.0, 2.0, 2.0], [1.0, 1.0, 1.0])
    """
    call = _prepare(f, p, n_samples=n_samples, rng=rng, backend=backend, vectorize=vectorize,
                    direction=direction, chunk_size=chunk_size, estimator=estimator,
                    baseline=baseline, h=h, workers=workers, progress=progress,
                    compile=compile)
    parts = [[] for _ in call.directions]
    for i, samples in call.run():
        parts[i].append(samples)
    return call.shaped([np.concatenate(x) for x in parts])


def estimate(f, p, *, n_samples, rng=None, backend="pruned", vectorize=True, direction=None,
             chunk_size=None, estimator="triple", baseline=False, h=None, workers=None,
             progress=None, compile=True) -> EstimateResult:
    """Estimate ``d/dp E[f(p)]`` with its standard error, in memory for one task at a time.

    The samples are folded into a running mean and variance task by task, so any
    ``n_samples`` fits in memory.

    Parameters
    ----------
    f, p, n_samples, rng, backend, vectorize, direction, chunk_size, estimator, baseline, h, \
workers, progress, compile
        As in :func:`derivative_samples`.

    Returns
    -------
    EstimateResult
        ``df`` (the estimate), ``error`` (its standard error), ``sd`` (per sample),
        ``n_samples``, ``estimator``, ``backend`` and ``tail_share`` (the share of the
        variance from the largest 0.1% of samples; see
        :class:`~stochad.result.EstimateResult`). Its ``repr`` is ``df ± error``.

    Examples
    --------
    ``d/dλ E[(K + 1)²] = 2λ + 3 = 9`` for ``K ~ Poisson(3)``:

    >>> import stochad as sad
    >>> result = sad.estimate(lambda lam: (sad.poisson(lam) + 1) ** 2, 3.0,
    ...                       n_samples=100_000, rng=0)
    >>> round(result.df, 1), round(result.error, 2)     # its repr: df ± error
    (9.0, 0.01)
    >>> abs(result.df - 9.0) < 5 * result.error
    True
    """
    call = _prepare(f, p, n_samples=n_samples, rng=rng, backend=backend, vectorize=vectorize,
                    direction=direction, chunk_size=chunk_size, estimator=estimator,
                    baseline=baseline, h=h, workers=workers, progress=progress,
                    compile=compile)
    n = call.options["n_samples"]
    moments = [Moments(n) for _ in call.directions]
    for i, samples in call.run():
        moments[i].add(samples)
    sd = [np.sqrt(m.variance) for m in moments]
    return EstimateResult(
        df=_plain(call.shaped([m.mean for m in moments])),
        error=_plain(call.shaped([s / np.sqrt(n) for s in sd])),
        sd=_plain(call.shaped(sd)), n_samples=n, estimator=call.options["estimator"],
        backend=call.options["backend"], backend_choice=call.options["choice"],
        tail_share=float(max(np.max(m.tail_share) for m in moments)))


def _plain(tree):
    """Scalars as Python floats, arrays as they are, in any tuple/dict structure."""
    return map_leaves(lambda m: m.item() if np.ndim(m) == 0 else m, tree)


def derivative_estimate(f, p, *, n_samples=1, rng=None, backend="pruned", vectorize=True,
                        direction=None, chunk_size=None, estimator="triple", baseline=False,
                        h=None, workers=None, progress=None, compile=True):
    """Unbiased estimate of ``d/dp E[f(p)]``: the mean of ``n_samples`` samples.

    The default ``n_samples=1`` (StochasticAD's convention) returns **one** noisy sample;
    pass more, and use :func:`estimate` for the standard error as well.

    Parameters
    ----------
    f, p, n_samples, rng, backend, vectorize, direction, chunk_size, estimator, baseline, h, \
workers, progress, compile
        As in :func:`derivative_samples`.

    Returns
    -------
    float, numpy.ndarray, or tuple/dict of them
        The mean of the samples: a float for a scalar output and scalar ``p``, else an array
        of shape ``(*out_shape, *p.shape)`` (or ``p``'s structure).

    Examples
    --------
    >>> import stochad as sad
    >>> est = sad.derivative_estimate(lambda p: sad.bernoulli(p), 0.3, n_samples=100_000, rng=0)
    >>> abs(est - 1.0) < 0.05
    True
    """
    return estimate(f, p, n_samples=n_samples, rng=rng, backend=backend, vectorize=vectorize,
                    direction=direction, chunk_size=chunk_size, estimator=estimator,
                    baseline=baseline, h=h, workers=workers, progress=progress,
                    compile=compile).df


def stochastic_triple(f, p, *, n_samples=1, rng=None, backend="pruned", vectorize=True):
    """Run ``f`` once on a triple seeded at ``p`` and return its output triple.

    With ``n_samples=1`` the accessors (:func:`value`, :func:`delta`, ...) return values of
    the output's own shape; with more, a leading sample axis. ``vectorize=False`` runs ``f``
    by replay (:mod:`stochad.replay`, any Python control flow): the triple holds the value,
    the dual part and the replayed event's jump with its weight ``W`` (with ``kpaths`` or
    ``exact``, each replayed event's jump with its weight).

    Parameters
    ----------
    f : callable
        The program ``f(p)``.
    p : float, array_like, or tuple/dict of them
        Where to seed the triple (dual part 1 in every coordinate).
    n_samples : int
        Lanes of the run.
    rng : None, int, SeedSequence or Generator, optional
        Drives every draw and pruning choice.
    backend : str
        The perturbation backend (see :func:`derivative_samples`).
    vectorize : bool
        ``False`` (``n_samples=1``): one run of the replay engine, whose output shows the
        value, the dual part and the replayed event's jump with its weight.

    Returns
    -------
    StochasticTriple or object
        Whatever ``f`` returns, usually a triple.

    Examples
    --------
    >>> import stochad as sad
    >>> sad.stochastic_triple(lambda p: sad.poisson(p), 3.0, rng=0)
    2 + 0ε + (1 with probability 1ε)
    """
    layout = Layout.of(p)  # tuple/dict p: every leaf seeded with dual part 1
    if layout is not None:
        f, p = layout.wrap(f), layout.flatten(p)
    p = _as_parameter(p)
    n_lanes = int(n_samples)
    if not check_flag(vectorize, "vectorize"):
        if not replay.replays(backend):
            raise ValueError(f"stochastic_triple with vectorize=False replays the program: "
                             f"backend must be one of {', '.join(replay.REPLAYED)} or "
                             f"kpaths:K, got {backend!r}")
        return replay.stochastic_triple(f, p, np.ones(p.shape), n_lanes, normalize_rng(rng),
                                        backend)
    return run_once(f, p, np.ones(p.shape), backend_class(backend)(n_lanes), normalize_rng(rng),
                    _output)


def _output(run, result):
    return result


def derivative_contribution(st):
    """``delta + Σ weight·jump``: one unbiased derivative sample per lane.

    Parameters
    ----------
    st : StochasticTriple or number
        An output triple.

    Returns
    -------
    numpy.ndarray or float
        ``δ + Σ w·Δ`` per lane (zeros for plain numbers).

    Examples
    --------
    >>> import stochad as sad
    >>> st = sad.stochastic_triple(lambda p: sad.poisson(p), 3.0, rng=0)
    >>> float(sad.derivative_contribution(st))
    1.0
    """
    if not isinstance(st, StochasticTriple):
        return np.zeros(np.shape(st))
    out = contribution(st.run, st)
    return out[0] if st.n_lanes == 1 else out
