"""Shareable links: the scenario a session is editing, carried in the page's URL.

A link holds the preset and every field edited in the sidebar, each under its dotted path, e.g.
``?preset=tarlatamab_inpatient&capacity.observation_beds=5``. Opening it restores that scenario: the
preset is loaded and the edits are applied exactly as if typed into the sidebar (the same
:func:`dashboard.fields.validate`). A parameter that is unknown, cannot be read or that the scenario
refuses is left out, with one line naming it and what is allowed; the rest still loads. Values are
parsed by their field's kind (a number, a list of numbers, a choice ...), never evaluated.

:func:`encode`, :func:`split` and :func:`overrides_from` are pure; :func:`restore_once` and
:func:`publish` connect them to ``st.query_params`` and the session (:mod:`dashboard.state`).
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np
import streamlit as st

from dashboard import fields, state

PRESET = "preset"
# A centre's programmes added from presets, ``add_programme.<name>=<preset>``, and removed, ``remove_programmes=a,b``
# (an added programme's edits, e.g. its demand, are ordinary fields: programmes.<name>.demand.patients_per_week).
ADD, REMOVE = "add_programme.", "remove_programmes"
# Streamlit's own parameters (embedding), which a link may carry and which are not scenario fields.
STREAMLIT_KEYS = frozenset({"embed", "embed_options"})
_LIST_KINDS = {"int_list": "int_list", "float_list": "float_list", "str_list": "str_list",
               "opt_int_list": "opt_int_list", "sourced_vector": "float_list", "opt_sourced_vector": "opt_float_list",
               "weekdays": "int_list",
               # shown as dates in the sidebar, stored (and linked) as the scenario's day numbers
               "dates": "int_list"}
_TRUE, _FALSE = ("true", "yes", "1"), ("false", "no", "0")


def field_specs(dump: dict[str, Any]) -> dict[str, fields.FieldSpec]:
    """Every field the sidebar edits in a scenario dump, by dotted path (the fields a link may carry)."""
    return {spec.path: spec for title in fields.sections(dump)
            for group in fields.scenario_groups(dump, title) for spec in group.fields}


# --------------------------------------------------------------------------- writing a link

def _text(value: Any) -> str:
    """A plain value as link text: positional numbers (never 1e-05), lists comma-separated, empty for None."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        # the shortest text that reads back as the same float, without an exponent
        return np.format_float_positional(value, trim="-")
    if isinstance(value, (list, tuple)):
        return ",".join(_text(v) for v in value)
    return str(value)


def _base_value(dump: Mapping[str, Any], path: str) -> Any:
    node: Any = dump
    for part in path.split("."):
        node = node[int(part)] if isinstance(node, (list, tuple)) else node[part]
    return node["value"] if isinstance(node, dict) and "value" in node and "source" in node else node


def encode(preset: str | None, overrides: Mapping[str, Any], base: Mapping[str, Any] | None = None,
           programme_edits: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The query parameters of a link: ``preset`` first, then each edit as ``path: text``.

    Parameters
    ----------
    preset : str or None
        The preset the scenario started from; None for an upload (which a link cannot carry).
    overrides : mapping
        The sidebar's edits, ``{dotted path: plain value}`` (``st.session_state.overrides``).
    base : mapping, optional
        The base scenario's dump: edits equal to its value are left out of the link.
    programme_edits : mapping, optional
        ``{"added": {name: preset}, "removed": [names]}``: programmes added and removed in the sidebar.

    Returns
    -------
    dict of str to str
        Empty when there is no preset.
    """
    if preset is None:
        return {}
    out = {PRESET: preset}
    edits = programme_edits or {}
    out.update({ADD + name: p for name, p in edits.get("added", {}).items()})
    if edits.get("removed"):
        out[REMOVE] = ",".join(edits["removed"])
    for path, value in overrides.items():
        if base is not None:
            try:
                if fields._same(_base_value(base, path), value):
                    continue
            except (KeyError, IndexError, ValueError, TypeError):
                pass
        out[path] = _text(value)
    return out


# --------------------------------------------------------------------------- reading a link

def split(query: Mapping[str, Any], presets: Sequence[str], default: str) -> tuple[str, dict[str, str], list[str]]:
    """The preset a link names (``default`` when it names none or an unknown one), its field texts, and
    the problems with the preset. A key given twice counts once, with its last value."""
    texts = {k: (v[-1] if isinstance(v, (list, tuple)) and v else v) for k, v in query.items()
             if k not in STREAMLIT_KEYS}
    texts = {k: "" if v is None else str(v) for k, v in texts.items()}
    name = texts.pop(PRESET, None)
    problems: list[str] = []
    if name is None or name == "":
        name = default
    elif name not in presets:
        problems.append(f"preset = {name!r}: no such preset, so {default} was loaded; allowed: {', '.join(presets)}")
        name = default
    return name, texts, problems


def programmes_from(texts: dict[str, str], presets: Sequence[str]) -> tuple[dict[str, Any], list[str]]:
    """The programmes a link adds and removes (taken out of ``texts``), and one line per one left out."""
    added: dict[str, str] = {}
    problems: list[str] = []
    allowed = fields.single_drug_presets(list(presets))
    for key in [k for k in texts if k.startswith(ADD)]:
        name, preset = key.removeprefix(ADD), texts.pop(key)
        problem = fields.programme_name_problem(name, list(added))
        if problem is None and preset not in allowed:
            problem = f"{key} = {preset!r}: allowed: a single-drug preset, e.g. {allowed[0]}"
        if problem:
            problems.append(problem)
        else:
            added[name] = preset
    removed = [n.strip() for n in texts.pop(REMOVE, "").split(",") if n.strip()]
    return {"added": added, "removed": removed}, problems


def parse(spec: fields.FieldSpec, text: str) -> Any:
    """A field's link text as the plain value the sidebar would store for it.

    Raises
    ------
    ValueError
        Saying what is allowed.
    """
    k = spec.kind
    t = text.strip()
    if k.startswith("opt_") and not t and k not in ("opt_int_list", "opt_sourced_vector"):
        return None
    if k in _LIST_KINDS:
        values = fields.parse_list(t, _LIST_KINDS[k])
        if k == "weekdays" and any(not 0 <= d <= 6 for d in values):
            raise ValueError("allowed: day numbers 0 (Monday) to 6 (Sunday), separated by commas")
        return sorted(values) if k == "weekdays" else values
    if k in ("bool", "opt_bool"):
        if t.lower() in _TRUE + _FALSE:
            return t.lower() in _TRUE
        raise ValueError("allowed: true or false" + (" (empty: any)" if k == "opt_bool" else ""))
    if k == "choice":
        if t in spec.options:
            return t
        raise ValueError(f"allowed: {', '.join(map(str, spec.options))}")
    if k in ("int", "opt_int"):
        try:
            return int(t)
        except ValueError:
            raise ValueError("allowed: a whole number") from None
    # "per_year": shown a year in the sidebar, stored (and linked) per week as the scenario holds it
    if k in ("float", "sourced", "opt_float", "opt_sourced", "per_year"):
        try:
            value = float(t)
        except ValueError:
            raise ValueError("allowed: a number") from None
        if not math.isfinite(value):
            raise ValueError("allowed: a finite number")
        return value
    return text  # str (names, the seed): the scenario's own validation judges it


def overrides_from(texts: Mapping[str, str], base: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The edits a link's field texts make to ``base`` (a scenario dump), and one line per text left out.

    A path the sidebar does not edit, a text its field cannot read, and an edit the scenario refuses
    (its own validation, e.g. chairs = 0) are each left out with the reason; the others are kept.
    """
    specs = field_specs(base)
    overrides: dict[str, Any] = {}
    problems: list[str] = []
    for path, text in texts.items():
        spec = specs.get(path)
        if spec is None:
            problems.append(f"{path} = {text!r}: not a field of this scenario; allowed: {PRESET} and the dotted "
                            "names of the fields in the sidebar, e.g. capacity.observation_beds")
            continue
        try:
            overrides[path] = parse(spec, text)
        except ValueError as exc:
            problems.append(f"{path} = {text!r}: {exc}")
    # the scenario's own validation: drop each edit it refuses, until the rest validate
    for _ in range(len(overrides)):
        _scenario, errors = fields.validate(base, overrides, where="link")
        refused = {p: e for e in errors for p in overrides if _about(e, p)}
        if not refused:
            break
        for p, e in refused.items():
            msg = fields.short_message(e)
            problems.append(msg if msg.startswith(f"{p} = ") else f"{p} = {texts[p]!r}: {msg}")
            overrides.pop(p)
    return overrides, problems


def _about(error: Any, path: str) -> bool:
    """Whether a validation error concerns the field at ``path``: by its field, or, for a check across
    fields (chairs = 0 while the strategy sends doses to the clinic), by naming it in the message."""
    return error.field == path or error.field.startswith(path + ".") or f"{path} = " in error.message


# --------------------------------------------------------------------------- the session's URL

def restore_once() -> None:
    """On a session's first run, load the scenario its URL names (if any) and remember the problems."""
    ss = st.session_state
    if ss.get("link_read") or "base" not in ss:
        return
    ss["link_read"] = True
    query = st.query_params.to_dict()
    if not query:
        return
    names = state.presets()
    name, texts, problems = split(query, names, names[0])
    if not state.load_preset(name):
        problems.append(f"preset = {name!r}: {ss['source_error']}")
    ss["programme_edits"], dropped = programmes_from(texts, names)
    problems += dropped
    overrides, more = overrides_from(texts, state.edit_base())
    ss["overrides"] = overrides
    ss["link_problems"] = problems + more


def current_preset() -> str | None:
    """The preset the session's scenario started from, or None (an upload, the TOML editor)."""
    label = st.session_state["base_label"]
    return label.removeprefix("preset ") if label.startswith("preset ") else None


def publish() -> None:
    """Write the session's scenario into the URL when it changed (reloading or sharing the page then
    reopens it), and say once what a link left out."""
    ss = st.session_state
    wanted = encode(current_preset(), ss["overrides"], ss["base_dump"], ss.get("programme_edits"))
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)
    problems = ss.pop("link_problems", None)
    if problems:
        st.warning("Part of the link was not applied (the rest was loaded):  \n" + "  \n".join(problems))
