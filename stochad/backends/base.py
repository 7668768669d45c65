"""The backend contract: how the finite perturbations of triples are stored and reconciled.

A backend is made for one run (:class:`stochad.context.Run`) of ``n_lanes`` lanes and answers
these questions for the layers above (docs/design.md §1):

* :meth:`~Backend.propagate_paths` -- the arguments of a deterministic function carry
  perturbations: which alternative paths are there (pruned: one per element, after pruning;
  exact: one per live event)? It calls back ``path_jump(jumps)`` for the output's jump on
  each path.
* :meth:`~Backend.inherit` / :meth:`~Backend.attach` -- a draw is coupled to its parameters
  along each of their alternative paths (again through a callback) and adds the new
  perturbation its dual parts create.
* :meth:`~Backend.stack`, :meth:`~Backend.sum_along` -- perturbations of several arrays
  stacked along a new axis, or summed over axes.
* :meth:`~Backend.contribution` -- ``Σ w·Δ`` per element, for the derivative estimate;
  :meth:`~Backend.pairs` -- the ``(jump, weight)`` pairs; :meth:`~Backend.live` -- which
  elements carry a live, non-zero perturbation (for ``bool()``).
* :meth:`~Backend.observe_draw` and :meth:`~Backend.hold` -- hooks on every draw and on every
  triple that carries a perturbation.

The defaults describe a backend that never creates a perturbation: the methods that read or
combine perturbations are only called when some triple carries one. Perturbation objects are
backend-specific; ``None`` always means "no perturbation".
"""

from __future__ import annotations

DEFAULT_CHUNK = 1 << 16
"""Most lanes per batched run; larger ``n_samples`` are processed in chunks of at most this
many, which bounds memory (and keeps the per-lane arrays cache-sized)."""


class Backend:
    """Base class of the perturbation backends (see the module docstring for the contract).

    Parameters
    ----------
    n_lanes : int
        Lanes of the run the backend serves.

    Examples
    --------
    >>> Backend(4).attach(None, None, None, None)
    (None, None)
    """

    name = "base"
    chunk_size = DEFAULT_CHUNK
    """Lanes per batched run when the estimator is not given ``chunk_size``."""
    one_path_per_sample = False
    """Whether reconciling every element of a sample leaves a single alternative path (the
    pruned backend): :func:`stochad.propagate` then runs a black box that mixes elements."""

    def __init__(self, n_lanes: int):
        self.n_lanes = n_lanes

    def _creates_none(self, what: str):
        raise NotImplementedError(
            f"the {self.name} backend creates no perturbations, so it cannot {what}")

    # -- deterministic functions --------------------------------------------------------------
    def propagate_paths(self, run, perts, shape, path_jump):
        """The output perturbation of a deterministic function (:func:`stochad.propagation.apply`).

        ``perts[i]`` is argument ``i``'s perturbation (``None``: none); ``path_jump(jumps)``
        gives the output's jump on the alternative path on which argument ``i`` jumps by
        ``jumps[i]``.
        """
        self._creates_none("propagate perturbations")

    def make(self, run, jump, event):
        """A perturbation of jump ``jump`` on event ``event`` (one path per element)."""
        self._creates_none("make a perturbation")

    def stack(self, run, perts, shape, axis):
        """Stack per-argument perturbations (``None`` entries: none) along a new ``axis``."""
        if all(p is None for p in perts):
            return None
        self._creates_none("stack perturbations")

    def sum_along(self, run, pert, shape, axes):
        """The perturbation of a sum over lanes-first ``axes`` of an array of ``shape``."""
        self._creates_none("sum perturbations")

    # -- draws --------------------------------------------------------------------------------
    def inherit(self, run, perts, shape, path_jump, walks=False):
        """A draw's ``(paths, alternative_jump)``: its parameters' perturbations ``perts``
        reconciled into alternative paths, and the draw's jump on each (``path_jump``)."""
        self._creates_none("couple a draw to perturbed parameters")

    def attach(self, run, inherited, alternative_jump, new):
        """``(delta, perturbation)`` of a draw from its inherited paths and the perturbation
        ``new`` (a :class:`~stochad.samplers.NewPerturbation`, or ``None``) that its
        parameters' dual parts create. The default ignores ``new``: no perturbation."""
        return None, None

    def observe_draw(self, run, dist, k, values, deltas):
        """Called on every draw with its values ``k``, parameters and their dual parts."""

    def hold(self, perturbation) -> None:
        """Called for every triple made with a perturbation (the pruned backend tracks them)."""

    # -- reading out --------------------------------------------------------------------------
    def contribution(self, run, pert):
        """``Σ w·Δ`` per element."""
        return 0.0

    def live(self, run, pert):
        """Elements carrying a live, non-zero perturbation."""
        return False

    def pairs(self, run, pert):
        """``[(jump, weight)]`` of each element."""
        return []
