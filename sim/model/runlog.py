"""What one replication leaves behind: columnar arrays and plain lists, turned into KPIs by metrics."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.model.pharmacy import PharmacyLog

# Where a dose was monitored (dose_place) and where a patient is (model state).
PLACE_CODES = {"ward": 1, "observation": 2, "clinic": 3, "home": 4}
PLACE_NAMES = {v: k for k, v in PLACE_CODES.items()}

# Settings of RunLog.care, and those that count as a hospitalisation (DeLLphi-300 Part F: hospitalisation
# including ER visits): an ED visit, a ward or ICU admission, a planned stay prolonged by toxicity.
CARE_SETTINGS = ("home", "urgent_care", "ed", "ward", "icu", "prolonged")
HOSPITALISATION_SETTINGS = ("ed", "ward", "icu", "prolonged")

# Patient status at the end of the run.
WAITING, ON_TREATMENT, LEFT, DIVERTED = 0, 1, 2, 3


@dataclass
class RunLog:
    """Everything :mod:`sim.metrics` needs; built once per replication, no DataFrames inside."""

    n: int
    max_doses: int
    window: tuple[float, float]           # statistics cover [start, end) hours
    end_time: float                       # simulation stopped here
    open_hours: float                     # infusion-centre opening hours inside the window
    capacity: dict[str, int]
    referral: np.ndarray
    prevalent: np.ndarray                 # bool: on treatment before t = 0 (warm start)
    high_risk: np.ndarray                 # bool: the patient is high risk
    urgent_care_hours: float = 0.0        # urgent-care opening hours inside the window
    first_dose: np.ndarray = field(init=False)
    left_at: np.ndarray = field(init=False)
    status: np.ndarray = field(init=False)
    dose_time: np.ndarray = field(init=False)        # (n, D) infusion start, NaN if not given
    dose_place: np.ndarray = field(init=False)       # (n, D) PLACE_CODES
    dose_postponed: np.ndarray = field(init=False)   # (n, D) days lost to capacity
    # The planned stay of each given dose, from taking the place to giving it back (NaN if not given),
    # flat at patient * max_doses + dose. Plain lists: only the dosing calendar reads them, for a few
    # patients, so the run does not pay to make arrays of them (see planned_stays).
    stay_start: list[float] = field(init=False)
    stay_end: list[float] = field(init=False)
    crs_grade: np.ndarray = field(init=False)        # (n, D) grade of CRS after that dose, 0 if none
    icans_grade: np.ndarray = field(init=False)      # (n, D)
    discontinued: np.ndarray = field(init=False)     # bool (n,)
    given_toci: np.ndarray = field(init=False)       # bool (n,): tocilizumab for CRS/ICANS (not prophylaxis)
    ed_visits: list[float] = field(default_factory=list)                 # arrival times
    urgent_care_visits: list[float] = field(default_factory=list)        # arrival times
    clinic_visits: list[float] = field(default_factory=list)             # follow-up visits' start times
    managed_at_home: list[float] = field(default_factory=list)           # onsets managed at home
    prolonged_stays: list[tuple[float, float]] = field(default_factory=list)  # (first prolonged at, extra hours)
    unplanned_ward: list[float] = field(default_factory=list)            # admission times
    icu_admissions: list[float] = field(default_factory=list)
    # where every toxicity onset outside a planned stay was managed, every admission it caused and every
    # planned stay it prolonged: (time, patient, setting, kind, grade), setting one of CARE_SETTINGS,
    # kind 0 = CRS, 1 = ICANS
    care: list[tuple[float, int, str, int, int]] = field(default_factory=list)
    icu_boarding: list[tuple[float, float]] = field(default_factory=list)  # (requested at, hours)
    toci: list[tuple[float, int, float]] = field(default_factory=list)     # (time, doses, mg per dose)
    # per resource: (times, levels) of every change of occupancy, and (requested at, hours waited) per request
    pools: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)
    pharmacy: "PharmacyLog | None" = None                                  # None: stock not modelled
    held_for_stock: list[float] = field(default_factory=list)              # step-up doses held for want of stock
    # doses given again after a restart of the step-up (drug.restart); the per-dose arrays above keep each
    # dose's first time: (infusion start, patient, dose index, PLACE_CODES of its place, days postponed for
    # want of a place)
    repeated_doses: list[tuple[float, int, int, int, int]] = field(default_factory=list)
    # other services' admissions into the same beds: (resource, arrived at, bed taken at, bed given back at;
    # NaN while still waiting or in the bed at the end)
    other_stays: list[tuple[str, float, float, float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        n, d = self.n, self.max_doses
        self.first_dose = np.full(n, np.nan)
        self.left_at = np.full(n, np.nan)
        self.status = np.zeros(n, dtype=np.int8)
        self.dose_time = np.full((n, d), np.nan)
        self.dose_place = np.zeros((n, d), dtype=np.int8)
        self.dose_postponed = np.zeros((n, d), dtype=np.int32)
        self.stay_start = [math.nan] * (n * d)
        self.stay_end = [math.nan] * (n * d)
        self.crs_grade = np.zeros((n, d), dtype=np.int8)
        self.icans_grade = np.zeros((n, d), dtype=np.int8)
        self.discontinued = np.zeros(n, dtype=bool)
        self.given_toci = np.zeros(n, dtype=bool)

    def planned_stays(self, patients: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(start, end) hours of the planned stay of every dose of ``patients``, each (len(patients), D)."""
        d = self.max_doses
        idx = (np.asarray(patients, dtype=np.int64)[:, None] * d + np.arange(d)).ravel().tolist()
        start, end = self.stay_start, self.stay_end
        shape = (len(patients), d)
        return (np.array([start[j] for j in idx]).reshape(shape), np.array([end[j] for j in idx]).reshape(shape))


def merge(logs: list[RunLog], pools: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]) -> RunLog:
    """One log of several programmes' patients on the same site (their window, calendar and capacity):
    patients numbered programme after programme, per-dose arrays padded to the longest schedule, and
    ``pools`` (the whole site's occupancy) as its pools. Other services and the pharmacy are the caller's."""
    first = logs[0]
    d = max(log.max_doses for log in logs)
    out = RunLog(n=sum(log.n for log in logs), max_doses=d, window=first.window, end_time=first.end_time,
                 open_hours=first.open_hours, capacity=first.capacity,
                 referral=np.concatenate([log.referral for log in logs]),
                 prevalent=np.concatenate([log.prevalent for log in logs]),
                 high_risk=np.concatenate([log.high_risk for log in logs]),
                 urgent_care_hours=first.urgent_care_hours)
    for name in ("first_dose", "left_at", "status", "discontinued", "given_toci"):
        setattr(out, name, np.concatenate([getattr(log, name) for log in logs]))
    for name, fill in (("dose_time", np.nan), ("dose_place", 0), ("dose_postponed", 0), ("crs_grade", 0),
                       ("icans_grade", 0)):
        setattr(out, name, np.concatenate([_pad(getattr(log, name), d, fill) for log in logs]))
    for name in ("stay_start", "stay_end"):
        merged: list[float] = []
        for log in logs:
            merged += _padded_rows(getattr(log, name), log.n, log.max_doses, d)
        setattr(out, name, merged)
    offset = 0
    for log in logs:
        for name in ("ed_visits", "urgent_care_visits", "clinic_visits", "managed_at_home", "prolonged_stays",
                     "unplanned_ward", "icu_admissions", "icu_boarding", "toci", "held_for_stock"):
            getattr(out, name).extend(getattr(log, name))
        out.care.extend((t, i + offset, setting, kind, grade) for t, i, setting, kind, grade in log.care)
        out.repeated_doses.extend((t, i + offset, k, place, post) for t, i, k, place, post in log.repeated_doses)
        offset += log.n
    out.pools = pools
    return out


def _padded_rows(flat: list[float], n: int, k: int, d: int) -> list[float]:
    """A flat list of ``n`` rows of ``k`` values, each row filled on the right with NaN to ``d``: the per-dose
    lists stay lists (the model's), without a round trip through numpy."""
    if k == d:
        return flat
    fill = [math.nan] * (d - k)
    out: list[float] = []
    for i in range(0, n * k, k):
        out += flat[i:i + k]
        out += fill
    return out


def _pad(a: np.ndarray, d: int, fill: float) -> np.ndarray:
    """(n, k) -> (n, d), filled on the right."""
    if a.shape[1] == d:
        return a
    out = np.full((a.shape[0], d), fill, dtype=a.dtype)
    out[:, :a.shape[1]] = a
    return out
