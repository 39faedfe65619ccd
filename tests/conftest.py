"""Shared fixtures: scenarios are loaded from the real preset files, shortened where speed matters."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.config import loader
from sim.config.registry import RESOURCE_NAMES

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
REFERENCE = SCENARIOS / "tarlatamab_outpatient.toml"
# A shorter run with the same pathway: 8 weeks warm-up, 26 weeks of statistics.
SHORT = ["run.warmup_weeks=8", "run.horizon_weeks=26", "run.follow_up_weeks=8"]
HUGE = [f"capacity.{r}=10000" for r in RESOURCE_NAMES]


@pytest.fixture(scope="session")
def reference():
    return loader.load(REFERENCE)


@pytest.fixture(scope="session")
def short():
    return loader.load(REFERENCE, SHORT)


def load(name: str, *overrides: str):
    return loader.load(SCENARIOS / name, list(overrides))
