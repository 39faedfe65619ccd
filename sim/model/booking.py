"""The appointment book: who is booked when, on which place.

A :class:`Ledger` books planned stays as time intervals so a dose is only scheduled where a place
will be free, and slips to a later day when none is. It knows nothing of SimPy.
"""

from __future__ import annotations

import bisect
import math


class Ledger:
    """The appointment book of one resource: stays booked on individual places (chair 3, bed 1).

    Booking individual places, not just a count, lets the book pack a place's day back to back, as
    a scheduler would, so short chair visits do not scatter over every chair and block the long
    ones. Stays are bucketed by the day they start, then by place; ``longest`` says how far back
    a bucket can reach.
    """

    __slots__ = ("capacity", "by_day", "longest", "last_end", "pack")

    def __init__(self, capacity: int, pack: bool = True):
        self.capacity = capacity
        self.pack = pack   # back to back first (booking.pack_stays); else the earliest start first
        self.by_day: dict[int, dict[int, list[list[float]]]] = {}   # day -> place -> [[start, end, place]]
        self.longest = 0.0
        self.last_end: dict[int, float] = {}  # day -> latest end of a stay starting that day (may be stale-high)

    def bookings(self) -> list[list[float]]:
        """Every booked stay as [start, end, place]."""
        return [iv for bucket in self.by_day.values() for ivs in bucket.values() for iv in ivs]

    def first_fit(self, lo: float, hi: float, length: float) -> tuple[float, int] | None:
        """Best place and start in [lo, hi] for a stay of ``length``, or None when nothing fits.

        Among places in use around then, the earliest start in each place is found in one walk over
        its (non-overlapping) stays; the place whose start leaves the least idle time since its
        previous stay wins (back to back first), ties to the earlier start. A place with nothing
        booked is used only when that is no better, and then at ``lo``. Without packing
        (``booking.pack_stays = false``) the earliest start wins: a free place at ``lo`` if there is one.
        """
        if self.capacity <= 0 or hi < lo:
            return None
        by_day, last_end = self.by_day, self.last_end
        # Stays of the days that can reach into [lo, hi + length], per place. Each day's lists are
        # kept sorted by start (see book) and days are visited in order, so the lists joined over
        # days are sorted too. The common case is a single day: its dict is read, never copied.
        by_place: dict[int, list[list[float]]] | None = None
        shared = False
        for day in range(int((lo - self.longest) // 24), int((hi + length) // 24) + 1):
            bucket = by_day.get(day)
            if bucket and last_end[day] > lo:  # skip days whose stays all ended before lo
                if by_place is None:
                    by_place, shared = bucket, True
                    continue
                if shared:
                    by_place, shared = dict(by_place), False
                for place, ivs in bucket.items():
                    have = by_place.get(place)
                    by_place[place] = ivs if have is None else have + ivs
        if by_place is None:
            by_place = {}
        pack = self.pack
        if not pack and len(by_place) < self.capacity:
            return lo, next(p for p in range(self.capacity) if p not in by_place)
        best_gap, best_t, best_place = math.inf, math.inf, -1
        for place, ivs in by_place.items():
            t = prev = lo
            for iv in ivs:
                if iv[1] <= t:          # ends before the candidate start: idle time counts from it
                    prev = iv[1]
                elif iv[0] >= t + length:
                    break               # the stay fits before this booking
                else:
                    t = prev = iv[1]    # collides: try straight after it
                    if t > hi:
                        break
            if t > hi:
                continue
            gap = t - prev
            if (gap < best_gap or (gap == best_gap and t < best_t)) if pack else \
                    (t < best_t or (t == best_t and gap < best_gap)):
                best_gap, best_t, best_place = gap, t, place
        if best_gap > 0 and len(by_place) < self.capacity:
            # a free place at lo; taken only when no place in use does as well (keeps free places free)
            best_t = lo
            for best_place in range(self.capacity):
                if best_place not in by_place:
                    break
        return None if best_place < 0 else (best_t, best_place)

    def book(self, start: float, end: float, place: int) -> list[float]:
        """Enter a stay of ``place`` from ``start`` to ``end``; returns the booking (to cancel it by)."""
        iv = [start, end, place]
        day = int(start // 24)
        bucket = self.by_day.get(day)
        if bucket is None:
            bucket = self.by_day[day] = {}
        ivs = bucket.get(place)
        if ivs is None:
            bucket[place] = [iv]
        elif not ivs or ivs[-1][0] <= start:
            ivs.append(iv)
        else:
            bisect.insort(ivs, iv)    # kept sorted by start, so first_fit never sorts
        if end - start > self.longest:
            self.longest = end - start
        if end > self.last_end.get(day, 0.0):
            self.last_end[day] = end
        return iv

    def cancel(self, iv: list[float]) -> None:
        ivs = self.by_day.get(int(iv[0] // 24), {}).get(int(iv[2]), [])
        for j, other in enumerate(ivs):
            if other is iv:
                del ivs[j]
                return
