"""Running scenarios from the dashboard: the public API (:mod:`sim`) on the server's shared worker pool
(:mod:`dashboard.pool`), a progress bar fed by its callback, the session's place in the pool's queue, a
Cancel button, and the session cache. The dashboard has no analysis loops of its own."""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any, Callable, Iterator, Sequence

import pandas as pd
import streamlit as st

import sim
from dashboard import pool, state
from sim.analysis import stats, views
from sim.analysis.pool import Cancelled
from sim.config import loader
from sim.config.errors import ScenarioError, ScenarioErrors, UsageError
from sim.config.scenario import Scenario
from sim.metrics import series, user_names

EXECUTORS = {"The server's shared workers": "processes", "One core (serial)": "serial"}
# Each replication is reduced in the worker to the small arrays the charts draw (not the event log).
CHART_SERIES = {"extract": series.collect}
# Session-state flag set by run_view: the run the page shows was computed in this rerun (see cards_first).
CARDS_FIRST = "cards_first"
CARDS_FIRST_SECONDS = 0.3


def executor() -> str:
    """The runner's executor the user chose under Run options (the shared workers by default)."""
    return EXECUTORS.get(st.session_state.get("executor", ""), "processes")


@st.cache_resource(show_spinner=False)
def warm_server() -> threading.Thread:
    """Import, once per server and in the background, what the first run's results need in this process
    (``scipy.special`` for the confidence intervals: about 0.5 s on an idle core, 1-2 s on busy ones), which
    the first Run of a new server used to wait for between its last replication and its KPI cards."""
    thread = threading.Thread(target=stats.t_quantile, args=(0.975, 2), name="btce-warm-server", daemon=True)
    thread.start()
    return thread


@st.cache_resource(show_spinner=False)
def warm_pool() -> bool:
    """Start the shared pool's workers in the background, once per server, while the first user is still
    reading the page: spawned workers each import the package (about 4 s on 2 busy cores), which the first
    Run used to wait for. Each loads the reference preset (importing everything a replication needs);
    nobody waits for the result, and nothing is simulated."""
    try:
        shared = pool.shared()
    except UsageError:   # a bad BTCE_SIM_WORKERS: Run says so where it is pressed (see _job)
        return False
    shared.submit("warm-up", sim.load, [loader.DEFAULT_SCENARIO.stem] * shared.cap, [0] * shared.cap)
    return True


def _on_cancel(label: str) -> None:
    # Runs at the start of the rerun the click asked for; the click itself already interrupted the
    # run, which cancelled the session's job. Cancelling again covers a job left by any other path.
    if executor() == "processes":
        pool.shared().cancel(state.session_id())
    st.session_state["cancelled"] = label


def show_cancelled() -> None:
    """Say once that the last run was cancelled (the Cancel button's rerun)."""
    label = st.session_state.pop("cancelled", None)
    if label:
        st.info(f"Cancelled: {label}. Its workers went to the other sessions; nothing was kept.")


def time_left(done: int, total: int, elapsed: float) -> str:
    """What a progress line adds to say how long the user still waits: `` · about N s left`` at the pace of the
    ``done`` units so far in ``elapsed`` seconds (minutes from 90 s); nothing before the first or after the last.
    A wait for the shared workers counts in the pace, as it does in the wait."""
    if done <= 0 or done >= total:
        return ""
    left = elapsed / done * (total - done)
    return f" · about {max(1, round(left))} s left" if left < 90 else f" · about {round(left / 60)} min left"


@contextlib.contextmanager
def _job(label: str) -> Iterator[tuple[Callable[[int, int], None], dict[str, Any]]]:
    """A progress bar, the queue line and a Cancel button while the work inside runs.

    Yields ``(progress, where)``: the runner's progress callback and its executor arguments (the
    session's lane of the shared pool, or serial).
    """
    # the lane first: a bad pool setting (BTCE_SIM_WORKERS) stops here, with nothing drawn
    lane = pool.lane(state.session_id()) if executor() == "processes" else None
    bar = st.progress(0.0, text=label)
    note = st.empty()
    ss = st.session_state
    ss["cancel_n"] = ss.get("cancel_n", 0) + 1
    cancel = st.empty()
    cancel.button("Cancel", key=f"cancel{ss['cancel_n']}", on_click=_on_cancel, args=(label,),
                  help="Stop this run; the workers go to the other sessions.")

    started = time.monotonic()

    def progress(done: int, total: int, text: str | None = None) -> None:
        bar.progress(min(1.0, done / max(total, 1)), text=text or f"{label}: {done} of {total} replications"
                     + time_left(done, total, time.monotonic() - started))

    where: dict[str, Any] = {"executor": executor()}
    if lane is not None:
        shown = [""]   # the line on screen

        def on_wait(status) -> None:
            # The heartbeat comes twice a second; an unchanged line is not sent again, since every element sent
            # makes the browser draw the page again, and on a server that also runs the browser (tests, a
            # laptop) that drawing takes CPU from the workers.
            line = pool.queue_note(status)
            if line != shown[0]:
                shown[0] = line
                note.caption(line)

        lane.on_wait = on_wait
        where["scheduler"] = lane
    try:
        yield progress, where
    except Cancelled:
        st.info(f"Cancelled: {label}.")
        st.stop()
    # Not on an interruption (another click): the rerun it asked for draws the page afresh anyway.
    for element in (bar, note, cancel):
        element.empty()


def run_view(scenario: Scenario, reps: int, label: str = "Simulating") -> views.RunView:
    """Run ``scenario`` (or take it from the session cache) and return its :class:`~sim.analysis.views.RunView`."""
    key = state.run_key(scenario, reps)
    cached = state.recall("results", key)
    if cached is not None:
        return cached
    with _job(f"{label} '{scenario.name}'") as (progress, where):
        t0 = time.perf_counter()
        # a centre's run keeps the occupancy split by programme, for the Centre page's "who uses the beds"
        result = sim.run(scenario, reps, progress=progress, keep_occupancy=bool(scenario.programmes), **where,
                         **CHART_SERIES)
        view = views.view_from_result(result, time.perf_counter() - t0)
    st.session_state[CARDS_FIRST] = True   # computed in this rerun: its cards get time to show (cards_first)
    if scenario.programmes:
        state.remember("centres", key, centre_view(result))
    state.remember("results", key, view)
    return view


def centre_view(result: sim.RunResult) -> dict[str, Any]:
    """What the Centre page shows of a run: each programme's summary, and the occupancy by user averaged
    over replications (users, days, resources), not the whole (reps, ...) array."""
    return {"summary": result.programme_summary(), "users": user_names(result.scenario),
            "occupancy": result.occupancy_by_programme.mean(axis=0)}


def run_main(scenario: Scenario, reps: int) -> views.RunView | None:
    """The sidebar's Run button: run, cache, and make this the run the pages show.

    A run the runner refuses (e.g. a replication count out of range) is reported, not raised.
    """
    try:
        view = run_view(scenario, reps)
    except ValueError as exc:
        st.error(f"The simulation did not run: {exc}")
        return None
    st.session_state["last_run_key"] = state.run_key(scenario, reps)
    return view


def cards_first() -> None:
    """Once per run computed in this rerun, after its first KPI cards are drawn: wait ``CARDS_FIRST_SECONDS``
    so the browser draws the cards (the answer) before the charts under them arrive.

    Sent straight after the cards, the charts kept the browser busy and the cards showed only with the last
    chart: on 2 cores shared with the browser, 0.7-2.5 s (mostly over 2 s) after the 100 replications had
    finished. With the pause the cards show about 0.5 s after, and the charts 0.3 s later than before.
    Streamlit has no call that waits for the browser to draw, so the pause is a fixed one; its length was
    measured, not guessed (docs/performance.md).
    """
    if st.session_state.pop(CARDS_FIRST, False):
        time.sleep(CARDS_FIRST_SECONDS)


def compare_views(scenarios: dict[str, Scenario], reps: int, label: str) -> list[views.RunView]:
    """Run scenarios on one seed (common random numbers; :func:`sim.compare`) under one progress bar,
    and return their :class:`~sim.analysis.views.RunView`, in the order given."""
    with _job(label) as (progress, where):
        t0 = time.perf_counter()
        comparison = sim.compare(scenarios, reps, progress=progress, **where, **CHART_SERIES)
        seconds = (time.perf_counter() - t0) / len(scenarios)
    return [views.view_from_result(r, seconds) for r in comparison.runs.values()]


def size(scenario: Scenario, resource: str, target: sim.Target, reps: int, low: int, high: int,
         label: str) -> sim.SizingResult:
    """:func:`sim.size` of one resource, each capacity evaluated shown on a progress bar."""
    # bracketing and bisection evaluate at most about 2 log2(range) + 2 capacities
    most = 2 * max(1, high - low + 1).bit_length() + 2
    with _job(label) as (progress, where):
        def evaluated(c) -> None:
            progress(min(c.order, most), most, f"{label}: {resource} = {c.point[resource]} evaluated "
                                               f"({'meets' if c.feasible else 'fails'} the target)")

        return sim.size(scenario, resource, target, reps, low=low, high=high, on_candidate=evaluated, **where)


def level(scenario: Scenario, resource: str, reps: int, label: str) -> sim.LevellingResult:
    """:func:`sim.level` of one resource, each assignment evaluated shown on a progress bar."""
    with _job(label) as (progress, where):
        return sim.level(scenario, resource, reps, progress=progress, **where)


def stock_curve(scenario: Scenario, levels: Sequence[float], param: str, reps: int, label: str) -> pd.DataFrame:
    """:func:`sim.stock_curve` on one progress bar."""
    with _job(label) as (progress, where):
        return sim.stock_curve(scenario, levels, param, reps, progress=progress, **where)


# --------------------------------------------------------------------------- the analysis pages

def recall_or_run(store: str, key: str, clicked: bool, work: Callable[[], Any], what: str) -> Any:
    """The session's answer under ``key`` in ``store``; when ``clicked``, ``work()`` computes it afresh and
    it is kept. A run the library refuses is reported (``The {what} did not run: ...``) and gives None."""
    if not clicked:
        return state.recall(store, key)
    try:
        answer = work()
    except (ScenarioError, ScenarioErrors, UsageError) as exc:
        st.error(f"The {what} did not run: {exc}")
        return None
    state.remember(store, key, answer)
    return answer


def sensitivity(scenario: Scenario, params: dict[str, tuple[float, float]], kpis: Sequence[str], reps: int,
                label: str, on_point: Callable[[Any, pd.DataFrame], None] | None = None) -> pd.DataFrame:
    """:func:`sim.sensitivity` (one-way: the baseline and each parameter at its low and high) on one
    progress bar over every replication of every point; ``on_point`` hears of each run as it finishes."""
    with _job(label) as (progress, where):
        return sim.sensitivity(scenario, params, reps, list(kpis), progress=progress, on_point=on_point, **where)


def size_pair(scenario: Scenario, resources: tuple[str, str], target: sim.Target, reps: int,
              low: dict[str, int], high: dict[str, int], unit_costs: dict[str, float], label: str
              ) -> sim.SizingResult:
    """:func:`sim.size` of two resources (the cheapest feasible pair), each pair evaluated on the bar.

    The walk's length is not known in advance, so the bar fills towards a guess of twice the
    bisection steps of both ranges and the text counts the pairs evaluated."""
    most = 2 * sum(max(1, high[r] - low[r] + 1).bit_length() for r in resources) + 4
    with _job(label) as (progress, where):
        def evaluated(c) -> None:
            point = ", ".join(f"{r} = {c.point[r]}" for r in resources)
            progress(min(c.order, most - 1), most, f"{label}: pair {c.order} evaluated ({point}: "
                                                   f"{'meets' if c.feasible else 'fails'} the target)")

        return sim.size(scenario, list(resources), target, reps, low=low, high=high, unit_costs=unit_costs,
                        on_candidate=evaluated, **where)


def to_precision(scenario: Scenario, kpis: Sequence[str], target: float, max_reps: int, label: str,
                 on_batch: Callable[[Any], None] | None = None) -> tuple[sim.RunResult, sim.Assessment]:
    """:func:`sim.run_to_precision`: batches of replications until every KPI is precise enough, the bar
    counting towards ``max_reps`` and ``on_batch`` called with the assessment after each batch."""
    with _job(label) as (progress, where):
        return sim.run_to_precision(scenario, list(kpis), target, max_reps=max_reps, progress=progress,
                                    on_batch=on_batch, **where)
