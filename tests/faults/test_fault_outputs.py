"""Output paths fail before the work, and a failure while writing leaves nothing: a read-only ``--out``
or runs folder, ``--out`` under a file or naming one, a disk too small, a write failing half-way,
temporary folders a killed run left, and the umask."""

from __future__ import annotations

import errno
import os
import shutil
import time

import pandas as pd
import pytest

from sim.storage import files, output, runs
from tests.conftest import REFERENCE, SHORT

SETS = [a for item in SHORT for a in ("--set", item)]
RUN = ["run", REFERENCE, "--quiet", "--executor", "serial", *SETS]


def _one_line(status, err, *needles):
    assert status == 2 and len(err) == 1 and err[0].startswith("error: "), err
    for needle in needles:
        assert needle in err[0], err


def test_read_only_out_fails_before_any_replication(cli, read_only_dir, no_replications):
    status, _, err, took = cli(*RUN, "--reps", "50", "--out", read_only_dir / "x")
    _one_line(status, err, f"--out {read_only_dir / 'x'}: cannot write in {read_only_dir}")
    assert took < 5 and not (read_only_dir / "x").exists()


def test_read_only_runs_folder_fails_before_any_replication(cli, tmp_path, read_only_dir, no_replications):
    status, _, err, _ = cli(*RUN, "--reps", "5", "--out", tmp_path / "o", "--save", "--runs-dir",
                            read_only_dir / "runs")
    _one_line(status, err, f"--runs-dir {read_only_dir / 'runs'}: cannot write in {read_only_dir}")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("where", ["under-a-file", "an-existing-file", "a-folder-of-the-users"])
def test_bad_out_fails_before_any_replication(cli, tmp_path, no_replications, where):
    afile = tmp_path / "afile"
    afile.write_text("mine")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    out, needle = {"under-a-file": (afile / "x", "afile is a file, so"),
                   "an-existing-file": (afile, "exists and is a file"),
                   "a-folder-of-the-users": (mine, "exists and holds other files")}[where]
    for command in (RUN, ["compare", REFERENCE, REFERENCE, "--quiet", "--executor", "serial"]):
        status, _, err, _ = cli(*command, "--reps", "5", "--out", out)
        _one_line(status, err, f"--out {out}", needle)
    assert afile.read_text() == "mine" and (mine / "notes.txt").read_text() == "mine"


def test_disk_too_small_fails_before_any_replication(cli, small_dir, no_replications):
    status, _, err, _ = cli(*RUN, "--reps", "200", "--out", small_dir / "x")
    _one_line(status, err, f"--out {small_dir / 'x'}: needs about", "MB free")
    assert list(small_dir.iterdir()) == []


def test_disk_filling_while_writing_leaves_nothing(cli, small_dir, monkeypatch):
    """The estimate is rough: if the disk still fills up while writing, one line and nothing left."""
    monkeypatch.setattr(output, "estimate_bytes", lambda *a, **k: 0)
    filler = small_dir / "filler"                  # leave room for the folder but not for the files
    filler.write_bytes(b"\0" * (shutil.disk_usage(small_dir).free - 16 * 1024))
    status, _, err, _ = cli(*RUN, "--reps", "4", "--out", small_dir / "x")
    _one_line(status, err, f"--out {small_dir / 'x'}: writing failed (", "No space left on device",
              "; nothing was written")
    assert list(small_dir.iterdir()) == [filler]


def test_failing_write_leaves_nothing(cli, tmp_path, monkeypatch):
    real = pd.DataFrame.to_parquet

    def full(self, *a, **k):
        real(self, *a, **k)                          # half the file is there when the disk fills
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(pd.DataFrame, "to_parquet", full)
    status, _, err, _ = cli(*RUN, "--reps", "2", "--out", tmp_path / "o")
    _one_line(status, err, "writing failed (No space left on device); nothing was written")
    assert list(tmp_path.iterdir()) == []


def test_failing_save_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(pd.DataFrame, "to_parquet", lambda *a, **k: (_ for _ in ()).throw(OSError(errno.EROFS, "ro")))
    manifest = runs.new_manifest(kind="run", scenarios={"demo": "x"}, seed=1, replications=1, executor="serial",
                                 started="2026-01-01T00:00:00+00:00", finished="2026-01-01T00:00:01+00:00")
    with pytest.raises(files.OutputError, match=r"--runs-dir .*: saving failed \(ro\); nothing was saved"):
        runs.save(tmp_path, manifest, {"kpis": pd.DataFrame({"replication": [0]})})
    assert list(tmp_path.iterdir()) == []


def _old(path, hours: float):
    path.mkdir()
    (path / "kpis.csv").write_text("half")
    then = time.time() - hours * 3600
    os.utime(path, (then, then))
    return path


def test_temp_folders_a_killed_run_left_are_removed(tmp_path):
    stale_out = _old(tmp_path / ".o.tmp-0123456789ab", hours=2)
    fresh_out = _old(tmp_path / ".o.tmp-ba9876543210", hours=0.1)     # a run writing right now
    other = _old(tmp_path / ".o.keep", hours=48)                        # not ours: never touched
    with output.atomic_folder(tmp_path / "o") as tmp:
        (tmp / "kpis.csv").write_text("x")
    assert not stale_out.exists() and fresh_out.exists() and other.exists()
    runs_dir = tmp_path / "runs"
    runs_dir.mkdir()
    stale_run, fresh_run = _old(runs_dir / ".tmp-old", hours=2), _old(runs_dir / ".tmp-new", hours=0.1)
    manifest = runs.new_manifest(kind="run", scenarios={"demo": "x"}, seed=1, replications=1, executor="serial",
                                 started="2026-01-01T00:00:00+00:00", finished="2026-01-01T00:00:01+00:00")
    runs.save(runs_dir, manifest, {"kpis": pd.DataFrame({"replication": [0]})})
    assert not stale_run.exists() and fresh_run.exists()
    assert files.STALE_AFTER_SECONDS == 3600


@pytest.mark.parametrize("umask,mode", [(0o022, 0o755), (0o027, 0o750), (0o077, 0o700)])
def test_outputs_honour_the_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        with output.atomic_folder(tmp_path / "o") as tmp:
            (tmp / "kpis.csv").write_text("x")
        manifest = runs.new_manifest(kind="run", scenarios={"demo": "x"}, seed=1, replications=1,
                                     executor="serial", started="2026-01-01T00:00:00+00:00",
                                     finished="2026-01-01T00:00:01+00:00")
        saved = runs.save(tmp_path / "runs", manifest, {"kpis": pd.DataFrame({"replication": [0]})})
    finally:
        os.umask(old)
    assert (tmp_path / "o").stat().st_mode & 0o777 == mode
    assert saved.stat().st_mode & 0o777 == mode


def test_reps_zero_is_one_line(cli):
    status, _, err, _ = cli("run", "--reps", "0")
    assert status == 2 and err == ["error: python -m sim run: argument --reps: 0 is below 1 "
                                   "(see python -m sim run --help)"], err


def test_a_failed_replacement_keeps_the_previous_output(tmp_path, monkeypatch):
    """Interrupted between moving the previous output aside and moving the new one in: the previous
    output is put back, whole."""
    out = tmp_path / "o"
    with output.atomic_folder(out) as tmp:
        (tmp / "kpis.csv").write_text("previous")
    real = type(out).rename

    def rename(self, target):
        if self.name.startswith(".o.tmp-"):
            raise KeyboardInterrupt
        return real(self, target)

    monkeypatch.setattr(type(out), "rename", rename)
    with pytest.raises(KeyboardInterrupt):
        with output.atomic_folder(out) as tmp:
            (tmp / "kpis.csv").write_text("new")
    assert (out / "kpis.csv").read_text() == "previous" and [p.name for p in tmp_path.iterdir()] == ["o"]


@pytest.mark.parametrize("command", [
    ["size", "--resource", "observation_beds", "--target", "p_dose_postponed<=0.02", "--reps", "2"],
    ["stock", "--values", "800,1600", "--reps", "2"],
    ["sensitivity", "--param", "demand.patients_per_week=2:6", "--reps", "2"],
    ["warmup", "--reps", "2"],
], ids=["size", "stock", "sensitivity", "warmup"])
def test_every_command_checks_its_out_before_the_work(cli, read_only_dir, monkeypatch, command):
    from sim.analysis import runner, sizing

    def refuse(*_a, **_k):
        raise AssertionError("the work started before --out was checked")

    monkeypatch.setattr(runner, "run", refuse)
    monkeypatch.setattr(sizing, "model_evaluator", refuse)
    status, _, err, _ = cli(command[0], REFERENCE, *command[1:], "--quiet", "--out", read_only_dir / "x")
    _one_line(status, err, f"--out {read_only_dir / 'x'}: cannot write in {read_only_dir}")


def test_write_csv_leaves_nothing_when_the_write_fails(tmp_path, monkeypatch):
    def full(self, path, **_k):
        open(path, "w").write("half")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(pd.DataFrame, "to_csv", full)
    with pytest.raises(files.OutputError, match=r"writing t\.csv failed \(No space left on device\)"):
        output.write_csv(pd.DataFrame({"a": [1]}), tmp_path / "t.csv")
    assert list(tmp_path.iterdir()) == []
