"""Scenario files: every preset loads; every kind of bad input gives one clear error naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.config import loader
from sim.config.errors import ScenarioError, ScenarioErrors
from tests.conftest import REFERENCE, SCENARIOS

PRESETS = sorted(p for p in SCENARIOS.glob("*.toml"))


@pytest.mark.parametrize("path", PRESETS, ids=lambda p: p.name)
def test_every_preset_validates(path):
    s = loader.load(path)
    assert s.name
    assert s.drug.crs.rate.value > 0


def write(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    p = tmp_path / name
    p.write_text(f'extends = "{REFERENCE.as_posix()}"\n' + text)
    return p


def message(exc: pytest.ExceptionInfo) -> str:
    return str(exc.value)


def test_unknown_key_names_field_and_allowed_keys(tmp_path):
    p = write(tmp_path, "[capacity]\nchiars = 3\n")
    with pytest.raises((ScenarioError, ScenarioErrors)) as exc:
        loader.load(p)
    msg = message(exc)
    assert "capacity.chiars" in msg and "unknown key" in msg and "chairs" in msg
    assert str(p) in msg


def test_negative_capacity(tmp_path):
    with pytest.raises(ScenarioErrors) as exc:
        loader.load(write(tmp_path, "[capacity]\nobservation_beds = -2\n"))
    msg = message(exc)
    assert "capacity.observation_beds" in msg and "-2" in msg and "greater than or equal to 0" in msg


def test_probability_outside_unit_interval(tmp_path):
    with pytest.raises(ScenarioErrors) as exc:
        loader.load(write(tmp_path, "[drug.crs]\nrate = 1.3\n"))
    msg = message(exc)
    assert "drug.crs.rate" in msg and "1.3" in msg and "[0, 1]" in msg


def test_grade_mix_must_sum_to_one(tmp_path):
    with pytest.raises(ScenarioErrors) as exc:
        loader.load(write(tmp_path, "[drug.crs]\ngrade_mix = [0.5, 0.3, 0.1, 0.05]\n"))
    msg = message(exc)
    assert "drug.crs.grade_mix" in msg and "sums to 0.9500" in msg


def test_missing_drug_file(tmp_path):
    with pytest.raises(ScenarioError) as exc:
        loader.load(write(tmp_path, '[drug]\nfile = "drugs/nosuchdrug.toml"\n'))
    msg = message(exc)
    assert "drug.file" in msg and "nosuchdrug" in msg and "tarlatamab" in msg


def test_malformed_toml(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text("[capacity\nchairs = 3\n")
    with pytest.raises(ScenarioError) as exc:
        loader.load(p)
    assert "not valid TOML" in message(exc) and str(p) in message(exc)


def test_missing_file():
    with pytest.raises(ScenarioError) as exc:
        loader.load("no/such/file.toml")
    assert "file not found" in message(exc)


def test_extends_cycle(tmp_path):
    (tmp_path / "a.toml").write_text('extends = "b.toml"\n')
    (tmp_path / "b.toml").write_text('extends = "a.toml"\n')
    with pytest.raises(ScenarioError) as exc:
        loader.load(tmp_path / "a.toml")
    assert "cycle" in message(exc)


def test_unknown_toxicity_profile():
    with pytest.raises(ScenarioError) as exc:
        loader.load(REFERENCE, ["drug.profile=imaginary"])
    assert "imaginary" in message(exc) and "real_world" in message(exc) and "trial" in message(exc)


def test_set_overrides_are_validated_like_the_file():
    s = loader.load(REFERENCE, ["capacity.chairs=12", "demand.patients_per_week=5.5", "drug.profile=real_world"])
    assert s.capacity.chairs == 12 and s.demand.patients_per_week == 5.5
    assert s.drug.crs.rate.value == pytest.approx(0.533)
    with pytest.raises(ScenarioErrors) as exc:
        loader.load(REFERENCE, ["capacity.chairs=lots"])
    assert "capacity.chairs" in message(exc) and "lots" in message(exc)
    with pytest.raises(ScenarioError) as exc:
        loader.load(REFERENCE, ["capacity.chairs"])
    assert "KEY=VALUE" in message(exc)


def test_override_of_a_sourced_value_is_flagged_unverified():
    s = loader.load(REFERENCE, ["drug.crs.rate=0.45"])
    assert s.drug.crs.rate.value == 0.45
    assert not s.drug.crs.rate.verified
    assert "user override" in s.drug.crs.rate.source and "0.57" in s.drug.crs.rate.source


def test_clinic_monitoring_longer_than_the_day_is_refused(tmp_path):
    text = ('[strategy]\nname = "x"\n[[strategy.monitoring]]\ndoses = [1]\nplace = "clinic"\nhours = 12\n')
    with pytest.raises(ScenarioErrors) as exc:
        loader.load(write(tmp_path, text))
    assert "strategy" in message(exc) and "open 10 h a day" in message(exc)


def test_strategy_using_a_resource_with_no_capacity_is_refused():
    with pytest.raises(ScenarioErrors) as exc:
        loader.load(REFERENCE, ["capacity.observation_beds=0"])
    assert "capacity.observation_beds = 0" in message(exc)


def test_huge_inputs_are_refused_with_a_limit():
    with pytest.raises(ScenarioErrors) as exc:
        loader.load(REFERENCE, ["demand.patients_per_week=1000000"])
    assert "demand.patients_per_week" in message(exc) and "500" in message(exc)


def test_resolved_toml_round_trips(reference):
    text = loader.to_toml(reference)
    again = loader.loads(text)
    assert again == reference
    assert "\nfile = " not in text and "drugs/" not in text  # self-contained: the drug is written inline


def test_upload_text_with_extends():
    s = loader.loads('extends = "tarlatamab_inpatient.toml"\n[capacity]\nward_beds = 9\n')
    assert s.strategy.name == "inpatient" and s.capacity.ward_beds == 9


def test_scenario_files_are_data_only(tmp_path):
    # TOML has no code paths; a string that looks like code stays a string and fails validation.
    with pytest.raises(ScenarioErrors) as exc:
        loader.load(write(tmp_path, '[capacity]\nchairs = "__import__(\'os\').system(\'false\')"\n'))
    assert "capacity.chairs" in message(exc)


def test_an_upload_cannot_reach_files_outside_the_scenarios_folder(tmp_path):
    secret = tmp_path / "secret.toml"
    secret.write_text('name = "x"\n')
    with pytest.raises(ScenarioError) as exc:
        loader.loads(f'extends = "{secret.as_posix()}"\n')
    assert "extends" in message(exc) and "cannot reach" in message(exc)
    with pytest.raises(ScenarioError) as exc:
        loader.loads('extends = "../pyproject.toml"\n')
    assert "cannot reach" in message(exc)
    with pytest.raises(ScenarioError) as exc:
        loader.loads('extends = "base.toml"\n[drug]\nfile = "../../etc/passwd"\n')
    assert "drug.file" in message(exc) and "cannot reach" in message(exc)


def test_a_changed_grade_mix_or_dose_count_replaces_the_drug_files_per_dose_grade_mixes():
    """Otherwise a user's one mix would be silently overruled by the file's per-dose mixes (or fail to line up)."""
    assert len(loader.load(REFERENCE).drug.crs.dose_grade_mix) == 3
    mixed = loader.load(REFERENCE, ["drug.crs.grade_mix=[0.5, 0.3, 0.15, 0.05]"])
    assert mixed.drug.crs.dose_grade_mix == () and mixed.drug.crs.grade_mix.value == (0.5, 0.3, 0.15, 0.05)
    assert loader.load(REFERENCE, ["drug.crs.by_dose=[0.8, 0.5]"]).drug.crs.dose_grade_mix == ()
    assert len(loader.load(REFERENCE, ["drug.crs.by_dose=[0.7, 0.6, 0.2]"]).drug.crs.dose_grade_mix) == 3
    assert len(loader.load(REFERENCE, ["drug.crs.rate=0.5"]).drug.crs.dose_grade_mix) == 3


def test_a_badly_named_prophylaxis_entry_is_refused_by_its_name(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('extends = "tarlatamab_prophylactic_toci"\nname = "bad"\n[drug.prophylaxis]\na = 0\n')
    with pytest.raises((ScenarioError, ScenarioErrors), match=r"drug\.prophylaxis: entry 'a'; allowed: entries "
                                                              r"named before_dose_<k> or after_dose_<k>"):
        loader.load(bad)
