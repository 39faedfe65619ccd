"""The dashboard's shared worker pool (dashboard.pool): sessions run on the server's one pool, each gets
its own results, the same numbers as a serial run; its settings come from the environment."""

from __future__ import annotations

import pandas as pd
import pytest

import sim
from dashboard import pool
from sim.analysis.pool import Status
from sim.config.errors import UsageError
from tests.test_app import SHORT, new_app, run
from tests.test_pool import worker_processes

CAP = 2


def shorten_shared(at, reps: int) -> None:
    """Short replications, run on the server's shared workers (the default executor)."""
    at.sidebar.selectbox(key="section").set_value("Run settings").run()
    gen = at.session_state["gen"]
    for path, value in SHORT.items():
        at.sidebar.number_input(key=f"w{gen}:{path}").set_value(value).run()
    at.sidebar.number_input(key="reps").set_value(reps)
    at.run()
    assert at.sidebar.radio(key="executor").value == "The server's shared workers"


@pytest.fixture(scope="module", autouse=True)
def capped(monkeypatch_module):
    """A fresh server-wide pool with the cap set through the environment, as an operator would."""
    monkeypatch_module.setenv(pool.WORKERS_ENV, str(CAP))
    pool.shared().close()   # the pool an earlier test's page warmed up (running.warm_pool): its workers go
    pool.shared.clear()
    yield
    pool.shared().close()
    pool.shared.clear()


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def test_sessions_share_the_capped_pool_and_each_gets_its_own_numbers():
    a, b = new_app(), new_app()
    shorten_shared(a, 4)
    shorten_shared(b, 3)
    b.sidebar.selectbox(key="preset").set_value("tarlatamab_inpatient").run()
    b.sidebar.number_input(key="reps").set_value(3).run()
    run(a)
    run(b)
    assert pool.shared().cap == CAP
    assert len(worker_processes()) <= CAP
    (va,) = a.session_state["results"].values()
    (vb,) = b.session_state["results"].values()
    assert len(va.kpis) == 4 and len(vb.kpis) == 3
    assert va.scenario.name != vb.scenario.name
    serial = sim.run(va.scenario, 4, executor="serial")
    pd.testing.assert_frame_equal(va.kpis, serial.kpis)
    assert a.session_state["session_id"] != b.session_state["session_id"]


def test_the_cap_and_scheduler_come_from_the_environment():
    assert pool.settings({}) == (None, None)
    assert pool.settings({pool.WORKERS_ENV: " 3 ", pool.SCHEDULER_ENV: "tcp://10.0.0.5:8786"}) == (
        3, "tcp://10.0.0.5:8786")
    for bad in ("0", "two", "-1", "1.5"):
        with pytest.raises(UsageError, match=rf"BTCE_SIM_WORKERS = '{bad}'; allowed: a whole number"):
            pool.settings({pool.WORKERS_ENV: bad})


def test_the_queue_line_says_where_a_session_stands():
    assert pool.queue_note(Status(0, 100, 0, 2, 4, 2)) == (
        "Waiting for a worker: place 3 in the queue (4 sessions sharing the server's 2 workers)")
    assert pool.queue_note(Status(8, 100, 1, 0, 1, 2)) == (
        "Running on 1 worker (1 session sharing the server's 2 workers)")
