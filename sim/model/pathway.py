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
from simpy import Timeout

from sim.cohort import Cohort
from sim.config.dose_plan import dose_offsets_hours, dose_requirements, plan_dose, plans_made
from sim.config.drug import prophylaxis_key
from sim.config.scenario import RESOURCES, TOXICITY_KINDS, Scenario
from sim.model.booking import Ledger
from sim.model.calendar import Calendar
from sim.model.discharge import Discharge
from sim.model.events import CRS, ICANS, repeat_times, toxicity_events
from sim.model.pools import Pool
from sim.model.site import Site
from sim.model.runlog import DIVERTED, LEFT, ON_TREATMENT, PLACE_CODES, RunLog

HOME, CHAIR, OBS, WARD, ICU, ED, UC = range(7)
LEVEL = (0, 0, 0, 1, 2, 0, 0)        # care level each location provides
LOC_NAMES = ("home", "infusion chair", "observation bed", "ward", "ICU", "ED", "urgent care")
# Where an onset at home is managed (strategy.onset_at_home), as codes for the hot loop.
ROUTE_CODE = {"home": HOME, "urgent_care": UC, "ed": ED, "admit": WARD}
PLACE_LOC = {"ward": WARD, "observation": OBS, "clinic": CHAIR, "home": CHAIR}
INF = math.inf


class _Patient:
    __slots__ = ("i", "high", "eligible", "therapy", "plain", "loc", "pool", "planned_until", "ward_until",
                 "icu_until", "pending", "held_until", "after_tox", "discontinued", "had_g3", "start", "hold",
                 "in_planned", "prolonged_at", "last_k", "last_day", "next_new", "repeated")

    def __init__(self, i: int, high: bool, eligible: bool, therapy: float, plain: list):
        self.i = i
        self.high = high
        self.eligible = eligible
        self.therapy = therapy                     # hours of therapy from the first dose
        self.plain = plain                         # Model._plain(high, eligible): plans by dose
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
        self.last_k = -1            # index of the last dose given (-1: none yet)
        self.last_day = 0           # the day it was given
        self.next_new = 0           # index of the first dose never given: doses below it are repeats
        self.repeated = 0           # bit k set: dose k + 1 has been repeated after a restart


class Model:
    """One replication: a scenario, a cohort, pools, ledgers and the run log."""

    # Slots, because the hot loop reads its attributes all the time: CPython keeps an instance's
    # attributes in a fast shared-key table only up to 30 names, and a Model has more.
    __slots__ = (
        "s", "c", "site", "tag", "env", "trace_i", "trace", "pools", "ledgers", "pharmacy", "log", "cal", "end_time",
        "referrals_end", "open_hour", "close_hour", "admission_window", "max_start_delay", "lead_days",
        "step_down", "repeat_hours", "rules", "rule_setting", "hold_for_stock",
        # the label's restart after a delay, and when a dose after a toxicity hold is given
        "restart_after", "next_scheduled",
        # where toxicity is managed (_toxicity_care)
        "unresolved_limit", "route", "urgent_care", "assessment",
        # planned follow-up visits after the first dose (strategy.follow_up_visit_days)
        "visit_offsets", "visit_hours",
        # the schedule, by dose index k (dose k + 1)
        "D", "req", "n_defined", "gap", "window", "step_up", "hold_upto", "offset", "repeat_from",
        "_plan_cache", "_plain_plans", "_made",
        # per patient, and per patient and dose (flat at i * D + k)
        "referral", "therapy", "high_risk", "eligible", "prevalent", "first_dose", "left_at", "status",
        "discontinued", "dose_time", "dose_place", "dose_postponed", "stay_start", "stay_end",
        "held_for_stock_times", "toci_mg", "grade", "events", "given_toci", "pro_after",
    )

    def __init__(self, scenario: Scenario, cohort: Cohort, trace: int | None = None, site: Site | None = None,
                 tag: int = 0):
        s = self.s = scenario
        self.trace_i = -1 if trace is None else trace
        self.trace: list[tuple[float, str]] = []   # (time, what happened) for patient ``trace``
        self.c = cohort
        # A single-drug scenario is a site of its own; a centre's programmes share one (simulate_centre).
        site = self.site = site if site is not None else Site(s, cohort)
        self.tag = tag
        self.env, self.pools, self.ledgers, self.cal = site.env, site.pools, site.ledgers, site.cal
        if s.calendar.start_weekdays != site.cal.cfg.start_weekdays:
            # a centre's programme starts patients on its own weekdays; the site's days are the centre file's
            self.cal = Calendar(s.calendar, int(site.end_time // 24))
        self.end_time, self.referrals_end, self.pharmacy = site.end_time, site.referrals_end, site.pharmacy
        self.open_hour, self.close_hour = self.cal.open_hour, self.cal.close_hour
        self.admission_window = s.calendar.admission_window_hours
        self.max_start_delay = s.calendar.max_start_delay_days
        self.lead_days = s.calendar.lead_time_days
        self.step_down = s.operations.icu_step_down_ward_hours.value
        self.repeat_hours = s.tocilizumab.repeat_interval_hours.value
        self.rules = (s.drug.management.crs, s.drug.management.icans)
        self.rule_setting = [[r.setting for r in rules] for rules in self.rules]
        self._schedule(cohort.max_doses)
        self._patient_columns(cohort)
        self.log = self._new_log(cohort)
        self._toxicity_care(s)
        self.visit_offsets = tuple(d - 1 for d in s.strategy.follow_up_visit_days)   # days after the first dose's
        self.visit_hours = s.operations.clinic_visit_hours.value
        self._draw_toxicity()
        self.hold_for_stock = s.pharmacy is not None and s.pharmacy.hold_step_up_without_stock
        # shortest delay any restart rule allows (no rule: never), so most bookings skip the rules
        self.restart_after = min((r.days_over for r in s.drug.restart), default=INF)
        self.next_scheduled = s.drug.resume.after_hold == "next_scheduled"

    def _schedule(self, d: int) -> None:
        """Per-dose tables of the drug's schedule for doses 1..d (index k is dose k + 1)."""
        drug = self.s.drug
        self.D = d
        self.req = dose_requirements(drug, d)
        self.n_defined = len(self.req)
        self.gap = [r.gap_days for r in self.req]
        self.window = [drug.schedule[r.block].window_days for r in self.req]
        self.step_up = drug.step_up_doses
        # Doses before this one hold a slot for the next (a step-up sequence is booked together);
        # maintenance doses are booked a full dose interval ahead anyway.
        self.hold_upto = min(self.step_up, self.n_defined)
        self.offset = dose_offsets_hours(drug, d)  # nominal hours from dose 1 to each dose
        finite = [b.count for b in drug.schedule]
        self.repeat_from = sum(finite[:-1]) if finite[-1] == 0 else None  # first dose of the repeating block
        self._plan_cache: dict[tuple[int, bool, bool, float], tuple] = {}
        self._made = plans_made(drug, self.s.strategy)   # the plans earlier replications made, shared
        # Plans of doses with no follow-up requirement, by kind of patient then dose: the common case.
        self._plain_plans: dict[tuple[bool, bool], list] = {}

    def _patient_columns(self, cohort: Cohort) -> None:
        """The hot loop reads and writes plain lists; numpy arrays are built once at the end."""
        n, d = cohort.n, self.D
        self.referral = cohort.referral.tolist()
        self.therapy = cohort.therapy_hours.tolist()
        self.high_risk = cohort.high_risk.tolist()
        self.eligible = cohort.eligible.tolist()
        self.prevalent = cohort.prevalent.tolist()
        self.dose_time = [math.nan] * (n * d)
        self.dose_place = [0] * (n * d)
        self.dose_postponed = [0] * (n * d)
        self.stay_start = [math.nan] * (n * d)
        self.stay_end = [math.nan] * (n * d)
        self.first_dose = [math.nan] * n
        self.left_at = [math.nan] * n
        self.status = [0] * n
        self.discontinued = [False] * n
        self.given_toci = [False] * n
        self.held_for_stock_times: list[float] = []

    def _new_log(self, cohort: Cohort) -> RunLog:
        site = self.site
        return RunLog(n=cohort.n, max_doses=self.D, window=site.window, end_time=self.end_time,
                      open_hours=site.open_hours, capacity={k: getattr(self.s.capacity, k) for k in RESOURCES},
                      referral=cohort.referral, prevalent=cohort.prevalent, high_risk=cohort.high_risk,
                      urgent_care_hours=site.urgent_care_hours)

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

    # ----------------------------------------------------------------- toxicity, drawn up front
    def _draw_toxicity(self) -> None:
        """Grades of CRS and ICANS after every dose, and the events of the few (patient, dose) pairs
        that have one (:func:`sim.model.events.toxicity_events`); the tocilizumab dose of each patient."""
        s, c = self.s, self.c
        self.toci_mg = np.minimum(s.tocilizumab.mg_per_kg.value * c.weight_kg, s.tocilizumab.max_mg.value).tolist()
        self.grade, self.events = toxicity_events(s, c, self.D)
        pro = s.strategy.prophylaxis
        # prophylaxis given after a dose: hours from infusion start, by dose index (0: before the dose)
        self.pro_after = [0.0] * self.D
        if pro is not None and pro.timing == "after_dose":
            for dose in pro.doses:
                if dose <= self.D:
                    self.pro_after[dose - 1] = s.drug.prophylaxis[prophylaxis_key(pro.timing, dose)].hours_after.value

    # ----------------------------------------------------------------- booking
    def _book(self, p: _Patient, ledger: Ledger, length: float, day: int, last_day: int, first: bool, bed: bool,
              now: float):
        """Earliest free slot from ``day`` on, as (day, start, latest start, booking); None past ``last_day``.

        Any slot the patient holds is given back first: it was held for this very dose. The earliest
        day with room wins; within the day, :meth:`Ledger.first_fit` packs stays back to back on
        individual places so short chair visits do not fragment the day long ones need.
        """
        if p.hold is not None:
            self._drop_hold(p)
        return self._slot(ledger, length, day, last_day, first, bed, now)

    def _slot(self, ledger: Ledger, length: float, day: int, last_day: int, first: bool, bed: bool, now: float):
        """:meth:`_book` without a patient's held slot: the earliest free slot of ``ledger`` from ``day`` on."""
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
                fit = ledger.first_fit(lo, hi, length, lo == opens)
                if fit is not None:
                    t, place = fit
                    return day, t, hi, ledger.book(t, t + length, place)
            day += 1

    def _next_booking(self, p: _Patient, k: int, due: int, window_day: int, not_before: int,
                      now: float) -> tuple | None:
        """Plan the next dose and book its earliest slot from the first permitted day.

        The dose due is dose k; a restart rule of the label may give an earlier dose instead (:meth:`_restart`).
        Booking starts on the due day, after any toxicity hold (:meth:`_after_hold`) and ``not_before``, and not
        today once the centre is open; the first permitted day is the next open day, or start day for a dose 1.
        Returns (index of the dose booked, plan, day, start, latest start, booking, days postponed for want of a
        place), or None when the patient's doses end here: time on therapy is over, or no slot was found (for
        the first dose, within the longest start delay: the patient is then referred elsewhere).
        """
        today = int(now // 24)
        bookable_day = today if now <= today * 24.0 + self.open_hour else today + 1  # no same-day booking once open
        first_day = self._after_hold(p, k, due)
        if bookable_day > first_day:
            first_day = bookable_day
        cal = self.cal
        first_ok = (cal.next_start if k == 0 else cal.next_open)[first_day] if first_day < cal.n_days else -1
        if first_ok >= 0 and k >= self.step_up and first_ok * 24.0 + self.open_hour > p.start + p.therapy:
            if p.i == self.trace_i:
                self._note(f"time on therapy over after {k} doses")
            return None
        if first_ok - p.last_day > self.restart_after and p.last_k >= 0:
            r = self._restart(p, k, first_ok)
            if r < k:   # a restart at dose 1 starts on a start day, as a first dose
                k, first_ok = r, (cal.next_start[first_day] if r == 0 else first_ok)
        plan = (p.plain[k] if p.after_tox == 0.0 else None) or self._plan(k, p.high, p.eligible, p.after_tox)
        new = p.next_new == 0   # the first dose ever: the patient goes elsewhere if it finds no place in time
        booked = self._book(p, plan[6], plan[3], first_day if first_day >= not_before else not_before,
                            first_ok + self.max_start_delay if new else cal.n_days, k == 0, plan[4], now)
        if booked is None:
            if new:
                self._divert(p, plan)
            return None
        day, start, deadline, iv = booked
        permitted = first_ok if first_ok >= window_day else window_day
        if p.i == self.trace_i:
            self._note_booked(k, plan, day, start, permitted)
        if k + 1 < self.hold_upto and plan[10] == k:   # a single admission holds its bed for the next doses
            self._hold_next(p, k, day, now)
        return k, plan, day, start, deadline, iv, (day - permitted if day > permitted else 0)

    def _after_hold(self, p: _Patient, k: int, due: int) -> int:
        """First day dose k may be given after a toxicity hold (the due day when there is none).

        With the drug's ``resume.after_hold = "after_resolution"`` it is the day after the hold ends; with
        ``"next_scheduled"`` (resume at the next scheduled dose) the first day of the patient's own schedule,
        the due day plus whole intervals of dose k, by whose opening hour the hold is over.
        """
        held = p.held_until
        hold_day = int(held // 24) + 1 if held > 0 else 0
        if hold_day <= due:
            return due
        gap = self.gap[k]
        if self.next_scheduled and gap > 0:
            opens = due * 24.0 + self.open_hour
            return due if held <= opens else due + math.ceil((held - opens) / (gap * 24.0)) * gap
        return hold_day

    def _restart(self, p: _Patient, k: int, first_ok: int) -> int:
        """The index of the dose to give instead of dose k, first permitted on day ``first_ok``, by the label's
        restart rules (:meth:`~sim.config.drug.DrugProfile.restart_dose`): k when none applies.

        A restart goes back to an earlier dose: the doses from there are given again, planned, booked (with the
        step-up's held slots) and monitored as the first time. A repeated dose's toxicity is that patient's draw
        for that dose (common random numbers: the patient reacts to the dose as the first time). So that a
        toxicity that itself outlasts the restart limit cannot send the patient round the same doses for ever,
        a restart never goes back to a dose repeated already: the rule is then passed over and dose k is given.
        """
        restart_at = self.s.drug.restart_dose(p.last_k + 1, first_ok - p.last_day)
        if restart_at is None or restart_at > k or (p.repeated >> (restart_at - 1)) & 1:
            return k
        if p.i == self.trace_i:
            self._note(f"dose {k + 1} comes {first_ok - p.last_day} days after dose {p.last_k + 1}: "
                       f"the label restarts at dose {restart_at}")
        return restart_at - 1

    # ----------------------------------------------------------------- patient pathway
    def _note(self, text: str) -> None:
        self.trace.append((self.env.now, text))

    def _plan(self, k: int, high: bool, eligible: bool, after_tox: float) -> tuple:
        """Where dose k goes and for how long: :func:`~sim.config.dose_plan.plan_dose`, cached, with
        the resource's ledger and pool, the place's code in the run log and the patient's location.

        Returns (place, hours before the infusion, resource, stay in hours, is a bed, prophylaxis,
        ledger, pool, place code, location, index of the last dose of its admission: k unless it is a single
        admission). Plans without a follow-up requirement also fill :meth:`_plain`'s list, which the hot loop
        reads without building a key.
        """
        key = (k, high, eligible, after_tox)
        plan = self._plan_cache.get(key)
        if plan is None:
            made_key = (k + 1, self.req[k], high, eligible, after_tox)
            d = self._made.get(made_key)
            if d is None:
                d = self._made[made_key] = plan_dose(self.s.drug, self.s.strategy, *made_key)
            plan = self._plan_cache[key] = (d.place, d.premed_hours, d.resource, d.stay_hours, d.bed, d.prophylaxis,
                                            self.ledgers[d.resource], self.pools[d.resource], PLACE_CODES[d.place],
                                            PLACE_LOC[d.place], d.through - 1)
            if after_tox == 0.0:
                self._plain(high, eligible)[k] = plan
        return plan

    def _plain(self, high: bool, eligible: bool) -> list:
        """Plans of doses with no follow-up requirement for one kind of patient, by dose (None: not yet made)."""
        plain = self._plain_plans.get((high, eligible))
        if plain is None:
            plain = self._plain_plans[(high, eligible)] = [None] * self.D
        return plain

    def _hold_next(self, p: _Patient, k: int, day: int, now: float) -> None:
        """Hold a slot for step-up dose k + 1 as soon as dose k is booked on ``day``.

        Centres book a step-up sequence together; booking each dose only after the previous one
        would let newly referred patients take the beds the next dose needs. The hold is given
        back when dose k + 1 is planned and re-booked at once, so it can only help that dose.
        """
        k1 = k + 1
        plan = self._plan(k1, p.high, p.eligible, 0.0)
        ledger = plan[6]
        due = day + self.gap[k1]
        last = max(day + self.window[k1], self.cal.next_open_day(due))
        booked = self._book(p, ledger, plan[3], due, last, False, plan[4], now)
        if booked is not None:
            p.hold = (ledger, booked[3])

    def _drop_hold(self, p: _Patient) -> None:
        if p.hold is not None:
            p.hold[0].cancel(p.hold[1])
            p.hold = None

    def patient(self, i: int):
        """Patient i's process: referral (or a warm start's resumption), then dose after dose (book, wait,
        take the place, stay) until therapy ends, treatment stops or no place is found; then late toxicity."""
        env, traced = self.env, i == self.trace_i
        high, eligible = self.high_risk[i], self.eligible[i]
        p = _Patient(i, high, eligible, self.therapy[i], self._plain(high, eligible))
        k, due = yield from self._arrive(p)
        window_day, not_before, now = due, 0, env.now
        # Bound once: the loop below runs for every dose of every patient. A plan is (place, premedication,
        # resource, stay, bed, prophylaxis, ledger [6], pool [7], place code, location [9], last dose of a
        # single admission [10]): see _plan.
        n_defined, step_up, gap, window = self.n_defined, self.step_up, self.gap, self.window
        next_booking, record_dose, hold_for_stock, tag = (self._next_booking, self._record_dose, self.hold_for_stock,
                                                          self.tag)
        while k < n_defined and not p.discontinued:   # ``now`` is kept equal to env.now (a call to read)
            if (booking := next_booking(p, k, due, window_day, not_before, now)) is None:
                break
            kb, plan, day, start, deadline, iv, postponed = booking   # kb: the dose booked, k or a restart
            if p.pending and p.pending[0][0] < start:
                # a toxicity at home comes first: give the slots back, manage it, then plan again
                plan[6].cancel(iv)
                self._drop_hold(p)
                yield from self._home_event(p)
                now = env.now
                continue
            yield Timeout(env, start - now)   # the class itself: env.timeout adds a layer per dose
            now += start - now   # the clock as SimPy moved it: now + delay, not always exactly start
            if hold_for_stock and kb < step_up and self._held_for_stock(p, kb, plan[6], iv):
                not_before = day + 1
                continue
            ev = (pool := plan[7]).request(now, True, tag)
            if ev is not None:
                yield ev | env.timeout(max(deadline, now) - now)
                asked, now = now, env.now
                if not self._took_place(p, kb, ev, pool, plan[6], iv, asked):
                    not_before = day + 1
                    continue
            t0 = record_dose(p, kb, plan, now, postponed)
            until = p.planned_until
            if plan[10] > kb:   # a single admission: the next doses are given in this bed, then home
                kb, t0 = yield from self._in_bed(p, kb, plan, t0)
                now = env.now
            elif plan[9] != WARD and (not p.pending or p.pending[0][0] >= until):
                # Nothing can happen before discharge (the common case): what _dwell would do, inline.
                if until > now:
                    yield Discharge(env, until - now)
                    now += until - now   # as above
                pool.release(now, tag)
                p.loc, p.pool = HOME, None
                if traced:
                    self._note("home")
            else:
                yield from self._dwell(p)
                now = env.now
            k, not_before = kb + 1, 0
            if k < n_defined:
                given_day = int(t0 // 24)
                due, window_day = given_day + gap[k], given_day + window[k]
        if self.status[i] != DIVERTED:
            yield from self._leave(p)

    def _arrive(self, p: _Patient):
        """A warm start's patient on treatment (:meth:`_resume`) or a new referral (:meth:`_referred`), when
        referred: (index of the next dose, its due day)."""
        if self.prevalent[p.i]:
            return self._resume(p)
        if self.referral[p.i] > 0:  # a warm start's waiting patients were referred before t = 0
            yield self.env.timeout(self.referral[p.i])
        return 0, self._referred(p)

    def _in_bed(self, p: _Patient, k: int, first: tuple, t0: float):
        """A single admission: after dose k, taken with plan ``first``, the doses up to ``first[10]`` are given in
        the same bed, each on its due day at the hour of the one before (later after a toxicity hold, as
        :meth:`_after_hold` says, and an earlier dose again if that delay passes a restart rule's limit), with no
        booking; toxicity meanwhile is managed as in any stay. When toxicity moves the patient out of the bed or
        stops treatment the admission ends there (the next dose is then booked as usual). Then the patient stays
        to the end of the last dose's monitoring and goes home. Returns (index of the last dose given, its
        infusion start)."""
        while k < first[10]:
            plan = yield from self._wait_in_bed(p, k + 1, t0, first)
            if plan is None:
                break
            k = plan[10]
            t0 = self._record_dose(p, k, plan, self.env.now, 0)
        yield from self._dwell(p)
        return k, t0

    def _wait_in_bed(self, p: _Patient, j: int, t_prev: float, first: tuple):
        """In the bed of plan ``first`` until the premedication of dose j (or of the dose a restart rule gives
        instead) starts, managing onsets meanwhile. Returns that dose's plan in this bed, its index at [10], or
        None when toxicity has moved the patient or stopped treatment."""
        env = self.env
        while not p.discontinued and p.pool is first[7]:
            day = self._after_hold(p, j, int(t_prev // 24) + self.gap[j])
            k = self._restart(p, j, day) if day - p.last_day > self.restart_after else j
            own = self._plan(k, p.high, p.eligible, p.after_tox)
            start = day * 24.0 + t_prev % 24 - own[1]
            if (yield from self._onset_before(p, start)):
                continue   # the onset may hold the dose, or move the patient
            if start > env.now:
                yield env.timeout(start - env.now)
            # the dose's own premedication, stay and prophylaxis, in the admission's place
            return first[:1] + own[1:2] + first[2:3] + own[3:4] + first[4:5] + own[5:6] + first[6:10] + (k,)
        return None

    def _resume(self, p: _Patient) -> tuple[int, int]:
        """A warm start's patient, on treatment since before t = 0: (index of the next dose, its due day)."""
        i = p.i
        p.start = self.first_dose[i] = self.referral[i]
        self.status[i] = ON_TREATMENT
        age, rep, offset, k = -p.start, self.repeat_from, self.offset, 0
        if rep is not None and rep < self.n_defined and age > offset[rep]:
            # In the repeating block every dose is alike, so the patient takes its first slot;
            # the timing keeps the patient's own phase.
            k = rep
            gap = self.gap[rep] * 24.0
            next_at = offset[rep] + math.ceil((age - offset[rep]) / gap) * gap
        else:
            while k < self.n_defined and offset[k] < age:
                k += 1
            next_at = offset[k] if k < self.n_defined else age
        if i == self.trace_i:
            self._note(f"on treatment for {age / 24:.0f} days at the start; next is dose {k + 1}")
        due = int((p.start + next_at) // 24)
        # the doses before k were given before t = 0, the last one a dose interval before this one
        p.next_new, p.last_k = k, k - 1
        p.last_day = due - self.gap[k] if k < self.n_defined else due
        return k, due

    def _referred(self, p: _Patient) -> int:
        """A new referral: the first day its first dose is due (after the lead time)."""
        i = p.i
        if i == self.trace_i:
            self._note(f"referred ({'high' if self.high_risk[i] else 'standard'} risk, "
                       f"{'eligible' if self.eligible[i] else 'not eligible'} for outpatient care, "
                       f"{self.c.weight_kg[i]:.0f} kg, time on therapy {self.therapy[i] / 24:.0f} days)")
        return int(self.referral[i] // 24) + self.lead_days

    def _divert(self, p: _Patient, plan: tuple) -> None:
        """No place for the first dose within the longest start delay: the patient is referred elsewhere."""
        self.status[p.i] = DIVERTED
        self.left_at[p.i] = self.env.now
        if p.i == self.trace_i:
            self._note(f"no {plan[2]} free within {self.max_start_delay} days: referred elsewhere")

    def _note_booked(self, k: int, plan: tuple, day: int, start: float, permitted: int) -> None:
        self._note(f"dose {k + 1} booked: {plan[0]} ({plan[2]}) day {day} at {start % 24:05.2f} h for {plan[3]:g} h"
                   + (f", {day - permitted} day(s) after the first permitted day" if day > permitted else ""))

    def _held_for_stock(self, p: _Patient, k: int, ledger: Ledger, iv: list[float]) -> bool:
        """True, and the booking given back, when no tocilizumab dose for the patient is on hand:
        the step-up dose then waits a day."""
        if self.pharmacy.covers(self.toci_mg[p.i]):
            return False
        ledger.cancel(iv)
        self.held_for_stock_times.append(self.env.now)
        if p.i == self.trace_i:
            self._note(f"dose {k + 1} held: no tocilizumab dose on hand")
        return True

    def _took_place(self, p: _Patient, k: int, ev, pool: Pool, ledger: Ledger, iv: list[float], asked: float) -> bool:
        """After waiting for a booked place until the booking's latest start: True if it was granted;
        otherwise (an overrun or an emergency holds it) the request and the booking are given back."""
        pool.record_wait(asked, self.env.now - asked, self.tag)
        if ev.triggered:
            return True
        pool.cancel(ev, self.tag)
        ledger.cancel(iv)
        if p.i == self.trace_i:
            self._note(f"dose {k + 1}: booked {pool.name} still taken; rebooking from the next day")
        return False

    def _record_dose(self, p: _Patient, k: int, plan: tuple, now: float, postponed: int) -> float:
        """Dose k is given, its place taken at ``now``: enter it in the log, queue the toxicities it
        causes, give prophylaxis and start the planned stay. Returns the infusion start.

        The first time a dose is given fills its entry of the per-dose arrays (``dose_time`` and the rest);
        a repeat after a restart goes to the run log's ``repeated_doses`` instead, and its toxicity is the
        patient's draw for that dose again. Time on therapy and follow-up visits count from the first dose ever.
        """
        i = p.i
        t0 = now + plan[1]  # infusion starts after premedication (and prophylaxis)
        j = i * self.D + k
        p.planned_until = now + plan[3]
        repeat = k < p.next_new
        if repeat:
            p.repeated |= 1 << k
            self.log.repeated_doses.append((t0, i, k, plan[8], postponed))
        else:
            p.next_new = k + 1
            self.dose_time[j] = t0
            self.dose_place[j] = plan[8]
            self.dose_postponed[j] = postponed
            self.stay_start[j] = now
            self.stay_end[j] = p.planned_until
            if k == 0:
                p.start = self.first_dose[i] = t0
                self.status[i] = ON_TREATMENT
                if self.visit_offsets:
                    self.env.process(self._follow_up(p, int(t0 // 24)))
        p.last_k, p.last_day = k, int(t0 // 24)
        for onset, kind, g, duration, toci, stay in self.events.get(j, ()):
            heapq.heappush(p.pending, (t0 + onset, kind, g, duration, toci, stay))
        if i == self.trace_i:
            self._note(f"dose {k + 1}{' (again, after the restart)' if repeat else ''} given in {plan[0]}: infusion "
                       f"starts at {t0:.1f} h, stay until {p.planned_until:.1f} h"
                       + (", after prophylactic tocilizumab" if plan[5] else ""))
        if plan[5]:
            self._give_toci(i, plan[1] + self.pro_after[k] if self.pro_after[k] else 0.0)
        p.after_tox = 0.0
        p.loc, p.pool = plan[9], plan[7]
        p.in_planned = True
        return t0

    def _follow_up(self, p: _Patient, first_day: int):
        """The planned clinic visits after the first dose (DeLLphi-300 Part F: days 2, 3, 5, 9, 16 and
        22), booked at once in the clinic rooms' book on their day of treatment (the next open day with a free
        room when the clinic is closed or full; a visit pushed onto the previous one's day is merged with it),
        each attended unless the patient is in care (a chair, a bed, the ED) or has left the service then.
        A visit draws nothing, so no other draw moves; the patient's own process is untouched."""
        env, pool, ledger, length = self.env, self.pools["clinic_rooms"], self.ledgers["clinic_rooms"], self.visit_hours
        booked, last_day = [], -1
        for offset in self.visit_offsets:
            slot = self._slot(ledger, length, first_day + offset, self.cal.n_days, False, False, env.now)
            if slot is None:
                break
            if slot[0] <= last_day:   # pushed (closed or full) onto the previous visit's day: one visit serves
                ledger.cancel(slot[3])
                continue
            last_day = slot[0]
            booked.append((slot[1], slot[3]))
        for start, iv in booked:
            if start > env.now:
                yield Timeout(env, start - env.now)
            if p.loc != HOME or self.status[p.i] != ON_TREATMENT:   # in care, or has left the service
                ledger.cancel(iv)
                continue
            self.log.clinic_visits.append(env.now)
            asked = env.now
            ev = pool.request(asked, True, self.tag)
            if ev is not None:
                yield ev
                pool.record_wait(asked, env.now - asked, self.tag)
            if p.i == self.trace_i:
                self._note(f"follow-up clinic visit (day {int(env.now // 24) - first_day + 1} of treatment)")
            yield Discharge(env, length)
            pool.release(tag=self.tag)

    def _leave(self, p: _Patient):
        """After the last dose: the held slot given back, toxicities still to come managed, then gone."""
        self._drop_hold(p)
        while p.pending:
            yield from self._home_event(p)
        self.status[p.i] = LEFT
        self.left_at[p.i] = self.env.now
        if p.i == self.trace_i:
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

    def _onset_before(self, p: _Patient, until: float):
        """If the patient's next onset comes before ``until``: sleep to it, manage it and return True."""
        onset = p.pending[0][0] if p.pending else INF
        if onset >= until:
            return False
        if onset > self.env.now:
            yield self.env.timeout(onset - self.env.now)
        yield from self._toxicity(p, heapq.heappop(p.pending))
        return True

    def _dwell(self, p: _Patient):
        """Stay in care until discharge home, handling onsets and stepping down from ICU to ward."""
        env = self.env
        while p.loc != HOME:
            until = self._stay_until(p)
            if (yield from self._onset_before(p, until)):
                continue
            if until > env.now:
                yield Discharge(env, until - env.now)
            if p.loc == ICU and max(p.ward_until, p.planned_until) > env.now:
                yield from self._move(p, WARD, unplanned=False)
            else:
                self._end_prolonged(p)
                p.pool.release(tag=self.tag)
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
        if route == UC and not self.urgent_care.is_open(now):
            route = ED   # urgent care is closed: the ED instead
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
                yield from self._assess(p, need, kind, grade, route)
        elif LEVEL[need] > LEVEL[p.loc]:
            yield from self._move(p, need, unplanned=True, cause=(kind, grade))
        elif p.in_planned and p.loc == WARD and p.ward_until > p.planned_until and p.prolonged_at < 0.0:
            p.prolonged_at = now
            self.log.care.append((now, p.i, "prolonged", kind, grade))

    def _tocilizumab(self, i: int, doses: int, duration: float) -> None:
        """Treatment doses: the first now, repeats every ``repeat_interval_hours`` while the CRS lasts."""
        for delay in repeat_times(doses, self.repeat_hours, duration):
            self._give_toci(i, delay)

    def _give_toci(self, i: int, delay: float) -> None:
        mg = self.toci_mg[i]
        self.log.toci.append((self.env.now + delay, 1, mg))
        if self.pharmacy is not None:
            self.pharmacy.request_in(delay, mg)

    def _assess(self, p: _Patient, need: int, kind: int, grade: int, where: int):
        """Same-day assessment of an onset at home in the ED or the urgent-care centre (``where``), then
        home, or a ward or ICU bed (boarding in the bay while waiting for it)."""
        env = self.env
        pool, hours, visits, name = self.assessment[where]
        visits.append(env.now)
        self.log.care.append((env.now, p.i, name, kind, grade))
        asked = env.now
        ev = pool.request(asked, True, self.tag)
        if ev is not None:
            yield ev
            pool.record_wait(asked, env.now - asked, self.tag)
        p.loc, p.pool = where, pool
        if p.i == self.trace_i:
            self._note(f"in the {LOC_NAMES[where]} (waited {env.now - asked:.1f} h for a bay)")
        yield Discharge(env, hours)
        if need == HOME:
            pool.release(tag=self.tag)
            p.loc, p.pool = HOME, None
        else:
            yield from self._move(p, need, unplanned=True, cause=(kind, grade))

    def _move(self, p: _Patient, target: int, unplanned: bool, cause: tuple[int, int] | None = None):
        """Take a bed in ``target``, keeping the current place while waiting (boarding), then free it."""
        env, log = self.env, self.log
        pool = self.pools["icu_beds" if target == ICU else "ward_beds"]
        asked = env.now
        ev = pool.request(asked, True, self.tag)
        if ev is not None:
            yield ev
            pool.record_wait(asked, env.now - asked, self.tag)
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
            p.pool.release(tag=self.tag)
        p.loc, p.pool = target, pool
        if p.i == self.trace_i:
            self._note(f"to the {'ICU' if target == ICU else 'ward'} (waited {waited:.1f} h for a bed)")

    # ----------------------------------------------------------------- run
    def start(self) -> None:
        """Start every patient's process on the site's clock."""
        for i in range(self.c.n):
            self.env.process(self.patient(i))

    def run(self) -> RunLog:
        """A single-drug scenario: run the site to the end and return the log (:func:`simulate`)."""
        self.site.run([self])
        return self.site.finish(self.close(self.site.pool_logs()))

    def close(self, pools: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]) -> RunLog:
        """The run log of this programme's patients, with ``pools`` as its occupancy and waits."""
        log = self.log
        n, d = self.c.n, self.D
        log.dose_time = np.array(self.dose_time).reshape(n, d)
        log.dose_place = np.array(self.dose_place, dtype=np.int8).reshape(n, d)
        log.dose_postponed = np.array(self.dose_postponed, dtype=np.int32).reshape(n, d)
        log.stay_start, log.stay_end = self.stay_start, self.stay_end
        given = np.isfinite(log.dose_time)
        log.crs_grade = np.where(given, self.grade[CRS], 0).astype(np.int8)
        log.icans_grade = np.where(given, self.grade[ICANS], 0).astype(np.int8)
        log.first_dose = np.array(self.first_dose)
        log.left_at = np.array(self.left_at)
        log.status = np.array(self.status, dtype=np.int8)
        log.discontinued = np.array(self.discontinued, dtype=bool)
        log.given_toci = np.array(self.given_toci, dtype=bool)
        log.pools = pools
        log.held_for_stock = self.held_for_stock_times
        return log


def simulate(scenario: Scenario, cohort: Cohort) -> RunLog:
    """Run one replication of a single-drug ``scenario`` for ``cohort`` and return its log (a centre:
    :func:`sim.model.centre.simulate_centre`)."""
    if scenario.programmes:
        raise ValueError(f"scenario {scenario.name!r} is a centre; allowed here: a single-drug scenario "
                         "(simulate a centre with simulate_centre)")
    return Model(scenario, cohort).run()


def trace(scenario: Scenario, cohort: Cohort, patient: int) -> list[tuple[float, str]]:
    """One patient's journey, step by step with times (hours from the start), for a human to check."""
    if not 0 <= patient < cohort.n:
        raise ValueError(f"patient = {patient}; allowed: 0 to {cohort.n - 1} (patients referred in this replication)")
    m = Model(scenario, cohort, trace=patient)
    m.run()
    return m.trace
