"""Trace mode (``python -m sim trace SCENARIO --patient N``): one patient's journey, checked against the run log.

The trace is for a human to check the model by hand, so it must be true: every dose it prints was
given at that time in that place, every toxicity and ED visit of the patient appears, times never go
backwards, and tracing a patient does not change the simulation. A patient number outside the
replication exits with status 2 and one line.
"""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest

from sim import cohort, model
from sim.cli import main
from sim.config import loader
from sim.model.runlog import LEFT, PLACE_NAMES
from tests.conftest import ROOT, SCENARIOS, SHORT

SCENARIO = SCENARIOS / "tarlatamab_outpatient_short.toml"
OVERRIDES = ["drug.profile=real_world", *SHORT]
LINE = re.compile(r"^day +(\d+) \((Mon|Tue|Wed|Thu|Fri|Sat|Sun)\) (\d\d)\.(\d\d) h   (.+)$")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True, cwd=ROOT, timeout=300)


@pytest.fixture(scope="module")
def run():
    s = loader.load(SCENARIO, OVERRIDES)
    c = cohort.draw(s, 0)
    return s, c, model.simulate(s, c)


@pytest.fixture(scope="module")
def patient(run):
    """A patient who finished, had at least three doses and went to the ED at least once."""
    _, _, log = run
    ed = {p for _, p, setting, _, _ in log.care if setting == "ed"}
    doses = np.isfinite(log.dose_time).sum(axis=1)
    for p in sorted(ed):
        if log.status[p] == LEFT and doses[p] >= 3:
            return p
    pytest.fail("no suitable patient in replication 0")


def test_trace_command_prints_the_journey_the_run_log_records(run, patient):
    _, _, log = run
    res = cli("trace", str(SCENARIO), "--patient", str(patient), *[a for o in OVERRIDES for a in ("--set", o)])
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == f"tarlatamab_outpatient_short, replication 0, patient {patient}"
    steps = []
    for line in lines[1:]:
        m = LINE.match(line)
        assert m, f"unexpected line: {line!r}"
        day, weekday, hh, frac, text = m.groups()
        assert weekday == WEEKDAYS[int(day) % 7]          # t = 0 is a Monday
        steps.append((int(day) * 24 + int(hh) + int(frac) / 100, text))
    times = [t for t, _ in steps]
    assert times == sorted(times), "times go backwards"
    texts = [text for _, text in steps]
    # referral first, at the referral time (printed to the hundredth of an hour)
    assert texts[0].startswith("referred (") and times[0] == pytest.approx(log.referral[patient], abs=0.01)
    assert texts[-1].startswith("leaves the service")
    # every dose: booked, then given at the logged time in the logged place
    given = [t for t in texts if re.match(r"dose \d+ given in ", t)]
    logged = np.flatnonzero(np.isfinite(log.dose_time[patient]))
    assert len(given) == logged.size >= 3
    for k in logged:
        place = PLACE_NAMES[int(log.dose_place[patient, k])]
        want = f"dose {k + 1} given in {place}: infusion starts at {log.dose_time[patient, k]:.1f} h"
        assert any(t.startswith(want) for t in given), want
        assert any(t.startswith(f"dose {k + 1} booked: {place} (") for t in texts), k
    # every toxicity the patient had, and every ED visit and admission
    onsets = [t for t in texts if re.search(r"(CRS|ICANS) grade \d starts", t)]
    assert len(onsets) == int((log.crs_grade[patient] > 0).sum() + (log.icans_grade[patient] > 0).sum())
    care = [setting for _, p, setting, _, _ in log.care if p == patient]
    assert sum(t.startswith("in the ED") for t in texts) == care.count("ed") >= 1
    assert sum(t.startswith("to the ward") for t in texts) >= care.count("ward")   # step-downs from ICU too
    assert sum(t.startswith("to the ICU") for t in texts) == care.count("icu")


def test_tracing_does_not_change_the_simulation(run, patient):
    s, c, log = run
    m = model.Model(s, c, trace=patient)
    traced = m.run()
    assert m.trace
    assert np.array_equal(traced.dose_time, log.dose_time, equal_nan=True)
    assert traced.care == log.care and traced.status.tolist() == log.status.tolist()


def test_patient_out_of_range_exits_2_with_one_line(run):
    _, _, log = run
    res = cli("trace", str(SCENARIO), "--patient", "100000", *[a for o in OVERRIDES for a in ("--set", o)])
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in res.stderr
    assert "patient = 100000" in lines[0] and f"allowed: 0 to {log.n - 1}" in lines[0]
    assert res.stdout == ""


@pytest.mark.parametrize("flag,value,needle", [("--patient", "-1", "patient = -1"),
                                               ("--replication", "-1", "--replication = -1")])
def test_negative_numbers_exit_2_with_one_line(capsys, flag, value, needle):
    args = ["trace", str(SCENARIO), "--set", "run.warmup_weeks=0", "--set", "run.horizon_weeks=4"]
    args += ["--patient", "0"] if flag == "--replication" else []
    assert main([*args, flag, value]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and needle in err[0]
