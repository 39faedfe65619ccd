"""Chart data and chart builders (sim/charts/): the numbers behind every chart, checked against the
run log and the KPIs they must agree with, and every chart a valid Vega-Lite spec."""

from __future__ import annotations

import io
import math
import re
from types import SimpleNamespace

import altair as alt
import numpy as np
import pandas as pd
import pytest

import sim
from sim import charts, cohort, metrics, model
from sim.analysis import runner, stats, views
from sim.analysis.compare import compare, judge
from sim.analysis.stats import wilson
from sim.config import registry
from sim.config.scenario import RESOURCES
from sim.metrics import series
from sim.model.runlog import PLACE_NAMES
from tests.conftest import ROOT, load

FAST = ("run.warmup_weeks=4", "run.horizon_weeks=8", "run.follow_up_weeks=2")


@pytest.fixture(scope="module")
def fast():
    return load("tarlatamab_outpatient.toml", *FAST)


@pytest.fixture(scope="module")
def one_log(fast):
    return model.simulate(fast, cohort.draw(fast, 0))


@pytest.fixture(scope="module")
def view(fast):
    result = runner.run(fast, 4, executor="serial", extract=series.collect)
    return views.view_from_result(result, 1.0)


# --------------------------------------------------------------------------- collect: agrees with the KPIs

def test_collect_daily_peaks_reach_the_kpi_peak_and_never_exceed_capacity(fast, one_log):
    got = series.collect(one_log, fast)
    row = metrics.summarise(one_log, fast, 0)
    peaks = got["daily_peak"]
    assert peaks.shape == (8 * 7, len(RESOURCES))
    for j, r in enumerate(RESOURCES):
        assert peaks[:, j].max() == row[f"peak_{r}"]
        assert peaks[:, j].max() <= getattr(fast.capacity, r)


def test_collect_hour_of_week_mean_is_the_utilisation_of_beds(fast, one_log):
    got = series.collect(one_log, fast)
    row = metrics.summarise(one_log, fast, 0)
    how = got["hour_of_week"]
    assert how.shape == (168, len(RESOURCES))
    # the window is whole weeks, so the mean of the hour-of-week means is the mean occupancy
    for j, r in enumerate(RESOURCES):
        if registry.resource(r).hours != "all":
            continue  # chair and urgent-care utilisation is over their opening hours only
        assert how[:, j].mean() / getattr(fast.capacity, r) == pytest.approx(row[f"util_{r}"], rel=1e-4, abs=1e-6)
    chairs = how[:, 0].reshape(7, 24)
    assert chairs[:, :8].max() == 0 and chairs[5:].max() == 0  # closed at night and at the weekend


def test_collect_weekly_tocilizumab_adds_up_to_the_kpis(fast, one_log):
    got = series.collect(one_log, fast)
    row = metrics.summarise(one_log, fast, 0)
    assert got["toci_week"].shape == (8, 2)
    assert got["toci_week"][:, 0].sum() == pytest.approx(row["toci_doses"])
    assert got["toci_week"][:, 1].sum() == pytest.approx(row["toci_mg"])


def test_collect_grades_count_the_events_after_doses_in_the_window(fast, one_log):
    got = series.collect(one_log, fast)
    w0, w1 = one_log.window
    given = (one_log.dose_time >= w0) & (one_log.dose_time < w1)
    assert got["grades"][0].sum() == int(((one_log.crs_grade > 0) & given).sum())
    assert got["grades"][1].sum() == int(((one_log.icans_grade > 0) & given).sum())
    assert got["grades"][0].sum() > 0  # tarlatamab: CRS in over half the patients


def test_collect_stock_series_when_the_pharmacy_is_modelled(fast, one_log):
    got = series.collect(one_log, fast)
    if one_log.pharmacy is None:
        pytest.skip("scenario without a pharmacy")
    row = metrics.summarise(one_log, fast, 0)
    assert got["on_hand_daily"].shape == (56,)
    assert (got["on_hand_daily"] >= 0).all()
    assert got["stockout_daily"].sum() == row["toci_stockout_events"]


def test_daily_extreme_of_a_hand_made_step_function():
    times, levels = [0.0, 5.0, 30.0, 50.0], [0, 2, 1, 3]
    assert series._daily_extreme(times, levels, 0.0, 3, high=True).tolist() == [2, 2, 3]
    assert series._daily_extreme(times, levels, 0.0, 3, high=False).tolist() == [0, 1, 1]
    # a window starting after the last change: the level in force all along
    assert series._daily_extreme(times, levels, 100.0, 2, high=True).tolist() == [3, 3]


# --------------------------------------------------------------------------- RunView

def test_view_from_result_folds_every_replication(view, fast):
    assert view.reps == 4 and len(view.kpis) == 4
    assert view.daily_peak.shape == (4, 56, len(RESOURCES)) and view.peaks_exact
    assert view.toci_week.shape == (4, 8, 2) and view.grades.shape == (4, 2, 4)
    assert set(view.summary["kpi"]) == set(view.kpis.columns) - {"replication"}


def test_view_from_occupancy_when_the_runner_has_no_extract(fast):
    result = runner.run(fast, 2, executor="serial", keep_occupancy=True)
    bare = SimpleNamespace(scenario=result.scenario, seed=result.seed, kpis=result.kpis,
                           occupancy=result.occupancy, extras=None)
    v = views.view_from_result(bare)
    assert not v.peaks_exact and v.toci_week is None and v.grades is None
    hourly_peak = np.ceil(result.occupancy.max(axis=1) - 1e-9)
    assert np.array_equal(v.daily_peak.max(axis=1), hourly_peak)
    with pytest.raises(ValueError, match="neither"):
        views.view_from_result(SimpleNamespace(scenario=fast, seed=1, kpis=result.kpis, occupancy=None, extras=None))


def test_binary_kpi_gets_a_wilson_interval():
    kpis = pd.DataFrame({"replication": range(10), "p_stockout": [1.0] * 3 + [0.0] * 7, "toci_mg": range(10)})
    s = stats.summary(kpis).set_index("kpi")
    lo, hi = wilson(3, 10)
    assert s.loc["p_stockout", "ci_low"] == pytest.approx(lo) and s.loc["p_stockout", "ci_high"] == pytest.approx(hi)
    _, _, tlo, thi, _ = stats.mean_ci(np.arange(10.0))
    assert s.loc["toci_mg", "ci_low"] == pytest.approx(tlo) and s.loc["toci_mg", "ci_high"] == pytest.approx(thi)


# --------------------------------------------------------------------------- frames

def test_hour_of_week_frame_gives_share_of_capacity(fast):
    how = np.zeros((168, len(RESOURCES)))
    how[9, 1] = 2.0   # Monday 09:00, two observation beds in use
    frame = charts.hour_of_week_frame(how, views.capacity_of(fast))
    assert len(frame) == 168 * len(RESOURCES)
    row = frame[(frame["resource"] == charts.RESOURCE_LABELS["observation_beds"]) & (frame["day"] == "Mon")
                & (frame["hour"] == 9)].iloc[0]
    assert row["occupancy"] == 2.0 and row["share"] == pytest.approx(2.0 / fast.capacity.observation_beds)
    with pytest.raises(ValueError, match="shape"):
        charts.hour_of_week_frame(np.zeros((24, 5)), views.capacity_of(fast))


def test_daily_peak_frame_shares_sum_to_one_and_mark_capacity():
    peaks = np.zeros((2, 3, len(RESOURCES)), dtype=int)
    peaks[0, :, 0] = [1, 2, 2]
    peaks[1, :, 0] = [2, 3, 3]
    cap = dict.fromkeys(RESOURCES, 3)
    frame = charts.daily_peak_frame(peaks, cap)
    chairs = frame[frame["resource"] == charts.RESOURCE_LABELS["chairs"]].set_index("peak")
    assert chairs["share"].sum() == pytest.approx(1.0)
    assert chairs.loc[2, "share"] == pytest.approx(3 / 6) and chairs.loc[3, "share"] == pytest.approx(2 / 6)
    assert chairs.loc[3, "reach"] == "at capacity" and chairs.loc[2, "reach"] == "below capacity"


def test_hospital_use_is_split_by_the_grade_that_caused_it():
    base = pd.DataFrame({"ed_visits": [10.0, 12.0], "unplanned_ward_admissions": [4.0, 6.0], "icu_admissions": [1.0, 1.0]})
    assert charts.hospital_use_frame(base).empty  # totals alone cannot be split by grade
    split = base.assign(**{f"ed_visits_grade{g}": [g, g] for g in range(1, 5)})
    frame = charts.hospital_use_frame(split)
    ed = frame[frame["use"] == "ED visits"]
    assert list(ed["grade"]) == [f"Grade {g}" for g in range(1, 5)] and list(ed["mean"]) == [1, 2, 3, 4]
    assert set(frame["use"]) == {"ED visits"}


def test_toxicity_grade_frame_means_and_shape_check():
    g = np.zeros((3, 2, 4))
    g[:, 0, 1] = [3, 4, 5]
    frame = charts.toxicity_grade_frame(g).set_index(["toxicity", "grade"])
    assert frame.loc[("CRS", "Grade 2"), "mean"] == 4.0
    assert frame.loc[("ICANS", "Grade 1"), "mean"] == 0.0
    with pytest.raises(ValueError):
        charts.toxicity_grade_frame(np.zeros((3, 4)))


def test_toci_weekly_frame_mean_and_clipped_interval():
    week = np.zeros((4, 2, 2))
    week[:, 0, 1] = [0, 0, 0, 800]    # one replication uses 800 mg in week 1: a t-interval would go below 0
    frame = charts.toci_weekly_frame(week)
    assert frame.loc[0, "mean_mg"] == 200.0 and frame.loc[0, "ci_low"] == 0.0 and frame.loc[0, "ci_high"] > 200
    assert frame.loc[1, "mean_mg"] == 0.0 and frame.loc[1, "ci_high"] == 0.0


def test_stock_over_time_marks_days_with_a_stockout():
    on_hand = np.array([[100.0, 0.0, 50.0], [100.0, 40.0, 60.0]])
    outs = np.array([[0, 2, 0], [0, 0, 0]])
    frame = charts.stock_over_time_frame(on_hand, outs)
    assert list(frame["share_stockout"]) == [0.0, 0.5, 0.0]
    assert frame.loc[1, "mean_mg"] == 20.0
    with pytest.raises(ValueError):
        charts.stock_over_time_frame(on_hand, outs[:, :2])


# --------------------------------------------------------------------------- dosing calendar

def test_dosing_calendar_rows_follow_the_run_log(fast, one_log):
    cal = charts.dosing_calendar(series.dose_calendar(one_log), patients=5, weeks=6)
    assert cal["patient"].nunique() == 5
    doses = cal[cal["event"] == "dose"]
    assert (doses["end_day"] > doses["start_day"]).all()
    assert set(doses["place"]) <= set(PLACE_NAMES.values())
    for _, rows in cal.groupby("patient", sort=False):
        ref = rows[rows["event"] == "referral"]["start_day"].iloc[0]
        d = rows[rows["event"] == "dose"]
        assert list(d["dose"]) == list(range(1, len(d) + 1))
        assert ref < d["start_day"].iloc[0] and d["start_day"].is_monotonic_increasing
        assert d["start_day"].iloc[0] >= 0          # started after warm-up
        assert d["start_day"].iloc[-1] - ref <= 6 * 7
    first = doses[doses["dose"] == 1]
    # the outpatient strategy sends every dose 1 to a bed for 22-24 h monitoring
    assert set(first["place"]) <= {"observation", "ward"}
    assert (first["hours"] >= fast.drug.schedule[0].monitor_hours.value).all()


def test_dosing_calendar_matches_the_model_dose_times(fast, one_log):
    cal = charts.dosing_calendar(series.dose_calendar(one_log), patients=3, weeks=12)
    w0 = one_log.window[0]
    given = set(np.round((one_log.dose_time[np.isfinite(one_log.dose_time)] - w0) / 24.0, 6))
    doses = cal[cal["event"] == "dose"]
    assert len(doses) > 9   # step-up doses and some of cycles 2-4
    for day in doses["dose_day"]:
        assert round(day, 6) in given
    # the stay starts with premedication (cycle 1 only for tarlatamab) and covers the infusion
    assert (doses["start_day"] <= doses["dose_day"]).all() and (doses["end_day"] > doses["dose_day"]).all()


def test_dosing_calendar_draws_the_stays_the_model_recorded(one_log):
    """Nothing is re-simulated or re-planned: each bar is the stay the model booked for that dose."""
    table = series.dose_calendar(one_log)
    assert 0 < table["patient"].max() <= series.CALENDAR_PATIENTS
    w0 = one_log.window[0]
    started = np.flatnonzero(np.isfinite(one_log.first_dose) & (one_log.first_dose >= w0))
    first = started[np.argsort(one_log.first_dose[started], kind="stable")][0]
    start, end = one_log.planned_stays(np.array([first]))
    rows = table[table["patient"] == 1]
    k = rows["dose"] - 1
    np.testing.assert_array_equal(rows["stay_start"], start[0, k] - w0)
    np.testing.assert_array_equal(rows["stay_end"], end[0, k] - w0)
    cal = charts.dosing_calendar(table, patients=1, weeks=series.CALENDAR_WEEKS)
    doses = cal[cal["event"] == "dose"]
    np.testing.assert_allclose(doses["hours"], end[0, k] - start[0, k])


def test_a_run_view_carries_the_calendar_of_replication_0(view, one_log):
    np.testing.assert_array_equal(view.dose_calendar, series.dose_calendar(one_log))
    assert len(charts.dosing_calendar(view.dose_calendar)) > 0
    assert charts.dosing_calendar(None).columns.tolist() == charts.dosing_calendar(view.dose_calendar).columns.tolist()


# --------------------------------------------------------------------------- formatting and charts

def test_formatting_reads_like_a_planner_would():
    assert charts.format_value("p_dose_postponed", 0.0234) == "2.3%"
    assert charts.format_value("cost_total", 1234567.8) == "USD 1,234,568"
    assert charts.format_value("cost_total", 1234567.8, "EUR") == "EUR 1,234,568"
    assert charts.format_value("patients_diverted", 0.0) == "0"
    assert charts.format_value("days_referral_to_first_dose_mean", 7.861) == "7.86"
    assert charts.format_value("ward_bed_days", math.nan) == "n/a"
    assert charts.format_ci("ed_visits", -0.7, 5.4) == "0 to 5.40"
    assert charts.kpi_info("cost_per_patient_started", "EUR").unit == "EUR per patient"
    assert charts.kpi_info("toci_brand_new_kpi").label == "Toci brand new kpi"
    assert charts.stamped("my scenario/1", "csv", pd.Timestamp("2026-01-02").date()) == "my_scenario_1_2026-01-02.csv"
    table = charts.summary_table(pd.DataFrame([{"kpi": "p_stockout", "mean": 0.3, "sd": 0.5, "ci_low": 0.1,
                                                "ci_high": 0.6, "n": 10}]))
    assert table.iloc[0]["95% CI"] == "10.0% to 60.0%" and table.iloc[0]["KPI"] == "Chance of a stock-out"


def test_every_kpi_reads_with_its_label_unit_and_format():
    """Every column of kpis.csv has a catalogue entry (not the fallback made from its name), its currency
    filled in, and shares (p_, _rate, util_) are written as percentages."""
    for k in metrics.KPI_COLUMNS[1:]:
        info = charts.kpi_info(k, "EUR")
        assert k in charts.KPI_INFO and info.label == charts.KPI_INFO[k].label, k
        assert "{currency}" not in info.unit and (info.kind != "money" or "EUR" in info.unit), k
        is_share = k.startswith(("p_", "util_")) or k.endswith("_rate")
        assert (info.kind == "share") == is_share, k
        assert charts.format_value(k, 0.5, "EUR").endswith("%") == is_share, k


def judged(base: pd.DataFrame, other: pd.DataFrame, kpis: list[str]) -> pd.DataFrame:
    """Paired differences of ``other`` from ``base`` with both verdicts, as the compare page draws them."""
    return judge(compare({"base": base, "other": other}, kpis=kpis), "base")


def _specs(view, fast):
    cap = views.capacity_of(fast)
    diffs = judged(view.kpis, view.kpis, ["ed_visits", "ward_bed_days"])
    curve = pd.DataFrame({"capacity": [3, 4], "mean": [0.03, 0.01], "ci_low": [0.02, 0.0], "ci_high": [0.04, 0.02],
                          "n": [4, 4]})
    stock = pd.DataFrame({"stock_mg": [800.0, 1600.0], "p_stockout": [0.5, 0.0], "ci_low": [0.15, 0.0],
                          "ci_high": [0.85, 0.49], "n": [4, 4], "toci_cost": [1.0, 2.0]})
    yield charts.occupancy_heatmap(charts.hour_of_week_frame(view.hour_of_week, cap))
    yield charts.daily_peak_chart(charts.daily_peak_frame(view.daily_peak, cap))
    yield charts.hospital_use_chart(charts.hospital_use_frame(view.kpis))
    yield charts.toxicity_grade_chart(charts.toxicity_grade_frame(view.grades))
    yield charts.toci_weekly_chart(charts.toci_weekly_frame(view.toci_week))
    yield charts.forest_plot(diffs)
    yield charts.capacity_curve_chart(curve, "p_dose_postponed", "observation_beds", 0.02)
    yield charts.stock_curve_chart(stock, 0.05)
    yield charts.dosing_gantt(charts.dosing_calendar(view.dose_calendar, patients=4))
    if view.on_hand is not None:
        yield charts.stock_over_time_chart(charts.stock_over_time_frame(view.on_hand, view.stockouts), 2400)


def test_every_chart_is_a_valid_padded_vega_lite_spec(view, fast):
    n = 0
    for chart in _specs(view, fast):
        assert isinstance(chart, alt.TopLevelMixin)
        spec = chart.to_dict()          # validates against the Vega-Lite schema
        assert spec["autosize"] == {"type": "pad"}
        assert spec["title"]["text"]
        n += 1
    assert n >= 9


def test_forest_plot_has_a_row_per_kpi_and_a_zero_line(view):
    diffs = judged(view.kpis, view.kpis.assign(ed_visits=view.kpis["ed_visits"] + 1), ["ed_visits", "ward_bed_days"])
    spec = charts.forest_plot(diffs).to_dict()
    rows = spec["facet"]["row"]["sort"]
    assert rows == ["ED visits (visits)", "Ward bed-days (bed-days)"]
    layers = spec["spec"]["layer"]
    assert any(layer["encoding"].get("x", {}).get("datum") == 0 for layer in layers)
    data = next(iter(spec["datasets"].values()))
    # +1 ED visit in every replication: distinguishable, and it matters when the base has under 20 a year
    assert [r["distinguishable_text"] for r in data] == ["yes: CI excludes 0", "no: CI includes 0"]


def test_heatmap_data_covers_every_hour_of_the_week(view, fast):
    spec = charts.occupancy_heatmap(charts.hour_of_week_frame(view.hour_of_week, views.capacity_of(fast))).to_dict()
    data = next(iter(spec["datasets"].values()))
    assert len(data) == 168 * len(RESOURCES)
    assert spec["spec"]["encoding"]["color"]["scale"]["domain"] == [0, 1]


def test_the_package_never_imports_streamlit():
    import subprocess
    import sys

    code = "import sys, sim.charts, sim.charts.report; sys.exit('streamlit' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=charts.__file__.rsplit("/sim/", 1)[0]).returncode == 0


# --------------------------------------------------------------------------- issue 16: units, palette, sources

SCIENTIFIC = re.compile(r"\d[eE][+-]?\d")
MAGNITUDES = [0.0, 1e-19, 9.557e-05, 0.0004, 0.02439, 0.4609, 1.0, 7.861, 55.5, 1234.5, 9.9e6, 3.2e9]


def test_no_kpi_value_difference_or_interval_is_ever_in_scientific_notation():
    for k in metrics.KPI_COLUMNS[1:]:
        for v in MAGNITUDES + [-v for v in MAGNITUDES]:
            texts = (charts.format_value(k, abs(v)), charts.format_diff(k, v), charts.format_ci(k, v, abs(v)),
                     charts.format_diff_ci(k, v, abs(v)), charts.in_shown_unit(k, v), charts.plain(v))
            assert not [t for t in texts if SCIENTIFIC.search(t)], (k, v, texts)


def test_differences_of_shares_are_percentage_points_and_money_has_its_currency():
    assert charts.format_diff("crs_rate", -0.4609) == "-46.1 pp"           # issue 16: shown as -0.4609
    assert charts.format_diff("p_dose_postponed", -0.02439) == "-2.4 pp"
    assert charts.format_diff("p_dose_postponed", 9.557e-05) == "+0.01 pp"
    assert charts.format_diff("p_dose_postponed", -4e-19) == "0.0 pp"     # float noise is no difference
    assert charts.format_diff_ci("crs_rate", -0.5, -0.42) == "-50.0 pp to -42.0 pp"
    assert charts.format_diff("cost_per_patient_started", -1234.4, "EUR") == "-EUR 1,234"
    assert charts.format_diff("ed_visits", 2.5) == "+2.50"
    assert charts.format_value("crs_rate", 9.557e-05) == "0.01%"
    assert charts.plain(9.557e-05) == "0.0000956" and charts.plain(-1234567.0) == "-1,234,567"
    assert charts.diff_unit("crs_rate") == "percentage points" and charts.diff_unit("ed_visits") == "visits"
    # the kind comes from the registry, not the name: a count named like a share is still a count
    assert registry.kpi("toci_doses_delayed").kind == "count" and charts.format_diff("toci_doses_delayed", 2) == "+2"


def _diffs() -> pd.DataFrame:
    """sim.analysis.compare.judge's frame of one strategy ("out") against the base."""
    return pd.DataFrame({"scenario": "out", "kpi": ["crs_rate", "p_dose_postponed", "cost_per_patient_started", "ed_visits"],
                         "n": 10, "base_mean": [0.553, 0.011, 5200.0, 19.2], "mean": [0.0921, 0.0109, 6600.0, 4.0],
                         "diff_mean": [-0.4609, -9.557e-05, 1400.0, -15.2],
                         "diff_ci_low": [-0.5, -0.0021, 1000.0, -20.3], "diff_ci_high": [-0.42, 0.0019, 1800.0, -10.1],
                         "distinguishable": [True, False, True, True], "threshold": [0.01, 0.01, 260.0, 0.96],
                         "matters": ["matters", "does not matter", "matters", "matters"]})


def test_comparison_table_and_csv_read_in_units():
    table = charts.comparison_table(_diffs(), "in", "EUR").set_index("Measure")
    crs = table.loc["Patients with CRS"]
    assert (crs["Base: in"], crs["Strategy's mean"], crs["Difference"]) == ("55.3%", "9.2%", "-46.1 pp")
    assert crs["95% CI of the difference"] == "-50.0 pp to -42.0 pp"
    assert table.loc["Cost per patient started", "Difference"] == "+EUR 1,400"
    assert table.loc["Cost per patient started", "Base: in"] == "EUR 5,200"
    text = charts.comparison_csv(_diffs(), "in", "EUR")
    assert not SCIENTIFIC.search(text), text
    csv = pd.read_csv(io.StringIO(text)).set_index("kpi")
    diff = "difference from the base (in unit of the difference)"
    assert diff in csv.columns and "base in (mean, in unit of the means)" in csv.columns
    assert csv.loc["crs_rate", "unit of the difference"] == "percentage points"
    assert csv.loc["crs_rate", diff] == pytest.approx(-46.1)
    assert csv.loc["p_dose_postponed", diff] == pytest.approx(-0.00956, rel=0.01)
    assert csv.loc["crs_rate", "base in (mean, in unit of the means)"] == pytest.approx(55.3)
    assert csv.loc["cost_per_patient_started", "unit of the means"] == "EUR per patient"


def test_forest_plot_reads_differences_of_shares_in_points_with_plain_axis_labels():
    frame = charts.forest_frame(_diffs())
    crs = frame.set_index("label").loc["Patients with CRS"]
    assert crs["row"] == "Patients with CRS (percentage points)"
    assert crs["diff"] == pytest.approx(-46.09) and crs["high"] == pytest.approx(-42.0)
    assert crs["diff_text"] == "-46.1 pp" and crs["ci_text"] == "-50.0 pp to -42.0 pp"
    spec = charts.forest_plot(_diffs()).to_dict()
    ci_layer = next(layer for layer in spec["spec"]["layer"] if layer["mark"]["type"] == "rule" and "x2" in layer["encoding"])
    assert ci_layer["encoding"]["x"]["axis"]["format"] == ",~r"    # d3 "r": decimal, never 1e-4
    tips = next(layer for layer in spec["spec"]["layer"] if "tooltip" in layer["encoding"])["encoding"]["tooltip"]
    assert all(t["type"] == "nominal" for t in tips)                  # the table's own texts


def test_stock_table_reads_in_words_percent_and_currency():
    curve = pd.DataFrame({"pharmacy.order_up_to": [800.0, 2400.0], "replications": [30, 30],
                          "p_stockout": [0.5, 0.0], "p_stockout_ci_low": [0.33, 1e-18],
                          "p_stockout_ci_high": [0.67, 0.1135], "toci_doses_delayed": [2.4, 0.0],
                          "toci_delay_hours_mean": [5.0, 0.0], "toci_vials_expired": [0.0, 1.0],
                          "toci_cost": [12000.0, 15500.0]})
    table = charts.stock_table(curve, "pharmacy.order_up_to", 0.05, "EUR", "Order up to (mg)")
    assert list(table.columns[:4]) == ["Order up to (mg)", "Chance of a stock-out", "95% CI (Wilson)", "Replications"]
    row = table.iloc[1]
    assert row["95% CI (Wilson)"] == "0.0% to 11.3%" and row["Upper bound ≤ 5.0%"] == "no"
    assert row["Tocilizumab cost"] == "EUR 15,500" and row["Order up to (mg)"] == "2,400"
    assert "Patient doses delayed by a stock-out (doses)" in table.columns
    assert not [c for c in table.astype(str).to_numpy().ravel() if SCIENTIFIC.search(c) or "0.00000" in c]


def test_hospital_use_has_the_95_ci_of_each_total_and_draws_it():
    kpis = pd.DataFrame({**{f"ed_visits_grade{g}": [g, g + 2.0, g + 4.0] for g in range(1, 5)},
                         "ed_visits": [10.0, 18.0, 26.0]})
    frame = charts.hospital_use_frame(kpis)
    mean, _sd, lo, hi, _n = stats.mean_ci(np.array([10.0, 18.0, 26.0]))
    assert frame["total_mean"].iloc[0] == pytest.approx(mean) and frame["total_ci_high"].iloc[0] == pytest.approx(hi)
    assert frame["total_ci_low"].iloc[0] == pytest.approx(max(lo, 0.0))
    spec = charts.hospital_use_chart(frame).to_dict()
    marks = [layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"] for layer in spec["layer"]]
    assert "errorbar" in marks
    assert spec["layer"][0]["encoding"]["color"]["legend"]["orient"] == "bottom"   # not beside: under the chart


def _colours(node, found: set[str], schemes: set[str]) -> None:
    """Every hex colour and colour scheme named anywhere in a Vega-Lite spec."""
    if isinstance(node, dict):
        if "scheme" in node:
            schemes.add(node["scheme"])
        for v in node.values():
            _colours(v, found, schemes)
    elif isinstance(node, list):
        for v in node:
            _colours(v, found, schemes)
    elif isinstance(node, str) and re.fullmatch(r"#[0-9a-fA-F]{6}", node):
        found.add(node.upper())


def test_every_chart_draws_from_the_colour_blind_safe_palette(view, fast):
    from sim.charts import style

    allowed = {c.upper() for c in style.PALETTE} | {"#000000"}
    for chart in _specs(view, fast):
        found, schemes = set(), set()
        _colours(chart.to_dict(), found, schemes)
        assert found <= allowed, (chart.to_dict().get("title"), found - allowed)
        assert schemes <= {style.SEQUENTIAL_SCHEME}, schemes


def test_chart_exports_are_named_after_the_scenario_and_the_chart_and_keep_a_margin(view, fast):
    chart = charts.occupancy_heatmap(charts.hour_of_week_frame(view.hour_of_week, views.capacity_of(fast)))
    name = charts.export.file_name(chart, "tarlatamab_outpatient", "png", pd.Timestamp("2026-11-30").date())
    assert name == "tarlatamab_outpatient_Mean_occupancy_by_hour_of_the_week_2026-11-30.png"
    spec = chart.to_dict()
    assert spec["autosize"] == {"type": "pad"} and spec["padding"]["right"] >= 10
    pytest.importorskip("vl_convert")
    image = charts.export.png(chart, scale=1)
    assert image[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(image[16:20], "big")
    # two panels side by side, their day labels and the right margin all inside the image
    assert width >= 2 * spec["spec"]["width"] + spec["padding"]["right"]


def test_the_report_states_the_start_the_scenario_uses(fast):
    from sim.charts import report

    warm = " ".join(report.assumptions(fast))
    assert fast.run.warm_start and "starts warm" in warm and "from empty" not in warm
    assert f"{fast.run.warmup_weeks} weeks of warm-up" in warm
    cold = fast.model_copy(update={"run": fast.run.model_copy(update={"warm_start": False})})
    assert "starts from an empty centre" in " ".join(report.assumptions(cold))


INTERNAL_NAME = re.compile(r"\b\d{3}_[0-9a-f]{16}\.txt\b|\b[\w-]+\.md\b")


def test_every_internal_source_name_in_the_data_files_has_a_publication():
    """Bug 9: each seed file name (and .md note) a data file cites maps to a citation, and the sources a
    reader sees (report and dashboard tables) name publications only."""
    from sim.charts import report
    from sim.config import citations

    texts = [p.read_text(encoding="utf-8") for p in (ROOT / "scenarios").rglob("*.toml")]
    cited = {m.group(0) for t in texts for m in INTERNAL_NAME.finditer(t)}
    assert {"001_05c86904299774e9.txt", "003_b830145af24ac4b6.txt", "clinical-parameters.md"} <= cited
    assert cited <= set(citations.citations()), cited - set(citations.citations())
    assert citations.for_display("001_05c86904299774e9.txt: CRS 53.3%").startswith("Joshi et al., Clin Lung Cancer 2025")
    assert citations.for_display("003: median duration 2 days").startswith("Engaging with Bispecific T-Cell Engagers")
    assert citations.for_display("1,003 patients; 0.003; 2003") == "1,003 patients; 0.003; 2003"
    for name in sim.presets():
        shown = report.sourced_table(sim.load(name))
        text = " ".join(shown["source"]) + " ".join(shown["note"].fillna(""))
        assert not INTERNAL_NAME.search(text), (name, INTERNAL_NAME.search(text).group(0))
        assert not re.search(r"(^|[\s(;])00[0-4](?=[\s:;,)]|$)", text), name


def test_cli_compare_output_reads_in_units():
    from sim.cli.compare import format_comparison

    d = _diffs()
    table = pd.concat([d.assign(scenario="in", mean=d["base_mean"], diff_mean=0.0, diff_ci_low=0.0, diff_ci_high=0.0,
                                distinguishable=False),
                       d.assign(scenario="out")])
    text = format_comparison(table, "in", "EUR")
    assert not SCIENTIFIC.search(text), text
    crs = next(line for line in text.splitlines() if line.startswith("crs_rate"))
    assert "55.3%" in crs and "-46.1 pp" in crs and "-50.0 pp to -42.0 pp *" in crs and crs.endswith("matters")
    assert "EUR 5,200" in text and "+EUR 1,400" in text


def test_stock_curve_axis_spreads_the_region_around_a_small_target():
    stock = pd.DataFrame({"stock_mg": [800.0, 1600.0], "p_stockout": [0.5, 0.0], "ci_low": [0.15, 0.0],
                          "ci_high": [0.85, 0.1], "n": [30, 30]})
    spec = charts.stock_curve_chart(stock, 0.05).to_dict()
    y = spec["layer"][0]["encoding"]["y"]
    assert y["scale"]["type"] == "sqrt" and 0.05 in y["axis"]["values"]
