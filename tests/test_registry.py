"""The registry is the one declaration of resources and KPIs: the schema, the model, the KPI row, the
dashboard and the README glossary must agree with it, so adding a resource or a KPI there and nowhere
else fails here, naming what is missing."""

from __future__ import annotations

import re
import tomllib

import pytest

from dashboard import fields
from sim import cohort, metrics, model
from sim.config import loader, registry
from sim.config.registry import PLACE_RESOURCE
from sim.config.scenario import Capacity, Costs
from tests.conftest import REFERENCE, ROOT, SCENARIOS, SHORT


@pytest.fixture(scope="module")
def run():
    """One short replication of the reference scenario: its scenario, model, run log and KPI row."""
    s = loader.load(REFERENCE, SHORT)
    m = model.Model(s, cohort.draw(s, 0))
    log = m.run()
    return s, m, log, metrics.summarise(log, s)


# --------------------------------------------------------------------------- KPIs

def test_a_kpi_row_has_exactly_the_registry_columns_in_order(run):
    row = run[3]
    assert list(row) == ["replication", *registry.KPI_NAMES]
    assert metrics.KPI_COLUMNS == ("replication", *registry.KPI_NAMES)
    assert len(set(registry.KPI_NAMES)) == len(registry.KPI_NAMES)


def test_proportion_kpis_are_zero_or_one_per_replication(run):
    row = run[3]
    assert registry.PROPORTION_KPIS == ("p_stockout",)
    for name in registry.PROPORTION_KPIS:
        assert registry.kpi(name).kind == "share" and row[name] in (0.0, 1.0), name


def test_every_kpi_is_described_and_its_kind_is_one_the_charts_format():
    for k in registry.KPIS:
        assert k.label and k.unit, k.name
        assert k.kind in registry.KPI_KINDS, (k.name, k.kind)
    # the per-resource and per-grade families follow their resource and base KPI
    for r in registry.RESOURCES:
        assert registry.kpi(f"util_{r.name}").unit == f"% of {registry.HOURS_AVAILABLE[r.hours]}"
        assert r.label in registry.kpi(f"wait_{r.name}_hours_mean").label
    for base in registry.GRADED_KPIS:
        for g in registry.TOXICITY_GRADES:
            assert registry.kpi(f"{base}_grade{g}").unit == registry.kpi(base).unit


def test_an_unknown_name_is_refused_with_what_is_allowed():
    with pytest.raises(ValueError, match=r"unknown KPI 'nope'; allowed: patients_referred, .*wait_clinic_rooms_hours_mean$"):
        registry.kpi("nope")
    with pytest.raises(ValueError, match=r"unknown resource 'beds'; allowed: chairs, observation_beds, ward_beds"):
        registry.resource("beds")


def _glossary_names(readme: str) -> tuple[list[str], list[str]]:
    """KPI names of the README's KPI glossary table, with its documented patterns expanded:
    ``a_80/200/400`` (alternatives for the last part), ``_gradeG`` (G = 1-4) and ``R`` (a resource)."""
    section = readme.split("## KPI glossary", 1)[1].split("\n## ", 1)[0]
    resources = re.search(r"R is one of (.*)\.", section)
    assert resources, "the glossary no longer says which resources R stands for"
    r_names = re.findall(r"`(\w+)`", resources.group(1))
    names = []
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        for token in re.findall(r"`([\w/]+)`", line.split("|")[1]):
            first, *others = token.split("/")
            stem = first.rsplit("_", 1)[0]
            for name in [first, *(f"{stem}_{o}" for o in others)]:
                if name.endswith("_gradeG"):
                    names += [name[:-1] + str(g) for g in registry.TOXICITY_GRADES]
                elif re.search(r"(^|_)R(_|$)", name):
                    names += [re.sub(r"(^|_)R(_|$)", rf"\g<1>{r}\g<2>", name) for r in r_names]
                else:
                    names.append(name)
    return names, r_names


def test_the_readme_glossary_names_exactly_the_registry_kpis():
    names, r_names = _glossary_names((ROOT / "README.md").read_text(encoding="utf-8"))
    assert r_names == list(registry.RESOURCE_NAMES)
    assert len(names) == len(set(names)), "a KPI is documented twice"
    assert not set(registry.KPI_NAMES) - set(names), "README KPI glossary lacks these"
    assert not set(names) - set(registry.KPI_NAMES), "README KPI glossary names KPIs that do not exist"


def test_the_glossary_check_understands_the_patterns():
    text = ("## KPI glossary\n\n| KPI | meaning |\n|---|---|\n| `a_x/y`, `b` | ... |\n| `c_gradeG` | ... |\n"
            "| `util_R` | ... |\n\nR is one of `chairs`, `icu_beds`.\n\n## Next\n| `ignored` | x |\n")
    names, r_names = _glossary_names(text)
    assert r_names == ["chairs", "icu_beds"]
    assert names == ["a_x", "a_y", "b", "c_grade1", "c_grade2", "c_grade3", "c_grade4", "util_chairs", "util_icu_beds"]


# --------------------------------------------------------------------------- resources

def test_every_resource_is_a_capacity_field_and_a_pool_and_nothing_else_is(run):
    _, m, log, _ = run
    names = set(registry.RESOURCE_NAMES)
    assert set(Capacity.model_fields) == names
    base = tomllib.loads((SCENARIOS / "base.toml").read_text(encoding="utf-8"))
    assert list(base["capacity"]) == list(registry.RESOURCE_NAMES)
    assert set(m.pools) == names and set(log.pools) == names and set(log.capacity) == names


def test_booked_resources_are_the_places_doses_and_follow_up_visits_are_booked_on(run):
    m = run[1]
    booked = {r.name for r in registry.RESOURCES if r.booked}
    assert set(m.ledgers) == booked
    assert set(PLACE_RESOURCE.values()) | {"clinic_rooms"} == booked   # clinic rooms: follow-up visits


# Resources the reference scenario leaves unused, and the settings that use them.
USED_ONLY_WITH = {"clinic_rooms": ["strategy.follow_up_visit_days=[2, 3, 5]"]}


@pytest.mark.parametrize("res", [r for r in registry.RESOURCES if r.cost_field], ids=lambda r: r.name)
def test_a_priced_resource_costs_its_price_per_unit_of_use(run, res):
    """Raising the price of ``cost_field`` by 1 raises the total cost by the resource's use (``use_kpi``,
    counted in what the price is per: bed-days, chair-hours, visits)."""
    assert res.cost_field in Costs.model_fields
    assert registry.kpi(res.use_kpi).unit == f"{res.cost_per}s"
    s, _, log, row = run
    extra = USED_ONLY_WITH.get(res.name, [])
    if extra:   # the reference scenario does not use it: a run that does
        s = loader.load(REFERENCE, [*SHORT, *extra])
        log = model.Model(s, cohort.draw(s, 0)).run()
        row = metrics.summarise(log, s)
    price = getattr(s.costs, res.cost_field).value
    dearer = metrics.summarise(log, loader.load(REFERENCE, [*SHORT, *extra, f"costs.{res.cost_field}={price + 1}"]))
    assert row[res.use_kpi] > 0
    assert dearer["cost_total"] - row["cost_total"] == pytest.approx(row[res.use_kpi], rel=1e-9)


def test_resources_are_told_apart_in_charts_and_text():
    for attr in ("name", "label", "title", "colour", "cost_field", "use_kpi"):
        values = [getattr(r, attr) for r in registry.RESOURCES if getattr(r, attr) is not None]
        assert len(set(values)) == len(values), f"two resources share a {attr}"
    for r in registry.RESOURCES:
        assert re.fullmatch(r"#[0-9A-Fa-f]{6}", r.colour), r.colour
        assert r.hours in registry.HOURS_AVAILABLE and r.kind in ("chair", "bed", "bay", "room")
    assert registry.resource("icu_beds").label == "ICU beds"


def test_the_dashboard_shows_capacity_and_cost_units_from_the_registry(reference):
    dump = reference.model_dump()
    specs = {f.path: f for section in ("Capacity", "Costs")
             for g in fields.scenario_groups(dump, section, "EUR") for f in g.fields}
    for r in registry.RESOURCES:
        assert specs[f"capacity.{r.name}"].unit == r.unit
        if r.cost_field:
            assert specs[f"costs.{r.cost_field}"].unit == f"EUR per {r.cost_per}"
