"""Golden backtest: short reference runs must reproduce their committed ``kpis.csv`` byte for byte.

A change that moves any number fails here. When that is the intent (a model change, a corrected
parameter), regenerate with ``python tests/golden/regenerate.py`` and say in the commit, and in
CHANGELOG.md, which change moved the numbers and why. A change of structure must pass unchanged.
"""

from __future__ import annotations

import difflib

import pytest

from tests.golden.regenerate import RUNS, golden_path, run_preset


@pytest.mark.parametrize("preset", RUNS)
def test_kpis_match_the_golden_file_byte_for_byte(preset, tmp_path):
    produced = run_preset(preset, tmp_path / preset).read_bytes()
    expected = golden_path(preset).read_bytes()
    if produced != expected:
        diff = difflib.unified_diff(expected.decode().splitlines(), produced.decode().splitlines(),
                                    "golden", "this run", lineterm="", n=0)
        pytest.fail(f"{preset}: kpis.csv differs from tests/golden/{golden_path(preset).name}. If the change is "
                    "meant to move numbers, run `python tests/golden/regenerate.py` and say why in the commit.\n"
                    + "\n".join(list(diff)[:20]))
