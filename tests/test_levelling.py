"""Start-day levelling (issue 15 item 6): the start weekdays a label allows, the daily peak, the search on
common random numbers and ``python -m sim level``."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import sim
from sim import cohort, model
from sim.analysis import levelling
from sim.analysis.levelling import admitted_doses, allowed_weekdays, better, candidate_sets, level, reachable_days
from sim.cli import main
from sim.config.dose_plan import dose_offsets_hours
from sim.config.errors import UsageError
from sim.metrics.occupancy import daily_peaks
from tests.conftest import SCENARIOS
from tests.test_centre import HEADER, PROGRAMMES

MON_FRI = (0, 1, 2, 3, 4)
SHORT = {"run.warmup_weeks": 2, "run.horizon_weeks": 8, "run.follow_up_weeks": 2}
TINY = [arg for k, v in SHORT.items() for arg in ("--set", f"{k}={v}")]


def drug(preset: str):
    return sim.load(preset).drug


# --------------------------------------------------------------------------- what a label allows

def test_teclistamab_days_1_4_7_with_a_3_to_4_day_window_cannot_start_on_wednesday_in_a_weekday_centre():
    tec = drug("teclistamab_outpatient")
    # Wed + 3 or 4 days is Sat or Sun: step-up dose 2 has no open day in its window
    assert allowed_weekdays(tec, MON_FRI) == (0, 1, 3, 4)
    # from Thursday: dose 2 on Monday (day 4, the window's last), dose 3 on Thursday or Friday
    assert reachable_days(tec, 3, MON_FRI) == [{0}, {4}, {7, 8}]
    assert sim.load("teclistamab_outpatient").calendar.start_weekdays == (0, 1, 3)   # the preset is allowed


def test_tarlatamab_days_1_8_15_may_start_on_any_open_day():
    tar = drug("tarlatamab_outpatient")
    assert allowed_weekdays(tar, MON_FRI) == MON_FRI
    assert allowed_weekdays(tar, (0, 2, 4)) == (0, 2, 4)
    assert reachable_days(tar, 2, MON_FRI) == [{0}, {7}, {14}]


def test_without_a_window_a_start_is_allowed_when_every_nominal_step_up_day_is_open():
    elra = drug("elranatamab_outpatient")   # days 1, 4, 8: no gap_max_days
    nominal = [h / 24 for h in dose_offsets_hours(elra, elra.step_up_doses)]
    by_offsets = tuple(w for w in MON_FRI if all((w + d) % 7 in MON_FRI for d in nominal))
    assert allowed_weekdays(elra, MON_FRI) == by_offsets == (0, 1, 4)


def test_doses_inside_a_single_admission_are_given_in_the_bed_whatever_the_weekday():
    single = sim.load("teclistamab_inpatient_single_admission")   # days 1-3-5 in one 7-day admission
    admitted = admitted_doses(single.drug, single.strategy)
    assert admitted == {2, 3}
    # from Thursday: inside the admission dose 2 is given on Saturday in the bed, dose 3 on Monday; booked
    # one by one, dose 2 would wait for Monday (the window's last day)
    assert reachable_days(single.drug, 3, MON_FRI, admitted) == [{0}, {2}, {4}]
    assert reachable_days(single.drug, 3, MON_FRI)[1] == {4}
    assert allowed_weekdays(single.drug, MON_FRI, admitted) == MON_FRI
    outpatient = sim.load("teclistamab_outpatient")
    assert admitted_doses(outpatient.drug, outpatient.strategy) == frozenset()


def test_candidates_are_the_own_set_first_then_every_allowed_set_of_its_size():
    assert candidate_sets((3, 0, 1), (0, 1, 3, 4)) == ((0, 1, 3), (0, 1, 4), (0, 3, 4), (1, 3, 4))
    assert candidate_sets((0, 2), (0, 1)) == ((0, 2), (0, 1))   # an own set the label rules out is still tried
    assert candidate_sets((0, 1, 2, 3), (0, 1, 2, 3)) == ((0, 1, 2, 3),)


# --------------------------------------------------------------------------- the daily peak

def test_daily_peaks_of_a_hand_made_step_function():
    times, levels = [0.0, 10.0, 30.0, 50.0, 70.0], [0, 2, 1, 3, 0]
    # day 0: 0 then 2; day 1: 2 carried over then 1; day 2: 1, 3 from 50 h, 0 from 70 h
    assert daily_peaks(times, levels, 0.0, 72.0).tolist() == [2, 2, 3]
    assert daily_peaks(times, levels, 5.0, 72.0).tolist() == [2, 3]      # a part-day at either end is left out
    assert daily_peaks(times, levels, 0.0, 60.0).tolist() == [2, 2]
    assert daily_peaks([0.0, 24.0], [5, 1], 0.0, 48.0).tolist() == [5, 1]   # a change at midnight is the new day's
    assert daily_peaks([30.0], [4], 0.0, 48.0).tolist() == [0, 4]          # 0 before the first change
    assert daily_peaks(times, levels, 30.0, 40.0).size == 0


def test_daily_peak_p95_is_the_95th_percentile_of_the_window_days():
    times = np.arange(20) * 24.0 + 12.0          # one change a day, at noon: level d on day d
    log = SimpleNamespace(pools={"observation_beds": (times.tolist(), list(range(20)))}, window=(48.0, 20 * 24.0))
    peaks = np.arange(2, 20)                       # days 2..19; day d peaks at d
    assert levelling.daily_peak_p95(log, None, "observation_beds") == pytest.approx(np.percentile(peaks, 95))


# --------------------------------------------------------------------------- the search

def centre(names=("teclistamab", "talquetamab", "tarlatamab"), **changes) -> sim.Scenario:
    text = HEADER + "".join(f"[programmes.{n}]\n{PROGRAMMES[n]}" for n in names)
    return sim.vary(sim.loads(text), {**SHORT, **changes})


def test_each_programme_starts_its_patients_on_its_own_weekdays():
    s = centre(**{"programmes.tarlatamab.start_weekdays": [3, 4]})
    log = model.simulate_centre(s, cohort.draw_centre(s, 0))
    for name, days in {"teclistamab": {0, 1, 3}, "talquetamab": {0, 1, 3}, "tarlatamab": {3, 4}}.items():
        first = log.programmes[name].dose_time[:, 0]
        first = first[np.isfinite(first) & (first > 0)]   # a warm start's patients are on treatment at t = 0
        assert first.size and set((first // 24 % 7).astype(int)) <= days, name


# three assignments per programme at most, so the search runs in seconds
FEW = {"teclistamab": [(0, 1, 4), (1, 3, 4)], "talquetamab": [(0, 3, 4)], "tarlatamab": [(2, 3), (3, 4)]}


@pytest.fixture(scope="module")
def levelled():
    return level(centre(), "observation_beds", reps=3, executor="serial", candidates=FEW)


def test_level_finds_an_assignment_at_least_as_good_as_the_presets(levelled):
    own, best = levelled.own, levelled.best
    assert own.assignment == {"teclistamab": (0, 1, 3), "talquetamab": (0, 1, 3), "tarlatamab": (0, 1)}
    assert not better(own.objective, best.objective)
    assert all(not better(ev.objective, best.objective) for ev in levelled.evaluations)
    assert len({ev.objective for ev in levelled.evaluations}) > 1   # start days move the load
    diffs = levelled.differences.set_index("kpi")
    assert list(diffs.index) == ["doses_postponed", "p_dose_postponed", "daily_peak_p95"]
    assert diffs.loc["doses_postponed", "diff_mean"] == pytest.approx(best.objective[0] - own.objective[0])
    assert (diffs["n"] == 3).all()
    table = levelled.table()
    assert table["best"].sum() == 1 and table.loc[0, "tarlatamab"] == "Mon Tue"


def test_level_is_deterministic_for_a_seed(levelled):
    again = level(centre(), "observation_beds", reps=3, executor="serial", candidates=FEW)
    pd.testing.assert_frame_equal(again.table(), levelled.table())
    pd.testing.assert_frame_equal(again.differences, levelled.differences)


def test_a_programme_with_no_alternative_is_reported_and_a_single_drug_scenario_is_a_centre_of_one():
    s = sim.vary(sim.load("tarlatamab_outpatient"), {**SHORT, "calendar.open_weekdays": [0, 1, 2, 3],
                                                       "calendar.start_weekdays": [0, 1, 2, 3]})
    result = level(s, "observation_beds", reps=2, executor="serial")
    assert len(result.evaluations) == 1 and result.best is result.own and not result.improved
    assert result.notes and "no other start weekdays" in result.notes[0]
    assert "nothing to level" in result.message


def test_bad_input_names_the_field_and_what_is_allowed():
    s = centre(("tarlatamab",))
    with pytest.raises(UsageError, match="resource = 'beds'; allowed: one of chairs"):
        level(s, "beds", reps=2)
    with pytest.raises(UsageError, match=r"capacity.clinic_rooms = 0; allowed: a resource with places"):
        level(sim.vary(s, {"capacity.clinic_rooms": 0}), "clinic_rooms", reps=2)
    with pytest.raises(UsageError, match="reps = 1; allowed: 2 or more"):
        level(s, "observation_beds", reps=1)
    with pytest.raises(UsageError, match="'tec' is not a programme; allowed: tarlatamab"):
        level(s, "observation_beds", reps=2, candidates={"tec": [(0,)]})


# --------------------------------------------------------------------------- the command

def test_level_command_end_to_end(tmp_path, capsys):
    path = tmp_path / "centre.toml"
    path.write_text(HEADER.replace('"base.toml"', f'"{(SCENARIOS / "base.toml").as_posix()}"')
                    + "".join(f"[programmes.{n}]\n{PROGRAMMES[n]}" for n in ("teclistamab", "tarlatamab")))
    out = tmp_path / "out"
    assert main(["level", str(path), "--resource", "observation_beds", "--reps", "2", *TINY,
                 "--executor", "serial", "--quiet", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "<- best" in text and "(own)" in text and "teclistamab: allowed Mon Tue Thu Fri; own Mon Tue Thu" in text
    assert "best - own on the same 2 replications" in text and "daily_peak_p95" in text
    table = pd.read_csv(out / "levelling.csv")
    assert list(table.columns) == ["order", "teclistamab", "tarlatamab", "doses_postponed_mean",
                                   "daily_peak_p95_mean", "best"]
    assert table["best"].sum() == 1 and table.loc[0, "tarlatamab"] == "Mon Tue"


@pytest.mark.parametrize("args, message", [
    (["--reps", "1"], "--reps 1; allowed: 2 or more"),
    (["--resource", "beds"], "resource = 'beds'; allowed: one of chairs"),
])
def test_level_command_refuses_bad_input_in_one_line(args, message, capsys):
    argv = ["level", str(SCENARIOS / "tarlatamab_outpatient.toml"), "--resource", "observation_beds", *args]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
