"""Shareable links (dashboard.links): the edits a session made survive the trip through a URL, and a bad
link loads what it can and names what it could not, with what is allowed."""

from __future__ import annotations

import urllib.parse

import pytest

import sim
from dashboard import fields, links

PRESETS = sim.presets()
REF = "tarlatamab_outpatient"


@pytest.fixture(scope="module")
def base() -> dict:
    return sim.load(REF).model_dump()


EDITS = {
    "capacity.observation_beds": 5,                   # int
    "drug.crs.rate": 0.45,                            # sourced number
    "demand.patients_per_week": 200 / 52,             # a float needing every digit
    "pharmacy.emergency_surcharge": 0.00001,          # tiny: never written as 1e-05
    "calendar.open_weekdays": [0, 1, 2, 3],           # weekdays
    "calendar.holidays": [0, 358, 359],               # list of whole numbers
    "drug.crs.grade_mix": [0.7, 0.25, 0.04, 0.01],    # sourced vector
    "run.warm_start": False,                          # bool
    "strategy.monitoring.0.place": "observation",     # choice
    "strategy.monitoring.0.hours": 30.0,              # optional number, set
    "strategy.monitoring.0.after_toxicity": True,     # optional bool
    "description": "A & B: 50% more, #2?",          # text with characters URLs escape
}


def reopen(query: dict[str, str], base: dict) -> tuple[str, dict, list[str]]:
    """What a new session makes of a link: the query string a browser sends, parsed back."""
    sent = dict(urllib.parse.parse_qsl(urllib.parse.urlencode(query), keep_blank_values=True))
    preset, texts, problems = links.split(sent, PRESETS, REF)
    overrides, more = links.overrides_from(texts, base)
    return preset, overrides, problems + more


def test_every_kind_of_edit_survives_a_link(base):
    query = links.encode("tarlatamab_inpatient", EDITS, base)
    assert list(query)[0] == "preset" and query["preset"] == "tarlatamab_inpatient"
    preset, overrides, problems = reopen(query, base)
    assert preset == "tarlatamab_inpatient" and problems == []
    assert overrides == EDITS
    # and the scenario they make is the one the session had
    assert fields.validate(base, overrides)[0] == fields.validate(base, EDITS)[0]


def test_link_text_has_no_scientific_notation_and_leaves_out_unchanged_fields(base):
    query = links.encode(REF, {**EDITS, "capacity.chairs": base["capacity"]["chairs"],
                               "drug.icans.rate": base["drug"]["icans"]["rate"]["value"]}, base)
    assert query["pharmacy.emergency_surcharge"] == "0.00001"
    assert query["demand.patients_per_week"] == repr(200 / 52)
    assert query["calendar.open_weekdays"] == "0,1,2,3" and query["run.warm_start"] == "false"
    assert "capacity.chairs" not in query and "drug.icans.rate" not in query


def test_an_uploaded_scenario_makes_no_link():
    assert links.encode(None, {"capacity.chairs": 8}) == {}


def test_an_optional_field_set_back_to_empty_reads_as_not_set(base):
    edits = {"strategy.monitoring.0.min_required_hours": None, "strategy.monitoring.0.eligible": None}
    _preset, overrides, problems = reopen(links.encode(REF, edits, base), base)
    assert overrides == edits and problems == []


def test_an_unknown_preset_loads_the_reference_and_says_what_is_allowed(base):
    preset, overrides, problems = reopen({"preset": "tarlatamab_nowhere", "capacity.chairs": "8"}, base)
    assert preset == REF and overrides == {"capacity.chairs": 8}
    (line,) = problems
    assert line.startswith("preset = 'tarlatamab_nowhere': no such preset, so tarlatamab_outpatient was loaded; "
                           "allowed: ") and "tarlatamab_inpatient" in line


def test_no_preset_means_the_reference_and_streamlit_keys_are_not_fields():
    preset, texts, problems = links.split({"embed": "true", "capacity.chairs": ["7", "8"]}, PRESETS, REF)
    assert (preset, texts, problems) == (REF, {"capacity.chairs": "8"}, [])   # a repeated key: the last


@pytest.mark.parametrize(("key", "text", "message"), [
    ("capacity.nurses", "3", ("capacity.nurses = '3': not a field of this scenario; allowed: preset and the dotted "
                              "names of the fields in the sidebar, e.g. capacity.observation_beds")),
    ("capacity.observation_beds", "five", "capacity.observation_beds = 'five': allowed: a whole number"),
    ("capacity.observation_beds", "__import__('os').getcwd()",
     "capacity.observation_beds = \"__import__('os').getcwd()\": allowed: a whole number"),
    ("drug.crs.rate", "nan", "drug.crs.rate = 'nan': allowed: a finite number"),
    ("run.warm_start", "maybe", "run.warm_start = 'maybe': allowed: true or false"),
    ("strategy.monitoring.0.place", "hotel", "strategy.monitoring.0.place = 'hotel': allowed: "),
    ("calendar.open_weekdays", "0,9", "calendar.open_weekdays = '0,9': allowed: day numbers 0 (Monday) to 6"),
    ("calendar.holidays", "1,x", "calendar.holidays = '1,x': '1,x' is not a list of whole numbers"),
])
def test_a_bad_parameter_is_left_out_in_one_line_and_the_rest_loads(base, key, text, message):
    _preset, overrides, problems = reopen({"preset": REF, key: text, "capacity.observation_beds": "6"}
                                          if key != "capacity.observation_beds" else
                                          {"preset": REF, key: text, "capacity.chairs": "8"}, base)
    assert overrides in ({"capacity.observation_beds": 6}, {"capacity.chairs": 8})
    (line,) = problems
    assert line.startswith(message) and "\n" not in line


def test_an_edit_the_scenario_refuses_is_left_out_with_the_scenario_s_own_reason(base):
    _preset, overrides, problems = reopen({"preset": REF, "capacity.chairs": "0", "drug.crs.rate": "1.5",
                                           "capacity.observation_beds": "5"}, base)
    assert overrides == {"capacity.observation_beds": 5}
    assert len(problems) == 2
    assert any(p.startswith("capacity.chairs = 0") and "allowed: at least 1" in p for p in problems), problems
    assert any(p.startswith("drug.crs.rate") and "allowed" in p for p in problems), problems
