"""Step-up dosing capacity simulator for bispecific T-cell engagers (BTCEs).

Data flows one way: scenario -> cohort -> model -> metrics -> analysis -> CLI / dashboard.
"""

__version__ = "0.1.0"
