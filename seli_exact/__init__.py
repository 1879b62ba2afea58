"""Exact, arbitrary-precision and float64 SELI geometry, and the one metric library.

Public names:
  class counts   ClassCounts, step, step_near_n, from_counts, long_tailed, parse_profile,
                 parse_profiles, counts_from_file
  SEL matrix     sel_matrix, sel_svd, SELSVD, secular_roots
  geometry       Geometry, seli_geometry (route "secular", "dense" or "integral"), ROUTES,
                 etf_geometry, factorize; the routes' own entry points dense_svd, dense_grams,
                 integral_grams, IntegralGrams
  shared numerics simplex_gram (P = I - 11^T/k), helmert, softmax_ce (seli_exact.simplex)
  metrics        normalized_distance, gram, class_means, centre, distances, feature_distances,
                 nc1, reference_grams, Distances, GeometryDistances
  numbers        arithmetic, digits_to_bits, close, default_rtol
  verdicts       Status, Verdict (what every check and derivation returns)
  errors         SeliInputError, SeliOutputError (seli_exact.errors)

Figures live in the package `figures`, files are written by `seli_io`, and a trained network is
measured by `measurement`: this package is the mathematics alone.

Each name is imported from its module on first use (PEP 562), so `import seli_exact` costs
nothing beyond the modules a caller touches; `from seli_exact import step` works as usual.
"""

from __future__ import annotations

import importlib

# Bound now: the function `arithmetic` shares its name with its module, and a lazy binding
# would lose to the module once any submodule imports it (the package attribute is then set).
from .arithmetic import Arithmetic, arithmetic, bits_to_digits, digits_to_bits
from .errors import SeliInputError

# public name -> the module that defines it
_SOURCES = {
    "ClassCounts": "counts", "from_counts": "counts", "long_tailed": "counts", "step": "counts",
    "step_near_n": "counts", "parse_profile": "counts", "parse_profiles": "counts",
    "counts_from_file": "counts",
    "Geometry": "geometry", "etf_geometry": "geometry", "factorize": "geometry",
    "seli_geometry": "geometry", "ROUTES": "geometry",
    "dense_svd": "dense", "dense_grams": "dense",
    "IntegralGrams": "integral", "integral_grams": "integral",
    "Distances": "metrics", "GeometryDistances": "metrics", "centre": "metrics",
    "class_means": "metrics", "distances": "metrics", "feature_distances": "metrics",
    "gram": "metrics", "nc1": "metrics", "normalized_distance": "metrics",
    "reference_grams": "metrics",
    "close": "precision", "default_rtol": "precision",
    "sel_matrix": "sel",
    "helmert": "simplex", "simplex_gram": "simplex", "softmax_ce": "simplex",
    "SELSVD": "svd", "sel_svd": "svd", "secular_roots": "svd",
    "Status": "verdict", "Verdict": "verdict",
}

__all__ = [
    "Arithmetic", "arithmetic", "bits_to_digits", "digits_to_bits", "helmert", "softmax_ce",
    "Status", "Verdict", "ClassCounts", "from_counts", "long_tailed", "step", "step_near_n",
    "SeliInputError", "Geometry", "etf_geometry", "factorize", "seli_geometry", "simplex_gram",
    "Distances", "GeometryDistances", "centre", "class_means", "distances", "feature_distances",
    "gram", "nc1", "normalized_distance", "reference_grams", "close", "default_rtol",
    "sel_matrix", "SELSVD", "sel_svd", "parse_profile",
    "parse_profiles", "counts_from_file", "ROUTES", "dense_svd", "dense_grams", "IntegralGrams",
    "integral_grams", "secular_roots",
]


def __getattr__(name: str):
    module = _SOURCES.get(name)
    if module is None:
        raise AttributeError(f"module 'seli_exact' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))



