"""The lymphoma drugs, blinatumomab and tebentafusp as their labels say (issue 14).

Each test states the label fact itself (days, hours, which doses are premedicated, the restart table),
so a wrong number in a drug file fails here. Capacity is infinite, so no dose moves for lack of a bed
or chair; schedules and chair times are read from toxicity-free patients simulated alone.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.config import library
from tests.test_drug_presets import CLINIC, alone, checked_patient, day_offsets, simulate, stays


def chair_hours(solo, doses: list[int]) -> list[tuple[float, float]]:
    """For each listed dose (1-based): hours in the chair before the infusion starts (premedication) and
    hours from the infusion start to the end of the chair stay."""
    out = []
    for d in doses:
        t0 = solo.dose_time[0, d - 1]
        stay = [(start, end) for start, end in stays(solo, "chairs") if start <= t0 < end]
        assert len(stay) == 1, f"dose {d} is not inside exactly one chair stay"
        out.append((t0 - stay[0][0], stay[0][1] - t0))
    return out


def premedication_hours(solo, doses: list[int]) -> list[float]:
    return [before for before, _ in chair_hours(solo, doses)]


def chair_hours_after(solo, doses: list[int]) -> list[float]:
    return [after for _, after in chair_hours(solo, doses)]


# ----------------------------------------------------------------------------- epcoritamab + R2
def test_epcoritamab_r2_schedule_twelve_cycles_in_the_chair():
    """Epkinly US label, FL with lenalidomide and rituximab: 0.16 / 0.8 / 3 / 48 mg on C1D1, D8, D15, D22,
    48 mg weekly in cycles 2-3, day 1 of cycles 4-12 (28-day cycles): 21 doses, none in hospital.
    Rituximab (EPCORE FL-1) on C1D1-D22 and day 1 of cycles 2-5 lengthens those visits."""
    s, c, log = simulate("epcoritamab_fl_r2_outpatient.toml", weeks=52, per_week=2)
    assert np.isfinite(log.dose_time).sum(axis=1).max() <= 21
    i, solo = checked_patient(s, c, log, 21)
    weekly = list(range(0, 84, 7))  # cycles 1-3
    assert day_offsets(log, i, 21) == weekly + [84 + 28 * k for k in range(9)]  # C4D1 on day 84, then every 28 days
    assert (log.dose_place[i, :21] == CLINIC).all()
    assert stays(solo, "ward_beds") == [] and stays(solo, "observation_beds") == []
    chair = chair_hours_after(solo, [1, 2, 5, 6, 13, 14, 15])
    # first rituximab infusion + injection; later rituximab visits (C1D8, C2D1, C4D1, C5D1); injection only
    assert chair == pytest.approx([4.0, 3.0, 3.0, 0.5, 3.0, 3.0, 0.5])
    # premedication before each cycle 1 dose only
    assert premedication_hours(solo, [1, 4, 5, 14]) == pytest.approx([1.0, 1.0, 0.0, 0.0])


# ----------------------------------------------------------------------------- premedication by block
@pytest.mark.parametrize("preset,doses,premedicated", [
    # Columvi EU SmPC Table 1: IV glucocorticoid at C1D8, C1D15, C2D1, C3D1 (doses 2-5; dose 1 is obinutuzumab,
    # with its own premedication), oral premedication only from C4D1 (dose 6)
    ("glofitamab_inpatient.toml", [1, 3, 4, 5, 6, 7], [1.0, 1.0, 1.0, 1.0, 0.0, 0.0]),
    # Epkinly US label 2.1: premedicate before each dose in cycle 1 (doses 1-4 of 28-day cycles)
    ("epcoritamab_outpatient.toml", [1, 2, 4, 5, 6], [1.0, 1.0, 1.0, 0.0, 0.0]),
    # Lunsumio US label: corticosteroid before every cycle 1 and cycle 2 dose (doses 1-4), not from cycle 3
    ("mosunetuzumab_outpatient.toml", [1, 3, 4, 5, 6], [1.0, 1.0, 1.0, 0.0, 0.0]),
])
def test_premedication_only_where_the_label_asks(preset, doses, premedicated):
    s, c, log = simulate(preset, weeks=20)
    _, solo = checked_patient(s, c, log, max(doses))
    chair_doses = [d for d in doses if solo.dose_place[0, d - 1] == CLINIC]
    expected = [p for d, p in zip(doses, premedicated) if d in chair_doses]
    assert len(chair_doses) >= 4
    assert premedication_hours(solo, chair_doses) == pytest.approx(expected)


def test_blinatumomab_dexamethasone_at_cycle_starts_not_bag_changes():
    """Blincyto US label 2.2: dexamethasone 20 mg 1 h before the first dose of each cycle; a bag change
    needs none. Cycle 3 starts (dose 8) in the chair; its bag changes (doses 9-11) too."""
    s, c, log = simulate("blinatumomab_inpatient.toml", per_week=3, weeks=30)
    _, solo = checked_patient(s, c, log, 11)
    assert premedication_hours(solo, [2, 3, 8, 9, 10]) == pytest.approx([0.0, 0.0, 1.0, 0.0, 0.0])


# ----------------------------------------------------------------------------- glofitamab infusion after CRS
def test_glofitamab_dose_after_grade_1_crs_takes_8_hours_in_the_chair():
    """Columvi US label: after CRS the next infusion may be extended up to 8 hours (modelled at 8 h)."""
    s, c, log = simulate("glofitamab_inpatient.toml", weeks=20, per_week=12)
    worst = np.maximum(log.crs_grade.max(axis=1), log.icans_grade.max(axis=1))
    # a patient whose only toxicity is grade 1 CRS after the 10 mg dose (dose 3) and who had dose 4
    ids = [i for i in range(log.n) if worst[i] == 1 and log.crs_grade[i, 2] == 1
           and (log.crs_grade[i] > 0).sum() == 1 and np.isfinite(log.dose_time[i, 3])]
    assert ids, "no patient with grade 1 CRS after dose 3 alone"
    solo = alone(s, c, ids[0])
    assert solo.dose_place[0, 3] == CLINIC
    assert chair_hours_after(solo, [4]) == pytest.approx([8.0])


# ----------------------------------------------------------------------------- management as labelled
@pytest.mark.parametrize("drug,setting,withhold", [
    ("glofitamab", "none", False),      # Columvi: continue and monitor
    ("mosunetuzumab", "none", False),   # Lunsumio: no dose modification below grade 2
    ("epcoritamab", "none", True),      # Epkinly: withhold at the first sign of ICANS; no admission (Crombie 2024)
    ("epcoritamab_fl", "none", True),
    ("epcoritamab_fl_r2", "none", True),
])
def test_grade_1_icans(drug, setting, withhold):
    rule = library.load_drug(drug).management.icans[0]
    assert (rule.grade, rule.setting, rule.withhold) == (1, setting, withhold)


# ----------------------------------------------------------------------------- restart tables
@pytest.mark.parametrize("drug,last_dose,days,restart_at", [
    # Epkinly US label Table 2 (DLBCL)
    ("epcoritamab", 1, 8, None), ("epcoritamab", 1, 9, 1),
    ("epcoritamab", 2, 14, None), ("epcoritamab", 2, 15, 1),
    ("epcoritamab", 3, 42, None), ("epcoritamab", 12, 43, 1),
    # Lunsumio US label Table 2
    ("mosunetuzumab", 1, 14, None), ("mosunetuzumab", 1, 15, 1),
    ("mosunetuzumab", 2, 20, 2), ("mosunetuzumab", 2, 42, 1),
    ("mosunetuzumab", 3, 35, None), ("mosunetuzumab", 3, 42, 1),
    # no restart table: Kimmtrak; Blincyto's rule is by infusion cycle, not by dose
    ("tebentafusp", 1, 60, None), ("blinatumomab", 1, 60, None),
])
def test_restart_after_a_delay_as_the_label_table(drug, last_dose, days, restart_at):
    assert library.load_drug(drug).restart_dose(last_dose, days) == restart_at


@pytest.mark.parametrize("drug", ["epcoritamab", "epcoritamab_fl", "epcoritamab_fl_r2", "glofitamab", "mosunetuzumab",
                                  "blinatumomab", "tebentafusp"])
def test_a_held_dose_is_given_after_resolution(drug):
    """Every one of these labels withholds until the toxicity resolves, then gives the dose (or restarts it)."""
    resume = library.load_drug(drug).resume
    assert resume.after_hold == "after_resolution" and resume.verified

