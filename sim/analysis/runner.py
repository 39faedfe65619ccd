"""One runner for everything: the CLI, the dashboard, sizing and sweeps call :func:`run`.

Replication r of a run always draws from ``SeedSequence(seed, spawn_key=(r,))``, whatever the
executor, so serial and parallel runs give identical numbers. Workers return one small result
per replication (a KPI row, and the hourly occupancy when asked), never the event log.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import multiprocessing as mp
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Literal, Mapping

import numpy as np
import pandas as pd

from sim import cohort as _cohort
from sim import metrics, model
from sim.analysis import stats
from sim.analysis.pool import Lane, connect
from sim.analysis.workers import Lifeline, init_worker
from sim.config.errors import UsageError
from sim.config.scenario import Scenario
from sim.model.runlog import RunLog

Executor = Literal["serial", "processes", "dask"]
EXECUTORS = ("serial", "processes", "dask")
Progress = Callable[[int, int], None]
# A module-level function (picklable) that turns one replication's RunLog into a small result,
# e.g. the weekly census for the warm-up analysis; it runs in the worker, next to the log.
Extract = Callable[[RunLog, Scenario], Any]
MAX_REPLICATIONS = 100_000


@dataclass(frozen=True)
class RunResult:
    """What :func:`run` returns: the KPIs of every replication, and what else was asked for."""

    scenario: Scenario
    seed: int
    kpis: pd.DataFrame                   # one row per replication, sorted by replication
    occupancy: np.ndarray | None         # (replications, hours, resources) hourly mean occupancy
    extras: list | None = None           # extract(log, scenario) per replication, in replication order
    # each programme's own KPIs: replication, programme, then metrics.PROGRAMME_KPI_NAMES (one row per
    # programme and replication; a single-drug scenario's one programme is named after its drug)
    by_programme: pd.DataFrame | None = None
    # (replications, users, days, resources) daily mean occupancy by user: the programmes in the scenario's
    # order, then other services (metrics.user_names)
    occupancy_by_programme: np.ndarray | None = None

    def summary(self, level: float = 0.95) -> pd.DataFrame:
        """One row per KPI: kpi, mean, sd, ci_low, ci_high, n (Wilson bounds for proportions).

        The table ``python -m sim run`` writes to summary.csv.
        """
        return stats.summary(self.kpis, level)

    def programme_summary(self, level: float = 0.95) -> pd.DataFrame:
        """One row per programme and KPI: programme, kpi, mean, sd, ci_low, ci_high, n (summary_by_programme.csv)."""
        frames = [stats.summary(rows.drop(columns="programme"), level).assign(programme=name)
                  for name, rows in self.by_programme.groupby("programme", sort=False)]
        return pd.concat(frames, ignore_index=True)[["programme", "kpi", "mean", "sd", "ci_low", "ci_high", "n"]]

    @property
    def programmes(self) -> tuple[str, ...]:
        """The programmes, in the scenario's order (a single-drug scenario's one is named after its drug)."""
        return tuple(dict.fromkeys(self.by_programme["programme"]))


# One replication's result: (KPI row, hourly occupancy or None, extract's result or None, the programmes' KPI
# rows, daily occupancy by programme or None).
Row = tuple[dict[str, float], np.ndarray | None, Any, list[dict], np.ndarray | None]


def replicate(scenario: Scenario, replication: int, seed: int | None = None,
              keep_occupancy: bool = False, extract: Extract | None = None):
    """Simulate one replication and reduce it to its KPI row (and occupancy).

    Returns ``(kpi_row, occupancy_or_None)``, or ``(kpi_row, occupancy_or_None, extract(log, scenario))``
    when ``extract`` is given. A centre's row is its totals (every programme, the whole places).
    """
    row, occ, extra, _, _ = _replicate(scenario, replication, seed, keep_occupancy, extract)
    return (row, occ) if extract is None else (row, occ, extra)


def _replicate(scenario: Scenario, replication: int, seed: int | None, keep: bool, extract: Extract | None) -> Row:
    if seed is not None and seed != scenario.run.seed:
        scenario = scenario.model_copy(update={"run": scenario.run.model_copy(update={"seed": seed})})
    if scenario.programmes:
        centre = model.simulate_centre(scenario, _cohort.draw_centre(scenario, replication))
        log = centre.centre
    else:
        centre, log = None, model.simulate(scenario, _cohort.draw(scenario, replication))
    row = metrics.summarise(log, scenario, replication)
    by_programme = (metrics.programme_rows(centre, scenario, replication) if centre is not None
                    else metrics.single_programme_rows(row, scenario))
    occ = metrics.occupancy(log) if keep else None
    split = metrics.occupancy_by_user(centre, log) if keep else None
    return row, occ, None if extract is None else extract(log, scenario), by_programme, split


def _task(args: tuple[Scenario, list[int], int | None, bool, Extract | None]) -> list[Row]:
    scenario, reps, seed, keep, extract = args
    out = []
    for r in reps:
        # A replication allocates ~10^5 short-lived objects, and the cyclic garbage collector
        # kept interrupting it to scan them (and every long-lived object of the process):
        # ~11% of its time. Collection is paused during a replication and its young garbage
        # collected once at the end, so memory stays flat. Collection timing changes no number.
        enabled = gc.isenabled()
        gc.disable()
        try:
            out.append(_replicate(scenario, r, seed, keep, extract))
        finally:
            if enabled:
                gc.enable()
        gc.collect(0)
    return out


def _dask_task(scenario: Scenario, reps: list[int], seed: int | None, keep: bool,
               extract: Extract | None) -> list[Row]:
    return _task((scenario, reps, seed, keep, extract))


MAX_CHUNK = 8   # replications per task at most: small enough to keep the progress bar moving


def _chunks(reps: list[int], workers: int) -> list[list[int]]:
    """``reps`` in order, cut into tasks that shrink towards the end of the run (guided self-scheduling):
    each takes a quarter of the remaining replications' share per worker, at most ``MAX_CHUNK`` and at least one.

    The last tasks are single replications, so no worker sits idle while another finishes a chunk. With
    fixed chunks of 8, 100 replications on 2 workers ended with one core idle for up to a chunk: about 3% of the
    wall time of 100 replications of a centre (docs/performance.md).
    """
    out, i, n = [], 0, len(reps)
    while i < n:
        size = max(1, min(MAX_CHUNK, -(-(n - i) // (4 * workers))))
        out.append(reps[i:i + size])
        i += size
    return out


def _gather(futures: list, as_completed: Callable, cancel: Callable[[list], Any], progress: Progress | None,
            total: int) -> list[Row]:
    """Collect chunk results as they finish, reporting progress; on any error (Ctrl-C included)
    cancel what has not run and re-raise. ``as_completed`` and ``cancel`` are those of the executor
    (concurrent.futures or Dask), whose futures differ only there."""
    results: list[Row] = []
    try:
        for fut in as_completed(futures):
            results.extend(fut.result())
            if progress:
                progress(len(results), total)
    except BaseException:
        cancel(futures)
        raise
    return results


def run(scenario: Scenario, reps: int, seed: int | None = None, executor: Executor = "processes",
        workers: int | None = None, progress: Progress | None = None, keep_occupancy: bool = False,
        first: int = 0, scheduler: Any = None, extract: Extract | None = None) -> RunResult:
    """Run replications ``first .. first + reps - 1`` of ``scenario``.

    Parameters
    ----------
    scenario : Scenario
        The validated scenario.
    reps : int
        Number of replications (1 to 100,000).
    seed : int, optional
        Overrides ``scenario.run.seed``.
    executor : {"serial", "processes", "dask"}
        Where replications run; all give identical numbers for the same seed.
    workers : int, optional
        Worker processes for ``processes`` and for a Dask ``LocalCluster`` (default: one per core).
    progress : callable, optional
        Called as ``progress(done, total)`` each time a chunk of replications finishes.
    keep_occupancy : bool
        Also return the hourly occupancy of every replication.
    first : int
        Index of the first replication (to extend a run with more replications).
    scheduler : str, distributed.Client or Lane, optional
        Dask: a scheduler address such as ``"tcp://10.0.0.5:8786"``, or an existing
        ``distributed.Client`` (left open). Without it a ``LocalCluster`` with one single-threaded
        worker process per core is started for this run and closed after it. Remote workers need
        this package (same version) installed. Processes: a :class:`~sim.analysis.pool.Lane` of a
        pool shared with other callers (the dashboard's sessions), instead of a pool of this run's own.
    extract : callable, optional
        A module-level function ``extract(log, scenario)`` run in the worker on each replication's
        :class:`~sim.model.runlog.RunLog`; its results come back in ``RunResult.extras``.

    Returns
    -------
    RunResult
        KPIs sorted by replication (and occupancy / extras in the same order).

    Raises
    ------
    UsageError
        For a replication count out of range, an unknown executor, or a scheduler without Dask.
    """
    check_run_args(scenario, reps, executor, first=first, workers=workers, scheduler=scheduler)
    seed = scenario.run.seed if seed is None else seed
    rep_ids = list(range(first, first + reps))
    if executor == "serial" or (reps == 1 and executor == "processes" and scheduler is None):
        results = _run_serial(scenario, rep_ids, seed, keep_occupancy, extract, progress)
    elif isinstance(scheduler, Lane):
        results = _run_shared(scenario, rep_ids, seed, keep_occupancy, extract, progress, scheduler)
    elif executor == "processes":
        results = _run_processes(scenario, rep_ids, seed, keep_occupancy, extract, progress, workers)
    else:
        results = _run_dask(scenario, rep_ids, seed, keep_occupancy, extract, progress, workers, scheduler)
    return _assemble(scenario, seed, results, keep_occupancy, extract is not None)


def check_run_args(scenario: Scenario, reps: int, executor: str, *, first: int = 0, workers: int | None = None,
                   scheduler: Any = None) -> None:
    """Refuse, before anything runs, what :func:`run` cannot do (raises :class:`UsageError`)."""
    if not isinstance(scenario, Scenario):
        raise UsageError(f"scenario = {type(scenario).__name__}; allowed: a Scenario, e.g. from sim.load(...)")
    if isinstance(reps, bool) or not isinstance(reps, (int, np.integer)) or not 1 <= reps <= MAX_REPLICATIONS:
        raise UsageError(f"reps = {reps!r}; allowed: a whole number from 1 to {MAX_REPLICATIONS}")
    if first < 0:
        raise UsageError(f"first = {first}; allowed: 0 or more")
    if executor not in EXECUTORS:
        raise UsageError(f"executor = {executor!r}; allowed: {', '.join(EXECUTORS)}")
    if isinstance(scheduler, Lane) and executor != "processes":
        raise UsageError(f"a shared pool's lane is only used with executor 'processes', not {executor!r}")
    if scheduler is not None and not isinstance(scheduler, Lane) and executor != "dask":
        raise UsageError(f"a scheduler is only used with executor 'dask', not {executor!r}")
    if workers is not None and workers < 1:
        raise UsageError(f"workers = {workers}; allowed: 1 or more")


def _assemble(scenario: Scenario, seed: int, results: list[Row], keep_occupancy: bool, extracted: bool
              ) -> RunResult:
    # Chunks finish in any order; replication order is restored here so every executor
    # returns the same frame, row for row.
    results.sort(key=lambda res: res[0]["replication"])
    kpis = pd.DataFrame([res[0] for res in results], columns=list(metrics.KPI_COLUMNS))
    kpis = kpis.reset_index(drop=True)
    occ = np.stack([res[1] for res in results]) if keep_occupancy else None
    extras = [res[2] for res in results] if extracted else None
    by_programme = pd.DataFrame([row for res in results for row in res[3]],
                                columns=["replication", "programme", *metrics.PROGRAMME_KPI_NAMES])
    split = np.stack([res[4] for res in results]) if keep_occupancy else None
    return RunResult(scenario=scenario, seed=seed, kpis=kpis, occupancy=occ, extras=extras,
                     by_programme=by_programme.reset_index(drop=True), occupancy_by_programme=split)


def run_many(scenarios: Mapping[Any, Scenario], reps: int, seed: int, executor: Executor = "processes",
             workers: int | None = None, scheduler: Any = None, progress: Progress | None = None,
             on_result: Callable[[Any, RunResult], None] | None = None, **run_options: Any) -> dict[Any, RunResult]:
    """Run each scenario for replications ``0 .. reps - 1`` on ``seed`` (common random numbers).

    Every scenario is checked before the first runs; ``progress(done, total)`` counts replications over
    all scenarios, ``on_result(name, result)`` hears of each scenario as it finishes (partial results),
    and with Dask one cluster serves them all. ``run_options`` go to :func:`run` (e.g. ``keep_occupancy``,
    ``extract``).
    """
    for scen in scenarios.values():
        check_run_args(scen, reps, executor, workers=workers, scheduler=scheduler)
    total = reps * len(scenarios)
    results = {}
    with shared_scheduler(executor, scheduler, workers) as shared:
        for i, (name, scen) in enumerate(scenarios.items()):
            report = None if progress is None else (lambda d, _t, off=i * reps: progress(off + d, total))
            results[name] = run(scen, reps, seed=seed, executor=executor, workers=workers, progress=report,
                            scheduler=shared, **run_options)
            if on_result is not None:
                on_result(name, results[name])
    return results


def _run_serial(scenario, rep_ids, seed, keep, extract, progress) -> list[Row]:
    results: list[Row] = []
    for r in rep_ids:
        results.extend(_task((scenario, [r], seed, keep, extract)))
        if progress:
            progress(len(results), len(rep_ids))
    return results


def _run_processes(scenario, rep_ids, seed, keep, extract, progress, workers) -> list[Row]:
    from concurrent.futures import as_completed

    workers = workers or os.cpu_count() or 1
    # fork is cheapest where available (the parent's imports are inherited); spawn elsewhere
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    chunks = _chunks(rep_ids, workers)
    # Objects alive now are moved out of the collector's reach before forking: otherwise each
    # child's collections touch (and so copy, page by page) everything inherited from the parent.
    # Measured: a quarter fewer page faults and ~7% less CPU per replication in the workers.
    gc.freeze()
    try:
        # The workers die with this process (any signal) and stop at once when the run is abandoned.
        with Lifeline(ctx) as lifeline, ProcessPoolExecutor(
                max_workers=min(workers, len(chunks)), mp_context=ctx, initializer=init_worker,
                initargs=lifeline.initargs()) as pool:
            futures = [pool.submit(_task, (scenario, ch, seed, keep, extract)) for ch in chunks]
            lifeline.adopt(pool)
            return _gather(futures, as_completed, lifeline.abandon, progress, len(rep_ids))
    finally:
        gc.unfreeze()


def _run_shared(scenario, rep_ids, seed, keep, extract, progress, lane: Lane) -> list[Row]:
    # Chunks are the pool's turns: small ones keep the turns short, so sessions interleave finely.
    chunks = _chunks(rep_ids, lane.workers)
    parts = lane.map(_task, [(scenario, ch, seed, keep, extract) for ch in chunks], [len(ch) for ch in chunks],
                     progress)
    return [row for part in parts for row in part]


@contextlib.contextmanager
def shared_scheduler(executor: str, scheduler: Any = None, workers: int | None = None) -> Iterator[Any]:
    """What to pass as ``scheduler`` to several :func:`run` calls in a row (batches, scenarios).

    With ``executor="dask"`` and no scheduler, one ``LocalCluster`` serves all the calls (each call
    would otherwise start and stop its own, seconds each) and is closed on exit; otherwise
    ``scheduler`` is passed through unchanged.
    """
    if executor != "dask" or scheduler is not None:
        yield scheduler
        return
    with contextlib.ExitStack() as stack:
        yield _local_client(stack, workers)


def _local_client(stack: contextlib.ExitStack, workers: int | None):
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError:  # the optional extra is not installed
        raise UsageError("executor 'dask' needs Dask: pip install 'btce-sim[dask]'") from None
    n_workers = workers or os.cpu_count() or 1
    # One single-threaded process per core: the model is pure Python, so threads would only
    # contend for the GIL. No dashboard, so a second run never fights over its port. The workers'
    # statistical profiler samples the task thread every 10 ms and takes the GIL to do it; nobody
    # looks at it here, so it is switched off.
    stack.enter_context(dask.config.set({"distributed.worker.profile.enabled": False}))
    # Only critical log lines: a worker's heartbeat racing the scheduler's shutdown logs an ERROR
    # with a traceback that means nothing to a user; task errors still reach us through the futures.
    cluster = stack.enter_context(LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                               dashboard_address=None, silence_logs=logging.CRITICAL))
    return stack.enter_context(Client(cluster))


def _run_dask(scenario, rep_ids, seed, keep, extract, progress, workers, scheduler) -> list[Row]:
    try:
        from distributed import as_completed
    except ImportError:  # the optional extra is not installed
        raise UsageError("executor 'dask' needs Dask: pip install 'btce-sim[dask]'") from None

    with contextlib.ExitStack() as stack:
        if scheduler is not None and hasattr(scheduler, "submit"):
            client = scheduler                        # the caller's client: theirs to close
            n_workers = max(1, len(client.scheduler_info().get("workers", {})))
        elif scheduler is not None:
            client = stack.enter_context(connect(scheduler))
            n_workers = max(1, len(client.scheduler_info().get("workers", {})))
        else:
            n_workers = workers or os.cpu_count() or 1
            client = _local_client(stack, workers)
        # The scenario goes to every worker once, not once per task.
        scen = client.scatter(scenario, broadcast=True)
        futures = [client.submit(_dask_task, scen, ch, seed, keep, extract, pure=False)
                   for ch in _chunks(rep_ids, n_workers)]
        return _gather(futures, as_completed, client.cancel, progress, len(rep_ids))
