"""The one place that declares each resource and each KPI; everything else derives from it.

A resource is a kind of place a patient occupies (a pool in the model, a ``[capacity]`` field, maybe a
``[costs]`` field); a KPI is a column of ``kpis.csv``. Column order, chart labels, units, dashboard
units, the Wilson-interval list and the documentation tables are read from here, and
``tests/test_registry.py`` checks the scenario schema, the model, the KPI row and the README glossary
against it. Pure data: no pandas, no SimPy.

To add a resource: one :class:`Resource` below and its ``[capacity]`` field (and ``[costs]`` price, if
it is priced) in ``sim/config/scenario.py`` and ``scenarios/base.toml``; its ``util_``, ``peak_`` and
``wait_`` KPIs, chart labels, dashboard units and pool follow (the model still has to send patients to it).
To add a KPI: one :class:`Kpi` below, in column order, and the line in ``sim/metrics/kpis.py`` that
computes it. ``tests/test_registry.py`` names what is missing, README glossary included.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Resource:
    """A kind of place patients occupy: one pool in the model, one ``[capacity]`` field.

    Attributes
    ----------
    name : str
        The ``[capacity]`` field and the pool's name, e.g. ``observation_beds``.
    label : str
        How a sentence names it, e.g. "observation beds" ("Utilisation: observation beds").
    title : str
        How a chart panel or table row names it, e.g. "Observation beds (22-24 h)".
    unit : str
        What one place is called, e.g. "beds" (the dashboard's capacity unit).
    kind : {"chair", "bed", "bay", "room"}
        What one place is.
    colour : str
        Hex colour of the resource in charts (Okabe-Ito colour-blind-safe palette).
    cost_field : str or None
        The ``[costs]`` field that prices its use, or None when its use is not priced.
    cost_per : str or None
        What ``cost_field`` is priced per, e.g. "bed-day" (the dashboard's cost unit).
    use_kpi : str or None
        The KPI that counts its use in ``cost_per`` units, e.g. ``observation_bed_days``: its cost in
        ``cost_total`` is that KPI times the ``cost_field`` price.
    cost_kpi : str or None
        The KPI of its part of ``cost_total`` (one of :data:`COST_BREAKDOWN`), e.g. ``cost_observation``.
    booked : bool
        Planned stays are booked on it through a ledger (an appointment book) before they start.
    hours : {"opening", "all", "own"}
        The hours it is available: utilisation is occupied time over the infusion centre's opening hours,
        over all hours, or over its own opening hours (the urgent-care centre's ``[urgent_care]`` hours).
    help : str
        What it is, for the documentation's resource table.
    """

    name: str
    label: str
    title: str
    unit: str
    kind: Literal["chair", "bed", "bay", "room"]
    colour: str
    cost_field: str | None
    cost_per: str | None
    use_kpi: str | None
    cost_kpi: str | None
    booked: bool
    hours: Literal["opening", "all", "own"]
    help: str


# Okabe & Ito (2008), Color Universal Design: distinguishable with every common colour-vision deficiency.
RESOURCES: tuple[Resource, ...] = (
    Resource("chairs", "chairs", "Infusion chairs", "chairs", "chair", "#0072B2",
             cost_field="chair_hour", cost_per="chair-hour", use_kpi="chair_hours", cost_kpi="cost_chair",
             booked=True, hours="opening", help="infusion chair"),
    Resource("observation_beds", "observation beds", "Observation beds (22-24 h)", "beds", "bed", "#E69F00",
             cost_field="observation_day", cost_per="bed-day", use_kpi="observation_bed_days", cost_kpi="cost_observation",
             booked=True, hours="all", help="observation-unit bed (22-24 h unit)"),
    Resource("ward_beds", "ward beds", "Ward beds", "beds", "bed", "#009E73",
             cost_field="ward_day", cost_per="bed-day", use_kpi="ward_bed_days", cost_kpi="cost_ward",
             booked=True, hours="all", help="inpatient ward bed"),
    Resource("ed_bays", "ED bays", "ED bays", "bays", "bay", "#CC79A7",
             cost_field="ed_visit", cost_per="visit", use_kpi="ed_visits", cost_kpi="cost_ed",
             booked=False, hours="all", help="ED assessment of an onset at home"),
    Resource("icu_beds", "ICU beds", "ICU beds", "beds", "bed", "#D55E00",
             cost_field="icu_day", cost_per="bed-day", use_kpi="icu_bed_days", cost_kpi="cost_icu",
             booked=False, hours="all", help="intensive care by grade"),
    Resource("urgent_care_bays", "urgent-care bays", "Oncology urgent-care bays", "bays", "bay", "#56B4E9",
             cost_field="urgent_care_visit", cost_per="visit", use_kpi="urgent_care_visits", cost_kpi="cost_urgent_care",
             booked=False, hours="own",
             help="same-day assessment of an onset at home in an oncology urgent-care (immediate-care) centre"),
    Resource("clinic_rooms", "clinic rooms", "Clinic rooms (follow-up visits)", "rooms", "room", "#F0E442",
             cost_field="clinic_visit", cost_per="visit", use_kpi="clinic_visits", cost_kpi="cost_clinic",
             booked=True, hours="opening",
             help="planned follow-up visit after the first dose (strategy.follow_up_visit_days), e.g. "
                  "DeLLphi-300 Part F's days 2, 3, 5, 9, 16 and 22"),
)
RESOURCE_NAMES: tuple[str, ...] = tuple(r.name for r in RESOURCES)
BED_RESOURCES: tuple[str, ...] = tuple(r.name for r in RESOURCES if r.kind == "bed")
_RESOURCE_BY_NAME = {r.name: r for r in RESOURCES}


def resource(name: str) -> Resource:
    """The resource called ``name``; ValueError naming the allowed ones otherwise."""
    try:
        return _RESOURCE_BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown resource {name!r}; allowed: {', '.join(RESOURCE_NAMES)}") from None


KPI_KINDS = ("count", "share", "number", "money", "hours", "days")


# Where a strategy monitors a dose, and the resource each place takes: "home" is a chair for the
# infusion, then home with a caregiver.
PLACES = ("ward", "observation", "clinic", "home")
PLACE_RESOURCE = {"ward": "ward_beds", "observation": "observation_beds", "clinic": "chairs", "home": "chairs"}


@dataclass(frozen=True)
class Kpi:
    """A column of ``kpis.csv``: one number per replication.

    Attributes
    ----------
    name : str
        The column name.
    label : str
        What a planner reads, e.g. "Doses postponed (no place)".
    unit : str
        Its unit as shown; ``{currency}`` stands for the scenario's currency.
    kind : str
        One of :data:`KPI_KINDS`; decides how a value is formatted.
    proportion : bool
        A 0/1 outcome per replication, so its mean is a probability with a Wilson interval.
    help : str
        Its definition, where the label alone does not say it.
    centre : bool
        A property of what a centre's programmes share (the tocilizumab stock, other services' admissions),
        not of one programme's patients: in ``kpis.csv`` only, not in ``kpis_by_programme.csv``.
    """

    name: str
    label: str
    unit: str
    kind: str = "count"
    proportion: bool = False
    help: str = ""
    centre: bool = False


_BASE_KPIS = (
    Kpi("patients_referred", "Patients referred", "patients", "count", help="new referrals inside the statistics window"),
    Kpi("patients_started", "Patients started", "patients", "count", help="first dose given inside the window"),
    Kpi("patients_diverted", "Patients referred elsewhere", "patients", "count",
        help="not started within the maximum start delay"),
    Kpi("doses_given", "Doses given", "doses", "count", help="every dose given, repeats after a restart included"),
    Kpi("doses_restepped", "Doses repeated after a delay", "doses", "count",
        help="doses given again because a delay passed the label's restart limit (drug.restart): the step-up "
             "from the dose the label restarts at"),
    Kpi("doses_postponed", "Doses postponed", "doses", "count", help="given later than due for lack of a place"),
    Kpi("p_dose_postponed", "Doses postponed (no place)", "% of doses", "share",
        help="share of doses given later than due because no place could be booked"),
    Kpi("days_referral_to_first_dose_mean", "Referral to first dose", "days (mean)", "days",
        help="includes the lead time before the earliest start"),
    Kpi("crs_rate", "Patients with CRS", "% of patients started", "share"),
    Kpi("crs_grade2plus_rate", "Patients with grade 2+ CRS", "% of patients started", "share"),
    Kpi("crs_grade3plus_rate", "Patients with grade 3+ CRS", "% of patients started", "share"),
    Kpi("icans_rate", "Patients with ICANS", "% of patients started", "share"),
    Kpi("patients_given_toci", "Patients given tocilizumab for CRS/ICANS", "patients", "count",
        help="patients started in the window given tocilizumab to treat CRS/ICANS (prophylaxis not counted), "
             "after any dose they were given"),
    Kpi("hospitalised_28d_rate", "Hospitalised within 28 days of the first dose", "% of patients started", "share",
        help="an ED visit, an unplanned ward or ICU admission, or a planned stay prolonged by toxicity, starting "
             "within 28 days of the first dose (DeLLphi-300 Part F: hospitalisation including ER visits in cycle 1)"),
    Kpi("ed_visits", "ED visits", "visits", "count", help="toxicity onsets at home assessed in the ED"),
    Kpi("urgent_care_visits", "Urgent-care visits", "visits", "count",
        help="toxicity onsets at home assessed in the oncology urgent-care centre"),
    Kpi("clinic_visits", "Follow-up clinic visits", "visits", "count",
        help="planned visits after the first dose (strategy.follow_up_visit_days) attended in a clinic room"),
    Kpi("toxicity_managed_at_home", "Toxicities managed at home", "onsets", "count",
        help="onsets at home managed by phone and oral dexamethasone, with no visit"),
    Kpi("unplanned_ward_admissions", "Unplanned ward admissions", "admissions", "count"),
    Kpi("icu_admissions", "ICU admissions", "admissions", "count"),
    Kpi("icu_bed_days", "ICU bed-days", "bed-days", "number"),
    Kpi("stays_prolonged_by_toxicity", "Planned stays prolonged by toxicity", "stays", "count",
        help="planned ward stays that ended later than planned because of CRS or ICANS during the stay"),
    Kpi("prolonged_stay_bed_hours", "Bed-hours added to planned stays by toxicity", "hours (total)", "hours"),
    Kpi("icu_boarding_hours", "Hours waiting for an ICU bed", "hours (total)", "hours",
        help="time patients boarded in the ED or a ward while the ICU was full"),
    Kpi("other_admissions", "Admissions from other services", "admissions", "count",
        help="admissions of other services' patients ([[other_admissions]], e.g. CAR-T) into the same beds", centre=True),
    Kpi("other_bed_days", "Bed-days of other services", "bed-days", "number",
        help="beds other services' patients occupy; in util_ and peak_ of the bed, not in this programme's bed-days "
             "or costs", centre=True),
    Kpi("other_wait_hours_mean", "Other services' wait for a bed", "hours (mean)", "hours",
        help="mean hours an admission from another service waited for its bed", centre=True),
    Kpi("ward_bed_days", "Ward bed-days", "bed-days", "number"),
    Kpi("observation_bed_days", "Observation bed-days", "bed-days", "number"),
    Kpi("chair_hours", "Infusion-chair hours", "chair-hours", "number"),
    Kpi("toci_doses", "Tocilizumab doses", "doses", "count", help="treatment and prophylaxis doses"),
    Kpi("toci_mg", "Tocilizumab for BTCE patients", "mg", "number",
        help="mg prescribed to this service's patients (treatment and prophylaxis; vial waste not included)"),
    Kpi("toci_mg_used", "Tocilizumab dispensed, all services", "mg", "number",
        help="mg dispensed from the shared stock, background demand included", centre=True),
    Kpi("toci_vials_used_80", "Vials used: 80 mg", "vials", "count", centre=True),
    Kpi("toci_vials_used_200", "Vials used: 200 mg", "vials", "count", centre=True),
    Kpi("toci_vials_used_400", "Vials used: 400 mg", "vials", "count", centre=True),
    Kpi("toci_vials_expired", "Vials expired", "vials", "count", centre=True),
    Kpi("toci_mg_wasted", "Discarded from opened vials", "mg", "number", centre=True),
    Kpi("toci_stockout_events", "Stock-out events", "events", "count",
        help="requests for a dose that the stock on hand could not cover", centre=True),
    Kpi("toci_doses_delayed", "Patient doses delayed by a stock-out", "doses", "count", centre=True),
    Kpi("toci_delay_hours_mean", "Mean delay of a delayed dose", "hours", "hours", centre=True),
    Kpi("toci_on_hand_mean_mg", "Mean stock on hand", "mg", "number", centre=True),
    Kpi("toci_orders", "Orders placed", "orders", "count", centre=True),
    Kpi("toci_cost", "Tocilizumab cost", "{currency}", "money", help="vials opened or expired, with emergency surcharges"),
    Kpi("p_stockout", "Chance of a stock-out", "% of replications", "share", proportion=True,
        help="share of simulated years with at least one stock-out (Wilson 95% CI)", centre=True),
    Kpi("doses_held_for_stock", "Step-up doses held for want of stock", "doses", "count"),
    Kpi("cost_ward", "Cost: ward beds", "{currency}", "money", help="ward bed-days x costs.ward_day"),
    Kpi("cost_observation", "Cost: observation beds", "{currency}", "money",
        help="observation bed-days x costs.observation_day"),
    Kpi("cost_icu", "Cost: ICU beds", "{currency}", "money", help="ICU bed-days x costs.icu_day"),
    Kpi("cost_ed", "Cost: ED visits", "{currency}", "money", help="ED visits x costs.ed_visit"),
    Kpi("cost_urgent_care", "Cost: urgent-care visits", "{currency}", "money",
        help="urgent-care visits x costs.urgent_care_visit"),
    Kpi("cost_clinic", "Cost: follow-up clinic visits", "{currency}", "money",
        help="clinic visits x costs.clinic_visit"),
    Kpi("cost_chair", "Cost: infusion chairs", "{currency}", "money",
        help="chair-hours x costs.chair_hour (an operating cost: nursing time and overhead)"),
    Kpi("cost_tocilizumab", "Cost: tocilizumab", "{currency}", "money", help="the same as toci_cost"),
    Kpi("cost_total", "Total cost", "{currency}", "money", help="the sum of the cost_ breakdown above"),
    Kpi("cost_per_patient_started", "Cost per patient started", "{currency} per patient", "money"),
    Kpi("chair_opportunity_cost", "Chair revenue forgone", "{currency}", "money",
        help="chair-hours x costs.chair_opportunity_hour; not part of cost_total"),
)
# The parts of cost_total, in the order they are summed (sim.metrics.kpis).
COST_BREAKDOWN: tuple[str, ...] = ("cost_ward", "cost_observation", "cost_icu", "cost_ed", "cost_urgent_care",
                                   "cost_clinic", "cost_chair", "cost_tocilizumab")
_BASE_BY_NAME = {k.name: k for k in _BASE_KPIS}

# Hospital use counted again by the grade (1-4) of the toxicity (CRS or ICANS) that caused it.
GRADED_KPIS = ("ed_visits", "unplanned_ward_admissions", "icu_admissions")
TOXICITY_GRADES = (1, 2, 3, 4)


def _graded(base: Kpi, grade: int) -> Kpi:
    return Kpi(f"{base.name}_grade{grade}", f"{base.label} after grade {grade} toxicity", base.unit, "count")


HOURS_AVAILABLE = {"opening": "opening hours", "all": "all hours", "own": "its own opening hours"}


def _per_resource(r: Resource) -> tuple[Kpi, Kpi, Kpi]:
    """Utilisation, peak occupancy and mean wait of one resource."""
    available = HOURS_AVAILABLE[r.hours]
    return (Kpi(f"util_{r.name}", f"Utilisation: {r.label}", f"% of {available}", "share",
                help=f"time occupied over time available ({available})"),
            Kpi(f"peak_{r.name}", f"Peak occupancy: {r.label}", "places", "count",
                help="highest number in use at any instant"),
            Kpi(f"wait_{r.name}_hours_mean", f"Mean wait for {r.label}", "hours", "hours",
                help="mean wait of a request for a place"))


# Column order of kpis.csv (after "replication"): changing it changes every saved file.
KPIS: tuple[Kpi, ...] = (
    _BASE_KPIS
    + tuple(_graded(_BASE_BY_NAME[b], g) for b in GRADED_KPIS for g in TOXICITY_GRADES)
    + tuple(k for family in zip(*map(_per_resource, RESOURCES)) for k in family)   # all util_, all peak_, all wait_
)
KPI_NAMES: tuple[str, ...] = tuple(k.name for k in KPIS)
PROPORTION_KPIS: tuple[str, ...] = tuple(k.name for k in KPIS if k.proportion)
# The columns of kpis_by_programme.csv: each programme's own patients and its share of the places.
PROGRAMME_KPI_NAMES: tuple[str, ...] = tuple(k.name for k in KPIS if not k.centre)
_KPI_BY_NAME = {k.name: k for k in KPIS}


def kpi(name: str) -> Kpi:
    """The KPI called ``name``; ValueError naming the allowed ones otherwise."""
    try:
        return _KPI_BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown KPI {name!r}; allowed: {', '.join(KPI_NAMES)}") from None
