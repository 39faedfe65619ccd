"""Tocilizumab stock inside the simulation: vials in lots with expiry, least-waste dosing,
periodic or continuous review, lead times, emergency orders, background demand and stock-outs.

A dose that cannot be made up from the vials on hand waits for the next delivery (or an emergency
order); the patient's CRS goes on meanwhile and the delay is recorded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import simpy

from sim.config.scenario import Pharmacy as PharmacyConfig

VIALS = (80, 200, 400)            # mg per vial, in the order every per-size array uses
_MAX_COUNT = {80: 10, 200: 4, 400: 2}   # enough of each size to cover the 800 mg maximum dose alone
HOURS_PER_MONTH = 30.4375 * 24


def least_waste(mg: float, available: tuple[int, int, int] | None = None) -> tuple[int, int, int] | None:
    """Vials (n80, n200, n400) covering ``mg`` with the least mg opened, then the fewest vials.

    An opened vial's remainder is discarded, so the waste is the opened mg minus the dose. With
    ``available`` the choice is limited to the vials on hand; None when they cannot cover the dose.
    """
    best: tuple[float, int, tuple[int, int, int]] | None = None
    limits = [_MAX_COUNT[v] if available is None else min(_MAX_COUNT[v], available[j])
              for j, v in enumerate(VIALS)]
    for n80 in range(limits[0] + 1):
        for n200 in range(limits[1] + 1):
            short = mg - 80 * n80 - 200 * n200
            n400 = 0 if short <= 0 else math.ceil(short / 400 - 1e-9)
            if n400 > limits[2]:
                continue
            total = 80 * n80 + 200 * n200 + 400 * n400
            key = (total, n80 + n200 + n400, (n80, n200, n400))
            if best is None or key < best:
                best = key
    return None if best is None else best[2]


@dataclass
class PharmacyLog:
    """What the pharmacy did; metrics reduce it to KPIs over the window."""

    used: list[tuple[float, int, int, bool]] = field(default_factory=list)        # (t, vial size, count, patient)
    dispensed: list[tuple[float, float, float, bool]] = field(default_factory=list)  # (t, dose mg, opened mg, patient)
    expired: list[tuple[float, int, int]] = field(default_factory=list)         # (t, vial size, count)
    received: list[tuple[float, int, int, bool]] = field(default_factory=list)  # (t, vial size, count, emergency)
    orders: list[tuple[float, bool]] = field(default_factory=list)              # (t, emergency)
    stockouts: list[float] = field(default_factory=list)                        # times a request could not be met
    delays: list[tuple[float, float, bool]] = field(default_factory=list)       # (requested at, hours waited, patient)
    on_hand_times: list[float] = field(default_factory=lambda: [0.0])
    on_hand_mg: list[float] = field(default_factory=lambda: [0.0])
    initial: tuple[int, int, int] = (0, 0, 0)
    final: tuple[int, int, int] = (0, 0, 0)
    waiting_at_end: int = 0


class Pharmacy:
    """Tocilizumab inventory shared by the BTCE service and background demand."""

    def __init__(self, env: simpy.Environment, cfg: PharmacyConfig, lead_u: np.ndarray,
                 background: tuple[np.ndarray, np.ndarray]):
        self.env = env
        self.cfg = cfg
        self.lots: list[list[list[float]]] = [[] for _ in VIALS]   # per size: [[expiry, count], ...] by expiry
        self.on_order = [0, 0, 0]
        self.waiting: list[tuple[float, float, bool]] = []        # (requested at, mg, patient), FIFO
        self.emergency_pending = False
        self.log = PharmacyLog()
        self._lead_u = lead_u.tolist()
        self._lead_i = 0
        self.shelf_hours = cfg.shelf_life_months.value * HOURS_PER_MONTH
        split = cfg.vial_split
        self.split = (split.mg80, split.mg200, split.mg400)
        start = self._target(cfg.initial_stock_mg if cfg.initial_stock_mg is not None else self._level_mg())
        for j, n in enumerate(start):
            if n:
                self.lots[j].append([self.shelf_hours, n])
        self.log.initial = tuple(start)
        self._record()
        if cfg.policy == "periodic":
            env.process(self._periodic())
        times, mg = background
        for t, m in zip(times.tolist(), mg.tolist()):
            env.timeout(t).callbacks.append(lambda _ev, m=m: self.request(m, patient=False))

    # ------------------------------------------------------------------ quantities
    def _level_mg(self) -> float:
        c = self.cfg
        return c.order_up_to if c.policy == "periodic" else c.reorder_point + c.order_quantity

    def _target(self, mg: float) -> list[int]:
        """Vials of each size that hold ``mg`` split as ``vial_split`` says (rounded up)."""
        return [math.ceil(mg * share / v - 1e-9) for v, share in zip(VIALS, self.split)]

    def on_hand(self) -> list[int]:
        return [int(sum(lot[1] for lot in lots)) for lots in self.lots]

    def on_hand_mg(self) -> float:
        return float(sum(v * n for v, n in zip(VIALS, self.on_hand())))

    def _record(self) -> None:
        self.log.on_hand_times.append(self.env.now)
        self.log.on_hand_mg.append(self.on_hand_mg())

    # ------------------------------------------------------------------ expiry
    def _expire(self) -> None:
        now = self.env.now
        for j, lots in enumerate(self.lots):
            while lots and lots[0][0] <= now:
                expiry, n = lots.pop(0)
                self.log.expired.append((expiry, VIALS[j], int(n)))

    # ------------------------------------------------------------------ dispensing
    def covers(self, mg: float) -> bool:
        """True when the vials on hand can make up a dose of ``mg`` now."""
        self._expire()
        return least_waste(mg, tuple(self.on_hand())) is not None

    def request_in(self, hours: float, mg: float, patient: bool = True) -> None:
        """:meth:`request` ``hours`` from now (now when ``hours`` is not positive)."""
        if hours <= 0:
            self.request(mg, patient)
        else:
            self.env.timeout(hours).callbacks.append(lambda _ev: self.request(mg, patient))

    def request(self, mg: float, patient: bool = True) -> None:
        """A dose of ``mg`` is needed now: give it, or queue it until stock arrives."""
        self._expire()
        if not self.waiting and self._give(mg, patient, self.env.now):
            self._after_use()
            return
        self.log.stockouts.append(self.env.now)
        self.waiting.append((self.env.now, mg, patient))
        if self.cfg.emergency_order and not self.emergency_pending:
            self._order(least_waste(mg) or (0, 0, 0), emergency=True)
        self._after_use()

    def _give(self, mg: float, patient: bool, asked: float) -> bool:
        combo = least_waste(mg, tuple(self.on_hand()))
        if combo is None:
            return False
        now = self.env.now
        for j, n in enumerate(combo):
            left = n
            lots = self.lots[j]
            while left:  # first expiry, first out
                take = min(left, int(lots[0][1]))
                lots[0][1] -= take
                left -= take
                if lots[0][1] == 0:
                    lots.pop(0)
            if n:
                self.log.used.append((now, VIALS[j], n, patient))
        opened = float(sum(v * n for v, n in zip(VIALS, combo)))
        self.log.dispensed.append((now, mg, opened, patient))
        if now > asked:
            self.log.delays.append((asked, now - asked, patient))
        self._record()
        return True

    def _after_use(self) -> None:
        if self.cfg.policy == "continuous":
            position = self.on_hand_mg() + sum(v * n for v, n in zip(VIALS, self.on_order))
            if position <= self.cfg.reorder_point:
                self._order(self._target(self.cfg.order_quantity), emergency=False)

    # ------------------------------------------------------------------ replenishment
    def _lead_hours(self, emergency: bool) -> float:
        if emergency:
            return self.cfg.emergency_lead_hours.value
        u = self._lead_u[self._lead_i % len(self._lead_u)]
        self._lead_i += 1
        lo, hi = self.cfg.lead_time_days_min.value, self.cfg.lead_time_days_max.value
        return 24.0 * (lo + u * (hi - lo))

    def _order(self, vials: list[int] | tuple[int, int, int], emergency: bool) -> None:
        if not any(vials):
            return
        self.log.orders.append((self.env.now, emergency))
        for j, n in enumerate(vials):
            self.on_order[j] += n
        if emergency:
            self.emergency_pending = True
        self.env.process(self._deliver(list(vials), self._lead_hours(emergency), emergency))

    def _deliver(self, vials: list[int], lead: float, emergency: bool):
        yield self.env.timeout(lead)
        now = self.env.now
        self._expire()
        for j, n in enumerate(vials):
            if n:
                self.on_order[j] -= n
                self.lots[j].append([now + self.shelf_hours, n])
                self.lots[j].sort()
                self.log.received.append((now, VIALS[j], n, emergency))
        if emergency:
            self.emergency_pending = False
        self._record()
        while self.waiting:  # serve queued doses in the order they were asked for
            asked, mg, patient = self.waiting[0]
            if not self._give(mg, patient, asked):
                break
            self.waiting.pop(0)
        if self.waiting and self.cfg.emergency_order and not self.emergency_pending:
            self._order(least_waste(self.waiting[0][1]) or (0, 0, 0), emergency=True)
        self._after_use()

    def _periodic(self):
        cfg = self.cfg
        step = cfg.review_days * 24.0
        yield self.env.timeout(cfg.review_hour)
        while True:
            self._expire()
            target = self._target(cfg.order_up_to)
            have = self.on_hand()
            self._order([max(0, t - h - o) for t, h, o in zip(target, have, self.on_order)], emergency=False)
            yield self.env.timeout(step)

    def close(self) -> PharmacyLog:
        """Expire what is out of date at the end and return the log."""
        self._expire()
        self.log.final = tuple(self.on_hand())
        self.log.waiting_at_end = len(self.waiting)
        for asked, _, patient in self.waiting:  # still waiting: delayed at least this long
            self.log.delays.append((asked, self.env.now - asked, patient))
        self._record()
        return self.log
