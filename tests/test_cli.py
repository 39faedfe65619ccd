"""The CLI as a user runs it: files appear, same seed same bytes, bad input exits 2 with one line."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from sim.config import loader
from sim.config.library import count_sourced
from sim.metrics import KPI_COLUMNS
from tests.conftest import REFERENCE, ROOT

FAST = ["--set", "run.warmup_weeks=4", "--set", "run.horizon_weeks=8", "--set", "run.follow_up_weeks=2"]


def sim(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, timeout=300)


def test_run_writes_every_output_and_same_seed_gives_identical_bytes(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        r = sim("run", str(REFERENCE), "--reps", "3", "--out", str(out), "--quiet", *FAST)
        assert r.returncode == 0, r.stderr
    assert (a / "kpis.csv").read_bytes() == (b / "kpis.csv").read_bytes()
    kpis = pd.read_csv(a / "kpis.csv")
    assert list(kpis.columns) == list(KPI_COLUMNS) and len(kpis) == 3
    summary = pd.read_csv(a / "summary.csv")
    assert list(summary.columns) == ["kpi", "mean", "sd", "ci_low", "ci_high", "n"]
    occ = pd.read_parquet(a / "occupancy.parquet")
    assert {"replication", "hour", "hour_of_week", "chairs", "icu_beds"} <= set(occ.columns)
    assert len(occ) == 3 * 8 * 168
    # the resolved scenario runs unchanged and gives the same numbers
    c = tmp_path / "c"
    r = sim("run", str(a / "scenario.toml"), "--reps", "3", "--out", str(c), "--quiet")
    assert r.returncode == 0, r.stderr
    assert (c / "kpis.csv").read_bytes() == (a / "kpis.csv").read_bytes()
    assert "p_dose_postponed" in r.stdout and "95% CI" in r.stdout


def test_seed_flag_changes_the_numbers(tmp_path):
    r1 = sim("run", "--reps", "2", "--seed", "1", "--out", str(tmp_path / "1"), "--quiet", *FAST)
    r2 = sim("run", "--reps", "2", "--seed", "2", "--out", str(tmp_path / "2"), "--quiet", *FAST)
    assert r1.returncode == r2.returncode == 0
    assert (tmp_path / "1" / "kpis.csv").read_bytes() != (tmp_path / "2" / "kpis.csv").read_bytes()


@pytest.mark.parametrize("args,needle", [
    (["--set", "capacity.chairs=-1"], "capacity.chairs = -1"),
    (["--set", "capacity.chiars=4"], "capacity.chiars"),
    (["--set", "drug.crs.rate=1.5"], "drug.crs.rate = 1.5"),
    (["--set", "drug.crs.grade_mix=[0.5,0.5,0.5,0.5]"], "drug.crs.grade_mix"),
    (["--set", "drug.file=drugs/none.toml"], "drug.file"),
    (["--set", "oops"], "KEY=VALUE"),
])
def test_bad_input_exits_2_with_one_clear_line(args, needle, tmp_path):
    r = sim("run", "--reps", "1", "--quiet", "--out", str(tmp_path / "x"), *args)
    assert r.returncode == 2
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "x").exists()


def test_malformed_file_and_validate(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("name = \n")
    r = sim("validate", str(bad))
    assert r.returncode == 2 and "not valid TOML" in r.stderr and "Traceback" not in r.stderr
    r = sim("validate", str(REFERENCE))
    assert r.returncode == 0 and "valid" in r.stdout and "not verified" in r.stdout
    # the count is split between the drug and the rest, and agrees with the drug library's count
    unverified, total = count_sourced(loader.load(REFERENCE).drug)
    assert f"{unverified} of the drug's {total}" in r.stdout
    r = sim("validate", str(REFERENCE), "--print")
    assert r.returncode == 0 and "[capacity]" in r.stdout


def test_replication_limit_is_a_clear_error():
    r = sim("run", "--reps", "1000000000", "--quiet")
    assert r.returncode == 2 and "reps" in r.stderr and "Traceback" not in r.stderr


def test_uncertainty_flag_splits_the_variance(tmp_path):
    r = sim("run", "--reps", "4", "--uncertainty", "--quiet", "--executor", "serial", "--out", str(tmp_path / "u"),
            "--set", "drug.profile=real_world", *FAST)
    assert r.returncode == 0, r.stderr
    summary = pd.read_csv(tmp_path / "u" / "summary.csv").set_index("kpi")
    assert {"var_total", "var_noise", "share_parameter"} <= set(summary.columns)
    assert summary.loc["patients_referred", "share_parameter"] == 0  # the parameters do not touch referrals
    assert "parameter uncertainty" in r.stdout
    r = sim("run", "--uncertainty", "--precision", "0.05", "--kpis", "crs_rate", "--quiet")
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_out_never_replaces_a_folder_of_the_users_own(tmp_path):
    precious = tmp_path / "mine"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    r = sim("run", "--reps", "1", "--quiet", "--out", str(precious), *FAST)
    assert r.returncode == 2 and "holds other files" in r.stderr
    assert (precious / "notes.txt").read_text() == "keep me"
    # a folder a previous run wrote is replaced as before
    r = sim("run", "--reps", "1", "--quiet", "--out", str(tmp_path / "run"), *FAST)
    r = sim("run", "--reps", "1", "--quiet", "--out", str(tmp_path / "run"), *FAST)
    assert r.returncode == 0, r.stderr
