"""Issue 16 in a real Chromium at 1280 px: the compare table reads in units (differences of shares in
percentage points, nothing in scientific notation), the Deploy button is gone, and the forest plot
fits its column. Screenshot: test-output/screenshots/16_compare_units.png.

Streamlit draws a table on a canvas; its cells are read from the accessible grid it keeps beside it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.browser.serve import CHROMIUM, OUT, serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]
pytest.importorskip("playwright.sync_api")

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)

SHOTS = OUT / "screenshots"
SCIENTIFIC = re.compile(r"\d[eE][+-]?\d")
SHARES = ("Doses postponed (no place)", "Patients with CRS")   # registry kind "share": differences in pp


@pytest.fixture(scope="module")
def server():
    SHOTS.mkdir(parents=True, exist_ok=True)
    with serve("streamlit-compare-units.log") as (url, _proc):
        yield url


def wait_idle(page) -> None:
    page.wait_for_timeout(300)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="detached", timeout=180_000)


def choose(page, label: str, option: str) -> None:
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text=label).first
    box.click()
    page.keyboard.type(option)
    page.get_by_role("option", name=option, exact=True).click()


def table_rows(page) -> list[list[str]]:
    """The comparison table's rows as text, from the grid's accessible cells."""
    grid = page.locator('[data-testid="stDataFrame"]').first
    grid.wait_for()
    rows = grid.locator('[role="row"]')
    out = []
    for i in range(rows.count()):
        cells = rows.nth(i).locator('[role="gridcell"], [role="columnheader"]')
        out.append([cells.nth(j).inner_text().strip() for j in range(cells.count())])
    return [r for r in out if r]


def test_compare_table_reads_in_units_and_never_in_scientific_notation(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 2400})
    page = context.new_page()
    page.set_default_timeout(120_000)
    try:
        page.goto(server)
        page.get_by_role("button", name="Run simulation").wait_for()
        assert page.get_by_role("button", name="Deploy").count() == 0   # .streamlit/config.toml: viewer mode
        page.get_by_text("Compare strategies", exact=True).first.click()
        wait_idle(page)
        choose(page, "Strategy B", "tarlatamab_prophylactic_toci")
        wait_idle(page)
        reps = page.get_by_role("spinbutton", name="Replications").last   # the page's, not the sidebar's
        reps.fill("5")
        reps.press("Enter")
        wait_idle(page)
        page.get_by_role("button", name="Run comparison").click()
        page.get_by_text("paired replications", exact=False).first.wait_for(timeout=300_000)
        wait_idle(page)
        rows = table_rows(page)
        header, body = rows[0], rows[1:]
        assert "Difference" in header and "Measure" in header, header
        col = header.index("Difference")
        by_measure = {r[header.index("Measure")]: r for r in body if len(r) == len(header)}
        assert set(SHARES) <= set(by_measure), sorted(by_measure)
        for measure in SHARES:
            assert re.fullmatch(r"[+-]?\d+\.\d+ pp", by_measure[measure][col]), by_measure[measure]
        cost = by_measure["Cost per patient started"]
        assert cost[header.index("Difference")].lstrip("+-").startswith("USD "), cost
        assert not [c for r in rows for c in r if SCIENTIFIC.search(c)], rows
        # the forest plot fits the main column at 1280 px: nothing of it is cut off on the right
        chart = page.locator('[data-testid="stVegaLiteChart"]').first
        drawn = chart.locator("canvas, svg").first
        drawn.wait_for()
        main = page.locator('[data-testid="stMainBlockContainer"]').first.bounding_box()
        box = drawn.bounding_box()
        assert box["x"] + box["width"] <= main["x"] + main["width"] + 1, (box, main)
        page.screenshot(path=str(SHOTS / "16_compare_units.png"), full_page=True)
    finally:
        context.close()
