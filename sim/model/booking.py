"""The appointment book: who is booked when, on which place.

A :class:`Ledger` books planned stays as time intervals so a dose is only scheduled where a place
will be free, and slips to a later day when none is. It knows nothing of SimPy.
"""

from __future__ import annotations

import bisect
import heapq
import math

# From this many places a ledger keeps each day's candidates (first_fit's ``memo``) rather than scanning
# every place per booking: below it a scan is cheaper than the upkeep (measured on the reference scenario,
# 10 chairs, and a centre scaled to 2,000 patients a year, 82 chairs). The answers are the same either way.
KEEP_FROM_PLACES = 24


class Ledger:
    """The appointment book of one resource: stays booked on individual places (chair 3, bed 1).

    Booking individual places, not just a count, lets the book pack a place's day back to back, as
    a scheduler would, so short chair visits do not scatter over every chair and block the long
    ones. Stays are bucketed by the day they start, then by place; ``longest`` says how far back
    a bucket can reach.
    """

    __slots__ = ("capacity", "by_day", "longest", "last_end", "pack", "best", "order", "changes")

    def __init__(self, capacity: int, pack: bool = True):
        self.capacity = capacity
        self.pack = pack   # back to back first (booking.pack_stays); else the earliest start first
        self.by_day: dict[int, dict[int, list[list[float]]]] = {}   # day -> place -> [[start, end, place]]
        self.longest = 0.0
        self.last_end: dict[int, float] = {}  # day -> latest end of a stay starting that day (may be stale-high)
        # day -> (lo, hi, length) -> [rank of each place that fits, heap of (rank, place), changes seen]:
        # first_fit's candidates over that day's stays, brought up to date from the day's list of changed
        # places when asked again (a stale heap entry is skipped when it reaches the top). A large centre
        # asks about the same day again and again with one place changed in between; scanning every place
        # each time made a booking's cost grow with the number of places, and the whole run's cost grow
        # faster than the centre.
        self.best: dict[int, dict[tuple[float, float, float], list]] = {}
        self.changes: dict[int, list[int]] = {}   # day -> places booked or cancelled on, in order (kept days)
        self.order: dict[int, dict[int, int]] = {}   # day -> place -> its position in by_day[day] (ties)

    def bookings(self) -> list[list[float]]:
        """Every booked stay as [start, end, place]."""
        return [iv for bucket in self.by_day.values() for ivs in bucket.values() for iv in ivs]

    def first_fit(self, lo: float, hi: float, length: float, memo: bool = False) -> tuple[float, int] | None:
        """Best place and start in [lo, hi] for a stay of ``length``, or None when nothing fits.

        Among places in use around then, the earliest start in each place is found in one walk over
        its (non-overlapping) stays; the place whose start leaves the least idle time since its
        previous stay wins (back to back first), ties to the earlier start. A place with nothing
        booked is used only when that is no better, and then at ``lo``. Without packing
        (``booking.pack_stays = false``) the earliest start wins: a free place at ``lo`` if there is one.

        ``memo``: ``lo`` will be asked again (a day's opening hour), so the answer over a single day's
        stays is kept and updated as they change (:attr:`best`) instead of found again.
        """
        if self.capacity <= 0 or hi < lo:
            return None
        by_place, day = self._places(lo, hi, length)
        if not self.pack and len(by_place) < self.capacity:
            return lo, next(p for p in range(self.capacity) if p not in by_place)
        if memo and day >= 0 and self.capacity >= KEEP_FROM_PLACES:
            best = self._kept(day, by_place, lo, hi, length)
        else:
            best = self._scan(by_place, lo, hi, length)
        gap, t, place = best
        if self.pack and gap > 0 and len(by_place) < self.capacity:
            # a free place at lo; taken only when no place in use does as well (keeps free places free)
            t = lo
            for place in range(self.capacity):
                if place not in by_place:
                    break
        return None if place < 0 else (t, place)

    def _places(self, lo: float, hi: float, length: float) -> tuple[dict[int, list[list[float]]], int]:
        """Stays of the days that can reach into [lo, hi + length], per place, and the day when they are a
        single day's (else -1). Each day's lists are kept sorted by start (see book) and days are visited
        in order, so the lists joined over days are sorted too. A single day's dict is read, never copied."""
        by_day, last_end = self.by_day, self.last_end
        by_place: dict[int, list[list[float]]] | None = None
        single = -1
        for day in range(int((lo - self.longest) // 24), int((hi + length) // 24) + 1):
            bucket = by_day.get(day)
            if bucket and last_end[day] > lo:  # skip days whose stays all ended before lo
                if by_place is None:
                    by_place, single = bucket, day
                    continue
                if single >= 0:
                    by_place, single = dict(by_place), -1
                for place, ivs in bucket.items():
                    have = by_place.get(place)
                    by_place[place] = ivs if have is None else have + ivs
        return ({} if by_place is None else by_place), single

    def _scan(self, by_place: dict[int, list[list[float]]], lo: float, hi: float, length: float
              ) -> tuple[float, float, int]:
        """(gap, start, place) of the best place in use (place -1 when none fits): first_fit without the free places."""
        pack = self.pack
        best_gap, best_t, best_place = math.inf, math.inf, -1
        # A place is given up once its candidate start passes ``cut``: past hi, or past where it could still
        # beat the best so far (the walk only moves the start later). Exact: no place that could win is cut.
        cut = hi
        for place, ivs in by_place.items():
            t = prev = lo
            for iv in ivs:
                if iv[1] <= t:          # ends before the candidate start: idle time counts from it
                    prev = iv[1]
                elif iv[0] >= t + length:
                    break               # the stay fits before this booking
                else:
                    t = prev = iv[1]    # collides: try straight after it
                    if t > cut:
                        break
            if t > cut:
                continue
            gap = t - prev
            if (gap < best_gap or (gap == best_gap and t < best_t)) if pack else \
                    (t < best_t or (t == best_t and gap < best_gap)):
                best_gap, best_t, best_place = gap, t, place
                if pack and gap == 0.0:
                    if t == lo:
                        break           # back to back at the earliest start: nothing does better
                    cut = math.nextafter(t, -math.inf)   # only a start before t can win now
                elif not pack:
                    cut = t
        return best_gap, best_t, best_place

    def _rank(self, place: int, t: float, prev: float, order: dict[int, int]) -> tuple[float, float, int]:
        """What first_fit minimises: (gap, start, position) when packing, else (start, gap, position)."""
        return (t - prev, t, order[place]) if self.pack else (t, t - prev, order[place])

    def _kept(self, day: int, by_place: dict[int, list[list[float]]], lo: float, hi: float, length: float
              ) -> tuple[float, float, int]:
        """:meth:`_scan`'s answer over ``day``'s stays from the kept candidates: made on the first ask, then
        brought up to date with the places booked or cancelled on since this key's last ask (``changes``)."""
        answers = self.best.get(day)
        if answers is None:
            answers = self.best[day] = {}
            self.changes[day] = []
        key = (lo, hi, length)
        kept = answers.get(key)
        order, changes = self.order[day], self.changes[day]
        if kept is None:
            ranks = {}
            for place, ivs in by_place.items():
                t, prev = _walk(ivs, lo, length)
                if t <= hi:
                    ranks[place] = self._rank(place, t, prev, order)
            heap = [(r, p) for p, r in ranks.items()]
            heapq.heapify(heap)
            kept = answers[key] = [ranks, heap, len(changes)]
        ranks, heap, seen = kept
        if seen < len(changes):
            bucket = self.by_day[day]
            for place in set(changes[seen:]):
                t, prev = _walk(bucket[place], lo, length)
                if t > hi:
                    ranks.pop(place, None)
                    continue
                rank = self._rank(place, t, prev, order)
                if ranks.get(place) != rank:
                    ranks[place] = rank
                    heapq.heappush(heap, (rank, place))
            kept[2] = len(changes)
        while heap and ranks.get(heap[0][1]) != heap[0][0]:
            heapq.heappop(heap)   # stale: that place changed since
        if not heap:
            return math.inf, math.inf, -1
        rank, place = heap[0]
        return (rank[0], rank[1], place) if self.pack else (rank[1], rank[0], place)

    def book(self, start: float, end: float, place: int) -> list[float]:
        """Enter a stay of ``place`` from ``start`` to ``end``; returns the booking (to cancel it by)."""
        iv = [start, end, place]
        day = int(start // 24)
        bucket = self.by_day.get(day)
        if bucket is None:
            bucket = self.by_day[day] = {}
            self.order[day] = {}
        ivs = bucket.get(place)
        if ivs is None:
            bucket[place] = [iv]
            order = self.order[day]
            order[place] = len(order)
        elif not ivs or ivs[-1][0] <= start:
            ivs.append(iv)
        else:
            bisect.insort(ivs, iv)    # kept sorted by start, so first_fit never sorts
        if end - start > self.longest:
            self.longest = end - start
        if end > self.last_end.get(day, 0.0):
            self.last_end[day] = end
        changes = self.changes.get(day)
        if changes is not None:
            changes.append(place)   # the kept candidates of that day catch up when next asked (_kept)
        return iv

    def cancel(self, iv: list[float]) -> None:
        day, place = int(iv[0] // 24), int(iv[2])
        ivs = self.by_day.get(day, {}).get(place, [])
        for j, other in enumerate(ivs):
            if other is iv:
                del ivs[j]
                changes = self.changes.get(day)
                if changes is not None:
                    changes.append(place)
                return


def _walk(ivs: list[list[float]], lo: float, length: float) -> tuple[float, float]:
    """The earliest start at or after ``lo`` where a stay of ``length`` fits among one place's stays ``ivs``
    (sorted, not overlapping), and the end of the stay before it (``lo`` if none): first_fit's walk."""
    t = prev = lo
    for iv in ivs:
        if iv[1] <= t:
            prev = iv[1]
        elif iv[0] >= t + length:
            break
        else:
            t = prev = iv[1]
    return t, prev
