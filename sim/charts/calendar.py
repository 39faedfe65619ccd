"""The dosing calendar of sample patients, as a table and as a Gantt chart."""

from __future__ import annotations

import math

import altair as alt
import numpy as np
import pandas as pd

from sim import cohort as _cohort
from sim import model as _model
from sim.charts.style import HOURS_PER_WEEK, PLACE_COLORS, PLACE_LABELS, _padded, _title
from sim.config.scenario import Scenario, dose_requirements
from sim.model.runlog import PLACE_NAMES


def dosing_calendar(scenario: Scenario, replication: int = 0, patients: int = 12, weeks: int = 10) -> pd.DataFrame:
    """Doses and monitoring stays of the first patients who start after warm-up, for a Gantt chart.

    Runs one replication in this process (``sim.cohort.draw`` then ``sim.model.simulate``). A stay
    starts with premedication (and prophylactic tocilizumab) and lasts the monitoring the strategy
    assigns; the place, the dose time and any CRS/ICANS after the dose come from the run log. Stays
    forced by toxicity (ED, unplanned ward or ICU) are not drawn: the log does not record them per
    patient.

    Parameters
    ----------
    scenario : Scenario
    replication : int
        Which replication to draw the patients from.
    patients : int
        How many patients to show.
    weeks : int
        How many weeks after each patient's referral to show.

    Returns
    -------
    DataFrame
        One row per event: patient, event ("referral" or "dose"), dose, place, start_day and end_day of
        the stay, dose_day (infusion start), hours, crs_grade, icans_grade, postponed_days. Days count
        from the end of warm-up.
    """
    cohort = _cohort.draw(scenario, replication)
    log = _model.simulate(scenario, cohort)
    w0 = log.window[0]
    started = np.flatnonzero(np.isfinite(log.first_dose) & (log.first_dose >= w0))
    chosen = started[np.argsort(log.first_dose[started], kind="stable")][:patients]
    drug, strat = scenario.drug, scenario.strategy
    req = dose_requirements(drug, log.max_doses)
    after_hours = max([r.next_dose_monitor_hours.value for r in drug.management.crs + drug.management.icans] + [0.0])
    rows = []
    for rank, i in enumerate(chosen, start=1):
        label = f"Patient {rank}" + (" (high risk)" if cohort.high_risk[i] else "")
        ref = float(log.referral[i])
        rows.append({"patient": label, "event": "referral", "dose": 0, "place": "referral",
                     "start_day": (ref - w0) / 24.0, "end_day": (ref - w0) / 24.0, "dose_day": math.nan, "hours": 0.0,
                     "crs_grade": 0, "icans_grade": 0, "postponed_days": 0})
        until = ref + weeks * HOURS_PER_WEEK
        for k in range(min(log.max_doses, len(req))):
            t = float(log.dose_time[i, k])
            if not math.isfinite(t) or t > until:
                break
            place = PLACE_NAMES.get(int(log.dose_place[i, k]), "clinic")
            # A dose after a toxicity that asks for longer monitoring: the strategy's after-toxicity rule
            prev_tox = k > 0 and (log.crs_grade[i, k - 1] > 0 or log.icans_grade[i, k - 1] > 0)
            required = req[k][1]
            after = bool(prev_tox and after_hours > required)
            _p, hours = strat.place_for(k + 1, after_hours if after else required, bool(cohort.high_risk[i]),
                                        bool(cohort.eligible[i]), after)
            pro = strat.gives_prophylaxis(k + 1, bool(cohort.high_risk[i]))
            premed, infusion = _chair_times(drug, req[k])
            pre = premed + (strat.prophylaxis.chair_hours.value if pro else 0.0)
            stay = infusion if place == "home" else max(hours, infusion)
            start = t - pre
            rows.append({"patient": label, "event": "dose", "dose": k + 1, "place": place,
                         "start_day": (start - w0) / 24.0, "end_day": (start + pre + stay - w0) / 24.0,
                         "dose_day": (t - w0) / 24.0,
                         "hours": pre + stay, "crs_grade": int(log.crs_grade[i, k]),
                         "icans_grade": int(log.icans_grade[i, k]),
                         "postponed_days": int(log.dose_postponed[i, k])})
    frame = pd.DataFrame(rows, columns=["patient", "event", "dose", "place", "start_day", "end_day", "dose_day",
                                        "hours", "crs_grade", "icans_grade", "postponed_days"])
    return frame


def _chair_times(drug, requirement: tuple) -> tuple[float, float]:
    """(hours before the infusion starts, infusion and hydration hours) of one dose, as the model plans it."""
    block = drug.schedule[requirement[0]]
    if hasattr(drug, "chair_times"):
        return drug.chair_times(block)
    ch = drug.chair  # drug profiles without per-block chair times
    return ch.premedication_hours.value, ch.infusion_hours.value + (ch.hydration_hours.value if requirement[2] else 0.0)


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
        layers.append(alt.Chart(refs).mark_point(filled=True, color="#7f7f7f", size=40).encode(
            x="start_day:Q", y=y, tooltip=[alt.Tooltip("patient:N"),
                                           alt.Tooltip("start_day:Q", title="Referred on day", format=".1f")]))
    if len(tox):
        layers.append(alt.Chart(tox).mark_point(shape="triangle-up", filled=True, color="#67000d", size=70,
                                                yOffset=-9).encode(
            x="start_day:Q", y=y, tooltip=[alt.Tooltip("patient:N"), alt.Tooltip("dose:Q"),
                                           alt.Tooltip("what:N", title="After this dose")]))
    n = max(1, len(order))
    return alt.layer(*layers).properties(
        width=680, height=26 * n,
        title=_title("Dosing calendar of a sample of patients", "grey dot: referral; tick: dose; bar: monitoring stay; red triangle: CRS or ICANS after the dose"))
