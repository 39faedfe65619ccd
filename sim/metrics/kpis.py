"""KPIs of one replication, from its run log. Statistics cover the window after warm-up only.

Utilisation is occupied time over available time: opening hours for chairs, all hours for beds and
bays (each resource's ``hours`` in :mod:`sim.config.registry`).

Counts (ED visits, admissions, doses) are events inside the window; rates are per patient who
started treatment inside the window, counting the toxicity after every dose that patient was
given (follow-up weeks after the window let late starters' step-up doses be seen).
"""

from __future__ import annotations

import numpy as np

from sim.config.registry import (
    COST_BREAKDOWN,
    GRADED_KPIS,
    KPI_NAMES,
    RESOURCES,
    TOXICITY_GRADES,
)
from sim.config.scenario import Scenario
from sim.config.units import HOURS_PER_DAY
from sim.metrics.occupancy import peak, step_area
from sim.model.runlog import DIVERTED, HOSPITALISATION_SETTINGS, RunLog

HOSPITALISED_WITHIN_DAYS = 28   # DeLLphi-300 Part F counted cycle 1: tarlatamab's 28-day cycle

# Declared, in this order, in sim.config.registry.
KPI_COLUMNS = ("replication",) + KPI_NAMES


def _ratio(num: float, den: float) -> float:
    """num / den, and 0 when nothing happened (zero demand gives zeros, not NaN)."""
    return float(num) / float(den) if den else 0.0


def summarise(log: RunLog, s: Scenario, replication: int = 0) -> dict[str, float]:
    """The KPI row of one replication (column names as in :data:`KPI_COLUMNS`)."""
    w0, w1 = log.window
    inside = lambda x: (x >= w0) & (x < w1)  # noqa: E731
    started = inside(log.first_dose)
    n_started = int(started.sum())
    crs_any = (log.crs_grade > 0).any(axis=1)
    crs_g2 = (log.crs_grade >= 2).any(axis=1)
    crs_g3 = (log.crs_grade >= 3).any(axis=1)
    icans_any = (log.icans_grade > 0).any(axis=1)
    ward = np.asarray(log.unplanned_ward)
    icu = np.asarray(log.icu_admissions)
    board = np.asarray(log.icu_boarding).reshape(-1, 2)
    toci = np.asarray(log.toci).reshape(-1, 3)
    toci_in = inside(toci[:, 0])
    toci_doses = float(toci[toci_in, 1].sum())
    toci_mg = float((toci[toci_in, 1] * toci[toci_in, 2]).sum())
    row: dict[str, float] = {
        "replication": replication,
        "patients_referred": int(inside(log.referral).sum()),
        "patients_started": n_started,
        "patients_diverted": int(((log.status == DIVERTED) & inside(log.left_at)).sum()),
        **_dose_kpis(log, inside),
        "days_referral_to_first_dose_mean":
            float(np.mean((log.first_dose[started] - log.referral[started]) / HOURS_PER_DAY)) if n_started else 0.0,
        "crs_rate": _ratio((crs_any & started).sum(), n_started),
        "crs_grade2plus_rate": _ratio((crs_g2 & started).sum(), n_started),
        "crs_grade3plus_rate": _ratio((crs_g3 & started).sum(), n_started),
        "icans_rate": _ratio((icans_any & started).sum(), n_started),
        **_care_kpis(log, inside, started),
        "unplanned_ward_admissions": int(inside(ward).sum()),
        "icu_admissions": int(inside(icu).sum()),
        "icu_boarding_hours": float(board[inside(board[:, 0]), 1].sum()),
        "toci_doses": toci_doses,
        "toci_mg": toci_mg,
    }
    area = {r.name: step_area(log.pools[r.name][0], log.pools[r.name][1], w0, w1) for r in RESOURCES}
    others = other_bed_hours(log)
    row.update(_other_kpis(log, others, inside))
    # the programme's bed-days (and so its costs) leave out the other services' patients in the same beds;
    # utilisation and peaks (from ``area`` and the pools) count everyone
    for r in RESOURCES:
        if r.kind == "bed":
            row[r.use_kpi] = (area[r.name] - others.get(r.name, 0.0)) / HOURS_PER_DAY
    row["chair_hours"] = area["chairs"]
    row.update(pharmacy_kpis(log, s, inside))
    row.update(_graded_kpis(log))
    row["doses_held_for_stock"] = int(inside(np.asarray(log.held_for_stock)).sum())
    row.update(cost_kpis(row, s))
    row["cost_per_patient_started"] = _ratio(row["cost_total"], n_started)
    row.update(_resource_kpis(log, area, inside))
    return {k: row[k] for k in KPI_COLUMNS}


def other_bed_hours(log: RunLog) -> dict[str, float]:
    """Bed-hours inside the window that other services' admissions ([[other_admissions]]) occupied, by resource."""
    w0, w1 = log.window
    out: dict[str, float] = {}
    for resource, _, start, end in log.other_stays:
        if start == start:   # not NaN: the bed was taken
            stop = end if end == end else log.end_time
            out[resource] = out.get(resource, 0.0) + max(0.0, min(stop, w1) - max(start, w0))
    return out


def _other_kpis(log: RunLog, bed_hours: dict[str, float], inside) -> dict[str, float]:
    """Admissions from other services inside the window, their bed-days and their mean wait for a bed (an
    admission still waiting at the end counts the wait so far)."""
    stays = np.array([(a, s) for _, a, s, _ in log.other_stays], dtype=float).reshape(-1, 2)
    arrived = inside(stays[:, 0])
    waited = np.where(np.isnan(stays[:, 1]), log.end_time, stays[:, 1]) - stays[:, 0]
    return {"other_admissions": int(arrived.sum()),
            "other_bed_days": sum(bed_hours.values()) / HOURS_PER_DAY,
            "other_wait_hours_mean": float(waited[arrived].mean()) if arrived.any() else 0.0}


def _dose_kpis(log: RunLog, inside) -> dict[str, float]:
    """Doses given in the window, repeats after a restart of the step-up included, and those postponed."""
    given_in = inside(log.dose_time)
    repeats = np.asarray(log.repeated_doses, dtype=float).reshape(-1, 5)   # (time, patient, dose, place, postponed)
    repeats_in = inside(repeats[:, 0])
    restepped = int(repeats_in.sum())
    doses = int(given_in.sum()) + restepped
    postponed = int((given_in & (log.dose_postponed > 0)).sum()) + int((repeats_in & (repeats[:, 4] > 0)).sum())
    return {"doses_given": doses, "doses_restepped": restepped, "doses_postponed": postponed,
            "p_dose_postponed": _ratio(postponed, doses)}


def _care_kpis(log: RunLog, inside, started: np.ndarray) -> dict[str, float]:
    """Where toxicity was managed: patients given tocilizumab and hospitalised within 28 days of their first
    dose, visits (follow-up clinic visits too), onsets managed at home, planned stays prolonged and the
    bed-hours they added."""
    prolonged = np.asarray(log.prolonged_stays, dtype=float).reshape(-1, 2)
    hospitalised = hospitalised_within(log, HOSPITALISED_WITHIN_DAYS)
    return {
        "patients_given_toci": int((log.given_toci & started).sum()),
        "hospitalised_28d_rate": _ratio((hospitalised & started).sum(), started.sum()),
        "ed_visits": int(inside(np.asarray(log.ed_visits)).sum()),
        "urgent_care_visits": int(inside(np.asarray(log.urgent_care_visits)).sum()),
        "clinic_visits": int(inside(np.asarray(log.clinic_visits)).sum()),
        "toxicity_managed_at_home": int(inside(np.asarray(log.managed_at_home)).sum()),
        "stays_prolonged_by_toxicity": int(inside(prolonged[:, 0]).sum()),
        "prolonged_stay_bed_hours": float(prolonged[inside(prolonged[:, 0]), 1].sum()),
    }


def cost_kpis(row: dict[str, float], s: Scenario) -> dict[str, float]:
    """The cost breakdown (each resource's ``cost_field`` price x its ``use_kpi``, and tocilizumab), its
    sum ``cost_total``, and the chair revenue forgone, which is not part of it."""
    c = s.costs
    out = {r.cost_kpi: row[r.use_kpi] * getattr(c, r.cost_field).value for r in RESOURCES if r.cost_kpi}
    out["cost_tocilizumab"] = row["toci_cost"]
    out["cost_total"] = sum(out[k] for k in COST_BREAKDOWN)   # in this order, so every row adds up exactly
    out["chair_opportunity_cost"] = row["chair_hours"] * c.chair_opportunity_hour.value
    return out


def hospitalised_within(log: RunLog, days: float) -> np.ndarray:
    """Per patient: an ED visit, an unplanned ward or ICU admission, or a planned stay prolonged by
    toxicity, starting within ``days`` of the first dose (DeLLphi-300 Part F's "hospitalisation including
    ER visits"; an urgent-care visit or an onset managed at home is not one)."""
    out = np.zeros(log.n, dtype=bool)
    horizon = days * HOURS_PER_DAY
    first = log.first_dose
    for t, patient, setting, _kind, _grade in log.care:
        if setting in HOSPITALISATION_SETTINGS and first[patient] <= t < first[patient] + horizon:
            out[patient] = True
    return out


def _graded_kpis(log: RunLog) -> dict[str, int]:
    """ED visits and unplanned admissions in the window, by the grade of the toxicity (CRS or ICANS)
    that caused them."""
    w0, w1 = log.window
    setting_kpi = {"ed": "ed_visits", "ward": "unplanned_ward_admissions", "icu": "icu_admissions"}
    row = {f"{what}_grade{g}": 0 for what in GRADED_KPIS for g in TOXICITY_GRADES}
    for t, _, setting, _, grade in log.care:
        if w0 <= t < w1 and setting in setting_kpi:
            row[f"{setting_kpi[setting]}_grade{grade}"] += 1
    return row


def _resource_kpis(log: RunLog, area: dict[str, float], inside) -> dict[str, float]:
    """Utilisation, peak occupancy and mean wait of every resource over the window."""
    w0, w1 = log.window
    row: dict[str, float] = {}
    for r in RESOURCES:
        times, levels, wait_t, wait_h = log.pools[r.name]
        # chairs are only there while the centre is open; beds and bays around the clock
        available = {"opening": log.open_hours, "all": w1 - w0, "own": log.urgent_care_hours}[r.hours]
        row[f"util_{r.name}"] = _ratio(area[r.name], log.capacity[r.name] * available)
        row[f"peak_{r.name}"] = peak(times, levels, w0, w1)
        waits = np.asarray(wait_h)[inside(np.asarray(wait_t))]
        row[f"wait_{r.name}_hours_mean"] = float(np.mean(waits)) if waits.size else 0.0
    return row


def pharmacy_kpis(log: RunLog, s: Scenario, inside) -> dict[str, float]:
    """Tocilizumab stock KPIs over the window. Without a [pharmacy] section stock is unlimited:
    vials are not tracked and the cost is the mg given at the list price."""
    price = s.costs.tocilizumab_per_mg.value
    ph = log.pharmacy
    if ph is None:
        mg = float(sum(n * m for t, n, m in log.toci if inside(np.asarray(t))))
        zero = dict.fromkeys(("toci_vials_used_80", "toci_vials_used_200", "toci_vials_used_400",
                              "toci_vials_expired", "toci_mg_wasted", "toci_stockout_events",
                              "toci_doses_delayed", "toci_delay_hours_mean", "toci_on_hand_mean_mg",
                              "toci_orders", "p_stockout"), 0)
        return {**zero, "toci_mg_used": mg, "toci_cost": mg * price}
    used = np.asarray(ph.used, dtype=float).reshape(-1, 4)
    used = used[inside(used[:, 0])]
    disp = np.asarray(ph.dispensed, dtype=float).reshape(-1, 4)
    disp = disp[inside(disp[:, 0])]
    expired = np.asarray(ph.expired, dtype=float).reshape(-1, 3)
    expired = expired[inside(expired[:, 0])]
    delays = np.asarray(ph.delays, dtype=float).reshape(-1, 3)
    delays = delays[inside(delays[:, 0]) & (delays[:, 2] > 0)]   # patients' doses asked for in the window
    received = np.asarray(ph.received, dtype=float).reshape(-1, 4)
    received = received[inside(received[:, 0])]
    stockouts = int(inside(np.asarray(ph.stockouts)).sum())
    opened_mg = float(disp[:, 2].sum())
    expired_mg = float((expired[:, 1] * expired[:, 2]).sum())
    emergency_mg = float((received[received[:, 3] > 0, 1] * received[received[:, 3] > 0, 2]).sum())
    w0, w1 = log.window
    return {
        "toci_mg_used": float(disp[:, 1].sum()),
        **{f"toci_vials_used_{v}": int(used[used[:, 1] == v, 2].sum()) for v in (80, 200, 400)},
        "toci_vials_expired": int(expired[:, 2].sum()),
        "toci_mg_wasted": opened_mg - float(disp[:, 1].sum()),
        "toci_stockout_events": stockouts,
        "toci_doses_delayed": int(delays.shape[0]),
        "toci_delay_hours_mean": float(delays[:, 1].mean()) if delays.size else 0.0,
        "toci_on_hand_mean_mg": step_area(ph.on_hand_times, ph.on_hand_mg, w0, w1) / (w1 - w0),
        "toci_orders": int(inside(np.asarray([t for t, _ in ph.orders])).sum()),
        # vials opened or expired are paid for; emergency deliveries carry the surcharge
        "toci_cost": (opened_mg + expired_mg) * price + emergency_mg * price * s.pharmacy.emergency_surcharge.value,
        "p_stockout": 1.0 if stockouts else 0.0,
    }


