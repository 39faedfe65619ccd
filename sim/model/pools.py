"""Physical places in the model: who is in a bed, chair or bay now.

A :class:`Pool` grants places in first-come order and logs every change of occupancy, cheaply
enough for the hot loop: a grant with a free place costs no simulation event.
"""

from __future__ import annotations

from collections import deque

import simpy


class Pool:
    """``capacity`` identical places (beds, chairs, bays) with a FIFO queue and an occupancy log."""

    __slots__ = ("env", "name", "capacity", "in_use", "queue", "times", "levels",
                 "wait_times", "wait_hours")

    def __init__(self, env: simpy.Environment, name: str, capacity: int):
        self.env = env
        self.name = name
        self.capacity = capacity
        self.in_use = 0
        self.queue: deque[simpy.Event] = deque()
        self.times: list[float] = [0.0]
        self.levels: list[int] = [0]
        self.wait_times: list[float] = []   # when each request was made
        self.wait_hours: list[float] = []   # how long it waited (0 when granted at once)

    def request(self, now: float | None = None, log_wait: bool = True) -> simpy.Event | None:
        """Take a place now (returns None; a wait of 0 is recorded) or join the queue (returns the event
        to wait for; the caller records the wait with :meth:`record_wait` once it is over).

        ``now`` is the simulation time, when the caller has it at hand: ``env.now`` is a property
        call, and this runs for every dose. ``log_wait = False`` keeps the request out of the wait log
        (other services' admissions, whose waits are not the programme's).
        """
        if self.in_use < self.capacity and not self.queue:
            if now is None:
                now = self.env.now
            self.in_use += 1
            self.times.append(now)
            self.levels.append(self.in_use)
            if log_wait:
                self.wait_times.append(now)
                self.wait_hours.append(0.0)
            return None
        ev = self.env.event()
        self.queue.append(ev)
        return ev

    def cancel(self, ev: simpy.Event) -> None:
        """Withdraw a queued request; if it was granted meanwhile, give the place back."""
        if ev.triggered:
            self.release()
        else:
            self.queue.remove(ev)

    def release(self, now: float | None = None) -> None:
        """Free a place; the first in the queue takes it over at once (occupancy unchanged).

        ``now``: the simulation time, when the caller has it at hand (as for :meth:`request`).
        """
        if self.queue:
            self.queue.popleft().succeed()
        else:
            self.in_use -= 1
            self.times.append(self.env.now if now is None else now)
            self.levels.append(self.in_use)

    def record_wait(self, requested_at: float, waited: float) -> None:
        self.wait_times.append(requested_at)
        self.wait_hours.append(waited)
