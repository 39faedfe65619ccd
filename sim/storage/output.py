"""Writing a run to disk: all files appear together or not at all."""

from __future__ import annotations

import secrets
import shutil
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis import stats
from sim.analysis.runner import RunResult
from sim.config import loader
from sim.config.scenario import RESOURCES, Scenario
from sim.config.units import HOURS_PER_WEEK
from sim.metrics import user_names
from sim.storage import files
from sim.storage.files import OutputError


def occupancy_frame(result: RunResult) -> pd.DataFrame:
    """Long-by-hour table: replication, hour (from the end of warm-up), hour_of_week, one column per resource."""
    occ = result.occupancy
    reps, hours, _ = occ.shape
    warm_hours = result.scenario.run.warmup_weeks * HOURS_PER_WEEK
    hour = np.tile(np.arange(hours, dtype=np.int32), reps)
    frame = pd.DataFrame({
        "replication": np.repeat(result.kpis["replication"].to_numpy(dtype=np.int32), hours),
        "hour": hour,
        "hour_of_week": ((hour + warm_hours) % HOURS_PER_WEEK).astype(np.int16),
    })
    for j, r in enumerate(RESOURCES):
        frame[r] = occ[:, :, j].reshape(-1)
    return frame


def programme_kpis_frame(result: RunResult) -> pd.DataFrame:
    """kpis_by_programme.csv: replication, programme, kpi, value (long: one row per programme, replication and KPI)."""
    frame = result.by_programme.melt(id_vars=["replication", "programme"], var_name="kpi", value_name="value")
    order = {name: j for j, name in enumerate(result.programmes)}
    return (frame.assign(_p=frame["programme"].map(order))
            .sort_values(["replication", "_p"], kind="stable").drop(columns="_p").reset_index(drop=True))


def occupancy_by_programme_frame(result: RunResult) -> pd.DataFrame:
    """Daily mean occupancy by user: replication, day (from the end of warm-up), user (a programme or other
    services), one column per resource."""
    occ = result.occupancy_by_programme
    reps, users, days, _ = occ.shape
    names = user_names(result.scenario)
    frame = pd.DataFrame({
        "replication": np.repeat(result.kpis["replication"].to_numpy(dtype=np.int32), users * days),
        "day": np.tile(np.arange(days, dtype=np.int32), reps * users),
        "user": np.tile(np.repeat(np.array(names, dtype=object), days), reps),
    })
    for j, r in enumerate(RESOURCES):
        frame[r] = occ[:, :, :, j].reshape(-1)
    return frame


def write_run(result: RunResult, out: Path, summary: pd.DataFrame | None = None) -> Path:
    """Write kpis.csv, summary.csv, kpis_by_programme.csv, summary_by_programme.csv, occupancy.parquet and
    occupancy_by_programme.parquet (if kept) and the resolved scenario.toml into ``out``.

    ``summary`` replaces the plain summary (e.g. one with the parameter-uncertainty variance split).

    Files are written into a temporary folder beside ``out`` and moved into place at the end, so an
    interrupted run leaves the previous contents of ``out`` (or nothing), never half a run.
    """
    with atomic_folder(out) as tmp:
        result.kpis.to_csv(tmp / "kpis.csv", index=False)
        (stats.summary(result.kpis) if summary is None else summary).to_csv(tmp / "summary.csv", index=False)
        programme_kpis_frame(result).to_csv(tmp / "kpis_by_programme.csv", index=False)
        result.programme_summary().to_csv(tmp / "summary_by_programme.csv", index=False)
        if result.occupancy is not None:
            occupancy_frame(result).to_parquet(tmp / "occupancy.parquet", index=False)
            occupancy_by_programme_frame(result).to_parquet(tmp / "occupancy_by_programme.parquet", index=False)
        (tmp / "scenario.toml").write_text(resolved_toml(result), encoding="utf-8")
    return Path(out)


# What a run or comparison writes into its folder: only a folder holding nothing else is replaced.
OUTPUT_FILES = frozenset({"kpis.csv", "summary.csv", "occupancy.parquet", "scenario.toml", "comparison.csv",
                          "kpis_by_programme.csv", "summary_by_programme.csv", "occupancy_by_programme.parquet",
                          "comparison_by_programme.csv"})

# Disk space a replication's output takes, for the check before a run (rough on purpose: it only has
# to catch a disk that is clearly too full). Measured on the reference scenario: 525 bytes a KPI row
# in kpis.csv and 2.5 bytes an hourly occupancy row in occupancy.parquet (30 bytes uncompressed);
# the figures below leave a margin for busier centres whose occupancy compresses less.
KPI_ROW_BYTES = 1024
OCCUPANCY_ROW_BYTES = 8
SCENARIO_BYTES = 64 * 1024          # scenario.toml and summary.csv, per scenario


def estimate_bytes(scenario: Scenario, reps: int, keep_occupancy: bool = True, scenarios: int = 1) -> int:
    """Rough size of the files ``reps`` replications of ``scenarios`` scenarios write."""
    per_rep = KPI_ROW_BYTES + (scenario.run.horizon_weeks * HOURS_PER_WEEK * OCCUPANCY_ROW_BYTES if keep_occupancy else 0)
    return scenarios * (reps * per_rep + SCENARIO_BYTES)


def preflight(out: Path, scenario: Scenario, reps: int, *, runs_dir: Path | None = None,
              keep_occupancy: bool = True, scenarios: int = 1) -> None:
    """Before the first replication: refuse an ``--out`` (and, when saving, a runs folder) that a run
    could not write, so a bad path fails at once rather than after the work.

    Raises
    ------
    OutputError
        ``--out`` is an existing file or a folder holding other files, a folder on its path is a file,
        it cannot be written, or its file system lacks room for about :func:`estimate_bytes`.
    """
    need = estimate_bytes(scenario, reps, keep_occupancy, scenarios)
    check_replaceable(Path(out))
    files.check_writable(Path(out), f"--out {out}", need)
    if runs_dir is not None:
        files.check_writable(Path(runs_dir), f"--runs-dir {runs_dir}", need)


def check_replaceable(out: Path) -> None:
    """Refuse an ``out`` that exists and is not a folder only a previous run wrote, so a mistyped
    ``--out`` can never replace a file or a folder of the user's own."""
    if out.exists() and (not out.is_dir() or any(p.name not in OUTPUT_FILES for p in out.iterdir())):
        raise OutputError(f"--out {out}: exists and {'is a file' if not out.is_dir() else 'holds other files'}; "
                          "allowed: a new folder, or one that only a previous run wrote")


def check_out_folder(out: Path) -> Path:
    """Before the work: refuse an ``--out`` folder that files cannot be written into (a command that
    adds its table to the folder rather than replacing it). Returns ``out``."""
    files.check_writable(Path(out), f"--out {out}")
    return Path(out)


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """Write ``frame`` to ``path`` (creating its folder) through a temporary file beside it and a rename,
    so a reader never sees half a table and a failed write leaves nothing but one
    :class:`OutputError` line."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{secrets.token_hex(4)}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(tmp, index=False)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"--out {path.parent}: writing {path.name} failed ({exc.strerror or exc}); "
                          "nothing was written") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _temp_prefix(out: Path) -> str:
    return f".{out.name}.tmp-"


@contextmanager
def atomic_folder(out: Path):
    """Yield a temporary folder beside ``out``; on success it becomes ``out``, on any failure it vanishes.

    An existing ``out`` is replaced only when it holds nothing but files a run writes. A failure to
    write (read-only, disk full) is raised as one :class:`OutputError` line. Temporary folders a
    killed run left beside ``out`` more than :data:`files.STALE_AFTER_SECONDS` ago are removed first.
    """
    out = Path(out)
    check_replaceable(out)
    with files.temp_dir(out.parent, _temp_prefix(out), f"--out {out}", "writing failed", "nothing was written") as tmp:
        yield tmp
        if out.exists():
            old = out.with_name(f".{out.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            out.rename(old)
            try:
                tmp.rename(out)
            except BaseException:
                old.rename(out)             # the previous run's output goes back, never lost
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out)


def run_tables(result: RunResult) -> dict[str, pd.DataFrame]:
    """The tables a saved run keeps: kpis, summary, their by-programme forms and (if kept) occupancy."""
    tables = {"kpis": result.kpis, "summary": stats.summary(result.kpis),
              "kpis_by_programme": programme_kpis_frame(result), "summary_by_programme": result.programme_summary()}
    if result.occupancy is not None:
        tables["occupancy"] = occupancy_frame(result)
    return tables


def resolved_toml(result: RunResult) -> str:
    """The scenario as run (with the seed actually used) as TOML text."""
    scenario = result.scenario
    if result.seed != scenario.run.seed:
        scenario = scenario.model_copy(update={"run": scenario.run.model_copy(update={"seed": result.seed})})
    return loader.to_toml(scenario)


def save_result(result: RunResult, runs_dir: Path, *, executor: str, started: str, finished: str,
                extra: dict | None = None) -> Path:
    """Store ``result`` as a saved run under ``runs_dir`` (see :mod:`sim.runs`); returns its folder."""
    from sim.storage import runs

    first = int(result.kpis["replication"].min()) if len(result.kpis) else 0
    manifest = runs.new_manifest(kind="run", scenarios={result.scenario.name: resolved_toml(result)},
                                 seed=result.seed, replications=len(result.kpis), executor=executor,
                                 started=started, finished=finished, first_replication=first, extra=extra)
    return runs.save(runs_dir, manifest, run_tables(result))
