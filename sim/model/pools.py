"""Physical places in the model: who is in a bed, chair or bay now.

A :class:`Pool` grants places in first-come order and logs every change of occupancy, cheaply
enough for the hot loop: a grant with a free place costs no simulation event. In a centre, several
programmes (and other services) share a pool; each call names its user (``tag``) and the pool keeps
each user's own occupancy and waits too, so the centre's occupancy can be split by programme.
"""

from __future__ import annotations

from collections import deque

import simpy

# One user's share of a pool: [places in use, times, levels, requested at, hours waited]
Share = list


class Pool:
    """``capacity`` identical places (beds, chairs, bays) with a FIFO queue and an occupancy log."""

    __slots__ = ("env", "name", "capacity", "in_use", "queue", "times", "levels",
                 "wait_times", "wait_hours", "shares", "queue_tags")

    def __init__(self, env: simpy.Environment, name: str, capacity: int, users: int = 1):
        self.env = env
        self.name = name
        self.capacity = capacity
        self.in_use = 0
        self.queue: deque[simpy.Event] = deque()
        self.times: list[float] = [0.0]
        self.levels: list[int] = [0]
        self.wait_times: list[float] = []   # when each request was made
        self.wait_hours: list[float] = []   # how long it waited (0 when granted at once)
        # Only with several users: a single programme pays nothing for the split.
        self.shares: list[Share] | None = [[0, [0.0], [0], [], []] for _ in range(users)] if users > 1 else None
        self.queue_tags: deque[int] = deque()   # the user of each queued request (with shares)

    def request(self, now: float | None = None, log_wait: bool = True, tag: int = 0) -> simpy.Event | None:
        """Take a place now (returns None; a wait of 0 is recorded) or join the queue (returns the event
        to wait for; the caller records the wait with :meth:`record_wait` once it is over).

        ``now`` is the simulation time, when the caller has it at hand: ``env.now`` is a property
        call, and this runs for every dose. ``log_wait = False`` keeps the request out of the wait log
        (other services' admissions, whose waits are not the programme's). ``tag``: the user (programme).
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
            if self.shares is not None:
                self._change(tag, 1, now)
                if log_wait:
                    self.shares[tag][3].append(now)
                    self.shares[tag][4].append(0.0)
            return None
        ev = self.env.event()
        self.queue.append(ev)
        if self.shares is not None:
            self.queue_tags.append(tag)
        return ev

    def cancel(self, ev: simpy.Event, tag: int = 0) -> None:
        """Withdraw a queued request; if it was granted meanwhile, give the place back."""
        if ev.triggered:
            self.release(tag=tag)
        elif self.shares is None:
            self.queue.remove(ev)
        else:
            j = self.queue.index(ev)
            del self.queue[j]
            del self.queue_tags[j]

    def release(self, now: float | None = None, tag: int = 0) -> None:
        """Free a place; the first in the queue takes it over at once (occupancy unchanged).

        ``now``: the simulation time, when the caller has it at hand (as for :meth:`request`).
        """
        if self.queue:
            self.queue.popleft().succeed()
            if self.shares is not None:
                taker = self.queue_tags.popleft()
                if taker != tag:
                    now = self.env.now if now is None else now
                    self._change(tag, -1, now)
                    self._change(taker, 1, now)
        else:
            self.in_use -= 1
            now = self.env.now if now is None else now
            self.times.append(now)
            self.levels.append(self.in_use)
            if self.shares is not None:
                self._change(tag, -1, now)

    def record_wait(self, requested_at: float, waited: float, tag: int = 0) -> None:
        self.wait_times.append(requested_at)
        self.wait_hours.append(waited)
        if self.shares is not None:
            self.shares[tag][3].append(requested_at)
            self.shares[tag][4].append(waited)

    def _change(self, tag: int, by: int, now: float) -> None:
        share = self.shares[tag]
        share[0] += by
        share[1].append(now)
        share[2].append(share[0])

    def series(self, tag: int | None = None) -> tuple[list[float], list[int], list[float], list[float]]:
        """(times, levels, requested at, hours waited): the whole pool's, or user ``tag``'s own."""
        if tag is None or self.shares is None:
            return self.times, self.levels, self.wait_times, self.wait_hours
        return tuple(self.shares[tag][1:])
