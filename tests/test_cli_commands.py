"""The run/compare/warmup/runs commands end to end: exit codes, files, one-line errors, safe saves."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main
from sim.storage import runs
from tests.conftest import ROOT, SCENARIOS

TINY = ["--set", "run.warmup_weeks=2", "--set", "run.horizon_weeks=8", "--set", "run.follow_up_weeks=2"]
REF = str(SCENARIOS / "tarlatamab_outpatient.toml")
TOCI = str(SCENARIOS / "tarlatamab_prophylactic_toci.toml")


def sim_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_run_save_twice_never_overwrites_and_reads_back(tmp_path, capsys):
    rd = tmp_path / "runs"
    args = ["run", REF, *TINY, "--reps", "3", "--executor", "serial", "--quiet", "--out", str(tmp_path / "o"),
            "--save", "--runs-dir", str(rd)]
    assert main(args) == 0
    assert main(args) == 0
    saved = runs.list_runs(rd)
    assert len(saved) == 2 and saved[0]["id"] != saved[1]["id"]
    for m in saved:
        folder = rd / m["id"]
        assert {p.name for p in folder.iterdir()} == {"manifest.json", "kpis.parquet", "summary.parquet",
                                                      "occupancy.parquet", "kpis_by_programme.parquet",
                                                      "summary_by_programme.parquet"}
        assert m["replications"] == 3 and m["executor"] == "serial" and m["seed"] == 20261122
        assert "[run]" in m["scenarios"][0]["toml"] and m["started_utc"] <= m["finished_utc"]
    # identical inputs, identical numbers, two separate runs
    a, b = (pd.read_parquet(rd / m["id"] / "kpis.parquet") for m in saved)
    pd.testing.assert_frame_equal(a, b)
    capsys.readouterr()
    assert main(["runs", "list", "--runs-dir", str(rd)]) == 0
    listing = capsys.readouterr().out
    assert saved[0]["id"] in listing and saved[1]["id"] in listing
    assert main(["runs", "show", saved[1]["id"], "--runs-dir", str(rd)]) == 0
    shown = capsys.readouterr().out
    assert saved[1]["id"] in shown and "crs_rate" in shown and "sha256" in shown


def test_interrupted_save_leaves_no_run(tmp_path, monkeypatch, capsys):
    rd = tmp_path / "runs"
    real = pd.DataFrame.to_parquet
    calls = {"n": 0}

    def interrupted(self, path, *a, **kw):
        if rd in Path(path).parents:
            calls["n"] += 1
            if calls["n"] == 2:         # Ctrl-C after the first table of the saved run is written
                raise KeyboardInterrupt
        return real(self, path, *a, **kw)

    monkeypatch.setattr(pd.DataFrame, "to_parquet", interrupted)
    status = main(["run", REF, *TINY, "--reps", "2", "--executor", "serial", "--quiet",
                   "--out", str(tmp_path / "o"), "--save", "--runs-dir", str(rd)])
    assert status == 130 and calls["n"] == 2
    assert runs.list_runs(rd) == [] and list(rd.iterdir()) == []


def test_run_to_precision(tmp_path, capsys):
    assert main(["run", REF, *TINY, "--precision", "0.05", "--kpis", "patients_referred,crs_rate",
                 "--batch", "10", "--max-reps", "30", "--executor", "serial", "--quiet",
                 "--out", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    kpis = pd.read_csv(tmp_path / "o" / "kpis.csv")
    assert kpis["replication"].tolist() == list(range(len(kpis)))        # batches extend, no repeats
    assert len(kpis) % 10 == 0 and len(kpis) <= 30
    assert ("needed:" in out) or ("NOT reached" in out)
    assert "patients_referred" in out.split("replications for a 95% CI")[1]


def test_compare_writes_comparison(tmp_path, capsys):
    out = tmp_path / "cmp"
    assert main(["compare", REF, TOCI, *TINY, "--reps", "4", "--executor", "serial", "--quiet",
                 "--out", str(out), "--save", "--runs-dir", str(tmp_path / "runs")]) == 0
    table = pd.read_csv(out / "comparison.csv")
    assert set(table["scenario"]) == {"tarlatamab_outpatient", "tarlatamab_prophylactic_toci"}
    for col in ("mean", "diff_mean", "diff_ci_low", "diff_ci_high", "distinguishable"):
        assert col in table.columns
    base = table[table["scenario"] == "tarlatamab_outpatient"]
    assert (base["diff_mean"] == 0).all() and not base["distinguishable"].any()
    printed = capsys.readouterr().out
    assert "tarlatamab_prophylactic_toci vs tarlatamab_outpatient" in printed and "crs_rate" in printed
    (saved,) = runs.list_runs(tmp_path / "runs")
    assert saved["kind"] == "compare" and len(saved["scenarios"]) == 2
    assert "comparison.parquet" in saved["files"]


def test_warmup_writes_welch_table(tmp_path, capsys):
    out = tmp_path / "w"
    assert main(["warmup", REF, "--reps", "2", "--weeks", "20", "--executor", "serial", "--quiet",
                 "--out", str(out)]) == 0
    table = pd.read_csv(out / "warmup.csv")
    assert len(table) == 20 and {"week", "census", "observation_beds"} <= set(table.columns)
    sugg = pd.read_csv(out / "warmup_suggestion.csv")
    assert set(sugg["series"]) >= {"census", "chairs"} and (sugg["warmup_weeks"] % 5 == 0).all()
    assert "MSER-5" in capsys.readouterr().out


@pytest.mark.parametrize("args, words", [
    (["run", REF, "--precision", "0.05", "--kpis", "crs_rate,no_such_kpi"], "no_such_kpi"),
    (["run", REF, "--precision", "0.05"], "--kpis"),
    (["run", REF, "--executor", "serial", "--scheduler", "tcp://127.0.0.1:8786"], "--scheduler"),
    (["compare", REF, str(SCENARIOS / "missing.toml"), "--reps", "2"], "missing.toml"),
    (["compare", REF, TOCI, "--kpis", "nope"], "nope"),
    (["warmup", REF, "--weeks", "10"], "--weeks"),
    (["runs", "show", "no-such-run", "--runs-dir", "/nonexistent/runs"], "no-such-run"),
])
def test_bad_input_exits_2_with_one_line(args, words):
    res = sim_cli(*args)
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and words in lines[0], res.stderr
    assert "Traceback" not in res.stderr


@pytest.mark.parametrize("args", [["run", REF, "--precision", "1.5", "--kpis", "crs_rate"],
                                  ["run", REF, "--executor", "threads"], ["runs"]])
def test_bad_flags_exit_2_without_traceback(args):
    res = sim_cli(*args)
    assert res.returncode == 2 and "Traceback" not in res.stderr and "error:" in res.stderr


@pytest.mark.slow
def test_compare_on_dask_matches_serial(tmp_path):
    """The CLI's dask path (one LocalCluster shared by both scenarios) gives the serial numbers."""
    common = ["compare", REF, TOCI, *TINY, "--reps", "3", "--quiet", "--kpis", "crs_rate,cost_total"]
    assert main([*common, "--executor", "serial", "--out", str(tmp_path / "s")]) == 0
    assert main([*common, "--executor", "dask", "--workers", "1", "--out", str(tmp_path / "d")]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "s" / "comparison.csv"),
                                  pd.read_csv(tmp_path / "d" / "comparison.csv"))


@pytest.mark.slow
def test_unreachable_scheduler_exits_2_with_one_line():
    res = sim_cli("run", REF, "--scheduler", "tcp://127.0.0.1:1", "--reps", "2", "--quiet", "--out", "/tmp/unused")
    lines = res.stderr.strip().splitlines()
    assert res.returncode == 2 and len(lines) == 1 and "cannot reach the Dask scheduler" in lines[0], res.stderr
