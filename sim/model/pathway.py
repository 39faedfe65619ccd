"""The step-up dosing pathway as a SimPy process per patient (DESIGN.md, steps 1-6).

SimPy is used here and only here. Everything random was drawn in :mod:`sim.cohort`; this module
turns draws into events. A patient's toxicities for a dose are known when the dose is given, so
the patient's process simply sleeps until the next onset or the end of its current stay, whichever
comes first: no interrupts, and a handful of events per dose.
"""

from __future__ import annotations

import heapq
import math

import numpy as np
import simpy
from simpy import Timeout
from simpy.core import URGENT

from sim.cohort import HOURS_PER_WEEK, Cohort
from sim.cohort.toxicity import (
    combination_rates,
    dose_pattern,
    grades,
    grades_with_severe_share,
    individual_rates,
    lognormal,
)
from sim.config.scenario import (
    PLACE_RESOURCE,
    RESOURCES,
    TOXICITY_KINDS,
    Scenario,
    dose_offsets_hours,
    dose_requirements,
)
from sim.model.booking import Ledger
from sim.model.calendar import Calendar
from sim.model.pharmacy import Pharmacy
from sim.model.pools import Pool
from sim.model.runlog import DIVERTED, LEFT, ON_TREATMENT, PLACE_CODES, RunLog

HOME, CHAIR, OBS, WARD, ICU, ED, UC = range(7)
LEVEL = (0, 0, 0, 1, 2, 0, 0)        # care level each location provides
LOC_NAMES = ("home", "infusion chair", "observation bed", "ward", "ICU", "ED", "urgent care")
CRS, ICANS = 0, 1
# Where an onset at home is managed (strategy.onset_at_home), as codes for the hot loop.
ROUTE_CODE = {"home": HOME, "urgent_care": UC, "ed": ED, "admit": WARD}
PLACE_LOC = {"ward": WARD, "observation": OBS, "clinic": CHAIR, "home": CHAIR}
INF = math.inf


class _Discharge(simpy.Event):
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


class _Patient:
    __slots__ = ("i", "loc", "pool", "planned_until", "ward_until", "icu_until", "pending",
                 "held_until", "after_tox", "discontinued", "had_g3", "start", "hold", "in_planned",
                 "prolonged_at")

    def __init__(self, i: int):
        self.i = i
        self.loc = HOME
        self.pool: Pool | None = None
        self.planned_until = 0.0
        self.ward_until = 0.0
        self.icu_until = 0.0
        # (onset, kind, grade, duration, toci doses, hospital stay if admitted)
        self.pending: list[tuple[float, int, int, float, int, float]] = []
        self.held_until = 0.0
        self.after_tox = 0.0
        self.discontinued = False
        self.had_g3 = [False, False]
        self.start = INF
        self.hold: tuple[Ledger, list[float]] | None = None  # slot held for the next dose (ledger, booking)
        self.in_planned = False     # in the place of a planned stay (not moved there by toxicity)
        self.prolonged_at = -1.0    # when toxicity first prolonged the current planned stay (-1: it has not)


class Model:
    """One replication: a scenario, a cohort, pools, ledgers and the run log."""

    def __init__(self, scenario: Scenario, cohort: Cohort, trace: int | None = None):
        s = self.s = scenario
        self.trace_i = -1 if trace is None else trace
        self.trace: list[tuple[float, str]] = []   # (time, what happened) for patient ``trace``
        self.c = cohort
        self.env = simpy.Environment()
        cap = s.capacity
        self.pools = {name: Pool(self.env, name, getattr(cap, name)) for name in RESOURCES}
        self.ledgers = {
            "chairs": Ledger(cap.chairs),
            "observation_beds": Ledger(cap.observation_beds),
            "ward_beds": Ledger(max(0, cap.ward_beds - s.booking.ward_beds_reserved_for_unplanned)),
        }
        total_days = s.total_weeks * 7
        self.end_time = total_days * 24.0
        self.referrals_end = (s.run.warmup_weeks + s.run.horizon_weeks) * HOURS_PER_WEEK
        self.cal = Calendar(s.calendar, total_days)
        self.open_hour, self.close_hour = self.cal.open_hour, self.cal.close_hour
        d = self.D = cohort.max_doses
        req = dose_requirements(s.drug, d)
        self.n_defined = len(req)
        self.req_hours = [r[1] for r in req]
        self.gap = [r[3] for r in req]
        self.window = [s.drug.schedule[r[0]].window_days for r in req]
        self.step_up = s.drug.step_up_doses
        self.offset = dose_offsets_hours(s.drug, d)  # nominal hours from dose 1 to each dose
        finite = [b.count for b in s.drug.schedule]
        self.repeat_from = sum(finite[:-1]) if finite[-1] == 0 else None  # first dose of the repeating block
        self.prevalent = cohort.prevalent.tolist()
        chair = [s.drug.chair_times(s.drug.schedule[r[0]]) for r in req]
        self.premed = [c[0] for c in chair]        # per dose: hours before the infusion starts
        self.infusion = [c[1] for c in chair]      # per dose: infusion plus hydration
        self.pro_hours = s.strategy.prophylaxis.chair_hours.value if s.strategy.prophylaxis else 0.0
        self.admission_window = s.calendar.admission_window_hours
        self.max_start_delay = s.calendar.max_start_delay_days
        self.lead_days = s.calendar.lead_time_days
        self.step_down = s.operations.icu_step_down_ward_hours.value
        self.rules = (s.drug.management.crs, s.drug.management.icans)
        self.rule_setting = [[r.setting for r in rules] for rules in self.rules]
        self._plan_cache: dict[tuple, tuple] = {}
        self._plain_plans: dict[tuple[bool, bool, bool], list] = {}
        # The hot loop reads and writes plain lists; numpy arrays are built once at the end.
        n = cohort.n
        self.referral = cohort.referral.tolist()
        self.therapy = cohort.therapy_hours.tolist()
        self.high_risk = cohort.high_risk.tolist()
        self.eligible = cohort.eligible.tolist()
        self.dose_time = [math.nan] * (n * d)
        self.dose_place = [0] * (n * d)
        self.dose_postponed = [0] * (n * d)
        self.first_dose = [math.nan] * n
        self.left_at = [math.nan] * n
        self.status = [0] * n
        self.discontinued = [False] * n
        self.given_toci = [False] * n
        self.held_for_stock_times: list[float] = []
        window = (s.run.warmup_weeks * HOURS_PER_WEEK, self.referrals_end)
        open_hours = sum(self.cal.closes(day) - self.cal.opens(day)
                         for day in range(int(window[0] // 24), int(window[1] // 24)) if self.cal.is_open[day])
        self.log = RunLog(n=cohort.n, max_doses=d, window=window, end_time=self.end_time, open_hours=open_hours,
                          capacity={k: getattr(cap, k) for k in RESOURCES}, referral=cohort.referral,
                          prevalent=cohort.prevalent,
                          urgent_care_hours=s.urgent_care.open_hours_between(*window))
        self._toxicity_care(s)
        self._draw_toxicity()
        self.pharmacy = (Pharmacy(self.env, s.pharmacy, cohort.pharmacy_lead_u,
                                  (cohort.background_times, cohort.background_mg))
                         if s.pharmacy is not None else None)
        self.hold_for_stock = s.pharmacy is not None and s.pharmacy.hold_step_up_without_stock
        self.repeat_hours = s.tocilizumab.repeat_interval_hours.value

    def _toxicity_care(self, s: Scenario) -> None:
        """Where toxicity is managed, as lists the hot loop indexes by [kind][grade - 1]."""
        self.unresolved_limit = [[INF if r.discontinue_if_unresolved_hours is None
                                  else r.discontinue_if_unresolved_hours.value for r in rules] for rules in self.rules]
        onset = s.strategy.onset_at_home
        self.route = [[ROUTE_CODE[onset.route(kind, g)] for g in (1, 2, 3, 4)] for kind in TOXICITY_KINDS]
        self.urgent_care = s.urgent_care
        # per place of assessment: (pool, hours, visit log, care-log name)
        self.assessment = {ED: (self.pools["ed_bays"], s.operations.ed_hours.value, self.log.ed_visits, "ed"),
                           UC: (self.pools["urgent_care_bays"], s.urgent_care.assessment_hours.value,
                                self.log.urgent_care_visits, "urgent_care")}

    # ----------------------------------------------------------------- toxicity, vectorised up front
    def _draw_toxicity(self) -> None:
        s, c = self.s, self.c
        n, d = c.n, self.D
        pro = s.strategy.prophylaxis
        gets_pro = np.zeros(n, dtype=bool) if pro is None else (
            np.ones(n, dtype=bool) if pro.patients == "all" else c.high_risk.copy())
        self.gets_pro_list = gets_pro.tolist()
        eff = s.drug.prophylaxis
        mg = np.minimum(s.tocilizumab.mg_per_kg.value * c.weight_kg, s.tocilizumab.max_mg.value)
        self.toci_mg = mg.tolist()
        # Patient risk factors act through a logistic model calibrated to keep the profile's rates.
        names = list(s.population.risk_factors)
        prev = np.array([s.population.risk_factors[f].value for f in names])
        x = np.column_stack([c.risk_factors[f] for f in names]).astype(float) if names else np.zeros((n, 0))
        ors = s.drug.risk_odds_ratios
        log_or = lambda table: np.array([math.log(table[f].value) if f in table else 0.0 for f in names])  # noqa: E731
        crs_p = individual_rates(c.crs_rate, x, prev, log_or(ors.crs))
        severe = individual_rates(1.0 - c.crs_mix[0], x, prev, log_or(ors.crs_grade2plus),
                                  population_weight=combination_rates(c.crs_rate, prev, log_or(ors.crs)))
        icans_p = individual_rates(c.icans_rate, x, prev, log_or(ors.icans))
        self.grade: list[np.ndarray] = []     # per kind, (n, D) grade drawn for each dose (0 = none)
        self.events: dict[int, list[tuple[float, int, int, float, int, float]]] = {}  # i * D + k -> events
        for kind, tox, base_p, rr, pu, du, gu, oz, dz, tcol in (
                (CRS, s.drug.crs, crs_p, eff.crs_relative_risk.value, c.crs_patient_u, c.crs_dose_u,
                 c.crs_grade_u, c.crs_onset_z, c.crs_duration_z, 0),
                (ICANS, s.drug.icans, icans_p, eff.icans_relative_risk.value, c.icans_patient_u, c.icans_dose_u,
                 c.icans_grade_u, c.icans_onset_z, c.icans_duration_z, 2)):
            p = np.minimum(base_p * np.where(gets_pro, rr, 1.0), 1.0)
            # onset_from = "treatment_start" is an event tied to dose 1 with its onset counted from it
            shares = tox.by_dose.value if tox.by_dose is not None else None
            pattern = dose_pattern(pu < p, shares, du)
            g = np.zeros((n, d), dtype=np.int8)
            k = min(pattern.shape[1], d)
            if kind == CRS:
                drawn = grades_with_severe_share(c.crs_mix, severe, gu[:, :k])
            else:
                drawn = grades(c.icans_mix, gu[:, :k])
            g[:, :k] = np.where(pattern[:, :k], drawn, 0)
            self.grade.append(g)
            # Only the few (patient, dose) pairs with an event are kept for the hot loop, and only
            # their onsets, durations and tocilizumab doses are computed.
            rows, cols = np.nonzero(g)
            onset = lognormal(tox.onset_median_hours.value, tox.onset_sigma.value, oz[rows, cols])
            z = dz[rows, cols]
            dur = lognormal(tox.duration_median_hours.value, tox.duration_sigma.value, z)
            p_toci = np.array([0.0] + [r.tocilizumab_probability.value for r in self.rules[kind]])
            grade = g[rows, cols]
            stay = hospital_stays(self.rules[kind], grade, dur, z)
            given = c.toci_u[rows, cols, tcol] < p_toci[grade]
            r = s.tocilizumab.repeat_probability.value
            extra = np.zeros(rows.size, dtype=np.int64)
            if r > 0:
                with np.errstate(divide="ignore"):
                    extra = (np.floor(np.log(c.toci_u[rows, cols, tcol + 1]) / math.log(r)) if r < 1
                             else np.full(rows.size, 99.0))
                extra = np.minimum(extra, s.tocilizumab.max_doses - 1).astype(np.int64)
            toci_n = np.where(given, 1 + extra, 0)
            for key, on, gr, du, tn, st in zip((rows * d + cols).tolist(), onset.tolist(), grade.tolist(),
                                               dur.tolist(), toci_n.tolist(), stay.tolist()):
                self.events.setdefault(key, []).append((on, kind, gr, du, tn, st))

    # ----------------------------------------------------------------- booking
    def _book(self, ledger: Ledger, length: float, day: int, last_day: int, first: bool, bed: bool, now: float):
        """Earliest free slot from ``day`` on, as (day, start, latest start, booking); None past ``last_day``.

        The earliest day with room wins; within the day, :meth:`Ledger.first_fit` packs stays back
        to back on individual places so short chair visits do not fragment the day long ones need.
        """
        cal = self.cal
        table, n_days = (cal.next_start if first else cal.next_open), cal.n_days
        open_hour, close_hour, window = self.open_hour, self.close_hour, self.admission_window
        while True:
            day = table[day] if day < n_days else -1
            if day < 0 or day > last_day:
                return None
            opens = day * 24.0 + open_hour
            lo = opens if opens > now else now
            # a bed must be taken within the admission window; a chair stay must end by closing time
            hi = opens + window if bed else (day * 24.0 + close_hour) - length
            if lo <= hi:
                fit = ledger.first_fit(lo, hi, length)
                if fit is not None:
                    t, place = fit
                    return day, t, hi, ledger.book(t, t + length, place)
            day += 1

    # ----------------------------------------------------------------- patient pathway
    def _note(self, text: str) -> None:
        self.trace.append((self.env.now, text))

    def _plan(self, i: int, k: int, high: bool, eligible: bool, after_tox: float):
        """Where dose k goes and for how long.

        Returns (place, hours before the infusion, resource, stay in hours, is a bed, prophylaxis,
        the resource's ledger and pool, the place's code in the run log, the patient's location).
        """
        pro_patient = self.gets_pro_list[i]
        key = (k, high, eligible, after_tox, pro_patient)
        plan = self._plan_cache.get(key)
        if plan is None:
            # Any follow-up requirement marks the dose, even one no longer than the dose's own: the
            # strategy may monitor such doses differently (e.g. in hospital rather than at home).
            after = after_tox > 0
            place, hours = self.s.strategy.place_for(k + 1, max(after_tox, self.req_hours[k]),
                                                     high, eligible, after)
            pro = pro_patient and self.s.strategy.gives_prophylaxis(k + 1, high)
            pre = self.premed[k] + (self.pro_hours if pro else 0.0)
            infusion = self.infusion[k]
            length = pre + (max(hours, infusion) if place != "home" else infusion)
            res = PLACE_RESOURCE[place]
            plan = self._plan_cache[key] = (place, pre, res, length, place in ("ward", "observation"), pro,
                                            self.ledgers[res], self.pools[res], PLACE_CODES[place], PLACE_LOC[place])
        return plan

    def _hold_next(self, p: _Patient, k: int, day: int, high: bool, eligible: bool) -> None:
        """Hold a slot for step-up dose k + 1 as soon as dose k is booked on ``day``.

        Centres book a step-up sequence together; booking each dose only after the previous one
        would let newly referred patients take the beds the next dose needs. The hold is given
        back when dose k + 1 is planned and re-booked at once, so it can only help that dose.
        """
        self._drop_hold(p)
        k1 = k + 1
        if k1 >= min(self.step_up, self.n_defined):
            return  # maintenance doses are booked a full dose interval ahead anyway
        plan = self._plan(p.i, k1, high, eligible, 0.0)
        ledger = plan[6]
        due = day + self.gap[k1]
        last = max(day + self.window[k1], self.cal.next_open_day(due))
        booked = self._book(ledger, plan[3], due, last, False, plan[4], self.env.now)
        if booked is not None:
            p.hold = (ledger, booked[3])

    def _drop_hold(self, p: _Patient) -> None:
        if p.hold is not None:
            p.hold[0].cancel(p.hold[1])
            p.hold = None

    def patient(self, i: int):
        env, cal = self.env, self.cal
        p = _Patient(i)
        high, eligible = self.high_risk[i], self.eligible[i]
        traced = i == self.trace_i
        k = 0
        if self.prevalent[i]:
            # On treatment since before t = 0 (warm start): continue with the next scheduled dose.
            p.start = self.first_dose[i] = self.referral[i]
            self.status[i] = ON_TREATMENT
            age = -p.start
            rep = self.repeat_from
            if rep is not None and rep < self.n_defined and age > self.offset[rep]:
                # In the repeating block every dose is alike, so the patient takes its first slot;
                # the timing keeps the patient's own phase.
                k = rep
                gap = self.gap[rep] * 24.0
                next_at = self.offset[rep] + math.ceil((age - self.offset[rep]) / gap) * gap
            else:
                while k < self.n_defined and self.offset[k] < age:
                    k += 1
                next_at = self.offset[k] if k < self.n_defined else age
            due = int((p.start + next_at) // 24)
            if traced:
                self._note(f"on treatment for {age / 24:.0f} days at the start; next is dose {k + 1}")
        else:
            if self.referral[i] > 0:  # a warm start's waiting patients were referred before t = 0
                yield env.timeout(self.referral[i])
            if traced:
                self._note(f"referred ({'high' if high else 'standard'} risk, "
                           f"{'eligible' if eligible else 'not eligible'} for outpatient care, "
                           f"{self.c.weight_kg[i]:.0f} kg, time on therapy {self.therapy[i] / 24:.0f} days)")
            due = int(self.referral[i] // 24) + self.lead_days
        window_day = due
        not_before = 0
        # Bound once: the loop below runs for every dose of every patient.
        events = self.events
        dose_time, dose_place, dose_postponed = self.dose_time, self.dose_place, self.dose_postponed
        n_defined, step_up, hold_upto = self.n_defined, self.step_up, min(self.step_up, self.n_defined)
        open_hour, therapy, gap, window = self.open_hour, self.therapy[i], self.gap, self.window
        pro_patient, row = self.gets_pro_list[i], i * self.D
        # Plans of doses with no follow-up requirement, by dose: shared by every patient of this
        # kind, and read without building a cache key (the common case, once per dose).
        plain = self._plain_plans.get((high, eligible, pro_patient))
        if plain is None:
            plain = self._plain_plans[(high, eligible, pro_patient)] = [None] * self.D
        next_open, next_start, n_days = cal.next_open, cal.next_start, cal.n_days
        while k < n_defined and not p.discontinued:
            plan = plain[k] if p.after_tox == 0.0 else None
            if plan is None:
                plan = self._plan(i, k, high, eligible, p.after_tox)
                if p.after_tox == 0.0:
                    plain[k] = plan
            place, pre, res, length, bed, pro, ledger, pool, code, loc = plan
            now = env.now
            hold_day = int(p.held_until // 24) + 1 if p.held_until > 0 else 0
            today = int(now // 24)
            bookable_day = today if now <= today * 24.0 + open_hour else today + 1  # no same-day booking once open
            # max() of three ints, written out: this runs for every dose
            first_day = due if due >= hold_day else hold_day
            if bookable_day > first_day:
                first_day = bookable_day
            first_ok = (next_start if k == 0 else next_open)[first_day] if first_day < n_days else -1
            if first_ok >= 0 and k >= step_up and first_ok * 24.0 + open_hour > p.start + therapy:
                if traced:
                    self._note(f"time on therapy over after {k} doses")
                break
            last_day = first_ok + self.max_start_delay if k == 0 else cal.n_days
            if p.hold is not None:
                self._drop_hold(p)
            booked = self._book(ledger, length, first_day if first_day >= not_before else not_before,
                                last_day, k == 0, bed, now)
            if booked is None:
                if k == 0:
                    self.status[i] = DIVERTED
                    self.left_at[i] = now
                    if traced:
                        self._note(f"no {res} free within {self.max_start_delay} days: referred elsewhere")
                    return
                break
            day, start, deadline, iv = booked
            if traced:
                self._note(f"dose {k + 1} booked: {place} ({res}) day {day} at {start % 24:05.2f} h for {length:g} h"
                           + (f", {day - max(first_ok, window_day)} day(s) after the first permitted day"
                              if day > max(first_ok, window_day) else ""))
            if k + 1 < hold_upto:
                self._hold_next(p, k, day, high, eligible)
            if p.pending and p.pending[0][0] < start:
                # a toxicity at home comes first: give the slots back, manage it, then plan again
                ledger.cancel(iv)
                self._drop_hold(p)
                yield from self._home_event(p)
                continue
            yield Timeout(env, start - now)   # the class itself: env.timeout adds a layer per dose
            if self.hold_for_stock and k < step_up and not self.pharmacy.covers(self.toci_mg[i]):
                # no tocilizumab dose on hand for this patient: the step-up dose waits a day
                ledger.cancel(iv)
                self.held_for_stock_times.append(env.now)
                not_before = day + 1
                if traced:
                    self._note(f"dose {k + 1} held: no tocilizumab dose on hand")
                continue
            ev = pool.request()
            if ev is not None:
                asked = env.now
                yield ev | env.timeout(max(deadline, asked) - asked)
                pool.record_wait(asked, env.now - asked)
                if not ev.triggered:
                    # booked, but the place is still taken (an overrun or an emergency): next day
                    pool.cancel(ev)
                    ledger.cancel(iv)
                    not_before = day + 1
                    if traced:
                        self._note(f"dose {k + 1}: booked {res} still taken; rebooking from the next day")
                    continue
            now = env.now
            t0 = now + pre  # infusion starts after premedication (and prophylaxis)
            j = row + k
            dose_time[j] = t0
            dose_place[j] = code
            lost = day - (first_ok if first_ok >= window_day else window_day)
            dose_postponed[j] = lost if lost > 0 else 0
            if k == 0:
                p.start = t0
                self.first_dose[i] = t0
                self.status[i] = ON_TREATMENT
            for onset, kind, g, duration, toci, stay in events.get(j, ()):
                heapq.heappush(p.pending, (t0 + onset, kind, g, duration, toci, stay))
            if traced:
                self._note(f"dose {k + 1} given in {place}: infusion starts at {t0:.1f} h, stay until "
                           f"{now + length:.1f} h" + (", after prophylactic tocilizumab" if pro else ""))
            if pro:
                self._give_toci(i, 0.0)
            p.after_tox = 0.0
            p.loc, p.pool = loc, pool
            p.in_planned = True
            p.planned_until = until = now + length
            if loc != WARD and (not p.pending or p.pending[0][0] >= until):
                # Nothing can happen before discharge (the common case): what _dwell would do, inline.
                if until > now:
                    yield _Discharge(env, until - now)
                pool.release()
                p.loc, p.pool = HOME, None
                if traced:
                    self._note("home")
            else:
                yield from self._dwell(p)
            k += 1
            not_before = 0
            if k < n_defined:
                given_day = int(t0 // 24)
                due = given_day + gap[k]
                window_day = given_day + window[k]
        self._drop_hold(p)
        while p.pending:
            yield from self._home_event(p)
        self.status[i] = LEFT
        self.left_at[i] = env.now
        if traced:
            self._note("leaves the service" + (" (discontinued)" if p.discontinued else ""))

    def _home_event(self, p: _Patient):
        """Sleep at home until the next onset and manage it (at home, urgent care, ED or admission)."""
        onset = p.pending[0][0]
        if onset > self.env.now:
            yield self.env.timeout(onset - self.env.now)
        yield from self._toxicity(p, heapq.heappop(p.pending))
        if p.loc != HOME:
            yield from self._dwell(p)

    def _stay_until(self, p: _Patient) -> float:
        if p.loc == ICU:
            return p.icu_until
        if p.loc == WARD:
            return max(p.ward_until, p.planned_until)
        return p.planned_until

    def _dwell(self, p: _Patient):
        """Stay in care until discharge home, handling onsets and stepping down from ICU to ward."""
        env = self.env
        while p.loc != HOME:
            until = self._stay_until(p)
            onset = p.pending[0][0] if p.pending else INF
            if onset < until:
                if onset > env.now:
                    yield env.timeout(onset - env.now)
                yield from self._toxicity(p, heapq.heappop(p.pending))
                continue
            if until > env.now:
                yield _Discharge(env, until - env.now)
            if p.loc == ICU and max(p.ward_until, p.planned_until) > env.now:
                yield from self._move(p, WARD, unplanned=False)
            else:
                self._end_prolonged(p)
                p.pool.release()
                p.loc, p.pool = HOME, None
                if p.i == self.trace_i:
                    self._note("home")

    def _end_prolonged(self, p: _Patient) -> None:
        """Log a planned stay that toxicity prolonged: when it was prolonged and the bed-hours it added."""
        if p.prolonged_at >= 0.0:
            self.log.prolonged_stays.append((p.prolonged_at, max(0.0, self.env.now - p.planned_until)))
            p.prolonged_at = -1.0

    def _toxicity(self, p: _Patient, event: tuple[float, int, int, float, int, float]):
        """Apply the label's management of one onset (dose hold, drugs, discontinuation), then send the
        patient where the strategy manages it (an onset at home) or the grade needs (an onset in care)."""
        _, kind, grade, duration, toci, stay = event
        now = self.env.now
        rule = self.rules[kind][grade - 1]
        route = self.route[kind][grade - 1] if p.loc == HOME else -1   # -1: in care already
        if p.i == self.trace_i:
            self._note(f"{'CRS' if kind == CRS else 'ICANS'} grade {grade} starts ({LOC_NAMES[p.loc]}), lasts "
                       f"{duration:.0f} h; label: {rule.setting}" + (f", tocilizumab x{toci}" if toci else "")
                       + (f"; managed at: {LOC_NAMES[route]}" if p.loc == HOME else ""))
        if toci:
            self.given_toci[p.i] = True
            self._tocilizumab(p.i, toci, duration)
        if rule.withhold:
            p.held_until = max(p.held_until, now + duration + rule.resume_delay_hours.value)
        p.after_tox = max(p.after_tox, rule.next_dose_monitor_hours.value)
        if rule.discontinue or (rule.discontinue_if_recurrent and p.had_g3[kind]) \
                or duration > self.unresolved_limit[kind][grade - 1]:
            if p.i == self.trace_i:
                self._note("treatment discontinued")
            p.discontinued = True
            self.discontinued[p.i] = True
        if grade >= 3:
            p.had_g3[kind] = True
        if route == HOME:
            # phone triage and oral dexamethasone: no place, and the episode runs its course at home
            self.log.managed_at_home.append(now)
            self.log.care.append((now, p.i, "home", kind, grade))
            return
        setting = self.rule_setting[kind][grade - 1]
        if setting == "icu":
            p.icu_until = max(p.icu_until, now + stay)
            p.ward_until = max(p.ward_until, p.icu_until + self.step_down)
        elif setting == "ward" or route == WARD:   # a direct admission takes a ward bed whatever the grade
            p.ward_until = max(p.ward_until, now + stay)
        elif p.loc == WARD:
            # a grade needing no admission, in a ward bed already: observed there min_stay_hours after the onset
            p.ward_until = max(p.ward_until, now + rule.min_stay_hours.value)
        need = ICU if p.icu_until > now else (WARD if p.ward_until > now else HOME)
        if p.loc == HOME:
            if route == WARD:
                yield from self._move(p, need, unplanned=True, cause=(kind, grade))
            else:
                yield from self._assess(p, need, kind, grade,
                                        route if route == ED or self.urgent_care.is_open(now) else ED)
        elif LEVEL[need] > LEVEL[p.loc]:
            yield from self._move(p, need, unplanned=True, cause=(kind, grade))
        elif p.in_planned and p.loc == WARD and p.ward_until > p.planned_until and p.prolonged_at < 0.0:
            p.prolonged_at = now
            self.log.care.append((now, p.i, "prolonged", kind, grade))

    def _tocilizumab(self, i: int, doses: int, duration: float) -> None:
        """Treatment doses: the first now, repeats every ``repeat_interval_hours`` while the CRS lasts."""
        for j in range(doses):
            delay = j * self.repeat_hours
            if j and delay >= duration:
                break
            self._give_toci(i, delay)

    def _give_toci(self, i: int, delay: float) -> None:
        mg = self.toci_mg[i]
        self.log.toci.append((self.env.now + delay, 1, mg))
        if self.pharmacy is None:
            return
        if delay <= 0:
            self.pharmacy.request(mg)
        else:
            self.env.timeout(delay).callbacks.append(lambda _ev: self.pharmacy.request(mg))

    def _assess(self, p: _Patient, need: int, kind: int, grade: int, where: int):
        """Same-day assessment of an onset at home in the ED or the urgent-care centre (``where``), then
        home, or a ward or ICU bed (boarding in the bay while waiting for it)."""
        env = self.env
        pool, hours, visits, name = self.assessment[where]
        visits.append(env.now)
        self.log.care.append((env.now, p.i, name, kind, grade))
        asked = env.now
        ev = pool.request()
        if ev is not None:
            yield ev
            pool.record_wait(asked, env.now - asked)
        p.loc, p.pool = where, pool
        if p.i == self.trace_i:
            self._note(f"in the {LOC_NAMES[where]} (waited {env.now - asked:.1f} h for a bay)")
        yield _Discharge(env, hours)
        if need == HOME:
            pool.release()
            p.loc, p.pool = HOME, None
        else:
            yield from self._move(p, need, unplanned=True, cause=(kind, grade))

    def _move(self, p: _Patient, target: int, unplanned: bool, cause: tuple[int, int] | None = None):
        """Take a bed in ``target``, keeping the current place while waiting (boarding), then free it."""
        env, log = self.env, self.log
        pool = self.pools["icu_beds" if target == ICU else "ward_beds"]
        asked = env.now
        ev = pool.request()
        if ev is not None:
            yield ev
            pool.record_wait(asked, env.now - asked)
        waited = env.now - asked
        if target == ICU:
            log.icu_admissions.append(env.now)
            log.icu_boarding.append((asked, waited))
        elif unplanned:
            log.unplanned_ward.append(env.now)
        if unplanned:
            self._end_prolonged(p)   # from here on it is an unplanned admission, counted as one
            p.in_planned = False
        if cause is not None:
            log.care.append((env.now, p.i, "icu" if target == ICU else "ward", cause[0], cause[1]))
        if p.pool is not None:
            p.pool.release()
        p.loc, p.pool = target, pool
        if p.i == self.trace_i:
            self._note(f"to the {'ICU' if target == ICU else 'ward'} (waited {waited:.1f} h for a bed)")

    # ----------------------------------------------------------------- run
    def run(self) -> RunLog:
        env = self.env
        for i in range(self.c.n):
            env.process(self.patient(i))
        env.run(until=self.end_time)
        log = self.log
        n, d = self.c.n, self.D
        log.dose_time = np.array(self.dose_time).reshape(n, d)
        log.dose_place = np.array(self.dose_place, dtype=np.int8).reshape(n, d)
        log.dose_postponed = np.array(self.dose_postponed, dtype=np.int32).reshape(n, d)
        given = np.isfinite(log.dose_time)
        log.crs_grade = np.where(given, self.grade[CRS], 0).astype(np.int8)
        log.icans_grade = np.where(given, self.grade[ICANS], 0).astype(np.int8)
        log.first_dose = np.array(self.first_dose)
        log.left_at = np.array(self.left_at)
        log.status = np.array(self.status, dtype=np.int8)
        log.discontinued = np.array(self.discontinued, dtype=bool)
        log.given_toci = np.array(self.given_toci, dtype=bool)
        log.pools = {name: (np.array(pool.times, dtype=float), np.array(pool.levels, dtype=np.int64),
                            np.array(pool.wait_times, dtype=float), np.array(pool.wait_hours, dtype=float))
                     for name, pool in self.pools.items()}
        log.pharmacy = self.pharmacy.close() if self.pharmacy is not None else None
        log.held_for_stock = self.held_for_stock_times
        return log


def hospital_stays(rules, grade: np.ndarray, duration: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Hours in hospital (in the ICU for an ICU grade) of each toxicity event if it is managed there.

    With a sourced length of stay for its grade (``stay_median_hours``, ``stay_sigma``) the stay is
    log-normal, drawn from the event's own duration normal ``z`` (so a longer episode has a longer stay
    and no draw is added), and the patient goes home when the grade allows, at the latest when the
    episode ends; without one, the stay lasts the episode. ``min_stay_hours`` and ``max_stay_hours`` bound it.
    """
    stay = np.array(duration, dtype=float)
    for g, rule in enumerate(rules, start=1):
        at = grade == g
        if not at.any():
            continue
        if rule.stay_median_hours is not None:
            los = lognormal(rule.stay_median_hours.value, rule.stay_sigma.value, z[at])
            stay[at] = np.minimum(los, duration[at])
        lo = rule.min_stay_hours.value
        if rule.max_stay_hours is not None:
            stay[at] = np.minimum(stay[at], max(rule.max_stay_hours.value, lo))
        stay[at] = np.maximum(stay[at], lo)
    return stay


def simulate(scenario: Scenario, cohort: Cohort) -> RunLog:
    """Run one replication of ``scenario`` for ``cohort`` and return its log."""
    return Model(scenario, cohort).run()


def trace(scenario: Scenario, cohort: Cohort, patient: int) -> list[tuple[float, str]]:
    """One patient's journey, step by step with times (hours from the start), for a human to check."""
    if not 0 <= patient < cohort.n:
        raise ValueError(f"patient = {patient}; allowed: 0 to {cohort.n - 1} (patients referred in this replication)")
    m = Model(scenario, cohort, trace=patient)
    m.run()
    return m.trace
