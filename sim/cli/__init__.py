"""The command line (``python -m sim``, ``btce-sim``): one module per command."""

from sim.cli.main import main

__all__ = ["main"]
