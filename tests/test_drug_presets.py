"""Every drug in the library: its presets validate and run, simulated CRS/ICANS incidence matches the
file's rates, and the event log shows the label's dose days and monitoring hours.

The schedule tests state the label facts themselves (days, hours, places) rather than reading them
back from the drug file, so a typo in a drug file fails here. Capacity is made effectively infinite so
no dose moves for lack of a bed or chair; only patients without any CRS or ICANS are checked, because
a toxicity legitimately holds and re-monitors the next dose.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from sim import cohort as cohort_mod
from sim import model
from sim.analysis import runner
from sim.config import loader
from sim.model.runlog import PLACE_CODES
from tests.conftest import HUGE, SCENARIOS

DRUG_KEYS = sorted(p.stem for p in (SCENARIOS / "drugs").glob("*.toml") if p.stem != "tarlatamab")
# A preset belongs to the drug file with the longest matching stem (talquetamab_biweekly_* is not talquetamab's).
PRESETS = {
    p.name: max((k for k in DRUG_KEYS if p.stem.startswith(k + "_")), key=len)
    for p in sorted(SCENARIOS.glob("*.toml"))
    if any(p.stem.startswith(k + "_") for k in DRUG_KEYS)
}
WARD, OBS, CLINIC, HOME = (PLACE_CODES[p] for p in ("ward", "observation", "clinic", "home"))
Z = 4.0  # half-width of the incidence check in binomial standard errors (deterministic seed; 4 SE keeps it robust)


def load(name: str, *overrides: str):
    return loader.load(SCENARIOS / name, list(overrides))


# ----------------------------------------------------------------------------- presets validate and run
def test_every_drug_has_an_inpatient_and_an_outpatient_preset():
    for key in DRUG_KEYS:
        mine = {name for name, k in PRESETS.items() if k == key}
        assert f"{key}_inpatient.toml" in mine and f"{key}_outpatient.toml" in mine, key


@pytest.mark.parametrize("name", sorted(PRESETS), ids=lambda n: n.removesuffix(".toml"))
def test_preset_validates_and_runs(name):
    s = load(name, "run.warmup_weeks=2", "run.horizon_weeks=8", "run.follow_up_weeks=4")
    assert s.name == name.removesuffix(".toml")
    result = runner.run(s, 2, executor="serial")
    k = result.kpis
    assert (k["patients_started"] > 0).all() and (k["doses_given"] > 0).all()
    assert k.notna().all().all()


# ----------------------------------------------------------------------------- incidence against the file
INCIDENCE_CASES = [(f"{key}_inpatient.toml", None) for key in DRUG_KEYS] + [("elranatamab_inpatient.toml", "seed")]


@pytest.mark.slow
@pytest.mark.parametrize("name,profile", INCIDENCE_CASES, ids=lambda x: str(x).removesuffix(".toml"))
def test_simulated_incidence_matches_the_file(name, profile):
    """Per-patient CRS and ICANS incidence over ~1,600 patients lies within Z binomial SEs of the file's rates.

    No prophylaxis in the inpatient presets, and every per-dose share falls on a step-up dose (which
    is always given), so the expected incidence is exactly the file's rate.
    """
    over = HUGE + ["demand.patients_per_week=40", "run.warmup_weeks=0", "run.horizon_weeks=40",
                   "run.follow_up_weeks=10"] + ([f"drug.profile={profile}"] if profile else [])
    s = load(name, *over)
    assert s.strategy.prophylaxis is None
    kpis = runner.run(s, 1, executor="serial").kpis.iloc[0]
    n = int(kpis["patients_started"])
    assert n > 1200
    for kind in ("crs", "icans"):
        p = getattr(s.drug, kind).rate.value
        sim = float(kpis[f"{kind}_rate"])
        if p == 0:
            assert sim == 0, kind
            continue
        half = Z * math.sqrt(p * (1 - p) / n) + 1.0 / n
        assert abs(sim - p) <= half, f"{kind}: simulated {sim:.4f} vs file {p:.4f} (n = {n}, tolerance {half:.4f})"


# ----------------------------------------------------------------------------- event-log helpers
def simulate(name: str, *extra: str, per_week: float = 8, weeks: int = 12):
    # no warm start: the label schedule is read from each patient's dose 1
    s = load(name, *HUGE, f"demand.patients_per_week={per_week}", "run.warmup_weeks=0", "run.warm_start=false",
             f"run.horizon_weeks={weeks}", "run.follow_up_weeks=10", *extra)
    c = cohort_mod.draw(s, 0)
    return s, c, model.simulate(s, c)


def tox_free(log, min_doses: int) -> np.ndarray:
    """Patients with no CRS or ICANS at all and at least ``min_doses`` doses given."""
    given = np.isfinite(log.dose_time)
    clean = ~((log.crs_grade > 0) | (log.icans_grade > 0)).any(axis=1)
    return np.flatnonzero(clean & (given.sum(axis=1) >= min_doses))


def day_offsets(log, i: int, k: int) -> list[int]:
    """Calendar days of doses 1..k of patient i, counted from the day of dose 1."""
    days = np.floor(log.dose_time[i, :k] / 24.0)
    return (days - days[0]).astype(int).tolist()


def alone(s, c, i: int):
    """Simulate patient i by itself (same draws), so the resource log holds only that patient's stays."""
    n = c.n
    fields = {}
    for f in dataclasses.fields(c):
        v = getattr(c, f.name)
        # per-patient columns have the cohort size as first dimension; pharmacy streams are global
        per_patient = not f.name.startswith(("pharmacy_", "background_"))
        if per_patient and isinstance(v, np.ndarray) and v.ndim >= 1 and v.shape[0] == n:
            v = v[i:i + 1]
        elif per_patient and isinstance(v, dict):
            v = {k: a[i:i + 1] for k, a in v.items()}
        fields[f.name] = v
    return model.simulate(s, dataclasses.replace(c, **fields))


def stays(log, resource: str) -> list[tuple[float, float]]:
    """(start, end) of each occupancy of ``resource`` by a single simulated patient."""
    times, levels = log.pools[resource][0], log.pools[resource][1]
    out, start = [], None
    for t, lv in zip(times, levels):
        assert lv <= 1, "more than one patient in the log"
        if lv == 1 and start is None:
            start = t
        elif lv == 0 and start is not None:
            out.append((start, t))
            start = None
    return out


def checked_patient(s, c, log, min_doses: int, eligible: bool | None = None):
    """The first toxicity-free patient with ``min_doses`` doses (and the given outpatient eligibility),
    simulated alone; asserts the solo run reproduces the patient's dose days from the full run
    (capacity is infinite, so it must)."""
    ids = [i for i in tox_free(log, min_doses) if eligible is None or bool(c.eligible[i]) == eligible]
    ids = np.asarray(ids, dtype=int)
    assert ids.size, "no toxicity-free patient with enough doses"
    i = int(ids[0])
    solo = alone(s, c, i)
    k = int(np.isfinite(log.dose_time[i]).sum())
    # same days; the hour within the day may differ because the chair book packs visits back to back
    np.testing.assert_array_equal(np.floor(solo.dose_time[0, :k] / 24), np.floor(log.dose_time[i, :k] / 24))
    assert not (solo.crs_grade > 0).any() and not (solo.icans_grade > 0).any()
    return i, solo


def hours_after_dose(solo, resource: str, doses: list[int]) -> list[float]:
    """Hours from the start of each listed dose (1-based) to the end of the stay that contains it."""
    out = []
    for d in doses:
        t0 = solo.dose_time[0, d - 1]
        match = [end for start, end in stays(solo, resource) if start <= t0 < end]
        assert len(match) == 1, f"dose {d} is not inside exactly one {resource} stay"
        out.append(match[0] - t0)
    return out


# ----------------------------------------------------------------------------- label schedules, per drug
def test_teclistamab_label_schedule_and_48h_stays():
    """Tecvayli US label: SUD2 and the first treatment dose 2-4 days apart, weekly after; 48 h in hospital
    after each of the three step-up schedule doses."""
    s, c, log = simulate("teclistamab_inpatient.toml")
    ids = tox_free(log, 5)
    assert ids.size >= 5
    for i in ids:
        off = day_offsets(log, i, 5)
        assert 2 <= off[1] - off[0] <= 4 and 2 <= off[2] - off[1] <= 4
        assert off[3] - off[2] == 7 and off[4] - off[3] == 7
        assert (log.dose_place[i, :3] == WARD).all() and log.dose_place[i, 3] == CLINIC
    _, solo = checked_patient(s, c, log, 5)
    assert hours_after_dose(solo, "ward_beds", [1, 2, 3]) == pytest.approx([48, 48, 48])
    assert len(stays(solo, "ward_beds")) == 3


def test_teclistamab_compressed_monday_wednesday_friday():
    """003: compressed Monday-Wednesday-Friday step-up is expressible (teclistamab_outpatient_mwf.toml)."""
    s, c, log = simulate("teclistamab_outpatient_mwf.toml")
    ids = [i for i in tox_free(log, 4) if log.dose_place[i, 0] == HOME]
    assert len(ids) >= 5
    for i in ids:
        weekdays = (np.floor(log.dose_time[i, :4] / 24.0) % 7).astype(int).tolist()
        assert weekdays == [0, 2, 4, 4]  # Mon, Wed, Fri, then weekly on Friday
        assert (log.dose_place[i, :3] == HOME).all()


def test_talquetamab_weekly_label_schedule():
    """Talvey US label, weekly: step-up doses days 1, 4, 7 (2-4 day windows), weekly after, 48 h in hospital each."""
    s, c, log = simulate("talquetamab_inpatient.toml")
    for i in tox_free(log, 4):
        off = day_offsets(log, i, 4)
        assert 2 <= off[1] - off[0] <= 4 and 2 <= off[2] - off[1] <= 4 and off[3] - off[2] == 7
        assert (log.dose_place[i, :3] == WARD).all() and log.dose_place[i, 3] == CLINIC
    _, solo = checked_patient(s, c, log, 4)
    assert hours_after_dose(solo, "ward_beds", [1, 2, 3]) == pytest.approx([48, 48, 48])


def test_talquetamab_biweekly_label_schedule():
    """Talvey US label, every 2 weeks: four step-up schedule doses (days 1, 4, 7, 10), 48 h each, then every 14 days."""
    s, c, log = simulate("talquetamab_biweekly_inpatient.toml")
    ids = tox_free(log, 6)
    assert ids.size
    for i in ids:
        off = day_offsets(log, i, 6)
        assert all(2 <= off[j + 1] - off[j] <= 4 for j in range(3))
        assert off[4] - off[3] == 14 and off[5] - off[4] == 14
        assert (log.dose_place[i, :4] == WARD).all()
    _, solo = checked_patient(s, c, log, 5)
    assert hours_after_dose(solo, "ward_beds", [1, 2, 3, 4]) == pytest.approx([48] * 4)


def test_elranatamab_label_schedule():
    """Elrexfio US label: days 1, 4, 8, weekly after; 48 h in hospital after step-up dose 1, 24 h after dose 2."""
    s, c, log = simulate("elranatamab_inpatient.toml")
    ids = tox_free(log, 5)
    assert ids.size
    for i in ids:
        assert day_offsets(log, i, 5) == [0, 3, 7, 14, 21]
        assert log.dose_place[i, 0] == WARD and log.dose_place[i, 1] == WARD and log.dose_place[i, 2] == CLINIC
    _, solo = checked_patient(s, c, log, 3)
    assert hours_after_dose(solo, "ward_beds", [1, 2]) == pytest.approx([48, 24])
    assert len(stays(solo, "ward_beds")) == 2


def test_linvoseltamab_label_schedule():
    """Lynozyfic US label: days 1, 8, 15, 200 mg weekly for 10 doses, then every 2 weeks; hospitalized 24 h
    after each 4 h step-up infusion."""
    s, c, log = simulate("linvoseltamab_inpatient.toml", weeks=16, per_week=4)
    ids = tox_free(log, 14)
    assert ids.size
    for i in ids:
        off = day_offsets(log, i, 14)
        assert off[:3] == [0, 7, 14]
        # dose 3 is the first 200 mg dose; doses 4-13 the ten weekly doses; dose 14 two weeks later
        assert np.diff(off[2:13]).tolist() == [7] * 10 and off[13] - off[12] == 14
        assert (log.dose_place[i, :2] == WARD).all() and log.dose_place[i, 2] == CLINIC
    _, solo = checked_patient(s, c, log, 3)
    assert hours_after_dose(solo, "ward_beds", [1, 2]) == pytest.approx([4 + 24, 4 + 24])


def test_epcoritamab_dlbcl_label_schedule():
    """Epkinly US label, DLBCL: weekly in cycles 1-3 (days 1, 8, 15, 22); 24 h in hospital after C1D15 only."""
    s, c, log = simulate("epcoritamab_inpatient.toml")
    ids = tox_free(log, 6)
    assert ids.size
    for i in ids:
        assert day_offsets(log, i, 6) == [0, 7, 14, 21, 28, 35]
        assert log.dose_place[i, 2] == WARD
        assert (log.dose_place[i, [0, 1, 3, 4, 5]] == CLINIC).all()
    _, solo = checked_patient(s, c, log, 4)
    assert hours_after_dose(solo, "ward_beds", [3]) == pytest.approx([24])
    assert len(stays(solo, "ward_beds")) == 1


def test_epcoritamab_fl_label_schedule_needs_no_bed():
    """Epkinly US label, FL 3-step-up: days 1, 8, 15 step-up, first full dose day 22; no hospitalization."""
    s, c, log = simulate("epcoritamab_fl_outpatient.toml")
    ids = tox_free(log, 5)
    assert ids.size
    for i in ids:
        assert day_offsets(log, i, 5) == [0, 7, 14, 21, 28]
        assert (log.dose_place[i, :5] == CLINIC).all()
    _, solo = checked_patient(s, c, log, 5)
    assert stays(solo, "ward_beds") == [] and stays(solo, "observation_beds") == []


def test_glofitamab_obinutuzumab_then_step_up():
    """Columvi US label: obinutuzumab C1D1 (a chair visit, no CRS attributed), 2.5 mg C1D8 with hospitalization
    during and 24 h after the 4 h infusion, 10 mg C1D15, 30 mg C2D1, then every 21 days to 12 cycles."""
    s, c, log = simulate("glofitamab_inpatient.toml", weeks=20)
    given = np.isfinite(log.dose_time)
    assert given[:, 0].sum() > 50
    assert not (log.crs_grade[:, 0] > 0).any() and not (log.icans_grade[:, 0] > 0).any()
    assert (log.crs_grade[:, 1:] > 0).any()  # CRS does occur from the first glofitamab dose
    assert (log.dose_place[given[:, 0], 0] == CLINIC).all()
    assert given.sum(axis=1).max() <= 14  # obinutuzumab + 13 glofitamab doses (12 cycles)
    for i in tox_free(log, 6):
        assert day_offsets(log, i, 6) == [0, 7, 14, 21, 42, 63]
        assert log.dose_place[i, 1] == WARD and log.dose_place[i, 2] == CLINIC
    i, solo = checked_patient(s, c, log, 4)
    assert hours_after_dose(solo, "ward_beds", [2]) == pytest.approx([4 + 24])
    obin = [end - start for start, end in stays(solo, "chairs") if start <= solo.dose_time[0, 0] < end]
    assert obin and obin[0] >= 4  # the obinutuzumab infusion takes about 4 h of chair time


def test_mosunetuzumab_label_schedule_in_the_chair():
    """Lunsumio US label: days 1, 8, 15, C2D1 (day 22), then every 21 days; cycle 1 infusions at least 4 h,
    no hospitalization."""
    s, c, log = simulate("mosunetuzumab_outpatient.toml", weeks=20)
    ids = tox_free(log, 6)
    assert ids.size
    for i in ids:
        assert day_offsets(log, i, 6) == [0, 7, 14, 21, 42, 63]
        assert (log.dose_place[i, :6] == CLINIC).all()
    assert np.isfinite(log.dose_time).sum(axis=1).max() <= 19  # 17 cycles at most
    _, solo = checked_patient(s, c, log, 4)
    chair = hours_after_dose(solo, "chairs", [1, 2, 3, 4])
    assert chair[:3] == pytest.approx([4, 4, 4]) and chair[3] == pytest.approx(2)
    assert stays(solo, "ward_beds") == []


def test_tebentafusp_label_schedule():
    """Kimmtrak label: weekly from day 1 (20, 30, 68 ug); at least 16 h of monitoring after infusions 1-3
    (counted from the end of the infusion: monitor_from = "infusion_end"), then at least 30 min after each
    infusion."""
    s, c, log = simulate("tebentafusp_inpatient.toml")
    ids = tox_free(log, 5)
    assert ids.size
    for i in ids:
        assert day_offsets(log, i, 5) == [0, 7, 14, 21, 28]
        assert (log.dose_place[i, :3] == WARD).all() and log.dose_place[i, 3] == CLINIC
    _, solo = checked_patient(s, c, log, 4)
    infusion = s.drug.chair.infusion_hours.value
    assert all(b.monitor_from == "infusion_end" for b in s.drug.schedule[:3])
    assert hours_after_dose(solo, "ward_beds", [1, 2, 3]) == pytest.approx([16 + infusion] * 3)
    assert hours_after_dose(solo, "chairs", [4])[0] >= 0.5 + 0.25  # infusion plus 30 min


def test_tebentafusp_observation_unit_preset():
    s, c, log = simulate("tebentafusp_outpatient.toml")
    ids = [i for i in tox_free(log, 4) if c.eligible[i]]
    assert ids
    for i in ids:
        assert (log.dose_place[i, :3] == OBS).all() and log.dose_place[i, 3] == CLINIC


def test_blinatumomab_inpatient_days_of_cycles_1_and_2():
    """Blincyto label (r/r ALL): hospitalized the first 9 days of cycle 1 and the first 2 days of cycle 2;
    42-day cycles (28 days of infusion, 14 off); at most 5 cycles."""
    s, c, log = simulate("blinatumomab_inpatient.toml", per_week=3, weeks=10)
    ids = tox_free(log, 4)
    assert ids.size
    for i in ids:
        off = day_offsets(log, i, 4)
        assert off[3] == 42  # cycle 2 starts 42 days after cycle 1
        assert all(0 < d < 28 for d in off[1:3])  # bag changes fall inside cycle 1's 28 infusion days
        assert log.dose_place[i, 0] == WARD and log.dose_place[i, 3] == WARD
        assert (log.dose_place[i, 1:3] == CLINIC).all()
    _, solo = checked_patient(s, c, log, 4)
    assert hours_after_dose(solo, "ward_beds", [1, 4]) == pytest.approx([9 * 24, 2 * 24])


def test_blinatumomab_outpatient_shortens_cycle_1_only():
    """Outpatient preset: 3 days in hospital at the cycle 1 start for eligible patients (the MRD+/consolidation
    admission), 9 days for the others; cycle 2 as labelled (2 days)."""
    s, c, log = simulate("blinatumomab_outpatient.toml", per_week=3, weeks=10)
    _, solo = checked_patient(s, c, log, 4, eligible=True)
    assert hours_after_dose(solo, "ward_beds", [1, 4]) == pytest.approx([72, 48])
    _, solo = checked_patient(s, c, log, 4, eligible=False)
    assert hours_after_dose(solo, "ward_beds", [1, 4]) == pytest.approx([216, 48])
