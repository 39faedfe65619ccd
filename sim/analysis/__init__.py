"""Replications and what is done with them: runner, statistics, comparison, sizing, stock, sensitivity."""
