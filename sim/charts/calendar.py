"""The dosing calendar of sample patients, as a table and as a Gantt chart."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from sim.charts.style import ALERT, FULL_WIDTH, NEUTRAL, PLACE_COLORS, PLACE_LABELS, _padded, _title
from sim.config.units import HOURS_PER_WEEK
from sim.metrics.series import CALENDAR_PATIENTS

COLUMNS = ["patient", "event", "dose", "place", "start_day", "end_day", "dose_day", "hours", "crs_grade",
           "icans_grade", "postponed_days"]


def dosing_calendar(doses: np.ndarray | None, patients: int = CALENDAR_PATIENTS, weeks: int = 10) -> pd.DataFrame:
    """Doses and monitoring stays of the first patients who start after warm-up, for a Gantt chart.

    Built from the doses the model gave, as :func:`sim.metrics.series.dose_calendar` keeps them for
    one replication (a run with ``extract=collect`` holds them in ``RunView.dose_calendar``, from
    replication 0): nothing is simulated again. A stay starts with premedication (and prophylactic
    tocilizumab) and lasts the monitoring the dose plan assigned. Stays forced by toxicity (ED,
    unplanned ward or ICU) are not drawn.

    Parameters
    ----------
    doses : ndarray or None
        The table of :func:`~sim.metrics.series.dose_calendar`; None gives an empty frame.
    patients : int
        How many patients to show (at most :data:`~sim.metrics.series.CALENDAR_PATIENTS`).
    weeks : int
        How many weeks after each patient's referral to show (at most
        :data:`~sim.metrics.series.CALENDAR_WEEKS`).

    Returns
    -------
    DataFrame
        One row per event: patient, event ("referral" or "dose"), dose, place, start_day and end_day of
        the stay, dose_day (infusion start), hours, crs_grade, icans_grade, postponed_days. Days count
        from the end of warm-up.
    """
    if doses is None or not len(doses):
        return pd.DataFrame(columns=COLUMNS)
    d = pd.DataFrame(doses[doses["patient"] <= patients])
    d["patient"] = "Patient " + d["patient"].astype(str) + np.where(d["high_risk"], " (high risk)", "")
    refs = d.drop_duplicates("patient").assign(event="referral", dose=0, place="referral", stay_start=d["referral"],
                                               stay_end=d["referral"], dose_time=np.nan, crs_grade=0, icans_grade=0,
                                               postponed_days=0)
    d = d[d["dose_time"] <= d["referral"] + weeks * HOURS_PER_WEEK].assign(event="dose")
    frame = pd.concat([refs, d]).sort_index(kind="stable")   # per patient: referral, then its doses
    frame = frame.assign(start_day=frame["stay_start"] / 24.0, end_day=frame["stay_end"] / 24.0,
                         dose_day=frame["dose_time"] / 24.0, hours=frame["stay_end"] - frame["stay_start"])
    return frame[COLUMNS].reset_index(drop=True).astype({"dose": int, "crs_grade": int, "icans_grade": int,
                                                         "postponed_days": int})


@_padded
def dosing_gantt(frame: pd.DataFrame) -> alt.Chart:
    """Gantt chart: a row per patient, a bar per monitoring stay coloured by place, ticks at dose starts,
    a grey dot at referral and red triangles where CRS or ICANS followed a dose."""
    order = list(dict.fromkeys(frame["patient"]))
    doses = frame[frame["event"] == "dose"].assign(place_label=lambda d: d["place"].map(PLACE_LABELS))
    refs = frame[frame["event"] == "referral"]
    tox = doses[(doses["crs_grade"] > 0) | (doses["icans_grade"] > 0)].assign(
        what=lambda d: np.where(d["crs_grade"] > 0, "CRS grade " + d["crs_grade"].astype(str), "")
        + np.where((d["crs_grade"] > 0) & (d["icans_grade"] > 0), ", ", "")
        + np.where(d["icans_grade"] > 0, "ICANS grade " + d["icans_grade"].astype(str), ""))
    y = alt.Y("patient:N", sort=order, title=None, axis=alt.Axis(labelLimit=220))
    x_title = "Day (0 = end of warm-up, a Monday)"
    places = [p for p in PLACE_LABELS if p in set(doses["place"])] or list(PLACE_LABELS)
    color = alt.Color("place_label:N", title="Monitored in", legend=alt.Legend(labelLimit=320, orient="bottom"),
                      scale=alt.Scale(domain=[PLACE_LABELS[p] for p in places],
                                      range=[PLACE_COLORS[p] for p in places]))
    tip = [alt.Tooltip("patient:N"), alt.Tooltip("dose:Q"), alt.Tooltip("place_label:N", title="Place"),
           alt.Tooltip("start_day:Q", title="Day", format=".2f"), alt.Tooltip("hours:Q", title="Stay (h)", format=".1f"),
           alt.Tooltip("postponed_days:Q", title="Days postponed"),
           alt.Tooltip("crs_grade:Q", title="CRS grade"), alt.Tooltip("icans_grade:Q", title="ICANS grade")]
    bars = alt.Chart(doses).mark_bar(height=12).encode(x=alt.X("start_day:Q", title=x_title), x2="end_day:Q",
                                                       y=y, color=color, tooltip=tip)
    ticks = alt.Chart(doses).mark_tick(thickness=2, size=16).encode(x="start_day:Q", y=y, color=color, tooltip=tip)
    layers = [bars, ticks]
    if len(refs):
        layers.append(alt.Chart(refs).mark_point(filled=True, color=NEUTRAL, size=40).encode(
            x="start_day:Q", y=y, tooltip=[alt.Tooltip("patient:N"),
                                           alt.Tooltip("start_day:Q", title="Referred on day", format=".1f")]))
    if len(tox):
        layers.append(alt.Chart(tox).mark_point(shape="triangle-up", filled=True, color=ALERT, size=70,
                                                yOffset=-9).encode(
            x="start_day:Q", y=y, tooltip=[alt.Tooltip("patient:N"), alt.Tooltip("dose:Q"),
                                           alt.Tooltip("what:N", title="After this dose")]))
    n = max(1, len(order))
    return alt.layer(*layers).properties(
        width=FULL_WIDTH, height=26 * n,
        title=_title("Dosing calendar of a sample of patients", "grey dot: referral; tick: dose; bar: monitoring stay; red triangle: CRS or ICANS after the dose"))
