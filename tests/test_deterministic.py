"""Deterministic programs: the derivative equals the analytic one to 1e-12, for every rule.

The derivatives below are written out by hand, independently of stochad's rule table; the
test checks that every row of the table is covered.
"""

import numpy as np
import pytest
from scipy import special

import stochad as sad
from stochad.rules import RULES

X = 0.37  # where unary functions are differentiated (inside every domain used below)
# ufunc -> (where to differentiate, analytic derivative)
UNARY = {
    np.negative: (X, lambda x: -1.0),
    np.positive: (X, lambda x: 1.0),
    np.absolute: (-X, lambda x: np.sign(x)),
    np.reciprocal: (X, lambda x: -1 / x**2),
    np.square: (X, lambda x: 2 * x),
    np.sqrt: (X, lambda x: 0.5 / np.sqrt(x)),
    np.cbrt: (X, lambda x: x ** (-2 / 3) / 3),
    np.exp: (X, np.exp),
    np.exp2: (X, lambda x: np.log(2) * 2**x),
    np.expm1: (X, np.exp),
    np.log: (X, lambda x: 1 / x),
    np.log2: (X, lambda x: 1 / (x * np.log(2))),
    np.log10: (X, lambda x: 1 / (x * np.log(10))),
    np.log1p: (X, lambda x: 1 / (1 + x)),
    np.sin: (X, np.cos),
    np.cos: (X, lambda x: -np.sin(x)),
    np.tan: (X, lambda x: 1 / np.cos(x) ** 2),
    np.arcsin: (X, lambda x: 1 / np.sqrt(1 - x**2)),
    np.arccos: (X, lambda x: -1 / np.sqrt(1 - x**2)),
    np.arctan: (X, lambda x: 1 / (1 + x**2)),
    np.sinh: (X, np.cosh),
    np.cosh: (X, np.sinh),
    np.tanh: (X, lambda x: 1 / np.cosh(x) ** 2),
    np.arcsinh: (X, lambda x: 1 / np.sqrt(x**2 + 1)),
    np.arccosh: (1 + X, lambda x: 1 / np.sqrt(x**2 - 1)),
    np.arctanh: (X, lambda x: 1 / (1 - x**2)),
    np.floor: (1 + X, lambda x: 0.0),
    np.ceil: (1 + X, lambda x: 0.0),
    np.rint: (1 + X, lambda x: 0.0),
    np.trunc: (1 + X, lambda x: 0.0),
    np.sign: (X, lambda x: 0.0),
    special.gammaln: (1 + X, special.digamma),
}
Y = 1.9  # the other argument of binary functions
# ufunc -> (x, y, d/dx, d/dy)
BINARY = {
    np.add: (X, Y, lambda x, y: 1.0, lambda x, y: 1.0),
    np.subtract: (X, Y, lambda x, y: 1.0, lambda x, y: -1.0),
    np.multiply: (X, Y, lambda x, y: y, lambda x, y: x),
    np.true_divide: (X, Y, lambda x, y: 1 / y, lambda x, y: -x / y**2),
    np.floor_divide: (5 + X, Y, lambda x, y: 0.0, lambda x, y: 0.0),
    np.remainder: (5 + X, Y, lambda x, y: 1.0, lambda x, y: -np.floor(x / y)),
    np.power: (X, Y, lambda x, y: y * x ** (y - 1), lambda x, y: np.log(x) * x**y),
    np.maximum: (X, Y, lambda x, y: float(x > y), lambda x, y: float(y > x)),
    np.minimum: (X, Y, lambda x, y: float(x < y), lambda x, y: float(y < x)),
    np.hypot: (X, Y, lambda x, y: x / np.hypot(x, y), lambda x, y: y / np.hypot(x, y)),
    np.logaddexp: (X, Y, lambda x, y: np.exp(x) / (np.exp(x) + np.exp(y)),
                   lambda x, y: np.exp(y) / (np.exp(x) + np.exp(y))),
    np.arctan2: (X, Y, lambda y, x: x / (x**2 + y**2), lambda y, x: -y / (x**2 + y**2)),
}
# boolean-valued rows: zero derivative, exact jumps (tested with draws elsewhere)
LOGICAL = {np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal,
           np.logical_and, np.logical_or, np.logical_xor, np.logical_not,
           np.bitwise_and, np.bitwise_or, np.bitwise_xor, np.invert}


def test_every_rule_is_covered():
    assert set(RULES) == set(UNARY) | set(BINARY) | LOGICAL


def _derivative(f, p, direction=None):
    return sad.derivative_estimate(f, p, n_samples=3, rng=0, direction=direction)


@pytest.mark.parametrize("ufunc", list(UNARY), ids=lambda u: u.__name__)
def test_unary_scalar(ufunc):
    x, d = UNARY[ufunc]
    assert _derivative(ufunc, x) == pytest.approx(d(x), abs=1e-12, rel=1e-12)


@pytest.mark.parametrize("ufunc", list(UNARY), ids=lambda u: u.__name__)
def test_unary_vector(ufunc):
    x, d = UNARY[ufunc]
    xs = x + np.array([0.0, 0.01, 0.02])
    got = _derivative(ufunc, xs, direction=np.ones(3))
    np.testing.assert_allclose(got, [d(v) for v in xs], atol=1e-12, rtol=1e-12)


@pytest.mark.parametrize("ufunc", list(BINARY), ids=lambda u: u.__name__)
def test_binary_scalar(ufunc):
    x, y, dx, dy = BINARY[ufunc]
    assert _derivative(lambda p: ufunc(p, y), x) == pytest.approx(dx(x, y), abs=1e-12, rel=1e-12)
    assert _derivative(lambda p: ufunc(x, p), y) == pytest.approx(dy(x, y), abs=1e-12, rel=1e-12)
    both = _derivative(lambda p: ufunc(p[0], p[1]), np.array([x, y]))
    np.testing.assert_allclose(both, [dx(x, y), dy(x, y)], atol=1e-12, rtol=1e-12)


@pytest.mark.parametrize("ufunc", list(BINARY), ids=lambda u: u.__name__)
def test_binary_vector(ufunc):
    x, y, dx, dy = BINARY[ufunc]
    ys = y + np.array([0.0, 0.1, 0.2])
    got = _derivative(lambda p: ufunc(p, ys), np.full(3, x), direction=np.ones(3))
    np.testing.assert_allclose(got, [dx(x, v) for v in ys], atol=1e-12, rtol=1e-12)
    got = _derivative(lambda p: ufunc(p, ys), x)  # scalar triple broadcast against a vector
    np.testing.assert_allclose(got, [dx(x, v) for v in ys], atol=1e-12, rtol=1e-12)


def test_operators_match_ufuncs():
    x = 0.7

    def f(p):
        return (-(p + 1) * 2 - 3 / p + p**2 % 5 + abs(p - 4) + (2 ** p) // 1) / (p - 10)

    def exact(p):
        g = -(p + 1) * 2 - 3 / p + p**2 % 5 + abs(p - 4) + (2**p) // 1
        dg = -2 + 3 / p**2 + 2 * p - 1
        return (dg * (p - 10) - g) / (p - 10) ** 2

    assert _derivative(f, x) == pytest.approx(exact(x), abs=1e-12, rel=1e-12)


def test_where_clip_round_sum_mean():
    x = 0.7

    def f(p):
        v = p * np.array([1.0, 2.0, 3.0])
        return (np.sum(np.clip(v, 1.0, 2.5)) + np.mean(v**2) + np.round(v * 10, 1).sum()
                + sad.where(p > 0.5, p**3, -p))

    # clip passes 1.4 and 2.1 (derivatives 2 and 3) and clamps 0.7 to 1.0 (derivative 0)
    exact = 5.0 + (1 + 4 + 9) * 2 * x / 3 + 3 * x**2
    assert _derivative(f, x) == pytest.approx(exact, abs=1e-12, rel=1e-12)


def test_math_functions_are_the_table():
    assert sad.exp is np.exp and sad.log1p is np.log1p
    assert _derivative(lambda p: sad.tanh(sad.arctan(p)), 0.3) == pytest.approx(
        (1 - np.tanh(np.arctan(0.3)) ** 2) / (1 + 0.09), rel=1e-12)


def test_constant_program_has_zero_derivative():
    assert _derivative(lambda p: 3.0, 0.5) == 0.0
    np.testing.assert_array_equal(_derivative(lambda p: np.ones(2), 0.5), [0.0, 0.0])
