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
that :func:`list_runs` ignores and the next save removes once it is
:data:`~sim.storage.files.STALE_AFTER_SECONDS` old). IDs are ``UTCSTAMP-HASH8-COUNTER``; the rename
refuses an existing run folder and the counter moves on, so saving twice never overwrites.

Every manifest read back is checked against :class:`Manifest` and the files it lists must exist; a
run that fails is reported as unreadable with the reason (:func:`scan_runs`), never with a traceback,
and never hides the readable runs beside it.
"""

from __future__ import annotations

import datetime as _dt
import glob
import hashlib
import json
import os
import subprocess
from pathlib import Path
from typing import Annotated, Any, Literal, Mapping

import pandas as pd
import pyarrow
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim import __version__
from sim.config.errors import UsageError
from sim.config.reading import ReadRefused, read_regular_file
from sim.storage import files

MANIFEST = "manifest.json"
FORMAT = 1
DEFAULT_RUNS_DIR = Path("runs")
_MAX_COUNTER = 10_000
_TEMP_PREFIX = ".tmp-"
MAX_MANIFEST_BYTES = 64 * 1024**2
"""Largest manifest read back: it holds each scenario's resolved TOML (at most 1 MB each, see
:mod:`sim.config.limits`), so this allows a comparison of dozens of scenarios."""


class RunStoreError(UsageError):
    """A saved run that cannot be read back: one line naming its folder or file and the reason."""


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, frozen=True, extra="forbid")


class GitState(_Strict):
    commit: str
    dirty: bool


class ScenarioEntry(_Strict):
    name: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    toml: str


class PrecisionTarget(_Strict):
    target: float
    kpis: list[str]
    k_limit: int
    replications_needed: int | None


class Manifest(_Strict):
    """The schema of ``manifest.json``. Facts a later version adds are kept (``extra="allow"``) so
    that an older reader still lists its runs; every field known here must have its type."""

    model_config = ConfigDict(extra="allow")
    format: int
    id: str
    kind: Literal["run", "compare"]
    package_version: str
    git: GitState | None
    seed: int = Field(ge=0)
    replications: int = Field(ge=0)
    first_replication: int = Field(ge=0)
    executor: str
    started_utc: str
    finished_utc: str
    scenarios: list[ScenarioEntry] = Field(min_length=1)
    # plain names: a manifest must not make the reader look outside the run's folder
    files: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]+\.parquet$")]] = Field(default_factory=list)
    workers: int | None = None
    scheduler: str | None = None
    base: str | None = None
    precision: PrecisionTarget | None = None


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
    digest = sha256_text("".join(s["sha256"] for s in manifest["scenarios"]) + str(manifest["seed"]))[:8]
    stem = f"{_stamp(manifest['started_utc'])}-{digest}"
    with files.temp_dir(runs_dir, _TEMP_PREFIX, f"--runs-dir {runs_dir}", "saving failed", "nothing was saved") as tmp:
        for name, frame in tables.items():
            frame.to_parquet(tmp / f"{name}.parquet", index=False)
        manifest = dict(manifest, files=sorted(f"{name}.parquet" for name in tables))
        for counter in range(1, _MAX_COUNTER + 1):
            run_id = f"{stem}-{counter}"
            final = runs_dir / run_id
            if final.exists():
                continue
            # what is written must read back: a manifest the schema refuses is a bug here, not later
            _write_json(tmp / MANIFEST, Manifest.model_validate(dict(manifest, id=run_id)).model_dump(mode="json"))
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


def _write_json(path: Path, data: dict[str, Any]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2, sort_keys=False)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())


def read_manifest(folder: Path) -> dict[str, Any]:
    """The validated manifest of the saved run in ``folder``, as a dict.

    Raises
    ------
    RunStoreError
        One line naming the file and what is wrong: missing, a folder, not JSON (e.g. truncated),
        not matching :class:`Manifest`, or listing a file that is not there.
    """
    folder = Path(folder)
    path = folder / MANIFEST
    try:
        raw = json.loads(read_regular_file(path, MAX_MANIFEST_BYTES).decode("utf-8"))
    except FileNotFoundError:
        raise RunStoreError(f"{path}: missing; allowed: a run folder written by --save") from None
    except ReadRefused as exc:
        raise RunStoreError(f"{path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise RunStoreError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno} column {exc.colno}); "
                            "the file may be truncated") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RunStoreError(f"{path}: cannot be read ({getattr(exc, 'strerror', None) or exc})") from None
    if not isinstance(raw, dict):
        raise RunStoreError(f"{path}: a JSON {type(raw).__name__}; allowed: a JSON object of the run's facts")
    try:
        manifest = Manifest.model_validate(raw)
    except ValidationError as exc:
        raise RunStoreError(f"{path}: {_first_problem(exc)}") from None
    for name in manifest.files:
        if not (folder / name).is_file():
            raise RunStoreError(f"{folder / name}: listed in {MANIFEST} but missing")
    return manifest.model_dump(mode="python")


def _first_problem(exc: ValidationError) -> str:
    errors = exc.errors()
    e = errors[0]
    field = ".".join(str(p) for p in e["loc"])
    what = "missing key" if e["type"] == "missing" else e["msg"][0].lower() + e["msg"][1:]
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    return (f"{field}: {what}" if field else what) + more


def scan_runs(runs_dir: Path) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """Every saved run under ``runs_dir``: the readable ones' manifests (oldest first) and, for each
    unreadable one, ``(folder name, reason)``. Hidden (temporary) folders and plain files are skipped."""
    runs_dir = Path(runs_dir)
    good, bad = [], []
    for folder in _run_folders(runs_dir):
        try:
            good.append(read_manifest(folder))
        except RunStoreError as exc:
            bad.append((folder.name, str(exc)))
    return sorted(good, key=lambda m: (m["started_utc"], m["id"])), bad


def list_runs(runs_dir: Path) -> list[dict[str, Any]]:
    """Manifests of the readable saved runs, oldest first (see :func:`scan_runs` for the others)."""
    return scan_runs(runs_dir)[0]


def _run_folders(runs_dir: Path, pattern: str = "*") -> list[Path]:
    if not runs_dir.is_dir():
        return []
    return sorted(p for p in runs_dir.glob(pattern) if not p.name.startswith(".") and p.is_dir())


def find(runs_dir: Path, run_id: str) -> Path:
    """Folder of run ``run_id`` (an exact ID, or a prefix matching exactly one run).

    Raises
    ------
    ValueError
        No run, or several, match.
    """
    runs_dir = Path(runs_dir)
    if not run_id or "/" in run_id or run_id.startswith("."):
        raise RunStoreError(f"run ID {run_id!r} is not valid; see python -m sim runs list")
    # Folders, with or without a readable manifest: a broken run is found, so that reading it
    # says what is wrong with it rather than that it does not exist.
    exact = runs_dir / run_id
    if exact.is_dir():
        return exact
    matches = _run_folders(runs_dir, f"{glob.escape(run_id)}*")
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise RunStoreError(f"no saved run {run_id!r} in {runs_dir}; see python -m sim runs list")
    raise RunStoreError(f"run ID {run_id!r} matches {len(matches)} runs: {', '.join(p.name for p in matches)}")


def load_table(folder: Path, name: str) -> pd.DataFrame:
    """One Parquet table of a saved run, e.g. ``kpis`` or ``summary``."""
    path = Path(folder) / f"{name}.parquet"
    if not path.exists():
        raise RunStoreError(f"saved run {Path(folder).name} has no {name} table")
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError, pyarrow.ArrowException) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        raise RunStoreError(f"{path}: cannot be read ({reason})") from None
