"""One runner for everything: the CLI, the dashboard, sizing and sweeps call :func:`run`.

Replication r of a run always draws from ``SeedSequence(seed, spawn_key=(r,))``, whatever the
executor, so serial and parallel runs give identical numbers. Workers return one small result
per replication (a KPI row, and the hourly occupancy when asked), never the event log.
"""

from __future__ import annotations

import os
import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Callable, Literal

import numpy as np
import pandas as pd

from sim import cohort as _cohort
from sim import metrics, model
from sim.scenario import Scenario

Executor = Literal["serial", "processes"]
Progress = Callable[[int, int], None]
MAX_REPLICATIONS = 100_000


@dataclass(frozen=True)
class RunResult:
    scenario: Scenario
    seed: int
    kpis: pd.DataFrame                   # one row per replication, sorted by replication
    occupancy: np.ndarray | None         # (replications, hours, resources) hourly mean occupancy


def replicate(scenario: Scenario, replication: int, seed: int | None = None,
              keep_occupancy: bool = False) -> tuple[dict[str, float], np.ndarray | None]:
    """Simulate one replication and reduce it to its KPI row (and occupancy)."""
    if seed is not None and seed != scenario.run.seed:
        scenario = scenario.model_copy(update={"run": scenario.run.model_copy(update={"seed": seed})})
    log = model.simulate(scenario, _cohort.draw(scenario, replication))
    return metrics.summarise(log, scenario, replication), (metrics.occupancy(log) if keep_occupancy else None)


def _task(args: tuple[Scenario, list[int], int | None, bool]):
    scenario, reps, seed, keep = args
    return [replicate(scenario, r, seed, keep) for r in reps]


def _chunks(reps: list[int], workers: int) -> list[list[int]]:
    # Small chunks keep the progress bar moving and the cores balanced.
    size = max(1, min(8, len(reps) // (workers * 4) or 1))
    return [reps[i:i + size] for i in range(0, len(reps), size)]


def run(scenario: Scenario, reps: int, seed: int | None = None, executor: Executor = "processes",
        workers: int | None = None, progress: Progress | None = None, keep_occupancy: bool = False,
        first: int = 0) -> RunResult:
    """Run replications ``first .. first + reps - 1`` of ``scenario``.

    Parameters
    ----------
    scenario : Scenario
        The validated scenario.
    reps : int
        Number of replications (1 to 100,000).
    seed : int, optional
        Overrides ``scenario.run.seed``.
    executor : {"serial", "processes"}
        Where replications run; both give identical numbers.
    workers : int, optional
        Worker processes (default: one per core).
    progress : callable, optional
        Called as ``progress(done, total)`` after each finished chunk.
    keep_occupancy : bool
        Also return the hourly occupancy of every replication.
    first : int
        Index of the first replication (to extend a run with more replications).
    """
    if not 1 <= reps <= MAX_REPLICATIONS:
        raise ValueError(f"reps = {reps}; allowed: 1 to {MAX_REPLICATIONS}")
    seed = scenario.run.seed if seed is None else seed
    rep_ids = list(range(first, first + reps))
    results: list[tuple[dict[str, float], np.ndarray | None]] = []
    done = 0
    if executor == "serial" or reps == 1:
        for r in rep_ids:
            results.append(replicate(scenario, r, seed, keep_occupancy))
            done += 1
            if progress:
                progress(done, reps)
    elif executor == "processes":
        workers = workers or os.cpu_count() or 1
        ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
        chunks = _chunks(rep_ids, workers)
        with ProcessPoolExecutor(max_workers=min(workers, len(chunks)), mp_context=ctx) as pool:
            for part in pool.map(_task, [(scenario, ch, seed, keep_occupancy) for ch in chunks]):
                results.extend(part)
                done += len(part)
                if progress:
                    progress(done, reps)
    else:
        raise ValueError(f"executor = {executor!r}; allowed: serial, processes")
    kpis = pd.DataFrame([row for row, _ in results], columns=list(metrics.KPI_COLUMNS))
    kpis = kpis.sort_values("replication", kind="stable").reset_index(drop=True)
    occ = np.stack([o for _, o in results]) if keep_occupancy else None
    return RunResult(scenario=scenario, seed=seed, kpis=kpis, occupancy=occ)
