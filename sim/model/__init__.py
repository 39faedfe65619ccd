"""The care pathway as a discrete-event model: the only layer that uses SimPy."""

from sim.model.pathway import Model, simulate, trace
from sim.model.runlog import RunLog

__all__ = ["Model", "RunLog", "simulate", "trace"]
