"""The sidebar: where the scenario comes from, the Run button, and every scenario field as a widget.

Widgets are generated from the scenario model (:mod:`dashboard.fields`), one sidebar section at a
time. An edit is stored as a plain value under its dotted path in ``st.session_state.overrides``;
the scenario is then rebuilt and validated by the package's own validation, and each problem is
shown under the field it concerns.
"""

from __future__ import annotations

import datetime
import math

import streamlit as st

from dashboard import fields, running, state
from sim import charts
from sim.config import citations, loader
from sim.config.errors import ScenarioError
from sim.config.units import WEEKDAY_NAMES, WEEKS_PER_YEAR

MAX_UPLOAD_MB = 1
# Replications a dashboard run may ask for: two give a confidence interval; more than 5,000 would hold a
# shared server for minutes (the command line allows more).
MIN_REPS, MAX_REPS = 2, 5000


def reps_error(value) -> str | None:
    """Why the replications box cannot be run as it stands, or None."""
    if value is None:
        return f"Replications: empty; allowed: a whole number from {MIN_REPS} to {MAX_REPS:,}."
    if not float(value).is_integer() or not MIN_REPS <= value <= MAX_REPS:
        return f"Replications = {value:g}; allowed: a whole number from {MIN_REPS} to {MAX_REPS:,}."
    return None


# --------------------------------------------------------------------------- callbacks

def _on_preset() -> None:
    state.load_preset(st.session_state["preset"])


def _on_upload() -> None:
    up = st.session_state.get("upload")
    if up is None:
        return
    where = f"upload {up.name}"
    try:
        text = up.getvalue().decode("utf-8")
    except UnicodeDecodeError:
        st.session_state["source_error"] = f"{where}: is not UTF-8 text; allowed: a scenario TOML file"
        return
    state.load_text(text, where)


def _on_toml_apply(key: str) -> None:
    state.load_text(st.session_state.get(key, ""), "TOML editor")


def _on_edit(path: str, kind: str, key: str) -> None:
    """Turn a widget's value into the plain value the scenario holds, or remember why it cannot be."""
    raw = st.session_state.get(key)
    ss = st.session_state
    try:
        value = _parse(kind, raw)
    except ValueError as exc:
        ss["parse_errors"][path] = str(exc)
        return
    ss["parse_errors"].pop(path, None)
    ss["overrides"][path] = value


DAY0 = "calendar_day0"   # the date the sidebar shows as day 0 of the simulation (display only)


def day0() -> datetime.date:
    """The date day 0 of the scenario is shown as (holidays are entered as dates from it)."""
    return st.session_state.setdefault(DAY0, fields.default_day0())


def _parse(kind: str, raw):
    if kind == "per_year":
        return fields.per_week(raw)
    if kind == "dates":
        return fields.parse_dates(raw, day0())
    if kind in ("int_list", "float_list", "str_list", "opt_int_list", "sourced_vector", "opt_sourced_vector"):
        return fields.parse_list(raw, {"sourced_vector": "float_list", "opt_sourced_vector": "opt_float_list"}.get(kind, kind))
    if kind == "weekdays":
        return sorted(WEEKDAY_NAMES.index(d) for d in raw)
    if kind == "opt_bool":
        return {"any": None, "yes": True, "no": False}[raw]
    if kind in ("opt_float", "opt_sourced", "opt_int"):
        text = (raw or "").strip()
        if not text:
            return None
        try:
            return int(text) if kind == "opt_int" else float(text)
        except ValueError:
            raise ValueError(f"'{text}' is not a {'whole ' if kind == 'opt_int' else ''}number "
                             "(leave empty for 'not set')") from None
    if kind == "str" and raw is not None and isinstance(raw, str):
        return raw
    if kind == "int":
        return int(raw)
    if kind in ("float", "sourced"):
        return float(raw)
    return raw


# --------------------------------------------------------------------------- widgets

def _step(value: float) -> float:
    a = abs(float(value or 0))
    if a == 0:
        return 0.1
    if a < 1:
        return 0.01
    return float(10 ** max(0, math.floor(math.log10(a)) - 1))


def _label(spec: fields.FieldSpec) -> str:
    text = spec.label + (f" ({spec.unit})" if spec.unit else "")
    if spec.verified is False:
        text += " ⚠"
    return text


def _help(spec: fields.FieldSpec) -> str:
    parts = [spec.help] if spec.help else []
    if spec.source:
        parts.append(f"Source: {citations.for_display(spec.source)}")
    if spec.note:
        parts.append(f"Note: {citations.for_display(spec.note)}")
    if spec.verified is False:
        parts.append("Not verified against the cited source.")
    if spec.kind == "per_year":
        parts.append(f"The scenario stores it per week (this figure divided by {WEEKS_PER_YEAR}).")
    abbreviations = fields.explain_abbreviations(f"{spec.label} {spec.help} {spec.value}")
    if abbreviations:
        parts.append(abbreviations)
    return "  \n".join(parts) or None


def _widget(spec: fields.FieldSpec, errors: list[ScenarioError]) -> None:
    """One field: its widget, its source when unverified, and any problem with it."""
    ss = st.session_state
    key = f"w{ss['gen']}:{spec.path}"
    kw = dict(key=key, help=_help(spec), on_change=_on_edit, args=(spec.path, spec.kind, key))
    label = _label(spec)
    v = spec.value
    k = spec.kind
    if k == "per_year":
        st.number_input(label, value=float(v), min_value=0.0, step=10.0, format="%g", **kw)
    elif k == "dates":
        kw["key"] = key = f"{key}:{day0().isoformat()}"   # a new day 0 redraws the dates from it
        kw["args"] = (spec.path, spec.kind, key)
        st.text_input(label, value=fields.format_dates(v, day0()), placeholder="e.g. 2026-12-25, 2027-01-01", **kw)
        st.date_input("Day 0 of the simulation (first day of warm-up)", key=DAY0, format="YYYY-MM-DD",
                      help="Only for showing holidays as dates: the scenario counts days from its start, a Monday.")
    elif k == "int":
        st.number_input(label, value=int(v), step=1, **kw)
    elif k in ("float", "sourced"):
        st.number_input(label, value=float(v), step=_step(v), format="%g", **kw)
    elif k == "bool":
        st.checkbox(label, value=bool(v), **kw)
    elif k == "choice":
        opts = list(spec.options)
        st.selectbox(label, opts, index=opts.index(v) if v in opts else 0, **kw)
    elif k == "weekdays":
        st.multiselect(label, list(WEEKDAY_NAMES), default=[WEEKDAY_NAMES[d] for d in v if 0 <= d < 7], **kw)
    elif k == "opt_bool":
        opts = ["any", "yes", "no"]
        st.selectbox(label, opts, index={None: 0, True: 1, False: 2}[v], **kw)
    elif k in ("opt_float", "opt_sourced", "opt_int"):
        st.text_input(label, value="" if v is None else f"{v:g}", placeholder="not set", **kw)
    elif k in ("int_list", "float_list", "str_list", "opt_int_list", "sourced_vector", "opt_sourced_vector"):
        st.text_input(label, value=fields.format_list(v), placeholder="not set" if k.startswith("opt_") else "",
                      **kw)
    else:  # str
        st.text_input(label, value="" if v is None else str(v), **kw)
    if spec.verified is False and spec.source:
        st.caption(f"⚠ unverified: {citations.for_display(spec.source)}")
    msg = ss["parse_errors"].get(spec.path)
    if msg:
        st.error(msg)
    for m in fields.errors_for(spec.path, errors):
        st.error(m)


def _editor(errors: list[ScenarioError], currency: str) -> None:
    ss = st.session_state
    st.subheader("Edit inputs")
    data = state.edited_dump()
    options = fields.sections(data)
    if ss.get("section") not in options:
        ss["section"] = options[0]   # the section shown belonged to a programme just removed, or another scenario
    centre_help = ("  \nIn a centre, each programme's demand, start weekdays, patients, strategy and drug are under "
                   "\"Programme: <name>\"; the other sections are shared by every programme.") if fields.is_centre(data) else ""
    section = st.selectbox("Section", options, key="section",
                           help="Every field of the scenario, one section at a time. Values marked ⚠ are not "
                                "verified against their source; a value you change becomes a user override."
                                + centre_help)
    problems = [(e, fields.section_of(fields.field_of(e))) for e in errors]
    if problems or ss["parse_errors"]:
        lines = [f"- **{sec}**: {fields.short_message(e)}" for e, sec in problems]
        lines += [f"- **{fields.section_of(p)}**: {p}: {m}" for p, m in ss["parse_errors"].items()]
        st.error("The edited scenario cannot run yet:\n" + "\n".join(lines))
    for group in fields.scenario_groups(data, section, currency):
        group_errors = fields.errors_for(group.path, errors, exact=True) if group.path else []
        has_problem = bool(group_errors) or any(fields.errors_for(f.path, errors) or f.path in ss["parse_errors"]
                                                for f in group.fields)
        many = len(group.fields) > 8 or section.startswith("Drug") or ".drug" in group.path
        with st.expander(group.title, expanded=has_problem or not many):
            for m in group_errors:
                st.error(m)
            if group.note:
                st.caption(citations.for_display(group.note))
            for spec in group.fields:
                _widget(spec, errors)
    edited = len(ss["overrides"])
    if edited:
        st.caption("Edited: " + "; ".join(f"`{p}` = {fields.format_list(v) if isinstance(v, list) else v}"
                                          for p, v in ss["overrides"].items()))
    structure = _programme_changes()
    if structure:
        st.caption(structure)
    if (edited or structure) and st.button("Undo all edits", key="undo"):
        ss["overrides"] = {}
        ss["programme_edits"] = state.no_programme_edits()
        ss["parse_errors"] = {}
        ss["gen"] += 1
        st.rerun()


# --------------------------------------------------------------------------- a centre's programmes

def _programme_names(data: dict) -> list[str]:
    return list(data["programmes"]) if fields.is_centre(data) else [fields.first_programme_name(data)]


def _on_add_programme() -> None:
    """Add the chosen preset's drug, strategy, demand, population and start weekdays as a programme; a
    single-drug scenario becomes a centre, its edits becoming its programme's."""
    ss = st.session_state
    preset = ss.get("add_preset")
    name = (ss.get("add_name") or "").strip() or preset
    data = state.edit_base()
    problem = fields.programme_name_problem(name, _programme_names(data))
    if problem:
        ss["programme_error"] = problem
        return
    ss["programme_error"] = None
    edits = state.programme_edits()
    if not fields.is_centre(data):
        first = fields.first_programme_name(data)
        ss["overrides"] = fields.moved_to_programme(ss["overrides"], first)
        ss["parse_errors"] = fields.moved_to_programme(ss["parse_errors"], first)
    edits["added"][name] = preset
    if name in edits["removed"]:
        edits["removed"].remove(name)
    per_year = ss.get("add_per_year")
    if per_year is not None:
        ss["overrides"][f"programmes.{name}.demand.patients_per_week"] = fields.per_week(per_year)
    ss["section"] = fields.PROGRAMME + name   # show the new programme's fields


def _on_remove_programme(name: str) -> None:
    """Remove a programme and its edits; a centre made of a single-drug scenario and only programmes
    added to it goes back to being that scenario when they are all removed."""
    ss = st.session_state
    edits = state.programme_edits()
    if name in edits["added"]:
        del edits["added"][name]
    else:
        edits["removed"].append(name)
    prefix = f"programmes.{name}."
    ss["overrides"] = {p: v for p, v in ss["overrides"].items() if not p.startswith(prefix)}
    ss["parse_errors"] = {p: v for p, v in ss["parse_errors"].items() if not p.startswith(prefix)}
    if not fields.is_centre(ss["base_dump"]) and not edits["added"] and not edits["removed"]:
        ss["overrides"] = {fields.local_path(p): v for p, v in ss["overrides"].items()}
        ss["parse_errors"] = {fields.local_path(p): v for p, v in ss["parse_errors"].items()}


def _programme_changes() -> str:
    """The programmes added and removed, as a caption ("" when none)."""
    edits = state.programme_edits()
    parts = [f"added `{n}` ({p})" for n, p in edits["added"].items()]
    parts += [f"removed `{n}`" for n in edits["removed"]]
    return ("Programmes: " + "; ".join(parts)) if parts else ""


def _programmes_panel() -> None:
    """Add a programme from a single-drug preset, or remove one (a centre keeps at least one)."""
    ss = st.session_state
    data = state.edit_base()
    names = _programme_names(data)
    centre = fields.is_centre(data)
    with st.expander(f"Programmes ({len(names)})" if centre else "Programmes (make a centre)"):
        if centre:
            st.caption("Each programme has its own drug, strategy, patients and start weekdays and shares the "
                       "centre's beds, chairs, calendar, pharmacy and costs.")
        else:
            st.caption(f"A single-drug scenario is a centre of one programme ({names[0]}). Add a second "
                       "to see several programmes share the same beds.")
        for name in names if centre and len(names) > 1 else ():
            st.button(f"Remove {name}", key=f"remove_programme:{name}", on_click=_on_remove_programme, args=(name,),
                      help="Drop this programme and its edits from the centre.")
        choices = fields.single_drug_presets(state.presets())
        st.selectbox("Add a programme from", choices, key="add_preset",
                     help="A single-drug preset: the programme takes its drug, strategy, demand, patients and "
                          "start weekdays, as `scenario = \"<preset>\"` does in a centre's TOML.")
        st.text_input("Programme name", key="add_name", placeholder="the preset's name",
                      help="Letters, digits and '_', starting with a letter.")
        st.number_input("Patients per year", key="add_per_year", value=None, min_value=0.0, step=10.0, format="%g",
                        placeholder="the preset's own", help="New patients a year (the scenario stores it per week).")
        st.button("Add programme", key="add_programme", on_click=_on_add_programme)
        if ss.get("programme_error"):
            st.error(ss["programme_error"])


def sidebar() -> bool:
    """Draw the sidebar; return True when Run was pressed with a valid scenario."""
    ss = st.session_state
    sb = st.sidebar
    with sb:
        st.header("Scenario")
        names = state.presets()
        current_preset = ss["base_label"].removeprefix("preset ") if ss["base_label"].startswith("preset ") else None
        if "preset" not in ss:
            ss["preset"] = current_preset if current_preset in names else names[0]
        st.selectbox("Start from a preset", names, key="preset", on_change=_on_preset,
                     help="Scenario files in scenarios/; each is a drug and a monitoring strategy.  \n"
                          + fields.explain_abbreviations(ss["base"].description))
        st.file_uploader("…or upload a scenario (TOML)", type=["toml"], key="upload", on_change=_on_upload,
                         max_upload_size=MAX_UPLOAD_MB,
                         help="A scenario file as `python -m sim run` reads it; extends and drug files resolve "
                              "against scenarios/.")
        if ss["source_error"]:
            st.error(f"Not loaded; still using **{ss['base'].name}**.  \n{ss['source_error']}")
        scenario, errors = state.current()
        edited = len(ss["overrides"])
        st.caption(f"Using **{ss['base'].name}** ({ss['base_label']})"
                   + (f", {edited} field{'s' if edited != 1 else ''} edited" if edited else ""))

        st.header("Run")
        # no min/max on the widget: the browser would show a typed 0 while the session kept 100; the value
        # typed is the value checked, and a wrong one is said beside the box and stops Run
        st.number_input("Replications", value=state.DEFAULT_REPS, step=10, key="reps",
                        help="Independent simulated years of the same centre; more replications give narrower "
                             f"confidence intervals ({MIN_REPS} to {MAX_REPS:,}). 100 take a few seconds on 2 cores.")
        reps_problem = reps_error(ss.get("reps"))
        if reps_problem:
            st.error(reps_problem)
        with st.expander("Run options"):
            st.radio("Run on", list(running.EXECUTORS), key="executor",
                     help="The server's workers are shared by every session in turn (at most BTCE_SIM_WORKERS "
                          "processes, one per core by default); one core runs this session's replications in "
                          "the server itself. The numbers are identical either way.")
        ok = scenario is not None and not ss["parse_errors"] and not reps_problem
        clicked = st.button("Run simulation", type="primary", key="run", disabled=not ok, width="stretch")
        if not ok:
            st.caption("Fix the problems shown in red to run.")
        if scenario is not None:
            st.download_button("Download scenario (TOML)", loader.to_toml(scenario),
                               file_name=charts.stamped(scenario.name, "toml"), mime="application/toml",
                               key="download_toml", width="stretch",
                               help="The fully resolved scenario; `python -m sim run FILE` runs it unchanged.")
        st.divider()
        currency = (scenario or ss["base"]).costs.currency
        _programmes_panel()
        _editor(errors, currency)
        with st.expander("Edit as TOML (add or remove rules, schedule blocks, sections)"):
            # the key changes with every new scenario, so the box shows that scenario's TOML
            key = f"toml_text{ss['gen']}"
            st.text_area("Scenario TOML", value=loader.to_toml(scenario or ss["base"]), height=300, key=key)
            st.button("Load this TOML", key="toml_apply", on_click=_on_toml_apply, args=(key,))
    return bool(clicked and ok)
