"""The server's one worker pool (:class:`sim.analysis.pool.SharedPool`), shared by every browser session.

Created once per Streamlit server process, on the first run that needs it, and closed when the server
exits (its workers also die with the server however it ends: :mod:`sim.analysis.workers`). Each session
reaches it through a lane of its own, keyed by the session's id, so sessions take turns on the workers
and never receive each other's results.

Settings, from the environment of ``streamlit run`` (documented in the README's dashboard section):

- ``BTCE_SIM_WORKERS``: the cap on worker processes for all sessions together (default: one per core);
- ``BTCE_SIM_SCHEDULER``: a Dask scheduler address (``tcp://HOST:8786``) whose cluster runs the
  replications instead of local workers; the cap then limits the tasks in flight on it (default: the
  cluster's worker threads).
"""

from __future__ import annotations

import os
from typing import Callable, Mapping

import streamlit as st

from sim.analysis.pool import Lane, SharedPool, Status
from sim.config.errors import UsageError

WORKERS_ENV = "BTCE_SIM_WORKERS"
SCHEDULER_ENV = "BTCE_SIM_SCHEDULER"


def settings(environ: Mapping[str, str] = os.environ) -> tuple[int | None, str | None]:
    """The cap and the scheduler address set in ``environ`` (None where unset).

    Raises
    ------
    UsageError
        For a cap that is not a whole number of 1 or more.
    """
    raw = environ.get(WORKERS_ENV, "").strip()
    if raw and not (raw.isdigit() and int(raw) >= 1):
        raise UsageError(f"{WORKERS_ENV} = {raw!r}; allowed: a whole number, 1 or more (unset: one per core)")
    return (int(raw) if raw else None), (environ.get(SCHEDULER_ENV, "").strip() or None)


@st.cache_resource(show_spinner=False)
def shared() -> SharedPool:
    """The server's pool (one per server process: Streamlit keeps it across sessions and reruns)."""
    workers, scheduler = settings()
    return SharedPool(workers, scheduler)


def lane(owner: str, on_wait: Callable[[Status], None] | None = None) -> Lane:
    """Session ``owner``'s way into the server's pool."""
    return shared().lane(owner, on_wait)


def queue_note(status: Status) -> str:
    """One line on where a session's job stands in the shared pool."""
    sessions = f"{status.owners} session{'s' if status.owners != 1 else ''}"
    share = f"{sessions} sharing the server's {status.workers} worker{'s' if status.workers != 1 else ''}"
    if status.running:
        return f"Running on {status.running} worker{'s' if status.running != 1 else ''} ({share})"
    return f"Waiting for a worker: place {status.ahead + 1} in the queue ({share})"
