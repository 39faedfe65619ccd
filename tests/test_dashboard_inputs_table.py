"""The inputs table (the dashboard before a run, and the HTML report) gives referrals per year, as the
sidebar does, with the scenario's weekly figure in brackets (issue 16: "say 200 a year")."""

from __future__ import annotations

from dashboard import fields
from sim.charts import report
from tests.conftest import load


def test_referrals_read_per_year_like_the_sidebar():
    scenario = load("tarlatamab_outpatient.toml")
    table = report.inputs_table(scenario).set_index("input")["value"]
    assert table["Referrals"] == "200 patients a year (3.85 a week)"
    assert fields.per_year(scenario.demand.patients_per_week) == 200.0
    assert not any("per week" in row for row in table.index)
