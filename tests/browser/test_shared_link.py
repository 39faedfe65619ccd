"""A shared link in a real Chromium (issue 16): ``?preset=tarlatamab_inpatient`` opens that preset; after
observation beds are edited to 5 the address bar carries the edit, and the copied URL opened in a new
browser context (another planner's session) shows the same preset with 5 beds. Screenshots go to
test-output/screenshots/shared-link-*.png."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.browser.serve import CHROMIUM, OUT, serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]
pytest.importorskip("playwright.sync_api")

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)

from tests.browser.test_dashboard_browser import choose, wait_idle

SHOTS = OUT / "screenshots"
PRESET = "tarlatamab_inpatient"
BEDS = re.compile(r"^Observation beds")


@pytest.fixture(scope="module")
def server():
    SHOTS.mkdir(parents=True, exist_ok=True)
    with serve("streamlit-shared-link.log") as (url, _proc):
        yield url


def open_link(browser, url: str):
    """A new browser context (its own Streamlit session, no cookies shared) on ``url``."""
    context = browser.new_context(viewport={"width": 1440, "height": 1400})
    page = context.new_page()
    page.set_default_timeout(90_000)
    page.goto(url)
    page.get_by_role("button", name="Run simulation").wait_for()
    wait_idle(page)
    return context, page


def beds_field(page):
    """The observation-beds field of the sidebar's Capacity section."""
    choose(page, "Section", "Capacity")
    wait_idle(page)
    field = page.get_by_role("spinbutton", name=BEDS).first
    if not field.is_visible():
        page.locator('[data-testid="stSidebar"] summary').filter(has_text="Capacity").first.click()
    field.wait_for(state="visible")
    return field


def test_a_copied_link_reopens_the_preset_with_its_edit(browser, server):
    first_ctx, first = open_link(browser, f"{server}/?preset={PRESET}")
    try:
        sidebar = first.locator('[data-testid="stSidebar"]')
        assert sidebar.get_by_text(f"Using {PRESET} (preset {PRESET})").count() == 1
        assert sidebar.get_by_role("combobox", name="Start from a preset").input_value() == PRESET
        first.screenshot(path=str(SHOTS / "shared-link-1-preset.png"))
        field = beds_field(first)
        assert field.input_value() != "5"
        field.fill("5")
        field.press("Enter")
        wait_idle(first)
        first.wait_for_url(re.compile(r"capacity\.observation_beds=5"))
        copied = first.url
        assert f"preset={PRESET}" in copied
        first.screenshot(path=str(SHOTS / "shared-link-2-edited.png"))
    finally:
        first_ctx.close()

    second_ctx, second = open_link(browser, copied)
    try:
        sidebar = second.locator('[data-testid="stSidebar"]')
        assert sidebar.get_by_text(re.compile(rf"Using {PRESET} \(preset {PRESET}\), 1 field edited")).count() == 1
        assert sidebar.get_by_role("combobox", name="Start from a preset").input_value() == PRESET
        assert beds_field(second).input_value() == "5"
        assert second.locator('[data-testid="stAlert"]').filter(has_text="was not applied").count() == 0
        second.screenshot(path=str(SHOTS / "shared-link-3-reopened.png"))
    finally:
        second_ctx.close()


def test_a_bad_parameter_in_a_link_is_named_and_the_rest_loads(browser, server):
    ctx, page = open_link(browser, f"{server}/?preset={PRESET}&capacity.observation_beds=5&capacity.chairs=lots")
    try:
        alert = page.locator('[data-testid="stAlert"]').filter(has_text="was not applied")
        alert.wait_for()
        assert "capacity.chairs = 'lots': allowed: a whole number" in alert.inner_text()
        assert beds_field(page).input_value() == "5"
        page.wait_for_url(re.compile(r"capacity\.observation_beds=5$"))   # the bad part leaves the URL
        page.screenshot(path=str(SHOTS / "shared-link-4-bad-parameter.png"))
    finally:
        ctx.close()
