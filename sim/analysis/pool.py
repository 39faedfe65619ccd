"""One pool of workers shared fairly by many callers (the dashboard's browser sessions).

Before, each dashboard session started a process pool of its own, one worker per core: 8 sessions on
2 cores ran 16 workers (3.4 GB) and each waited 170-293 s. Here one :class:`SharedPool` serves them all:

- **a cap**: at most ``cap`` tasks are on workers at once, and a local pool has exactly ``cap``
  worker processes;
- **fair turns**: every caller (an *owner*, e.g. a session) reaches the pool through a :class:`Lane`;
  a run is split into tasks (chunks of replications), and each time a worker is free it takes the
  next task of the next owner in turn (round-robin over owners, first come first served within one
  owner), so one owner's 1,000 replications do not hold back another's 100;
- **place and cancel**: a lane reports its place in line while it waits (:class:`Status`), and a job
  abandoned (cancelled, or its caller interrupted) loses its tasks not yet started at once, which
  frees the workers for the others; tasks already on a worker finish and their results are dropped;
- **isolation**: each job collects only its own tasks' results, in task order.

The pool knows nothing of simulations or of Streamlit: a task is a picklable function and one
argument. Local workers are started (spawned) by the pool's own dispatcher thread, which lives as
long as the pool (the kernel's parent-death signal is tied to the thread that started a worker), and
run :func:`~sim.analysis.workers.init_worker`, so they end with the server whatever ends it. With a Dask
scheduler address the tasks go to that cluster instead (a busy centre can add machines), with the
same cap and turns.
"""

from __future__ import annotations

import atexit
import itertools
import multiprocessing as mp
import os
import threading
from collections import deque
from concurrent.futures import BrokenExecutor, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable

from sim.analysis.workers import Lifeline, init_worker
from sim.config.errors import UsageError

HEARTBEAT_SECONDS = 0.5
"""A waiting lane calls its ``on_wait`` at least this often, so a caller can show its place in line
(and, in the dashboard, be interrupted by a Cancel click) even while no task of its own finishes."""


class Cancelled(Exception):
    """The job was cancelled (:meth:`SharedPool.cancel`) before it finished."""


@dataclass(frozen=True)
class Status:
    """Where one job stands, as its caller sees it.

    ``done``/``total`` count units of work (replications), ``running`` its tasks on a worker now,
    ``ahead`` the other owners whose turn comes before this job's next task (0: next), ``owners`` the
    owners with work in the pool (this one included) and ``workers`` the cap they share.
    """

    done: int
    total: int
    running: int
    ahead: int
    owners: int
    workers: int


@dataclass(eq=False)
class _Job:
    owner: Hashable
    fn: Callable[[Any], Any]
    pending: deque                     # (index, item, size) not yet given to a worker
    results: list
    total: int
    done: int = 0
    running: int = 0
    error: BaseException | None = None
    cancelled: bool = False
    number: int = field(default_factory=itertools.count().__next__)

    def over(self) -> bool:
        return self.cancelled or self.error is not None or (not self.pending and self.running == 0)


class SharedPool:
    """A capped worker pool that takes tasks from its owners in turn (see the module docstring).

    Parameters
    ----------
    workers : int, optional
        The cap: worker processes of the local pool, or tasks in flight on a Dask cluster. Default:
        one per core locally, the cluster's worker threads with a scheduler.
    scheduler : str, optional
        A Dask scheduler address (``tcp://HOST:8786``); the cluster's workers need this package.
    """

    def __init__(self, workers: int | None = None, scheduler: str | None = None):
        if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
            raise UsageError(f"workers = {workers!r}; allowed: a whole number, 1 or more")
        self._client = connect(scheduler) if scheduler else None
        self.cap = workers or (_cluster_threads(self._client) if self._client else os.cpu_count() or 1)
        self._cond = threading.Condition()
        self._queues: dict[Hashable, deque[_Job]] = {}    # owners with unfinished jobs; dict order = turns
        self._in_flight = 0
        self._closed = False
        self._thread = threading.Thread(target=self._dispatch, name="shared-pool", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    def lane(self, owner: Hashable, on_wait: Callable[[Status], None] | None = None) -> Lane:
        """A handle through which ``owner`` runs work; ``on_wait(status)`` is called while it waits."""
        return Lane(self, owner, on_wait)

    # ------------------------------------------------------------------ jobs

    def submit(self, owner: Hashable, fn: Callable[[Any], Any], items: list, sizes: list[int]) -> _Job:
        """Queue ``fn(item)`` for each item, as one job of ``owner``; ``sizes`` weigh them for progress."""
        job = _Job(owner, fn, deque(zip(range(len(items)), items, sizes)), [None] * len(items), sum(sizes))
        with self._cond:
            if self._closed:
                raise UsageError("the shared worker pool is closed")
            self._queues.setdefault(owner, deque()).append(job)
            self._cond.notify_all()
        return job

    def wait(self, job: _Job, on_wait: Callable[[Status], None] | None = None,
             progress: Callable[[int, int], None] | None = None) -> list:
        """The job's results in task order, once all are in; the job is cancelled if this is interrupted.

        Raises the first task's error, or :class:`Cancelled`.
        """
        reported = -1
        try:
            while True:
                with self._cond:
                    status, over = self._status(job), job.over()
                if job.error is not None:
                    raise job.error
                if job.cancelled:
                    raise Cancelled(f"cancelled after {status.done} of {status.total}")
                if on_wait is not None:
                    on_wait(status)
                if progress is not None and status.done != reported:
                    reported = status.done
                    progress(status.done, status.total)
                if over:
                    return job.results
                with self._cond:
                    if not job.over():
                        self._cond.wait(HEARTBEAT_SECONDS)
        except BaseException:
            self._abandon(job)
            raise

    def cancel(self, owner: Hashable) -> int:
        """Cancel every job of ``owner``; returns how many were still running or waiting."""
        with self._cond:
            jobs = list(self._queues.get(owner, ()))
        for job in jobs:
            self._abandon(job)
        return len(jobs)

    def status(self, owner: Hashable) -> Status | None:
        """The status of ``owner``'s first unfinished job, or None."""
        with self._cond:
            jobs = self._queues.get(owner)
            return self._status(jobs[0]) if jobs else None

    def _abandon(self, job: _Job) -> None:
        with self._cond:
            if not job.over():
                job.cancelled = True
            job.pending.clear()
            self._forget(job)
            self._cond.notify_all()

    def _forget(self, job: _Job) -> None:
        jobs = self._queues.get(job.owner)
        if jobs is not None and job in jobs:
            jobs.remove(job)
            if not jobs:
                del self._queues[job.owner]

    def _status(self, job: _Job) -> Status:
        owners = list(self._queues)
        if job.owner in owners:
            waiting = [o for o in owners[:owners.index(job.owner)] if any(j.pending for j in self._queues[o])]
            mine = self._queues[job.owner]
            ahead = len(waiting) + sum(1 for j in mine if j.number < job.number and j.pending)
        else:
            owners.append(job.owner)
            ahead = 0
        return Status(job.done, job.total, job.running, ahead, len(owners), self.cap)

    # ------------------------------------------------------------------ dispatching

    def _next_task(self) -> tuple[_Job, tuple] | None:
        """The next owner's next task (and that owner goes to the back of the line), or None."""
        for owner in list(self._queues):
            jobs = self._queues.pop(owner)
            job = next((j for j in jobs if j.pending), None)
            self._queues[owner] = jobs          # re-inserted: the back of the line
            if job is not None:
                job.running += 1
                self._in_flight += 1
                return job, job.pending.popleft()
        return None

    def _dispatch(self) -> None:
        backend = None
        while True:
            with self._cond:
                taken = None
                while not self._closed and (self._in_flight >= self.cap or (taken := self._next_task()) is None):
                    self._cond.wait()
                if self._closed:
                    break
            job, task = taken
            try:
                backend = backend or self._start()
                try:
                    future = _submit(backend, job.fn, task[1])
                except BrokenExecutor:            # a worker died (e.g. killed): a fresh pool, one retry
                    backend = self._restart(backend)
                    future = _submit(backend, job.fn, task[1])
            except BaseException as exc:
                self._settle(job, task, None, exc)
                continue
            future.add_done_callback(lambda fut, job=job, task=task: self._collect(job, task, fut))
        if backend is not None:
            _shutdown(backend)

    def _collect(self, job: _Job, task: tuple, future: Any) -> None:
        try:
            result, error = future.result(), None
        except BaseException as exc:
            result, error = None, exc
        self._settle(job, task, result, error)

    def _settle(self, job: _Job, task: tuple, result: Any, error: BaseException | None) -> None:
        index, _item, size = task
        with self._cond:
            self._in_flight -= 1
            job.running -= 1
            if job.cancelled:
                pass                               # nobody waits for it: dropped
            elif error is not None:
                job.error = job.error or error
                job.pending.clear()
            else:
                job.results[index] = result
                job.done += size
            if job.over():
                self._forget(job)
            self._cond.notify_all()

    def _start(self):
        if self._client is not None:
            return self._client
        # Spawned, not forked: the pool lives in a server with many threads (the dashboard's), and a
        # child forked while another thread holds a lock (logging, a stream) can hang for good. The
        # workers start once per pool (about a second each, importing the package) and are reused.
        # They are started by submits from this thread, so the parent-death signal outlives them.
        ctx = mp.get_context("spawn")
        lifeline = Lifeline(ctx)           # no pipe with spawn: the workers watch the parent's PID
        executor = ProcessPoolExecutor(max_workers=self.cap, mp_context=ctx, initializer=init_worker,
                                       initargs=lifeline.initargs())
        return executor, lifeline

    def _restart(self, backend):
        _shutdown(backend)
        return self._start()

    def close(self) -> None:
        """Cancel every job and stop the workers. Safe to call twice."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            for jobs in self._queues.values():
                for job in jobs:
                    job.cancelled = True
                    job.pending.clear()
            self._queues.clear()
            self._cond.notify_all()
        self._thread.join(timeout=10)
        atexit.unregister(self.close)


class Lane:
    """One owner's way into a :class:`SharedPool` (made by :meth:`SharedPool.lane`).

    The runner (:func:`sim.analysis.runner.run`) takes a lane as its ``scheduler`` with
    ``executor="processes"``; several lanes of one owner share that owner's turns.
    """

    def __init__(self, pool: SharedPool, owner: Hashable, on_wait: Callable[[Status], None] | None = None):
        self.pool = pool
        self.owner = owner
        self.on_wait = on_wait

    @property
    def workers(self) -> int:
        """The pool's cap."""
        return self.pool.cap

    def map(self, fn: Callable[[Any], Any], items: list, sizes: list[int] | None = None,
            progress: Callable[[int, int], None] | None = None) -> list:
        """``[fn(item) for item in items]`` on the pool's workers, in item order.

        ``progress(done, total)`` counts ``sizes`` (default 1 per item) as tasks finish. An exception
        while waiting (an interrupted caller, a failed task) cancels what has not started.
        """
        job = self.pool.submit(self.owner, fn, list(items), list(sizes or [1] * len(items)))
        return self.pool.wait(job, self.on_wait, progress)

    def cancel(self) -> int:
        """Cancel this owner's jobs (see :meth:`SharedPool.cancel`)."""
        return self.pool.cancel(self.owner)


def _submit(backend, fn, item):
    if isinstance(backend, tuple):
        return backend[0].submit(fn, item)
    return backend.submit(fn, item, pure=False)


def _shutdown(backend) -> None:
    if isinstance(backend, tuple):
        executor, lifeline = backend
        lifeline.cut()                      # workers end now, mid-task or not
        executor.shutdown(wait=True, cancel_futures=True)
        lifeline.close()
    else:
        backend.close()


def connect(address: str):
    """A ``distributed.Client`` of the Dask scheduler at ``address`` (raises :class:`UsageError` with one
    line for a malformed address, Dask missing or a scheduler that does not answer within 10 s)."""
    if not isinstance(address, str) or "://" not in address:
        raise UsageError(f"scheduler = {address!r}; allowed: an address such as tcp://HOST:8786")
    try:
        from distributed import Client
    except ImportError:  # the optional extra is not installed
        raise UsageError("a Dask scheduler needs Dask: pip install 'btce-sim[dask]'") from None
    try:
        return Client(address, timeout="10s")
    except (OSError, TimeoutError) as exc:
        raise UsageError(f"cannot reach the Dask scheduler at {address}: {exc}") from None


def _cluster_threads(client) -> int:
    workers = client.scheduler_info().get("workers", {})
    return max(1, sum(w.get("nthreads", 1) for w in workers.values()))
