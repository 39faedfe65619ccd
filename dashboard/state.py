"""Everything the dashboard remembers, kept in ``st.session_state`` and nowhere else.

Each browser session has its own session state, so two planners never see each other's scenario
or results; nothing is written to disk. Runs are cached inside the session under a hash of the
resolved scenario, the replication count and the seed, so going back to a page never re-runs.
"""

from __future__ import annotations

import hashlib
import tomllib
import uuid
from collections import OrderedDict
from typing import Any

import streamlit as st

import sim
from dashboard import fields
from sim import __version__
from sim.config import loader
from sim.config.errors import ScenarioError, ScenarioErrors
from sim.config.scenario import Scenario

# How many finished runs of each kind a session keeps (a run of 100 replications is ~1 MB).
CACHE_LIMIT = 6
DEFAULT_REPS = 100
STORES = ("results", "comparisons", "sizings", "stock_curves", "sensitivities", "pair_sizings", "precisions",
          "levellings", "centres")


def presets() -> list[str]:
    """Preset scenario names (file stems in ``scenarios/``), the reference scenario first; base.toml is a
    building block, not a preset."""
    names = sim.presets()
    ref = loader.DEFAULT_SCENARIO.stem
    return ([ref] if ref in names else []) + [n for n in names if n != ref]


def init() -> None:
    """Fill in the session's defaults on its first run; load the reference scenario."""
    ss = st.session_state
    ss.setdefault("gen", 0)
    ss.setdefault("overrides", {})
    ss.setdefault("parse_errors", {})
    ss.setdefault("source_error", None)
    ss.setdefault("last_run_key", None)
    for name in STORES:
        ss.setdefault(name, OrderedDict())
    if "base" not in ss:
        try:
            first = loader.load(loader.DEFAULT_SCENARIO)
        except (ScenarioError, ScenarioErrors) as exc:
            # nothing to start from: the app says why and stops (see app.py) instead of a traceback
            ss["startup_error"] = str(exc)
            return
        ss.pop("startup_error", None)
        set_base(first, f"preset {loader.DEFAULT_SCENARIO.stem}")


def set_base(scenario: Scenario, label: str) -> None:
    """Start editing ``scenario``: edits are cleared and the sidebar widgets are drawn afresh."""
    ss = st.session_state
    ss["base"] = scenario
    ss["base_dump"] = fields.dump(scenario)
    ss["programme_edits"] = no_programme_edits()
    ss["base_label"] = label
    ss["overrides"] = {}
    ss["parse_errors"] = {}
    ss["source_error"] = None
    # new widget keys, so no widget keeps a value typed for the previous scenario
    ss["gen"] = ss.get("gen", 0) + 1


def outside_scenarios(text: str) -> str | None:
    """Why uploaded TOML may not be loaded on a shared server, or None.

    An upload may name other files (``extends``, ``[drug] file``); on a server those must stay
    inside scenarios/, or a user could make the server read (and echo values of) any file on it.
    Unparseable text returns None: the loader reports that itself.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None
    named = [("extends", data.get("extends"))]
    drug = data.get("drug")
    if isinstance(drug, dict):
        named.append(("drug.file", drug.get("file")))
    root = loader.SCENARIO_DIR.resolve()
    for field, value in named:
        if isinstance(value, str) and not (loader.SCENARIO_DIR / value).resolve().is_relative_to(root):
            return f"{field} = {value!r}: allowed: a file inside scenarios/, e.g. \"base.toml\" or \"drugs/tarlatamab.toml\""
    return None


def load_text(text: str, where: str) -> bool:
    """Load scenario TOML text (an upload or the TOML editor). On bad input keep the current scenario
    and remember the message for the sidebar; never raise."""
    problem = outside_scenarios(text)
    if problem:
        st.session_state["source_error"] = f"{where}: {problem}"
        return False
    try:
        scenario = loader.loads(text, where=where)
    except (ScenarioError, ScenarioErrors) as exc:
        st.session_state["source_error"] = str(exc)
        return False
    except Exception as exc:  # anything else a malformed file can provoke: a message, not a traceback
        st.session_state["source_error"] = f"{where}: cannot be read as a scenario ({exc.__class__.__name__}: {exc})"
        return False
    set_base(scenario, where)
    return True


def load_preset(name: str) -> bool:
    """Load a preset by name; a broken preset file leaves the current scenario and shows why."""
    try:
        scenario = sim.load(name)
    except (ScenarioError, ScenarioErrors) as exc:
        st.session_state["source_error"] = str(exc)
        return False
    set_base(scenario, f"preset {name}")
    return True


def edited_dump() -> dict[str, Any]:
    """The base scenario's dump with the sidebar's edits applied (the base dump if they cannot be)."""
    ss = st.session_state
    try:
        return fields.apply_overrides(edit_base(), ss["overrides"])
    except (KeyError, IndexError, ValueError, TypeError):
        return edit_base()


def no_programme_edits() -> dict[str, Any]:
    """No programme added (``{name: preset}``) or removed (names): what ``programme_edits`` starts as."""
    return {"added": {}, "removed": []}


def programme_edits() -> dict[str, Any]:
    """The programmes added to and removed from the base scenario in the sidebar (the session's own dict)."""
    return st.session_state.setdefault("programme_edits", no_programme_edits())


def edit_base() -> dict[str, Any]:
    """The dump the sidebar's edits apply to: the base scenario's with the programmes added and removed
    (``programme_edits``; see :func:`dashboard.fields.with_programmes`)."""
    edits = programme_edits()
    return fields.with_programmes(st.session_state["base_dump"], edits["added"], edits["removed"])


def current() -> tuple[Scenario | None, list[ScenarioError]]:
    """The scenario as edited, validated; (None, problems) while an edit is invalid.

    Memoised on the edits, so a rerun that changed nothing does not validate again.
    """
    ss = st.session_state
    edits = programme_edits()
    if not ss["overrides"] and not edits["added"] and not edits["removed"]:
        return ss["base"], []
    token = (ss["gen"], repr(sorted(ss["overrides"].items(), key=lambda kv: kv[0])), repr(edits))
    memo = ss.get("_current_memo")
    if memo is not None and memo[0] == token:
        return memo[1]
    try:
        base = edit_base()
    except (ScenarioError, ScenarioErrors) as exc:
        return None, list(getattr(exc, "errors", [exc]))
    out = fields.validate(base, ss["overrides"], where="sidebar")
    ss["_current_memo"] = (token, out)
    return out


def session_id() -> str:
    """This browser session's id: its turns in the server's shared worker pool (:mod:`dashboard.pool`)
    and its Cancel are keyed by it."""
    return st.session_state.setdefault("session_id", uuid.uuid4().hex)


def scenario_hash(scenario: Scenario) -> str:
    """sha256 of the fully resolved scenario TOML: equal scenarios, equal hash."""
    return hashlib.sha256(loader.to_toml(scenario).encode("utf-8")).hexdigest()


def run_key(scenario: Scenario, reps: int, *extra: Any) -> str:
    """Cache key of a run: scenario hash, replications, seed, package version and any extra parts."""
    parts = [scenario_hash(scenario), str(reps), str(scenario.run.seed), __version__, *map(str, extra)]
    return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()[:32]


def remember(store: str, key: str, value: Any) -> None:
    """Keep ``value`` in one of the session's caches, dropping the oldest beyond :data:`CACHE_LIMIT`."""
    cache: OrderedDict = st.session_state[store]
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > CACHE_LIMIT:
        cache.popitem(last=False)


def recall(store: str, key: str | None) -> Any:
    """A cached value, or None."""
    if key is None:
        return None
    return st.session_state[store].get(key)
