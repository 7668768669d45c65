"""The recording in progress, if any: the samplers hand their draws to it.

A leaf module (it imports nothing from stochad), so the samplers, the
:class:`stochad.Generator` and every other place that draws random numbers can check it
without an import cycle. A place the recorder cannot follow calls :func:`refuse`, so a
recording never bakes plain random numbers into the program.
"""

from __future__ import annotations

import contextvars

RECORDER: contextvars.ContextVar = contextvars.ContextVar("stochad_recorder", default=None)
"""The :class:`stochad.compiled.trace.Recorder` recording a program in this context, or
``None``. A sampler that finds one returns ``recorder.draw(law, args, size, rng)``."""


class Unrecordable(Exception):
    """The program does something the compiled engine cannot record (the message says what)."""


def recording():
    """The recorder in progress in this context, or ``None``.

    Examples
    --------
    >>> recording() is None
    True
    """
    return RECORDER.get()


def refuse(what: str) -> None:
    """Stop a recording in progress: ``what`` cannot be recorded (nothing outside one).

    Examples
    --------
    >>> refuse("Generator.permutation")   # no recording: nothing happens
    """
    if RECORDER.get() is not None:
        raise Unrecordable(f"{what} has no compiled form")
