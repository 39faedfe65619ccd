"""Saved runs in the dashboard: a finished run is saved under a name and reopened from a list, its
scenario back in the sidebar and its results on the pages without running again.

A run is stored with the library's saved runs (:mod:`sim.storage.runs`, the folder ``python -m sim runs
list`` reads): the manifest (scenario as run, seed, replications, times) and the KPI and summary tables,
plus the per-replication series the charts draw (``series_*.parquet``, one flat ``value`` column each,
their shapes in the manifest), so a reopened run draws exactly the charts it drew when it ran. Runs saved
by the command line keep no chart series and are not listed here.

The folder is ``runs/`` under the server's working directory, or ``BTCE_SIM_RUNS_DIR``; it is the
server's, so every session sees the same list.
"""

from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import state
from sim.analysis import views
from sim.config.errors import ScenarioError, ScenarioErrors, UsageError
from sim.metrics import series
from sim.storage import output, runs

RUNS_ENV = "BTCE_SIM_RUNS_DIR"
SERIES = ("hour_of_week", "daily_peak", "toci_week", "grades", "on_hand", "stockouts")
CALENDAR = "dose_calendar"
MAX_NAME = 80


def runs_dir() -> Path:
    """Where the dashboard saves runs: ``BTCE_SIM_RUNS_DIR``, else ``runs/`` (the CLI's default)."""
    return Path(os.environ.get(RUNS_ENV, "").strip() or runs.DEFAULT_RUNS_DIR)


# --------------------------------------------------------------------------- a view as saved-run tables

def view_tables(view: views.RunView) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """The tables of a saved run holding ``view`` and the manifest facts its series need to read back."""
    tables = {"kpis": view.kpis, "summary": view.summary}
    shapes = {}
    for name in SERIES:
        arr = getattr(view, name)
        if arr is not None:
            tables[f"series_{name}"] = pd.DataFrame({"value": np.asarray(arr).ravel()})
            shapes[name] = list(np.shape(arr))
    if view.dose_calendar is not None:
        tables[f"series_{CALENDAR}"] = pd.DataFrame(view.dose_calendar)
    return tables, {"dashboard_series": shapes, "peaks_exact": view.peaks_exact}


def save_view(view: views.RunView, name: str, folder: Path | None = None) -> Path:
    """Save ``view`` as a run named ``name`` (:func:`sim.storage.runs.save`); its folder.

    Raises
    ------
    UsageError
        An empty name or one over :data:`MAX_NAME` characters.
    """
    label = name.strip()
    if not 1 <= len(label) <= MAX_NAME:
        raise UsageError(f"name = {name!r}; allowed: 1 to {MAX_NAME} characters")
    tables, facts = view_tables(view)
    finished = _dt.datetime.now(_dt.timezone.utc)
    started = finished - _dt.timedelta(seconds=0 if np.isnan(view.seconds) else view.seconds)
    manifest = runs.new_manifest(
        kind="run", scenarios={view.scenario.name: output.resolved_toml(view)}, seed=view.seed,
        replications=view.reps, executor="dashboard", started=started.isoformat(timespec="seconds"),
        finished=finished.isoformat(timespec="seconds"),
        first_replication=int(view.kpis["replication"].min()) if len(view.kpis) else 0,
        extra={"label": label, "seconds": None if np.isnan(view.seconds) else view.seconds, **facts})
    return runs.save(folder or runs_dir(), manifest, tables)


def view_from_saved(folder: Path, scenario) -> views.RunView:
    """The :class:`RunView` saved in ``folder`` (by :func:`save_view`), drawn for ``scenario`` (the
    run's scenario read back from its manifest)."""
    manifest = runs.read_manifest(folder)
    shapes = manifest.get("dashboard_series") or {}
    arrays = {name: runs.load_table(folder, f"series_{name}")["value"].to_numpy().reshape(shape)
              for name, shape in shapes.items()}
    calendar = None
    if f"series_{CALENDAR}.parquet" in manifest["files"]:
        frame = runs.load_table(folder, f"series_{CALENDAR}")
        calendar = frame.to_records(index=False).astype(series.CALENDAR_DTYPE)
    seconds = manifest.get("seconds")
    finished = _dt.datetime.fromisoformat(manifest["finished_utc"]).astimezone()
    return views.RunView(
        scenario=scenario, seed=manifest["seed"], reps=manifest["replications"], kpis=runs.load_table(folder, "kpis"),
        summary=runs.load_table(folder, "summary"), hour_of_week=arrays["hour_of_week"],
        daily_peak=arrays["daily_peak"], peaks_exact=bool(manifest.get("peaks_exact", True)),
        toci_week=arrays.get("toci_week"), grades=arrays.get("grades"),
        seconds=float("nan") if seconds is None else float(seconds), on_hand=arrays.get("on_hand"),
        stockouts=arrays.get("stockouts"), dose_calendar=calendar, finished=finished.strftime("%Y-%m-%d %H:%M"))


def saved_list(folder: Path | None = None) -> pd.DataFrame:
    """The runs the dashboard can reopen, newest first: id, name, scenario, date (UTC), replications."""
    folder = folder or runs_dir()
    rows = [{"id": m["id"], "Name": m.get("label") or m["id"], "Scenario": m["scenarios"][0]["name"],
             "Saved (UTC)": m["finished_utc"][:16].replace("T", " "), "Replications": m["replications"]}
            for m in _manifests(str(folder), _mtime(folder)) if m.get("dashboard_series")]
    return pd.DataFrame(rows, columns=["id", "Name", "Scenario", "Saved (UTC)", "Replications"]).iloc[::-1]


def _mtime(folder: Path) -> int:
    try:
        return folder.stat().st_mtime_ns
    except OSError:
        return 0


@st.cache_data(show_spinner=False, max_entries=4)
def _manifests(folder: str, changed: int) -> list[dict[str, Any]]:
    # a save renames a new folder into place, which changes the folder's mtime (``changed``, part of
    # this cache's key: Streamlit leaves out of the key only arguments named with a leading underscore)
    return runs.list_runs(Path(folder))


# --------------------------------------------------------------------------- the sidebar's panel

def _on_save(key: str) -> None:
    ss = st.session_state
    view = state.recall("results", ss.get("last_run_key"))
    if view is None:
        return
    try:
        folder = save_view(view, ss.get(key, ""))
    except (UsageError, OSError) as exc:
        ss["saved_message"] = ("error", f"Not saved: {exc}")
        return
    ss["saved_message"] = ("success", f"Saved as **{ss[key].strip()}** ({folder.name}).")


def _on_open(key: str) -> None:
    ss = st.session_state
    run_id = ss.get(key)
    if not run_id:
        return
    try:
        folder = runs.find(runs_dir(), run_id)
        manifest = runs.read_manifest(folder)
        label = manifest.get("label") or run_id
        if not state.load_text(manifest["scenarios"][0]["toml"], where=f"saved run {label}"):
            ss["saved_message"] = ("error", f"Not opened: {ss['source_error']}")
            return
        view = view_from_saved(folder, ss["base"])
    except (UsageError, ScenarioError, ScenarioErrors, KeyError, ValueError) as exc:
        ss["saved_message"] = ("error", f"Not opened: {exc}")
        return
    # the run shows as the session's latest, and Replications says how many it had
    ss["reps"] = view.reps
    key_ = state.run_key(view.scenario, view.reps)
    state.remember("results", key_, view)
    ss["last_run_key"] = key_
    ss["saved_message"] = ("success", f"Opened **{label}**: {view.scenario.name}, {view.reps} replications, "
                                      "not run again.")


def saved_panel(where) -> None:
    """The sidebar's "Saved runs" in the container ``where``: name and save the finished run; reopen one
    from the list. Drawn after the run (in a slot kept near the top of the sidebar), so a run just
    finished can be saved at once."""
    ss = st.session_state
    with where.expander("Saved runs", expanded=bool(ss.get("saved_message"))):
        has_run = state.recall("results", ss.get("last_run_key")) is not None
        st.text_input("Name of this run", key="save_name", max_chars=MAX_NAME, disabled=not has_run,
                      placeholder="e.g. 5 observation beds, winter")
        st.button("Save this run", key="save_run", on_click=_on_save, args=("save_name",),
                  disabled=not has_run, help="Keeps the finished run's scenario and results on the server, "
                                             "for anyone using this dashboard to reopen.")
        kind, text = ss.pop("saved_message", (None, None))
        if kind:
            getattr(st, kind)(text)
        table = saved_list()
        if not len(table):
            st.caption("No saved runs yet.")
            return
        names = dict(zip(table["id"], table["Name"] + " · " + table["Saved (UTC)"]))
        st.selectbox("Saved run", list(names), format_func=names.get, key="open_id")
        st.button("Open saved run", key="open_run", on_click=_on_open, args=("open_id",),
                  help="Its scenario goes into the sidebar and its results onto the pages, without running.")
        st.dataframe(table.drop(columns=["id"]), hide_index=True, width="stretch")
