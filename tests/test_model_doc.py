"""docs/model.md is generated from the data files and must be regenerated when they change.

The first test is the guard the issue asks for: it fails whenever a scenario or drug file (or the
generator) changes and ``python docs/generate_model_doc.py`` was not run. The others check that the
page really is built from the data: every sourced value appears with its own source and flag, every
drug file gets a table, and editing a data file changes the page (so the guard can fail).
"""

from __future__ import annotations

import difflib
import importlib.util
import re
import shutil
import subprocess
import sys

import pytest

from sim.config import loader
from sim.config.params import iter_sourced
from sim.config.registry import PLACE_RESOURCE, PLACES
from tests.conftest import ROOT, SCENARIOS

PAGE = ROOT / "docs" / "model.md"
SCRIPT = ROOT / "docs" / "generate_model_doc.py"


def _generator():
    spec = importlib.util.spec_from_file_location("generate_model_doc", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GEN = _generator()


@pytest.fixture(scope="module")
def page() -> str:
    return PAGE.read_text(encoding="utf-8")


def test_committed_page_equals_what_the_data_generates_now(page):
    fresh = GEN.generate()
    if page != fresh:
        diff = "\n".join(list(difflib.unified_diff(page.splitlines(), fresh.splitlines(), "docs/model.md (committed)",
                                                   "generated now", lineterm="", n=0))[:40])
        pytest.fail("docs/model.md is out of date: run `python docs/generate_model_doc.py`\n" + diff)


def test_check_mode_of_the_script_agrees():
    res = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "up to date" in res.stdout


def _rows(section: str) -> set[tuple[str, ...]]:
    """Table rows of one section as tuples of unescaped cells."""
    rows = set()
    for line in section.splitlines():
        if line.startswith("| ") and not line.startswith("|---"):
            cells = [c.strip().replace("\\|", "|").replace("\\\\", "\\") for c in re.split(r"(?<!\\)\|", line)[1:-1]]
            rows.add(tuple(cells))
    return rows


def _section(page: str, heading: str) -> str:
    start = page.index(heading)
    nxt = page.find("\n### ", start + len(heading))
    return page[start: nxt if nxt >= 0 else len(page)]


def _flag(verified: bool) -> str:
    return "yes" if verified else "**no**"


def test_every_sourced_value_of_the_base_scenario_is_listed_with_its_source(page):
    base = loader.load(SCENARIOS / "base.toml")
    rows = _rows(_section(page, "### Base scenario"))
    by_path = {r[0]: r for r in rows}
    n = 0
    for path, v in iter_sourced(base):
        if path.startswith(("drug.", "strategy.")):
            continue  # the drug has its own table; the strategy its own
        row = by_path.get(f"`{path}`")
        assert row is not None, path
        assert row[2] == v.source and row[3] == _flag(v.verified) and row[4] == v.note, (path, row)
        n += 1
    assert n >= 20


@pytest.mark.parametrize("drug_file", sorted((SCENARIOS / "drugs").glob("*.toml")), ids=lambda p: p.stem)
def test_every_drug_file_has_a_table_with_every_sourced_value(page, drug_file):
    raw = loader.read_toml(drug_file)
    heading = f"(`scenarios/drugs/{drug_file.name}`)"
    assert heading in page, f"no table for {drug_file.name}: regenerate docs/model.md"
    rows = _rows(_section(page, heading))
    keyed = {(r[0], r[1]): r for r in rows}
    for profile in raw["toxicity"]:
        drug = GEN.loader_validate_drug(loader.select_profile(raw, profile, str(drug_file)), str(drug_file))
        for path, v in iter_sourced(drug):
            who = profile if path.startswith(("crs.", "icans.")) else "all"
            row = keyed.get((f"`{path}`", who))
            assert row is not None, (drug_file.name, profile, path)
            assert row[3] == v.source and row[4] == _flag(v.verified), (path, row)
    # the verified / unverified count printed above the table agrees
    assert re.search(r"\d+ sourced values, \d+ not verified", _section(page, heading))


def test_pathway_diagram_names_every_place_and_resource(page):
    block = page[page.index("```mermaid"): page.index("```", page.index("```mermaid") + 3)]
    for place in PLACES:
        assert f"{place}: " in block and PLACE_RESOURCE[place] in block, place
    for resource in ("ed_bays", "icu_beds"):
        assert resource in block
    ref = loader.load(SCENARIOS / "tarlatamab_outpatient.toml")
    for i, _ in enumerate(ref.strategy.monitoring, start=1):
        assert f'"rule {i}: ' in block


def _copy_scenarios(tmp_path):
    dest = tmp_path / "scenarios"
    shutil.copytree(SCENARIOS, dest)
    return dest


def test_changing_a_data_file_changes_the_page(tmp_path, page):
    """The guard can fail: an edited source string, a changed grade rule and a new drug file all show up."""
    scen = _copy_scenarios(tmp_path)
    drug = scen / "drugs" / "tarlatamab.toml"
    text = drug.read_text(encoding="utf-8")
    old = "Imdelltra HCP site, pooled safety population n=473: CRS any grade 57%"
    assert old in text
    text = text.replace(old, "EDITED SOURCE for the test")
    # grade 2 CRS managed in the ICU instead of the ward: the diagram's transitions must follow
    text = text.replace('grade = 2\nsetting = "ward"', 'grade = 2\nsetting = "icu"', 1)
    drug.write_text(text, encoding="utf-8")
    extra = scen / "drugs" / "zz_test_copy.toml"
    extra.write_text(text.replace('name = "tarlatamab"', 'name = "zz-test-copy"', 1), encoding="utf-8")
    fresh = GEN.generate(scen)
    assert fresh != page
    assert "EDITED SOURCE for the test" in fresh
    assert "(`scenarios/drugs/zz_test_copy.toml`)" in fresh and "### Drug: zz-test-copy" in fresh
    block = fresh[fresh.index("```mermaid"):]
    assert 'ED -->|"CRS G2-4; ICANS G3-4"| ICU' in block
    assert 'ED -->|"ICANS G1-2"| TW' in block
