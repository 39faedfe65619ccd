"""The package's structure: imports flow one way, and the heavy or optional libraries stay in their layer.

The contracts live in ``pyproject.toml`` (``[tool.importlinter]``); this runs them with the suite so a
change that imports upward (or SimPy outside the model, Streamlit outside the dashboard, Altair outside
the charts) fails here with import-linter's explanation of the offending chain.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_hold():
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    assert exe, "import-linter is not installed: pip install -e '.[test]'"
    out = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout


MAX_FUNCTION_LINES = 60


def test_no_function_in_the_package_is_longer_than_a_screen():
    """Long functions hide steps that deserve names (the patient pathway was 159 lines); the limit
    counts every line from ``def`` to the end, docstring included."""
    import ast

    long = []
    for path in sorted((ROOT / "sim").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({lines} lines)")
    assert not long, "split into named steps: " + "; ".join(long)
