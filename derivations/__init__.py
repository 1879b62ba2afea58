"""SymPy derivations of the SELI geometry under (R, rho)-STEP imbalance, and their verification.

Public names:
  symbols          symbols() -> (k, R, rho, n_min), positive; majority_count(), minority_count(),
                   positive_parametrization()
  eigenstructure   step_spectrum() -> StepSpectrum (P D P solved on block-structured vectors)
  closed forms     closed_forms() -> {name: expr} in k, R, rho, n_min (Theorem 1, alpha = 1);
                   closed_forms_in_counts() (in m, s); NAMES; FORMULA_INFO
  paper            lemma_3_1(), eq_4() (the printed formulas), ce_gradient_multiplier()
  secular          secular_residual(), secular_eigenvalues(counts) (arbitrary class counts)
  verification     Verification, Status, verify_identity, verify_sign and the verify_* checks
  export           formula_records(), to_json(), to_markdown(), to_latex()

Every closed form is derived: the eigenvalues and eigenvectors are solved for, never typed in;
the paper's printed formulas are kept apart (paper.py) as the independent route they are checked
against.

>>> k, R, rho, n_min = symbols()
>>> closed_forms()["h_majmin"]
-1/(k*sqrt(n_min)*sqrt(R*rho - rho + 1))
"""

from .closed_forms import FORMULA_INFO, NAMES, closed_forms, closed_forms_in_counts, step_geometry
from .spectrum import Eigenspace, StepSpectrum, step_spectrum
from .symbols import majority_count, minority_count, positive_parametrization, symbols

__all__ = [
    "symbols", "majority_count", "minority_count", "positive_parametrization",
    "step_spectrum", "StepSpectrum", "Eigenspace",
    "closed_forms", "closed_forms_in_counts", "step_geometry", "NAMES", "FORMULA_INFO",
]
