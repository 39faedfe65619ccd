"""Presets by name from any folder, a path winning over a name, and a centre's scenario extending a preset
by name (the installed package's behaviour, checked fast from the checkout; tests/test_packaging.py
checks it from a real install)."""

from __future__ import annotations

import tomllib

import pytest

import sim
from sim.config import loader, presets
from sim.config.errors import ScenarioError
from tests.conftest import REFERENCE, ROOT, SCENARIOS


def test_the_checkout_reads_its_own_scenarios_folder():
    assert presets.SCENARIO_DIR.resolve() == SCENARIOS.resolve()
    assert loader.DEFAULT_SCENARIO.resolve() == REFERENCE.resolve()
    assert presets.DRUG_DIR.resolve() == (SCENARIOS / "drugs").resolve()
    listed = presets.list_presets()
    assert "tarlatamab_outpatient" in listed and "base" not in listed
    assert len(listed) == len(list(SCENARIOS.glob("*.toml"))) - 1


def test_a_preset_loads_by_name_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert loader.load("tarlatamab_outpatient") == loader.load(REFERENCE)
    assert loader.load("tarlatamab_inpatient.toml").name == "tarlatamab_inpatient"


def test_a_path_wins_over_a_preset_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tarlatamab_outpatient").write_text(
        f'extends = "{REFERENCE.as_posix()}"\nname = "mine"\n[capacity]\nchairs = 17\n', encoding="utf-8")
    s = loader.load("tarlatamab_outpatient")
    assert s.name == "mine" and s.capacity.chairs == 17


def test_an_unknown_name_says_so_and_lists_the_presets(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ScenarioError) as exc:
        loader.load("tarlatamab_outpatent")
    text = str(exc.value)
    assert "tarlatamab_outpatent" in text and "file not found" in text and "tarlatamab_inpatient" in text


@pytest.mark.parametrize("name", ["../pyproject", "../pyproject.toml", "drugs/tarlatamab", ".", "..", ""])
def test_a_name_cannot_reach_outside_the_presets(name):
    assert presets.preset_path(name) is None


def test_a_centre_scenario_extends_a_preset_by_name(tmp_path):
    (tmp_path / "my_centre.toml").write_text(
        'extends = "tarlatamab_outpatient"\nname = "my_centre"\n[capacity]\nobservation_beds = 7\n', encoding="utf-8")
    s = loader.load(tmp_path / "my_centre.toml")
    ref = loader.load(REFERENCE)
    assert s.name == "my_centre" and s.capacity.observation_beds == 7
    assert s.drug == ref.drug and s.strategy == ref.strategy and s.capacity.chairs == ref.capacity.chairs


def test_a_file_next_to_the_scenario_wins_over_a_preset_of_that_name(tmp_path):
    (tmp_path / "base.toml").write_text(f'extends = "{REFERENCE.as_posix()}"\nname = "site_base"\n'
                                        "[capacity]\nchairs = 23\n", encoding="utf-8")
    (tmp_path / "ward_a.toml").write_text('extends = "base.toml"\nname = "ward_a"\n', encoding="utf-8")
    s = loader.load(tmp_path / "ward_a.toml")
    assert s.name == "ward_a" and s.capacity.chairs == 23


def test_extends_of_a_missing_file_and_unknown_preset_names_the_file_and_the_presets(tmp_path):
    (tmp_path / "x.toml").write_text('extends = "no_such_preset"\n', encoding="utf-8")
    with pytest.raises(ScenarioError) as exc:
        loader.load(tmp_path / "x.toml")
    text = str(exc.value)
    assert str(tmp_path / "x.toml") in text and "extends = 'no_such_preset'" in text and "tarlatamab_outpatient" in text


def test_an_upload_extends_a_preset_by_name():
    s = loader.loads('extends = "tarlatamab_inpatient"\n[capacity]\nward_beds = 9\n')
    assert s.name == "tarlatamab_inpatient" and s.capacity.ward_beds == 9


def test_the_version_is_the_projects():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert sim.__version__ == project["version"]
