"""The administrator's task in a real Chromium (issue 16): "how many observation beds keep postponed doses
under 2% at 6 referrals a week?". Referrals are typed a year (312), as a planner counts them; the sizing
panel is opened without any main run, run, and its answer read where it is shown. Screenshot:
test-output/screenshots/16_administrator.png."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.browser.serve import CHROMIUM
from tests.browser.steps import SHORT_RUN, SHOTS, choose, dashboard_page, edit_inputs, fill, served, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]
pytest.importorskip("playwright.sync_api")

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)

PANEL = "Find the smallest capacity that meets a target"
ANSWER = re.compile(r"Smallest observation beds \(22-24 h\) meeting doses postponed \(no place\) ≤ 2\.0% with 95% "
                    r"confidence: (\d+) \(current: (\d+)\)")
NONE = re.compile(r"No capacity up to 14 meets Doses postponed \(no place\) ≤ 2\.0% with 95% confidence: widen the range")


@pytest.fixture(scope="module")
def server():
    yield from served("streamlit-administrator.log")


def test_observation_beds_for_under_2_percent_postponed_at_6_referrals_a_week(browser, server):
    with dashboard_page(browser, server) as page:
        edit_inputs(page, "Run settings", SHORT_RUN)
        edit_inputs(page, "Demand", {"Referrals (patients per year)": 312})   # 6 a week
        # stored as the scenario holds it: per week
        assert "demand.patients_per_week = 6.0" in page.locator('[data-testid="stSidebar"]').inner_text()
        page.get_by_text(PANEL, exact=True).click()   # no main run first
        wait_idle(page)
        panel = page.locator('[data-testid="stExpander"]').filter(has_text=PANEL)
        choose(page, "Resource", "Observation beds (22-24 h)", where=panel)
        choose(page, "Service measure", "Doses postponed (no place)", where=panel)
        assert panel.get_by_label("Target: at most (%)").input_value() == "2.00"
        fill(page, "Replications per capacity", 5, where=panel)
        top = panel.get_by_role("slider").nth(1)   # widen the range searched to its top (keyboard, as a user can)
        top.focus()
        top.press("End")
        wait_idle(page)
        panel.get_by_role("button", name="Run sizing").click()
        panel.get_by_text(re.compile(r"^(Smallest|No capacity up to) ")).first.wait_for(timeout=180_000)
        wait_idle(page)
        page.screenshot(path=str(SHOTS / "16_administrator.png"), full_page=True)
        assert page.locator('[data-testid="stExpander"]').filter(has_text=PANEL).count() == 1   # one panel
        assert panel.locator('[data-testid="stDataFrame"]').count() == 1   # the capacities tried, with CIs
        text = panel.inner_text()
        found, none = ANSWER.search(text), NONE.search(text)
        # the answer, or a plain "none up to the top of the range": at 6 referrals a week the search may find that
        # observation beds alone cannot bring postponements under 2% (another place is the bottleneck)
        assert found or none, text
        beds = int(found.group(1)) if found else None
        if found:
            assert int(found.group(2)) == 4 and 1 <= beds <= 14, found.group(0)
        print(f"administrator: {beds or 'no number up to 14 of'} observation beds keep postponed doses under 2% "
              "at 6 referrals a week")
