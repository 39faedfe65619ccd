"""Fixtures of the browser tests: one Debian Chromium (Playwright's own download does not work here)."""

from __future__ import annotations

import pytest

from tests.browser.serve import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()
