"""Saved runs: atomic, never overwritten, read back (sim.runs)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from sim.storage import runs


def _manifest(**kw):
    base = dict(kind="run", scenarios={"demo": 'name = "demo"\n'}, seed=7, replications=3, executor="serial",
                started="2026-01-02T03:04:05+00:00", finished="2026-01-02T03:04:09+00:00")
    base.update(kw)
    return runs.new_manifest(**base)


def _tables():
    return {"kpis": pd.DataFrame({"replication": [0, 1, 2], "x": [1.0, 2.0, 3.0]}),
            "summary": pd.DataFrame({"kpi": ["x"], "mean": [2.0], "sd": [1.0], "ci_low": [0.0], "ci_high": [4.5], "n": [3]})}


def test_manifest_contents():
    m = _manifest()
    assert m["seed"] == 7 and m["replications"] == 3 and m["executor"] == "serial"
    s = m["scenarios"][0]
    assert s["toml"] == 'name = "demo"\n' and s["sha256"] == runs.sha256_text('name = "demo"\n') and len(s["sha256"]) == 64
    assert m["package_version"]
    assert m["git"] is None or len(m["git"]["commit"]) == 40
    json.dumps(m)                                       # JSON-serialisable as is


def test_save_and_read_back(tmp_path):
    path = runs.save(tmp_path, _manifest(), _tables())
    assert path.parent == tmp_path and path.name.startswith("20260102T030405Z-")
    m = runs.read_manifest(path)
    assert m["id"] == path.name and m["files"] == ["kpis.parquet", "summary.parquet"]
    pd.testing.assert_frame_equal(runs.load_table(path, "kpis"), _tables()["kpis"])
    assert [r["id"] for r in runs.list_runs(tmp_path)] == [path.name]
    assert runs.find(tmp_path, path.name[:12]) == path


def test_saving_twice_never_overwrites(tmp_path):
    a = runs.save(tmp_path, _manifest(), _tables())
    other = _tables()
    other["kpis"]["x"] = [9.0, 9.0, 9.0]
    b = runs.save(tmp_path, _manifest(), other)
    assert a != b and a.name.endswith("-1") and b.name.endswith("-2")
    assert runs.load_table(a, "kpis")["x"].tolist() == [1.0, 2.0, 3.0]
    assert runs.load_table(b, "kpis")["x"].tolist() == [9.0, 9.0, 9.0]
    with pytest.raises(ValueError, match="matches 2 runs"):
        runs.find(tmp_path, "2026")


def test_interrupted_save_leaves_nothing(tmp_path, monkeypatch):
    calls = {"n": 0}
    real = pd.DataFrame.to_parquet

    def failing(self, *a, **kw):
        calls["n"] += 1
        if calls["n"] == 2:                 # the second table: the first one is already on disk
            raise KeyboardInterrupt
        return real(self, *a, **kw)

    monkeypatch.setattr(pd.DataFrame, "to_parquet", failing)
    with pytest.raises(KeyboardInterrupt):
        runs.save(tmp_path, _manifest(), _tables())
    assert list(tmp_path.iterdir()) == []
    assert runs.list_runs(tmp_path) == []


def test_list_skips_hidden_and_broken_folders(tmp_path):
    good = runs.save(tmp_path, _manifest(), _tables())
    (tmp_path / ".tmp-leftover").mkdir()
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "manifest.json").write_text("{not json")
    assert [m["id"] for m in runs.list_runs(tmp_path)] == [good.name]
    readable, unreadable = runs.scan_runs(tmp_path)          # the broken one is named, with the reason
    assert [m["id"] for m in readable] == [good.name]
    assert unreadable == [("broken", f"{tmp_path / 'broken' / 'manifest.json'}: not valid JSON (Expecting "
                                     "property name enclosed in double quotes, line 1 column 2); the file may "
                                     "be truncated")]
    assert runs.list_runs(tmp_path / "missing") == []


def test_find_rejects_bad_ids(tmp_path):
    for bad in ("", "../x", ".tmp-1", "nope"):
        with pytest.raises(ValueError):
            runs.find(tmp_path, bad)


def test_git_commit_tolerates_no_git(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))          # no git executable anywhere
    assert runs.git_commit(tmp_path) is None
