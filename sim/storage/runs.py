"""Saved runs: a folder per run under ``runs/`` with Parquet tables and a JSON manifest.

Layout of ``runs/ID/``::

    manifest.json        what was run: resolved scenario TOML and its sha256, package version,
                         git commit (if any), seed, replications, executor, start/end (UTC ISO)
    kpis.parquet         one row per scenario and replication
    summary.parquet      one row per scenario and KPI (mean, t-based CI)
    occupancy.parquet    hourly occupancy, when the run kept it
    comparison.parquet   paired differences, for a saved comparison

A run is written into a hidden temporary folder beside its final place and renamed at the end, so
an interrupted save leaves no half-written run (only, after a hard kill, a hidden ``.tmp-*`` folder
that :func:`list_runs` ignores). IDs are ``UTCSTAMP-HASH8-COUNTER``; the rename refuses an existing
run folder and the counter moves on, so saving twice never overwrites.
"""

from __future__ import annotations

import datetime as _dt
import glob
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from sim import __version__

MANIFEST = "manifest.json"
FORMAT = 1
DEFAULT_RUNS_DIR = Path("runs")
_MAX_COUNTER = 10_000


def utc_now() -> str:
    """Current time, UTC, ISO 8601 with seconds."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def git_commit(where: Path | None = None) -> dict[str, Any] | None:
    """``{"commit": sha, "dirty": bool}`` of the repository holding this package, or None without git."""
    where = where or Path(__file__).resolve().parent
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True,
                             timeout=10, check=True).stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=where,
                                capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": sha, "dirty": bool(status.strip())} if sha else None


def _stamp(iso: str) -> str:
    # "2026-05-01T10:20:30+00:00" -> "20260501T102030Z"
    return iso.replace("-", "").replace(":", "").split("+")[0] + "Z"


def new_manifest(*, kind: str, scenarios: Mapping[str, str], seed: int, replications: int, executor: str,
                 started: str, finished: str, first_replication: int = 0,
                 extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The manifest of a run (the ``id`` is filled in by :func:`save`).

    Parameters
    ----------
    kind : {"run", "compare"}
    scenarios : mapping of scenario name to its resolved TOML text
    seed, replications, executor, started, finished, first_replication
        As run; times in UTC ISO 8601.
    extra : mapping, optional
        Further JSON-serialisable facts (workers, scheduler, precision target ...).
    """
    return {
        "format": FORMAT,
        "kind": kind,
        "package_version": __version__,
        "git": git_commit(),
        "seed": int(seed),
        "replications": int(replications),
        "first_replication": int(first_replication),
        "executor": executor,
        "started_utc": started,
        "finished_utc": finished,
        "scenarios": [{"name": name, "sha256": sha256_text(text), "toml": text} for name, text in scenarios.items()],
        **(dict(extra) if extra else {}),
    }


def save(runs_dir: Path, manifest: dict[str, Any], tables: Mapping[str, pd.DataFrame]) -> Path:
    """Write a run atomically under ``runs_dir`` and return its folder.

    Parameters
    ----------
    runs_dir : Path
        Folder of saved runs (created if missing).
    manifest : dict
        From :func:`new_manifest`; gets its ``id`` here.
    tables : mapping of file stem to DataFrame
        Each written as ``STEM.parquet``.

    Returns
    -------
    Path
        ``runs_dir / ID``; never an existing run's folder.
    """
    runs_dir = Path(runs_dir)
    runs_dir.mkdir(parents=True, exist_ok=True)
    digest = sha256_text("".join(s["sha256"] for s in manifest["scenarios"]) + str(manifest["seed"]))[:8]
    stem = f"{_stamp(manifest['started_utc'])}-{digest}"
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=runs_dir))
    try:
        for name, frame in tables.items():
            frame.to_parquet(tmp / f"{name}.parquet", index=False)
        manifest = dict(manifest, files=sorted(f"{name}.parquet" for name in tables))
        for counter in range(1, _MAX_COUNTER + 1):
            run_id = f"{stem}-{counter}"
            final = runs_dir / run_id
            if final.exists():
                continue
            _write_json(tmp / MANIFEST, dict(manifest, id=run_id))
            try:
                # rename() refuses a non-empty target, so a run saved meanwhile by another
                # process under the same ID is never replaced; we move on to the next counter.
                os.rename(tmp, final)
            except OSError:
                if final.exists():
                    continue
                raise
            return final
        raise RuntimeError(f"more than {_MAX_COUNTER} runs named {stem}-*")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _write_json(path: Path, data: dict[str, Any]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2, sort_keys=False)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())


def read_manifest(folder: Path) -> dict[str, Any]:
    with open(Path(folder) / MANIFEST, encoding="utf-8") as f:
        return json.load(f)


def list_runs(runs_dir: Path) -> list[dict[str, Any]]:
    """Manifests of all saved runs, oldest first. Hidden (temporary) folders and folders without a
    readable manifest are skipped."""
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        return []
    out = []
    for folder in sorted(runs_dir.iterdir()):
        if folder.name.startswith(".") or not folder.is_dir():
            continue
        try:
            out.append(read_manifest(folder))
        except (OSError, ValueError):
            continue
    return sorted(out, key=lambda m: (m.get("started_utc", ""), m.get("id", "")))


def find(runs_dir: Path, run_id: str) -> Path:
    """Folder of run ``run_id`` (an exact ID, or a prefix matching exactly one run).

    Raises
    ------
    ValueError
        No run, or several, match.
    """
    runs_dir = Path(runs_dir)
    if not run_id or "/" in run_id or run_id.startswith("."):
        raise ValueError(f"run ID {run_id!r} is not valid; see python -m sim runs list")
    exact = runs_dir / run_id
    if exact.is_dir() and (exact / MANIFEST).exists():
        return exact
    matches = [p for p in runs_dir.glob(f"{glob.escape(run_id)}*") if p.is_dir() and not p.name.startswith(".")
               and (p / MANIFEST).exists()] if runs_dir.is_dir() else []
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise ValueError(f"no saved run {run_id!r} in {runs_dir}; see python -m sim runs list")
    raise ValueError(f"run ID {run_id!r} matches {len(matches)} runs: {', '.join(sorted(p.name for p in matches))}")


def load_table(folder: Path, name: str) -> pd.DataFrame:
    """One Parquet table of a saved run, e.g. ``kpis`` or ``summary``."""
    path = Path(folder) / f"{name}.parquet"
    if not path.exists():
        raise ValueError(f"saved run {Path(folder).name} has no {name} table")
    return pd.read_parquet(path)
