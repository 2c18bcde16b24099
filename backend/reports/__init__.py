"""Supervisor dashboards: recovery, outcomes, automation and NLU health, computed in SQL."""
