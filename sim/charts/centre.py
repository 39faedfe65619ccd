"""A centre's charts and tables: each programme's service level, and who uses the beds (occupancy stacked
by programme and other services against the capacity)."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd

from sim.charts.style import ALERT, FULL_WIDTH, NEUTRAL, OKABE_ITO, RESOURCE_LABELS, _padded, _title
from sim.config.registry import RESOURCE_NAMES
from sim.config.units import DAYS_PER_WEEK
from sim.metrics import formats as fmt

# The service level each programme's row shows, in this order (RunResult.programme_summary's KPIs).
PROGRAMME_KPIS = ("patients_started", "doses_given", "doses_postponed", "p_dose_postponed", "ed_visits",
                  "ward_bed_days", "observation_bed_days", "cost_per_patient_started")
# Programmes take the Okabe-Ito colours in this order (the darkest first, yellow and black last); other
# services are grey, as context.
PROGRAMME_COLORS = tuple(OKABE_ITO[c] for c in ("blue", "orange", "bluish_green", "reddish_purple", "sky_blue",
                                                 "vermillion", "yellow", "black"))
OTHER_SERVICES = "other services"


def programme_table(summary: pd.DataFrame, currency: str = "USD") -> pd.DataFrame:
    """One row per programme: its mean of each of :data:`PROGRAMME_KPIS`, formatted, and the 95% CI of
    its share of doses postponed.

    Parameters
    ----------
    summary : DataFrame
        ``RunResult.programme_summary()``: programme, kpi, mean, sd, ci_low, ci_high, n.
    currency : str
        The scenario's cost currency.

    Returns
    -------
    DataFrame
        Programme, then one column per KPI labelled with its unit, "Doses postponed, 95% CI" after the share,
        and Replications; programmes in the summary's order.
    """
    rows = []
    for name, got in summary.groupby("programme", sort=False):
        by_kpi = got.set_index("kpi")
        row = {"Programme": name}
        for kpi in PROGRAMME_KPIS:
            if kpi not in by_kpi.index:
                continue
            r = by_kpi.loc[kpi]
            row[_header(kpi, currency)] = fmt.format_value(kpi, r["mean"], currency)
            if kpi == "p_dose_postponed":
                row["Doses postponed, 95% CI"] = fmt.format_ci(kpi, r["ci_low"], r["ci_high"], currency)
        row["Replications"] = int(got["n"].max())
        rows.append(row)
    return pd.DataFrame(rows)


def _header(kpi: str, currency: str) -> str:
    """A column's header: the KPI's label, with its unit where the label does not say it (a share, money)."""
    info = fmt.kpi_info(kpi, currency)
    return f"{info.label}, {info.unit}" if info.kind in ("share", "money") else info.label


def users_frame(occupancy: np.ndarray, users: Sequence[str], resource: str) -> pd.DataFrame:
    """Weekly mean occupancy of one resource by user, averaged over replications.

    Parameters
    ----------
    occupancy : ndarray
        ``RunResult.occupancy_by_programme``, (replications, users, days, resources), or its mean over the
        replications, (users, days, resources); resources in :data:`sim.config.registry.RESOURCE_NAMES` order.
    users : sequence of str
        The users' names (``sim.metrics.user_names``): the programmes, then other services.
    resource : str
        A resource name, e.g. ``"ward_beds"``.

    Returns
    -------
    DataFrame
        week (1 = the statistics window's first whole week), user, order (the user's place in ``users``),
        occupancy (mean places in use that week). A last part-week is left out.
    """
    occ = np.asarray(occupancy, dtype=float)
    if occ.ndim == 4:
        occ = occ.mean(axis=0)
    if occ.ndim != 3 or occ.shape[0] != len(users) or occ.shape[2] != len(RESOURCE_NAMES):
        raise ValueError(f"occupancy has shape {np.shape(occupancy)}; expected (users={len(users)}, days, "
                         f"resources={len(RESOURCE_NAMES)}), optionally after a replications axis")
    if resource not in RESOURCE_NAMES:
        raise ValueError(f"resource = {resource!r}; allowed: {', '.join(RESOURCE_NAMES)}")
    daily = occ[:, :, RESOURCE_NAMES.index(resource)]
    weeks = daily.shape[1] // DAYS_PER_WEEK
    weekly = daily[:, :weeks * DAYS_PER_WEEK].reshape(len(users), weeks, DAYS_PER_WEEK).mean(axis=2)
    return pd.DataFrame({"week": np.tile(np.arange(1, weeks + 1), len(users)),
                         "user": np.repeat(list(users), weeks),
                         "order": np.repeat(np.arange(len(users)), weeks),
                         "occupancy": weekly.ravel()})


def user_colours(users: Sequence[str]) -> list[str]:
    """A colour per user: the programmes' from :data:`PROGRAMME_COLORS` in turn, other services grey."""
    out, k = [], 0
    for u in users:
        if u == OTHER_SERVICES:
            out.append(NEUTRAL)
        else:
            out.append(PROGRAMME_COLORS[k % len(PROGRAMME_COLORS)])
            k += 1
    return out


@_padded
def users_chart(frame: pd.DataFrame, resource: str, capacity: int) -> alt.LayerChart:
    """Who uses one resource: weekly mean occupancy stacked by programme and other services, with the
    resource's capacity as a dashed red rule.

    Parameters
    ----------
    frame : DataFrame
        :func:`users_frame`'s.
    resource : str
        The resource's name (its label titles the chart).
    capacity : int
        Its places.
    """
    users = list(dict.fromkeys(frame["user"]))
    label = RESOURCE_LABELS.get(resource, resource)
    area = alt.Chart(frame).mark_area().encode(
        x=alt.X("week:Q", title="Week of the year (statistics window)", axis=alt.Axis(tickMinStep=1)),
        y=alt.Y("occupancy:Q", title=f"{label}: mean in use", stack="zero"),
        color=alt.Color("user:N", title="Used by", sort=users, legend=alt.Legend(orient="bottom"),
                        scale=alt.Scale(domain=users, range=user_colours(users))),
        order=alt.Order("order:Q"),
        tooltip=[alt.Tooltip("user:N", title="Used by"), alt.Tooltip("week:Q", title="Week"),
                 alt.Tooltip("occupancy:Q", title="Mean in use", format=".2f")],
    )
    cap = alt.Chart(pd.DataFrame({"capacity": [capacity]})).mark_rule(color=ALERT, strokeDash=[4, 3], size=2).encode(
        y="capacity:Q", tooltip=[alt.Tooltip("capacity:Q", title="Capacity")])
    return alt.layer(area, cap).properties(
        width=FULL_WIDTH, height=220,
        title=_title(f"Who uses the {label.lower()}", "weekly mean in use by programme, averaged over replications; "
                     "dashed red line: capacity"))
