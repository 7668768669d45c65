"""Ctrl-C during a batched run raises KeyboardInterrupt, and stochad works afterwards.

A subprocess runs a long derivative estimate again and again; the test sends it SIGINT at a
different moment of each run. Before the fix about half of the interrupts surfaced as
``SystemError: CPUDispatcher(...) returned a result with an exception set`` (an interrupt
while a kernel boxes its result; see ``stochad._jit``).
"""

import os
import random
import signal
import subprocess
import sys
import weakref
from pathlib import Path

import pytest

import stochad as sad

ROOT = Path(__file__).resolve().parents[1]
TRIES = 12

CHILD = f"""
import signal
import sys
import stochad as sad

# a child started from a background job inherits SIGINT ignored: take Python's handler back
signal.signal(signal.SIGINT, signal.default_int_handler)

def walk(p):
    n = 0
    for i in range(1, 101):
        n = n + sad.bernoulli(p * (1 - (n + i) / 200))
    return n + sad.poisson(3 * p) + sad.binomial(5, p)

before = float(sad.derivative_estimate(walk, 0.5, n_samples=500, rng=0))
for t in range({TRIES}):
    print("go", flush=True)
    try:
        sad.derivative_estimate(walk, 0.5, n_samples=10**7, rng=t)
        print("finished", flush=True)
    except KeyboardInterrupt:
        print("KeyboardInterrupt", flush=True)
    except BaseException as error:
        print(type(error).__name__, flush=True)
after = float(sad.derivative_estimate(walk, 0.5, n_samples=500, rng=0))
print("usable" if after == before else f"changed {{before}} {{after}}", flush=True)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
def test_ctrl_c_raises_keyboard_interrupt_every_time():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    moments = random.Random(0)
    outcomes = []
    try:
        for _ in range(TRIES):
            assert child.stdout.readline() == "go\n"
            try:
                child.wait(timeout=moments.uniform(0.05, 0.6))  # the moment of the interrupt
            except subprocess.TimeoutExpired:
                pass
            child.send_signal(signal.SIGINT)
            outcomes.append(child.stdout.readline().strip())
        last = child.stdout.readline().strip()
        child.wait(timeout=60)
    finally:
        child.kill()
    assert outcomes == ["KeyboardInterrupt"] * TRIES, child.stderr.read()
    assert last == "usable"


def test_an_interrupt_swallowed_by_a_weakref_callback_is_raised_again():
    # Python only reports a KeyboardInterrupt raised inside a weakref callback (the event
    # table's weak set runs one); a run keeps it and raises it at its next triple
    class Thing:
        pass

    def interrupt(ref):
        raise KeyboardInterrupt

    def program(p):
        thing = Thing()
        ref = weakref.ref(thing, interrupt)
        del thing  # the callback runs here, and its KeyboardInterrupt is swallowed
        assert ref() is None
        return sad.bernoulli(p)

    with pytest.raises(KeyboardInterrupt):
        sad.derivative_estimate(program, 0.5, n_samples=4, rng=0)
    assert sad.derivative_estimate(lambda p: 3 * p, 0.5, n_samples=2, rng=0) == 3.0
