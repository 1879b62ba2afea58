"""Exact, arbitrary-precision and float64 SELI geometry, and the one metric library.

Public names:
  class counts   ClassCounts, step, step_near_n, from_counts, long_tailed
  SEL matrix     sel_matrix, sel_svd, SELSVD
  geometry       Geometry, seli_geometry, etf_geometry, factorize
  shared numerics simplex_gram (P = I - 11^T/k), helmert, softmax_ce (seli_exact.simplex)
  metrics        normalized_distance, gram, class_means, centre, distances, feature_distances,
                 nc1, reference_grams, Distances, GeometryDistances
  numbers        arithmetic, digits_to_bits, close, default_rtol
  verdicts       Status, Verdict (what every check and derivation returns)
  errors         SeliInputError
  files          atomic_write, atomic_savefig (seli_exact.atomic), csv_text (seli_exact.tables)
"""

from .arithmetic import Arithmetic, arithmetic, bits_to_digits, digits_to_bits
from .counts import ClassCounts, from_counts, long_tailed, step, step_near_n
from .errors import SeliInputError
from .geometry import Geometry, etf_geometry, factorize, seli_geometry
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
from .simplex import helmert, simplex_gram, softmax_ce
from .svd import SELSVD, sel_svd
from .verdict import Status, Verdict

__all__ = [
    "Arithmetic", "arithmetic", "bits_to_digits", "digits_to_bits", "helmert", "softmax_ce",
    "Status", "Verdict", "ClassCounts", "from_counts", "long_tailed", "step", "step_near_n",
    "SeliInputError", "Geometry", "etf_geometry", "factorize", "seli_geometry", "simplex_gram",
    "Distances", "GeometryDistances", "centre", "class_means", "distances", "feature_distances",
    "gram", "nc1", "normalized_distance", "reference_grams", "close", "default_rtol",
    "sel_matrix", "SELSVD", "sel_svd",
]
