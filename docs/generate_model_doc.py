"""Write docs/model.md from the scenario and drug files, so the model documentation cannot drift.

    python docs/generate_model_doc.py          # rewrite docs/model.md
    python docs/generate_model_doc.py --check  # exit 1 (and say so) if docs/model.md is out of date

Everything with a number in it is read from the data: the pathway diagram from the reference
scenario's places, capacities, monitoring rules and the drug's management rule for each grade;
the assumptions list quotes the values it is about; the parameter tables walk the validated
scenario and every drug file in ``scenarios/drugs/`` (each toxicity profile), printing every value
with its source and verified flag. ``tests/test_model_doc.py`` fails when the committed page differs
from what this script writes now, i.e. when a data file changed and the page was not regenerated.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere, without installing the package
    sys.path.insert(0, str(ROOT))

from pydantic import BaseModel  # noqa: E402

from sim.config import loader  # noqa: E402
from sim.config.drug import DrugProfile, GradeRule  # noqa: E402
from sim.config.params import Sourced, SourcedVector  # noqa: E402
from sim.config.registry import (  # noqa: E402
    PLACE_RESOURCE,
    PLACES,
    RESOURCES,  # noqa: E402
)
from sim.config.scenario import ONSET_CARE, TOXICITY_KINDS, Scenario  # noqa: E402

SCENARIOS = ROOT / "scenarios"
OUTPUT = ROOT / "docs" / "model.md"
REFERENCE = "tarlatamab_outpatient.toml"
BASE = "base.toml"
NO_SOURCE = "structural setting: no source field"
# Free text that names or describes rather than parametrises; left out of the parameter tables.
TEXT_FIELDS = {"name", "description", "profile_description", "brand", "indication", "label"}
PLACE_TEXT = {
    "ward": "inpatient ward bed",
    "observation": "observation-unit bed (22-24 h unit)",
    "clinic": "infusion chair, extended observation",
    "home": "home with a caregiver (chair for the infusion only)",
}


# ----------------------------------------------------------------------------------------- formatting
def fmt(value: Any) -> str:
    """A value as it would be written in the data file, shortest exact form for floats."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(fmt(v) for v in value) + "]"
    return str(value)


def cell(text: Any) -> str:
    """Safe inside a Markdown table cell."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").strip()


def table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def grade_span(grades: list[int]) -> str:
    """[3, 4] -> "G3-4"; [1] -> "G1"; [1, 3] -> "G1, G3"."""
    if not grades:
        return ""
    parts, start, prev = [], grades[0], grades[0]
    for g in grades[1:] + [None]:
        if g is not None and g == prev + 1:
            prev = g
            continue
        parts.append(f"G{start}" if start == prev else f"G{start}-{prev}")
        if g is not None:
            start = prev = g
    return ", ".join(parts)


def hours(h: float) -> str:
    return f"{fmt(float(h))} h"


# ----------------------------------------------------------------------------------------- data
def rel(path: Path, scenarios: Path) -> str:
    return "scenarios/" + path.resolve().relative_to(scenarios.resolve()).as_posix()


def drug_profiles(path: Path) -> list[tuple[str, bool, DrugProfile]]:
    """Every toxicity profile of one drug file, validated: (profile name, is default, profile)."""
    raw = loader.read_toml(path)
    default = raw.get("default_profile")
    out = []
    for name in raw.get("toxicity", {}):
        data = loader.select_profile(raw, name, str(path))
        out.append((name, name == default, loader_validate_drug(data, str(path))))
    return out


def loader_validate_drug(data: dict, where: str) -> DrugProfile:
    from pydantic import ValidationError

    from sim.config.errors import ScenarioError

    try:
        return DrugProfile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ScenarioError(where, ".".join(str(p) for p in first["loc"]), first.get("input"), first["msg"]) from None


def walk(obj: Any, prefix: str = "", inherited: tuple[str, Any, str] | None = None
         ) -> Iterator[tuple[str, str, str, Any, str]]:
    """(dotted path, value, source, verified, note) for every value under ``obj``.

    Sourced numbers carry their own source. Plain settings inside an object that has a ``source``
    (a schedule block, a grade rule) inherit that object's source and verified flag; other plain
    settings are structural and say so. Paths use :func:`sim.params.iter_sourced`'s format.
    """
    if obj is None:
        return
    if isinstance(obj, (Sourced, SourcedVector)):
        yield prefix, fmt(obj.value), obj.source, obj.verified, obj.note
        return
    if isinstance(obj, BaseModel):
        fields = type(obj).model_fields
        own = "source" in fields and "verified" in fields
        if own:
            inherited = (obj.source, obj.verified, getattr(obj, "label", ""))
        for name in fields:
            if name in TEXT_FIELDS or (own and name in ("source", "verified")):
                continue
            yield from walk(getattr(obj, name), f"{prefix}.{name}" if prefix else name, inherited)
        return
    if isinstance(obj, (list, tuple)) and obj and all(isinstance(x, BaseModel) for x in obj):
        for i, item in enumerate(obj):
            yield from walk(item, f"{prefix}[{i}]", inherited)
        return
    if isinstance(obj, dict):
        for key, item in obj.items():
            yield from walk(item, f"{prefix}.{key}" if prefix else str(key), inherited)
        return
    if isinstance(obj, str) and obj == "":
        return
    source, verified, note = inherited if inherited is not None else (NO_SOURCE, None, "")
    yield prefix, fmt(obj), source, verified, note


def verified_text(v: Any) -> str:
    return "—" if v is None else ("yes" if v else "**no**")


# ----------------------------------------------------------------------------------------- sections
def rule_conditions(rule) -> str:
    parts = []
    if rule.doses is not None:
        parts.append("doses " + ", ".join(str(d) for d in rule.doses))
    if rule.min_required_hours is not None:
        parts.append(f"drug requires >= {fmt(rule.min_required_hours)} h")
    if rule.risk != "any":
        parts.append(f"{rule.risk} risk")
    if rule.eligible is not None:
        parts.append("eligible for outpatient care" if rule.eligible else "not eligible for outpatient care")
    if rule.after_toxicity is not None:
        parts.append("after CRS >= G2 or any ICANS" if rule.after_toxicity else "not after toxicity")
    return ", ".join(parts) or "every dose"


def settings_by_grade(drug: DrugProfile) -> dict[str, list[str]]:
    """setting -> ["CRS G2", "ICANS G1-2"] from the management rules."""
    out: dict[str, list[str]] = {"none": [], "ward": [], "icu": []}
    for kind in ("crs", "icans"):
        rules: tuple[GradeRule, ...] = getattr(drug.management, kind)
        for setting in out:
            grades = [r.grade for r in rules if r.setting == setting]
            if grades:
                out[setting].append(f"{kind.upper()} {grade_span(grades)}")
    return out


def onset_routes(s: Scenario) -> dict[str, str]:
    """route -> "CRS G1; ICANS G1" from the strategy's onset_at_home table (routes no grade takes left out)."""
    out = {}
    for route in ONSET_CARE:
        parts = []
        for kind in TOXICITY_KINDS:
            grades = [g for g in (1, 2, 3, 4) if s.strategy.onset_at_home.route(kind, g) == route]
            if grades:
                parts.append(f"{kind.upper()} {grade_span(grades)}")
        if parts:
            out[route] = "; ".join(parts)
    return out


def discontinuation(drug: DrugProfile) -> str:
    parts = []
    for kind in ("crs", "icans"):
        rules = getattr(drug.management, kind)
        always = [r.grade for r in rules if r.discontinue]
        recur = [r.grade for r in rules if r.discontinue_if_recurrent and not r.discontinue]
        if always:
            parts.append(f"{kind.upper()} {grade_span(always)}")
        if recur:
            parts.append(f"recurrent {kind.upper()} {grade_span(recur)}")
    return "; ".join(parts) or "never"


def mermaid(s: Scenario) -> str:
    """The pathway of the reference scenario as a Mermaid flowchart, from its data."""
    d, cap, cal, ops = s.drug, s.capacity, s.calendar, s.operations
    by = settings_by_grade(d)
    node = {"ward": "PW", "observation": "PO", "clinic": "PC", "home": "PH"}
    hydration = [b.label for b in d.schedule if b.hydration]
    premed = [b.label for b in d.schedule if b.premedication]
    lines = ["flowchart TD"]
    lines.append(f'    REF(["Referral: Poisson, {fmt(s.demand.patients_per_week)} a week"]) --> BOOK')
    lines.append('    BOOK{"Book dose k: earliest permitted day<br/>with a free place (appointment book)"}')
    lines.append(f'    BOOK -->|"dose 1 not bookable within {cal.max_start_delay_days} days"| DIV(["Referred elsewhere"])')
    chair = (f"premedication {hours(d.chair.premedication_hours.value)} ({', '.join(premed) or 'no dose'})"
             f"<br/>infusion {hours(d.chair.infusion_hours.value)}"
             + (f"<br/>+ hydration {hours(d.chair.hydration_hours.value)} ({', '.join(hydration)})" if hydration else ""))
    lines.append(f'    BOOK -->|"booked"| DOSE["Dose k ({d.route}): {chair}"]')
    for place in PLACES:
        res = PLACE_RESOURCE[place]
        lines.append(f'    {node[place]}["{place}: {PLACE_TEXT[place]}<br/>{res}, capacity {getattr(cap, res)}"]')
    for i, rule in enumerate(s.strategy.monitoring, start=1):
        how = f"{fmt(rule.hours)} h" if rule.hours is not None else "drug's hours"
        lines.append(f'    DOSE -->|"rule {i}: {rule_conditions(rule)}; {how}"| {node[rule.place]}')
    lines.append('    DOSE -->|"no rule matches: drug\'s hours"| PC')
    lines.append('    HOME(("home between doses"))')
    for place in PLACES:
        lines.append(f'    {node[place]} -->|"monitoring over"| HOME')
    lines.append('    HOME -->|"next dose due (schedule gap; held until toxicity resolves)"| BOOK')
    lines.append(f'    HOME -->|"time on therapy over (after >= {d.step_up_doses} doses)<br/>'
                 f'or discontinued: {discontinuation(d)}"| EXIT(["Leaves the service"])')
    lines.append(f'    ED["ED bay<br/>ed_bays, capacity {cap.ed_bays}, {hours(ops.ed_hours.value)}"]')
    lines.append(f'    TW["ward bed for toxicity<br/>ward_beds, capacity {cap.ward_beds}"]')
    lines.append(f'    ICU["ICU bed<br/>icu_beds, capacity {cap.icu_beds}; full: boarding"]')
    routes, uc = onset_routes(s), s.urgent_care
    if "home" in routes:
        lines.append(f'    HOME -->|"onset at home: {routes["home"]}<br/>managed at home (phone, oral dexamethasone)"| HOME')
    if "urgent_care" in routes:
        lines.append(f'    UC["urgent-care bay<br/>urgent_care_bays, capacity {cap.urgent_care_bays}, '
                     f'{hours(uc.assessment_hours.value)}, open {fmt(uc.open_hour)}-{fmt(uc.close_hour)} h"]')
        lines.append(f'    HOME -->|"onset at home: {routes["urgent_care"]}, in urgent-care hours"| UC')
        lines.append(f'    HOME -->|"onset at home: {routes["urgent_care"]}, outside them"| ED')
    if "ed" in routes:
        lines.append(f'    HOME -->|"onset at home: {routes["ed"]}"| ED')
    if "admit" in routes:
        lines.append(f'    HOME -->|"onset at home: {routes["admit"]}: direct admission"| TW')
    for bay in ("ED", "UC") if "urgent_care" in routes else ("ED",):
        if by["none"]:
            lines.append(f'    {bay} -->|"{"; ".join(by["none"])}"| HOME')
        if by["ward"]:
            lines.append(f'    {bay} -->|"{"; ".join(by["ward"])}"| TW')
        if by["icu"]:
            lines.append(f'    {bay} -->|"{"; ".join(by["icu"])}"| ICU')
    lines.append('    PW -->|"onset during stay: stay prolonged until the grade allows discharge"| PW')
    for place in ("observation", "clinic"):
        if by["ward"]:
            lines.append(f'    {node[place]} -->|"onset during stay: {"; ".join(by["ward"])}"| TW')
    for place in ("observation", "clinic", "ward"):
        if by["icu"]:
            lines.append(f'    {node[place]} -->|"onset during stay: {"; ".join(by["icu"])}"| ICU')
    lines.append(f'    ICU -->|"step-down {hours(ops.icu_step_down_ward_hours.value)}"| TW')
    lines.append('    TW -->|"stay over"| HOME')
    return "```mermaid\n" + "\n".join(lines) + "\n```"


def places_table(s: Scenario) -> str:
    rows = []
    for place in PLACES:
        res = PLACE_RESOURCE[place]
        rows.append([f"`{place}`", PLACE_TEXT[place], f"`{res}`", getattr(s.capacity, res)])
    # resources no dose is booked on serve toxicity only
    rows += [["(toxicity)", r.help, f"`{r.name}`", getattr(s.capacity, r.name)] for r in RESOURCES if not r.booked]
    return table(["place", "what it is", "resource", f"capacity in {REFERENCE}"], rows)


def management_table(d: DrugProfile) -> str:
    rows = []
    for kind in ("crs", "icans"):
        for r in getattr(d.management, kind):
            stop = "yes" if r.discontinue else ("if recurrent" if r.discontinue_if_recurrent else "no")
            stay = (f"{hours(r.stay_median_hours.value)} (sigma {fmt(r.stay_sigma.value)})"
                    if r.stay_median_hours is not None else "the episode")
            rows.append([kind.upper(), r.grade, r.setting, stay, hours(r.min_stay_hours.value),
                         hours(r.max_stay_hours.value) if r.max_stay_hours is not None else "none",
                         fmt(r.tocilizumab_probability.value), "yes" if r.withhold else "no",
                         hours(r.next_dose_monitor_hours.value), stop, r.source])
    return table(["toxicity", "grade", "setting", "median stay", "min stay", "max stay", "P(tocilizumab)", "dose held",
                  "next dose monitored", "discontinue", "source"], rows)


def schedule_table(d: DrugProfile) -> str:
    rows = []
    for i, b in enumerate(d.schedule):
        count = b.count if b.count else "until time on therapy ends"
        gap = f"{b.gap_days}" + (f"-{b.gap_max_days}" if b.gap_max_days is not None else "")
        monitoring = hours(b.monitor_hours.value) + (" after the infusion" if b.monitor_from == "infusion_end" else "")
        rows.append([i, b.label, count, gap, monitoring, "yes" if b.hydration else "no", b.source])
    return table(["block", "doses", "count", "gap (days)", "monitoring required", "hydration", "source"], rows)


def strategies_table(scenarios: Path, drug_name: str) -> str:
    rows = []
    for path in sorted(scenarios.glob(f"{drug_name}_*.toml")):
        s = loader.load(path)
        for i, rule in enumerate(s.strategy.monitoring, start=1):
            place = rule.place + (f", one admission through dose {rule.stay_through_dose}"
                                  if rule.stay_through_dose else "")
            rows.append([f"`{path.name}`" if i == 1 else "", i, rule_conditions(rule), place,
                         fmt(rule.hours) + " h" if rule.hours is not None else "drug's hours"])
        if s.strategy.prophylaxis is not None:
            p = s.strategy.prophylaxis
            rows.append(["", "prophylaxis", f"doses {', '.join(map(str, p.doses))}, {p.patients} patients",
                         "tocilizumab before the dose", hours(p.chair_hours.value) + " extra chair/bed time"])
    return table(["preset", "rule", "conditions", "place", "hours"], rows)


def assumptions(s: Scenario) -> str:
    """Every simplification the code makes, with its reason; numbers quoted from the data."""
    d, cal, ops, toc, pop = s.drug, s.calendar, s.operations, s.tocilizumab, s.population
    crs, icans = d.crs, d.icans
    shares = crs.by_dose.value if crs.by_dose is not None else ()
    caps: dict[float, list[int]] = {}
    for r in d.management.icans:
        if r.max_stay_hours is not None:
            caps.setdefault(r.max_stay_hours.value, []).append(r.grade)
    icans_caps = ", ".join(f"{hours(h)} for {grade_span(g)}" for h, g in caps.items()) or "no cap"
    obs = d.schedule[0]
    rr = d.prophylaxis.get("before_dose_1")
    prev = ", ".join(f"{k} {fmt(v.value)}" for k, v in pop.risk_factors.items())
    ors = "; ".join(f"{table_name}: " + ", ".join(f"{k} {fmt(v.value)}" for k, v in getattr(d.risk_odds_ratios, table_name).items())
                    for table_name in ("crs", "crs_grade2plus", "icans") if getattr(d.risk_odds_ratios, table_name))
    later = [b for b in d.schedule[1:] if "upper bound" in b.monitor_hours.source]
    follow_up = "; ".join(
        f"{kind.upper()} {grade_span([r.grade for r in getattr(d.management, kind) if r.next_dose_monitor_hours.value > 0])}"
        for kind in ("crs", "icans")
        if any(r.next_dose_monitor_hours.value > 0 for r in getattr(d.management, kind))) or "no toxicity"
    items = [
        ("Toxicity by dose: patient first, then doses",
         f"Whether a patient has CRS at all is drawn once with the profile's rate ({fmt(crs.rate.value)} for "
         f"{d.name}'s {d.profile} profile), so the patient-level incidence is exact. The doses it follows are then "
         f"drawn from an independent-per-dose model conditioned on at least one event, whose per-dose probabilities "
         f"are solved so that, among patients with CRS, the share after each dose is the label's "
         f"({fmt(list(shares))}; `sim/toxicity.py`).",
         "The label gives the split only among patients with CRS; drawing per dose independently would either miss "
         "the patient-level rate or the split."),
        ("\"Dose 3 or later\" is placed at dose 3",
         f"The last entry of `by_dose` counts \"dose {len(shares)} or later\" and the model puts all of it at dose "
         f"{len(shares)}.",
         "The label does not break it down further; CRS after maintenance doses is rare. The model therefore "
         "slightly overstates toxicity in cycle 1 and understates it later."),
        ("Grade mix by dose, drawn per event",
         "The grade of each CRS event after dose k is drawn from the profile's `dose_grade_mix` entry k where the "
         "source splits grades by dose" + (f" ({d.name}: " + "; ".join(
             f"dose {k + 1}{' or later' if k + 1 == len(d.crs.dose_grade_mix) else ''}: grade >= 2 in "
             f"{fmt(1 - m.grade_mix.value[0])} of its events" for k, m in enumerate(d.crs.dose_grade_mix)) + ")"
             if d.crs.dose_grade_mix else "") + "; otherwise from `grade_mix`, the label's per-patient grade "
         "percentages normalised to shares. A patient with CRS after two doses gets two draws, so the share of "
         "patients whose worst grade is >= 2 can exceed the per-patient label figure (see the validation tests).",
         "Labels report grade >= 2 CRS after each step-up dose, and it falls sharply after the first; one mix for "
         "every dose inflated admissions and tocilizumab after the later doses."),
        ("22-24 h monitoring booked as 23 h",
         f"`{obs.label}` monitoring is {fmt(obs.monitor_hours.value)} h ({obs.monitor_hours.note or obs.monitor_hours.source}).",
         "With one hour of premedication a 23-hour stay turns a bed over once a day; 24 h would make a 25-hour "
         "cycle that only turns every other day."),
        ("Ranges of monitoring hours use the upper bound",
         "For later doses the label gives ranges (6-8 h, 3-4 h); the drug file uses the upper bound: "
         + "; ".join(f"{b.label} {fmt(b.monitor_hours.value)} h" for b in later) + ".",
         "Capacity planning should not assume the shortest permitted observation."),
        ("Chair time of a dose",
         f"A visit starts with {hours(d.chair.premedication_hours.value)} of premedication on the doses of blocks "
         f"with `premedication = true` ({', '.join(b.label for b in d.schedule if b.premedication) or 'none'}); "
         f"the infusion takes {hours(d.chair.infusion_hours.value)} unless a block gives its own "
         f"`infusion_hours`; hydration ({hours(d.chair.hydration_hours.value)}) follows the doses of blocks with "
         f"`hydration = true` ({', '.join(b.label for b in d.schedule if b.hydration) or 'none'}). Monitoring "
         "counts from the start of the infusion; a dose occupies its place for premedication plus the longer of "
         "the monitoring and the infusion with hydration (a dose monitored at home: premedication and infusion "
         "only).",
         "Label administration (002_18db700e599cc0a2.txt); staff time for preparation and check-in is not "
         "modelled."),
        ("Bed stays start at the planned admission, chair days are packed",
         f"Planned bed admissions start within {fmt(cal.admission_window_hours)} h of opening "
         f"({fmt(cal.open_hour)}:00); chair visits must end by closing ({fmt(cal.close_hour)}:00). The appointment "
         "book places each stay on an individual chair or bed: the earliest day with room wins, and within the day "
         "the place whose free slot leaves the least idle time since its previous stay (first fit, back to back). "
         "No same-day booking once the centre is open. When a step-up dose is booked, the next step-up dose's slot "
         "is held. A dose given later than its first permitted day for lack of a place is a postponement; toxicity "
         "holds are not.",
         "Schedulers book whole step-up sequences and pack chairs; booking counts only scattered short visits over "
         "every chair and blocked the long cycle-1 visits (docs/architecture.md)."),
        ("Referral, lead time and diversion",
         f"Referrals are Poisson ({fmt(s.demand.patients_per_week)} a week, growth {fmt(s.demand.growth_per_year)} a "
         f"year). The first dose is no earlier than {cal.lead_time_days} days after referral, on a start weekday; a "
         f"patient not started within {cal.max_start_delay_days} days of the earliest start is referred elsewhere.",
         "Centres start step-up on set weekdays after work-up; the diversion limit keeps an overloaded "
         "centre's queue finite."),
        ("Time on therapy",
         f"Exponential with median {fmt(d.time_on_therapy_median_days.value)} days from the first dose "
         f"({d.time_on_therapy_median_days.source}); every patient receives at least the {d.step_up_doses} step-up "
         "doses unless toxicity stops treatment.",
         "Progression-free survival is the published proxy; the step-up phase is given in full before progression "
         "can be assessed."),
        ("ICANS onset from treatment start",
         f"ICANS onset is counted from the start of treatment (`onset_from = \"{icans.onset_from}\"`, median "
         f"{hours(icans.onset_median_hours.value)}); the model ties the event to dose 1 and draws it only for patients "
         "who received dose 1.",
         "The source gives onset from the start of treatment, not from the latest dose."),
        ("A toxicity admission lasts until the grade allows discharge, not the whole episode",
         "Where the drug file gives a grade a length of stay (`stay_median_hours`, `stay_sigma`), a hospital stay "
         "for it (the ICU stay for an ICU grade) is log-normal, drawn from the episode's own duration normal, so a "
         "longer episode has a longer stay and no random draw is added; it ends at the latest with the episode, "
         f"is at least `min_stay_hours` and at most `max_stay_hours` ({icans_caps} for ICANS). The rest of the episode "
         f"is at home and still holds the next dose (ICANS median {hours(icans.duration_median_hours.value)}). "
         "Every drug file gives every grade managed in hospital a length of stay (a test checks it); one not "
         "sourced for the drug is transferred from the closest drug and flagged. Without one the stay would last "
         "the episode.",
         "Published CRS admissions last a median 2 days (Sandahl et al., JCO Oncol Pract 2025) while the episode "
         "lasts about 3; the seed's median ICANS duration (33 days) is an episode length, not an inpatient stay."),
        ("Follow-up clinic visits are appointments that draw nothing",
         "A strategy's `follow_up_visit_days` (DeLLphi-300 Part F: days 2, 3, 5, 9, 16 and 22 of cycle 1) are booked "
         "in the clinic rooms' book when the first dose is given, each on its day of treatment (the next "
         "open day with a free room when the clinic is closed or full; a visit pushed onto the previous one's day is "
         "merged with it), for `operations.clinic_visit_hours`. A visit is skipped while the patient is in care or "
         "after leaving the service.",
         "Part F's outpatients had these visits (Chiang et al., ESMO Open 2025); they take clinic time and cost "
         "but change no patient's course, so they use no random draw and every other number stays on the same "
         "seeds."),
        ("ICANS not back to grade <= 1 within 7 days",
         "A grade whose rule sets `discontinue_if_unresolved_hours` discontinues treatment when the episode lasts "
         "longer (tarlatamab: grade 3 ICANS, 168 h); the episode's duration stands for the time to grade <= 1.",
         "The model draws one grade and one duration per episode, not a grade trajectory."),
        ("Where an onset at home is managed is the strategy's",
         "`strategy.onset_at_home` says where each toxicity and grade started at home is managed (here "
         + "; ".join(f"`{r}`: {g}" for r, g in onset_routes(s).items())
         + f"). `home`: managed by phone and oral dexamethasone, no place used; `urgent_care`: an urgent-care bay for "
         f"{hours(s.urgent_care.assessment_hours.value)} in its hours ({fmt(s.urgent_care.open_hour)}-"
         f"{fmt(s.urgent_care.close_hour)} h), the ED outside them; `ed`: an ED bay for {hours(ops.ed_hours.value)}; "
         "after either, home, ward or ICU by the grade's `setting`; `admit`: straight to a ward bed (ICU where the "
         "setting says so), whatever the grade.",
         "Practice varies: the label's grade 1 CRS needs symptomatic treatment only and the consensus (Crombie et "
         "al., Blood 2024) allows managing it at home; many programmes assess in an oncology immediate-care centre "
         "rather than the ED; Mayo Clinic admitted every CRS (Sandahl et al. 2025)."),
        ("An onset during a stay is managed there or moves the patient up",
         "An onset in a chair, observation bed or ward is managed there when its setting needs no higher level, "
         "otherwise the patient moves up (chair or observation -> ward -> ICU: an unplanned admission) and never down "
         "until the stay ends. In a planned ward stay the patient stays until the grade allows discharge: the "
         "grade's stay for a grade that needs the ward, `min_stay_hours` after the onset for one that does not; a "
         "stay that ends later than planned is a stay prolonged by toxicity. After ICU the patient spends "
         f"{hours(ops.icu_step_down_ward_hours.value)} on the ward. A full ICU means boarding in the current place.",
         "A patient with fever is not discharged at the planned hour; DeLLphi-300 Part A's hospitalisations "
         "(Chiang et al., ESMO Open 2025) are reproduced only when such prolongations count."),
        ("Costs",
         f"Bed-days, visits and chair-hours are priced at their operating cost (a chair-hour "
         f"{fmt(s.costs.chair_hour.value)} {s.costs.currency}); chair revenue forgone "
         f"({fmt(s.costs.chair_opportunity_hour.value)} {s.costs.currency} per chair-hour) is reported separately as "
         "`chair_opportunity_cost` and is not part of `cost_total`.",
         "Revenue is not a cost of care; mixing the two made chair time 70-90% of the cost per patient and "
         "reversed the cost ranking of strategies."),
        ("Toxicity after therapy stops",
         "Events already drawn for doses the patient received still happen after the last dose, after "
         "discontinuation and after time on therapy ends; the patient leaves the service only when they are over.",
         "Onsets up to days after a dose (and ICANS weeks after the start) are real workload."),
        ("Dose holds and the next dose",
         "A dose is held until the toxicity resolves (plus any `resume_delay_hours`) and booked from the next day, "
         "or, where the drug's `[resume]` says `after_hold = \"next_scheduled\"`, from the first day of the "
         "patient's own schedule (the due day plus whole dose intervals) by whose opening the hold is over. "
         f"The next dose after {follow_up} is marked \"after toxicity\": it is monitored for at least the rule's "
         "`next_dose_monitor_hours`, in the place the strategy assigns to doses after toxicity. Other grades "
         "leave the next dose's monitoring as scheduled.",
         "Label management (003_b830145af24ac4b6.txt): the next dose after CRS >= grade 2 or any ICANS is "
         "monitored 22-24 h; the grades listed here are those whose rule in the drug file sets "
         "`next_dose_monitor_hours` above 0."),
        ("Restarting the step-up after a delay",
         "Where the drug file has `[[restart]]` rules (the label's restart table), a next dose whose first "
         "permitted day is more than `days_over` days after the last dose given is replaced by dose `restart_at` "
         "(of the rules for that last dose, the largest limit passed applies); the doses from there are given "
         "again, booked and monitored as the first time, and counted by `doses_restepped`. A repeated dose's "
         "toxicity is the patient's draw for that dose again, and a restart never goes back to a dose already "
         "repeated (so a toxicity that itself outlasts the limit cannot loop). The first permitted day ignores "
         "capacity: a dose postponed for want of a place does not restart the step-up.",
         "Labels' restart tables are written for the delay since the last dose; the replayed draw keeps common "
         "random numbers (no published rate of CRS after a re-escalation was found)."),
        ("Tocilizumab",
         f"Given at onset with the grade's probability; further doses every {hours(toc.repeat_interval_hours.value)} "
         f"while the episode lasts, each with probability {fmt(toc.repeat_probability.value)}, at most "
         f"{toc.max_doses} in all; dose min({fmt(toc.mg_per_kg.value)} mg/kg x weight, {fmt(toc.max_mg.value)} mg). "
         "Repeat doses do not shorten the episode.",
         "Actemra label dosing; response to tocilizumab is not in the sources."),
        ("Prophylaxis: its effect depends on when it is given",
         "The drug file holds one effect per timing studied (`[prophylaxis.before_dose_<k>]`, "
         "`[prophylaxis.after_dose_<k>]`), and a strategy's prophylaxis uses the entry of its timing"
         + (f" ({d.name} before dose 1: CRS relative risk {fmt(rr.crs_relative_risk.value)}, ICANS "
            f"{fmt(rr.icans_relative_risk.value)})" if rr is not None else "")
         + ". The relative risk multiplies the patient-level probability of CRS (ICANS) for the doses from the "
         "first one given with prophylaxis; where the source gives the grades of the CRS that remains "
         "(`crs_grade_mix`), each remaining event takes the milder of its own grade and that mix's grade on the "
         "same uniform. Tocilizumab before a dose adds its infusion time to that visit; after a dose it is given in "
         "the monitoring bed at the entry's hour (a strategy that has no bed then is refused).",
         "The studies report patients with any CRS over the step-up, and the effect differs by timing (Kowalski et "
         "al., Blood Adv 2025, before step-up dose 1, vs tocilizumab ~44 h after it). The same uniforms are compared "
         "with a lower probability and a milder grade threshold, so prophylaxis only removes CRS or lowers its grade "
         "for the same patients (common random numbers)."),
        ("Tocilizumab at the first CRS event and recurrence",
         "Where the drug file gives `crs.after_tocilizumab` (the evidence is for that drug), a patient given "
         "tocilizumab for the first CRS event keeps CRS at later doses only with that relative risk, one uniform "
         "per patient (the per-patient recurrence ratio the study reports). Where the label's later-dose rates "
         "already include the trial's tocilizumab use, this lowers later-dose CRS below the label's split by the "
         "share treated times (1 - relative risk).",
         "Searle et al., Cancer 2023 (teclistamab): recurrence 20% with tocilizumab at the first event vs 62.2% "
         "without."),
        ("Risk factors",
         f"Independent binary factors with assumed prevalences ({prev}); odds ratios ({ors}) act through a logistic "
         "model whose intercept is solved so the population incidence stays at the profile's rate.",
         "001_05c86904299774e9.txt names the factors but gives no prevalences or odds ratios."),
        ("Outpatient eligibility",
         f"A fixed share of patients ({fmt(pop.outpatient_eligible.value)}) has a caregiver and lives close enough "
         "for outpatient monitoring; it does not change during treatment.",
         pop.outpatient_eligible.source),
        start_item(s),
        ("Only BTCE patients use the modelled places",
         "Chairs, observation beds, ward beds, ED bays and ICU beds are used only by the simulated patients "
         "(the tocilizumab stock alone has background demand from other services).",
         "The question is the capacity the step-up service needs; shared use is represented by the capacity given."),
    ]
    out = []
    for i, (title, what, why) in enumerate(items, start=1):
        out.append(f"{i}. **{title}.** {what} *Reason:* {why}")
    out.append("")
    out.append("**Not modelled.** Staff (nurses, pharmacists, physicians, neurology consults) and their rosters; "
               "steroids (dexamethasone) and their supply; anakinra, siltuximab and other second-line treatments of "
               "refractory CRS/ICANS (004_846d7ff9963640fd.txt); deaths, hospice and other exits except time on "
               "therapy and discontinuation (001_05c86904299774e9.txt reports 2 treatment-related deaths in 30); "
               "infections, cytopenias and other adverse events; laboratory tests; no-shows and cancellations; "
               "bed cleaning and turnover time; transport and caregiver availability over time; REMS "
               "administration.")
    return "\n".join(out)


def start_item(s: Scenario) -> tuple[str, str, str]:
    """How a replication starts: empty, or with the steady state's maintenance patients (run.warm_start)."""
    run = s.run
    tail = (f"simulates {run.warmup_weeks} weeks of warm-up that are discarded, keeps statistics for "
            f"{run.horizon_weeks} weeks and follows started patients for {run.follow_up_weeks} more weeks "
            "without new referrals.")
    mean_weeks = s.drug.time_on_therapy_median_days.value / math.log(2) / 7
    if getattr(run, "warm_start", False):
        return ("Warm start, warm-up, follow-up",
                "Each replication starts with the patients a steady state would have in the system: those on "
                "maintenance (Poisson, referral rate x mean time on therapy, thinned to those past the step-up "
                "doses; time since the first dose and remaining time on therapy exponential, memoryless), those "
                "part-way through the step-up (Poisson, referral rate x step-up period, uniform ages) and those "
                "referred within the lead time and not yet dosed. Each continues with its next scheduled dose; "
                "they bring no "
                "toxicity history. It then " + tail,
                f"Time on therapy is long (mean {mean_weeks:.0f} weeks for {s.drug.name}), so a run from empty "
                "needs well over a year before the maintenance chair load is steady, and a start without the step-up "
                "and waiting patients leaves a gap that closes only as slowly. The warm start leaves a transient of "
                "a few weeks in the beds; `python -m sim warmup` checks it (see docs/stress-des.md).")
    return ("Start empty, warm up, follow up",
            "Each replication starts with no patients, " + tail,
            "Maintenance patients accumulate; late starters' step-up toxicity must be seen. The warm-up length "
            "is a scenario input: `python -m sim warmup` checks it (see docs/stress-des.md).")


def parameter_table(rows: list[list[Any]], with_profile: bool) -> str:
    header = ["parameter"] + (["profile"] if with_profile else []) + ["value", "source", "verified", "note"]
    return table(header, rows)


def scenario_rows(s: Scenario) -> list[list[Any]]:
    rows = []
    for section in type(s).model_fields:
        if section in ("drug",) or section in TEXT_FIELDS:
            continue
        value = getattr(s, section)
        if section == "strategy":
            continue  # shown as the strategy table
        for path, val, source, verified, note in walk(value, section):
            if source == NO_SOURCE:
                source = "centre input / run setting (no source field)"
            rows.append([f"`{path}`", val, source, verified_text(verified), note])
    return rows


def drug_rows(profiles: list[tuple[str, bool, DrugProfile]]) -> list[list[Any]]:
    rows = []
    default = next((d for _, is_default, d in profiles if is_default), profiles[0][2])
    for name in type(default).model_fields:
        if name in ("crs", "icans", "profile") or name in TEXT_FIELDS:
            continue
        for path, val, source, verified, note in walk(getattr(default, name), name):
            rows.append([f"`{path}`", "all", val, source, verified_text(verified), note])
    for profile, _, d in profiles:
        for kind in ("crs", "icans"):
            for path, val, source, verified, note in walk(getattr(d, kind), kind):
                rows.append([f"`{path}`", profile, val, source, verified_text(verified), note])
    return rows


def count_flags(profiles: list[tuple[str, bool, DrugProfile]]) -> tuple[int, int]:
    from sim.config.params import iter_sourced

    seen: dict[str, bool] = {}
    for profile, _, d in profiles:
        for path, v in iter_sourced(d):
            key = path if not path.startswith(("crs.", "icans.")) else f"{profile}:{path}"
            seen[key] = v.verified
    return len(seen), sum(1 for v in seen.values() if not v)


# ----------------------------------------------------------------------------------------- page
def generate(scenarios: Path = SCENARIOS) -> str:
    """The full text of docs/model.md for the data in ``scenarios``."""
    ref = loader.load(scenarios / REFERENCE)
    base = loader.load(scenarios / BASE)
    drug_files = sorted((scenarios / "drugs").glob("*.toml"))
    ref_drug_file = next(p for p in drug_files if p.stem == ref.drug.name)
    d = ref.drug
    parts = [
        "# Model documentation",
        "",
        "<!-- Generated by docs/generate_model_doc.py from the files in scenarios/. Do not edit by hand: "
        "change the data (or the script) and run `python docs/generate_model_doc.py`. "
        "tests/test_model_doc.py fails when this page is out of date. -->",
        "",
        "This page describes the conceptual model behind the simulator, every assumption and simplification it "
        "makes with the reason for it, and every parameter of the base scenario and of each drug file with its "
        "source and verified flag. How the code realises the model is in `docs/architecture.md`; how the model "
        "was verified and validated is in `tests/verification/`, `tests/validation/` and `docs/stress-des.md`.",
        "",
        "## 1. Conceptual model",
        "",
        f"The reference scenario is `scenarios/{REFERENCE}` ({ref.description}). Drug: {d.name} ({d.brand}, "
        f"{d.route}), {d.profile} toxicity profile; strategy `{ref.strategy.name}`: {ref.strategy.description}.",
        "",
        "Entities are patients. Each is referred, booked and dosed on the drug's schedule; each dose occupies a "
        "chair or bed for premedication, infusion (and hydration in cycle 1) and the monitoring the strategy "
        "assigns; CRS and ICANS, drawn up front for every dose, start at their onset time wherever the patient is "
        "(managed at home, in an urgent-care bay, in the ED or by direct admission as the strategy says, then on "
        "the ward or in the ICU by the grade's management rule), hold the next dose and use tocilizumab. Time is in hours from Monday 00:00 of the first simulated week.",
        "",
        "### Pathway (reference scenario, generated from its data)",
        "",
        mermaid(ref),
        "",
        "### Places and resources",
        "",
        places_table(ref),
        "",
        f"### Management by grade ({d.name}, from `{rel(ref_drug_file, scenarios)}`)",
        "",
        "`setting` is where the label sends a patient with the grade once assessed: `none` (where the patient is), "
        "`ward` or `icu`. A stay lasts the median stay's log-normal draw (or the episode when none is given), ended "
        "by the episode, at least the minimum and at most the maximum stay.",
        "",
        management_table(d),
        "",
        f"### Dosing schedule ({d.name})",
        "",
        f"Step-up doses (booked as one sequence, always given before time on therapy can end): {d.step_up_doses}.",
        "",
        schedule_table(d),
        "",
        f"### Monitoring strategies of the {d.name} presets",
        "",
        "Rules are tried in order; the first whose conditions all hold decides the place and hours of a dose. "
        "Doses no rule matches stay in the clinic chair for the drug's required time.",
        "",
        strategies_table(scenarios, d.name),
        "",
        "## 2. Assumptions and simplifications",
        "",
        "Stated for the reference scenario; numbers are quoted from its data. Each applies to every drug unless "
        "the drug's file says otherwise.",
        "",
        assumptions(ref),
        "",
        "## 3. Parameters",
        "",
        "Every value in the data files, with the source written next to it and its `verified` flag (`no` marks a "
        "value that is assumed, derived or recalled rather than read in the cited source). Plain settings inside a "
        "schedule block or a grade rule carry that block's or rule's source. Paths are as in `--set` and "
        "`sim.params.iter_sourced`.",
        "",
        f"### Base scenario (`scenarios/{BASE}`)",
        "",
        "Capacity, calendar, run and booking settings are the centre's own inputs and have no source field. The "
        "base strategy's monitoring rules are in the strategy table above.",
        "",
        parameter_table(scenario_rows(base), with_profile=False),
        "",
    ]
    for path in drug_files:
        profiles = drug_profiles(path)
        first = next((p for _, is_default, p in profiles if is_default), profiles[0][2])
        n, unverified = count_flags(profiles)
        names = ", ".join(f"`{name}`" + (" (default)" if is_default else "") for name, is_default, _ in profiles)
        parts += [
            f"### Drug: {first.name} (`{rel(path, scenarios)}`)",
            "",
            f"{first.brand + ', ' if first.brand else ''}{first.route}; {first.indication}. Toxicity profiles: {names}. "
            f"{n} sourced values, {unverified} not verified.",
            "",
            parameter_table(drug_rows(profiles), with_profile=True),
            "",
        ]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/model.md is out of date")
    args = parser.parse_args(argv)
    from sim.config.errors import ScenarioError, ScenarioErrors

    try:
        text = generate()
    except (ScenarioError, ScenarioErrors) as exc:  # a data file that does not validate: say which
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT.relative_to(ROOT)} is out of date: run python docs/generate_model_doc.py", file=sys.stderr)
            return 1
        print(f"{OUTPUT.relative_to(ROOT)} is up to date")
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
