"""The one runner: executors agree, replications extend, progress and extracts come back (sim.runner)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim import metrics
from sim.analysis import runner
from sim.config import loader
from tests.conftest import REFERENCE

TINY = ["run.warmup_weeks=2", "run.horizon_weeks=8", "run.follow_up_weeks=2"]


@pytest.fixture(scope="module")
def tiny():
    return loader.load(REFERENCE, TINY)


def n_patients(log, scenario):
    """A module-level extract: picklable, runs in the worker."""
    return int(log.n)


def test_result_shape_and_order(tiny):
    res = runner.run(tiny, 3, executor="serial", keep_occupancy=True)
    assert list(res.kpis.columns) == list(metrics.KPI_COLUMNS)
    assert res.kpis["replication"].tolist() == [0, 1, 2]
    assert res.occupancy.shape[0] == 3 and res.seed == tiny.run.seed and res.extras is None


@pytest.mark.slow
def test_serial_processes_and_dask_give_identical_kpis(tiny):
    serial = runner.run(tiny, 6, seed=99, executor="serial", keep_occupancy=True)
    procs = runner.run(tiny, 6, seed=99, executor="processes", workers=2, keep_occupancy=True)
    dask = runner.run(tiny, 6, seed=99, executor="dask", workers=2, keep_occupancy=True)
    pd.testing.assert_frame_equal(serial.kpis, procs.kpis)
    pd.testing.assert_frame_equal(serial.kpis, dask.kpis)
    np.testing.assert_array_equal(serial.occupancy, procs.occupancy)
    np.testing.assert_array_equal(serial.occupancy, dask.occupancy)
    # and the seed matters: another seed gives other patients
    other = runner.run(tiny, 6, seed=100, executor="serial")
    assert not other.kpis["patients_referred"].equals(serial.kpis["patients_referred"])


@pytest.mark.slow
def test_dask_scheduler_address_progress_and_extract(tiny):
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        seen = []
        res = runner.run(tiny, 4, executor="dask", scheduler=cluster.scheduler_address,
                         progress=lambda d, t: seen.append((d, t)), extract=n_patients)
    ref = runner.run(tiny, 4, executor="serial", extract=n_patients)
    pd.testing.assert_frame_equal(res.kpis, ref.kpis)
    assert res.extras == ref.extras and all(isinstance(e, int) and e > 0 for e in res.extras)
    assert seen[-1] == (4, 4) and [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_first_extends_a_run(tiny):
    whole = runner.run(tiny, 5, executor="serial")
    tail = runner.run(tiny, 2, executor="serial", first=3)
    assert tail.kpis["replication"].tolist() == [3, 4]
    pd.testing.assert_frame_equal(tail.kpis, whole.kpis.iloc[3:].reset_index(drop=True))


def test_processes_progress_and_extract(tiny):
    seen = []
    res = runner.run(tiny, 5, executor="processes", workers=2, progress=lambda d, t: seen.append((d, t)),
                     extract=n_patients)
    assert seen[-1] == (5, 5) and all(t == 5 for _, t in seen)
    ref = runner.run(tiny, 5, executor="serial", extract=n_patients)
    assert res.extras == ref.extras
    pd.testing.assert_frame_equal(res.kpis, ref.kpis)


def test_replicate_keeps_its_two_value_form(tiny):
    row, occ = runner.replicate(tiny, 0)
    assert occ is None and row["replication"] == 0


@pytest.mark.parametrize("kwargs, match", [
    (dict(reps=0), "reps"),
    (dict(reps=runner.MAX_REPLICATIONS + 1), "reps"),
    (dict(reps=2, executor="threads"), "executor"),
    (dict(reps=2, executor="processes", scheduler="tcp://127.0.0.1:8786"), "scheduler"),
    (dict(reps=2, first=-1), "first"),
    (dict(reps=2, executor="dask", scheduler="not-an-address"), "scheduler"),
])
def test_bad_arguments(tiny, kwargs, match):
    with pytest.raises(ValueError, match=match):
        runner.run(tiny, **kwargs)


def test_shared_scheduler_passes_through_without_dask():
    with runner.shared_scheduler("processes", None) as sched:
        assert sched is None
    with runner.shared_scheduler("dask", "tcp://somewhere:8786") as sched:
        assert sched == "tcp://somewhere:8786"


@pytest.mark.parametrize("n, workers", [(1, 2), (7, 2), (100, 2), (100, 1), (1000, 2), (30, 8)])
def test_chunks_cover_every_replication_once_and_end_in_single_ones(n, workers):
    reps = list(range(5, 5 + n))
    chunks = runner._chunks(reps, workers)
    assert [r for ch in chunks for r in ch] == reps           # every replication once, in order
    sizes = [len(ch) for ch in chunks]
    assert all(1 <= k <= runner.MAX_CHUNK for k in sizes)
    assert sizes == sorted(sizes, reverse=True)               # they shrink towards the end
    # the last task of each worker is a single replication, so no worker waits for another's chunk
    assert sizes[-min(workers, n):] == [1] * min(workers, n)
