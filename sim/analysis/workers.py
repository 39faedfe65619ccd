"""Worker processes that never outlive the process that started them.

A process pool's workers used to survive a ``kill -9`` (or SIGTERM) of the CLI: re-parented to PID 1,
~120 MB each, still simulating and holding the caller's stdout open. Two independent guards end them:

- the kernel: each worker asks Linux (``prctl(PR_SET_PDEATHSIG)``) to be sent SIGKILL when its
  parent dies, whatever killed the parent;
- a lifeline: a pipe whose only write end stays in the parent. A thread in each worker blocks on the
  read end and ends the worker when it reads end-of-file, which happens the moment the parent exits
  in any way (the kernel closes its descriptors) or cuts the lifeline on purpose to stop the pool
  at once (Ctrl-C, SIGTERM, an error), rather than waiting for the replications under way to finish.
  Where workers are not forked (no inherited pipe) the thread instead checks that the parent's PID
  is unchanged every :data:`POLL_SECONDS`.

Usage (see :func:`sim.analysis.runner._run_processes`)::

    with Lifeline(ctx) as lifeline, ProcessPoolExecutor(..., mp_context=ctx,
                                                          initializer=init_worker,
                                                          initargs=lifeline.initargs()) as pool:
        futures = [pool.submit(...) for ...]
        lifeline.adopt(pool)        # a worker ended mid-result cannot hang the pool's shutdown
        ...
        lifeline.abandon(futures)   # on abort: every worker exits now
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from typing import Any

POLL_SECONDS = 1.0
"""How often a worker without a lifeline pipe checks its parent is alive (only where not forked);
well within the 10 s in which an orphaned worker must be gone."""

_PR_SET_PDEATHSIG = 1          # from <linux/prctl.h>
_EXIT_ORPHANED = 1
# Write ends of the lifelines of the pools alive in this process. A forked worker inherits them all
# and must close every one: a copy held open anywhere would keep its pool's lifeline from ever
# reading end-of-file.
_WRITE_ENDS: set[int] = set()


class Lifeline:
    """The pipe from a parent to the workers of one pool (see the module docstring).

    Parameters
    ----------
    ctx : multiprocessing context
        The pool's; the pipe is only used by forked workers, which inherit its read end.
    """

    def __init__(self, ctx: Any):
        self.parent = os.getpid()
        self._read: int | None = None
        self._write: int | None = None
        if ctx.get_start_method() == "fork":
            self._read, self._write = os.pipe()
            _WRITE_ENDS.add(self._write)

    def initargs(self) -> tuple[int, int | None]:
        """The arguments of :func:`init_worker` for this pool."""
        return (self.parent, self._read)

    def adopt(self, pool: Any) -> None:
        """Call once ``pool`` (a forked ProcessPoolExecutor on this lifeline) has had its first task: its
        workers are then all started. Closes this process's copy of the write end of the pool's result pipe.

        Why: cutting the lifeline ends a worker wherever it is, possibly half-way through sending a
        result. The pool's manager thread then waits in ``recv()`` for the rest of a message that never
        comes, and the pool's shutdown waits for that thread for good (seen: Ctrl-C during ``sim run``
        hung 1 in 6 and 1 in 12 tries in two reproductions on a loaded machine). Once no process but the
        workers holds the write end, their exits end that ``recv()`` with EOFError and the pool is marked
        broken and cleaned up as for any worker that dies. This process never writes to that pipe (the
        pool wakes its thread through another), and a forked pool starts every worker at its first task,
        so no later worker needs the copy. Without a lifeline pipe (spawned workers, which are not ended
        mid-task) this does nothing.
        """
        if self._write is None:
            return
        writer = getattr(getattr(pool, "_result_queue", None), "_writer", None)   # CPython's pool internals
        if writer is not None:
            writer.close()

    def cut(self) -> None:
        """Close the write end: every worker of this pool exits at once. Safe to call twice."""
        if self._write is not None:
            _WRITE_ENDS.discard(self._write)
            os.close(self._write)
            self._write = None

    def abandon(self, futures: list) -> None:
        """Stop the pool at once, its results unwanted (Ctrl-C, SIGTERM, an error).

        Forked workers exit as the lifeline is cut; the pool then fails every future not yet done.
        The futures are not cancelled as well: Python 3.11's pool, finding its workers gone, sets an
        exception on each pending future and raises (in its own thread, with a traceback) on a
        cancelled one. Without a lifeline the futures not yet started are cancelled and the
        replications under way finish first.
        """
        if self._write is not None:
            self.cut()
        else:
            for fut in futures:
                fut.cancel()

    def close(self) -> None:
        """Cut the lifeline and release the read end (after the pool has shut down)."""
        self.cut()
        if self._read is not None:
            os.close(self._read)
            self._read = None

    def __enter__(self) -> Lifeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def init_worker(parent: int, lifeline: int | None) -> None:
    """Initializer of a pool worker: die with the parent, leave Ctrl-C to the parent.

    Parameters
    ----------
    parent : int
        PID of the process that created the pool.
    lifeline : int or None
        Read end of the pool's :class:`Lifeline` (inherited by a forked worker), or None.
    """
    # Ctrl-C in a terminal reaches the whole process group; the parent stops the pool (by cutting the
    # lifeline), so a worker neither stops half-way on its own nor prints a KeyboardInterrupt traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A forked worker inherits the parent's Python handlers (the CLI turns SIGTERM into an exception
    # for its clean-up); a worker has nothing to clean up, so SIGTERM simply ends it.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    for fd in _WRITE_ENDS:
        _close_quietly(fd)
    _WRITE_ENDS.clear()
    _ask_kernel_for_sigkill_on_parent_death()
    if os.getppid() != parent:      # the parent died before the request above took effect
        os._exit(_EXIT_ORPHANED)
    threading.Thread(target=_watch_parent, args=(parent, lifeline), name="parent-watch", daemon=True).start()


def _ask_kernel_for_sigkill_on_parent_death() -> None:
    # Linux only. The signal is sent when the *thread* that forked the worker ends; the pool is
    # created, used and shut down within one call of the runner, so that thread outlives its workers.
    if not sys.platform.startswith("linux"):
        return
    try:
        # The process's own symbols (libc among them), not ctypes.util.find_library("c"): that runs
        # `ldconfig -p` as a child process in every worker, which a caller counting the server's
        # processes sees as one worker too many, and which costs each worker's start a few ms.
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):   # no usable libc: the lifeline still ends the worker
        pass


def _watch_parent(parent: int, lifeline: int | None) -> None:
    if lifeline is not None:
        try:
            while os.read(lifeline, 1):     # nothing is ever written: this returns only at end-of-file
                pass
        except OSError:
            pass
    else:
        while os.getppid() == parent:
            time.sleep(POLL_SECONDS)
    # The results have nowhere to go: end now, without running the pool's exit handlers, which
    # would wait on queues whose other end is gone.
    os._exit(_EXIT_ORPHANED)


def _close_quietly(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass
