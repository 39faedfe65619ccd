"""How a KPI is named and written for a reader: the audiences' KPI lists and the tables a reader sees.

The number formats themselves are :mod:`sim.metrics.formats` (the command line uses them too, without
Altair); :mod:`sim.charts` offers them with these tables.
"""

from __future__ import annotations

import datetime as _dt
import re

import pandas as pd

from sim.config import registry
from sim.metrics import formats as fmt

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
HOSPITAL_USE = tuple((k, fmt.KPI_INFO[k].label) for k in registry.GRADED_KPIS)


def summary_table(summary: pd.DataFrame, currency: str = "USD") -> pd.DataFrame:
    """The :func:`sim.stats.summary` frame with labels, units and formatted mean and 95% CI."""
    rows = []
    for r in summary.itertuples(index=False):
        info = fmt.kpi_info(r.kpi, currency)
        ci = fmt.format_ci(r.kpi, r.ci_low, r.ci_high, currency)
        rows.append({"KPI": info.label, "unit": info.unit, "mean": fmt.format_value(r.kpi, r.mean, currency),
                     "95% CI": ci, "replications": int(r.n), "column": r.kpi})
    return pd.DataFrame(rows, columns=["KPI", "unit", "mean", "95% CI", "replications", "column"])


def stamped(stem: str, ext: str, when: _dt.date | None = None) -> str:
    """A date-stamped, filesystem-safe file name such as ``tarlatamab_outpatient_kpis_2026-11-22.csv``."""
    when = when or _dt.date.today()
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", stem).strip("_") or "run"
    return f"{safe}_{when.isoformat()}.{ext.lstrip('.')}"
