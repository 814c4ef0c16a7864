"""ML-guided exploration of parameter spaces (MLscanner, arXiv:2207.09959) and baselines.

``explore(objective, bounds, n_calls, seed, **options)`` finds the region of a box
where an expensive objective is "in target", training a small MLP between iterations
to propose likely points; ``random_scan`` and ``mcmc_scan`` are the baselines on the
same budget.  All return a :class:`ScanResult`; :mod:`phenoflow.scan.metrics` measures
efficiency, calls to N in-target points and coverage; :mod:`phenoflow.scan.objectives`
holds test functions with known answers and the chi-square wrapper for pseudo-data.
"""

from phenoflow.scan.baselines import mcmc_scan, random_scan
from phenoflow.scan.evaluation import ObjectiveError
from phenoflow.scan.explore import IterationReport, ScanOptions, explore
from phenoflow.scan.result import ORIGINS, ScanResult

__all__ = [
    "ORIGINS",
    "IterationReport",
    "ObjectiveError",
    "ScanOptions",
    "ScanResult",
    "explore",
    "mcmc_scan",
    "random_scan",
]
