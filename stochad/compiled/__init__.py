"""The compiled batched engine (DESIGN §6): a program recorded once into an instruction table
and run by one precompiled numba interpreter over cache-sized blocks of lanes.

* :mod:`.hook` -- the context variable through which the samplers hand their draws to a
  recording in progress (a leaf module: the samplers import it);
* :mod:`.trace` -- records a program by running it on placeholder values;
* :mod:`.program` -- the instruction table: liveness, slot allocation, static flags;
* :mod:`.streams` -- counter-based uniforms keyed by (seed, lane, draw index);
* :mod:`.interpreter` -- the numba interpreter with one alternative world per lane;
* :mod:`.engine` -- record, run, or say why not (the operator engine then runs).

This package imports nothing on import, so that :mod:`stochad.samplers` can import
:mod:`.hook` without a cycle.
"""
