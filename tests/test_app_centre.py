"""A whole centre in the dashboard (issue 15, items 4-5), through Streamlit's AppTest: a centre's sidebar
edits each programme's demand, programmes are added from the drug library and removed, and the Centre
page shows each programme's service level and who uses the beds."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import fields, links
from tests.test_app import APP, new_app, run, shorten  # shorten: Run settings is a centre's shared section too

CENTRE = "centre_myeloma"


def pick(at, preset: str) -> None:
    at.sidebar.selectbox(key="preset").set_value(preset).run()
    assert not at.exception, at.exception


def programme_section(at, name: str) -> None:
    at.sidebar.selectbox(key="section").set_value(fields.PROGRAMME + name).run()


def per_year_box(at, name: str):
    return at.sidebar.number_input(key=f"w{at.session_state['gen']}:programmes.{name}.demand.patients_per_week")


def add_programme(at, preset: str, name: str = "", per_year: float | None = None) -> None:
    at.sidebar.selectbox(key="add_preset").set_value(preset)
    at.sidebar.text_input(key="add_name").input(name)
    if per_year is not None:
        at.sidebar.number_input(key="add_per_year").set_value(per_year)
    at.sidebar.button(key="add_programme").click().run()
    assert not at.exception, at.exception


def current(at):
    return fields.validate(fields.with_programmes(at.session_state["base_dump"],
                                                  at.session_state["programme_edits"]["added"],
                                                  at.session_state["programme_edits"]["removed"]),
                           at.session_state["overrides"])


@pytest.fixture(scope="module")
def centre_run():
    at = new_app()
    pick(at, CENTRE)
    shorten(at)
    programme_section(at, "talquetamab")
    per_year_box(at, "talquetamab").set_value(52.0).run()
    run(at)
    at.radio(key="page").set_value("Centre").run()
    assert not at.exception, at.exception
    return at


def test_a_centre_sidebar_edits_each_programme_and_shares_the_rest():
    at = new_app()
    pick(at, CENTRE)
    options = at.sidebar.selectbox(key="section").options
    # the per-drug sections are per programme; the shared ones stay
    assert "Demand" not in options and "Strategy" not in options and not any(o.startswith("Drug") for o in options)
    assert {"Run settings", "Calendar", "Capacity", "Costs"} <= set(options)
    assert [o for o in options if o.startswith(fields.PROGRAMME)] == [
        fields.PROGRAMME + n for n in ("teclistamab", "talquetamab", "elranatamab")]
    programme_section(at, "elranatamab")
    box = per_year_box(at, "elranatamab")
    assert box.value == pytest.approx(fields.per_year(0.135))
    box.set_value(26.0).run()
    scenario, errors = current(at)
    assert not errors and scenario.programmes["elranatamab"].demand.patients_per_week == pytest.approx(0.5)
    # the other programmes keep theirs, and the top-level copy is still the first programme's
    assert scenario.programmes["teclistamab"].demand.patients_per_week == pytest.approx(1.25)
    assert scenario.demand == scenario.programmes["teclistamab"].demand
    # the Calendar section does not offer the centre's start weekdays: each programme has its own
    at.sidebar.selectbox(key="section").set_value("Calendar").run()
    gen = at.session_state["gen"]
    keys = {w.key for w in at.sidebar.multiselect}
    assert f"w{gen}:calendar.open_weekdays" in keys and f"w{gen}:calendar.start_weekdays" not in keys


def test_a_bad_programme_edit_is_named_beside_its_widget():
    at = new_app()
    pick(at, CENTRE)
    programme_section(at, "teclistamab")
    at.sidebar.multiselect(key=f"w{at.session_state['gen']}:programmes.teclistamab.start_weekdays").set_value([]).run()
    assert not at.exception, at.exception
    messages = [e.value for e in at.sidebar.error]
    assert any("start_weekdays" in m or "at least 1" in m for m in messages), messages
    assert any(f"**{fields.PROGRAMME}teclistamab**" in m for m in messages), messages
    assert at.sidebar.button(key="run").disabled


def test_the_centre_page_shows_each_programmes_service_level(centre_run):
    at = centre_run
    (table,) = list(at.main.table)
    rows = table.value
    assert list(rows.index) == ["teclistamab", "talquetamab", "elranatamab"]
    assert {"Patients started", "Doses given", "Doses postponed", "ED visits", "Doses postponed, 95% CI"} <= set(rows.columns)
    # talquetamab's demand was raised to 52 a year: more of its patients start than elranatamab's 7 a year
    started = {n: float(rows.loc[n, "Patients started"].replace(",", "")) for n in rows.index}
    assert started["talquetamab"] > started["elranatamab"] > 0
    assert len(at.main.selectbox(key="centre_resource").options) >= 2
    # the run's header names each programme's strategy, not the first one's as the centre's
    header = [c.value for c in at.main.caption if "replications · seed" in c.value]
    assert header and "programmes teclistamab (*inpatient_single_admission*), talquetamab (*inpatient*), " \
        "elranatamab (*inpatient*)" in header[0], header


def test_programmes_are_added_from_the_drug_library_and_removed():
    at = new_app()
    pick(at, CENTRE)
    add_programme(at, "teclistamab_outpatient", "tec_outpatient", per_year=30.0)
    scenario, errors = current(at)
    assert not errors, errors
    assert list(scenario.programmes) == ["teclistamab", "talquetamab", "elranatamab", "tec_outpatient"]
    assert scenario.programmes["tec_outpatient"].demand.patients_per_week == pytest.approx(fields.per_week(30.0))
    assert at.sidebar.selectbox(key="section").value == fields.PROGRAMME + "tec_outpatient"
    # a name already taken is refused with a message, and nothing changes
    add_programme(at, "elranatamab_outpatient", "talquetamab")
    assert any("already a programme" in e.value for e in at.sidebar.error)
    assert len(current(at)[0].programmes) == 4
    # the link carries the added programme and its demand, and reopens the same scenario
    query = dict(at.query_params)
    assert query[links.ADD + "tec_outpatient"] in ("teclistamab_outpatient", ["teclistamab_outpatient"])
    opened = AppTest.from_file(APP, default_timeout=120)
    for key, value in query.items():
        opened.query_params[key] = value
    opened.run()
    assert not opened.exception, opened.exception
    assert current(opened)[0] == current(at)[0]
    at.sidebar.button(key="remove_programme:talquetamab").click().run()
    at.sidebar.button(key="remove_programme:tec_outpatient").click().run()
    assert not at.exception, at.exception
    scenario, errors = current(at)
    assert not errors and list(scenario.programmes) == ["teclistamab", "elranatamab"]
    assert not any(p.startswith("programmes.tec_outpatient.") for p in at.session_state["overrides"])


def test_a_single_drug_scenario_becomes_a_centre_by_adding_a_programme():
    at = new_app()
    assert "Programme: " not in " ".join(at.sidebar.selectbox(key="section").options)
    at.radio(key="page").set_value("Centre").run()
    assert any("single-drug scenario" in i.value for i in at.main.info)
    # an edit of the drug's demand follows it into its programme
    at.sidebar.selectbox(key="section").set_value("Demand").run()
    at.sidebar.number_input(key=f"w{at.session_state['gen']}:demand.patients_per_week").set_value(104.0).run()
    first = fields.first_programme_name(at.session_state["base_dump"])
    add_programme(at, "teclistamab_outpatient", "tec")
    scenario, errors = current(at)
    assert not errors, errors
    assert list(scenario.programmes) == [first, "tec"]
    assert scenario.programmes[first].demand.patients_per_week == pytest.approx(2.0)
    # removing it again gives back the single-drug scenario with its edit
    at.sidebar.button(key="remove_programme:tec").click().run()
    scenario, errors = current(at)
    assert not errors and not scenario.programmes and scenario.demand.patients_per_week == pytest.approx(2.0)


def test_an_added_programme_is_the_one_scenario_equals_preset_builds():
    """"Add programme" takes what the loader takes from ``scenario = "<preset>"``: the same programme."""
    import sim
    from sim.config import loader

    text = (loader.SCENARIO_DIR / f"{CENTRE}.toml").read_text(encoding="utf-8")
    by_loader = sim.loads(text + '\n[programmes.tec_out]\nscenario = "teclistamab_outpatient.toml"\n')
    added, errors = fields.validate(fields.with_programmes(fields.dump(sim.load(CENTRE)),
                                                           {"tec_out": "teclistamab_outpatient"}, []), {})
    assert not errors, errors
    assert added == by_loader


def test_a_centre_s_sidebar_edits_give_the_scenario_sim_vary_gives():
    """The sidebar validates a centre's edits as ``sim.vary`` does: the first programme's changed drug is
    also the top-level copy, and a shared field is the centre's."""
    import sim

    base = sim.load(CENTRE)
    changes = {"programmes.teclistamab.drug.crs.rate": 0.5, "programmes.talquetamab.demand.patients_per_week": 1.0,
               "programmes.elranatamab.start_weekdays": [1, 3], "capacity.ward_beds": 5}
    edited, errors = fields.validate(fields.dump(base), changes)
    assert not errors, errors
    varied = sim.vary(base, changes)
    assert edited == varied
    assert edited.drug.crs.rate.value == 0.5 and edited.drug.crs.rate.verified is False


def test_a_link_s_bad_programme_is_left_out_with_what_is_allowed():
    import sim

    texts = {"add_programme.tec": CENTRE, "add_programme.9x": "teclistamab_outpatient",
             "add_programme.ok": "teclistamab_outpatient", "remove_programmes": "elranatamab",
             "capacity.ward_beds": "5"}
    edits, problems = links.programmes_from(texts, sim.presets())
    assert edits == {"added": {"ok": "teclistamab_outpatient"}, "removed": ["elranatamab"]}
    assert texts == {"capacity.ward_beds": "5"}   # the programmes' parameters are taken out, the fields stay
    assert len(problems) == 2
    assert any("add_programme.tec = 'centre_myeloma': allowed: a single-drug preset" in p for p in problems), problems
    assert any("'9x'" in p and "starting with a letter" in p for p in problems), problems
