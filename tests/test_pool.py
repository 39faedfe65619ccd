"""The shared worker pool (sim.analysis.pool): a cap on workers, turns taken in order over owners,
cancel, each job its own results, and the same numbers as a serial run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pandas as pd
import psutil
import pytest

from sim.analysis import pool as shared
from sim.analysis import runner
from sim.config import loader
from sim.config.errors import UsageError
from tests.conftest import REFERENCE, ROOT

TINY = ["run.warmup_weeks=2", "run.horizon_weeks=8", "run.follow_up_weeks=2"]


def stamp(item):
    """A task: sleep, then say who ran it, where and when (module level: it is pickled)."""
    tag, seconds = item
    start = time.monotonic()
    time.sleep(seconds)
    return tag, os.getpid(), start, time.monotonic()


def worker_processes() -> list:
    """This process's children but multiprocessing's resource tracker (a helper that runs no task)."""
    kids = psutil.Process().children(recursive=True)
    return [k for k in kids if "resource_tracker" not in " ".join(k.cmdline())]


def fail(item):
    raise ValueError(f"bad item {item}")


@pytest.fixture(scope="module")
def two():
    p = shared.SharedPool(workers=2)
    yield p
    p.close()


@pytest.fixture
def one():
    p = shared.SharedPool(workers=1)
    yield p
    p.close()


def in_thread(fn, *args):
    out = {}

    def target():
        try:
            out["value"] = fn(*args)
        except BaseException as exc:
            out["error"] = exc

    t = threading.Thread(target=target)
    t.start()
    return t, out


def test_owners_take_turns_so_a_big_job_does_not_starve_a_small_one(one):
    # the only worker is busy while a's 6 tasks and then b's 2 arrive: they must alternate after it
    blocker, _ = in_thread(one.lane("c").map, stamp, [("c0", 0.4)])
    time.sleep(0.15)
    a, a_out = in_thread(one.lane("a").map, stamp, [(f"a{i}", 0.05) for i in range(6)])
    time.sleep(0.05)
    b, b_out = in_thread(one.lane("b").map, stamp, [(f"b{i}", 0.05) for i in range(2)])
    for t in (blocker, a, b):
        t.join(30)
    started = sorted(a_out["value"] + b_out["value"], key=lambda r: r[2])
    assert [r[0] for r in started] == ["a0", "b0", "a1", "b1", "a2", "a3", "a4", "a5"]


def test_the_cap_holds_and_results_come_back_in_order_to_their_own_job(two):
    jobs = {o: in_thread(two.lane(o).map, stamp, [(f"{o}{i}", 0.05) for i in range(8)]) for o in "pqrs"}
    for t, _ in jobs.values():
        t.join(60)
    rows = []
    for owner, (_, out) in jobs.items():
        tags = [r[0] for r in out["value"]]
        assert tags == [f"{owner}{i}" for i in range(8)]     # its own, in item order
        rows += out["value"]
    assert len({pid for _, pid, _, _ in rows}) <= 2           # never more worker processes than the cap
    edges = sorted([(s, 1) for _, _, s, _ in rows] + [(e, -1) for _, _, _, e in rows])
    running = peak = 0
    for _, step in edges:
        running += step
        peak = max(peak, running)
    assert peak <= 2                                          # never more tasks at once than the cap
    assert len(worker_processes()) == 2


def test_cancel_drops_the_waiting_tasks_and_frees_the_workers(one):
    seen = []
    big = one.lane("big", on_wait=seen.append)
    t, out = in_thread(big.map, stamp, [(f"x{i}", 0.2) for i in range(50)])
    deadline = time.monotonic() + 30                # the worker starts, then runs the first tasks
    while one.status("big").done < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert one.status("big").running == 1
    assert big.cancel() == 1
    t.join(5)
    assert isinstance(out.get("error"), shared.Cancelled)
    assert seen and seen[-1].total == 50 and seen[-1].done < 50
    t0 = time.monotonic()
    assert one.lane("small").map(stamp, [("s", 0.0)])[0][0] == "s"
    # at most the task under way is waited for, not the 40-odd left (0.2 s each)
    assert time.monotonic() - t0 < 3
    assert one.status("big") is None


def test_place_in_line_is_reported_while_waiting(one):
    blocker, _ = in_thread(one.lane("first").map, stamp, [("f", 0.6)])
    time.sleep(0.15)
    seen = []
    one.lane("second", on_wait=seen.append).map(stamp, [("s", 0.0)])
    blocker.join(10)
    assert seen[0].ahead == 0 and seen[0].running == 0 and seen[0].owners == 2 and seen[0].workers == 1
    assert seen[-1].done == seen[-1].total == 1


def test_an_interrupted_wait_cancels_the_job(one):
    def interrupt(status):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        one.lane("x", on_wait=interrupt).map(stamp, [(i, 0.1) for i in range(20)])
    assert one.status("x") is None


def test_a_failing_task_fails_its_job_only(two):
    with pytest.raises(ValueError, match="bad item 3"):
        two.lane("bad").map(fail, [3])
    assert [r[0] for r in two.lane("good").map(stamp, [("g", 0.0)])] == ["g"]


def test_bad_settings_are_refused_with_one_line():
    with pytest.raises(UsageError, match=r"workers = 0; allowed"):
        shared.SharedPool(workers=0)
    with pytest.raises(UsageError, match=r"scheduler = 'nowhere'; allowed"):
        shared.SharedPool(scheduler="nowhere")


def test_same_seed_same_numbers_as_a_serial_run(two):
    tiny = loader.load(REFERENCE, TINY)
    serial = runner.run(tiny, 5, executor="serial")
    progress = []
    pooled = runner.run(tiny, 5, executor="processes", scheduler=two.lane("s"),
                        progress=lambda d, t: progress.append((d, t)))
    pd.testing.assert_frame_equal(serial.kpis, pooled.kpis)
    assert progress[-1] == (5, 5)
    with pytest.raises(UsageError, match="lane is only used with executor 'processes'"):
        runner.run(tiny, 2, executor="serial", scheduler=two.lane("s"))


ORPHAN = """
from tests.test_pool import stamp, worker_processes
from sim.analysis.pool import SharedPool
pool = SharedPool(workers=2)
pool.lane("a").map(stamp, [("a", 0.0), ("b", 0.0)])
print(" ".join(str(p.pid) for p in worker_processes()), flush=True)
pool.lane("a").map(stamp, [("x", 60.0)] * 4)
"""


def test_the_workers_die_with_a_killed_server():
    proc = subprocess.Popen([sys.executable, "-c", ORPHAN], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    workers = [int(p) for p in proc.stdout.readline().split()]
    assert len(workers) == 2
    time.sleep(0.5)                    # the workers are now on their 60-second tasks
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(psutil.pid_exists(p) for p in workers):
        time.sleep(0.2)
    assert not [p for p in workers if psutil.pid_exists(p)]


@pytest.mark.slow
def test_a_dask_scheduler_runs_the_tasks_with_the_same_turns_and_numbers():
    from distributed import LocalCluster

    tiny = loader.load(REFERENCE, TINY)
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster:
        remote = shared.SharedPool(scheduler=cluster.scheduler_address)
        try:
            assert remote.cap == 2                                # the cluster's worker threads
            pooled = runner.run(tiny, 4, executor="processes", scheduler=remote.lane("d"))
        finally:
            remote.close()
    pd.testing.assert_frame_equal(pooled.kpis, runner.run(tiny, 4, executor="serial").kpis)
