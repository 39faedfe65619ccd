"""The dashboard through Streamlit's AppTest: pages render, runs fill the cards, bad input is refused
with a message and never a traceback, edits round-trip to TOML the CLI runs, sessions stay apart."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import fields, pages
from dashboard.pages.stock import replications_needed
from sim.analysis.stats import wilson
from sim.config import loader
from tests.conftest import ROOT

APP = str(ROOT / "app.py")
SHORT = {"run.warmup_weeks": 4, "run.horizon_weeks": 8, "run.follow_up_weeks": 2}


def new_app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def shorten(at: AppTest) -> None:
    """Few short replications on one core, set through the sidebar like a user would."""
    at.sidebar.selectbox(key="section").set_value("Run settings").run()
    gen = at.session_state["gen"]
    for path, value in SHORT.items():
        at.sidebar.number_input(key=f"w{gen}:{path}").set_value(value).run()
    at.sidebar.number_input(key="reps").set_value(3)
    at.sidebar.radio(key="executor").set_value("One core (serial)")
    at.run()


def run(at: AppTest) -> None:
    at.sidebar.button(key="run").click().run()
    assert not at.exception, at.exception


def scenario_name(at: AppTest) -> str:
    return at.session_state["base"].name


def main_errors(at: AppTest) -> list[str]:
    return [e.value for e in at.main.error]


@pytest.fixture(scope="module")
def ran() -> AppTest:
    at = new_app()
    shorten(at)
    run(at)
    return at


def test_every_page_renders_before_a_run():
    at = new_app()
    for page in pages.PAGES:
        at.radio(key="page").set_value(page).run()
        assert not at.exception, (page, at.exception)
        assert not main_errors(at), (page, main_errors(at))
    at.radio(key="page").set_value("Capacity").run()
    assert any("No results yet" in i.value for i in at.info)


def test_running_the_default_preset_fills_the_kpi_cards(ran):
    assert scenario_name(ran) == loader.DEFAULT_SCENARIO.stem
    metrics = {m.label: m for m in ran.metric}
    assert "Doses postponed (no place)" in metrics and "Utilisation: observation beds" in metrics
    for m in metrics.values():
        assert m.value != "n/a" and any(ch.isdigit() for ch in m.value), (m.label, m.value)
        assert m.delta.startswith("95% CI "), (m.label, m.delta)
    assert float(metrics["Patients started"].value.split()[0]) > 0
    assert any("3 replications" in c.value for c in ran.caption)
    charts_shown = ran.get("vega_lite_chart")
    assert len(charts_shown) >= 5   # heat map, daily peaks, hospital use, grades, dosing calendar


def test_every_page_renders_with_results(ran):
    for page in pages.PAGES:
        ran.radio(key="page").set_value(page).run()
        assert not ran.exception, (page, ran.exception)
    ran.radio(key="page").set_value("Tocilizumab stock").run()
    labels = [m.label for m in ran.metric]
    assert "Tocilizumab for BTCE patients" in labels
    ran.radio(key="page").set_value("Drug library").run()
    assert any("not verified" in w.value for w in ran.warning)
    ran.radio(key="page").set_value("About the model").run()
    assert any("btce-sim" in c.value for c in ran.get("code"))
    ran.radio(key="page").set_value("Capacity").run()


def test_same_inputs_are_not_run_again(ran):
    before = dict(ran.session_state["results"])
    run(ran)
    after = ran.session_state["results"]
    assert list(after) == list(before) and all(after[k] is before[k] for k in before)


def test_the_cards_of_a_fresh_run_are_given_time_to_show_before_the_charts(monkeypatch):
    """One pause, after the cards of a run computed in that rerun; none when the same run is recalled or the
    page is redrawn (dashboard.running.cards_first)."""
    import time

    from dashboard import running
    pause, pauses, sleep = 0.0123, [], time.sleep   # a length nothing else sleeps for (AppTest polls with sleep)
    monkeypatch.setattr(running, "CARDS_FIRST_SECONDS", pause)
    monkeypatch.setattr(time, "sleep", lambda s: pauses.append(s) if s == pause else sleep(s))
    at = new_app()
    shorten(at)
    run(at)
    assert pauses == [pause]
    run(at)                                              # the same inputs: recalled, not run
    at.radio(key="page").set_value("Tocilizumab stock").run()
    assert pauses == [pause] and running.CARDS_FIRST not in at.session_state


def test_bad_upload_shows_the_error_and_keeps_the_previous_scenario():
    at = new_app()
    at.sidebar.selectbox(key="preset").set_value("tarlatamab_inpatient").run()
    assert scenario_name(at) == "tarlatamab_inpatient"
    at.sidebar.file_uploader(key="upload").set_value(("broken.toml", b"[capacity\nchairs = ", "application/toml")).run()
    assert not at.exception
    errors = [e.value for e in at.sidebar.error]
    assert any("broken.toml" in e and "not valid TOML" in e for e in errors), errors
    assert scenario_name(at) == "tarlatamab_inpatient"
    # a well-formed file with a bad value names the field and what is allowed
    at.sidebar.file_uploader(key="upload").set_value(
        ("bad_value.toml", b'extends = "base.toml"\nname = "x"\n[capacity]\nchairs = -3\n', "application/toml")).run()
    errors = [e.value for e in at.sidebar.error]
    assert any("capacity.chairs = -3" in e for e in errors), errors
    assert scenario_name(at) == "tarlatamab_inpatient"
    # a good upload replaces it and clears the message
    good = b'extends = "tarlatamab_outpatient.toml"\nname = "my_centre"\n[capacity]\nobservation_beds = 6\n'
    at.sidebar.file_uploader(key="upload").set_value(("mine.toml", good, "application/toml")).run()
    assert scenario_name(at) == "my_centre" and at.session_state["base"].capacity.observation_beds == 6
    assert not at.sidebar.error


def test_invalid_field_shows_its_message_next_to_it_and_blocks_run():
    at = new_app()
    at.sidebar.selectbox(key="section").set_value("Calendar").run()
    gen = at.session_state["gen"]
    at.sidebar.number_input(key=f"w{gen}:calendar.close_hour").set_value(7.0).run()
    assert not at.exception
    errors = [e.value for e in at.sidebar.error]
    assert any("close_hour = 7.0 is not after open_hour = 8.0" in e for e in errors), errors
    assert at.sidebar.button(key="run").disabled
    at.sidebar.selectbox(key="section").set_value("Patients").run()
    gen = at.session_state["gen"]
    at.sidebar.number_input(key=f"w{gen}:population.outpatient_eligible").set_value(1.5).run()
    errors = [e.value for e in at.sidebar.error]
    assert any("population.outpatient_eligible = 1.5: allowed: a probability in [0, 1]" in e for e in errors), errors
    # the message sits in the expander of the field it concerns, not only in the summary
    group = next(b for b in at.sidebar.expander if b.label == "Patients")
    assert any("outpatient_eligible = 1.5" in e.value for e in group.error)
    # a list that cannot be read is refused where it is typed
    at.sidebar.selectbox(key="section").set_value("Calendar").run()
    day0 = at.session_state["calendar_day0"].isoformat()   # holidays are entered as dates (issue 16)
    at.sidebar.text_input(key=f"w{gen}:calendar.holidays:{day0}").set_value(f"{day0}, x").run()
    assert any("'x' is not a date" in e.value for e in at.sidebar.error)
    at.sidebar.button(key="undo").click().run()
    assert not at.sidebar.error and not at.sidebar.button(key="run").disabled


def test_edited_scenario_downloads_as_toml_the_cli_runs_unchanged(tmp_path):
    at = new_app()
    shorten(at)
    at.sidebar.selectbox(key="section").set_value("Capacity").run()
    gen = at.session_state["gen"]
    at.sidebar.number_input(key=f"w{gen}:capacity.observation_beds").set_value(6).run()
    at.sidebar.selectbox(key="section").set_value("Drug: CRS and ICANS").run()
    at.sidebar.number_input(key=f"w{gen}:drug.crs.rate").set_value(0.5).run()
    assert not at.exception and not at.sidebar.error
    # the widget shows the edited sourced value as an unverified user override
    label = at.sidebar.number_input(key=f"w{gen}:drug.crs.rate").label
    assert label.endswith("⚠")
    scenario, errors = fields.validate(at.session_state["base_dump"], at.session_state["overrides"])
    assert not errors and scenario.capacity.observation_beds == 6 and scenario.drug.crs.rate.value == 0.5
    assert not scenario.drug.crs.rate.verified and "user override" in scenario.drug.crs.rate.source
    text = loader.to_toml(scenario)
    assert loader.loads(text, where="download") == scenario
    path = tmp_path / "edited.toml"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "sim", "run", str(path), "--reps", "2", "--executor", "serial",
                        "--out", str(out), "--quiet"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stderr
    assert loader.load(out / "scenario.toml") == scenario


def test_toml_editor_loads_good_text_and_refuses_bad_text():
    at = new_app()
    gen = at.session_state["gen"]
    at.sidebar.text_area(key=f"toml_text{gen}").set_value("name = \n").run()
    at.sidebar.button(key="toml_apply").click().run()
    assert any("TOML editor" in e.value for e in at.sidebar.error)
    assert scenario_name(at) == loader.DEFAULT_SCENARIO.stem
    text = (loader.SCENARIO_DIR / "tarlatamab_prophylactic_toci.toml").read_text(encoding="utf-8")
    at.sidebar.text_area(key=f"toml_text{gen}").set_value(text).run()
    at.sidebar.button(key="toml_apply").click().run()
    assert scenario_name(at) == "tarlatamab_prophylactic_toci"
    assert at.session_state["base"].strategy.prophylaxis is not None


def test_two_sessions_never_see_each_others_results(ran):
    other = new_app()
    assert not other.metric
    assert any("No results yet" in i.value for i in other.info)
    assert len(other.session_state["results"]) == 0 and len(ran.session_state["results"]) >= 1
    other.sidebar.selectbox(key="preset").set_value("tarlatamab_inpatient").run()
    assert scenario_name(ran) == loader.DEFAULT_SCENARIO.stem


def compared(other: str) -> AppTest:
    """The compare page after comparing the shortened reference scenario (the base) with preset ``other``."""
    at = new_app()
    shorten(at)
    at.radio(key="page").set_value("Compare strategies").run()
    at.multiselect(key="cmp_others").set_value([other])
    at.number_input(key="cmp_reps").set_value(5)
    at.run()
    at.button(key="cmp_run").click().run()
    assert not at.exception, at.exception
    return at


def test_compare_page_runs_two_strategies_on_the_same_patients():
    at = compared("tarlatamab_inpatient")
    va, vb = next(iter(at.session_state["comparisons"].values())).values()
    assert va.seed == vb.seed and list(va.kpis["replication"]) == list(vb.kpis["replication"])
    table = at.table[0].value
    row = table[table["Measure"] == "Observation bed-days"].iloc[0]
    assert row["Distinguishable from no difference?"] == "yes: CI excludes 0"   # inpatient uses no observation beds
    assert len(at.get("vega_lite_chart")) == 1


def test_sizing_panel_finds_a_capacity():
    at = new_app()
    shorten(at)
    run(at)
    at.selectbox(key="size_res").set_value("observation_beds").run()
    at.slider(key="size_range_observation_beds").set_value((2, 5))
    at.number_input(key="size_reps").set_value(5)
    at.number_input(key="size_target_p_dose_postponed").set_value(50.0)
    at.run()
    at.button(key="size_run").click().run()
    assert not at.exception, at.exception
    assert any("Smallest observation beds" in s.value for s in at.success), [s.value for s in at.success]
    table = next(d.value for d in at.dataframe if "Replications" in d.value.columns)
    assert list(table.columns) == ["Observation beds (22-24 h) (beds)", "Doses postponed (no place) (% of doses), mean",
                                   "95% CI", "Replications"]
    assert table["95% CI"].str.fullmatch(r"\d+\.\d+% to \d+\.\d+%").all(), table


def test_stock_panel_draws_the_stock_out_curve():
    at = new_app()
    shorten(at)
    run(at)
    at.radio(key="page").set_value("Tocilizumab stock").run()
    assert not at.exception, at.exception
    assert any("Stock policy: order up to" in c.value for c in at.caption)
    at.text_input(key="stock_levels").set_value("0, 2400, 100000")
    at.number_input(key="stock_reps").set_value(5)
    at.number_input(key="stock_target").set_value(50.0)
    at.run()
    at.button(key="stock_run").click().run()
    assert not at.exception, at.exception
    curve = at.dataframe[-1].value
    assert list(curve["Order up to (mg)"]) == ["0", "2,400", "100,000"]
    assert curve["Chance of a stock-out"].iloc[0] == "100.0%" and curve["Chance of a stock-out"].iloc[-1] == "0.0%"
    assert any("Smallest order up to" in s.value for s in at.success)
    # a level list that cannot be read is refused in place
    at.text_input(key="stock_levels").set_value("lots").run()
    assert any("not a list of numbers" in e.value for e in at.main.error)


def test_drug_library_lists_every_drug_file_and_flags_unverified_values():
    at = new_app()
    at.radio(key="page").set_value("Drug library").run()
    assert not at.exception, at.exception
    files = sorted(p.name for p in (loader.SCENARIO_DIR / "drugs").glob("*.toml"))
    lib = next(d.value for d in at.dataframe if "file" in d.value.columns)
    assert sorted(lib["file"]) == files
    at.checkbox(key="only_unverified").check().run()
    table = next(d.value for d in at.dataframe if "field" in d.value.columns and "note" in d.value.columns)
    assert len(table) > 0 and (table["status"] == "⚠ unverified").all()


@pytest.mark.parametrize("preset", ["tarlatamab_prophylactic_toci", "tarlatamab_risk_stratified"])
def test_every_editor_section_renders_for_presets_of_other_shapes(preset):
    at = new_app()
    at.sidebar.selectbox(key="preset").set_value(preset).run()
    assert scenario_name(at) == preset
    for section, _ in fields.SECTIONS:
        at.sidebar.selectbox(key="section").set_value(section).run()
        assert not at.exception, (section, at.exception)
        assert not at.sidebar.error, (section, [e.value for e in at.sidebar.error])
        assert at.sidebar.expander, section


def test_upload_may_not_name_files_outside_the_scenarios_folder(tmp_path):
    secret = tmp_path / "secret.toml"
    secret.write_text('name = "do not show"\n', encoding="utf-8")
    at = new_app()
    for text in (f'extends = "{secret}"\n', f'extends = "base.toml"\n[drug]\nfile = "{secret}"\n',
                 'extends = "../pyproject.toml"\n'):
        at.sidebar.file_uploader(key="upload").set_value(("sneaky.toml", text.encode(), "application/toml")).run()
        errors = " ".join(e.value for e in at.sidebar.error)
        assert "allowed: a file inside scenarios/" in errors and "do not show" not in errors, errors
        assert scenario_name(at) == loader.DEFAULT_SCENARIO.stem


def test_scenario_without_pharmacy_shows_use_but_no_stock():
    at = new_app()
    shorten(at)
    base = at.session_state["base"]
    unlimited = fields.validate(base.model_dump(), {**SHORT, "pharmacy": None})[0]
    assert unlimited is not None and unlimited.pharmacy is None
    gen = at.session_state["gen"]
    at.sidebar.text_area(key=f"toml_text{gen}").set_value(loader.to_toml(unlimited)).run()
    at.sidebar.button(key="toml_apply").click().run()
    assert at.session_state["base"].pharmacy is None
    at.sidebar.number_input(key="reps").set_value(3).run()
    run(at)
    at.radio(key="page").set_value("Tocilizumab stock").run()
    assert not at.exception, at.exception
    assert any("no [pharmacy] section" in i.value for i in at.info)
    assert "Tocilizumab for BTCE patients" in [m.label for m in at.metric]
    assert len(at.get("vega_lite_chart")) == 1     # use per week; no stock chart without stock


# --------------------------------------------------------------------------- issue 16's bugs

SCIENTIFIC = re.compile(r"\d[eE][+-]?\d")


def test_stock_table_reads_in_words_percent_and_currency_and_says_how_many_replications_are_needed():
    """Bugs 3 and 5: headers in words with units, bounds in % (never 0.000000000000000001), cost with its
    currency; with too few replications for the target the panel says so, with the number needed."""
    at = new_app()
    shorten(at)
    run(at)
    at.radio(key="page").set_value("Tocilizumab stock").run()
    # the defaults can succeed: enough replications that a level with no stock-out meets the 5% target
    default_reps = at.number_input(key="stock_reps").value
    assert at.number_input(key="stock_target").value == 5.0
    assert wilson(0, default_reps)[1] <= 0.05 and default_reps >= replications_needed(0.05) == 73
    assert not any("add replications" in w.value for w in at.main.warning)
    at.text_input(key="stock_levels").set_value("0, 100000")
    at.number_input(key="stock_reps").set_value(5).run()
    warned = [w.value for w in at.main.warning if "add replications" in w.value]
    assert warned and "at least **73**" in warned[0], warned
    at.button(key="stock_run").click().run()
    assert not at.exception, at.exception
    table = at.dataframe[-1].value
    assert "stock_mg" not in table.columns and "ci_high" not in table.columns
    assert {"Order up to (mg)", "Chance of a stock-out", "95% CI (Wilson)", "Tocilizumab cost"} <= set(table.columns)
    assert table["Tocilizumab cost"].str.startswith("USD ").all()
    assert table["95% CI (Wilson)"].str.fullmatch(r"\d+\.\d+% to \d+\.\d+%").all(), table["95% CI (Wilson)"]
    cells = table.astype(str).to_numpy().ravel()
    assert not [c for c in cells if SCIENTIFIC.search(c) or "0.0000000" in c]
    (error,) = [e.value for e in at.main.error if "No level tried" in e.value]
    assert "at least **73** per level" in error


def test_replications_box_refuses_what_it_shows_instead_of_running_something_else():
    """Bug 7: a typed 0 is shown with its error beside the box and Run is disabled (it used to run 100)."""
    at = new_app()
    at.sidebar.number_input(key="reps").set_value(0).run()
    assert not at.exception
    assert at.sidebar.number_input(key="reps").value == 0
    assert any("Replications = 0; allowed: a whole number from 2 to 5,000" in e.value for e in at.sidebar.error)
    assert at.sidebar.button(key="run").disabled
    at.sidebar.number_input(key="reps").set_value(20).run()
    assert not at.sidebar.error and not at.sidebar.button(key="run").disabled


def test_a_check_across_fields_is_reported_beside_the_field_it_names():
    """Bug 6: chairs = 0 under an outpatient strategy is said under Capacity, beside Chairs, not under
    "Scenario name"."""
    at = new_app()
    at.sidebar.selectbox(key="section").set_value("Capacity").run()
    gen = at.session_state["gen"]
    at.sidebar.number_input(key=f"w{gen}:capacity.chairs").set_value(0).run()
    assert not at.exception
    summary = next(e.value for e in at.sidebar.error if e.value.startswith("The edited scenario cannot run"))
    assert "**Capacity**: capacity.chairs = 0" in summary and "Scenario name" not in summary, summary
    group = next(b for b in at.sidebar.expander if any("capacity.chairs = 0" in e.value for e in b.error))
    assert group.label == "Capacity", group.label
    assert at.sidebar.button(key="run").disabled


def test_about_page_describes_the_start_the_scenario_uses():
    """Bug 8: the reference scenario starts warm, so the page must not say "warm-up from empty"."""
    at = new_app()
    assert at.session_state["base"].run.warm_start
    at.radio(key="page").set_value("About the model").run()
    text = " ".join(m.value for m in at.markdown)
    assert "from empty" not in text and "starts warm" in text
    at.sidebar.text_area(key=f"toml_text{at.session_state['gen']}").set_value(
        loader.to_toml(fields.validate(at.session_state["base_dump"], {"run.warm_start": False})[0])).run()
    at.sidebar.button(key="toml_apply").click().run()
    text = " ".join(m.value for m in at.markdown)
    assert "starts from an empty centre" in text


def test_sources_show_the_publication_not_the_internal_file_name():
    """Bug 9: the drug library names publications, never a seed file name or clinical-parameters.md."""
    at = new_app()
    at.radio(key="page").set_value("Drug library").run()
    cells = " ".join(" ".join(d.value.astype(str).to_numpy().ravel()) for d in at.dataframe)
    assert "Joshi et al., Clin Lung Cancer 2025" in cells
    assert not re.search(r"\d{3}_[0-9a-f]{16}\.txt|clinical-parameters\.md", cells)


def test_compare_table_writes_shares_in_percent_and_their_differences_in_points():
    """Bug 1 in the compare table: no raw fractions, no scientific notation, pp for differences of shares."""
    at = compared("tarlatamab_prophylactic_toci")
    table = at.table[0].value
    crs = table[table["Measure"] == "Patients with CRS"].iloc[0]
    assert crs["Difference"].endswith(" pp") and crs["Strategy's mean"].endswith("%")
    cost = table[table["Measure"] == "Cost per patient started"].iloc[0]
    assert cost["Strategy's mean"].startswith("USD ")
    cells = table.astype(str).to_numpy().ravel()
    assert not [c for c in cells if SCIENTIFIC.search(c)]


def test_money_cards_read_with_their_currency_once(ran):
    cost = next(m for m in ran.metric if m.label == "Cost per patient started")
    assert re.fullmatch(r"USD [\d,]+", cost.value), cost.value
    assert re.fullmatch(r"95% CI USD [\d,]+ to USD [\d,]+", cost.delta), cost.delta
