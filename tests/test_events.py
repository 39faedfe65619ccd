"""The up-front toxicity draws (sim/model/events.py, sim/cohort/parameters.py; issue 14): grade mix by
dose, prophylaxis by timing with its grade effect, CRS recurrence after tocilizumab at the first event,
and their parameter uncertainty."""

from __future__ import annotations

import numpy as np
import pytest

from sim import cohort, model
from sim.analysis.stats import wilson
from sim.config import loader
from sim.config.errors import ScenarioErrors
from sim.config.scenario import max_doses
from sim.model.events import CRS, toxicity_events
from tests.conftest import SCENARIOS

INPATIENT = SCENARIOS / "tarlatamab_inpatient.toml"
PROPHYLAXIS = SCENARIOS / "tarlatamab_prophylactic_toci.toml"
# A large cohort drawn quickly: toxicity needs no simulation.
MANY = ["demand.patients_per_week=200", "run.warmup_weeks=0", "run.horizon_weeks=30", "run.follow_up_weeks=0",
        "run.warm_start=false", "population.risk_factors={}", "population.high_risk_if=[]", "drug.risk_odds_ratios={}"]
DOSE_MIXES = ("drug.crs.dose_grade_mix=[{grade_mix=[0.6,0.35,0.04,0.01]},{grade_mix=[0.9,0.09,0.01,0.0]},"
              "{grade_mix=[0.8,0.2,0.0,0.0]}]")
BEFORE_1 = ("drug.prophylaxis={before_dose_1={crs_relative_risk=0.3, icans_relative_risk=0.5, "
            "crs_grade_mix=[0.95,0.05,0.0,0.0]}, before_dose_2={crs_relative_risk=0.3, icans_relative_risk=1}}")


def _events(path, *overrides):
    s = loader.load(path, [*MANY, *overrides])
    c = cohort.draw(s, 0)
    return s, c, toxicity_events(s, c, max_doses(s))


def _inside(successes: int, trials: int, p: float) -> bool:
    lo, hi = wilson(successes, trials, level=0.999)   # 1 in 1,000 false alarms per check
    return lo <= p <= hi


def test_grade_mix_by_dose_holds_after_each_dose():
    s, c, ev = _events(INPATIENT, DOSE_MIXES)
    g = ev.grade[CRS]
    for k, mix in enumerate(([0.6, 0.35, 0.04, 0.01], [0.9, 0.09, 0.01, 0.0], [0.8, 0.2, 0.0, 0.0])):
        events = g[:, k] > 0
        assert events.sum() > 300
        assert _inside(int((g[events, k] >= 2).sum()), int(events.sum()), 1 - mix[0])
    # the incidence and the per-dose split are untouched by the per-dose grades
    _, _, plain = _events(INPATIENT)
    np.testing.assert_array_equal(g > 0, plain.grade[CRS] > 0)


def test_a_dose_grade_mix_needs_one_entry_per_by_dose_entry():
    with pytest.raises(ScenarioErrors) as err:
        loader.load(INPATIENT, ["drug.crs.dose_grade_mix=[{grade_mix=[0.6,0.35,0.04,0.01]}]"])
    assert "dose_grade_mix has 1 entries and by_dose 3" in str(err.value)


def test_prophylaxis_only_removes_crs_or_lowers_its_grade_for_the_same_patients():
    s0, c0, base = _events(PROPHYLAXIS, BEFORE_1, "strategy.prophylaxis.patients='high_risk'")  # nobody high risk
    s1, c1, pro = _events(PROPHYLAXIS, BEFORE_1)
    g0, g1 = base.grade[CRS], pro.grade[CRS]
    assert not (g0 == 0).all()
    assert ((g1 > 0) <= (g0 > 0)).all() and (g1 <= g0).all()
    # the relative risk acts on the patient's chance of any CRS
    assert _inside(int((g1 > 0).any(axis=1).sum()), c1.n, 0.3 * s1.drug.crs.rate.value)
    # each remaining event's grade: the prophylaxis mix, the milder one here
    events = g1[g1 > 0]
    assert _inside(int((events >= 2).sum()), events.size, 0.05)
    assert events.max() <= 2   # no grade 3-4 under a mix without them


def test_prophylaxis_before_a_later_dose_leaves_the_earlier_doses_alone():
    _, _, base = _events(PROPHYLAXIS, BEFORE_1, "strategy.prophylaxis.patients='high_risk'")
    _, _, later = _events(PROPHYLAXIS, BEFORE_1, "strategy.prophylaxis.doses=[2]")
    np.testing.assert_array_equal(later.grade[CRS][:, 0], base.grade[CRS][:, 0])
    assert (later.grade[CRS][:, 1] > 0).sum() < 0.5 * (base.grade[CRS][:, 1] > 0).sum()


def test_a_timing_the_drug_has_no_evidence_for_is_refused_naming_what_it_has():
    with pytest.raises(ScenarioErrors) as err:
        loader.load(PROPHYLAXIS, [BEFORE_1, "strategy.prophylaxis.doses=[3]"])
    msg = str(err.value)
    assert "\n" not in msg and "strategy.prophylaxis" in msg and "before_dose_3" in msg
    assert "timing = 'before_dose' with dose 1" in msg and "timing = 'before_dose' with dose 2" in msg


def test_entries_are_named_by_timing_and_after_dose_needs_its_hours():
    with pytest.raises(ScenarioErrors) as err:
        loader.load(PROPHYLAXIS, ["drug.prophylaxis={before_first={crs_relative_risk=0.3, icans_relative_risk=1}}"])
    assert "before_dose_<k> or after_dose_<k>" in str(err.value)
    with pytest.raises(ScenarioErrors) as err:
        loader.load(PROPHYLAXIS, ["drug.prophylaxis={after_dose_1={crs_relative_risk=0.3, icans_relative_risk=1}}"])
    assert "hours_after is missing" in str(err.value)


def test_a_drug_file_with_one_old_style_prophylaxis_table_reads_it_as_before_dose_1():
    s = loader.load(PROPHYLAXIS, ["drug.prophylaxis={crs_relative_risk=0.25, icans_relative_risk=0.5}"])
    assert s.drug.prophylaxis["before_dose_1"].crs_relative_risk.value == 0.25


AFTER_1 = ["drug.prophylaxis={after_dose_1={hours_after=40, crs_relative_risk=0.4, icans_relative_risk=1}}",
           "strategy.prophylaxis={doses=[1], timing='after_dose', chair_hours=1}"]


def test_tocilizumab_after_a_dose_is_given_in_the_monitoring_bed_at_its_hour():
    s = loader.load(INPATIENT, ["run.warmup_weeks=0", "run.horizon_weeks=4", "run.follow_up_weeks=2",
                                "run.warm_start=false", *AFTER_1])
    log = model.Model(s, cohort.draw(s, 0)).run()
    first = log.first_dose[np.isfinite(log.first_dose)]
    given = np.array([t for t, _, _ in log.toci])
    assert len(first) > 5
    # every patient's prophylactic dose comes 40 h after the first infusion (treatment doses come on top)
    assert all(np.isclose(given, t + 40.0).any() for t in first)
    assert not any(np.isclose(given, t).any() for t in first)   # not before the dose


def test_tocilizumab_after_a_dose_needs_a_bed_kept_that_long():
    with pytest.raises(ScenarioErrors) as err:
        loader.load(PROPHYLAXIS, AFTER_1)
    msg = str(err.value)
    assert "40 h after dose 1" in msg and "allowed: a bed place" in msg


RECURRENCE = "drug.crs.after_tocilizumab={relative_risk=0.25, source='test'}"


def test_tocilizumab_at_the_first_crs_event_lowers_later_crs_by_the_relative_risk():
    s, c, ev = _events(INPATIENT, RECURRENCE)
    _, _, plain = _events(INPATIENT)
    g, g0 = ev.grade[CRS], plain.grade[CRS]
    assert ((g > 0) <= (g0 > 0)).all()   # only removes
    has = g0 > 0
    rows = np.nonzero(has.any(axis=1))[0]
    first = has[rows].argmax(axis=1)
    p_toci = np.array([0.0] + [r.tocilizumab_probability.value for r in s.drug.management.crs])
    treated = c.toci_u[rows, first, 0] < p_toci[g0[rows, first]]
    later = np.arange(g.shape[1])[None, :] > first[:, None]
    again_with = ((g[rows] > 0) & later).any(axis=1)
    again_without = ((g0[rows] > 0) & later).any(axis=1)
    assert treated.sum() > 100 and (~treated).sum() > 100
    # untreated patients keep every later event; treated ones keep them with the relative risk
    np.testing.assert_array_equal(again_with[~treated], again_without[~treated])
    kept = again_with[treated].sum() / again_without[treated].sum()
    assert _inside(int(again_with[treated].sum()), int(again_without[treated].sum()), 0.25), kept


def test_under_uncertainty_a_relative_risk_with_counts_is_drawn_and_one_without_stays():
    counts = ("drug.prophylaxis={before_dose_1={crs_relative_risk=0.19, icans_relative_risk=0.2, "
              "treated={patients=10, events=1}}}")
    s = loader.load(PROPHYLAXIS, [counts, "run.parameter_uncertainty=true"])
    rr = [cohort.draw(s, r).parameters.prophylaxis["before_dose_1"] for r in range(40)]
    crs = np.array([e.crs_relative_risk for e in rr])
    assert crs.std() > 0.05 and 0.05 < np.median(crs) < 0.5   # n = 10: wide, as the evidence is
    assert {e.icans_relative_risk for e in rr} == {0.2}
    fixed = loader.load(PROPHYLAXIS, [counts])
    assert {cohort.draw(fixed, r).parameters.prophylaxis["before_dose_1"].crs_relative_risk
            for r in range(3)} == {0.19}
