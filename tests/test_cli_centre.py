"""Every command takes a centre (issue 15 item 5): what a user reads when they point run, validate, trace,
compare, size, sensitivity, stock and warmup at a scenario of several programmes sharing one site."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sim
from sim import cohort
from sim.analysis import warmup
from sim.cli import main
from tests.conftest import SCENARIOS

# A short centre: three programmes on few beds, eight weeks of statistics (a few seconds a replication).
CENTRE = """
extends = "tarlatamab_outpatient"
name = "short_centre"
[run]
warmup_weeks = 2
horizon_weeks = 8
follow_up_weeks = 2
[capacity]
observation_beds = 2
ward_beds = 6
[programmes.teclistamab]
scenario = "teclistamab_outpatient"
demand.patients_per_week = 1.5
[programmes.talquetamab]
scenario = "talquetamab_outpatient"
demand.patients_per_week = 1.0
[programmes.tarlatamab]
scenario = "tarlatamab_outpatient"
start_weekdays = [0, 1]
demand.patients_per_week = 2.0
"""
NAMES = ("teclistamab", "talquetamab", "tarlatamab")
FAST = ["--executor", "serial", "--quiet"]


@pytest.fixture(scope="module")
def centre_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("centre")
    (folder / "centre.toml").write_text(CENTRE, encoding="utf-8")
    # a variant a user writes next to it: one more observation bed, tarlatamab's demand doubled
    (folder / "more.toml").write_text('extends = "centre.toml"\nname = "more"\n[capacity]\nobservation_beds = 3\n'
                                      '[programmes.tarlatamab]\ndemand.patients_per_week = 4.0\n', encoding="utf-8")
    # the same centre without tarlatamab
    (folder / "myeloma.toml").write_text(CENTRE.split("[programmes.tarlatamab]")[0].replace("short_centre", "myeloma"),
                                         encoding="utf-8")
    return folder / "centre.toml"


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_run_prints_each_programme_and_writes_its_files(centre_file, tmp_path, capsys):
    code, out, _ = cli(capsys, "run", centre_file, "--reps", "2", *FAST, "--out", tmp_path / "o")
    assert code == 0
    assert "per programme" in out and all(f"\n{n}\n" in out for n in NAMES)
    rows = pd.read_csv(tmp_path / "o" / "kpis_by_programme.csv")
    assert list(dict.fromkeys(rows["programme"])) == list(NAMES)


def test_validate_lists_the_programmes_with_drug_strategy_demand_and_start_days(centre_file, capsys):
    code, out, _ = cli(capsys, "validate", centre_file)
    assert code == 0 and "Centre 'short_centre', 3 programmes" in out
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ") and line.split()[0] in NAMES}
    assert list(lines) == list(NAMES)
    assert "teclistamab (trial)" in lines["teclistamab"] and "outpatient" in lines["teclistamab"]
    assert " 78 " in lines["teclistamab"] and " 104 " in lines["tarlatamab"]       # 1.5 and 2 a week, per year
    assert lines["tarlatamab"].endswith("Mon Tue")
    assert "values not verified against a source" in out and "the programmes' drugs'" in out


def test_validate_lists_other_services_in_the_beds(tmp_path, capsys):
    path = tmp_path / "cart.toml"
    path.write_text(CENTRE + '[[other_admissions]]\nname = "CAR-T"\nresource = "ward_beds"\nper_week = 0.5\n'
                    'stay_median_hours = 240\nstay_sigma = 0.4\n', encoding="utf-8")
    code, out, _ = cli(capsys, "validate", path)
    assert code == 0 and "other services: CAR-T, 26 admissions a year into ward_beds" in out


def test_validate_of_a_single_drug_scenario_is_unchanged(capsys):
    code, out, _ = cli(capsys, "validate", SCENARIOS / "tarlatamab_outpatient.toml")
    assert code == 0 and "Scenario 'tarlatamab_outpatient', drug tarlatamab (trial profile)" in out
    assert "Centre" not in out


def test_trace_needs_a_programme_in_a_centre_and_names_them(centre_file, capsys):
    code, _, err = cli(capsys, "trace", centre_file, "--patient", "0")
    assert code == 2 and "--programme is required" in err and "teclistamab, talquetamab, tarlatamab" in err
    code, _, err = cli(capsys, "trace", centre_file, "--patient", "0", "--programme", "blinatumomab")
    assert code == 2 and "'blinatumomab'" in err and "teclistamab, talquetamab, tarlatamab" in err
    code, _, err = cli(capsys, "trace", centre_file, "--patient", "9999", "--programme", "talquetamab")
    assert code == 2 and "patients of talquetamab" in err


def test_trace_follows_the_programmes_own_patient_on_the_shared_site(centre_file, capsys):
    code, out, _ = cli(capsys, "trace", centre_file, "--patient", "2", "--programme", "tarlatamab")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "short_centre, programme tarlatamab, replication 0, patient 2"
    # the patient is tarlatamab's third referral, drawn from the programme's own streams
    referral = cohort.draw_centre(sim.load(centre_file), 0)[NAMES.index("tarlatamab")].referral[2]
    day = int(referral // 24)
    assert lines[1].startswith(f"day {day:4d}") and "referred" in lines[1]
    assert any("dose 1 given in observation" in line for line in lines)    # tarlatamab's step-up in a bed


def test_trace_of_a_single_drug_scenario_takes_its_drug_as_programme(capsys):
    ref = SCENARIOS / "tarlatamab_outpatient.toml"
    _, plain, _ = cli(capsys, "trace", ref, "--patient", "1")
    code, named, _ = cli(capsys, "trace", ref, "--patient", "1", "--programme", "tarlatamab")
    assert code == 0 and named == plain
    code, _, err = cli(capsys, "trace", ref, "--patient", "1", "--programme", "teclistamab")
    assert code == 2 and "allowed: tarlatamab" in err


def test_compare_pairs_each_programme_by_replication_and_name(centre_file, tmp_path, capsys):
    folder = centre_file.parent
    code, out, _ = cli(capsys, "compare", centre_file, folder / "more.toml", folder / "myeloma.toml", "--reps", "3",
                       *FAST, "--out", tmp_path / "c", "--by-programme", "--kpis",
                       "patients_referred,doses_given,p_dose_postponed,p_stockout")
    assert code == 0
    assert "tarlatamab: in only one of short_centre and myeloma" in out
    for name in NAMES:
        assert f"== programme {name} ==" in out
    assert "comparison_by_programme.csv" in out
    table = pd.read_csv(tmp_path / "c" / "comparison_by_programme.csv")
    kpis = pd.read_csv(tmp_path / "c" / "kpis_by_programme.csv")
    assert set(table["kpi"]) == {"patients_referred", "doses_given", "p_dose_postponed"}   # not the centre's p_stockout
    assert not ((table["programme"] == "tarlatamab") & (table["scenario"] == "myeloma")).any()
    # each difference is the mean of the programme's own paired differences, replication by replication
    for programme, scenario in (("tarlatamab", "more"), ("teclistamab", "myeloma")):
        wide = kpis[(kpis["programme"] == programme) & (kpis["kpi"] == "doses_given")].pivot(
            index="replication", columns="scenario", values="value")
        row = table[(table["programme"] == programme) & (table["scenario"] == scenario) & (table["kpi"] == "doses_given")]
        assert row["diff_mean"].item() == pytest.approx((wide[scenario] - wide["short_centre"]).mean())
        assert row["n"].item() == 3
    # tarlatamab's demand doubled: more of its doses
    more = table[(table["scenario"] == "more") & (table["kpi"] == "doses_given")].set_index("programme")
    assert more.loc["tarlatamab", "diff_mean"] > 0
    # common random numbers: a programme's referrals are the same whatever the other programmes do
    referred = table[table["kpi"] == "patients_referred"].set_index(["programme", "scenario"])
    for programme, scenario in (("teclistamab", "more"), ("teclistamab", "myeloma"), ("talquetamab", "myeloma")):
        assert referred.loc[(programme, scenario), ["diff_ci_low", "diff_ci_high"]].tolist() == [0, 0]


def test_compare_of_single_drug_scenarios_writes_what_it_did(tmp_path, capsys):
    ref = SCENARIOS / "tarlatamab_outpatient.toml"
    code, out, _ = cli(capsys, "compare", ref, ref, "--reps", "2", *FAST, "--out", tmp_path / "c", "--kpis",
                       "doses_given", "--set", "run.horizon_weeks=4", "--set", "run.warmup_weeks=1")
    assert code == 0 and "programme" not in out
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == ["comparison.csv", "kpis.csv"]


def test_size_answers_for_the_centres_shared_unit(centre_file, tmp_path, capsys):
    code, out, _ = cli(capsys, "size", centre_file, "--resource", "observation_beds", "--target",
                       "util_observation_beds<=0.25", "--reps", "2", "--max", "8", *FAST, "--out", tmp_path / "s")
    assert code == 0
    assert "a centre of 3 programmes (teclistamab, talquetamab, tarlatamab): the figures are its totals" in out
    table = pd.read_csv(tmp_path / "s" / "sizing.csv")
    answer = table.loc[table["answer"], "observation_beds"].item()
    assert f"smallest observation_beds meeting util_observation_beds<=0.25 with 95% confidence: {answer}" in out
    # the answer meets the target on the centre's totals and one bed fewer does not
    below = table[table["observation_beds"] == answer - 1]
    assert table.loc[table["answer"], "util_observation_beds_ci_high"].item() <= 0.25
    assert below.empty or (below["util_observation_beds_ci_high"] > 0.25).all()


def test_size_on_one_programme_reads_its_own_kpis(centre_file, tmp_path, capsys):
    args = ["--resource", "ward_beds", "--target", "util_ward_beds<=0.15", "--reps", "2", "--min", "6", "--max", "7",
            *FAST]
    cli(capsys, "size", centre_file, *args, "--out", tmp_path / "total")
    code, out, _ = cli(capsys, "size", centre_file, *args, "--programme", "tarlatamab", "--out", tmp_path / "one")
    assert code in (0, 1) and "programme tarlatamab's util_ward_beds<=0.15" in out
    total, one = (pd.read_csv(tmp_path / d / "sizing.csv").set_index("ward_beds") for d in ("total", "one"))
    # tarlatamab's share of the ward is the programme's rows of the same runs, below the centre's whole use
    s = sim.vary(sim.load(centre_file), {"capacity.ward_beds": 6})
    rows = sim.run(s, 2, executor="serial").by_programme.query("programme == 'tarlatamab'")
    assert one.loc[6, "util_ward_beds_mean"] == pytest.approx(rows["util_ward_beds"].mean())
    assert (one["util_ward_beds_mean"] < total.loc[one.index, "util_ward_beds_mean"]).all()


def test_size_refuses_an_unknown_programme_and_a_centre_kpi_on_a_programme(centre_file, tmp_path, capsys):
    base = ["size", centre_file, "--resource", "observation_beds", "--reps", "2", *FAST, "--out", tmp_path / "s"]
    code, _, err = cli(capsys, *base, "--target", "p_dose_postponed<=0.02", "--programme", "mosunetuzumab")
    assert code == 2 and "--programme = 'mosunetuzumab'" in err and "teclistamab, talquetamab, tarlatamab" in err
    code, _, err = cli(capsys, *base, "--target", "p_stockout<=0.05", "--programme", "tarlatamab")
    assert code == 2 and "'p_stockout': a KPI of the centre as a whole" in err
    assert not (tmp_path / "s").exists()


def test_sensitivity_varies_a_programmes_demand(centre_file, tmp_path, capsys):
    key = "programmes.tarlatamab.demand.patients_per_week"
    code, out, _ = cli(capsys, "sensitivity", centre_file, "--param", f"{key}=1:4", "--kpis", "doses_given",
                       "--reps", "2", *FAST, "--out", tmp_path / "t")
    assert code == 0 and key in out and "a centre of 3 programmes" in out
    row = pd.read_csv(tmp_path / "t" / "tornado.csv").iloc[0]
    assert row["param"] == key and row["base"] == 2.0
    assert row["value_high"] > row["value_low"]              # four tarlatamab referrals a week give more doses


def test_sensitivity_refuses_keys_a_centre_does_not_have(centre_file, tmp_path, capsys):
    base = ["sensitivity", centre_file, "--reps", "2", *FAST, "--out", tmp_path / "t"]
    code, _, err = cli(capsys, *base)
    assert code == 2 and "--param programmes.teclistamab.demand.patients_per_week=0.75:2.25" in err
    code, _, err = cli(capsys, *base, "--param", "demand.patients_per_week=1:2")
    assert code == 2 and "programmes.<name>.demand" in err
    code, _, err = cli(capsys, *base, "--param", "programmes.glofitamab.demand.patients_per_week=1:2")
    assert code == 2 and "no programme 'glofitamab'" in err and "teclistamab, talquetamab, tarlatamab" in err


def test_warmup_of_a_centre_counts_every_programmes_patients(centre_file, tmp_path, capsys):
    code, out, _ = cli(capsys, "warmup", centre_file, "--weeks", "20", "--reps", "2", *FAST, "--out", tmp_path / "w")
    assert code == 0 and "MSER-5 suggested warm-up" in out and "a centre of 3 programmes" in out
    census = pd.read_csv(tmp_path / "w" / "warmup.csv")["census"]
    s = sim.load(centre_file)
    alone = sim.vary(s, {f"programmes.{n}.demand.patients_per_week": 0 for n in NAMES[1:]})
    teclistamab_only = warmup.warmup(alone, 2, 20, executor="serial").table["census"]
    assert census.iloc[-1] > teclistamab_only.iloc[-1] > 0    # the other programmes' patients are on treatment too
    assert len(census) == 20 and np.all(np.isfinite(census))


def test_stock_of_a_centre_prints_one_line_per_level(centre_file, tmp_path, capsys):
    code, out, _ = cli(capsys, "stock", centre_file, "--values", "800,1600", "--reps", "2", "--executor", "serial",
                       "--quiet", "--out", tmp_path / "k")
    assert code == 0 and "one stock for the centre's 3 programmes" in out
    curve = pd.read_csv(tmp_path / "k" / "stock.csv")
    assert list(curve["pharmacy.order_up_to"]) == [800, 1600]
    assert "    800  " in out and "  1,600  " in out



def test_a_reader_that_stops_early_gets_no_traceback():
    """``python -m sim validate centre_comprehensive --print | head -1``: 150 kB of TOML into a pipe that
    closes after the first line; the command ends quietly instead of with a BrokenPipeError traceback."""
    import subprocess
    import sys

    proc = subprocess.run(f"{sys.executable} -m sim validate centre_comprehensive --print | head -1", shell=True,
                          capture_output=True, text=True, cwd=SCENARIOS.parent, timeout=120)
    assert proc.stdout.strip(), proc.stderr
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr, proc.stderr
