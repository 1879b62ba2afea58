"""SymPy derivations of the SELI geometry under (R, rho)-STEP imbalance, and their verification.

Public names:
  symbols          symbols() -> (k, R, rho, n_min), positive; majority_count(), minority_count(),
                   positive_parametrization()
  eigenstructure   step_spectrum() -> StepSpectrum (P D P solved on block-structured vectors)
  closed forms     closed_forms() -> {name: expr} in k, R, rho, n_min (Theorem 1, alpha = 1);
                   closed_forms_in_counts() (in m, s); NAMES; FORMULA_INFO
  paper            lemma_3_1(), eq_4(), etf_cosine() (the printed formulas, typed in)
  Lemma A.1 (v)    ce_gradient(), ce_gradient_multiplier() (derived)
  secular          secular_derivation(), secular_residual(), secular_spectrum(counts)
                   (arbitrary class counts)
  verification     verify_identity, verify_sign, decide_sign and the verify_* checks
                   (verify_all() runs the fixed set), each returning a seli_exact Verdict;
                   Verdict, Status; mp_tol, float64_tol (their tolerances)
  export           formula_records(), parse(), to_json(), to_markdown(), to_latex(),
                   record_locals() (the names a record's sympy string may use)
  any counts       the module any_counts: Theorem 1 for every count vector, its proof (steps 1-7)
                   and SymPy side: ClassMatrix, class_sum (general k), verify_step1, verify_step2,
                   verify_step4, verify_step5_scalar, verify_step5_integrands,
                   verify_step6_symbolic; slack_bound, simple_slack_bound (step 6);
                   any_counts_formulas() (= any_counts.formulas(), the export records' source)
                   and evaluate() (a formula at a count vector)

Every closed form is derived: the eigenvalues and eigenvectors are solved for, never typed in;
the paper's printed formulas are kept apart (paper.py, the one place they are typed in; the
checker reads them from there) as the independent route they are checked against.

>>> k, R, rho, n_min = symbols()
>>> closed_forms()["h_majmin"]
-1/(k*sqrt(n_min)*sqrt(R*rho - rho + 1))
"""

from seli_exact.verdict import Status, Verdict

from . import any_counts
from .any_counts import (
    ClassMatrix,
    class_sum,
    evaluate,
    simple_slack_bound,
    slack_bound,
    verify_step1,
    verify_step2,
    verify_step4,
    verify_step5_integrands,
    verify_step5_scalar,
    verify_step6_symbolic,
)
from .any_counts import formulas as any_counts_formulas
from .checks import (
    limits,
    raw_forms,
    seli_exact_values,
    verify_against_seli_exact,
    verify_all,
    verify_class_mean_gram_signs,
    verify_eq_4,
    verify_etf_reduction,
    verify_gradient_identity,
    verify_lemma_3_1,
    verify_limits,
    verify_monotonicity,
    verify_norm_order,
    verify_secular_against_seli_exact,
    verify_secular_identity,
    verify_step_spectrum,
    verify_tidying,
)
from .closed_forms import FORMULA_INFO, NAMES, closed_forms, closed_forms_in_counts, step_geometry
from .export import formula_records, parse, record_locals, to_json, to_latex, to_markdown
from .gradient import ce_gradient, ce_gradient_multiplier
from .paper import eq_4, etf_cosine, lemma_3_1
from .secular import secular_derivation, secular_residual, secular_spectrum
from .spectrum import Eigenspace, StepSpectrum, step_spectrum
from .symbols import majority_count, minority_count, positive_parametrization, symbols
from .verify import decide_sign, float64_tol, mp_tol, verify_identity, verify_sign

__all__ = [
    "symbols", "majority_count", "minority_count", "positive_parametrization",
    "step_spectrum", "StepSpectrum", "Eigenspace",
    "closed_forms", "closed_forms_in_counts", "step_geometry", "NAMES", "FORMULA_INFO",
    "lemma_3_1", "eq_4", "etf_cosine", "ce_gradient", "ce_gradient_multiplier",
    "secular_derivation", "secular_residual", "secular_spectrum",
    "Verdict", "Status", "verify_identity", "verify_sign", "decide_sign", "mp_tol", "float64_tol",
    "verify_step_spectrum", "verify_tidying", "verify_against_seli_exact", "seli_exact_values",
    "verify_class_mean_gram_signs",
    "verify_lemma_3_1", "verify_eq_4", "verify_norm_order", "verify_monotonicity", "limits",
    "verify_limits", "verify_etf_reduction", "verify_gradient_identity", "verify_secular_identity",
    "verify_secular_against_seli_exact", "verify_all", "raw_forms",
    "formula_records", "parse", "to_json", "to_markdown", "to_latex", "record_locals",
    "any_counts", "ClassMatrix", "class_sum", "slack_bound", "simple_slack_bound", "verify_step1",
    "verify_step2", "verify_step4", "verify_step5_scalar", "verify_step5_integrands",
    "verify_step6_symbolic", "any_counts_formulas", "evaluate",
]
