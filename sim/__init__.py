"""Step-up dosing capacity simulator for bispecific T-cell engagers (BTCEs).

Data flows one way: scenario -> cohort -> model -> metrics -> analysis -> CLI / dashboard.
"""

from sim._version import __version__  # first: the modules imported after it read sim.__version__
