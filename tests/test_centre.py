"""A centre: several programmes sharing one site (issue 15). Per-programme KPIs add up to the centre's,
a programme's patients do not depend on the other programmes, and the shared places are never over-filled."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sim
from sim.config import loader
from sim.config.errors import ScenarioError, ScenarioErrors
from sim.config.registry import RESOURCE_NAMES
from sim.config.scenario import programmes

HEADER = """
extends = "base.toml"
name = "test_centre"
[run]
warmup_weeks = 6
horizon_weeks = 20
follow_up_weeks = 6
[capacity]
observation_beds = 3
ward_beds = 6
"""
PROGRAMMES = {
    "teclistamab": 'scenario = "teclistamab_outpatient"\ndemand.patients_per_week = 1.5\n',
    "talquetamab": 'scenario = "talquetamab_outpatient"\ndemand.patients_per_week = 1.0\n',
    "tarlatamab": 'scenario = "tarlatamab_outpatient"\nstart_weekdays = [0, 1]\ndemand.patients_per_week = 2.0\n',
}


def centre_text(names=tuple(PROGRAMMES)) -> str:
    return HEADER + "".join(f"[programmes.{n}]\n{PROGRAMMES[n]}" for n in names)


CENTRE = centre_text()
# Room for everyone, stays booked at their earliest start and stock that never runs out: nothing one programme
# does can move another.
AMPLE = {**{f"capacity.{r}": 500 for r in RESOURCE_NAMES}, "booking.pack_stays": False,
         "pharmacy.hold_step_up_without_stock": False, "pharmacy.initial_stock_mg": 100_000, "pharmacy.order_up_to": 100_000}
# KPIs that are counts of a programme's own events, so the centre's is the programmes' sum
ADDITIVE = ("patients_referred", "patients_started", "doses_given", "doses_postponed", "ed_visits",
            "unplanned_ward_admissions", "icu_admissions", "toci_doses", "patients_given_toci", "clinic_visits")


@pytest.fixture(scope="module")
def centre() -> sim.Scenario:
    return sim.loads(CENTRE)


@pytest.fixture(scope="module")
def centre_run(centre):
    return sim.run(centre, reps=3, executor="serial", keep_occupancy=True)


def test_each_programme_is_its_named_scenario_on_the_centres_sections(centre):
    views = dict(programmes(centre))
    assert list(views) == ["teclistamab", "talquetamab", "tarlatamab"]
    tec = sim.load("teclistamab_outpatient")
    assert views["teclistamab"].drug == tec.drug and views["teclistamab"].strategy == tec.strategy
    assert views["teclistamab"].demand.patients_per_week == 1.5
    assert views["teclistamab"].calendar.start_weekdays == tec.calendar.start_weekdays
    assert views["tarlatamab"].calendar.start_weekdays == (0, 1)
    assert all(v.capacity.observation_beds == 3 for v in views.values())
    assert centre.drug == views["teclistamab"].drug   # the top level is the first programme's


def test_per_programme_counts_add_up_to_the_centre_in_every_replication(centre_run):
    by = centre_run.by_programme.groupby("replication")[list(ADDITIVE)].sum()
    total = centre_run.kpis.set_index("replication")[list(ADDITIVE)]
    pd.testing.assert_frame_equal(by, total, check_dtype=False)
    assert set(centre_run.by_programme["programme"]) == {"teclistamab", "talquetamab", "tarlatamab"}


def test_occupancy_split_adds_up_to_the_whole_and_never_exceeds_capacity(centre, centre_run):
    split = centre_run.occupancy_by_programme          # (reps, users, days, resources)
    whole = centre_run.occupancy                       # (reps, hours, resources)
    days = split.shape[2]
    daily = whole[:, :days * 24].reshape(whole.shape[0], days, 24, -1).mean(axis=2)
    np.testing.assert_allclose(split.sum(axis=1), daily, atol=1e-3)
    assert (split >= -1e-6).all()
    for j, r in enumerate(RESOURCE_NAMES):
        assert (centre_run.kpis[f"peak_{r}"] <= getattr(centre.capacity, r)).all()
        assert (whole[:, :, j] <= getattr(centre.capacity, r) + 1e-9).all()


def test_a_programmes_rows_do_not_depend_on_the_other_programmes():
    ample = sim.vary(sim.loads(CENTRE), AMPLE)
    alone = sim.vary(ample, {"programmes.talquetamab.demand.patients_per_week": 0,
                             "programmes.tarlatamab.demand.patients_per_week": 0})
    only = sim.loads(centre_text(("teclistamab",)))   # a centre holding teclistamab alone
    only = sim.vary(only, AMPLE)
    rows = [sim.run(s, reps=2, executor="serial").by_programme.query("programme == 'teclistamab'")
            .reset_index(drop=True) for s in (ample, alone, only)]
    pd.testing.assert_frame_equal(rows[0], rows[1])
    pd.testing.assert_frame_equal(rows[0], rows[2])


def test_programme_order_in_the_file_changes_no_programme(centre):
    swapped = sim.loads(centre_text(("tarlatamab", "teclistamab", "talquetamab")))
    assert list(swapped.programmes)[0] == "tarlatamab"
    a = sim.run(sim.vary(centre, AMPLE), reps=1, executor="serial").by_programme.set_index("programme")
    b = sim.run(sim.vary(swapped, AMPLE), reps=1, executor="serial").by_programme.set_index("programme")
    pd.testing.assert_frame_equal(a.sort_index(), b.sort_index())


def test_sharing_the_beds_postpones_more_than_any_programme_alone(centre):
    tight = sim.vary(centre, {"capacity.observation_beds": 2})
    postponed = {}
    names = list(tight.programmes)
    for name in names:
        zero = {f"programmes.{o}.demand.patients_per_week": 0 for o in names if o != name}
        postponed[name] = sim.run(sim.vary(tight, zero), reps=3, executor="serial").kpis["doses_postponed"].mean()
    together = sim.run(tight, reps=3, executor="serial").kpis["doses_postponed"].mean()
    assert together > max(postponed.values()), (together, postponed)


def test_serial_and_processes_give_identical_centre_numbers(centre, centre_run):
    par = sim.run(centre, reps=3, executor="processes", workers=2, keep_occupancy=True)
    pd.testing.assert_frame_equal(par.kpis, centre_run.kpis)
    pd.testing.assert_frame_equal(par.by_programme, centre_run.by_programme)
    np.testing.assert_array_equal(par.occupancy_by_programme, centre_run.occupancy_by_programme)


def test_every_patient_leaves_or_is_still_in_care(centre):
    from sim.cohort import draw_centre
    from sim.model import simulate_centre
    from sim.model.runlog import DIVERTED, LEFT, ON_TREATMENT, WAITING

    log = simulate_centre(centre, draw_centre(centre, 0))
    for name, plog in log.programmes.items():
        assert set(np.unique(plog.status)) <= {WAITING, ON_TREATMENT, LEFT, DIVERTED}, name
        left = plog.status == LEFT
        assert np.isfinite(plog.left_at[left]).all()
    assert log.centre.n == sum(p.n for p in log.programmes.values())


def test_a_single_drug_scenario_is_a_centre_of_one_programme(short):
    res = sim.run(short, reps=2, executor="serial")
    assert res.programmes == ("tarlatamab",)
    mine = res.by_programme.drop(columns="programme")
    pd.testing.assert_frame_equal(mine, res.kpis[mine.columns], check_dtype=False)


def test_a_centre_reads_back_from_its_own_toml(centre):
    assert sim.loads(loader.to_toml(centre)) == centre


def test_a_centre_trace_follows_one_programmes_patient(centre):
    from sim.cohort import draw_centre
    from sim.model import trace_centre

    steps = trace_centre(centre, draw_centre(centre, 0), "talquetamab", 0)
    assert any("dose 1" in text for _, text in steps)
    with pytest.raises(ValueError, match="programme = 'nope'; allowed: teclistamab, talquetamab, tarlatamab"):
        trace_centre(centre, draw_centre(centre, 0), "nope", 0)


@pytest.mark.parametrize("change, expected", [
    ("[programmes.1bad]\nscenario = \"teclistamab_outpatient\"\n", "programmes.1bad"),
    ("[programmes.extra]\nscenario = \"teclistamab_outpatient\"\nbeds = 3\n", "programmes.extra.beds"),
    ("[programmes.sat]\nscenario = \"teclistamab_outpatient\"\nstart_weekdays = [5]\n",
     "programmes.sat.start_weekdays"),
    ("[programmes.ref]\nscenario = \"no_such_preset\"\n", "no_such_preset"),
])
def test_a_bad_programme_is_refused_by_name(change, expected):
    with pytest.raises((ScenarioError, ScenarioErrors), match=expected.replace(".", r"\.")):
        sim.loads(CENTRE + change)


def test_a_centres_drug_is_set_per_programme():
    with pytest.raises(ScenarioError, match=r"programmes\.<name>\.demand"):
        sim.vary(sim.loads(CENTRE), {"demand.patients_per_week": 3})


# ---------------------------------------------------------------- the centre_myeloma preset (issue 15's checks)
TINY = {"run.warmup_weeks": 4, "run.horizon_weeks": 20, "run.follow_up_weeks": 4}


@pytest.fixture(scope="module")
def myeloma() -> sim.Scenario:
    return sim.load("centre_myeloma", set=TINY)


def test_myeloma_programmes_doses_add_up_to_the_centres_in_every_replication(myeloma):
    res = sim.run(myeloma, reps=4, executor="serial")
    by = res.by_programme.groupby("replication")["doses_given"].sum()
    assert (by.to_numpy() == res.kpis["doses_given"].to_numpy()).all()
    assert res.programmes == ("teclistamab", "talquetamab", "elranatamab")


def test_myeloma_programme_alone_with_ample_capacity_is_the_same_patients(myeloma):
    ample = sim.vary(myeloma, AMPLE)
    others = {f"programmes.{p}.demand.patients_per_week": 0 for p in ("talquetamab", "elranatamab")}
    alone = sim.vary(ample, others)
    # the same drug as a centre of one programme with the same settings
    single = sim.loads('extends = "centre_myeloma"\nname = "teclistamab_only"\n', where="test")
    single = sim.vary(single.model_copy(update={"programmes": {"teclistamab": single.programmes["teclistamab"]}}),
                      {**AMPLE, **TINY})
    rows = [sim.run(s, reps=2, executor="serial").by_programme.query("programme == 'teclistamab'")
            .reset_index(drop=True) for s in (ample, alone, single)]
    pd.testing.assert_frame_equal(rows[0], rows[1])
    pd.testing.assert_frame_equal(rows[0], rows[2])


def test_myeloma_centre_postpones_more_than_any_programme_on_the_same_beds(myeloma):
    names = list(myeloma.programmes)
    alone = {}
    for name in names:
        zero = {f"programmes.{o}.demand.patients_per_week": 0 for o in names if o != name}
        alone[name] = sim.run(sim.vary(myeloma, zero), reps=4, executor="serial").kpis["doses_postponed"].mean()
    together = sim.run(myeloma, reps=4, executor="serial").kpis["doses_postponed"].mean()
    assert together > max(alone.values()), (together, alone)


def test_a_change_to_a_programme_the_centre_lacks_is_refused_by_name(centre):
    with pytest.raises(ScenarioError, match=r"programmes\.nope: .*no such programme; allowed: teclistamab, "
                                            r"talquetamab, tarlatamab"):
        sim.vary(centre, {"programmes.nope.demand.patients_per_week": 1})
