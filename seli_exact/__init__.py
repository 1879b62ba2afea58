"""Exact, arbitrary-precision and float64 SELI geometry, and the one metric library.

Public names:
  class counts   ClassCounts, step, from_counts, long_tailed
  SEL matrix     sel_matrix, sel_svd, SELSVD
  geometry       Geometry, seli_geometry, etf_geometry, simplex_gram, factorize
  metrics        normalized_distance, gram, class_means, centre, distances, feature_distances,
                 nc1, reference_grams, Distances, GeometryDistances
  numbers        arithmetic, close, default_rtol
  errors         SeliInputError
  files          atomic_write, atomic_savefig (seli_exact.atomic), csv_text (seli_exact.tables)
"""

from .arithmetic import Arithmetic, arithmetic
from .counts import ClassCounts, from_counts, long_tailed, step
from .errors import SeliInputError
from .geometry import Geometry, etf_geometry, factorize, seli_geometry, simplex_gram
from .metrics import (
    Distances,
    GeometryDistances,
    centre,
    class_means,
    distances,
    feature_distances,
    gram,
    nc1,
    normalized_distance,
    reference_grams,
)
from .precision import close, default_rtol
from .sel import sel_matrix
from .svd import SELSVD, sel_svd

__all__ = [
    "Arithmetic", "arithmetic", "ClassCounts", "from_counts", "long_tailed", "step",
    "SeliInputError", "Geometry", "etf_geometry", "factorize", "seli_geometry", "simplex_gram",
    "Distances", "GeometryDistances", "centre", "class_means", "distances", "feature_distances",
    "gram", "nc1", "normalized_distance", "reference_grams", "close", "default_rtol",
    "sel_matrix", "SELSVD", "sel_svd",
]
