"""Other services' admissions into the programme's beds (issue 15, build item 2): sim/cohort/others.py,
the model's other-admission processes and their KPIs."""

from __future__ import annotations

import math

import numpy as np
import pytest

import sim
from sim import cohort, metrics, model
from sim.analysis.stats import mean_ci
from sim.config.errors import ScenarioErrors

CART = """
extends = "tarlatamab_inpatient.toml"
name = "cart"
[run]
warmup_weeks = 4
horizon_weeks = 52
follow_up_weeks = 4
[[other_admissions]]
name = "CAR-T"
resource = "ward_beds"
per_week = {per_week}
stay_median_hours = 240
stay_sigma = 0.4
"""


def _scenario(per_week: float = 1.5) -> sim.Scenario:
    return sim.loads(CART.format(per_week=per_week))


def _replicate(s: sim.Scenario, rep: int):
    c = cohort.draw(s, rep)
    log = model.Model(s, c).run()
    return c, log, metrics.summarise(log, s, rep)


def test_alone_in_ample_beds_the_census_is_the_arrival_rate_times_the_mean_stay():
    """Little's law on an M/G/infinity queue: no programme patients, beds never short."""
    s = sim.loads(CART.format(per_week=3.0) + "\n[demand]\npatients_per_week = 0\n[capacity]\nward_beds = 200\n")
    mean_stay_days = 240 * math.exp(0.4 ** 2 / 2) / 24
    census = []
    for rep in range(12):
        _, log, k = _replicate(s, rep)
        window_days = (log.window[1] - log.window[0]) / 24
        census.append(k["other_bed_days"] / window_days)
        assert k["other_wait_hours_mean"] == 0
    mean, _, lo, hi, _ = mean_ci(np.array(census))
    assert lo <= 3.0 / 7 * mean_stay_days <= hi, (mean, lo, hi)


def test_the_beds_hold_their_steady_state_census_from_the_start():
    s = sim.loads(CART.format(per_week=3.0) + "\n[demand]\npatients_per_week = 0\n[capacity]\nward_beds = 200\n")
    at_start = [int((cohort.draw(s, rep).other_admissions[0][0] == 0).sum()) for rep in range(30)]
    expected = 3.0 / 168 * 240 * math.exp(0.4 ** 2 / 2)   # Poisson mean of the census
    assert abs(np.mean(at_start) - expected) < 4 * math.sqrt(expected / 30)


def test_with_ample_beds_the_programme_is_untouched_and_its_bed_days_leave_the_others_out():
    base = sim.loads(CART.format(per_week=0) + "\n[capacity]\nward_beds = 200\n")
    busy = sim.loads(CART.format(per_week=2.0) + "\n[capacity]\nward_beds = 200\n")
    _, _, k0 = _replicate(base, 0)
    _, log, k1 = _replicate(busy, 0)
    assert k1["other_admissions"] > 50
    for kpi in ("doses_given", "ward_bed_days", "cost_ward", "patients_started", "doses_postponed"):
        assert k1[kpi] == pytest.approx(k0[kpi]), kpi
    assert k1["util_ward_beds"] > k0["util_ward_beds"]   # utilisation counts everyone in the beds


def test_other_services_in_short_beds_postpone_the_programme_and_never_overfill_a_bed():
    s = _scenario(per_week=1.5)
    quiet = _scenario(per_week=0.0)
    more, fewer = [], []
    for rep in range(4):
        _, log, k = _replicate(s, rep)
        times, levels = log.pools["ward_beds"][:2]
        assert levels.max() <= s.capacity.ward_beds
        # every admission either left, is in its bed at the end, or is still waiting for one
        assert all((b != b) or (b >= a) for _, a, b, _ in log.other_stays)
        more.append(k["p_dose_postponed"])
        fewer.append(_replicate(quiet, rep)[2]["p_dose_postponed"])
    assert np.mean(more) > np.mean(fewer)


def test_a_stream_into_a_place_that_is_not_a_bed_is_refused_naming_the_beds():
    with pytest.raises(ScenarioErrors) as err:
        sim.loads(CART.format(per_week=1).replace('"ward_beds"', '"chairs"'))
    msg = str(err.value)
    assert "other_admissions" in msg and "'chairs'" in msg and "ward_beds" in msg and "icu_beds" in msg


def test_a_stream_into_beds_the_centre_does_not_have_is_refused():
    with pytest.raises(ScenarioErrors) as err:
        sim.loads(CART.format(per_week=1).replace('"ward_beds"', '"observation_beds"')
                  + "\n[capacity]\nobservation_beds = 0\n")
    assert "capacity.observation_beds = 0" in str(err.value)


def test_adding_a_stream_changes_no_draw_of_the_programme_or_of_an_earlier_stream():
    one = sim.loads(CART.format(per_week=1.5))
    two = sim.loads(CART.format(per_week=1.5) + """
[[other_admissions]]
name = "general oncology"
resource = "icu_beds"
per_week = 0.5
stay_median_hours = 72
stay_sigma = 0.5
""")
    c1, c2 = cohort.draw(one, 3), cohort.draw(two, 3)
    np.testing.assert_array_equal(c1.referral, c2.referral)
    np.testing.assert_array_equal(c1.crs_grade_u, c2.crs_grade_u)
    for a, b in zip(c1.other_admissions[0], c2.other_admissions[0]):
        np.testing.assert_array_equal(a, b)


def test_other_services_tocilizumab_comes_from_the_shared_stock_not_the_programmes():
    """A stream whose every admission gets a dose: the stock dispenses those doses on top (the mg of each
    admission's drawn weight, at its drawn hour), and the programme's own tocilizumab does not move."""
    quiet = _scenario(3.0)
    treated = sim.loads(CART.format(per_week=3.0) + "toci_probability = 1\ntoci_within_hours = 48\n")
    w0, w1 = quiet.run.warmup_weeks * 168.0, (quiet.run.warmup_weeks + quiet.run.horizon_weeks) * 168.0
    extra, expected = 0.0, 0.0
    for rep in range(4):
        _, _, k0 = _replicate(quiet, rep)
        c, _, k1 = _replicate(treated, rep)
        assert k1["toci_mg"] == k0["toci_mg"]
        extra += k1["toci_mg_used"] - k0["toci_mg_used"]
        at, mg, doses = c.other_toci[0]
        assert not np.isnan(at).any() and (at <= 48).all()
        assert (doses == 1).all()   # repeats are off unless the stream sets toci_repeat_probability
        given = c.other_admissions[0][0] + at   # ample beds: each admission takes its bed on arrival
        expected += float(mg[(given >= w0) & (given < w1)].sum())
    assert abs(extra - expected) <= 0.02 * expected, (extra, expected)


REPEATED = "toci_probability = 1\ntoci_within_hours = 48\ntoci_repeat_probability = 0.5\n"


def test_a_treated_admission_repeats_its_dose_geometrically_up_to_the_labels_most():
    """With toci_repeat_probability p, a treated admission gets k doses with probability p^(k-1) (1 - p), the
    last of tocilizumab.max_doses taking the rest: mean (1 - p^4) / (1 - p) for the label's 4."""
    s = sim.loads(CART.format(per_week=3.0) + REPEATED)
    doses = np.concatenate([cohort.draw(s, rep).other_toci[0][2] for rep in range(8)])
    most = s.tocilizumab.max_doses
    assert doses.min() == 1 and doses.max() == most
    mean = (1 - 0.5 ** most) / (1 - 0.5)
    assert abs(doses.mean() - mean) < 4 * doses.std() / math.sqrt(doses.size), (doses.mean(), mean)
    assert abs((doses == most).mean() - 0.5 ** (most - 1)) < 0.04


def test_repeat_doses_move_no_other_draw_and_come_from_the_stock_while_the_patient_is_in():
    """Setting a repeat probability adds doses and nothing else: the admissions, the first dose's hour and mg
    and the programme's patients are drawn the same (the repeats have their own stream). The stock gives every
    dose the stay reaches: the first, then one every tocilizumab.repeat_interval_hours until discharge."""
    once = sim.loads(CART.format(per_week=3.0) + "toci_probability = 1\ntoci_within_hours = 48\n")
    again = sim.loads(CART.format(per_week=3.0) + REPEATED)
    w0, w1 = once.run.warmup_weeks * 168.0, (once.run.warmup_weeks + once.run.horizon_weeks) * 168.0
    every = again.tocilizumab.repeat_interval_hours.value
    extra, expected = 0.0, 0.0
    for rep in range(4):
        c1, _, k1 = _replicate(once, rep)
        c2, _, k2 = _replicate(again, rep)
        np.testing.assert_array_equal(c1.referral, c2.referral)
        for a, b in zip(c1.other_admissions[0] + c1.other_toci[0][:2], c2.other_admissions[0] + c2.other_toci[0][:2]):
            np.testing.assert_array_equal(a, b)
        assert k2["toci_mg"] == k1["toci_mg"]
        extra += k2["toci_mg_used"] - k1["toci_mg_used"]
        (start, stay), (at, mg, doses) = c2.other_admissions[0], c2.other_toci[0]
        for k in range(1, again.tocilizumab.max_doses):
            when = at + k * every
            given = (doses > k) & (when < stay) & (start + when >= w0) & (start + when < w1)
            expected += float(mg[given].sum())
    assert expected > 0
    assert abs(extra - expected) <= 0.02 * expected, (extra, expected)


def test_a_repeat_probability_outside_0_1_is_refused_naming_the_field():
    with pytest.raises(ScenarioErrors) as err:
        sim.loads(CART.format(per_week=1) + "toci_repeat_probability = 1.5\n")
    msg = str(err.value)
    assert "toci_repeat_probability" in msg and "1.5" in msg
