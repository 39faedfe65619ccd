"""What a reader sees as the source of a number: the publication, not the internal file name.

Data files cite the seed documents by file name (``001_05c86904299774e9.txt``, or ``003:`` for short)
and the project's parameter table as ``clinical-parameters.md``; ``citations.toml`` beside this module
maps each name to its publication, and :func:`for_display` rewrites a source string with it. The data
files keep their text: only what is shown changes.
"""

from __future__ import annotations

import functools
import re
import tomllib
from importlib import resources


@functools.cache
def citations() -> dict[str, str]:
    """Internal name (file name, and the three-digit short form where there is one) to its publication."""
    data = tomllib.loads(resources.files("sim.config").joinpath("citations.toml").read_text(encoding="utf-8"))
    out: dict[str, str] = {}
    for name, entry in data["files"].items():
        out[name] = entry["citation"]
        if "short" in entry:
            out[entry["short"]] = entry["citation"]
    return out


@functools.cache
def _pattern() -> re.Pattern[str]:
    names = sorted(citations(), key=len, reverse=True)   # the file name before its short form
    # a short form only as a word of its own ("003:", "(003)"), never inside "1,003" or "0.003"
    return re.compile("|".join(rf"(?<![\w.,]){re.escape(n)}(?![\w.])" if n.isdigit() else re.escape(n)
                               for n in names))


def for_display(text: str) -> str:
    """``text`` with every internal file name replaced by the publication it stands for.

    Examples
    --------
    >>> for_display("003: median duration 2 days")
    'Engaging with Bispecific T-Cell Engagers (BTCE review, 2025): median duration 2 days'
    """
    if not text:
        return text
    return _pattern().sub(lambda m: citations()[m.group(0)], text)
