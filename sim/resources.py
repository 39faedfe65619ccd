"""Capacity in the model: physical pools (who is in a bed now) and booking ledgers (who is booked when).

A :class:`Pool` grants places in first-come order and logs every change of occupancy, cheaply
enough for the hot loop: a grant with a free place costs no simulation event. A :class:`Ledger` is
the appointment book: planned stays are booked as time intervals so a dose is only scheduled where
a place will be free, and slips to a later day when none is.
"""

from __future__ import annotations

import math
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

    def request(self) -> simpy.Event | None:
        """Take a place now (returns None) or join the queue (returns the event to wait for)."""
        if self.in_use < self.capacity and not self.queue:
            self.in_use += 1
            self.times.append(self.env.now)
            self.levels.append(self.in_use)
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

    def release(self) -> None:
        """Free a place; the first in the queue takes it over at once (occupancy unchanged)."""
        if self.queue:
            self.queue.popleft().succeed()
        else:
            self.in_use -= 1
            self.times.append(self.env.now)
            self.levels.append(self.in_use)

    def record_wait(self, requested_at: float, waited: float) -> None:
        self.wait_times.append(requested_at)
        self.wait_hours.append(waited)


class Ledger:
    """The appointment book of one resource: stays booked on individual places (chair 3, bed 1).

    Booking individual places, not just a count, lets the book pack a place's day back to back, as
    a scheduler would, so short chair visits do not scatter over every chair and block the long
    ones. Stays are bucketed by the day they start; ``longest`` says how far back to look.
    """

    __slots__ = ("capacity", "by_day", "longest")

    def __init__(self, capacity: int):
        self.capacity = capacity
        self.by_day: dict[int, list[list[float]]] = {}   # day -> [start, end, place]
        self.longest = 0.0

    def _collect(self, start: float, end: float) -> list[list[float]]:
        found = []
        for day in range(int((start - self.longest) // 24), int(end // 24) + 1):
            for iv in self.by_day.get(day, ()):
                if iv[0] < end and iv[1] > start:
                    found.append(iv)
        return found

    def first_fit(self, lo: float, hi: float, length: float) -> tuple[float, int] | None:
        """Best place and start in [lo, hi] for a stay of ``length``, or None when nothing fits.

        Among places in use around then, the start that leaves the least idle time since that
        place's previous stay wins (back to back first); a place with nothing booked is used only
        when that is no better, and then at ``lo``. Ties go to the earlier start.
        """
        if self.capacity <= 0 or hi < lo:
            return None
        by_place: dict[int, list[list[float]]] = {}
        for iv in self._collect(lo, hi + length):
            ivs = by_place.get(iv[2])
            if ivs is None:
                by_place[iv[2]] = [iv]
            else:
                ivs.append(iv)
        best_gap, best_t, best_place = math.inf, math.inf, -1
        for place, ivs in by_place.items():
            if len(ivs) == 1:  # the common case, kept cheap
                s, e = ivs[0][0], ivs[0][1]
                if e <= lo:
                    t, gap = lo, lo - e
                elif s >= lo + length:
                    t, gap = lo, 0.0
                elif e <= hi:
                    t, gap = e, 0.0
                else:
                    continue
            else:
                ivs.sort()
                t = gap = None
                for cand in [lo] + [iv[1] for iv in ivs if lo < iv[1] <= hi]:
                    end = cand + length
                    if not any(iv[0] < end and iv[1] > cand for iv in ivs):
                        prev = max((iv[1] for iv in ivs if iv[1] <= cand), default=lo)
                        t, gap = cand, cand - prev
                        break  # later starts in the same place only add idle time
                if t is None:
                    continue
            if gap < best_gap or (gap == best_gap and t < best_t):
                best_gap, best_t, best_place = gap, t, place
        if best_gap > 0 and len(by_place) < self.capacity:
            # a free place at lo; taken only when no place in use does as well (keeps free places free)
            best_gap, best_t = 0.0, lo
            best_place = next(j for j in range(self.capacity) if j not in by_place)
        return None if best_place < 0 else (best_t, best_place)

    def book(self, start: float, end: float, place: int) -> list[float]:
        iv = [start, end, place]
        self.by_day.setdefault(int(start // 24), []).append(iv)
        if end - start > self.longest:
            self.longest = end - start
        return iv

    def cancel(self, iv: list[float]) -> None:
        bucket = self.by_day.get(int(iv[0] // 24), [])
        for j, other in enumerate(bucket):
            if other is iv:
                del bucket[j]
                return
