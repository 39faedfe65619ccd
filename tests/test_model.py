"""What a user relies on from the model: conservation, capacity, incidence, paired effects, routing."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim import cohort, model
from sim.analysis import runner
from sim.config import loader
from sim.config.dose_plan import dose_requirements, plan_dose
from sim.config.scenario import RESOURCES
from sim.model.pathway import CRS
from sim.model.runlog import (
    DIVERTED,
    LEFT,
    ON_TREATMENT,
    PLACE_CODES,
    PLACE_NAMES,
    WAITING,
)
from tests.conftest import HUGE, SCENARIOS, SHORT

STRATEGIES = ["tarlatamab_outpatient", "tarlatamab_inpatient", "tarlatamab_outpatient_short",
              "tarlatamab_prophylactic_toci", "tarlatamab_risk_stratified", "teclistamab_inpatient_single_admission"]


def scenario(name: str, *overrides: str):
    return loader.load(SCENARIOS / f"{name}.toml", [*SHORT, *overrides])


def simulate(s, rep: int = 0) -> tuple[model.Model, object]:
    m = model.Model(s, cohort.draw(s, rep))
    return m, m.run()


@pytest.mark.parametrize("name", STRATEGIES)
def test_conservation_and_capacity(name):
    s = scenario(name)
    m, log = simulate(s, 1)
    check_conservation_and_capacity(s, m, log)


def check_conservation_and_capacity(s, m, log) -> None:
    """Every referred patient left, was referred elsewhere, or is still in care; no place ever overfull."""
    assert log.referral.size > 50
    status = log.status
    assert set(np.unique(status)) <= {WAITING, ON_TREATMENT, LEFT, DIVERTED}
    done = (status == LEFT) | (status == DIVERTED)
    assert np.isfinite(log.left_at[done]).all() and np.isnan(log.left_at[~done]).all()
    assert (log.left_at[done] >= log.referral[done]).all()
    started = np.isfinite(log.first_dose)
    assert not started[status == WAITING].any() and started[status == ON_TREATMENT].all()
    # doses only between the first dose and leaving
    first, last = np.nanmin(log.dose_time, axis=1, initial=np.inf), np.nanmax(log.dose_time, axis=1, initial=-np.inf)
    new = started & ~log.prevalent
    assert np.allclose(first[new], log.first_dose[new])
    # patients on maintenance at the start (warm start) began before t = 0 and dose only from t = 0 on
    assert log.prevalent.any() and (log.first_dose[log.prevalent] < 0).all()
    assert (first[log.prevalent & np.isfinite(first)] >= 0).all()
    assert (last[status == LEFT] <= log.left_at[status == LEFT]).all()
    # nobody holds a place after leaving: places in use at the end <= patients still in care
    in_care = int((status == ON_TREATMENT).sum())
    at_end = sum(levels[-1] for _, levels, _, _ in log.pools.values())
    assert at_end <= in_care
    for r in RESOURCES:
        levels = np.asarray(log.pools[r][1])
        assert levels.min() >= 0 and levels.max() <= getattr(s.capacity, r), r
    for res, ledger in m.ledgers.items():
        ivs = sorted(ledger.bookings(), key=lambda iv: (iv[2], iv[0]))
        for a, b in zip(ivs, ivs[1:]):
            assert a[2] != b[2] or a[1] <= b[0] + 1e-9, (res, a, b)


def test_same_seed_same_numbers(short):
    a = runner.run(short, 3, executor="serial").kpis
    b = runner.run(short, 3, executor="serial").kpis
    assert a.equals(b)
    c = runner.run(short, 3, seed=short.run.seed + 1, executor="serial").kpis
    assert not a.equals(c)


@pytest.mark.slow
@pytest.mark.parametrize("profile,crs,icans", [("trial", 0.57, 0.09), ("real_world", 0.533, 0.233)])
def test_incidence_reproduces_the_profile(profile, crs, icans):
    s = scenario("tarlatamab_outpatient", f"drug.profile={profile}", *HUGE)
    k = runner.run(s, 40, executor="serial").kpis
    n = k["patients_started"].sum()
    for rate, col in ((crs, "crs_rate"), (icans, "icans_rate")):
        observed = (k[col] * k["patients_started"]).sum() / n
        half = 3.3 * math.sqrt(rate * (1 - rate) / n)  # 99.9% binomial interval
        assert abs(observed - rate) < half, (col, observed, rate, half)


def test_prophylaxis_lowers_crs_on_the_same_cohort():
    base = scenario("tarlatamab_outpatient")
    pro = scenario("tarlatamab_prophylactic_toci")
    mb, _ = simulate(base, 2)
    mp, _ = simulate(pro, 2)
    gb = np.array(mb.grade[CRS]) > 0
    gp = np.array(mp.grade[CRS]) > 0
    # the same uniforms, a lower probability: CRS under prophylaxis is a strict subset
    assert (gp <= gb).all() and gp.sum() < 0.5 * gb.sum()
    kb = runner.run(base, 4, executor="serial").kpis
    kp = runner.run(pro, 4, executor="serial").kpis
    assert (kp["crs_rate"] < kb["crs_rate"]).all()
    assert (kp["toci_doses"] > kb["toci_doses"]).all()  # every patient gets a prophylactic dose


def test_more_observation_beds_never_raise_postponements():
    totals = []
    for beds in (2, 3, 4, 6):
        s = scenario("tarlatamab_outpatient", f"capacity.observation_beds={beds}")
        totals.append(runner.run(s, 6, executor="serial").kpis["doses_postponed"].sum())
    assert all(a >= b for a, b in zip(totals, totals[1:])), totals
    assert totals[0] > totals[-1]


def test_outpatient_short_sends_home_onsets_where_the_strategy_says():
    """CRS after dose 1 only, onset at ~16 h: after an 8 h clinic stay it starts at home (an ED visit when
    strategy.onset_at_home sends grade 1 CRS to the ED, none when it is managed at home); in a 23 h
    observation bed it starts in the bed (no ED visit)."""
    crs_at_16h = ["drug.crs.rate=1.0", "drug.crs.by_dose=[1.0]", "drug.crs.onset_sigma=0.01",
                  "drug.crs.grade_mix=[1.0, 0.0, 0.0, 0.0]", "drug.icans.rate=0.0", *HUGE]
    _, short_log = simulate(scenario("tarlatamab_outpatient_short", *crs_at_16h,
                                     "strategy.onset_at_home.crs_grade1=ed"), 0)
    at_home = ((short_log.dose_place[:, 0] == PLACE_CODES["clinic"])
               & (short_log.dose_time[:, 0] + 16.5 < short_log.end_time)).sum()
    assert at_home > 20
    assert len(short_log.ed_visits) == at_home
    _, home_log = simulate(scenario("tarlatamab_outpatient_short", *crs_at_16h,
                                    "strategy.onset_at_home.crs_grade1=home"), 0)
    assert len(home_log.ed_visits) == 0 and len(home_log.managed_at_home) == at_home
    _, obs_log = simulate(scenario("tarlatamab_outpatient", *crs_at_16h), 0)
    assert len(obs_log.ed_visits) == 0


def test_zero_toxicity_means_no_ed_admissions_or_tocilizumab():
    s = scenario("tarlatamab_outpatient", "drug.crs.rate=0", "drug.icans.rate=0")
    k = runner.run(s, 2, executor="serial").kpis
    for col in ("ed_visits", "unplanned_ward_admissions", "icu_admissions", "toci_doses", "crs_rate",
                "icans_rate", "icu_bed_days"):  # ward beds still host planned stays of ineligible patients
        assert (k[col] == 0).all(), col


def test_infinite_capacity_means_no_waits_or_postponements():
    k = runner.run(scenario("tarlatamab_outpatient", *HUGE), 2, executor="serial").kpis
    assert (k["doses_postponed"] == 0).all() and (k["icu_boarding_hours"] == 0).all()
    for r in RESOURCES:
        assert (k[f"wait_{r}_hours_mean"] == 0).all()


def test_zero_demand_gives_zeros():
    s = scenario("tarlatamab_outpatient", "demand.patients_per_week=0", "pharmacy.background_doses_per_week=0")
    k = runner.run(s, 1, executor="serial").kpis
    assert k.loc[0, "toci_on_hand_mean_mg"] > 0  # the stock is still held
    numeric = k.drop(columns=["replication", "toci_on_hand_mean_mg"])
    assert (numeric == 0).all().all(), numeric.loc[:, (numeric != 0).any()]


def test_littles_law_on_observation_beds():
    """With no toxicity and unlimited beds the observation unit is an M/G/infinity queue: mean occupancy
    equals the admission rate times the fixed stay (premedication + monitoring)."""
    s = scenario("tarlatamab_outpatient", "drug.crs.rate=0", "drug.icans.rate=0", *HUGE)
    m, log = simulate(s, 3)
    w0, w1 = log.window
    stay = s.drug.chair.premedication_hours.value + s.drug.schedule[0].monitor_hours.value
    in_obs = (log.dose_place == PLACE_CODES["observation"]) & (log.dose_time >= w0) & (log.dose_time < w1)
    arrivals_per_hour = in_obs.sum() / (w1 - w0)
    from sim.metrics import step_area
    occupancy = step_area(*log.pools["observation_beds"][:2], w0, w1) / (w1 - w0)
    assert occupancy == pytest.approx(arrivals_per_hour * stay, rel=0.02)


@pytest.mark.parametrize("name", ["tarlatamab_prophylactic_toci", "tarlatamab_risk_stratified"])
def test_each_dose_is_given_and_recorded_as_its_dose_plan(name):
    """Place, premedication (with prophylaxis) and planned stay of every dose before any toxicity are
    those of :func:`plan_dose` for that patient: the model books by the one plan the feasibility
    checks test, and records the stay the dosing calendar draws."""
    s = scenario(name)
    c = cohort.draw(s, 2)
    log = model.simulate(s, c)
    requirements = dose_requirements(s.drug, log.max_doses)
    patients = np.arange(min(80, log.n))
    start, end = log.planned_stays(patients)
    toxicity = (log.crs_grade > 0) | (log.icans_grade > 0)
    checked = set()
    for i in patients:
        for k in np.flatnonzero(np.isfinite(log.dose_time[i])):
            if toxicity[i, :k].any():
                break   # a toxicity may ask for longer monitoring of the next dose
            plan = plan_dose(s.drug, s.strategy, k + 1, requirements[k], bool(c.high_risk[i]), bool(c.eligible[i]))
            assert PLACE_NAMES[int(log.dose_place[i, k])] == plan.place
            assert end[i, k] - start[i, k] == pytest.approx(plan.stay_hours)
            assert log.dose_time[i, k] - start[i, k] == pytest.approx(plan.premed_hours)
            checked.add((plan.place, plan.prophylaxis))
    assert len(checked) >= 3   # several places, with and without prophylaxis


def test_every_ed_visit_and_admission_is_attributed_to_a_patient_and_toxicity():
    s = scenario("tarlatamab_outpatient_short", "drug.profile=real_world")
    _, log = simulate(s, 0)
    settings = [c[2] for c in log.care]
    assert settings.count("ed") == len(log.ed_visits) > 0
    assert settings.count("ward") == len(log.unplanned_ward)
    assert settings.count("icu") == len(log.icu_admissions)
    for t, patient, _, kind, grade in log.care:
        assert kind in (0, 1) and 1 <= grade <= 4
        assert log.first_dose[patient] <= t  # toxicity follows treatment


def test_dose_after_grade2_crs_gets_the_follow_up_monitoring_even_when_it_needs_the_same_hours():
    """C1D8 needs 22-24 h anyway; after grade 2 CRS the label wants it monitored 22-24 h in a healthcare
    setting, so the 8 h clinic slot of the short outpatient strategy no longer applies."""
    g2_after_dose_1 = ["drug.crs.rate=1.0", "drug.crs.by_dose=[1.0]", "drug.crs.grade_mix=[0.0, 1.0, 0.0, 0.0]",
                       "drug.crs.onset_sigma=0.01", "drug.crs.duration_median_hours=24",
                       "drug.crs.duration_sigma=0.01", "drug.icans.rate=0.0", *HUGE]
    _, log = simulate(scenario("tarlatamab_outpatient_short", *g2_after_dose_1), 0)
    started = np.isfinite(log.dose_time[:, 1])
    clinic_first = started & (log.dose_place[:, 0] == PLACE_CODES["clinic"])
    assert clinic_first.sum() > 20
    assert (log.dose_place[clinic_first, 1] == PLACE_CODES["observation"]).all()
    assert (log.dose_place[clinic_first, 2] == PLACE_CODES["clinic"]).all()  # C1D15: back to the chair


def test_warm_start_seeds_the_steady_state_population():
    """At t = 0 a steady state has, with referral rate lambda, exponential time on therapy of mean m and
    the last step-up dose at a0: Poisson(lambda m exp(-a0 / m)) patients on maintenance, Poisson(lambda a0)
    part-way through the step-up and Poisson(lambda L) referred within the lead time L and not yet
    dosed. Without a warm start there are none."""
    s = scenario("tarlatamab_outpatient")
    lam = s.demand.patients_per_week / 168
    m = s.drug.time_on_therapy_median_days.value * 24 / math.log(2)
    a0 = 14 * 24  # tarlatamab: C1D15
    lead = s.calendar.lead_time_days * 24
    reps = 40
    maintenance, step_up, waiting = [], [], []
    for r in range(reps):
        c = cohort.draw(s, r)
        age = -c.referral
        maintenance.append(int((c.prevalent & (age > a0)).sum()))
        step_up.append(int((c.prevalent & (age <= a0)).sum()))
        waiting.append(int((~c.prevalent & (c.referral < 0)).sum()))
        assert (age[c.prevalent] > 0).all() and (age[~c.prevalent & (c.referral < 0)] <= lead).all()
    for counts, expected in ((maintenance, lam * m * math.exp(-a0 / m)), (step_up, lam * a0), (waiting, lam * lead)):
        assert abs(np.mean(counts) - expected) < 3.3 * math.sqrt(expected / reps), (np.mean(counts), expected)
    cold = scenario("tarlatamab_outpatient", "run.warm_start=false")
    c = cohort.draw(cold, 0)
    assert not c.prevalent.any() and (c.referral >= 0).all()
    # the referred patients' draws do not depend on the warm start (they come first in every array)
    warm_c, cold_c = cohort.draw(s, 5), cohort.draw(cold, 5)
    n = cold_c.n
    np.testing.assert_array_equal(warm_c.referral[:n], cold_c.referral)
    np.testing.assert_array_equal(warm_c.crs_patient_u[:n], cold_c.crs_patient_u)
    # prevalent patients keep dosing every two weeks from the start, in their own phase
    _, log = simulate(s, 5)
    times = log.dose_time[log.prevalent]
    gaps = np.diff(np.sort(times[np.isfinite(times[:, 0])][:, :3], axis=1), axis=1) / 24
    assert (np.round(gaps) >= 14).all()
