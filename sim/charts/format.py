"""How a KPI is named and written for a reader: label, unit, definition, and number formats."""

from __future__ import annotations

import datetime as _dt
import math
import re
from typing import NamedTuple

import pandas as pd

from sim.config import registry


class KpiInfo(NamedTuple):
    """How a KPI is shown: a label a planner reads, its unit, and how to format it."""

    label: str
    unit: str
    kind: str = "count"          # count | share | number | money | hours | days
    help: str = ""


# Every KPI of kpis.csv, as sim.config.registry declares it.
KPI_INFO: dict[str, KpiInfo] = {k.name: KpiInfo(k.label, k.unit, k.kind, k.help) for k in registry.KPIS}


# Default KPI cards and comparison rows per audience (KPIs missing from a run are skipped).
CAPACITY_KPIS = ("p_dose_postponed", "days_referral_to_first_dose_mean", "patients_started", "patients_diverted",
                 "util_observation_beds", "util_chairs", "util_ward_beds", "util_icu_beds",
                 "observation_bed_days", "ward_bed_days", "icu_boarding_hours", "cost_per_patient_started")


TOCI_KPIS = ("p_stockout", "toci_doses_delayed", "toci_delay_hours_mean", "toci_on_hand_mean_mg",
             "toci_vials_expired", "toci_cost", "toci_doses", "toci_mg", "toci_mg_used", "toci_mg_wasted",
             "toci_orders", "doses_held_for_stock")


COMPARE_KPIS = ("ed_visits", "unplanned_ward_admissions", "icu_admissions", "icu_bed_days", "ward_bed_days",
                "observation_bed_days", "chair_hours", "p_dose_postponed", "days_referral_to_first_dose_mean",
                "crs_rate", "toci_mg", "cost_per_patient_started")


# Hospital use that the KPI row also splits by toxicity grade, with its label.
HOSPITAL_USE = tuple((k, KPI_INFO[k].label) for k in registry.GRADED_KPIS)


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
