"""The offline HTML report (sim/report.py): complete, self-contained, escaped, and honest about charts."""

from __future__ import annotations

import json
import re

import pytest

from sim import __version__, charts
from sim.analysis import runner
from sim.analysis import views as run_views
from sim.analysis.compare import compare, judge
from sim.charts import report
from sim.metrics import series
from tests.conftest import load

FAST = ("run.warmup_weeks=4", "run.horizon_weeks=8", "run.follow_up_weeks=2")


@pytest.fixture(scope="module")
def views():
    a = load("tarlatamab_outpatient.toml", *FAST)
    b = load("tarlatamab_inpatient.toml", *FAST)
    va = run_views.view_from_result(runner.run(a, 3, executor="serial", extract=series.collect), 0.5)
    vb = run_views.view_from_result(runner.run(b, 3, seed=a.run.seed, executor="serial", extract=series.collect), 0.5)
    return va, vb


@pytest.fixture(scope="module")
def html(views):
    va, _ = views
    return report.run_report(va)


def _no_network(doc: str) -> None:
    # nothing may be loaded from elsewhere: no src/href to a URL, no CSS import, no fetch of a spec
    assert not re.search(r"""<(script|link|img|iframe)[^>]+(src|href)\s*=\s*["']?(https?:)?//""", doc, re.I)
    assert not re.search(r"@import|url\(\s*['\"]?(https?:)?//", doc, re.I)
    assert doc.count("<script") == doc.count("</script>")


def _specs(doc: str) -> list[dict]:
    return [json.loads(m.replace("<\\/", "</")) for m in re.findall(r"vegaEmbed\('#chart\d+', (\{.*?\}), \{actions", doc)]


def test_run_report_holds_inputs_results_version_and_seed(html, views):
    va, _ = views
    s = va.scenario
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert f"btce-sim {__version__}" in html and f"seed {va.seed}" in html and f"{va.reps} replications" in html
    assert s.name in html and s.description in html
    for label in ("Doses postponed (no place)", "Ward bed-days", "Tocilizumab for BTCE patients"):
        assert label in html
    assert "Assumptions" in html and "How to cite" in html
    assert f"python -m sim run scenario.toml --reps {va.reps} --seed {va.seed}" in html
    # the scenario TOML is embedded (escaped) and is the one that was run
    assert "[capacity]" in html and f"horizon_weeks = {s.run.horizon_weeks}" in html


def test_run_report_flags_every_unverified_value(html, views):
    s = views[0].scenario
    table = report.sourced_table(s)
    n = int(table["unverified"].sum())
    assert n > 0
    assert f"{n} unverified" in html
    assert html.count('<tr class="unverified">') == n


def test_run_report_loads_nothing_from_the_network(html):
    _no_network(html)


def test_charts_are_inlined_vega_lite_when_vl_convert_is_installed(html, views):
    pytest.importorskip("vl_convert")
    assert report.chart_mode() == "vega"
    assert "window.vegaEmbed" in html   # the vega-embed bundle itself, not a link to it
    specs = _specs(html)
    assert len(specs) == len(report.run_figures(views[0]))
    assert all("vega-lite" in s["$schema"] and s["autosize"] == {"type": "pad"} for s in specs)


def test_without_vl_convert_charts_become_data_tables(views, monkeypatch):
    monkeypatch.setattr(report, "chart_mode", lambda: "tables")
    doc = report.run_report(views[0])
    assert "<script" not in doc
    assert doc.count("Chart not embedded") == len(report.run_figures(views[0]))
    assert "charts: data tables" in doc
    _no_network(doc)


def test_user_text_is_escaped(views):
    evil = '</script><script>alert("x")</script>'
    va = views[0]
    s = va.scenario.model_copy(update={"name": evil, "description": "<b>bold</b>"})
    doc = report.run_report(run_views.RunView(**{**va.__dict__, "scenario": s}))
    assert evil not in doc and "<b>bold</b>" not in doc
    assert "&lt;/script&gt;" in doc
    _no_network(doc)


def test_comparison_report_shows_the_paired_differences(views):
    va, vb = views
    runs = {va.scenario.name: va, vb.scenario.name: vb}
    judged = judge(compare({n: v.kpis for n, v in runs.items()}, kpis=list(charts.COMPARE_KPIS)), va.scenario.name)
    doc = report.comparison_report(runs, va.scenario.name, judged)
    assert f"{vb.scenario.name} against {va.scenario.name}" in doc
    assert "common random numbers" in doc and f"seed {va.seed}" in doc
    for kpi in judged["kpi"]:
        assert charts.kpi_info(kpi).label in doc
    assert doc.count("CI excludes 0") >= 1 and "planning convention" in doc
    _no_network(doc)
    if report.chart_mode() == "vega":
        (spec,) = _specs(doc)
        assert spec["facet"]["row"]["field"] == "row"


def test_citation_names_version_scenario_seed_and_replications(views):
    va = views[0]
    text = report.citation(va.scenario, va.seed, va.reps)
    assert __version__ in text and va.scenario.name in text and str(va.seed) in text and f"{va.reps} replications" in text


def test_a_centres_report_tables_name_every_programme():
    """A centre's top-level drug and strategy are only its first programme's: the report's inputs and
    strategy tables list each programme's own."""
    import sim
    from sim.charts.report import inputs_table, strategy_table

    centre = sim.load("centre_myeloma")
    rules = strategy_table(centre)
    assert list(dict.fromkeys(rules["programme"])) == list(centre.programmes)
    inputs = dict(zip(inputs_table(centre)["input"], inputs_table(centre)["value"]))
    for name, programme in centre.programmes.items():
        assert inputs[f"{name}: Strategy"].startswith(programme.strategy.name)
        assert inputs[f"{name}: Drug"].startswith(programme.drug.name)
    assert "programme" not in strategy_table(sim.load("tarlatamab_outpatient")).columns
