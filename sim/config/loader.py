"""Scenario files: TOML in, validated :class:`~sim.scenario.Scenario` out, or one clear error.

Files are parsed as data only (``tomllib``); nothing in them is executed. A scenario is a path or a
preset name (:mod:`sim.config.presets`). It may say ``extends = "other.toml"`` (a file next to it) or
``extends = "tarlatamab_outpatient"`` (a preset) and override a few fields; ``[drug] file =
"drugs/x.toml"`` pulls in a drug file, of which one toxicity profile is selected.
"""

from __future__ import annotations

import copy
import re
import tomllib
import types
import typing
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import BaseModel, ValidationError

from sim.config import limits, presets
from sim.config.drug import prophylaxis_by_timing
from sim.config.errors import MISSING, ScenarioError, ScenarioErrors
from sim.config.params import Sourced, SourcedVector
from sim.config.reading import ReadRefused, check_size, read_regular_file
from sim.config.scenario import Scenario

SCENARIO_DIR = presets.SCENARIO_DIR
DEFAULT_SCENARIO = SCENARIO_DIR / f"{presets.REFERENCE}.toml"
OVERRIDE_SOURCE = "user override"
_MAX_EXTENDS = 20


def read_toml(path: Path, where: str | None = None) -> dict[str, Any]:
    """Read one TOML file as data, turning every failure into a :class:`ScenarioError`.

    Only a regular file of at most :data:`~sim.config.limits.MAX_FILE_BYTES` is read (a device such
    as ``/dev/zero``, a FIFO or a folder is refused before any byte is read), and it is parsed
    within the bounds of :func:`parse_toml`.
    """
    where = where or str(path)
    return parse_toml(_read_text(Path(path), where), where)


def _read_text(path: Path, where: str) -> str:
    try:
        data = read_regular_file(path, limits.MAX_FILE_BYTES)
    except FileNotFoundError:
        raise ScenarioError(where, "", MISSING, "file not found") from None
    except ReadRefused as exc:
        raise ScenarioError(where, "", MISSING, str(exc)) from None
    except OSError as exc:
        raise ScenarioError(where, "", MISSING, f"cannot be read ({exc.strerror or exc.__class__.__name__})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(where, "", MISSING, f"cannot be read as UTF-8 text ({exc.__class__.__name__})") from None


def parse_toml(text: str, where: str) -> dict[str, Any]:
    """Parse TOML text as data within the bounds of :mod:`sim.config.limits`.

    The size and the bracket nesting are checked before the parser sees the text (it recurses once
    per level), the depth of the parsed tables and the length of every text after.
    """
    # a character is at least a byte, so only a text short enough to pass is encoded to count its bytes
    try:
        check_size(len(text) if len(text) > limits.MAX_FILE_BYTES else len(text.encode("utf-8", "surrogatepass")),
                   limits.MAX_FILE_BYTES)
    except ReadRefused as exc:
        raise ScenarioError(where, "", MISSING, str(exc)) from None
    _check_brackets(text, where)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(where, "", MISSING, f"is not valid TOML: {exc}") from None
    check_bounds(data, where)
    return data


# Strings and comments are matched whole so that brackets inside them are not counted.
_TOML_TOKEN = re.compile("|".join((
    r'"""(?:\\.|[^\\])*?"""',        # multi-line basic string
    r"'''.*?'''",                    # multi-line literal string
    r'"(?:\\.|[^"\\\n])*"',          # basic string
    r"'[^'\n]*'",                    # literal string
    r"#[^\n]*",                      # comment
    r"[\[\]{}]",                     # a bracket: the only token counted
)), re.S)
_BRACKET_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def _check_brackets(text: str, where: str) -> None:
    depth = 0
    for match in _TOML_TOKEN.finditer(text):
        depth = max(0, depth + _BRACKET_STEP.get(match.group(), 0))
        if depth > limits.MAX_NESTING_DEPTH:
            line = text.count("\n", 0, match.start()) + 1
            raise ScenarioError(where, "", MISSING, f"arrays or tables nested more than {limits.MAX_NESTING_DEPTH} "
                                f"deep (line {line}); allowed: at most {limits.MAX_NESTING_DEPTH} levels")


def check_bounds(data: dict[str, Any], where: str) -> None:
    """Refuse parsed data nested deeper than ``MAX_NESTING_DEPTH`` or holding a text (or key) longer
    than ``MAX_TEXT_CHARS``, naming the field. Iterative, so any depth is checked without recursion."""
    stack: list[tuple[Any, tuple[str, ...]]] = [(data, ())]
    while stack:
        node, path = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in items:
            if isinstance(key, str) and len(key) > limits.MAX_TEXT_CHARS:
                raise ScenarioError(where, ".".join(path), MISSING, f"a key of {len(key):,} characters; allowed: "
                                    f"at most {limits.MAX_TEXT_CHARS:,}")
            field = path + (str(key),)
            if len(field) > limits.MAX_NESTING_DEPTH:
                raise ScenarioError(where, ".".join(field[:3]) + "...", MISSING, f"nested {len(field)} levels "
                                    f"or more; allowed: at most {limits.MAX_NESTING_DEPTH} levels")
            if isinstance(value, str) and len(value) > limits.MAX_TEXT_CHARS:
                raise ScenarioError(where, ".".join(field), MISSING, f"a text of {len(value):,} characters; "
                                    f"allowed: at most {limits.MAX_TEXT_CHARS:,}")
            if isinstance(value, (dict, list)):
                stack.append((value, field))


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``base``; tables merge, anything else replaces.

    A plain number put over a sourced value ``{value, source, ...}`` replaces the value and marks
    it as a user override, so the override stays visible as unverified. A table keyed by element
    numbers over an array changes those elements (``strategy.monitoring.0.hours = 30`` changes the
    first rule's hours), so a dotted key reaches into arrays as the dashboard's fields do.
    """
    out = copy.deepcopy(base)
    for key, val in over.items():
        old = out.get(key)
        if isinstance(old, dict) and isinstance(val, dict):
            out[key] = deep_merge(old, val)
        elif _indexes(old, val):
            out[key] = [x for x in deep_merge(dict(enumerate(old)), {int(i): v for i, v in val.items()}).values()]
        elif isinstance(old, dict) and "value" in old and "source" in old and not isinstance(val, dict):
            out[key] = {"value": val, "source": f"{OVERRIDE_SOURCE} (default was {old['value']!r}: {old['source']})",
                        "verified": False}
        else:
            out[key] = copy.deepcopy(val)
    return out


def _indexes(old: Any, val: Any) -> bool:
    """Whether ``val`` changes elements of the array ``old``: a table whose keys are its element numbers."""
    return (isinstance(old, (list, tuple)) and isinstance(val, dict) and bool(val)
            and all(str(i).isdigit() and int(i) < len(old) for i in val))


def parse_override(item: str) -> tuple[list[str], Any]:
    """``"capacity.chairs=8"`` -> (["capacity", "chairs"], 8). Values are TOML literals; bare words are strings."""
    if "=" not in item:
        raise ScenarioError("--set", item, MISSING, "expected KEY=VALUE, e.g. capacity.chairs=8")
    key, raw = item.split("=", 1)
    key, raw = key.strip(), raw.strip()
    parts = key.split(".")
    if len(parts) > limits.MAX_NESTING_DEPTH:
        raise ScenarioError("--set", ".".join(parts[:3]) + "...", MISSING, f"a key of {len(parts):,} parts; "
                            f"allowed: at most {limits.MAX_NESTING_DEPTH}")
    if not key or any(not p for p in parts):
        raise ScenarioError("--set", key, MISSING, "expected a dotted key such as capacity.chairs")
    _check_brackets(raw, f"--set {key}")
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return parts, value


def overrides_to_dict(items: list[str] | tuple[str, ...]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for item in items:
        parts, value = parse_override(item)
        node = tree
        for p in parts[:-1]:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise ScenarioError("--set", item, MISSING, f"'{p}' is set both as a value and as a table")
        node[parts[-1]] = value
    check_bounds(tree, "--set")
    return tree


def _read_with_extends(path: Path, chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    path = path.resolve()
    if path in chain:
        raise ScenarioError(str(path), "extends", str(path.name), "extends itself (a cycle): "
                            + " -> ".join(p.name for p in chain + (path,)))
    if len(chain) > _MAX_EXTENDS:
        raise ScenarioError(str(path), "extends", MISSING, f"more than {_MAX_EXTENDS} levels of extends")
    data = read_toml(path)
    _absolutise_drug_file(data, path.parent, str(path))
    _expand_programme_refs(data, path.parent, str(path), chain + (path,))
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ScenarioError(str(path), "extends", parent, "allowed: a file name, e.g. \"base.toml\", or a preset name")
    base = _read_with_extends(presets.resolve_extends(path.parent, parent, str(path)), chain + (path,))
    return deep_merge(base, data)


def _drug_tables(data: dict[str, Any]) -> list[tuple[str, Any]]:
    """(field, table) of the scenario's ``[drug]`` and of each programme's ``[programmes.<name>.drug]``."""
    tables = [("drug", data.get("drug"))]
    progs = data.get("programmes")
    if isinstance(progs, dict):
        tables += [(f"programmes.{name}.drug", p.get("drug")) for name, p in progs.items() if isinstance(p, dict)]
    return tables


def _absolutise_drug_file(data: dict[str, Any], folder: Path, where: str) -> None:
    """Drug files named relative to the file that names them (the scenario's, or a programme's), made absolute."""
    for field, drug in _drug_tables(data):
        if isinstance(drug, dict) and "file" in drug:
            if not isinstance(drug["file"], str):
                raise ScenarioError(where, f"{field}.file", drug["file"],
                                    "allowed: a path to a drug file, e.g. \"drugs/tarlatamab.toml\"")
            drug["file"] = str((folder / drug["file"]).resolve())


# What a programme takes from the single-drug scenario it names (``scenario = "x.toml"``); the rest of
# that file (capacity, calendar, costs...) is the centre's.
PROGRAMME_SECTIONS = ("drug", "strategy", "demand", "population")


def _expand_programme_refs(data: dict[str, Any], folder: Path, where: str, chain: tuple[Path, ...],
                           confine: Path | None = None) -> None:
    """Replace each programme's ``scenario = "NAME"`` by that scenario's drug, strategy, demand, population
    and start weekdays, under the programme's own changes. ``confine``: the folder an upload may not leave."""
    progs = data.get("programmes")
    if not isinstance(progs, dict):
        return
    for name, table in progs.items():
        if not isinstance(table, dict) or "scenario" not in table:
            continue
        ref = table.pop("scenario")
        field = f"programmes.{name}.scenario"
        if not isinstance(ref, str):
            raise ScenarioError(where, field, ref, "allowed: a single-drug scenario's file or preset name, "
                                "e.g. \"teclistamab_outpatient\"")
        if confine is not None and not (confine / ref).resolve().is_relative_to(confine):
            raise ScenarioError(where, field, ref, f"allowed: a scenario inside {confine.name}/ "
                                "(an upload cannot reach other files)")
        other = _read_with_extends(presets.resolve_extends(folder, ref, where), chain)
        if other.get("programmes"):
            raise ScenarioError(where, field, ref, "names a centre; allowed: a single-drug scenario")
        taken = {k: other[k] for k in PROGRAMME_SECTIONS if k in other}
        weekdays = other.get("calendar", {}).get("start_weekdays")
        if weekdays is not None:
            taken["start_weekdays"] = weekdays
        # a programme's own drug file or named strategy replaces the named scenario's; other keys change it
        for key, whole in (("drug", "file"), ("strategy", "name")):
            if isinstance(table.get(key), dict) and whole in table[key]:
                taken.pop(key, None)
        progs[name] = deep_merge(taken, table)


def resolve_drug(raw: dict[str, Any], where: str) -> dict[str, Any]:
    """Turn the scenario's ``[drug]`` table into a flat drug profile with one toxicity profile."""
    table = raw.get("drug")
    if table is None:
        raise ScenarioError(where, "drug", MISSING, "required: a [drug] table with file = \"drugs/NAME.toml\"")
    if not isinstance(table, dict):
        raise ScenarioError(where, "drug", table, "allowed: a table with file = \"drugs/NAME.toml\"")
    table = dict(table)
    file = table.pop("file", None)
    base: dict[str, Any] = {}
    drug_where = where
    if file is not None:
        drug_path = Path(file)
        drug_where = str(drug_path)
        if not drug_path.exists():
            raise ScenarioError(where, "drug.file", file, "file not found; allowed: a drug file such as "
                                f"drugs/tarlatamab.toml (available: {', '.join(presets.drug_names())})")
        base = read_toml(drug_path)
    profile = table.get("profile")
    if "toxicity" in base:
        base = select_profile(base, profile, drug_where)
    # old-style prophylaxis tables take their named form before a change to one entry merges in
    for d in (base, table):
        if "prophylaxis" in d:
            d["prophylaxis"] = prophylaxis_by_timing(d["prophylaxis"])
    _drop_stale_dose_mixes(base, table)
    merged = deep_merge(base, table)
    if "toxicity" in merged:  # a full drug definition written inline in the scenario
        merged = select_profile(merged, merged.get("profile"), where)
    return merged


def _drop_stale_dose_mixes(base: dict[str, Any], changes: dict[str, Any]) -> None:
    """A change to a toxicity's ``grade_mix`` (one mix for every dose), or to ``by_dose`` with another
    number of doses, replaces the drug file's per-dose grade mixes unless the change gives its own: they
    would otherwise silently win over the user's mix, or no longer line up with the doses."""
    for kind in ("crs", "icans"):
        change, own = changes.get(kind), base.get(kind)
        if not isinstance(change, dict) or not isinstance(own, dict) or "dose_grade_mix" in change:
            continue
        new_split = change.get("by_dose")
        new_split = new_split.get("value") if isinstance(new_split, dict) else new_split
        old_split = own.get("by_dose")
        old_split = old_split.get("value") if isinstance(old_split, dict) else old_split
        resized = isinstance(new_split, list) and isinstance(old_split, list) and len(new_split) != len(old_split)
        if "grade_mix" in change or resized:
            change["dose_grade_mix"] = []


def select_profile(drug: dict[str, Any], profile: str | None, where: str) -> dict[str, Any]:
    drug = dict(drug)
    profiles = drug.pop("toxicity")
    default = drug.pop("default_profile", None)
    name = profile or default
    if not isinstance(profiles, dict) or not profiles:
        raise ScenarioError(where, "toxicity", MISSING, "allowed: one or more [toxicity.NAME] tables")
    if name not in profiles:
        raise ScenarioError(where, "drug.profile", name, f"unknown toxicity profile; allowed: {', '.join(sorted(profiles))}")
    chosen = profiles[name]
    drug["profile"] = name
    drug["profile_description"] = chosen.get("description", "")
    for key in ("crs", "icans"):
        if key in chosen:
            drug[key] = chosen[key]
    return drug


def resolve(raw: dict[str, Any], where: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Raw scenario dict (extends already merged) plus overrides -> fully resolved dict."""
    if raw.get("programmes") and overrides:
        names = ", ".join(raw["programmes"])
        shared = sorted(set(overrides) & set(PROGRAMME_SECTIONS))
        if shared:
            raise ScenarioError(where, shared[0], MISSING, f"a centre's {shared[0]} belongs to each programme; "
                                f"allowed: programmes.<name>.{shared[0]}... (programmes: {names})")
        unknown = sorted(set(overrides.get("programmes") or {}) - set(raw["programmes"]))
        if unknown:
            raise ScenarioError(where, f"programmes.{unknown[0]}", MISSING, f"no such programme; allowed: {names} "
                                "(a new programme is added in the scenario file, with scenario = \"PRESET\")")
    data = deep_merge(raw, overrides or {})
    data.pop("extends", None)
    if data.get("programmes"):
        return _resolve_centre(data, where)
    data["drug"] = resolve_drug(data, where)
    return data


def _resolve_centre(data: dict[str, Any], where: str) -> dict[str, Any]:
    """Each programme completed from the centre's own drug, strategy, demand and population (its
    defaults, e.g. from base.toml) and its drug resolved; the top-level ones become the first programme's."""
    progs = data["programmes"]
    if not isinstance(progs, dict):
        raise ScenarioError(where, "programmes", progs, "allowed: tables [programmes.<name>]")
    calendar = data.get("calendar") if isinstance(data.get("calendar"), dict) else {}
    out = {}
    for name, table in progs.items():
        if not isinstance(table, dict):
            raise ScenarioError(where, f"programmes.{name}", table, "allowed: a table [programmes.<name>]")
        p = dict(table)
        for key in PROGRAMME_SECTIONS:
            default = data.get(key)
            if key not in p and default is not None:
                p[key] = copy.deepcopy(default)
            elif key in ("demand", "population") and isinstance(default, dict) and isinstance(p[key], dict):
                p[key] = deep_merge(default, p[key])
        if "start_weekdays" not in p and "start_weekdays" in calendar:
            p["start_weekdays"] = calendar["start_weekdays"]
        p["drug"] = resolve_drug(p, f"{where} (programmes.{name})")
        out[name] = p
    data["programmes"] = out
    first = next(iter(out.values()))
    for key in PROGRAMME_SECTIONS:
        data[key] = copy.deepcopy(first[key])
    return data


def plain(scenario: Scenario) -> dict[str, Any]:
    """The scenario as the dict :func:`resolve` reads back to an equal scenario. A centre's top-level drug,
    strategy, demand and population are its first programme's, so they are left out: they would otherwise
    become defaults that leak into the programmes on the way back."""
    data = scenario.model_dump(mode="python")
    if scenario.programmes:
        for key in PROGRAMME_SECTIONS:
            data.pop(key)
    return data


def programme_table(scenario: Scenario) -> dict[str, Any]:
    """A single-drug scenario as the ``[programmes.<name>]`` table that ``scenario = "NAME"`` makes of it:
    its drug, strategy, demand, population and start weekdays (the rest of it is the centre's). The drug is
    the resolved one, which :func:`resolve` reads back unchanged. Used by the dashboard's "Add programme"."""
    if scenario.programmes:
        raise ScenarioError(scenario.name, "scenario", scenario.name, "names a centre; allowed: a single-drug scenario")
    data = scenario.model_dump(mode="python")
    table = {k: data[k] for k in PROGRAMME_SECTIONS}
    table["start_weekdays"] = list(scenario.calendar.start_weekdays)
    return table


def validate(data: dict[str, Any], where: str) -> Scenario:
    """Validate a resolved scenario dict; one error line per field the user got wrong.

    The bounds of :func:`check_bounds` are checked first, since the dashboard's sidebar edits reach
    here without passing through the TOML parser."""
    check_bounds(data, where)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        seen: set[tuple[str, ...]] = set()
        errors = []
        for e in exc.errors():
            key = _field_key(tuple(str(p) for p in e["loc"]))
            if key not in seen:  # a wrongly shaped value raises several errors inside one field
                seen.add(key)
                errors.append(_translate(e, where))
        raise ScenarioErrors(errors) from None


def _field_key(loc: tuple[str, ...]) -> tuple[str, ...]:
    """The field a user wrote that an error location falls in: a scalar, a sourced number, a
    sequence or one entry of a table of numbers, not the parts pydantic looked inside it."""
    model: Any = Scenario
    for j, part in enumerate(loc):
        fields = getattr(model, "model_fields", None)
        if not fields or part not in fields:
            return loc[:j + 1]
        annotation = fields[part].annotation
        origin = typing.get_origin(annotation)
        if origin is dict:
            return loc[:j + 2]
        inner = _model_in(annotation)
        if inner is None or inner in (Sourced, SourcedVector) or origin in (tuple, list):
            return loc[:j + 1]
        model = inner
    return loc


def load(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> Scenario:
    """Load, merge ``extends``, apply ``--set`` overrides, resolve the drug and validate.

    Raises
    ------
    ScenarioError, ScenarioErrors
        For every kind of bad input, with the file, the field, the value and what is allowed.
    """
    path = presets.resolve(path)
    raw = _read_with_extends(path)
    over = overrides_to_dict(list(overrides))
    _absolutise_drug_file(over, Path.cwd(), "--set")
    data = resolve(raw, str(path), over)
    return validate(data, f"{path}{' with --set' if overrides else ''}")


def loads(text: str, where: str = "upload", base_dir: Path | None = None) -> Scenario:
    """Load a scenario from TOML text (an upload). ``extends`` and drug files resolve against ``base_dir``."""
    base_dir = (base_dir or SCENARIO_DIR).resolve()
    data = parse_toml(text, where)
    _absolutise_drug_file(data, base_dir, where)
    for field, drug in _drug_tables(data):
        drug_file = drug.get("file") if isinstance(drug, dict) else None
        if drug_file is not None and not Path(drug_file).is_relative_to(base_dir):
            raise ScenarioError(where, f"{field}.file", drug_file, f"allowed: a drug file inside {base_dir.name}/ "
                                "(an upload cannot reach other files)")
    _expand_programme_refs(data, base_dir, where, (), confine=base_dir)
    parent = data.pop("extends", None)
    if parent is not None:
        if not isinstance(parent, str):
            raise ScenarioError(where, "extends", parent, "allowed: a file name, e.g. \"base.toml\", or a preset name")
        if not (base_dir / parent).resolve().is_relative_to(base_dir):
            raise ScenarioError(where, "extends", parent, f"allowed: a scenario inside {base_dir.name}/ "
                                "(an upload cannot reach other files)")
        data = deep_merge(_read_with_extends(presets.resolve_extends(base_dir, parent, where)), data)
    return validate(resolve(data, where), where)


def to_toml(scenario: Scenario) -> str:
    """The fully resolved scenario as TOML that :func:`loads` reads back to an equal scenario."""
    return tomli_w.dumps(_plain(plain(scenario)))


def _plain(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items() if v is not None}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj


def _translate(err: dict[str, Any], where: str) -> ScenarioError:
    loc = tuple(str(p) for p in err["loc"])
    kind = err["type"]
    value = err.get("input", MISSING)
    if isinstance(value, (Sourced, SourcedVector)):
        value = value.value
    elif isinstance(value, dict) and "value" in value:
        value = value["value"]
    elif isinstance(value, (dict, BaseModel)):
        value = MISSING
    field = ".".join(loc)
    msg = err["msg"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        return ScenarioError(where, field, MISSING, "unknown key" + (f"; allowed keys here: {', '.join(allowed)}" if allowed else ""))
    if kind == "missing":
        return ScenarioError(where, field, MISSING, "required but missing")
    if kind == "value_error":
        return ScenarioError(where, field, value, msg.removeprefix("Value error, "))
    return ScenarioError(where, field, value, "allowed: " + msg[0].lower() + msg[1:])


def _allowed_keys(loc: tuple[str, ...]) -> list[str]:
    model: Any = Scenario
    for part in loc:
        if part.isdigit():
            continue
        fields = getattr(model, "model_fields", {})
        if part not in fields:
            return []
        model = _model_in(fields[part].annotation)
        if model is None:
            return []
    return sorted(getattr(model, "model_fields", {}))


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _model_in(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, tuple, list):
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None
