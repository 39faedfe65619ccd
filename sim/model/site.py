"""What a centre's programmes share in one replication: the clock, the places, the books, the calendar,
the tocilizumab stock and other services' admissions into the same beds.

A single-drug scenario is a site with one user; a centre (``[programmes.<name>]``) gives each programme
a user number (``tag``) in the pools, and other services the last one, so occupancy splits by user.
"""

from __future__ import annotations

import math

import numpy as np
import simpy
from simpy import Timeout

from sim.cohort import Cohort
from sim.config import registry
from sim.config.scenario import RESOURCES, Scenario
from sim.config.units import HOURS_PER_WEEK
from sim.model.booking import Ledger
from sim.model.calendar import Calendar
from sim.model.discharge import Discharge
from sim.model.events import repeat_times
from sim.model.pharmacy import Pharmacy
from sim.model.pools import Pool


class Site:
    """The shared sections of scenario ``s`` in one replication, for ``users`` programmes plus other
    services. ``shared``: a cohort whose shared draws (pharmacy lead times, other services' tocilizumab
    and admissions) the site uses; in a centre every programme's cohort carries the same ones."""

    __slots__ = ("s", "env", "pools", "ledgers", "cal", "end_time", "referrals_end", "window", "open_hours",
                 "urgent_care_hours", "pharmacy", "other_stays", "other_tag", "_others", "_other_toci", "_toci_every")

    def __init__(self, s: Scenario, shared: Cohort, programmes: int = 1):
        self.s = s
        env = self.env = simpy.Environment()
        users = programmes + 1 if programmes > 1 else 1
        self.other_tag = programmes if programmes > 1 else 0
        cap = s.capacity
        self.pools = {name: Pool(env, name, getattr(cap, name), users) for name in RESOURCES}
        # Planned stays are booked on the resources the registry marks as booked; ward beds kept for
        # unplanned admissions stay out of the book.
        reserved = {"ward_beds": s.booking.ward_beds_reserved_for_unplanned}
        self.ledgers = {r.name: Ledger(max(0, getattr(cap, r.name) - reserved.get(r.name, 0)), s.booking.pack_stays)
                        for r in registry.RESOURCES if r.booked}
        total_days = s.total_weeks * 7
        self.end_time = total_days * 24.0
        self.referrals_end = (s.run.warmup_weeks + s.run.horizon_weeks) * HOURS_PER_WEEK
        self.cal = Calendar(s.calendar, total_days)
        # the statistics window and the hours the centre and urgent care are open in it, the same for every
        # programme (a programme's own start weekdays change no opening hour)
        self.window = (s.run.warmup_weeks * HOURS_PER_WEEK, self.referrals_end)
        self.open_hours = self.cal.open_hours_between(*self.window)
        self.urgent_care_hours = s.urgent_care.open_hours_between(*self.window)
        self.pharmacy = (Pharmacy(env, s.pharmacy, shared.pharmacy_lead_u,
                                  (shared.background_times, shared.background_mg))
                         if s.pharmacy is not None else None)
        # other services' admissions: (resource, arrived at, bed taken at, bed given back at)
        self.other_stays: list[tuple[str, float, float, float]] = []
        self._others = shared.other_admissions
        self._other_toci = shared.other_toci
        self._toci_every = s.tocilizumab.repeat_interval_hours.value

    def run(self, programmes: list) -> None:
        """Run the site to its end: other services' admissions and each programme's patients
        (:class:`~sim.model.pathway.Model`), on one clock."""
        self.start_others()
        for m in programmes:
            m.start()
        self.env.run(until=self.end_time)

    def finish(self, log):
        """``log`` (a :class:`~sim.model.runlog.RunLog`, a programme's or the centre's) with the site's own
        records: other services' stays and the pharmacy's."""
        log.other_stays = self.other_stays
        log.pharmacy = self.pharmacy.close() if self.pharmacy is not None else None
        return log

    def start_others(self) -> None:
        """Start other services' admissions (``[[other_admissions]]``)."""
        for o, (start, stay), toci in zip(self.s.other_admissions, self._others, self._other_toci):
            if start.size:
                self.env.process(self._other_admissions(o.resource, start, stay, toci))

    def _other_admissions(self, resource: str, start: np.ndarray, stay: np.ndarray, toci: tuple):
        """One stream of another service's admissions: each takes a bed of ``resource`` when one is free,
        first come first served with the programmes' unplanned admissions."""
        env, pool, log = self.env, self.pools[resource], self.other_stays
        for t, hours, at, mg, doses in zip(start.tolist(), stay.tolist(), *(a.tolist() for a in toci)):
            if t > env.now:
                yield Timeout(env, t - env.now)
            env.process(self._other_stay(pool, hours, len(log), at, mg, doses))
            log.append((resource, t, math.nan, math.nan))

    def _other_stay(self, pool: Pool, hours: float, j: int, toci_at: float, mg: float, doses: int):
        env, log, tag = self.env, self.other_stays, self.other_tag
        ev = pool.request(env.now, log_wait=False, tag=tag)
        if ev is not None:
            yield ev
        log[j] = (log[j][0], log[j][1], env.now, math.nan)
        if not math.isnan(toci_at) and self.pharmacy is not None:   # doses from the shared stock
            # repeats every repeat_interval_hours, while the patient is still in
            for at in repeat_times(doses, self._toci_every, hours, first=toci_at):
                self.pharmacy.request_in(at, mg, patient=False)
        yield Discharge(env, hours)
        pool.release(tag=tag)
        log[j] = (log[j][0], log[j][1], log[j][2], env.now)

    def pool_logs(self, tag: int | None = None) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        """Per resource, (times, levels, requested at, hours waited) as arrays: the whole pool's, or user ``tag``'s."""
        out = {}
        for name, pool in self.pools.items():
            times, levels, wait_t, wait_h = pool.series(tag)
            out[name] = (np.array(times, dtype=float), np.array(levels, dtype=np.int64),
                         np.array(wait_t, dtype=float), np.array(wait_h, dtype=float))
        return out
