"""The care pathway as a discrete-event model: the only layer that uses SimPy."""

from sim.model.centre import CentreLog, simulate_centre, trace_centre
from sim.model.pathway import Model, simulate, trace
from sim.model.runlog import RunLog

__all__ = ["CentreLog", "Model", "RunLog", "simulate", "simulate_centre", "trace", "trace_centre"]
