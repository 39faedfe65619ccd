"""Issue 16, the quality team's comparison: two to six strategies on the same seeds against a base, a
forest plot with every strategy, and two verdicts per difference: distinguishable (its CI excludes 0) and
matters (its whole CI lies beyond a minimum difference that matters, defaults in sim/config/matters.toml)."""

from __future__ import annotations

import io
import re

import pandas as pd
import pandas.testing as pdt
import pytest

import sim
from sim import charts
from sim.analysis.compare import compare, judge, matters_verdict
from sim.charts.compare import STRATEGY_COLORS
from sim.config import matters, registry
from sim.config.matters import Threshold
from tests.test_app import new_app

SCIENTIFIC = re.compile(r"\d[eE][+-]?\d")
TRIO = ("tarlatamab_inpatient", "tarlatamab_outpatient", "tarlatamab_prophylactic_toci")


# --------------------------------------------------------------------------- the "matters" defaults

def test_every_kpi_has_a_default_threshold_held_as_data():
    defaults = matters.defaults()
    assert set(defaults) == set(registry.KPI_NAMES)
    for k in registry.KPIS:
        t = defaults[k.name]
        if k.kind == "share":
            assert t == Threshold(1.0, "pp") and t.amount(0.4) == pytest.approx(0.01)   # 1 pp whatever the base
    assert defaults["ed_visits"] == Threshold(5.0, "percent_of_base")
    assert defaults["ed_visits"].amount(40.0) == pytest.approx(2.0)                    # 5% of the base
    assert defaults["cost_total"].amount(-1000.0) == pytest.approx(50.0)
    assert "planning convention" in matters.source()


@pytest.mark.parametrize("entry, message", [
    ({"pp": 1.0, "absolute": 2.0}, "exactly one of pp, percent_of_base, absolute"),
    ({"percent_of_base": -5.0}, "percent_of_base = -5.0; allowed: a number >= 0"),
    ({"pp": 1.0}, "pp is for shares"),
])
def test_a_bad_threshold_entry_is_refused_naming_it(entry, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        matters._rule(entry, "kpis.ed_visits", "count")


# --------------------------------------------------------------------------- the verdicts

def test_a_tiny_distinguishable_difference_does_not_matter():
    """Issue 16: 0.12 pp shown in red as "real". Its CI excludes 0, yet lies within 1 pp: it does not matter."""
    assert matters_verdict(0.0010, 0.0014, 0.01) == "does not matter"
    assert matters_verdict(-0.05, -0.02, 0.01) == "matters"          # 2 to 5 pp lower: beyond 1 pp
    assert matters_verdict(0.005, 0.03, 0.01) == "unclear"           # distinguishable, may or may not matter
    assert matters_verdict(-0.02, 0.02, 0.01) == "unclear"
    assert matters_verdict(0.001, 0.002, 0.0) == "matters"           # no threshold: matters = distinguishable
    assert matters_verdict(float("nan"), float("nan"), 0.01) == "unclear"


def _kpis(values: list[float], kpi: str = "crs_rate") -> pd.DataFrame:
    return pd.DataFrame({"replication": range(len(values)), kpi: values})


def test_judge_gives_every_other_strategy_both_verdicts_with_the_users_thresholds():
    base = _kpis([0.50, 0.52, 0.48, 0.51])
    runs = {"base": base, "tiny": base.assign(crs_rate=base["crs_rate"] + 0.0012),
            "big": base.assign(crs_rate=base["crs_rate"] - 0.30)}
    judged = judge(compare(runs), "base").set_index("scenario")
    assert list(judged.index) == ["tiny", "big"]
    assert judged.loc["tiny", "distinguishable"] and judged.loc["tiny", "matters"] == "does not matter"
    assert judged.loc["big", "distinguishable"] and judged.loc["big", "matters"] == "matters"
    assert judged.loc["big", "base_mean"] == pytest.approx(0.5025) and judged.loc["big", "threshold"] == 0.01
    # a user who counts 0.1 pp as mattering sees the tiny difference matter
    strict = judge(compare(runs), "base", {"crs_rate": Threshold(0.1, "pp")}).set_index("scenario")
    assert strict.loc["tiny", "matters"] == "matters"


# --------------------------------------------------------------------------- the chart, table and CSV on their data

def _judged() -> pd.DataFrame:
    """Two strategies against a base "in", two KPIs (a share and a count)."""
    return pd.DataFrame({
        "scenario": ["out", "out", "toci", "toci"], "kpi": ["crs_rate", "ed_visits"] * 2, "n": 2,
        "base_mean": [0.55, 2.0, 0.55, 2.0], "mean": [0.5512, 20.0, 0.30, 4.0],
        "diff_mean": [0.0012, 18.0, -0.25, 2.0], "diff_ci_low": [0.0010, 15.0, -0.30, -1.0],
        "diff_ci_high": [0.0014, 21.0, -0.20, 5.0], "distinguishable": [True, True, True, False],
        "threshold": [0.01, 0.1, 0.01, 0.1], "matters": ["does not matter", "matters", "matters", "unclear"]})


def test_forest_plot_draws_every_strategy_against_the_base_in_its_unit():
    spec = charts.forest_plot(_judged(), "in").to_dict()
    data = next(iter(spec["datasets"].values()))
    assert [(r["strategy"], r["row"]) for r in data] == [
        ("out", "Patients with CRS (percentage points)"), ("out", "ED visits (visits)"),
        ("toci", "Patients with CRS (percentage points)"), ("toci", "ED visits (visits)")]
    crs_out = data[0]
    assert crs_out["diff"] == pytest.approx(0.12) and crs_out["threshold"] == pytest.approx(1.0)   # pp
    assert crs_out["matters_text"] == "Does not matter: CI within ±1.0 pp"
    assert data[2]["matters_text"] == "Matters: lower by more than 1.0 pp"
    assert spec["facet"]["row"]["sort"] == ["Patients with CRS (percentage points)", "ED visits (visits)"]
    layers = spec["spec"]["layer"]
    point = next(layer for layer in layers if "tooltip" in layer["encoding"])
    assert point["encoding"]["color"]["scale"]["range"] == STRATEGY_COLORS[:2]
    assert set(STRATEGY_COLORS) <= set(charts.style.OKABE_ITO.values())
    assert point["encoding"]["y"]["sort"] == ["out", "toci"]
    band = next(layer for layer in layers if layer["mark"]["type"] == "rect")   # too small to matter: +-t
    assert band["encoding"]["x2"]["field"] == "t"
    assert spec["resolve"]["scale"]["x"] == "independent"


def test_table_and_csv_hold_every_strategy_in_units_with_both_verdicts():
    table = charts.comparison_table(_judged(), "in")
    assert list(table["Strategy"]) == ["out", "out", "toci", "toci"]
    crs = table.iloc[0]
    assert (crs["Base: in"], crs["Strategy's mean"], crs["Difference"]) == ("55.0%", "55.1%", "+0.1 pp")
    assert crs["Distinguishable from no difference?"] == "yes: CI excludes 0"
    assert crs["Matters for planning?"] == "Does not matter: CI within ±1.0 pp"
    assert table.iloc[3]["Matters for planning?"] == "Unclear: CI reaches past ±0.10"
    assert not [c for c in table.astype(str).to_numpy().ravel() if SCIENTIFIC.search(c)]
    text = charts.comparison_csv(_judged(), "in")
    assert not SCIENTIFIC.search(text)
    csv = pd.read_csv(io.StringIO(text))
    assert list(csv["strategy"]) == ["out", "out", "toci", "toci"]
    assert "minimum difference that matters (in unit of the difference)" in csv.columns
    assert "base in (mean, in unit of the means)" in csv.columns
    assert csv["difference from the base (in unit of the difference)"][0] == pytest.approx(0.12)
    assert list(csv["matters (CI beyond the minimum)"]) == list(_judged()["matters"])


# --------------------------------------------------------------------------- common random numbers

def test_three_presets_compared_at_once_give_the_pairs_run_alone_on_the_same_seed():
    trio = [sim.load(n) for n in TRIO]
    together = sim.compare(trio, 2, executor="serial")
    for other in TRIO[1:]:
        alone = sim.compare([trio[0], trio[TRIO.index(other)]], 2, executor="serial")
        assert alone.seed == together.seed
        pdt.assert_frame_equal(alone.runs[other].kpis, together.runs[other].kpis)
        pdt.assert_frame_equal(alone.runs[TRIO[0]].kpis, together.runs[TRIO[0]].kpis)
        pair = alone.table[alone.table["scenario"] == other].reset_index(drop=True)
        pdt.assert_frame_equal(pair, together.table[together.table["scenario"] == other].reset_index(drop=True))


# --------------------------------------------------------------------------- the page

def test_compare_page_runs_three_strategies_and_shows_both_verdicts():
    at = new_app()
    at.sidebar.radio(key="executor").set_value("One core (serial)")   # no worker pool left in the test process
    at.radio(key="page").set_value("Compare strategies").run()
    at.selectbox(key="cmp_base").set_value(TRIO[0]).run()
    at.multiselect(key="cmp_others").set_value(list(TRIO[1:]))
    at.number_input(key="cmp_reps").set_value(2)
    at.run()
    at.number_input(key="cmp_matters:ward_bed_days").set_value(0.0)   # any ward bed-day difference matters
    at.button(key="cmp_run").click().run()
    assert not at.exception, at.exception
    runs = next(iter(at.session_state["comparisons"].values()))
    assert list(runs) == list(TRIO)
    assert len({v.seed for v in runs.values()}) == 1
    assert all(list(v.kpis["replication"]) == [0, 1] for v in runs.values())
    table = at.table[0].value
    assert list(table["Strategy"][:4]) == list(TRIO[1:]) * 2   # measure by measure, every strategy in turn
    assert len(table) == 2 * len(at.multiselect(key="cmp_kpis").value)
    crs = table[table["Measure"] == "Patients with CRS"]
    assert crs["Difference"].str.fullmatch(r"[+-]?\d+\.\d+ pp").all(), crs
    assert table["Matters for planning?"].str.match(r"(Matters|Does not matter|Unclear): ").all()
    ward = table[table["Measure"] == "Ward bed-days"]
    assert ward["Matters for planning?"].str.contains(r"(?:than |±)0$").all(), ward   # the user's threshold, 0
    assert not [c for c in table.astype(str).to_numpy().ravel() if SCIENTIFIC.search(c)]
    assert len(at.get("vega_lite_chart")) == 1
    assert any("planning convention" in c.value for c in at.caption)
