"""What a user does in the sidebar and on a page, as Playwright steps the browser tests share."""

from __future__ import annotations

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


def fill(page, label: str, value, where=None) -> None:
    """Type ``value`` into the number or text box labelled ``label`` and confirm it."""
    box = (where or page).get_by_label(label, exact=True).first
    box.fill(str(value))
    box.press("Enter")
    wait_idle(page)


def edit_inputs(page, section: str, values: dict) -> None:
    """Open a section of the sidebar's inputs and type each value into its field."""
    sidebar = page.locator('[data-testid="stSidebar"]')
    choose(page, "Section", section, where=sidebar)
    for label, value in values.items():
        fill(page, label, value, where=sidebar)
