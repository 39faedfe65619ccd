"""The package version, from the installed distribution's metadata (one source: ``pyproject.toml``).

A leaf module (no imports from :mod:`sim`), so ``sim/__init__.py`` can define ``__version__`` before
anything else is imported. Running from a plain checkout that was never installed, the metadata is
absent and ``pyproject.toml`` next to the package is read instead.
"""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

DISTRIBUTION = "btce-sim"
UNKNOWN = "0+unknown"


def package_version() -> str:
    """``btce-sim``'s version: installed metadata, else the checkout's ``pyproject.toml``, else ``0+unknown``."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        pass
    try:
        project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text("utf-8"))["project"]
    except (OSError, tomllib.TOMLDecodeError, KeyError):
        return UNKNOWN
    return project["version"] if project.get("name") == DISTRIBUTION and "version" in project else UNKNOWN


__version__ = package_version()
