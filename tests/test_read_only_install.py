"""stochad imports and runs from a read-only install with no writable numba cache.

Each test copies the package to a temporary directory, makes it read-only and runs a program
in a subprocess whose HOME, XDG_CACHE_HOME and NUMBA_CACHE_DIR point at places it cannot write
to. As root, permissions do not bind, so the subprocess runs without the capabilities that
bypass them (``setpriv``); where that is not possible the tests skip.
"""

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WARNING = "no writable numba cache"

# The walk (Bernoulli draws: the pruning kernels) and a Poisson count (the inversion walk), on
# the compiled engine's interpreter and on the operator engine's kernels.
PROGRAM = """
import stochad as sad
def f(p):
    n = 0
    for i in range(20):
        n = n + sad.bernoulli(p * (1 - i / 40))
    return n + sad.poisson(3 * p)
result = sum(float(sad.derivative_estimate(f, 0.4, n_samples=2000, rng=1, compile=c))
             for c in (True, False))
print(repr(result))
"""


def _expected():
    scope = {}
    exec(PROGRAM, scope)
    return scope["result"]


def _unprivileged():
    """The command prefix under which file permissions bind (root bypasses them)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: cannot make a directory unwritable")
    return ["setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner"]


def _restore(path):
    for p in [path, *path.rglob("*")]:
        p.chmod(p.stat().st_mode | stat.S_IWUSR)


def _copy_package(tmp_path):
    dest = tmp_path / "install"
    shutil.copytree(ROOT / "stochad", dest / "stochad",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def _read_only(path, prefix=()):
    for p in [path, *path.rglob("*")]:
        mode = p.stat().st_mode
        p.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    probe = f"open({str(path / 'probe')!r}, 'w')"
    if subprocess.run([*prefix, sys.executable, "-c", probe], capture_output=True).returncode == 0:
        _restore(path)
        pytest.skip("cannot make a directory unwritable here")


def _run(install, home, prefix):
    env = dict(os.environ, PYTHONPATH=str(install), HOME=str(home),
               XDG_CACHE_HOME=str(home / "cache"), NUMBA_CACHE_DIR=str(home / "numba"))
    env.pop("NUMBA_DISABLE_JIT", None)
    done = subprocess.run([*prefix, sys.executable, "-c", PROGRAM], cwd=install, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return float(done.stdout), done.stderr


@pytest.fixture
def read_only_home(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    _read_only(home, _unprivileged())
    yield home
    home.chmod(0o755)


def _run_read_only(install, home, prefix):
    """:func:`_run` with the install read-only (writable again afterwards, for cleanup)."""
    _read_only(install, prefix)
    try:
        return _run(install, home, prefix)
    finally:
        _restore(install)


def test_read_only_install_without_a_cache_compiles_in_memory(tmp_path, read_only_home):
    prefix = _unprivileged()
    install = _copy_package(tmp_path)
    value, stderr = _run_read_only(install, read_only_home, prefix)
    assert value == _expected()
    assert stderr.count(WARNING) == 1  # said once, not once per kernel
    assert not list((install / "stochad").rglob("*.nbi"))


def test_pre_filled_read_only_cache(tmp_path, read_only_home):
    prefix = _unprivileged()
    install = _copy_package(tmp_path)
    value, stderr = _run(install, read_only_home, prefix)  # fills the package's __pycache__
    assert WARNING not in stderr
    assert list((install / "stochad" / "kernels" / "__pycache__").glob("*.nbi"))
    assert list((install / "stochad" / "compiled" / "__pycache__").glob("*.nbi"))
    again, _ = _run_read_only(install, read_only_home, prefix)
    assert again == value == _expected()


def test_read_only_install_caches_in_the_users_cache_directory(tmp_path):
    prefix = _unprivileged()
    install = _copy_package(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    value, stderr = _run_read_only(install, home, prefix)
    assert value == _expected()
    assert WARNING not in stderr
    assert list((home / "numba").rglob("*.nbi"))  # NUMBA_CACHE_DIR, honoured

