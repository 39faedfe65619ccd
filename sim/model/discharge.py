"""The end of a stay, ordered before anything else due at the same moment."""

from __future__ import annotations

import simpy
from simpy.core import URGENT


class Discharge(simpy.Event):
    """A timeout that fires before every other event due at the same time.

    A stay ending at 12:00 frees its place before a patient booked into it at 12:00 asks for it,
    as on a real ward; with plain timeouts the older booking would come first, find the place
    taken and wait for a same-instant handover (a wasted condition event per back-to-back stay).
    Built like ``Event.succeed`` (SimPy 4), with a delay and urgent priority.
    """

    __slots__ = ()

    def __init__(self, env: simpy.Environment, delay: float):
        # Event.__init__'s fields, set here to save a call per stay (this is the hot loop).
        self.env = env
        self.callbacks: list = []
        self._ok = True
        self._value = None
        env.schedule(self, URGENT, delay)
