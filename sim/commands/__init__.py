"""Sub-commands beyond ``run`` and ``validate``, one module per command group (see sim.cli.COMMAND_MODULES)."""
