"""What a user does in the sidebar and on a page, as Playwright steps the browser tests share."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping

from dashboard.pages import short_title
from tests.browser.serve import OUT, serve

SHOTS = OUT / "screenshots"

# A short year: few weeks each, so the replications a task needs run in seconds (same model, fewer weeks).
SHORT_RUN = {"Horizon (weeks)": 8, "Warmup (weeks)": 4, "Follow up (weeks)": 2}


def wait_idle(page) -> None:
    """Until Streamlit has finished the rerun the last action started."""
    page.wait_for_timeout(300)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="detached", timeout=180_000)


def choose(page, label: str, option: str, where=None) -> None:
    """Pick ``option`` in the select box labelled ``label`` (typing filters the list)."""
    box = (where or page).locator('[data-testid="stSelectbox"]').filter(has_text=label).first
    box.click()
    page.keyboard.type(option)
    page.get_by_role("option", name=option, exact=True).click()
    wait_idle(page)
    page.wait_for_timeout(500)   # the rerun the choice starts may not have shown its status yet
    wait_idle(page)


def go_to(page, title: str) -> None:
    """Open the page titled ``title`` (a key of dashboard.pages.PAGES) from the page bar, by its short name."""
    bar = page.locator('[data-testid="stMain"] [data-testid="stRadio"]').first
    bar.locator("label").filter(has=page.locator("input[type=radio]")).get_by_text(short_title(title), exact=True).click()
    wait_idle(page)


def fill(page, label: str, value, where=None) -> None:
    """Type ``value`` into the number or text box labelled ``label`` and confirm it. A box drawn by a rerun
    still in progress can be replaced as it ends, dropping what was typed: then it is typed again."""
    for _ in range(3):
        box = (where or page).get_by_label(label, exact=True).first
        box.fill(str(value))
        box.press("Enter")
        wait_idle(page)
        page.wait_for_timeout(500)
        wait_idle(page)
        if (where or page).get_by_label(label, exact=True).first.input_value() == str(value):
            return
    raise AssertionError(f"{label} did not keep {value!r}")


def edit_inputs(page, section: str, values: dict) -> None:
    """Open a section of the sidebar's inputs and type each value into its field."""
    sidebar = page.locator('[data-testid="stSidebar"]')
    choose(page, "Section", section, where=sidebar)
    for label, value in values.items():
        fill(page, label, value, where=sidebar)


@contextlib.contextmanager
def dashboard_page(browser, url: str, width: int = 1440, height: int = 2400) -> Iterator:
    """A fresh browser context (its own Streamlit session) on the dashboard, once the page has loaded."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(120_000)
    try:
        page.goto(url)
        page.get_by_role("button", name="Run simulation").wait_for()
        yield page
    finally:
        context.close()


def served(log_name: str, env: Mapping[str, str] | None = None) -> Iterator[str]:
    """A module's dashboard server (for a ``server`` fixture), with ``env`` added to its environment: its
    URL, screenshots folder made."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    with serve(log_name, env=env) as (url, _proc):
        yield url
