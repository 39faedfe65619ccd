"""Writing a run to disk: all files appear together or not at all."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from sim import loader, stats
from sim.runner import RunResult
from sim.scenario import RESOURCES


def occupancy_frame(result: RunResult) -> pd.DataFrame:
    """Long-by-hour table: replication, hour (from the end of warm-up), hour_of_week, one column per resource."""
    occ = result.occupancy
    reps, hours, _ = occ.shape
    warm_hours = result.scenario.run.warmup_weeks * 168
    hour = np.tile(np.arange(hours, dtype=np.int32), reps)
    frame = pd.DataFrame({
        "replication": np.repeat(result.kpis["replication"].to_numpy(dtype=np.int32), hours),
        "hour": hour,
        "hour_of_week": ((hour + warm_hours) % 168).astype(np.int16),
    })
    for j, r in enumerate(RESOURCES):
        frame[r] = occ[:, :, j].reshape(-1)
    return frame


def write_run(result: RunResult, out: Path) -> Path:
    """Write kpis.csv, summary.csv, occupancy.parquet (if kept) and the resolved scenario.toml into ``out``.

    Files are written into a temporary folder beside ``out`` and moved into place at the end, so an
    interrupted run leaves the previous contents of ``out`` (or nothing), never half a run.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        result.kpis.to_csv(tmp / "kpis.csv", index=False)
        stats.summary(result.kpis).to_csv(tmp / "summary.csv", index=False)
        if result.occupancy is not None:
            occupancy_frame(result).to_parquet(tmp / "occupancy.parquet", index=False)
        scenario = result.scenario
        if result.seed != scenario.run.seed:
            scenario = scenario.model_copy(update={"run": scenario.run.model_copy(update={"seed": result.seed})})
        (tmp / "scenario.toml").write_text(loader.to_toml(scenario), encoding="utf-8")
        if out.exists():
            old = out.with_name(f".{out.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
