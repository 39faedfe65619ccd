"""Issue 16 in a real Chromium: at 1280 px the compare table reads in units (differences of shares in
percentage points, nothing in scientific notation) and the Deploy button is gone; at 1280 and 1440 px
every chart of the Capacity and Tocilizumab stock pages fits its column. Screenshots:
test-output/screenshots/16_*.png.

The compare table is a static HTML table (it wraps its long cells instead of scrolling sideways), read cell by cell.
"""

from __future__ import annotations

import contextlib
import re
import time
from pathlib import Path
from typing import Iterator

import pytest

from tests.browser.serve import CHROMIUM, OUT, serve
from tests.browser.steps import go_to

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
    """Pick ``option`` in the select box (or add it to the multiselect) labelled ``label``."""
    box = page.locator('[data-testid="stSelectbox"], [data-testid="stMultiSelect"]').filter(has_text=label).first
    box.click()
    page.keyboard.type(option)
    page.get_by_role("option", name=option, exact=True).click()
    page.keyboard.press("Escape")   # a multiselect's list stays open after a pick


def table_rows(page) -> list[list[str]]:
    """The comparison table's rows as text: the header, then one row per measure and strategy."""
    table = page.locator('[data-testid="stTable"] table').first
    table.wait_for()
    rows = table.locator("tr")
    out = []
    for i in range(rows.count()):
        cells = rows.nth(i).locator("th, td")
        out.append([cells.nth(j).inner_text().strip() for j in range(cells.count())])
    return [r for r in out if r]


def content_right(page) -> float:
    """The right edge of the page's content column (the main block without its padding)."""
    return page.evaluate("""() => {
        const main = document.querySelector('[data-testid="stMainBlockContainer"]');
        const box = main.getBoundingClientRect();
        return box.right - parseFloat(getComputedStyle(main).paddingRight);
    }""")


def drawn_box(page, chart) -> dict:
    """The box of a chart's drawing; Vega may replace it while it lays out, so ask until it is there."""
    drawn = chart.locator("canvas, svg.marks").first
    for _ in range(40):
        box = drawn.bounding_box() if drawn.count() else None
        if box is not None:
            return box
        page.wait_for_timeout(250)
    raise AssertionError("the chart was never drawn")


def charts_overflowing(page) -> list[str]:
    """Titles and right edges of the charts drawn past the content column's right edge."""
    right = content_right(page)
    charts = page.locator('[data-testid="stVegaLiteChart"]')
    out = []
    for i in range(charts.count()):
        if not charts.nth(i).is_visible():   # an element of the page before, not yet removed
            continue
        box = drawn_box(page, charts.nth(i))
        if box["x"] + box["width"] > right + 1:
            out.append(f"chart {i}: right edge {box['x'] + box['width']:.0f} > column {right:.0f}")
    return out


@pytest.mark.parametrize("width", [1280, 1440])
def test_every_chart_fits_its_column(browser, server, width):
    """Bug 4 and the issue's "charts fit their columns at 1280 and 1440 px"."""
    context = browser.new_context(viewport={"width": width, "height": 4400})   # the whole page: Streamlit scrolls inside
    page = context.new_page()
    page.set_default_timeout(120_000)
    try:
        page.goto(server)
        page.get_by_role("button", name="Run simulation").wait_for()
        reps = page.get_by_role("spinbutton", name="Replications").first
        reps.fill("4")
        reps.press("Enter")
        wait_idle(page)
        page.get_by_role("button", name="Run simulation").click()
        page.locator('[data-testid="stMetric"]').nth(11).wait_for(timeout=300_000)
        wait_idle(page)
        # The cards come before the charts and a page's elements arrive over the websocket one by one, so
        # "idle" can be seen while the charts are still on their way: wait for the fifth to be drawn.
        page.locator('[data-testid="stVegaLiteChart"]').nth(4).wait_for(timeout=120_000)
        wait_idle(page)
        assert not charts_overflowing(page), charts_overflowing(page)
        page.screenshot(path=str(SHOTS / f"16_capacity_{width}.png"), full_page=True)
        go_to(page, "Tocilizumab stock")
        wait_idle(page)
        page.locator('[data-testid="stVegaLiteChart"]').filter(visible=True).nth(1).wait_for(timeout=120_000)
        wait_idle(page)
        assert not charts_overflowing(page), charts_overflowing(page)
        assert page.get_by_role("button", name="Download as PNG").filter(visible=True).count() == 0
        page.get_by_role("button", name="Download this chart (PNG)").nth(1).wait_for(timeout=120_000)
    finally:
        context.close()


@contextlib.contextmanager
def compare_page(browser, url: str, viewport: dict) -> Iterator:
    """A page of a new browser context on the dashboard's Compare strategies page; closed afterwards."""
    context = browser.new_context(viewport=viewport)
    try:
        page = context.new_page()
        page.set_default_timeout(120_000)
        page.goto(url)
        page.get_by_role("button", name="Run simulation").wait_for()
        go_to(page, "Compare strategies")
        wait_idle(page)
        yield page
    finally:
        context.close()


def run_comparison(page, reps: int) -> float:
    """Set the page's replications, press Run comparison and wait for the results; the seconds it took."""
    field = page.get_by_role("spinbutton", name="Replications").last   # the page's, not the sidebar's
    field.fill(str(reps))
    field.press("Enter")
    wait_idle(page)
    t0 = time.perf_counter()
    page.get_by_role("button", name="Run comparison").click()
    page.get_by_text("paired replications", exact=False).first.wait_for(timeout=300_000)
    took = time.perf_counter() - t0
    wait_idle(page)
    return took


def test_compare_table_reads_in_units_and_never_in_scientific_notation(browser, server):
    with compare_page(browser, server, {"width": 1280, "height": 2400}) as page:
        assert page.get_by_role("button", name="Deploy").count() == 0   # .streamlit/config.toml: viewer mode
        choose(page, "Strategies to compare", "tarlatamab_prophylactic_toci")   # beside the default, inpatient
        wait_idle(page)
        run_comparison(page, 5)
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
        assert not charts_overflowing(page)   # the forest plot fits the main column
        page.screenshot(path=str(SHOTS / "16_compare_units.png"), full_page=True)


@pytest.mark.parametrize("width", [1280, 1440])
def test_the_page_bar_is_one_row_and_fully_visible(browser, server, width):
    """The pages in the bar above every page: one row, each name whole and inside the content column
    (the full titles wrapped onto a second row at 1280 px)."""
    from dashboard.pages import PAGES, short_title

    context = browser.new_context(viewport={"width": width, "height": 900})
    try:
        page = context.new_page()
        page.set_default_timeout(120_000)
        page.goto(server)
        page.get_by_role("button", name="Run simulation").wait_for()
        wait_idle(page)
        bar = page.locator('[data-testid="stMain"] [data-testid="stRadio"]').first
        options = bar.locator("label").filter(has=page.locator("input[type=radio]"))
        names = [options.nth(i).inner_text().strip() for i in range(options.count())]
        assert names == [short_title(p) for p in PAGES]
        boxes = [options.nth(i).bounding_box() for i in range(options.count())]
        assert len({round(b["y"]) for b in boxes}) == 1, boxes        # one row
        assert max(b["x"] + b["width"] for b in boxes) <= content_right(page) + 1
        page.screenshot(path=str(SHOTS / f"16_page_bar_{width}.png"))
    finally:
        context.close()
