"""Restart after a delay, resuming after a hold, and monitoring counted from the end of the infusion
(issue 14): the drug-file shapes, then what the model does with them."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from sim import cohort, metrics, model
from sim.config import library, loader
from sim.config.dose_plan import dose_requirements, plan_dose
from sim.config.drug import DrugProfile
from sim.config.errors import ScenarioErrors
from sim.model.pathway import _Patient
from sim.model.runlog import PLACE_CODES
from tests.conftest import HUGE, SCENARIOS, SHORT
from tests.test_model import check_conservation_and_capacity

TECLISTAMAB = SCENARIOS / "teclistamab_inpatient.toml"


def write(tmp_path: Path, text: str, base: Path = TECLISTAMAB) -> Path:
    p = tmp_path / "s.toml"
    p.write_text(f'extends = "{base.as_posix()}"\n' + text)
    return p


def rule(last_from: int, days_over: int, restart_at: int, last_to: int | None = None) -> str:
    to = "" if last_to is None else f"last_dose_to = {last_to}\n"
    return (f"[[drug.restart]]\nlast_dose_from = {last_from}\n{to}days_over = {days_over}\n"
            f"restart_at = {restart_at}\nsource = \"test\"\n")


# --- schema -----------------------------------------------------------------------------------------

def test_a_drug_without_restart_rules_keeps_todays_behaviour():
    dumped = loader.load(TECLISTAMAB).drug.model_dump(exclude={"restart", "resume"})
    drug = DrugProfile.model_validate(dumped)
    assert drug.restart == ()
    assert drug.resume.after_hold == "after_resolution" and not drug.resume.verified
    assert "day after the hold ends" in drug.resume.source
    assert all(b.monitor_from == "infusion_start" for b in drug.schedule)


def test_restart_rules_load_and_pick_the_largest_delay_exceeded(tmp_path):
    text = rule(1, 7, 1, 1) + rule(2, 7, 2, 2) + rule(2, 28, 1, 2) + rule(3, 28, 1)
    text += '[drug.resume]\nafter_hold = "next_scheduled"\nsource = "label"\n'
    drug = loader.load(write(tmp_path, text)).drug
    assert len(drug.restart) == 4 and drug.resume.after_hold == "next_scheduled"
    assert drug.restart_dose(1, 7) is None          # "more than 7 days": 7 is not more
    assert drug.restart_dose(1, 8) == 1
    assert drug.restart_dose(2, 10) == 2            # repeat step-up dose 2
    assert drug.restart_dose(2, 29) == 1            # past both limits: the larger one wins
    assert drug.restart_dose(40, 29) == 1           # last_dose_to omitted: any later dose
    assert drug.restart_dose(40, 28) is None


def test_monitor_from_loads(tmp_path):
    text = "[[drug.schedule]]\n" + "\n".join([
        'label = "d1"', "count = 1", "gap_days = 0", "monitor_hours = 8", 'monitor_from = "infusion_end"',
        'source = "s"']) + "\n[drug]\nstep_up_doses = 1\nrestart = []\n"
    drug = loader.load(write(tmp_path, text)).drug
    assert drug.schedule[0].monitor_from == "infusion_end"


@pytest.mark.parametrize("text, field, words", [
    (rule(2, 7, 1, 1), "drug.restart.0", ["last_dose_to = 1", "last_dose_from = 2", "last_dose_to >= last_dose_from"]),
    (rule(1, 7, 3, 1), "drug.restart.0", ["restart_at = 3", "restart_at from 1 to 2"]),
    (rule(1, 7, 0, 1), "drug.restart.0.restart_at", ["0", "greater than or equal to 1"]),
    (rule(1, -1, 1, 1), "drug.restart.0.days_over", ["-1", "greater than or equal to 0"]),
    (rule(5, 7, 4), "drug", ["restart[0].restart_at = 4", "step_up_doses = 3"]),
    (rule(2, 28, 1, 3) + rule(3, 28, 1), "drug", ["restart[1] and restart[0]", "last dose 3", "days_over = 28"]),
    ('[drug.resume]\nafter_hold = "later"\nsource = "s"\n', "drug.resume.after_hold", ["later", "next_scheduled"]),
    ('[drug.resume]\nafter_hold = "next_scheduled"\nsource = ""\n', "drug.resume.source", ["at least 1 character"]),
    ('[[drug.schedule]]\nlabel = "d1"\ncount = 1\ngap_days = 0\nmonitor_hours = 8\nmonitor_from = "end"\n'
     'source = "s"\n', "drug.schedule.0.monitor_from", ["end", "infusion_end"]),
])
def test_bad_restart_and_resume_name_field_value_and_allowed(tmp_path, text, field, words):
    with pytest.raises(ScenarioErrors) as exc:
        loader.load(write(tmp_path, text))
    msg = str(exc.value)
    assert field in msg, msg
    for w in words:
        assert w in msg, msg


# --- the model: restarting the step-up after a delay ---------------------------------------------------

# Step-up doses 1-3 come 3 days apart (4 over a weekend): a limit of 5 days after dose 1 or 2 is passed
# only when a toxicity hold delays the next dose, which this test rule answers by restarting at dose 1.
RESTART = ["run.warmup_weeks=8", "run.horizon_weeks=26", "run.follow_up_weeks=8", *HUGE]
RULES = rule(1, 5, 1, 2)


def _run(path: Path, *overrides: str):
    s = loader.load(path, [*RESTART, *overrides])
    m = model.Model(s, cohort.draw(s, 0))
    log = m.run()
    return s, m, log, metrics.summarise(log, s, 0)


@pytest.fixture(scope="module")
def restarted(tmp_path_factory):
    return _run(write(tmp_path_factory.mktemp("restart"), RULES))


def test_a_delay_past_the_limit_repeats_the_step_up_in_a_monitored_bed(restarted):
    s, m, log, k = restarted
    *_, log0, k0 = _run(TECLISTAMAB, "drug.restart=[]")
    assert not log0.repeated_doses and k0["doses_restepped"] == 0   # without rules: no repeat
    repeats = np.asarray(log.repeated_doses, dtype=float).reshape(-1, 5)
    w0, w1 = log.window
    inside = (repeats[:, 0] >= w0) & (repeats[:, 0] < w1)
    assert k["doses_restepped"] == inside.sum() >= 10
    # every repeat is a step-up dose (the rules restart at dose 1 and the step-up is 3 doses), given in the
    # ward bed the inpatient strategy monitors step-up doses in, as the first time
    assert set(repeats[:, 2].astype(int)) <= {0, 1, 2} and 0 in set(repeats[:, 2].astype(int))
    assert (repeats[:, 3] == PLACE_CODES["ward"]).all()
    # each repeated step-up dose holds a ward bed 48 h again (window edges and the toxicity the repeats
    # bring change the rest a little)
    assert k["ward_bed_days"] - k0["ward_bed_days"] > 1.5 * k["doses_restepped"]
    assert k["doses_given"] > k0["doses_given"]


def test_a_repeat_restarts_the_sequence_and_keeps_the_first_times(restarted):
    s, m, log, k = restarted
    t, i, dose, _, _ = next(r for r in log.repeated_doses if not log.prevalent[int(r[1])])
    i, dose = int(i), int(dose)
    first = log.dose_time[i]
    # the first time of the repeated dose stays in dose_time; the repeat comes after a delay of more than
    # 5 days from the last dose given before it
    assert first[dose] < t
    before = max(x for x in [*first[np.isfinite(first)], *(r[0] for r in log.repeated_doses if r[1] == i)] if x < t)
    assert int(t // 24) - int(before // 24) > 5
    # a dose is repeated at most once per patient (a toxicity that outlasts the limit again does not loop)
    pairs = [(int(r[1]), int(r[2])) for r in log.repeated_doses]
    assert len(pairs) == len(set(pairs))
    # time on therapy still counts from the first dose ever
    assert log.first_dose[i] == first[0]


def test_conservation_and_capacity_hold_with_restarts(tmp_path):
    # real capacities, so restarts compete for the beds
    s = loader.load(write(tmp_path, RULES), SHORT)
    m = model.Model(s, cohort.draw(s, 1))
    log = m.run()
    assert log.repeated_doses
    check_conservation_and_capacity(s, m, log)


def test_the_trace_tells_the_restart(restarted):
    s, m, log, k = restarted
    i = int(log.repeated_doses[0][1])
    text = "\n".join(what for _, what in model.trace(s, cohort.draw(s, 0), i))
    assert "the label restarts at dose 1" in text
    assert "dose 1 (again, after the restart) given in ward" in text


# --- the model: the dose after a toxicity hold -------------------------------------------------------

TARLATAMAB = SCENARIOS / "tarlatamab_outpatient.toml"


def _resumed(mode: str):
    return _run(TARLATAMAB, "drug.restart=[]", f'drug.resume={{after_hold="{mode}", source="test"}}')


def _day_gaps(s, log) -> tuple[np.ndarray, np.ndarray]:
    """Days between consecutive doses of each patient, and the schedule's gap of each dose after the first."""
    days = np.floor(log.dose_time / 24)
    gap = np.array([r.gap_days for r in dose_requirements(s.drug, log.max_doses)])[1:]
    return np.diff(days, axis=1), gap


def test_next_scheduled_resumes_on_the_patients_own_schedule():
    """Tarlatamab doses fall on one weekday (days 1, 8, 15, then every 14 days), so with ample capacity
    every dose after a hold lands on the patient's grid with next_scheduled, and some do not with
    after_resolution (the day after the hold ends)."""
    s, _, log_r, _ = _resumed("after_resolution")
    gaps, gap = _day_gaps(s, log_r)
    given = np.isfinite(gaps)
    assert ((gaps > gap) & given).sum() >= 10                      # doses held past their due day
    assert ((gaps % gap != 0) & given).sum() >= 5                  # ... some of them off the grid
    s, _, log_n, _ = _resumed("next_scheduled")
    gaps, gap = _day_gaps(s, log_n)
    given = np.isfinite(gaps)
    assert ((gaps > gap) & given).sum() >= 10
    assert ((gaps % gap != 0) & given).sum() == 0


@pytest.mark.parametrize("mode, held_day, held_hour, expected", [
    ("after_resolution", 31, 10.0, 32),    # the day after the hold ends
    ("after_resolution", 29, 3.0, 30),     # a hold ending before the due day's opening: still the day after
    ("next_scheduled", 31, 10.0, 44),      # due day 30, dose 4 every 14 days: the next grid day
    ("next_scheduled", 30, 3.0, 30),       # over by the due day's opening: the due day itself
    ("next_scheduled", 44, 10.0, 58),      # over after the grid day's opening: one more interval
    ("after_resolution", 20, 10.0, 30),    # a hold over before the due day changes nothing
    ("next_scheduled", 20, 10.0, 30),
])
def test_first_day_after_a_hold(mode, held_day, held_hour, expected):
    s = loader.load(TARLATAMAB, [*RESTART, f'drug.resume={{after_hold="{mode}", source="test"}}'])
    m = model.Model(s, cohort.draw(s, 0))
    p = _Patient(0, False, True, 1e9, [])
    p.held_until = held_day * 24.0 + held_hour
    assert m.gap[3] == 14 and m.open_hour > 3.0
    assert m._after_hold(p, 3, 30) == expected


# --- monitoring counted from the end of the infusion ----------------------------------------------------

def test_monitor_from_infusion_end_lengthens_the_stay_by_the_infusion():
    s = loader.load(TARLATAMAB)
    drug = s.drug
    block = drug.schedule[0]
    end = drug.model_copy(update={"schedule": (block.model_copy(update={"monitor_from": "infusion_end"}),
                                               *drug.schedule[1:])})
    infusion = block.infusion(drug.chair)
    assert infusion > 0
    start_req, end_req = dose_requirements(drug, 1)[0], dose_requirements(end, 1)[0]
    assert end_req.monitor_hours == start_req.monitor_hours + infusion
    for high, eligible in ((False, True), (True, False)):
        a = plan_dose(drug, s.strategy, 1, start_req, high, eligible)
        b = plan_dose(end, s.strategy, 1, end_req, high, eligible)
        assert b.place == a.place and a.bed   # a monitored bed: the stay is the monitoring
        assert b.stay_hours == pytest.approx(a.stay_hours + infusion)
    # sim drugs stays truthful: its column counts from the infusion start
    assert f"dose 1: {block.monitor_hours.value + infusion:g} h" in library.monitoring_summary(end)
    assert "after the infusion" in "\n".join(library._schedule_lines(end))


# --- a single admission for the step-up (strategy.monitoring[].stay_through_dose) -----------------------

SINGLE = SCENARIOS / "teclistamab_inpatient_single_admission.toml"


def test_a_single_admission_is_planned_as_one_stay_through_the_last_doses_monitoring():
    s = loader.load(SINGLE)
    reqs = dose_requirements(s.drug, 3)
    plan = plan_dose(s.drug, s.strategy, 1, reqs[0], False, False)
    assert plan.place == "ward" and plan.through == 3
    # days 1, 3, 5 and 48 h after the third infusion: 4 days + 48 h from the first infusion, after premedication
    assert plan.stay_hours == pytest.approx(plan.premed_hours + 4 * 24 + 48)
    alone = plan_dose(s.drug, s.strategy, 2, reqs[1], False, False)
    assert alone.through == 2 and alone.place == "ward"   # dose 2 on its own (e.g. a warm start) as before


@pytest.fixture(scope="module")
def single():
    return _run(SINGLE)


def test_the_step_up_doses_are_given_in_the_first_doses_bed(single):
    s, m, log, k = single
    started = ~log.prevalent & np.isfinite(log.dose_time[:, 2])
    assert started.sum() >= 50
    t = log.dose_time[started, :3]
    start = np.array(log.stay_start).reshape(log.n, -1)[started, :3]
    end = np.array(log.stay_end).reshape(log.n, -1)[started, :3]
    assert (log.dose_place[started, :3] == PLACE_CODES["ward"]).all()
    # doses 2 and 3 come at the hour of the infusion before them (no booking), days 1-3-5 inside dose 1's
    # planned stay unless a toxicity hold delays them in the bed (a patient moved out is booked as usual)
    gaps = np.diff(t, axis=1)
    in_bed = np.isclose(gaps % 24, 0).all(axis=1)
    assert in_bed.mean() > 0.95
    on_time = (gaps == 48).all(axis=1)
    assert 0.3 < on_time.mean() < 0.9
    assert ((t[on_time, 1] > start[on_time, 0]) & (t[on_time, 2] < end[on_time, 0])).all()
    assert np.allclose(end[in_bed, 2] - t[in_bed, 2], 48)   # home 48 h after the third dose


def test_a_single_admission_needs_one_ward_request_per_step_up_instead_of_three(single):
    *_, log, k = single
    *_, log3, k3 = _run(TECLISTAMAB)
    requests = len(log.pools["ward_beds"][2])
    assert requests < 0.6 * len(log3.pools["ward_beds"][2])
    trace = "\n".join(what for _, what in model.trace(single[0], cohort.draw(single[0], 0),
                                                         int(np.flatnonzero(~log.prevalent & np.isfinite(
                                                             log.dose_time[:, 2]))[0])))
    assert "dose 1 booked: ward" in trace and "dose 2 booked" not in trace and "dose 3 booked" not in trace
    assert "dose 2 given in ward" in trace and "dose 3 given in ward" in trace


@pytest.mark.parametrize("rule_text, words", [
    ('doses = [1]\nplace = "clinic"\nstay_through_dose = 3\n', ["stay_through_dose = 3", "place = 'clinic'",
                                                               "ward, observation"]),
    ('place = "ward"\nstay_through_dose = 3\n', ["doses = None", "all before stay_through_dose"]),
    ('doses = [1, 3]\nplace = "ward"\nstay_through_dose = 3\n', ["doses = [1, 3]"]),
    ('doses = [1]\nplace = "ward"\nstay_through_dose = 4\n', ["stay_through_dose = 4 is after the step-up",
                                                             "drug.step_up_doses = 3"]),
])
def test_a_bad_single_admission_is_refused_naming_the_field(tmp_path, rule_text, words):
    p = write(tmp_path, "[[strategy.monitoring]]\n" + rule_text
              + '[[strategy.monitoring]]\nmin_required_hours = 12\nplace = "ward"\n', base=SINGLE)
    with pytest.raises(ScenarioErrors) as exc:
        loader.load(p)
    msg = str(exc.value)
    assert "strategy.monitoring" in msg and "\n" not in msg.strip(), msg
    for w in words:
        assert w in msg, msg


def test_sim_drugs_lists_the_restart_rules_and_the_resume_rule_with_their_sources(tmp_path):
    """A test-local copy of a drug file with a restart table (the drug files are the data helpers')."""
    text = (SCENARIOS / "drugs" / "teclistamab.toml").read_text()
    text = re.sub(r"^\[\[restart\]\]\n(?:(?!\[).*\n)*|^\[resume\]\n(?:(?!\[).*\n)*", "", text, flags=re.M)
    text += ("\n[[restart]]\nlast_dose_from = 1\nlast_dose_to = 1\ndays_over = 7\nrestart_at = 1\n"
             'source = "label table A"\n'
             "\n[[restart]]\nlast_dose_from = 3\ndays_over = 28\nrestart_at = 1\nsource = \"label table B\"\n"
             "verified = false\n"
             '\n[resume]\nafter_hold = "next_scheduled"\nsource = "label 2.5"\n')
    (tmp_path / "tec.toml").write_text(text)
    out = library.describe("tec", folder=tmp_path)
    assert "last dose dose 1" not in out
    assert "last dose 1, next more than 7 days later: give dose 1\n      source: label table A" in out
    assert "last dose 3 or later, next more than 28 days later: give dose 1  [UNVERIFIED]" in out
    assert "after a toxicity hold: next scheduled\n      source: label 2.5" in out


def test_the_report_names_the_single_admission():
    from sim.charts import report
    table = report.strategy_table(loader.load(SINGLE))
    assert table["place"].tolist()[:2] == ["ward, one admission through dose 3", "ward"]


def test_a_delay_inside_a_single_admission_restarts_in_the_same_bed(tmp_path):
    """Doses 2 and 3 come 2 days apart in the bed; a hold that delays one past 3 days restarts at dose 1,
    given again in the bed the patient holds (no new booking)."""
    s, _, log, k = _run(write(tmp_path, rule(1, 3, 1, 2), base=SINGLE))
    assert k["doses_restepped"] >= 5
    assert all(r[3] == PLACE_CODES["ward"] for r in log.repeated_doses)
    i = next(int(r[1]) for r in log.repeated_doses if r[2] == 0 and not log.prevalent[int(r[1])])
    text = "\n".join(what for _, what in model.trace(s, cohort.draw(s, 0), i))
    assert "the label restarts at dose 1" in text and "dose 1 (again, after the restart) given in ward" in text
    assert text.count("booked: ward") == 1, text


def test_the_single_admission_preset_changes_only_the_step_up_days_and_where_they_are_monitored():
    """The preset restates the drug's schedule (days 1-3-5 instead of 1-4-7): everything else about each
    block, premedication and monitoring included, must stay the drug file's."""
    from sim.config import loader as _loader
    from tests.conftest import SCENARIOS as _SCENARIOS

    single = _loader.load(_SCENARIOS / "teclistamab_inpatient_single_admission.toml").drug.schedule
    labelled = _loader.load(_SCENARIOS / "teclistamab_inpatient.toml").drug.schedule
    assert len(single) == len(labelled)
    for a, b in zip(single, labelled):
        assert (a.count, a.monitor_hours.value, a.premedication, a.hydration, a.monitor_from) == \
            (b.count, b.monitor_hours.value, b.premedication, b.hydration, b.monitor_from), a.label
