"""Architecture search: spaces, hypermodels, oracles, tuners."""
