"""Structured parameters: ``p`` given as a tuple or dict of arrays (possibly nested).

The estimators differentiate one flat vector: :class:`Layout` packs the leaves of ``p`` into it,
hands the program the same structure back (each leaf a slice of the flat triple, so one forward
pass per coordinate, or one pass for a ``direction``), and splits the result into the
structure of ``p``.
"""

from __future__ import annotations

import numpy as np


def _leaves(tree, where="p"):
    """``[(path, leaf)]`` of a tuple/dict tree, in order (dict keys in insertion order)."""
    if isinstance(tree, dict):
        return [item for key, sub in tree.items() for item in _leaves(sub, f"{where}[{key!r}]")]
    if isinstance(tree, tuple):
        return [item for i, sub in enumerate(tree) for item in _leaves(sub, f"{where}[{i}]")]
    return [(where, tree)]


def leaf_values(tree) -> list:
    """The leaves of a tuple/dict tree, in order."""
    return [leaf for _, leaf in _leaves(tree)]


def _rebuild(tree, leaves):
    """A tree shaped like ``tree`` whose leaves are taken in order from iterator ``leaves``."""
    if isinstance(tree, dict):
        return {key: _rebuild(sub, leaves) for key, sub in tree.items()}
    if isinstance(tree, tuple):
        items = [_rebuild(sub, leaves) for sub in tree]
        return type(tree)(*items) if hasattr(tree, "_fields") else tuple(items)
    return next(leaves)


def _skeleton(tree):
    """The structure of ``tree`` without its values: tuple lengths, dict keys, leaf shapes."""
    if isinstance(tree, dict):
        return ("dict", tuple((key, _skeleton(sub)) for key, sub in tree.items()))
    if isinstance(tree, tuple):
        return ("tuple", tuple(_skeleton(sub) for sub in tree))
    return ("leaf", np.shape(tree))


def _in_order_of(tree, template):
    """``tree`` with its dicts' keys in ``template``'s order (where the key sets agree), so
    that ``{"b": .., "a": ..}`` has the structure of ``{"a": .., "b": ..}``, as for a dict."""
    if isinstance(tree, dict) and isinstance(template, dict) and tree.keys() == template.keys():
        return {key: _in_order_of(tree[key], sub) for key, sub in template.items()}
    if isinstance(tree, tuple) and isinstance(template, tuple) and len(tree) == len(template):
        return tuple(_in_order_of(a, b) for a, b in zip(tree, template, strict=True))
    return tree


def map_leaves(func, tree):
    """``tree`` with ``func`` applied to every leaf (tuples and dicts are kept).

    Examples
    --------
    >>> map_leaves(lambda x: 2 * x, {"a": 1, "b": (2, 3)})
    {'a': 2, 'b': (4, 6)}
    """
    return _rebuild(tree, iter([func(leaf) for _, leaf in _leaves(tree)]))


class Layout:
    """How the leaves of a structured ``p`` sit in one flat parameter vector.

    Examples
    --------
    >>> import numpy as np
    >>> layout = Layout.of({"a": 1.0, "b": np.zeros((2, 2))})
    >>> layout.flatten({"a": 1.0, "b": np.ones((2, 2))}).tolist()
    [1.0, 1.0, 1.0, 1.0, 1.0]
    >>> layout.unflatten(np.arange(5.0))
    {'a': array(0.), 'b': array([[1., 2.],
           [3., 4.]])}
    """

    def __init__(self, tree):
        self.tree = tree
        self.skeleton = _skeleton(tree)
        self.shapes = [np.shape(leaf) for _, leaf in _leaves(tree)]
        if not self.shapes:
            raise ValueError(f"p has no parameters to differentiate: {tree!r}")
        sizes = [int(np.prod(s, dtype=np.int64)) for s in self.shapes]
        self.bounds = list(zip(np.cumsum([0] + sizes[:-1]), np.cumsum(sizes), strict=True))

    @classmethod
    def of(cls, p) -> Layout | None:
        """The layout of ``p`` if it is a tuple or dict, else ``None`` (a plain array)."""
        return cls(p) if isinstance(p, tuple | dict) else None

    def flatten(self, tree, name="p") -> np.ndarray | None:
        """The leaves of ``tree`` (same structure as ``p``) as one float vector."""
        if tree is None:
            return None
        tree = _in_order_of(tree, self.tree)
        if not isinstance(tree, tuple | dict) or _skeleton(tree) != self.skeleton:
            raise ValueError(
                f"{name} must have the structure of p (tuple lengths, dict keys and leaf "
                f"shapes {self.skeleton}), got {tree!r}"
            )
        parts = []
        for where, leaf in _leaves(tree, name):
            leaf = np.asarray(leaf, dtype=np.float64)
            if not np.all(np.isfinite(leaf)):
                raise ValueError(f"{where} must be finite, got {leaf!r}")
            parts.append(leaf.reshape(-1))
        return np.concatenate(parts) if parts else np.zeros(0)

    def unflatten(self, flat):
        """The structure of ``p`` with leaves cut from the last axis of ``flat`` (a triple, or
        an array of results)."""
        batch = np.shape(flat)[:-1]
        leaves = (flat[..., start:stop].reshape(batch + shape)
                  for (start, stop), shape in zip(self.bounds, self.shapes, strict=True))
        return _rebuild(self.tree, leaves)

    def wrap(self, f):
        """``f`` taking the structure of ``p``, as a function of the flat vector."""
        def flat_f(x):
            return f(self.unflatten(x))

        return flat_f
