"""The saved-run store survives a bad manifest: ``runs list`` lists every readable run and names each
unreadable one with the reason (exit 0); ``runs show`` of a bad one is one line naming the file."""

from __future__ import annotations

import json
import os

import pandas as pd
import pytest

from sim.storage import runs


def _save(runs_dir, seed: int):
    manifest = runs.new_manifest(kind="run", scenarios={"demo": 'name = "demo"\n'}, seed=seed, replications=2,
                                 executor="serial", started="2026-01-02T03:04:05+00:00",
                                 finished="2026-01-02T03:04:09+00:00")
    tables = {"kpis": pd.DataFrame({"replication": [0, 1], "x": [1.0, 2.0]}),
              "summary": pd.DataFrame({"kpi": ["x"], "mean": [1.5], "sd": [0.7], "ci_low": [0.0], "ci_high": [3.0],
                                       "n": [2]})}
    return runs.save(runs_dir, manifest, tables)


def _edit(folder, change):
    path = folder / runs.MANIFEST
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def _break(folder, kind: str) -> str:
    """Corrupt the run in ``folder`` one way; return what the reason must say."""
    manifest = folder / runs.MANIFEST
    if kind == "list":
        manifest.write_text("[]")
        return "manifest.json: a JSON list; allowed: a JSON object"
    if kind == "wrong-type":
        _edit(folder, lambda d: d.update(seed="seven"))
        return "manifest.json: seed: input should be a valid integer"
    if kind == "missing-key":
        _edit(folder, lambda d: d.pop("scenarios"))
        return "manifest.json: scenarios: missing key"
    if kind == "folder":
        manifest.unlink()
        manifest.mkdir()
        return "manifest.json: is a folder; allowed: a regular file"
    if kind == "truncated":
        manifest.write_text(manifest.read_text()[:200])
        return "manifest.json: not valid JSON ("
    if kind == "not-utf8":
        manifest.write_bytes(b"\xff\xfe\x00garbage")
        return "manifest.json: cannot be read ("
    if kind == "fifo":                               # must not hang the listing
        manifest.unlink()
        os.mkfifo(manifest)
        return "manifest.json: is a FIFO (named pipe)"
    if kind == "no-manifest":
        manifest.unlink()
        return "manifest.json: missing"
    if kind == "table-deleted":
        (folder / "kpis.parquet").unlink()
        return "kpis.parquet: listed in manifest.json but missing"
    if kind == "path-outside":
        _edit(folder, lambda d: d.update(files=["../../../etc/passwd"]))
        return "manifest.json: files.0: string should match pattern"
    raise AssertionError(kind)


KINDS = ["list", "wrong-type", "missing-key", "folder", "truncated", "not-utf8", "fifo", "no-manifest",
         "table-deleted", "path-outside"]


@pytest.mark.parametrize("kind", KINDS)
def test_list_names_the_bad_run_and_lists_the_good_ones(cli, tmp_path, kind):
    good_a, bad, good_b = (_save(tmp_path, seed) for seed in (1, 2, 3))
    reason = _break(bad, kind)
    status, out, err, _ = cli("runs", "list", "--runs-dir", tmp_path)
    assert status == 0, err
    assert good_a.name in out and good_b.name in out and bad.name not in out, out
    assert len(err) == 1 and err[0].startswith(f"unreadable run {bad.name}: ") and reason in err[0], err
    assert sorted(m["id"] for m in runs.list_runs(tmp_path)) == sorted([good_a.name, good_b.name])


@pytest.mark.parametrize("kind", KINDS)
def test_show_of_a_bad_run_is_one_line_naming_the_file(cli, tmp_path, kind):
    bad = _save(tmp_path, 1)
    reason = _break(bad, kind)
    status, _, err, _ = cli("runs", "show", bad.name, "--runs-dir", tmp_path)
    assert status == 2 and len(err) == 1 and err[0].startswith(f"error: {bad}/") and reason in err[0], err


def test_a_corrupt_table_is_one_line(cli, tmp_path):
    run = _save(tmp_path, 1)
    (run / "summary.parquet").write_bytes(b"PAR1 not really")
    status, _, err, _ = cli("runs", "show", run.name, "--runs-dir", tmp_path)
    assert status == 2 and len(err) == 1 and err[0].startswith(f"error: {run / 'summary.parquet'}: cannot be read")


def test_only_bad_runs(cli, tmp_path):
    bad = _save(tmp_path, 1)
    _break(bad, "truncated")
    status, out, err, _ = cli("runs", "list", "--runs-dir", tmp_path)
    assert status == 0 and out.strip() == f"no readable saved runs in {tmp_path}" and len(err) == 1, (out, err)


def test_a_good_run_reads_back_whole(cli, tmp_path):
    run = _save(tmp_path, 1)
    manifest = runs.read_manifest(run)
    assert manifest["id"] == run.name and manifest["files"] == ["kpis.parquet", "summary.parquet"]
    assert isinstance(runs.Manifest.model_validate(json.loads((run / runs.MANIFEST).read_text())), runs.Manifest)
    status, out, err, _ = cli("runs", "show", run.name, "--runs-dir", tmp_path)
    assert status == 0 and f"run {run.name} (run)" in out and err == [], err
