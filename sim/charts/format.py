"""How a KPI is named and written for a reader: label, unit, definition, and number formats."""

from __future__ import annotations

import datetime as _dt
import math
import re
from typing import NamedTuple

import pandas as pd

from sim.config.scenario import RESOURCES


class KpiInfo(NamedTuple):
    """How a KPI is shown: a label a planner reads, its unit, and how to format it."""

    label: str
    unit: str
    kind: str = "count"          # count | share | number | money | hours | days
    help: str = ""


_RES_SHORT = {"chairs": "chairs", "observation_beds": "observation beds", "ward_beds": "ward beds",
              "ed_bays": "ED bays", "icu_beds": "ICU beds"}


KPI_INFO: dict[str, KpiInfo] = {
    "patients_referred": KpiInfo("Patients referred", "patients", "count", "new referrals inside the statistics window"),
    "patients_started": KpiInfo("Patients started", "patients", "count", "first dose given inside the window"),
    "patients_diverted": KpiInfo("Patients referred elsewhere", "patients", "count",
                                 "not started within the maximum start delay"),
    "doses_given": KpiInfo("Doses given", "doses", "count"),
    "doses_postponed": KpiInfo("Doses postponed", "doses", "count", "given later than due for lack of a place"),
    "p_dose_postponed": KpiInfo("Doses postponed (no place)", "% of doses", "share",
                                "share of doses given later than due because no place could be booked"),
    "days_referral_to_first_dose_mean": KpiInfo("Referral to first dose", "days (mean)", "days",
                                                "includes the lead time before the earliest start"),
    "crs_rate": KpiInfo("Patients with CRS", "% of patients started", "share"),
    "crs_grade3plus_rate": KpiInfo("Patients with grade 3+ CRS", "% of patients started", "share"),
    "icans_rate": KpiInfo("Patients with ICANS", "% of patients started", "share"),
    "ed_visits": KpiInfo("ED visits", "visits", "count", "toxicity onsets at home that send the patient to the ED"),
    "unplanned_ward_admissions": KpiInfo("Unplanned ward admissions", "admissions", "count"),
    "icu_admissions": KpiInfo("ICU admissions", "admissions", "count"),
    "icu_bed_days": KpiInfo("ICU bed-days", "bed-days", "number"),
    "icu_boarding_hours": KpiInfo("Hours waiting for an ICU bed", "hours (total)", "hours",
                                  "time patients boarded in the ED or a ward while the ICU was full"),
    "ward_bed_days": KpiInfo("Ward bed-days", "bed-days", "number"),
    "observation_bed_days": KpiInfo("Observation bed-days", "bed-days", "number"),
    "chair_hours": KpiInfo("Infusion-chair hours", "chair-hours", "number"),
    "toci_doses": KpiInfo("Tocilizumab doses", "doses", "count", "treatment and prophylaxis doses"),
    "toci_mg": KpiInfo("Tocilizumab for BTCE patients", "mg", "number",
                       "mg prescribed to this service's patients (treatment and prophylaxis; vial waste not included)"),
    "toci_mg_used": KpiInfo("Tocilizumab dispensed, all services", "mg", "number",
                            "mg dispensed from the shared stock, background demand included"),
    "toci_vials_used_80": KpiInfo("Vials used: 80 mg", "vials", "count"),
    "toci_vials_used_200": KpiInfo("Vials used: 200 mg", "vials", "count"),
    "toci_vials_used_400": KpiInfo("Vials used: 400 mg", "vials", "count"),
    "toci_vials_expired": KpiInfo("Vials expired", "vials", "count"),
    "toci_mg_wasted": KpiInfo("Discarded from opened vials", "mg", "number"),
    "toci_stockout_events": KpiInfo("Stock-out events", "events", "count",
                                    "requests for a dose that the stock on hand could not cover"),
    "toci_doses_delayed": KpiInfo("Patient doses delayed by a stock-out", "doses", "count"),
    "toci_delay_hours_mean": KpiInfo("Mean delay of a delayed dose", "hours", "hours"),
    "toci_on_hand_mean_mg": KpiInfo("Mean stock on hand", "mg", "number"),
    "toci_orders": KpiInfo("Orders placed", "orders", "count"),
    "toci_cost": KpiInfo("Tocilizumab cost", "{currency}", "money", "vials opened or expired, with emergency surcharges"),
    "p_stockout": KpiInfo("Chance of a stock-out", "% of replications", "share",
                          "share of simulated years with at least one stock-out (Wilson 95% CI)"),
    "doses_held_for_stock": KpiInfo("Step-up doses held for want of stock", "doses", "count"),
    "cost_total": KpiInfo("Total cost", "{currency}", "money"),
    "cost_per_patient_started": KpiInfo("Cost per patient started", "{currency} per patient", "money"),
}


# Default KPI cards and comparison rows per audience (KPIs missing from a run are skipped).
for _r in RESOURCES:
    _avail = "opening hours" if _r == "chairs" else "all hours"
    KPI_INFO[f"util_{_r}"] = KpiInfo(f"Utilisation: {_RES_SHORT[_r]}", f"% of {_avail}", "share",
                                     f"time occupied over time available ({_avail})")
    KPI_INFO[f"peak_{_r}"] = KpiInfo(f"Peak occupancy: {_RES_SHORT[_r]}", "places", "count",
                                     "highest number in use at any instant")
    KPI_INFO[f"wait_{_r}_hours_mean"] = KpiInfo(f"Mean wait for {_RES_SHORT[_r]}", "hours", "hours",
                                                "mean wait of a request for a place")

# Hospital use split by the grade of the toxicity that caused it, for when the model records it
# (ed_visits_grade1 ... icu_admissions_grade4); hospital_use_frame uses them as soon as they exist.
for _col, _label in (("ed_visits", "ED visits"), ("unplanned_ward_admissions", "Unplanned ward admissions"),
                     ("icu_admissions", "ICU admissions")):
    for _g in range(1, 5):
        KPI_INFO[f"{_col}_grade{_g}"] = KpiInfo(f"{_label} after grade {_g} toxicity", KPI_INFO[_col].unit, "count")

CAPACITY_KPIS = ("p_dose_postponed", "days_referral_to_first_dose_mean", "patients_started", "patients_diverted",
                 "util_observation_beds", "util_chairs", "util_ward_beds", "util_icu_beds",
                 "observation_bed_days", "ward_bed_days", "icu_boarding_hours", "cost_per_patient_started")


TOCI_KPIS = ("p_stockout", "toci_doses_delayed", "toci_delay_hours_mean", "toci_on_hand_mean_mg",
             "toci_vials_expired", "toci_cost", "toci_doses", "toci_mg", "toci_mg_used", "toci_mg_wasted",
             "toci_orders", "doses_held_for_stock")


COMPARE_KPIS = ("ed_visits", "unplanned_ward_admissions", "icu_admissions", "icu_bed_days", "ward_bed_days",
                "observation_bed_days", "chair_hours", "p_dose_postponed", "days_referral_to_first_dose_mean",
                "crs_rate", "toci_mg", "cost_per_patient_started")


HOSPITAL_USE = (("ed_visits", "ED visits"), ("unplanned_ward_admissions", "Unplanned ward admissions"),
                ("icu_admissions", "ICU admissions"))


def kpi_info(kpi: str, currency: str = "USD") -> KpiInfo:
    """Label, unit and kind of a KPI; a KPI not in the catalogue gets a readable label from its name.

    Parameters
    ----------
    kpi : str
        Column name in the KPI frame.
    currency : str
        Replaces ``{currency}`` in money units.

    Returns
    -------
    KpiInfo
    """
    info = KPI_INFO.get(kpi)
    if info is None:
        kind = "share" if kpi.startswith("p_") or kpi.endswith("_rate") else "number"
        label = kpi.replace("_", " ")
        info = KpiInfo(label[:1].upper() + label[1:], "% " if kind == "share" else "", kind)
    return info._replace(unit=info.unit.replace("{currency}", currency))


def format_value(kpi: str, value: float, currency: str = "USD") -> str:
    """A KPI value as a planner reads it: shares in %, money and counts with thousands separators."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    kind = kpi_info(kpi, currency).kind
    if kind == "count" and float(value).is_integer():
        return f"{value:,.0f}"
    if kind == "share":
        return f"{100 * value:.1f}%" if abs(value) >= 0.001 or value == 0 else f"{100 * value:.2f}%"
    if kind == "money":
        return f"{value:,.0f}"
    a = abs(value)
    if a >= 100:
        return f"{value:,.0f}"
    if a >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def format_ci(kpi: str, low: float, high: float, currency: str = "USD") -> str:
    """"a to b" for a 95% CI. Every KPI is a count, share, time or cost, never negative, so a t-interval
    reaching below 0 (few replications, rare events) is shown from 0."""
    if low != low:
        return "n/a"
    return f"{format_value(kpi, max(low, 0.0), currency)} to {format_value(kpi, high, currency)}"


def summary_table(summary: pd.DataFrame, currency: str = "USD") -> pd.DataFrame:
    """The :func:`sim.stats.summary` frame with labels, units and formatted mean and 95% CI."""
    rows = []
    for r in summary.itertuples(index=False):
        info = kpi_info(r.kpi, currency)
        ci = format_ci(r.kpi, r.ci_low, r.ci_high, currency)
        rows.append({"KPI": info.label, "unit": info.unit, "mean": format_value(r.kpi, r.mean, currency),
                     "95% CI": ci, "replications": int(r.n), "column": r.kpi})
    return pd.DataFrame(rows, columns=["KPI", "unit", "mean", "95% CI", "replications", "column"])


def stamped(stem: str, ext: str, when: _dt.date | None = None) -> str:
    """A date-stamped, filesystem-safe file name such as ``tarlatamab_outpatient_kpis_2026-11-22.csv``."""
    when = when or _dt.date.today()
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", stem).strip("_") or "run"
    return f"{safe}_{when.isoformat()}.{ext.lstrip('.')}"
