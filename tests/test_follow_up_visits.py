"""Planned follow-up clinic visits after the first dose (DeLLphi-300 Part F: days 2, 3, 5, 9, 16 and 22): they
take a clinic room on their day of treatment, are counted and priced, and move nothing else."""

from __future__ import annotations

import numpy as np
import pytest

from sim import cohort, metrics, model
from sim.config import loader
from sim.config.errors import ScenarioErrors
from sim.config.registry import COST_BREAKDOWN, KPI_NAMES
from tests.conftest import SCENARIOS, SHORT

PART_F = SCENARIOS / "tarlatamab_outpatient_short.toml"
ELIGIBLE = ["population.outpatient_eligible=1"]
VISIT_KPIS = {"clinic_visits", "cost_clinic", "cost_total", "cost_per_patient_started",
              "util_clinic_rooms", "peak_clinic_rooms", "wait_clinic_rooms_hours_mean"}


def _run(*overrides: str, rep: int = 0):
    s = loader.load(PART_F, [*SHORT, *ELIGIBLE, *overrides])
    m = model.Model(s, cohort.draw(s, rep))
    log = m.run()
    return s, m, log, metrics.summarise(log, s, rep)


@pytest.fixture(scope="module")
def with_visits():
    return _run()


def test_part_f_visits_are_counted_priced_and_fit_the_rooms(with_visits):
    s, m, log, row = with_visits
    assert s.strategy.follow_up_visit_days == (2, 3, 5, 9, 16, 22)
    new = np.isfinite(log.first_dose) & ~log.prevalent
    # at most six visits a patient (fewer when a weekend pushes one onto the next's day or the patient is in care)
    assert 3 * new.sum() < len(log.clinic_visits) <= 6 * new.sum()
    assert row["clinic_visits"] > 0 and 0 < row["util_clinic_rooms"] < 1
    assert row["peak_clinic_rooms"] <= s.capacity.clinic_rooms
    assert row["cost_clinic"] == pytest.approx(row["clinic_visits"] * s.costs.clinic_visit.value)
    assert row["cost_total"] == sum(row[k] for k in COST_BREAKDOWN)
    # every visit starts inside the centre's opening hours on an open day and ends by closing
    t = np.asarray(log.clinic_visits)
    day, hour = np.floor(t / 24).astype(int), t % 24
    assert all(m.cal.is_open[d] for d in day)
    assert (hour >= s.calendar.open_hour).all()
    assert (hour + s.operations.clinic_visit_hours.value <= s.calendar.close_hour + 1e-9).all()


def test_a_traced_patient_is_seen_on_the_days_of_treatment_part_f_gives():
    s = loader.load(PART_F, [*SHORT, *ELIGIBLE])
    c = cohort.draw(s, 0)
    log = model.simulate(s, c)
    # a patient whose first dose is on a Monday (days 2, 3, 5, 9, 16 and 22 are all weekdays) and who has no
    # CRS or ICANS to keep them in hospital on a visit day
    untouched = ~(log.crs_grade > 0).any(axis=1) & ~(log.icans_grade > 0).any(axis=1)
    mondays = np.flatnonzero(~c.prevalent & np.isfinite(log.first_dose) & ((log.first_dose // 24) % 7 == 0)
                             & (log.first_dose < log.end_time - 30 * 24) & untouched)
    assert mondays.size
    i = int(mondays[0])
    steps = model.trace(s, c, i)
    seen = [int(what.split("day ")[1].split(" ")[0]) for _, what in steps if what.startswith("follow-up clinic visit")]
    assert seen == [2, 3, 5, 9, 16, 22]


def test_visits_draw_nothing_so_every_other_kpi_is_unchanged(with_visits):
    """Common random numbers: the same seeds with and without the visits give the same patients, doses and
    toxicity; only the clinic rooms' KPIs and the cost move."""
    _, _, _, row = with_visits
    _, _, log0, row0 = _run("strategy.follow_up_visit_days=[]")
    assert row0["clinic_visits"] == 0 and row0["util_clinic_rooms"] == 0 and row0["cost_clinic"] == 0
    assert row["cost_total"] == pytest.approx(row0["cost_total"] + row["cost_clinic"])
    for k in KPI_NAMES:
        if k not in VISIT_KPIS:
            assert row[k] == row0[k], k


@pytest.mark.parametrize("value,why", [("[1, 2]", "from 2"), ("[3, 2]", "increasing"), ("[2, 400]", "to 365")])
def test_bad_visit_days_are_refused_in_one_line_naming_the_field(value, why):
    with pytest.raises(ScenarioErrors) as err:
        loader.load(PART_F, [f"strategy.follow_up_visit_days={value}"])
    msg = str(err.value)
    assert "\n" not in msg and "follow_up_visit_days" in msg and why in msg


def test_visits_need_a_clinic_room_that_fits_the_day():
    with pytest.raises(ScenarioErrors, match=r"capacity.clinic_rooms = 0, but strategy.follow_up_visit_days"):
        loader.load(PART_F, ["capacity.clinic_rooms=0"])
    with pytest.raises(ScenarioErrors, match=r"operations.clinic_visit_hours = 12 is longer than the 10 h"):
        loader.load(PART_F, ["operations.clinic_visit_hours=12"])
    loader.load(PART_F, ["capacity.clinic_rooms=0", "strategy.follow_up_visit_days=[]"])
