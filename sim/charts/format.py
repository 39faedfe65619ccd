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


def comparison_table(diffs: pd.DataFrame, base: str, other: str, currency: str = "USD") -> pd.DataFrame:
    """Paired differences (:func:`sim.analysis.compare.paired_differences`) as a reader sees them: each
    value in its KPI's unit, the difference of shares in percentage points, every cell text.

    Parameters
    ----------
    diffs : DataFrame
        One row per KPI: kpi, base_mean, other_mean, diff_mean, diff_ci_low, diff_ci_high, excludes_zero.
    base, other : str
        Column titles of the two strategies' means, e.g. "A: tarlatamab_inpatient".
    currency : str
        The scenarios' currency.
    """
    k = list(diffs["kpi"])
    return pd.DataFrame({
        "Measure": [fmt.kpi_info(x, currency).label for x in k],
        "Unit": [fmt.kpi_info(x, currency).unit for x in k],
        base: [fmt.format_value(x, v, currency) for x, v in zip(k, diffs["base_mean"])],
        other: [fmt.format_value(x, v, currency) for x, v in zip(k, diffs["other_mean"])],
        "Difference": [fmt.format_diff(x, v, currency) for x, v in zip(k, diffs["diff_mean"])],
        "95% CI of the difference": [fmt.format_diff_ci(x, lo, hi, currency)
                                     for x, lo, hi in zip(k, diffs["diff_ci_low"], diffs["diff_ci_high"])],
        "CI excludes 0": ["yes" if x else "no" for x in diffs["excludes_zero"]],
    })


def comparison_csv(diffs: pd.DataFrame, base: str, other: str, currency: str = "USD") -> str:
    """The comparison as CSV for a spreadsheet: numbers in the unit a column header names (shares in %,
    differences of shares in percentage points), never in scientific notation; ``kpi`` keeps the column
    name of kpis.csv."""
    k = list(diffs["kpi"])
    frame = pd.DataFrame({
        "kpi": k,
        "measure": [fmt.kpi_info(x, currency).label for x in k],
        "unit of the means": [fmt.kpi_info(x, currency).unit for x in k],
        f"{base} (mean, in unit of the means)": [fmt.in_shown_unit(x, v) for x, v in zip(k, diffs["base_mean"])],
        f"{other} (mean, in unit of the means)": [fmt.in_shown_unit(x, v) for x, v in zip(k, diffs["other_mean"])],
        "unit of the difference": [fmt.diff_unit(x, currency) for x in k],
        "difference (in unit of the difference)": [fmt.in_shown_unit(x, v) for x, v in zip(k, diffs["diff_mean"])],
        "95% CI low (in unit of the difference)": [fmt.in_shown_unit(x, v) for x, v in zip(k, diffs["diff_ci_low"])],
        "95% CI high (in unit of the difference)": [fmt.in_shown_unit(x, v) for x, v in zip(k, diffs["diff_ci_high"])],
        "CI excludes 0": ["yes" if x else "no" for x in diffs["excludes_zero"]],
    })
    return frame.to_csv(index=False)


def stamped(stem: str, ext: str, when: _dt.date | None = None) -> str:
    """A date-stamped, filesystem-safe file name such as ``tarlatamab_outpatient_kpis_2026-11-22.csv``."""
    when = when or _dt.date.today()
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", stem).strip("_") or "run"
    return f"{safe}_{when.isoformat()}.{ext.lstrip('.')}"
