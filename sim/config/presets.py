"""The preset scenarios and the drug library: where they are, and how a name finds a preset.

The repository keeps them in ``scenarios/`` and ``scenarios/drugs/``. A built wheel carries the same
files as the data folder ``sim/scenarios/`` (``pyproject.toml`` maps the one onto the other), read
through :mod:`importlib.resources`. In a git checkout (editable install, or ``PYTHONPATH``) there is no
``sim/scenarios/``, so the repository's ``scenarios/`` is read and an edited preset counts at once.

A scenario argument is a path or a preset name: an existing path wins, so a file of the user's
called ``tarlatamab_outpatient`` is never shadowed by the preset of that name.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from sim.config.errors import MISSING, ScenarioError

REFERENCE = "tarlatamab_outpatient"
"""The reference preset: what ``btce-sim run`` and the dashboard start from."""

BUILDING_BLOCKS = frozenset({"base"})
"""Scenario files that presets extend but that are not presets themselves."""


def scenario_dir() -> Path:
    """The folder holding the presets: the installed package's copy, else the checkout's ``scenarios/``.

    Pip unpacks wheels onto the file system, so the packaged copy is a real folder that the loader can
    read like any other (``extends`` and ``[drug] file`` are resolved against it).
    """
    packaged = resources.files("sim").joinpath("scenarios")
    if isinstance(packaged, Path) and packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "scenarios"


SCENARIO_DIR = scenario_dir()
DRUG_DIR = SCENARIO_DIR / "drugs"
"""The drug library: one TOML file per drug (schedule), read by :mod:`sim.config.library`."""


def drug_names(folder: Path = DRUG_DIR) -> list[str]:
    """File stems of every drug file in ``folder`` (default: the drug library), sorted."""
    return sorted(p.stem for p in folder.glob("*.toml"))


def list_presets() -> list[str]:
    """Names of the runnable presets (file stems), sorted; building blocks such as ``base`` left out."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml") if p.stem not in BUILDING_BLOCKS)


def preset_path(name: str) -> Path | None:
    """The file of preset (or building block) ``name``, with or without ``.toml``; None if there is none.

    Only a bare file name can match, so a name never reaches outside the presets folder.
    """
    stem = name.removesuffix(".toml")
    if not stem or stem != Path(stem).name or stem.startswith("."):
        return None
    path = SCENARIO_DIR / f"{stem}.toml"
    return path if path.is_file() else None


def resolve(ref: str | Path) -> Path:
    """The scenario file a command-line argument means: an existing path, else the preset of that name.

    Raises
    ------
    ScenarioError
        When ``ref`` is neither an existing path nor a preset name; the message lists the presets.
    """
    path = Path(ref)
    if path.exists():
        return path
    found = preset_path(str(ref))
    if found is None:
        raise ScenarioError(str(ref), "", MISSING, "file not found, and not a preset name; allowed: a scenario "
                            f"file or one of the presets: {', '.join(list_presets())}")
    return found


def resolve_extends(folder: Path, parent: str, where: str) -> Path:
    """The file ``extends = parent`` means in a scenario in ``folder``: a file next to it, else a preset.

    A file in ``folder`` wins, so presets (``extends = "base.toml"``) and a centre's own chain of files
    read as before; a centre's scenario elsewhere can say ``extends = "tarlatamab_outpatient"``.

    Raises
    ------
    ScenarioError
        When neither exists; the message names ``where`` (the extending file) and lists the presets.
    """
    path = folder / parent
    if path.exists():
        return path
    found = preset_path(parent)
    if found is None:
        raise ScenarioError(where, "extends", parent, f"no such file in {folder}, and not a preset name; allowed: "
                            f"a file next to this one or one of the presets: {', '.join(list_presets())}")
    return found
