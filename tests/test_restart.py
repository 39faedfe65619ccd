"""Restart after a delay, resuming after a hold, and monitoring counted from the end of the infusion
(issue 14): the drug-file shapes, then what the model does with them."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.config import loader
from sim.config.errors import ScenarioErrors
from tests.conftest import SCENARIOS

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

def test_a_drug_without_restart_rules_keeps_todays_behaviour(tmp_path):
    drug = loader.load(TECLISTAMAB).drug
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
        'source = "s"']) + "\n[drug]\nstep_up_doses = 1\n"
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
    ('[drug.resume]\nafter_hold = "next_scheduled"\n', "drug.resume.source", ["source"]),
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
