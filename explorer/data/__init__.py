"""The data: the canonical toy densities (a registry, name -> factory; samplers, and log-densities and scores
where exact) and the user's own points (CSV parsing and validation).

May import: torch, numpy. Nothing else of the explorer.
"""
