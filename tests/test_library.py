"""The drug library: listing, one drug with every source, and a clear error for an unknown name."""

from __future__ import annotations

import pytest

from sim.cli import main
from sim.config import library, loader
from sim.config.errors import ScenarioError, ScenarioErrors
from sim.config.params import iter_flags, iter_sourced
from tests.conftest import SCENARIOS

DRUG_FILES = sorted(p.stem for p in (SCENARIOS / "drugs").glob("*.toml"))


def test_every_drug_file_is_listed_once():
    rows = library.list_library()
    assert [r.key for r in rows] == DRUG_FILES
    assert len(DRUG_FILES) >= 12  # tarlatamab plus the nine other US-approved BTCEs, several with two schedules


@pytest.mark.parametrize("key", DRUG_FILES)
def test_row_matches_the_default_profile_loaded_by_the_scenario_loader(key):
    """The listing reads the same numbers the simulator would: cross-check through loader.select_profile."""
    raw = loader.read_toml(SCENARIOS / "drugs" / f"{key}.toml")
    default = raw["default_profile"]
    chosen = raw["toxicity"][default]
    row = library.library_row(key)
    assert row.profile == default
    assert row.crs_rate == pytest.approx(chosen["crs"]["rate"]["value"])
    assert row.icans_rate == pytest.approx(chosen["icans"]["rate"]["value"])
    assert row.step_up_doses == raw["step_up_doses"]
    assert 0 < row.unverified < row.sourced


def test_unverified_count_agrees_with_a_scenario_using_the_drug():
    """Counting through a full scenario (base.toml uses tarlatamab's trial profile) gives the same drug count."""
    scenario = loader.load(SCENARIOS / "base.toml")
    expected = sum(1 for _, verified in iter_flags(scenario.drug) if not verified)
    row = library.library_row("tarlatamab")
    assert row.unverified == expected
    # numbers and sourced records (rules, blocks) alike
    assert expected > sum(1 for _, v in iter_sourced(scenario.drug) if not v.verified)


def test_monitoring_summary_names_the_label_stays():
    assert library.monitoring_summary(library.load_drug("teclistamab")) == "doses 1-3: 48 h"
    assert library.monitoring_summary(library.load_drug("elranatamab")) == "dose 1: 48 h; dose 2: 24 h"
    assert library.monitoring_summary(library.load_drug("epcoritamab_fl")) == "none beyond the infusion"


def test_dose_ranges():
    assert library.dose_ranges([1, 2, 3, 5, 7, 8]) == "1-3, 5, 7-8"
    assert library.dose_ranges([4]) == "4"


def test_cli_lists_the_library(capsys):
    assert main(["drugs"]) == 0
    out = capsys.readouterr().out
    for key in DRUG_FILES:
        assert key in out
    tec = library.library_row("teclistamab")
    line = next(ln for ln in out.splitlines() if ln.startswith("teclistamab "))
    assert f"{tec.crs_rate:.0%}" in line and f"{tec.unverified}/{tec.sourced}" in line and "48 h" in line


def test_cli_shows_one_drug_with_every_source(capsys):
    assert main(["drugs", "Glofitamab"]) == 0  # case-insensitive
    out = capsys.readouterr().out
    drug = library.load_drug("glofitamab")
    for path, value in iter_sourced(drug):
        assert value.source in out, path
    for block in drug.schedule:
        assert block.label in out and block.source in out
    for rule in drug.management.crs + drug.management.icans:
        assert rule.source in out
    assert out.count("[UNVERIFIED]") >= library.count_sourced(drug)[0]


def test_show_covers_every_profile():
    text = library.describe("elranatamab")
    assert "Toxicity profile 'trial' (default)" in text and "Toxicity profile 'seed'" in text
    seed = library.load_drug("elranatamab", "seed")
    assert seed.crs.rate.source in text
    only = library.describe("elranatamab", "seed")
    assert "Toxicity profile 'trial'" not in only


def test_unknown_drug_exits_2_and_lists_the_library(capsys):
    assert main(["drugs", "no-such-drug"]) == 2
    err = capsys.readouterr().err
    assert "no-such-drug" in err and "unknown drug" in err
    for key in DRUG_FILES:
        assert key in err


def test_unknown_profile_is_a_clear_error():
    with pytest.raises(ScenarioError) as exc:
        library.load_drug("teclistamab", "nonsense")
    assert "nonsense" in str(exc.value) and "trial" in str(exc.value)


def test_invalid_drug_file_names_the_field(tmp_path):
    text = (SCENARIOS / "drugs" / "teclistamab.toml").read_text()
    (tmp_path / "broken.toml").write_text(text.replace("step_up_doses = 3", "step_up_doses = 0"))
    with pytest.raises((ScenarioError, ScenarioErrors)) as exc:
        library.load_drug("broken", folder=tmp_path)
    assert "step_up_doses" in str(exc.value)


def test_the_unverified_count_sees_recalled_rules_as_well_as_numbers():
    """A restart row or a management rule recalled rather than read is as unverified as a number."""
    from sim.config import loader
    from sim.config.library import count_sourced
    from tests.conftest import SCENARIOS

    drug = loader.load(SCENARIOS / "teclistamab_outpatient.toml").drug
    unverified, total = count_sourced(drug)
    rule = drug.restart[0]
    flagged = drug.model_copy(update={"restart": (rule.model_copy(update={"verified": not rule.verified}),
                                                  *drug.restart[1:])})
    assert count_sourced(flagged) == (unverified + (1 if rule.verified else -1), total)
