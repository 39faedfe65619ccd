"""The scenario as a list of editable fields, generated from the pydantic model (no streamlit here).

The sidebar draws one widget per :class:`FieldSpec`; edits are kept as ``{dotted path: plain value}``
and put back on the scenario's dump by :func:`apply_overrides`, which marks an edited sourced number
as a user override (unverified), exactly as ``--set`` does. Validation is the scenario's own
(:func:`sim.loader.validate`), so the sidebar accepts what a TOML file would and nothing else.

A centre's dump (:func:`dump`) holds its programmes without the top-level copies of the first one; each
programme is one section, "Programme: <name>" (:func:`sections`), its fields under
``programmes.<name>.``, and :func:`validate` resolves the edited dump as :func:`sim.vary` does.
Programmes added from single-drug presets and removed (:func:`with_programmes`) change the dump the
edits apply to.
"""

from __future__ import annotations

import copy
import datetime as _dt
import functools
import re
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

from sim.config import loader, registry
from sim.config.errors import ScenarioError, ScenarioErrors
from sim.config.params import Sourced, SourcedVector
from sim.config.scenario import PROGRAMME_PATTERN, CalendarConfig, Programme, Scenario
from sim.config.units import DAYS_PER_WEEK, WEEKDAY_NAMES, WEEKS_PER_YEAR
from sim.metrics import formats

# Sidebar sections: a title and the top-level fields it edits.
SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Scenario name", ("name", "description")),
    ("Run settings", ("run",)),
    ("Demand", ("demand",)),
    ("Calendar", ("calendar",)),
    ("Capacity", ("capacity", "booking")),
    ("Patients", ("population",)),
    ("Operations", ("operations",)),
    ("Tocilizumab", ("tocilizumab",)),
    ("Pharmacy stock", ("pharmacy",)),
    ("Costs", ("costs",)),
    ("Strategy", ("strategy",)),
    ("Drug: schedule and chair", ("drug.name", "drug.brand", "drug.indication", "drug.route", "drug.profile",
                                  "drug.profile_description", "drug.step_up_doses", "drug.time_on_therapy_median_days",
                                  "drug.chair", "drug.schedule")),
    ("Drug: CRS and ICANS", ("drug.crs", "drug.icans", "drug.prophylaxis")),
    ("Drug: toxicity management", ("drug.management",)),
)

# A centre's own sections: the shared ones above (a programme's demand, patients, strategy and drug are
# its own, edited under "Programme: <name>"), its calendar without the start weekdays each programme has.
_PER_PROGRAMME = ("Demand", "Patients", "Strategy", "Drug")
CENTRE_SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = tuple(
    (title, tuple(f"calendar.{n}" for n in CalendarConfig.model_fields if n != "start_weekdays")
     if roots == ("calendar",) else roots)
    for title, roots in SECTIONS if not title.startswith(_PER_PROGRAMME))
PROGRAMME = "Programme: "   # a centre's section for one programme is "Programme: <name>"
_PROGRAMME_PATH = re.compile(r"^programmes\.([^.]+)(?:\.|$)")

# Widget kinds the sidebar knows how to draw.
Kind = Literal["int", "float", "bool", "str", "choice", "int_list", "float_list", "str_list", "weekdays",
               "sourced", "sourced_vector", "opt_float", "opt_int", "opt_int_list", "opt_bool",
               "opt_sourced_vector", "opt_sourced", "per_year", "dates"]

# Fields the sidebar shows in a planner's units, stored in the scenario's own underneath: referrals a
# year (the scenario holds them per week) and holidays as dates (the scenario holds day numbers).
SHOWN_AS = {"demand.patients_per_week": ("per_year", "patients per year"),
            "calendar.holidays": ("dates", "dates, YYYY-MM-DD")}

# Clinical and planning abbreviations a user meets in scenario names, descriptions and KPI labels.
ABBREVIATIONS = {
    "ES-SCLC": "extensive-stage small-cell lung cancer",
    "SCLC": "small-cell lung cancer",
    "DLBCL": "diffuse large B-cell lymphoma",
    "FL": "follicular lymphoma",
    "CRS": "cytokine release syndrome, a fever-led immune reaction to the drug",
    "ICANS": "immune effector cell-associated neurotoxicity syndrome (confusion, seizures)",
    "BTCE": "bispecific T-cell engager",
    "ED": "emergency department",
    "ICU": "intensive care unit",
}
_CYCLE_DAY = re.compile(r"\bC(\d+)D(\d+)\b")

_UNITS = {
    "patients_per_week": "patients per week", "growth_per_year": "fraction per year, 0.1 = +10%",
    "open_hour": "hour of day, 0-24", "close_hour": "hour of day, 0-24", "holidays": "day numbers from the start",
    **{r.name: r.unit for r in registry.RESOURCES},
    "ward_beds_reserved_for_unplanned": "beds", "weight_kg_mean": "kg", "weight_kg_sd": "kg",
    "outpatient_eligible": "share of patients, 0-1", "mg_per_kg": "mg/kg", "max_mg": "mg",
    "order_up_to": "mg", "reorder_point": "mg", "order_quantity": "mg", "initial_stock_mg": "mg",
    "emergency_surcharge": "fraction of the price, 0.5 = +50%", "shelf_life_months": "months",
    "background_doses_per_week": "doses per week", "mg80": "share of stock, 0-1", "mg200": "share of stock, 0-1",
    "mg400": "share of stock, 0-1", "max_doses": "doses", "step_up_doses": "doses", "count": "doses",
    "onset_sigma": "log-normal sigma", "duration_sigma": "log-normal sigma", "rate": "share of patients, 0-1",
    "grade_mix": "shares of grades 1-4, summing to 1", "by_dose": "share of patients with the event, per dose",
    "crs_relative_risk": "relative risk", "icans_relative_risk": "relative risk", "patients": "patients",
    "events": "patients", "seed": "integer", "risk_factors": "prevalence, 0-1", "review_hour": "hour of day", "doses": "dose numbers, e.g. 1, 2; empty: any dose",
}
_LABELS = {"ed_hours": "ED assessment", "icu_step_down_ward_hours": "Ward stay after ICU",
           "weight_kg_mean": "Mean weight", "weight_kg_sd": "Weight SD", "mg_per_kg": "Dose per kg",
           "max_mg": "Maximum dose", "patients_per_week": "Referrals", "parameter_uncertainty": "Parameter uncertainty",
           "ward_beds_reserved_for_unplanned": "Ward beds kept for unplanned admissions",
           "outpatient_eligible": "Eligible for outpatient monitoring", "open_hour": "Opens", "close_hour": "Closes",
           "lead_time_days_min": "Delivery lead time, shortest", "lead_time_days_max": "Delivery lead time, longest",
           "mg80": "80 mg vials", "mg200": "200 mg vials", "mg400": "400 mg vials", "max_doses": "Maximum doses",
           "tocilizumab_per_mg": "Tocilizumab"}
# What each [costs] price is per; the resources' come from the registry.
_COST_UNITS = {**{r.cost_field: f"per {r.cost_per}" for r in registry.RESOURCES if r.cost_field},
               "tocilizumab_per_mg": "per mg"}


@dataclass(frozen=True)
class FieldSpec:
    """One editable field: where it is, how to draw it, and what it holds now."""

    path: str
    label: str
    kind: Kind
    value: Any
    help: str = ""
    unit: str = ""
    options: tuple = ()
    source: str | None = None
    verified: bool | None = None
    note: str = ""


@dataclass(frozen=True)
class Group:
    """Fields drawn together under a title (one expander in the sidebar)."""

    path: str
    title: str
    fields: list[FieldSpec] = field(default_factory=list)
    note: str = ""


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """(inner type, optional) with Annotated and ``X | None`` removed."""
    optional = False
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            optional = optional or len(args) < len(typing.get_args(annotation))
            annotation = args[0] if len(args) == 1 else annotation
            if len(args) != 1:
                return annotation, optional
        else:
            return annotation, optional


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _humanise(name: str) -> str:
    text = name.replace("_", " ").strip()
    text = re.sub(r"\bkg\b", "kg", text)
    text = re.sub(r"\bicu\b", "ICU", text, flags=re.I)
    text = re.sub(r"\bed\b", "ED", text)
    text = re.sub(r"\bcrs\b", "CRS", text, flags=re.I)
    text = re.sub(r"\bicans\b", "ICANS", text, flags=re.I)
    return text[:1].upper() + text[1:]


def field_label(name: str, unit: str = "") -> str:
    """A field's label: a few hand-written ones, else the name in words without the unit it ends in
    (``lead_time_days`` with unit days reads "Lead time")."""
    if name in _LABELS:
        return _LABELS[name]
    words = name.split("_")
    unit_words = set(re.split(r"[\s,;]+", unit))
    if len(words) > 1 and words[-1] in {"hours", "days", "weeks", "months", "kg", "mg"} & unit_words:
        words.pop()
    return _humanise("_".join(words))


def unit_for(name: str, path: str, currency: str = "USD") -> str:
    """A unit for a field, from its name (``*_hours`` is hours, ``*_days`` days, costs in the currency)."""
    if path.startswith("costs.") and name in _COST_UNITS:
        return f"{currency} {_COST_UNITS[name]}"
    if name in _UNITS:
        return _UNITS[name]
    for suffix, unit in (("_hours", "hours"), ("_days", "days"), ("_weeks", "weeks"), ("_mg", "mg"),
                         ("_probability", "0-1"), ("_days_min", "days"), ("_days_max", "days"), ("_kg", "kg")):
        if name.endswith(suffix):
            return unit
    if name == "hours":
        return "hours; empty: as the drug requires"
    return ""


def _constraints(info: Any) -> str:
    parts = []
    for m in getattr(info, "metadata", []):
        for attr, sym in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            v = getattr(m, attr, None)
            if v is not None:
                parts.append(f"{sym} {v:g}" if isinstance(v, (int, float)) else f"{sym} {v}")
    return ("allowed: " + " and ".join(parts)) if parts else ""


def _element_title(parent: str, index: int, item: Any) -> str:
    if isinstance(item, dict):
        if "label" in item and item["label"]:
            return f"{parent} {index + 1}: {item['label']}"
        if "grade" in item:
            return f"{parent}: grade {item['grade']}"
    return f"{parent} {index + 1}"


_LIST_TITLES = {"schedule": "Schedule block", "monitoring": "Monitoring rule", "crs": "CRS management",
                "icans": "ICANS management"}


def groups_for(model: type[BaseModel], data: Any, prefix: str, title: str, currency: str = "USD",
               names: list[str] | None = None) -> list[Group]:
    """The editable groups of one model instance's dump.

    Parameters
    ----------
    model : pydantic model class
        The schema (e.g. ``Capacity``).
    data : dict or None
        Its ``model_dump()``; None for an optional section that is not set.
    prefix : str
        Dotted path of ``data`` in the scenario.
    title : str
        Title of the first group.
    names : list of str, optional
        Only these fields of ``model`` (default: all).

    Returns
    -------
    list of Group
        The model's own fields first, then one group per nested model, list element or table.
    """
    if data is None:
        return [Group(prefix, title, [], note="not set in this scenario; add it in the TOML editor below")]
    own: list[FieldSpec] = []
    nested: list[Group] = []
    for name, info in model.model_fields.items():
        if names is not None and name not in names:
            continue
        path = f"{prefix}.{name}" if prefix else name
        value = data.get(name) if isinstance(data, dict) else None
        # a top-level section asked for by name keeps the caller's title ("Run settings", not "Run")
        sub_title = f"{title}: {_humanise(name)}" if prefix else (title if names is not None else _humanise(name))
        spec, groups = _field(name, info, value, path, title, sub_title, currency)
        if spec is not None:
            own.append(spec)
        nested.extend(groups)
    groups = [Group(prefix, title, own)] if own else []
    return groups + nested


def _field(name: str, info: Any, value: Any, path: str, title: str, sub_title: str,
           currency: str) -> tuple[FieldSpec | None, list[Group]]:
    """One schema field as a widget of its parent's group, or as groups of its own (nested models,
    lists of models, tables of sourced values)."""
    tp, optional = _unwrap(info.annotation)
    unit = unit_for(name, path, currency)
    label = field_label(name, unit)
    help_parts = [p for p in (info.description or "", _constraints(info)) if p]
    if tp is Sourced or tp is SourcedVector:
        kind = ("opt_" if optional else "") + ("sourced" if tp is Sourced else "sourced_vector")
        return _sourced_spec(path, label, kind, value, help_parts, unit), []
    if _is_model(tp):
        return None, groups_for(tp, value, path, sub_title, currency)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is tuple and args and any(_is_model(_unwrap(a)[0]) for a in args):
        elem = _unwrap(args[0])[0]
        base_title = _LIST_TITLES.get(name, _humanise(name))
        return None, [g for i, item in enumerate(value or ())
                      for g in groups_for(elem, item, f"{path}.{i}", _element_title(base_title, i, item), currency)]
    if origin is dict:
        inner = _unwrap(args[1])[0] if len(args) == 2 else None
        if inner is not Sourced:
            return None, []
        specs = [_sourced_spec(f"{path}.{k}", _humanise(k), "sourced", v, help_parts, unit)
                 for k, v in (value or {}).items()]
        return None, [Group(path, f"{title}: {_humanise(name)}", specs,
                            note="" if specs else "none; add them in the TOML editor below")]
    return _plain_spec(path, name, label, tp, optional, value, help_parts, unit), []


def _sourced_spec(path: str, label: str, kind: str, value: Any, help_parts: list[str], unit: str) -> FieldSpec:
    if value is None:
        return FieldSpec(path, label, kind, None, " ".join(help_parts), unit)
    v = value.get("value") if isinstance(value, dict) else value
    v = list(v) if isinstance(v, (list, tuple)) else v
    verified = bool(value.get("verified", True)) if isinstance(value, dict) else False
    source = value.get("source") if isinstance(value, dict) else None
    note = value.get("note", "") if isinstance(value, dict) else ""
    return FieldSpec(path, label, kind, v, " ".join(help_parts), unit, source=source, verified=verified, note=note)


def _plain_spec(path, name, label, tp, optional, value, help_parts, unit) -> FieldSpec | None:
    help_text = " ".join(help_parts)
    if local_path(path) in SHOWN_AS:
        kind, shown_unit = SHOWN_AS[local_path(path)]
        value = per_year(value) if kind == "per_year" else list(value or ())
        return FieldSpec(path, label, kind, value, help_text, shown_unit)
    if typing.get_origin(tp) is Literal:
        return FieldSpec(path, label, "choice", value, help_text, unit, options=typing.get_args(tp))
    if typing.get_origin(tp) is tuple:
        elem = typing.get_args(tp)[0]
        if name in ("open_weekdays", "start_weekdays"):
            return FieldSpec(path, label, "weekdays", list(value or ()), help_text, unit, options=WEEKDAY_NAMES)
        kind = {int: "int_list", float: "float_list", str: "str_list"}.get(elem)
        if kind is None:
            return None
        if optional and kind == "int_list":
            kind = "opt_int_list"
        return FieldSpec(path, label, kind, None if value is None else list(value), help_text, unit)
    if tp is bool:
        return FieldSpec(path, label, "opt_bool" if optional else "bool", value, help_text, unit)
    if tp is int:
        kind = "opt_int" if optional else ("str" if name == "seed" else "int")
        # the seed can exceed what a browser number field holds exactly, so it is edited as text
        return FieldSpec(path, label, kind, str(value) if name == "seed" else value, help_text, unit)
    if tp is float:
        return FieldSpec(path, label, "opt_float" if optional else "float", value, help_text, unit)
    if tp is str:
        return FieldSpec(path, label, "str", value, help_text, unit)
    return None


def is_centre(data: dict[str, Any]) -> bool:
    """Whether a scenario dump is a centre (has ``[programmes.<name>]`` tables)."""
    return bool(data.get("programmes"))


def local_path(path: str) -> str:
    """A programme's field as the single-drug scenario's (``programmes.tec.demand.x`` -> ``demand.x``)."""
    m = _PROGRAMME_PATH.match(path)
    if not m:
        return path
    rest = path[m.end():]
    return "calendar.start_weekdays" if rest == "start_weekdays" else rest


def sections(data: dict[str, Any]) -> list[str]:
    """The sidebar's sections for a scenario dump: :data:`SECTIONS` for a single-drug scenario; for a
    centre, its shared sections (:data:`CENTRE_SECTIONS`) then one "Programme: <name>" per programme."""
    if not is_centre(data):
        return [t for t, _ in SECTIONS]
    return [t for t, _ in CENTRE_SECTIONS] + [PROGRAMME + name for name in data["programmes"]]


def _programme_groups(data: dict[str, Any], name: str, currency: str) -> list[Group]:
    """One programme's groups: its description and start weekdays, demand, patients, drug and strategy."""
    table = data.get("programmes", {}).get(name)
    if table is None:
        return []
    return groups_for(Programme, table, f"programmes.{name}", name, currency)


def scenario_groups(data: dict[str, Any], section: str, currency: str = "USD") -> list[Group]:
    """Groups of one sidebar section of a scenario dump (see :func:`sections`)."""
    if section.startswith(PROGRAMME):
        return _programme_groups(data, section.removeprefix(PROGRAMME), currency)
    wanted = dict(CENTRE_SECTIONS if is_centre(data) else SECTIONS)[section]
    groups: list[Group] = []
    for w in wanted:
        parts = w.split(".")
        model: Any = Scenario
        sub: Any = data
        for p in parts[:-1]:
            model = _unwrap(model.model_fields[p].annotation)[0]
            sub = sub.get(p) if isinstance(sub, dict) else None
        parent = ".".join(parts[:-1])
        if parent:
            title = _humanise(parts[-2])
        else:
            title = section if len(wanted) == 1 or not _is_model(_unwrap(model.model_fields[w].annotation)[0]) \
                else _humanise(w)
        got = groups_for(model, sub, parent, title, currency, names=[parts[-1]])
        # scalar fields of the same parent, listed one by one in SECTIONS, share one group
        if got and groups and got[0].path == parent == groups[-1].path and not got[0].note:
            groups[-1] = Group(parent, groups[-1].title, groups[-1].fields + got[0].fields)
            got = got[1:]
        groups.extend(got)
    return groups


# --------------------------------------------------------------------------- edits

def _thaw(obj: Any) -> Any:
    """Tuples to lists, recursively, so a dump can be edited in place."""
    if isinstance(obj, dict):
        return {k: _thaw(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_thaw(v) for v in obj]
    return obj


def _is_sourced_dict(obj: Any) -> bool:
    return isinstance(obj, dict) and "value" in obj and "source" in obj


def apply_overrides(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """The scenario dump with edits applied; an edited sourced number becomes an unverified user override.

    Parameters
    ----------
    base : dict
        ``Scenario.model_dump()`` of the scenario being edited.
    overrides : dict
        ``{dotted path: plain value}``; list elements are addressed by index (``strategy.monitoring.0.place``).

    Raises
    ------
    KeyError
        For a path that does not exist in ``base``.
    """
    data = _thaw(copy.deepcopy(base))
    for path, value in overrides.items():
        parts = path.split(".")
        node = data
        for p in parts[:-1]:
            node = node[int(p)] if isinstance(node, list) else node[p]
        key: Any = int(parts[-1]) if isinstance(node, list) else parts[-1]
        if isinstance(node, dict) and key not in node:
            raise KeyError(path)
        old = node[key]
        if _is_sourced_dict(old):
            if value is None:
                node[key] = None
            elif _same(old["value"], value):
                continue  # unchanged: keep the source and its verified flag
            else:
                # the same marking as `--set` (sim.loader.deep_merge): visible as unverified
                node[key] = {"value": value, "verified": False,
                             "source": f"{loader.OVERRIDE_SOURCE} (default was {old['value']!r}: {old['source']})"}
        else:
            node[key] = value
    return data


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return a == b


def validate(base: dict[str, Any], overrides: dict[str, Any], where: str = "sidebar") -> tuple[Scenario | None, list[ScenarioError]]:
    """Apply the edits and validate: (scenario, []) or (None, the problems found)."""
    try:
        data = apply_overrides(base, overrides)
    except (KeyError, IndexError, ValueError, TypeError) as exc:
        return None, [ScenarioError(where, str(exc), None, "no such field in this scenario")]
    try:
        if is_centre(data):
            # as sim.vary does: each programme completed and its drug resolved, the top-level copies rebuilt
            data = loader.resolve(data, where)
        return loader.validate(data, where), []
    except ScenarioErrors as exc:
        return None, list(exc.errors)
    except ScenarioError as exc:
        return None, [exc]


def short_message(err: ScenarioError) -> str:
    """An error's message without the leading "where: " (the sidebar shows it next to the field)."""
    return err.message.removeprefix(f"{err.where}: ")


# A check across fields (e.g. "capacity.chairs = 0, but the strategy sends doses to 'clinic'") is raised
# by the whole scenario, so its error has no field; its message names the field it is about first.
_LEADING_FIELD = re.compile(r"([a-z_][a-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])+)\s*[=:]")


def field_of(err: ScenarioError) -> str:
    """The dotted path of the field an error is about: its own, or the one its message starts with."""
    if err.field:
        return err.field
    m = _LEADING_FIELD.match(err.allowed)
    return m.group(1) if m else ""


def errors_for(path: str, errors: list[ScenarioError], exact: bool = False) -> list[str]:
    """Messages about the field at ``path`` (or inside it, unless ``exact``)."""
    out = []
    for e in errors:
        field = field_of(e)
        if field == path or (not exact and path and field.startswith(path + ".")):
            out.append(short_message(e))
    return out


def section_of(path: str) -> str:
    """The sidebar section that edits the field at ``path`` (the first match in :data:`SECTIONS`; a
    programme's field is in its "Programme: <name>" section)."""
    m = _PROGRAMME_PATH.match(path)
    if m:
        return PROGRAMME + m.group(1)
    best, best_len = SECTIONS[0][0], -1
    for title, roots in SECTIONS:
        for r in roots:
            if (path == r or path.startswith(r + ".")) and len(r) > best_len:
                best, best_len = title, len(r)
    return best if best_len >= 0 else "Scenario name"


# --------------------------------------------------------------------------- adding and removing programmes

def dump(scenario: Scenario) -> dict[str, Any]:
    """The dump the sidebar edits: a centre's without the top-level copies of its first programme
    (:func:`sim.config.loader.plain`), which :func:`validate` rebuilds from the programmes."""
    return loader.plain(scenario)


@functools.lru_cache(maxsize=128)
def _preset(name: str) -> Scenario:
    return loader.load(name)


def single_drug_presets(names: list[str]) -> list[str]:
    """The presets a programme can be added from: those that load and are not centres (loaded once per server)."""
    out = []
    for name in names:
        try:
            if not _preset(name).programmes:
                out.append(name)
        except (ScenarioError, ScenarioErrors):
            continue   # a broken preset is said where it is chosen as the scenario, not here
    return out


def programme_from(preset: str) -> dict[str, Any]:
    """The ``[programmes.<name>]`` table ``scenario = "<preset>"`` makes (:func:`sim.config.loader.programme_table`)."""
    return _thaw(loader.programme_table(_preset(preset)))


def first_programme_name(data: dict[str, Any]) -> str:
    """The name a single-drug scenario's programme takes when it becomes a centre: its drug's, as a
    programme name (letters, digits and '_', starting with a letter)."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", str(data["drug"]["name"]))[:40]
    return name if re.match(PROGRAMME_PATTERN, name) else f"p_{name}"[:40]


def programme_name_problem(name: str, existing: list[str]) -> str | None:
    """Why ``name`` cannot name a new programme, or None."""
    if not re.match(PROGRAMME_PATTERN, name or ""):
        return (f"programme name = {name!r}; allowed: letters, digits and '_', starting with a letter, "
                "at most 40 characters")
    if name in existing:
        return f"programme name = {name!r}: already a programme of this centre; allowed: a new name"
    return None


def as_centre(data: dict[str, Any]) -> dict[str, Any]:
    """A single-drug scenario's dump as a centre of one programme (a centre's, copied as it is)."""
    out = _thaw(copy.deepcopy(data))
    if is_centre(data):
        return out
    table = {k: out.pop(k) for k in loader.PROGRAMME_SECTIONS}
    table["description"] = ""
    table["start_weekdays"] = list(out["calendar"]["start_weekdays"])
    out["programmes"] = {first_programme_name(data): table}
    return out


def with_programmes(base: dict[str, Any], added: dict[str, str], removed: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """The dump with programmes added from presets (``{name: preset}``) and others removed; a single-drug
    scenario given a programme becomes a centre. The last programme is never removed.

    Raises
    ------
    ScenarioError
        For a preset that cannot be loaded or is a centre.
    """
    if not added and not removed:
        return base
    data = as_centre(base) if added else _thaw(copy.deepcopy(base))   # a copy: ``base`` is the session's
    for name, preset in added.items():
        data["programmes"][name] = programme_from(preset)
    for name in removed:
        if name in data.get("programmes", {}) and len(data["programmes"]) > 1:
            del data["programmes"][name]
    return data


def moved_to_programme(overrides: dict[str, Any], name: str) -> dict[str, Any]:
    """A single-drug scenario's edits as the edits of its programme ``name`` once it is a centre
    (``demand.x`` -> ``programmes.<name>.demand.x``, ``calendar.start_weekdays`` -> its start weekdays)."""
    out = {}
    for path, value in overrides.items():
        if path.split(".")[0] in loader.PROGRAMME_SECTIONS:
            path = f"programmes.{name}.{path}"
        elif path == "calendar.start_weekdays":
            path = f"programmes.{name}.start_weekdays"
        out[path] = value
    return out


# --------------------------------------------------------------------------- parsing text inputs

def parse_list(text: str, kind: str) -> list | None:
    """"1, 2, 3" to a list of ints or floats (``kind`` int_list / float_list / str_list); "" to [] (None for
    optional lists). Raises ValueError with a plain message."""
    text = (text or "").strip().strip("[]")
    if not text:
        return None if kind.startswith("opt_") else []
    items = [t for t in re.split(r"[,\s;]+", text) if t]
    if kind.endswith("str_list"):
        return items
    conv = int if kind.endswith("int_list") else float
    try:
        return [conv(t) for t in items]
    except ValueError:
        what = "whole numbers" if conv is int else "numbers"
        raise ValueError(f"'{text}' is not a list of {what} separated by commas") from None


def format_list(value: Any) -> str:
    """A list as the comma-separated text the sidebar shows."""
    if value is None:
        return ""
    return ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)


def sourced_in_raw(data: Any, prefix: str = ""):
    """Yield ``(dotted path, value, source, verified)`` for every sourced number in raw TOML data
    (a table with ``value`` and ``source``), e.g. a drug file read with :func:`sim.loader.read_toml`."""
    if _is_sourced_dict(data):
        yield prefix, data["value"], data["source"], bool(data.get("verified", True))
        return
    if isinstance(data, dict):
        for k, v in data.items():
            yield from sourced_in_raw(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from sourced_in_raw(v, f"{prefix}[{i}]")


# --------------------------------------------------------------------------- planner's units

per_year = formats.per_year    # the sidebar shows a weekly rate as its yearly figure, as the report does


def per_week(yearly: float) -> float:
    """The sidebar's yearly figure as the weekly rate the scenario holds."""
    return float(yearly) / WEEKS_PER_YEAR


def default_day0(today: _dt.date | None = None) -> _dt.date:
    """The date day 0 of a scenario is shown as, until the user picks one: the first Monday of this year
    (the simulation's day 0 is a Monday)."""
    jan1 = (today or _dt.date.today()).replace(month=1, day=1)
    return jan1 + _dt.timedelta(days=(DAYS_PER_WEEK - jan1.weekday()) % DAYS_PER_WEEK)


def format_dates(days: list[int] | None, day0: _dt.date) -> str:
    """Day numbers as the ISO dates they fall on, day 0 being ``day0``."""
    return ", ".join((day0 + _dt.timedelta(days=int(d))).isoformat() for d in days or ())


def parse_dates(text: str, day0: _dt.date) -> list[int]:
    """"2026-12-25, 2027-01-01" to day numbers from ``day0``, sorted; raises ValueError with a plain message."""
    out = []
    for item in (t for t in re.split(r"[,\s;]+", (text or "").strip().strip("[]")) if t):
        try:
            day = _dt.date.fromisoformat(item)
        except ValueError:
            raise ValueError(f"'{item}' is not a date; allowed: dates as YYYY-MM-DD separated by commas") from None
        if day < day0:
            raise ValueError(f"{item} is before day 0 of the simulation ({day0.isoformat()}); allowed: that day "
                             "or later")
        out.append((day - day0).days)
    return sorted(set(out))


def explain_abbreviations(text: str) -> str:
    """What the abbreviations in ``text`` stand for ("C1D1 = cycle 1, day 1; CRS = ..."), or ""."""
    found = {m.group(0): f"cycle {m.group(1)}, day {m.group(2)}" for m in _CYCLE_DAY.finditer(text or "")}
    for abbr, meaning in ABBREVIATIONS.items():
        if re.search(rf"(?<![\w-]){re.escape(abbr)}(?![\w-])", text or ""):
            found[abbr] = meaning
    return "; ".join(f"{k} = {v}" for k, v in found.items())
