"""The public API (``import sim``): what a notebook relies on. Loading by name or path with changes
validated like ``--set``, runs whose summary is the CLI's summary.csv, typed errors, no optional
extras imported, and docs/api.md, whose code is run here so it cannot rot."""

from __future__ import annotations

import re
import subprocess
import sys

import pandas as pd
import pytest

import sim
from sim.analysis import runner
from sim.cli import main
from sim.cli import run as cli_run
from sim.config import loader
from tests.conftest import REFERENCE, ROOT, SHORT

SHORT_SET = {"run.warmup_weeks": 8, "run.horizon_weeks": 26, "run.follow_up_weeks": 8}


def test_importing_sim_loads_no_optional_extra():
    code = ("import sys, sim; sim.load('tarlatamab_outpatient'); "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'altair', 'streamlit', 'dask', 'distributed'}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_everything_in_all_exists_and_the_version_comes_first():
    assert all(hasattr(sim, name) for name in sim.__all__)
    assert sim.__version__ == "0.1.0"
    assert issubclass(sim.UsageError, ValueError)


def test_load_by_name_or_path_with_changes_validated_like_set():
    by_name = sim.load("tarlatamab_outpatient", set={**SHORT_SET, "capacity.observation_beds": 5,
                                                     "drug.crs.rate": 0.45})
    by_path = loader.load(REFERENCE, [*SHORT, "capacity.observation_beds=5", "drug.crs.rate=0.45"])
    assert by_name == by_path
    assert sim.load(REFERENCE) == sim.load(str(REFERENCE)) == loader.load(REFERENCE)
    # tables may be given nested, and drug.profile re-selects the toxicity profile like --set does
    nested = sim.load("tarlatamab_outpatient", set={"capacity": {"observation_beds": 5}, "drug.profile": "real_world"})
    assert nested.capacity.observation_beds == 5
    assert nested == loader.load(REFERENCE, ["capacity.observation_beds=5", "drug.profile=\"real_world\""])


@pytest.mark.parametrize("args, error, says", [
    (("no_such_preset",), sim.ScenarioError, "not a preset name; allowed: a scenario file or one of the presets: blinatumomab_inpatient"),
    (("tarlatamab_outpatient", {"capacity.beds": 2}), sim.ScenarioErrors, "capacity.beds: unknown key"),
    (("tarlatamab_outpatient", {"capacity.chairs": -1}), sim.ScenarioErrors, "with the set= changes"),
    (("tarlatamab_outpatient", {"capacity.chairs": None}), sim.UsageError, "allowed: a value"),
    (("tarlatamab_outpatient", {"capacity..chairs": 1}), sim.UsageError, "dotted field name"),
    (("tarlatamab_outpatient", ["capacity.chairs=1"]), sim.UsageError, "a dict of dotted fields"),
    ((3,), sim.UsageError, "a preset name or a path"),
])
def test_load_refuses_bad_input_with_one_line_naming_it(args, error, says):
    with pytest.raises(error) as err:
        sim.load(*args)
    assert says in str(err.value) and "--set" not in str(err.value)


def test_vary_refuses_what_only_the_loader_can_change(short):
    with pytest.raises(sim.UsageError, match="sim.load"):
        sim.vary(short, {"drug.profile": "real_world"})
    with pytest.raises(sim.ScenarioErrors, match="capacity.chairs"):
        sim.vary(short, {"capacity.chairs": -3})
    assert sim.vary(short, {}) is short


def test_run_summary_is_the_summary_csv_of_the_cli(tmp_path, short):
    result = sim.run(short, reps=3, executor="serial")
    toml = tmp_path / "short.toml"
    toml.write_text(loader.to_toml(short))
    assert main(["run", str(toml), "--reps", "3", "--executor", "serial", "--quiet", "--out", str(tmp_path / "o")]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "o" / "kpis.csv"), result.kpis, check_dtype=False)
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "o" / "summary.csv"), result.summary(), check_dtype=False)
    assert result.occupancy is None and sim.run(short, 1, keep_occupancy=True).occupancy.shape[0] == 1


@pytest.mark.parametrize("kwargs, says", [
    ({"reps": 0}, "reps = 0"), ({"reps": 2.5}, "reps = 2.5"), ({"executor": "threads"}, "executor = 'threads'"),
    ({"executor": "serial", "scheduler": "tcp://x:1"}, "only used with executor 'dask'"),
])
def test_run_refuses_bad_arguments_as_usage_errors(short, kwargs, says):
    with pytest.raises(sim.UsageError, match=re.escape(says)):
        sim.run(short, **{"reps": 2, **kwargs})
    with pytest.raises(sim.UsageError, match="a Scenario"):
        sim.run("tarlatamab_outpatient", reps=2)


def test_compare_runs_every_scenario_on_the_base_seed(short):
    inpatient = sim.load("tarlatamab_inpatient", set={**SHORT_SET, "run.seed": 99})
    comparison = sim.compare([short, inpatient], reps=2, executor="serial", kpis=["observation_bed_days"])
    assert list(comparison.runs) == [short.name, inpatient.name] and comparison.seed == short.run.seed
    assert all(r.seed == short.run.seed for r in comparison.runs.values())
    d = comparison.differences().set_index("kpi").loc["observation_bed_days"]
    assert d["other_mean"] == 0 and d["diff_mean"] < 0
    with pytest.raises(sim.UsageError, match="unknown KPI 'nope'"):
        sim.compare([short], reps=2, kpis=["nope"])


def test_cli_maps_scenario_and_usage_errors_to_exit_2_and_lets_bugs_surface(monkeypatch, capsys):
    def refuse(*_a, **_k):
        raise sim.UsageError("reps = 0; allowed: 1 or more")

    monkeypatch.setattr(cli_run, "_simulate", refuse)
    assert main(["run", str(REFERENCE), "--quiet"]) == 2
    assert capsys.readouterr().err == "error: reps = 0; allowed: 1 or more\n"

    def bug(*_a, **_k):
        raise ValueError("a bug, not bad input")

    monkeypatch.setattr(cli_run, "_simulate", bug)
    with pytest.raises(ValueError, match="a bug"):
        main(["run", str(REFERENCE), "--quiet"])


def test_the_one_liner_works_from_the_root():
    code = "import sim; print(sim.run(sim.load('tarlatamab_outpatient'), reps=3).summary())"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "patients_referred" in out.stdout and "ci_high" in out.stdout


def test_the_api_guide_runs():
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 8
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(ROOT / "docs" / "api.md"), "exec"), namespace)   # noqa: S102 - our own doc
    assert namespace["sizing"].found and "observation_beds" in namespace["sizing"].message


def test_runner_executor_names_are_the_apis():
    assert sim.EXECUTORS == runner.EXECUTORS
