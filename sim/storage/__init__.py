"""Files: a run's output folder and the saved-run store."""
