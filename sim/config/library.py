"""The drug library: every drug file in ``scenarios/drugs/``, listed and shown with its sources.

Pure functions over the data files; nothing here runs a simulation. A drug is named by its file
stem (``talquetamab_biweekly``), because one drug can have several files (schedules) and one file
several toxicity profiles.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sim.config import loader, presets
from sim.config.drug import DrugProfile
from sim.config.errors import MISSING, ScenarioError, ScenarioErrors
from sim.config.params import Sourced, SourcedVector, iter_flags, iter_sourced
from sim.config.presets import drug_names

DRUG_DIR = presets.DRUG_DIR


@dataclass(frozen=True)
class LibraryRow:
    """One line of the library listing (the drug file's default profile)."""

    key: str                 # file stem, the name ``python -m sim drugs NAME`` takes
    name: str
    brand: str
    indication: str
    route: str
    profile: str
    profiles: tuple[str, ...]
    step_up_doses: int
    monitoring: str          # e.g. "doses 1-3: 48 h": time in the monitored place from the start of the infusion
    crs_rate: float
    crs_grade3plus: float    # share of patients, rate x grade >= 3 share of events (an upper bound per patient)
    icans_rate: float
    unverified: int          # sourced values with verified = false (default profile)
    sourced: int             # all sourced values (default profile)


def drug_path(key: str, folder: Path = DRUG_DIR) -> Path:
    """Path of drug ``key`` (file stem, case-insensitive).

    Raises
    ------
    ScenarioError
        When no drug file has that name; the message lists the available drugs.
    """
    names = drug_names(folder)
    match = [n for n in names if n.lower() == key.strip().lower()]
    if not match:
        raise ScenarioError("drugs", "NAME", key, f"unknown drug; available: {', '.join(names)}")
    return folder / f"{match[0]}.toml"


def profile_names(key: str, folder: Path = DRUG_DIR) -> tuple[str, tuple[str, ...]]:
    """(default profile, sorted names of all toxicity profiles) of drug ``key``."""
    raw = loader.read_toml(drug_path(key, folder))
    profiles = raw.get("toxicity") or {}
    return raw.get("default_profile", ""), tuple(sorted(profiles))


def load_drug(key: str, profile: str | None = None, folder: Path = DRUG_DIR) -> DrugProfile:
    """Validated :class:`DrugProfile` of drug ``key`` with ``profile`` (default: the file's default).

    Raises
    ------
    ScenarioError, ScenarioErrors
        Unknown drug or profile, or a drug file that does not validate (each problem named by field).
    """
    path = drug_path(key, folder)
    raw = loader.read_toml(path)
    data = loader.select_profile(raw, profile, str(path))
    try:
        return DrugProfile.model_validate(data)
    except ValidationError as exc:
        raise ScenarioErrors([ScenarioError(str(path), ".".join(str(p) for p in e["loc"]), MISSING, e["msg"])
                              for e in exc.errors()]) from None


def dose_ranges(doses: list[int]) -> str:
    """``[1, 2, 3, 5]`` -> ``"1-3, 5"``."""
    parts: list[str] = []
    start = prev = None
    for d in sorted(doses):
        if prev is not None and d == prev + 1:
            prev = d
            continue
        if start is not None:
            parts.append(f"{start}" if start == prev else f"{start}-{prev}")
        start = prev = d
    if start is not None:
        parts.append(f"{start}" if start == prev else f"{start}-{prev}")
    return ", ".join(parts)


def monitoring_required(drug: DrugProfile) -> list[tuple[list[int], float]]:
    """Doses whose required monitoring outlasts the infusion itself, grouped by hours.

    Monitoring hours count from the start of the infusion (a block monitored from the end of the
    infusion adds its infusion), so a dose whose monitoring does not exceed the chair's infusion time
    needs no stay beyond the infusion. Open-ended blocks (``count = 0``) are listed by their first dose only.
    """
    infusion = drug.chair.infusion_hours.value
    by_hours: dict[float, list[int]] = {}
    dose = 0
    for block in drug.schedule:
        hours = block.monitor_from_start(drug.chair)
        for _ in range(max(block.count, 1)):
            dose += 1
            if hours > infusion:
                by_hours.setdefault(hours, []).append(dose)
    return sorted(((doses, hours) for hours, doses in by_hours.items()), key=lambda x: x[0][0])


def monitoring_summary(drug: DrugProfile) -> str:
    """e.g. ``"doses 1-3: 48 h"``; ``"none beyond the infusion"`` when nothing is required."""
    groups = monitoring_required(drug)
    if not groups:
        return "none beyond the infusion"
    return "; ".join(f"dose{'s' if len(d) > 1 else ''} {dose_ranges(d)}: {h:g} h" for d, h in groups)


def count_sourced(drug: DrugProfile) -> tuple[int, int]:
    """(unverified, total) sourced values and sourced records (rules, schedule blocks, restart rows) in a
    drug profile, via :func:`sim.config.params.iter_flags`."""
    flags = [verified for _, verified in iter_flags(drug)]
    return sum(1 for v in flags if not v), len(flags)


def library_row(key: str, folder: Path = DRUG_DIR) -> LibraryRow:
    """The listing row of drug ``key`` (its default profile)."""
    drug = load_drug(key, None, folder)
    _, profiles = profile_names(key, folder)
    unverified, total = count_sourced(drug)
    mix = drug.crs.grade_mix.value
    return LibraryRow(
        key=drug_path(key, folder).stem, name=drug.name, brand=drug.brand, indication=drug.indication,
        route=drug.route, profile=drug.profile, profiles=profiles, step_up_doses=drug.step_up_doses,
        monitoring=monitoring_summary(drug), crs_rate=drug.crs.rate.value,
        crs_grade3plus=drug.crs.rate.value * (mix[2] + mix[3]), icans_rate=drug.icans.rate.value,
        unverified=unverified, sourced=total)


def list_library(folder: Path = DRUG_DIR) -> list[LibraryRow]:
    """One row per drug file, sorted by file name."""
    return [library_row(key, folder) for key in drug_names(folder)]


def format_library(rows: list[LibraryRow]) -> str:
    """The listing as a fixed-width text table."""
    head = (f"{'drug':22s} {'route':13s} {'step-up':>7s}  {'CRS':>5s} {'G>=3':>5s} {'ICANS':>5s} "
            f"{'unverified':>10s}  {'monitoring (h from infusion start)':36s} indication")
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(f"{r.key:22s} {r.route:13s} {r.step_up_doses:>7d}  {r.crs_rate:>5.0%} {r.crs_grade3plus:>5.1%} "
                     f"{r.icans_rate:>5.1%} {f'{r.unverified}/{r.sourced}':>10s}  {r.monitoring:36s} {r.indication}")
    lines.append("")
    lines.append("CRS, G>=3 (rate x grade >= 3 share of events) and ICANS are the default profile's per-patient rates; "
                 "unverified = sourced values marked verified = false.")
    lines.append("Monitoring lists doses whose time in the monitored place outlasts the chair's infusion time "
                 "(long infusions of early doses show up too). Show one drug: python -m sim drugs NAME")
    return "\n".join(lines)


def _fmt_value(v: Sourced | SourcedVector) -> str:
    if isinstance(v, SourcedVector):
        return "[" + ", ".join(f"{x:g}" for x in v.value) + "]"
    return f"{v.value:g}"


def _fmt_sourced(path: str, v: Sourced | SourcedVector) -> list[str]:
    flag = "" if v.verified else "  [UNVERIFIED]"
    out = [f"  {path} = {_fmt_value(v)}{flag}", f"      source: {v.source}"]
    if v.note:
        out.append(f"      note: {v.note}")
    return out


def _schedule_lines(drug: DrugProfile) -> list[str]:
    lines = []
    dose, day = 1, 0
    for i, b in enumerate(drug.schedule):
        day += b.gap_days if i else 0
        window = f"{b.gap_days}" if b.gap_max_days is None else f"{b.gap_days}-{b.gap_max_days}"
        doses = f"dose {dose}" if b.count == 1 else (f"doses {dose}-{dose + b.count - 1}" if b.count else f"doses {dose}+")
        when = f"day {day + 1}" if i == 0 or b.count == 1 else f"from day {day + 1}"
        lines.append(f"  [{i}] {b.label}: {doses}, {when}, gap {window} d after the previous dose, "
                     f"monitor {b.monitor_hours.value:g} h"
                     f"{' after the infusion' if b.monitor_from == 'infusion_end' else ''}"
                     f"{', hydration' if b.hydration else ''}"
                     f"{'' if b.verified else '  [UNVERIFIED]'}")
        lines.append(f"      source: {b.source}")
        dose += b.count
        day += b.gap_days * max(b.count - 1, 0)
    return lines


def _restart_lines(drug: DrugProfile) -> list[str]:
    """The restart-after-a-delay rules and when a dose after a toxicity hold is given, with their sources."""
    lines = []
    for r in drug.restart:
        last = (f"{r.last_dose_from}" if r.last_dose_to == r.last_dose_from else
                f"{r.last_dose_from}-{r.last_dose_to}" if r.last_dose_to is not None else
                f"{r.last_dose_from} or later")
        lines.append(f"  last dose {last}, next more than {r.days_over} days later: give dose {r.restart_at}"
                     f"{'' if r.verified else '  [UNVERIFIED]'}")
        lines.append(f"      source: {r.source}")
    if not drug.restart:
        lines.append("  none: a delayed dose is given as the next dose")
    res = drug.resume
    lines.append(f"  after a toxicity hold: {res.after_hold.replace('_', ' ')}{'' if res.verified else '  [UNVERIFIED]'}")
    lines.append(f"      source: {res.source}")
    return lines


def _rule_lines(kind: str, rules: Any) -> list[str]:
    lines = []
    for r in rules:
        acts = [f"setting {r.setting}", "withhold" if r.withhold else "continue"]
        if r.discontinue:
            acts.append("discontinue")
        if r.discontinue_if_recurrent:
            acts.append("discontinue if recurrent")
        lines.append(f"  {kind} grade {r.grade}: {', '.join(acts)}{'' if r.verified else '  [UNVERIFIED]'}")
        lines.append(f"      source: {r.source}")
    return lines


def describe(key: str, profile: str | None = None, folder: Path = DRUG_DIR) -> str:
    """Every value of drug ``key`` with its source: schedule, chair, management, prophylaxis, and the
    toxicity of every profile (or only ``profile``)."""
    default, profiles = profile_names(key, folder)
    chosen = [profile] if profile else [default] + [p for p in profiles if p != default]
    drug = load_drug(key, chosen[0], folder)
    unverified, total = count_sourced(drug)
    lines = [f"{drug_path(key, folder).stem}: {drug.name} ({drug.brand}), {drug.route}",
             f"  indication: {drug.indication}",
             f"  profiles: {', '.join(profiles)} (default {default})",
             f"  step-up doses: {drug.step_up_doses}; monitoring required: {monitoring_summary(drug)}",
             f"  {unverified} of {total} sourced values unverified ({chosen[0]} profile)",
             "", "Schedule"]
    lines += _schedule_lines(drug)
    lines += ["", "Values (every number with its source)"]
    skip = ("crs.", "icans.")
    for path, v in iter_sourced(drug):
        if not path.startswith(skip):
            lines += _fmt_sourced(path, v)
    lines += ["", "Management by grade"]
    lines += _rule_lines("CRS", drug.management.crs) + _rule_lines("ICANS", drug.management.icans)
    lines += ["", "Restarting after a delay"] + _restart_lines(drug)
    for name in chosen:
        prof = drug if name == chosen[0] else load_drug(key, name, folder)
        lines += ["", f"Toxicity profile '{name}'{' (default)' if name == default else ''}: {prof.profile_description}"]
        for kind in ("crs", "icans"):
            tox = getattr(prof, kind)
            lines.append(f"  {kind}: onset from {tox.onset_from}"
                         + (f"; {tox.events} of {tox.patients} patients" if tox.patients and tox.events is not None else ""))
            for path, v in iter_sourced(tox, kind):
                lines += _fmt_sourced(path, v)
    return "\n".join(lines)
