"""Extreme values on every preset (tests/test_model.py covers the reference scenario; these extend it).

- no toxicity: no ED visit, unplanned admission, ICU stay or treatment tocilizumab; the only
  tocilizumab is prophylaxis, one dose per patient who gets it;
- unlimited capacity: nobody waits, no dose is postponed, nobody is referred elsewhere;
- no demand: every KPI is zero except the tocilizumab stock held;
- certain toxicity: every patient started has CRS and ICANS;
- prophylaxis with relative risk 0: no CRS or ICANS at all, while prophylaxis is still given.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim import cohort, model
from sim.analysis import runner
from sim.config import loader
from sim.config.scenario import RESOURCES
from sim.metrics import summarise
from tests.conftest import HUGE, SCENARIOS

# short runs: the extremes show at once, and every preset must stay cheap to check
TINY = ["run.warmup_weeks=4", "run.horizon_weeks=16", "run.follow_up_weeks=4"]
TARLATAMAB = ["tarlatamab_inpatient", "tarlatamab_outpatient_short", "tarlatamab_prophylactic_toci",
              "tarlatamab_risk_stratified"]
ALL_PRESETS = sorted(p.stem for p in SCENARIOS.glob("*.toml") if p.stem != "base")


def load(name: str, *overrides: str):
    return loader.load(SCENARIOS / f"{name}.toml", [*TINY, *overrides])


def one(s, rep: int = 0):
    """(cohort, run log, KPI row) of one replication; for a centre, the cohorts and the centre's log."""
    if s.programmes:
        c = cohort.draw_centre(s, rep)
        log = model.simulate_centre(s, c).centre
    else:
        c = cohort.draw(s, rep)
        log = model.simulate(s, c)
    return c, log, summarise(log, s, rep)


def no_demand(name: str) -> list[str]:
    """Overrides that leave a preset (or every programme of a centre, and other services) without patients."""
    s = load(name)
    if not s.programmes:
        return ["demand.patients_per_week=0"]
    return ([f"programmes.{p}.demand.patients_per_week=0" for p in s.programmes]
            + [f"other_admissions.{j}.per_week=0" for j in range(len(s.other_admissions))])


@pytest.mark.parametrize("name", TARLATAMAB)
def test_no_toxicity_means_no_unplanned_care_and_only_prophylactic_tocilizumab(name):
    s = load(name, "drug.crs.rate=0", "drug.icans.rate=0")
    c, log, k = one(s, 1)
    assert k["patients_started"] > 20
    for col in ("ed_visits", "unplanned_ward_admissions", "icu_admissions", "icu_bed_days", "icu_boarding_hours",
                "crs_rate", "icans_rate", "peak_ed_bays", "peak_icu_beds"):
        assert k[col] == 0, col
    assert log.care == [] and not log.discontinued.any()
    pro = s.strategy.prophylaxis
    w0, w1 = log.window
    first = log.dose_time[:, 0]
    given_first = (first >= w0) & (first < w1)
    if pro is None:
        expected = 0
    else:
        gets = np.ones(log.n, dtype=bool) if pro.patients == "all" else c.high_risk
        expected = int((given_first & gets).sum()) if 1 in pro.doses else 0
    assert k["toci_doses"] == expected


@pytest.mark.parametrize("name", [n for n in ALL_PRESETS if n != "tarlatamab_outpatient"])
def test_unlimited_capacity_means_no_waits_postponements_or_diversions(name):
    s = load(name, *HUGE)
    _, log, k = one(s)
    assert k["patients_started"] > 0
    assert k["doses_postponed"] == 0 and k["patients_diverted"] == 0 and k["icu_boarding_hours"] == 0
    assert (log.dose_postponed == 0).all()
    for r in RESOURCES:
        assert k[f"wait_{r}_hours_mean"] == 0, r
        assert max(log.pools[r][3], default=0.0) == 0.0, r  # every single request granted at once


@pytest.mark.parametrize("name", ALL_PRESETS)
def test_no_demand_gives_zeros(name):
    s = load(name, *no_demand(name), "pharmacy.background_doses_per_week=0")
    _, log, k = one(s)
    assert log.n == 0
    held = {"replication", "toci_on_hand_mean_mg"}
    nonzero = {key: v for key, v in k.items() if key not in held and v != 0}
    assert nonzero == {}


@pytest.mark.parametrize("name", ["tarlatamab_outpatient", "tarlatamab_inpatient"])  # no prophylaxis
def test_certain_toxicity_reaches_every_patient(name):
    """Rate 1: the logistic risk calibration must not pull anyone below certainty."""
    s = load(name, "drug.crs.rate=1", "drug.icans.rate=1", *HUGE)
    k = runner.run(s, 2, executor="serial").kpis
    assert (k["patients_started"] > 20).all()
    assert (k["crs_rate"] == 1).all() and (k["icans_rate"] == 1).all()


def test_prophylaxis_with_relative_risk_zero_prevents_all_toxicity():
    s = load("tarlatamab_prophylactic_toci", "drug.prophylaxis.crs_relative_risk=0",
             "drug.prophylaxis.icans_relative_risk=0")
    c, log, k = one(s, 2)
    assert k["patients_started"] > 20
    assert k["crs_rate"] == 0 and k["icans_rate"] == 0 and k["ed_visits"] == 0
    assert k["toci_doses"] > 0  # the prophylactic doses themselves
