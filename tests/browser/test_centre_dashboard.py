"""A whole centre in a real Chromium (issue 15): ``?preset=centre_myeloma`` opens the centre with its
programmes in the sidebar; after a short run the Centre page shows teclistamab's row of the per-programme
service levels and the chart of who uses the ward beds. Screenshot: test-output/screenshots/15_centre.png."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.serve import CHROMIUM
from tests.browser.steps import SHORT_RUN, SHOTS, dashboard_page, edit_inputs, fill, served, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]
pytest.importorskip("playwright.sync_api")

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)

PRESET = "centre_myeloma"


@pytest.fixture(scope="module")
def server():
    yield from served("streamlit-centre.log")


def test_a_centre_run_shows_each_programme_and_who_uses_the_beds(browser, server):
    with dashboard_page(browser, f"{server}/?preset={PRESET}") as page:
        wait_idle(page)
        sidebar = page.locator('[data-testid="stSidebar"]')
        assert sidebar.get_by_role("combobox", name="Start from a preset").input_value() == PRESET
        edit_inputs(page, "Run settings", SHORT_RUN)
        fill(page, "Replications", 5, where=sidebar)
        sidebar.get_by_role("button", name="Run simulation").click()
        # the Capacity page's cards are filled when the run has finished (a page click earlier would stop it)
        page.locator('[data-testid="stMetric"]').first.wait_for(timeout=180_000)
        wait_idle(page)
        page.get_by_text("Centre", exact=True).first.click()
        wait_idle(page)
        page.get_by_text("Service level by programme").wait_for()
        table = page.locator('[data-testid="stTable"]').first
        row = table.locator("tr").filter(has_text="teclistamab").first
        row.wait_for()
        cells = [c.strip() for c in row.locator("th, td").all_inner_texts()]
        assert cells[0] == "teclistamab", cells
        headers = [c.strip() for c in table.locator("thead th").all_inner_texts()]
        started = cells[headers.index("Patients started")]
        assert float(started.replace(",", "")) > 0, (headers, cells)
        page.get_by_text("Who uses the beds").wait_for()
        chart = page.locator('[data-testid="stVegaLiteChart"]').first
        chart.locator("canvas, svg.marks").first.wait_for()
        # the ward is the bed resource centre_myeloma uses (it has no observation unit), so it is shown first
        assert page.get_by_role("combobox", name="Resource").input_value() == "Ward beds"
        page.screenshot(path=str(SHOTS / "15_centre.png"), full_page=True)
