"""Issue 16, the quality team's task in a real Chromium at 1440 x 900: compare inpatient, outpatient and
prophylactic-tocilizumab step-up dosing of tarlatamab on the same patients, and read the table: differences
of shares in percentage points, nothing in scientific notation, and for each difference whether it is
distinguishable and whether it matters. Screenshot: test-output/screenshots/16_quality_team.png; the time
from Run comparison to the table is appended to test-output/compare-timing.txt."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.browser.serve import CHROMIUM, OUT, serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]
pytest.importorskip("playwright.sync_api")

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)

from tests.browser.test_issue16_units_and_fit import (  # after the skips above
    SCIENTIFIC,
    charts_overflowing,
    choose,
    compare_page,
    run_comparison,
    table_rows,
    wait_idle,
)

SHOTS = OUT / "screenshots"
BASE, OTHERS = "tarlatamab_inpatient", ("tarlatamab_outpatient", "tarlatamab_prophylactic_toci")
REPS = 20
SHARES = ("Doses postponed (no place)", "Patients with CRS")
VERDICT = re.compile(r"(Matters: (higher|lower) by more than|Does not matter: CI within ±|Unclear: CI reaches past ±)"
                     r" ?[\w ,.]+")


@pytest.fixture(scope="module")
def server():
    SHOTS.mkdir(parents=True, exist_ok=True)
    with serve("streamlit-quality-team.log") as (url, _proc):
        yield url


def test_quality_team_compares_three_strategies_on_the_same_patients(browser, server):
    with compare_page(browser, server, {"width": 1440, "height": 900}) as page:
        choose(page, "Base strategy", BASE)
        wait_idle(page)
        for other in OTHERS:
            choose(page, "Strategies to compare", other)
            wait_idle(page)
        picked = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Strategies to compare").first.inner_text()
        assert all(o in picked for o in OTHERS) and BASE not in picked, picked
        page.get_by_text("Minimum difference that matters, per measure").click()   # the defaults, in their units
        crs_min = page.get_by_role("spinbutton", name="Patients with CRS (percentage points)")
        assert float(crs_min.input_value()) == 1.0
        took = run_comparison(page, REPS)
        page.set_viewport_size({"width": 1440, "height": 3200})   # the whole page in view: Streamlit scrolls inside
        wait_idle(page)

        rows = table_rows(page)
        header, body = rows[0], [r for r in rows[1:] if len(r) == len(rows[0])]
        col = {name: header.index(name) for name in ("Measure", "Strategy", "Difference", f"Base: {BASE}",
                                                      "Distinguishable from no difference?", "Matters for planning?")}
        assert {r[col["Strategy"]] for r in body} == set(OTHERS)     # every strategy against the one base
        measures = {r[col["Measure"]] for r in body}
        assert len(body) == 2 * len(measures) and set(SHARES) <= measures
        for r in body:
            if r[col["Measure"]] in SHARES:
                assert re.fullmatch(r"[+-]?\d+\.\d+ pp", r[col["Difference"]]), r
            assert r[col["Distinguishable from no difference?"]] in ("yes: CI excludes 0", "no: CI includes 0"), r
            assert VERDICT.fullmatch(r[col["Matters for planning?"]]), r
        assert not [c for r in rows for c in r if SCIENTIFIC.search(c)], rows
        # outpatient monitoring uses observation beds the inpatient base never does: a difference that matters
        obs = next(r for r in body if r[col["Measure"]] == "Observation bed-days" and r[col["Strategy"]] == OTHERS[0])
        assert obs[col["Matters for planning?"]].startswith("Matters: higher"), obs
        assert page.get_by_text("planning convention", exact=False).count() >= 1
        assert page.locator('[data-testid="stVegaLiteChart"]').filter(visible=True).count() == 1   # the forest plot
        assert not charts_overflowing(page), charts_overflowing(page)
        page.screenshot(path=str(SHOTS / "16_quality_team.png"), full_page=True)
        with (OUT / "compare-timing.txt").open("a") as f:
            f.write(f"quality team: 3 strategies x {REPS} replications (full-length presets), Run comparison to "
                    f"table {took:.1f} s in the browser\n")
