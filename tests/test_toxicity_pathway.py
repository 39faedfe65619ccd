"""Where a toxicity is managed and what it costs (issue 13): the onset-at-home routes, urgent care and its
hours, planned stays prolonged by toxicity, the length of a toxicity admission, hospitalisation within
28 days, and the cost breakdown."""

from __future__ import annotations

import numpy as np
import pytest

from sim import charts, cohort, metrics, model
from sim.analysis import runner
from sim.config import library, loader
from sim.config.drug import GradeRule
from sim.config.errors import ScenarioErrors
from sim.config.registry import COST_BREAKDOWN
from sim.model.events import hospital_stays
from tests.conftest import REFERENCE, SCENARIOS, SHORT

PART_F = ["population.outpatient_eligible=1"]


def _run(path, *overrides, rep: int = 0):
    s = loader.load(path, [*SHORT, *overrides])
    m = model.Model(s, cohort.draw(s, rep))
    log = m.run()
    return s, m, log, metrics.summarise(log, s, rep)


# --------------------------------------------------------------------------- onset at home: the routes

@pytest.mark.parametrize("field,value", [("crs_grade1", "clinic"), ("icans_grade4", "ward"), ("crs_grade2", 3)])
def test_a_bad_route_is_refused_in_one_line_naming_the_field(field, value):
    with pytest.raises(ScenarioErrors) as err:
        loader.load(REFERENCE, [f"strategy.onset_at_home.{field}={value!r}" if isinstance(value, str)
                                else f"strategy.onset_at_home.{field}={value}"])
    msg = str(err.value)
    assert "\n" not in msg
    assert f"strategy.onset_at_home.{field}" in msg and "'home', 'urgent_care', 'ed' or 'admit'" in msg


def test_urgent_care_without_a_bay_is_refused():
    with pytest.raises(ScenarioErrors, match=r"capacity.urgent_care_bays = 0, but strategy.onset_at_home sends"):
        loader.load(REFERENCE, ["capacity.urgent_care_bays=0"])
    loader.load(REFERENCE, ["capacity.urgent_care_bays=0", "strategy.onset_at_home.crs_grade2=ed",
                            "strategy.onset_at_home.icans_grade1=ed"])


def test_grade_1_crs_at_home_instead_of_the_ed_removes_about_one_ed_visit_per_onset():
    """Same seed, same patients: only where grade 1 CRS at home is managed differs. The ED visits that
    disappear are the onsets now managed at home; the toxicity drawn is identical."""
    *_, log_ed, ed = _run(REFERENCE, "strategy.onset_at_home.crs_grade1=ed")
    *_, log_home, home = _run(REFERENCE, "strategy.onset_at_home.crs_grade1=home")
    np.testing.assert_array_equal(log_ed.crs_grade, log_home.crs_grade)     # common random numbers
    np.testing.assert_array_equal(log_ed.icans_grade, log_home.icans_grade)
    assert ed["toxicity_managed_at_home"] == 0 and home["toxicity_managed_at_home"] > 20
    removed = ed["ed_visits"] - home["ed_visits"]
    assert removed == pytest.approx(home["toxicity_managed_at_home"], abs=max(2, 0.05 * removed))
    assert ed["ed_visits_grade1"] - home["ed_visits_grade1"] == pytest.approx(removed, abs=2)
    assert home["hospitalised_28d_rate"] < ed["hospitalised_28d_rate"]


def test_urgent_care_sees_onsets_only_in_its_hours_and_the_ed_takes_the_rest():
    """With urgent care open on Mondays only, onsets routed there on other days go to the ED."""
    s, _, log, row = _run(REFERENCE, "urgent_care.open_weekdays=[0]", "strategy.onset_at_home.crs_grade1=urgent_care")
    routed = {(0, 1), (0, 2), (1, 1)}   # crs_grade1, crs_grade2, icans_grade1 -> urgent care
    uc = [t for t, _, where, kind, g in log.care if where == "urgent_care"]
    ed_routed = [t for t, _, where, kind, g in log.care if where == "ed" and (kind, g) in routed]
    assert uc and ed_routed
    assert all(s.urgent_care.is_open(t) for t in uc)
    assert not any(s.urgent_care.is_open(t) for t in ed_routed)
    assert len(ed_routed) > len(uc)   # open one day in seven
    assert row["urgent_care_visits"] > 0 and 0 < row["util_urgent_care_bays"] < 1


def test_admitting_every_crs_sends_no_crs_through_the_ed_or_home():
    """The Mayo practice (Sandahl et al. 2025): every CRS at home admitted directly, grade 1 included."""
    _, _, log, row = _run(SCENARIOS / "teclistamab_outpatient_mayo.toml")
    crs_first_seen = {where for _, _, where, kind, _ in log.care if kind == 0}
    assert crs_first_seen <= {"ward", "icu", "prolonged"}
    assert row["unplanned_ward_admissions_grade1"] > 0
    *_, usual = _run(SCENARIOS / "teclistamab_outpatient.toml")
    assert row["unplanned_ward_admissions"] > usual["unplanned_ward_admissions"]
    assert row["toxicity_managed_at_home"] == 0 < usual["toxicity_managed_at_home"]


# --------------------------------------------------------------------------- stays

def test_toxicity_in_a_planned_ward_stay_prolongs_it_and_counts_as_a_hospitalisation():
    _, _, log, row = _run(SCENARIOS / "tarlatamab_inpatient.toml", *PART_F)
    assert row["stays_prolonged_by_toxicity"] > 0 and row["prolonged_stay_bed_hours"] > 0
    prolonged = {p for _, p, where, _, _ in log.care if where == "prolonged"}
    hosp = metrics.kpis.hospitalised_within(log, 28)
    first = {p for t, p, where, _, _ in log.care if where == "prolonged" and t < log.first_dose[p] + 28 * 24}
    assert first <= set(np.flatnonzero(hosp)) and prolonged
    # the outpatient arm, everyone eligible, books no ward stay, so none is prolonged
    *_, out = _run(SCENARIOS / "tarlatamab_outpatient_short.toml", *PART_F)
    assert out["stays_prolonged_by_toxicity"] == 0


def _rule(**kw) -> GradeRule:
    return GradeRule(grade=2, setting="ward", source="test", **kw)


def test_a_sourced_length_of_stay_ends_the_stay_before_the_episode_does():
    z = np.array([-2.0, 0.0, 0.0, 1.0])
    duration = np.array([500.0, 500.0, 10.0, 500.0])
    grade = np.full(4, 2)
    rules = [_rule()] * 4
    # without a length of stay the stay is the episode, at least min_stay_hours
    np.testing.assert_allclose(hospital_stays([_rule(min_stay_hours=24)] * 4, grade, duration, z),
                               [500, 500, 24, 500])
    los = _rule(min_stay_hours=24, stay_median_hours=48, stay_sigma=0.5)
    stays = hospital_stays([rules[0], los, rules[0], rules[0]], grade, duration, z)
    np.testing.assert_allclose(stays, [24, 48, 24, 48 * np.exp(0.5)])   # floor 24 h; the episode caps it
    with pytest.raises(ValueError, match="stay_median_hours and stay_sigma"):
        _rule(stay_median_hours=48)


@pytest.mark.parametrize("drug", sorted(p.stem for p in (SCENARIOS / "drugs").glob("*.toml")))
def test_every_drug_gives_each_admitted_grade_its_own_length_of_stay(drug):
    """No drug keeps the old whole-episode stay: every grade managed in hospital has a length of stay,
    and one that is not sourced is flagged (verified = false) with a note saying where it comes from."""
    management = library.load_drug(drug).management   # management is per drug, not per toxicity profile
    rules = [r for kind in (management.crs, management.icans) for r in kind if r.setting != "none"]
    assert rules
    for r in rules:
        assert r.stay_median_hours is not None and r.stay_sigma is not None, (drug, r.grade)
        los = r.stay_median_hours
        assert los.verified or los.note or "model assumption" in los.source, (drug, r.grade, los.source)
        assert 12 <= los.value <= 168, (drug, r.grade, los.value)


def test_tarlatamab_toxicity_admissions_last_days_not_the_whole_episode():
    """Ward stays per toxicity admission near the published median of 2 days (Sandahl et al. 2025), not
    the ~3.7 days the whole CRS episode gave."""
    s, m, log, row = _run(SCENARIOS / "tarlatamab_outpatient_short.toml", *PART_F)
    admitted = row["unplanned_ward_admissions"]
    assert admitted > 10
    assert 1.0 < row["ward_bed_days"] / admitted < 3.0


def test_icans_not_back_within_7_days_discontinues_where_the_label_says_so():
    s, m, log, _ = _run(REFERENCE, "drug.profile=real_world")
    limit = s.drug.management.icans[2].discontinue_if_unresolved_hours.value
    checked = 0
    for key, events in m.events.items():
        i, k = divmod(key, m.D)
        if not np.isfinite(log.dose_time[i, k]):
            continue
        for onset, kind, grade, duration, _, _ in events:
            if kind == 1 and grade == 3 and duration > limit and log.dose_time[i, k] + onset < m.end_time:
                assert log.discontinued[i], (i, k)
                checked += 1
    assert checked > 0


# --------------------------------------------------------------------------- KPIs

@pytest.mark.parametrize("name", ["tarlatamab_inpatient", "tarlatamab_outpatient", "tarlatamab_outpatient_short",
                                  "tarlatamab_prophylactic_toci", "teclistamab_outpatient_mayo"])
def test_the_cost_breakdown_sums_to_the_total_in_every_replication(name):
    s = loader.load(SCENARIOS / f"{name}.toml", SHORT)
    for rep in range(3):
        row = metrics.summarise(model.simulate(s, cohort.draw(s, rep)), s, rep)
        assert sum(row[k] for k in COST_BREAKDOWN) == row["cost_total"]
        assert row["cost_tocilizumab"] == row["toci_cost"]
        assert row["chair_opportunity_cost"] == row["chair_hours"] * s.costs.chair_opportunity_hour.value


def test_chair_opportunity_cost_is_not_in_the_total():
    s, _, log, row = _run(REFERENCE)
    dearer = metrics.summarise(log, loader.load(REFERENCE, [*SHORT, "costs.chair_opportunity_hour=5000"]))
    assert dearer["cost_total"] == row["cost_total"]
    assert dearer["chair_opportunity_cost"] > row["chair_opportunity_cost"]


def test_rates_of_patients_count_the_patients_started():
    _, _, log, row = _run(REFERENCE)
    assert 0 < row["crs_grade3plus_rate"] <= row["crs_grade2plus_rate"] <= row["crs_rate"]
    assert 0 < row["patients_given_toci"] < row["crs_rate"] * row["patients_started"]
    assert 0 < row["hospitalised_28d_rate"] < 1


def test_the_cost_chart_shows_the_parts_that_make_up_the_total():
    s = loader.load(REFERENCE, SHORT)
    kpis = runner.run(s, 2, executor="serial").kpis
    frame = charts.cost_breakdown_frame(kpis)
    assert list(frame["part"]) == [metrics_label(k) for k in COST_BREAKDOWN]
    assert frame["mean"].sum() == pytest.approx(kpis["cost_total"].mean(), rel=1e-12)
    spec = charts.cost_breakdown_chart(frame, "EUR").to_dict()
    assert spec["autosize"] == {"type": "pad"} and "EUR" in str(spec)
    assert len(charts.cost_breakdown_frame(kpis.drop(columns=list(COST_BREAKDOWN)))) == 0   # an older saved run


def metrics_label(kpi: str) -> str:
    return charts.KPI_INFO[kpi].label.removeprefix("Cost: ")
