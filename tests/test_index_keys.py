"""Indexing keys: advanced indices, take's mode=, plain indices beside random ones.

A test marked ``# BUG:`` failed before its fix and stays as a regression test; ``# EDGE:``
covers an edge case no other test covers.
"""


import numpy as np
import pytest

import stochad as sad


# BUG: a plain Python int index next to a random one (table[idx, 5]) now reaches
# rules._wrap_index unwrapped, whose bounds error does ``idx[bad]``: TypeError "'int' object is
# not subscriptable" instead of numpy's IndexError (as before the change).
def test_out_of_bounds_plain_index_next_to_a_random_one_raises_index_error():
    table = sad.asarray(np.arange(9.0).reshape(3, 3))
    with pytest.raises(IndexError, match="out of bounds"):
        sad.derivative_estimate(lambda p: table[sad.binomial(2, p), 5], 0.5, rng=0)


# BUG: (p * M)[1, :, [0, 2]] with M of shape (2, 3, 4): advanced indices separated by a slice
# make numpy move the advanced axis first, and getitem applies the key to the lanes-first array,
# so the lane axis is moved into the logical axes: stochastic_triple(n_samples=1) has shape
# (1, 3) instead of (2, 3), and derivative_estimate(n_samples=5) returns a (5, 3) array of
# [13, 17, 21] (lanes and rows mixed) instead of M[1, :, [0, 2]] (shape (2, 3)).
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_advanced_indices_separated_by_a_slice():
    m = np.arange(24.0).reshape(2, 3, 4)

    def f(p):
        return (p * m)[1, :, [0, 2]]

    st = sad.stochastic_triple(f, 1.0)
    assert st.shape == m[1, :, [0, 2]].shape
    np.testing.assert_array_equal(sad.value(st), m[1, :, [0, 2]])
    np.testing.assert_array_equal(sad.derivative_estimate(f, 1.0, n_samples=5),
                                  m[1, :, [0, 2]])


# BUG: np.take(p * np.arange(3.), 5, mode="clip") raises IndexError (and mode="wrap" with index
# 4 too): arrayfuncs.take ignores mode= for a triple table and a plain index with axis=None.
# numpy clips to index 2 (derivative 2) and wraps 4 to 1 (derivative 1).
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("mode, index, exact", [("clip", 5, 2.0), ("wrap", 4, 1.0),
                                                ("clip", [-1, 7], [0.0, 2.0])])
def test_take_with_a_plain_index_honours_mode(mode, index, exact):
    f = lambda p: np.take(p * np.arange(3.0), index, mode=mode)  # noqa: E731
    np.testing.assert_array_equal(np.take(np.arange(3.0), index, mode=mode), exact)
    np.testing.assert_array_equal(sad.derivative_estimate(f, 1.0), exact)
