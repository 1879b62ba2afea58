"""Closed forms of the SELI geometry under (R, rho)-STEP imbalance (Theorem 1, alpha = 1).

From the eigenstructure (spectrum.py): G_W = V Lam V^T = sum sigma_j Pi_j, G_M = V Lam^{-1} V^T =
sum Pi_j / sigma_j and the logits W^T M = V V^T = sum Pi_j, over the three nonzero eigenvalues
with their projectors Pi_j. The entries are first formed in abstract singular values sigma_maj,
sigma_min, sigma_mix and the counts m, s, tidied there, and only then written in k, R, rho, n_min
(m = (1 - rho) k, s = rho k).

Names: w_* are classifiers (G_W), h_* class means (G_M); *_maj_sq / *_min_sq squared norms;
*_majmaj, *_minmin, *_majmin inner products of two *different* classes; cos_* the cosines;
cos_align_* = cos(w_c, mu_c); w_norm_ratio = ||w_maj||^2 / ||w_min||^2 and h_norm_ratio =
||h_maj||^2 / ||h_min||^2 (squared, as Lemma 3.1 prints them).

Domain: k >= 2, 1 <= s = rho k <= k - 1 whole, R >= 1, n_min > 0. A pair entry is an entry of the
Gram matrix only when the pair exists: *_majmaj needs m >= 2 and *_minmin needs s >= 2. With
m = 1 (s = 1) the expression is still defined but stands for no entry, and sigma_maj (sigma_min)
has multiplicity m - 1 = 0 (s - 1 = 0): it is not a singular value then.

>>> cf = closed_forms()
>>> k, R, rho, n_min = symbols()
>>> cf["sigma_mix"]
sqrt(n_min)*sqrt(R*rho - rho + 1)
>>> cf["cos_w_minmin"].subs({rho: sympy.Rational(1, 2)}).equals(
...     (-2 + sympy.sqrt((R + 1) / 2)) / (k - 2 + sympy.sqrt((R + 1) / 2)))   # Eq. (4)
True
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy

from .blocks import BlockMatrix
from .spectrum import step_spectrum
from .symbols import S_MAJ, S_MIN, S_MIX, counts_substitution, m, s, symbols

# name -> (LaTeX symbol, description, paper reference)
FORMULA_INFO: dict[str, tuple[str, str, str]] = {
    "sigma_maj": (r"\sigma_{\mathrm{maj}}",
                  "singular value of Zhat on zero-sum vectors of the majority block, multiplicity m - 1",
                  "Sec. 3.2 / Sec. A (derived)"),
    "sigma_min": (r"\sigma_{\mathrm{min}}",
                  "singular value of Zhat on zero-sum vectors of the minority block, multiplicity s - 1",
                  "Sec. 3.2 / Sec. A (derived)"),
    "sigma_mix": (r"\sigma_{\mathrm{mix}}",
                  "singular value of Zhat on the block-constant vector (1/m on majorities, -1/s on minorities)",
                  "Sec. 3.2 / Sec. A (derived)"),
    "nuclear_norm": (r"\|\hat{\mathbf Z}\|_*",
                     "nuclear norm of the SEL matrix: the optimal UF-SVM cost p*, equal to the squared "
                     "Frobenius norms of W and of H",
                     "Theorem 1"),
    "w_maj_sq": (r"\|\mathbf w_{\mathrm{maj}}\|_2^2", "squared norm of a majority classifier",
                 "Theorem 1 (ii), Sec. B (derived)"),
    "w_min_sq": (r"\|\mathbf w_{\mathrm{min}}\|_2^2", "squared norm of a minority classifier",
                 "Theorem 1 (ii), Sec. B (derived)"),
    "w_majmaj": (r"\mathbf w_{\mathrm{maj}}^T\mathbf w_{\mathrm{maj}}'",
                 "inner product of two different majority classifiers (needs m >= 2)",
                 "Theorem 1 (ii), Sec. B (derived)"),
    "w_minmin": (r"\mathbf w_{\mathrm{min}}^T\mathbf w_{\mathrm{min}}'",
                 "inner product of two different minority classifiers (needs s >= 2)",
                 "Theorem 1 (ii), Sec. B (derived)"),
    "w_majmin": (r"\mathbf w_{\mathrm{maj}}^T\mathbf w_{\mathrm{min}}",
                 "inner product of a majority and a minority classifier",
                 "Theorem 1 (ii), Sec. B (derived)"),
    "h_maj_sq": (r"\|\boldsymbol\mu_{\mathrm{maj}}\|_2^2", "squared norm of a majority class mean",
                 "Theorem 1 (ii), Sec. B (derived)"),
    "h_min_sq": (r"\|\boldsymbol\mu_{\mathrm{min}}\|_2^2", "squared norm of a minority class mean",
                 "Theorem 1 (ii), Sec. B (derived)"),
    "h_majmaj": (r"\boldsymbol\mu_{\mathrm{maj}}^T\boldsymbol\mu_{\mathrm{maj}}'",
                 "inner product of two different majority class means (needs m >= 2); negative",
                 "Theorem 1 (ii), Sec. B (derived)"),
    "h_minmin": (r"\boldsymbol\mu_{\mathrm{min}}^T\boldsymbol\mu_{\mathrm{min}}'",
                 "inner product of two different minority class means (needs s >= 2); negative",
                 "Theorem 1 (ii), Sec. B (derived)"),
    "h_majmin": (r"\boldsymbol\mu_{\mathrm{maj}}^T\boldsymbol\mu_{\mathrm{min}}",
                 "inner product of a majority and a minority class mean; negative",
                 "Theorem 1 (ii), Sec. B (derived)"),
    "w_norm_ratio": (r"\|\mathbf w_{\mathrm{maj}}\|_2^2/\|\mathbf w_{\mathrm{min}}\|_2^2",
                     "ratio of squared classifier norms, majority over minority",
                     "Lemma 3.1 (general rho)"),
    "h_norm_ratio": (r"\|\boldsymbol\mu_{\mathrm{maj}}\|_2^2/\|\boldsymbol\mu_{\mathrm{min}}\|_2^2",
                     "ratio of squared class-mean norms, majority over minority",
                     "Lemma 3.1 (general rho)"),
    "cos_w_majmaj": (r"\cos(\mathbf w_{\mathrm{maj}},\mathbf w_{\mathrm{maj}}')",
                     "cosine between two majority classifiers (needs m >= 2)", "Eq. (4) (general rho)"),
    "cos_w_minmin": (r"\cos(\mathbf w_{\mathrm{min}},\mathbf w_{\mathrm{min}}')",
                     "cosine between two minority classifiers (needs s >= 2)", "Eq. (4) (general rho)"),
    "cos_w_majmin": (r"\cos(\mathbf w_{\mathrm{maj}},\mathbf w_{\mathrm{min}})",
                     "cosine between a majority and a minority classifier", "Sec. B (derived)"),
    "cos_h_majmaj": (r"\cos(\boldsymbol\mu_{\mathrm{maj}},\boldsymbol\mu_{\mathrm{maj}}')",
                     "cosine between two majority class means (needs m >= 2)", "Sec. B (derived)"),
    "cos_h_minmin": (r"\cos(\boldsymbol\mu_{\mathrm{min}},\boldsymbol\mu_{\mathrm{min}}')",
                     "cosine between two minority class means (needs s >= 2)", "Sec. B (derived)"),
    "cos_h_majmin": (r"\cos(\boldsymbol\mu_{\mathrm{maj}},\boldsymbol\mu_{\mathrm{min}})",
                     "cosine between a majority and a minority class mean", "Sec. B (derived)"),
    "cos_align_maj": (r"\cos(\mathbf w_{\mathrm{maj}},\boldsymbol\mu_{\mathrm{maj}})",
                      "alignment of a majority classifier with its class mean", "Sec. 3.1, Sec. B (derived)"),
    "cos_align_min": (r"\cos(\mathbf w_{\mathrm{min}},\boldsymbol\mu_{\mathrm{min}})",
                      "alignment of a minority classifier with its class mean", "Sec. 3.1, Sec. B (derived)"),
}

NAMES: tuple[str, ...] = tuple(FORMULA_INFO)


@dataclass(frozen=True)
class StepGeometry:
    """The SELI Gram matrices as block matrices in abstract sigmas and counts m, s.

    `sigmas` maps S_MAJ, S_MIN, S_MIX to their values sqrt(eigenvalue) in m, s, R, n_min.
    """

    W_gram: BlockMatrix  # G_W = sum sigma Pi
    M_gram: BlockMatrix  # G_M = sum Pi / sigma
    logits: BlockMatrix  # W^T M = sum Pi = P
    sigmas: dict


@lru_cache(maxsize=1)
def step_geometry() -> StepGeometry:
    sp = step_spectrum()
    abstract = {"maj": S_MAJ, "min": S_MIN, "mix": S_MIX}
    nonzero = [e for e in sp.spaces if e.name != "kernel"]

    def combine(weight) -> BlockMatrix:
        out = BlockMatrix.identity().scale(0)
        for e in nonzero:
            out = out + e.projector.scale(weight(abstract[e.name]))
        return out

    return StepGeometry(
        W_gram=combine(lambda S: S),
        M_gram=combine(lambda S: 1 / S),
        logits=combine(lambda S: 1),
        sigmas={abstract[e.name]: sympy.sqrt(e.value) for e in nonzero},
    )


def closed_forms() -> dict[str, sympy.Expr]:
    """Every closed form of the module docstring, in k, R, rho, n_min (Theorem 1's scale).

    A fresh dict each call (the expressions themselves are derived once per process).
    """
    return dict(_closed_forms())


def closed_forms_in_counts() -> dict[str, sympy.Expr]:
    """The closed forms in the counts m, s (k = m + s), R and n_min, before m = (1 - rho) k, s = rho k.

    Here every symbol is positive, so SymPy reads the sign of the G_M off-diagonal entries
    directly (h_majmaj, h_minmin, h_majmin are visibly negative).
    """
    return dict(_closed_forms_in_counts())


@lru_cache(maxsize=1)
def _closed_forms() -> dict[str, sympy.Expr]:
    return {name: _to_parameters(expr) for name, expr in _closed_forms_in_counts().items()}


@lru_cache(maxsize=1)
def _closed_forms_in_counts() -> dict[str, sympy.Expr]:
    g = step_geometry()
    sp = step_spectrum()
    mult = {e.name: e.multiplicity for e in sp.spaces}
    W, M, L = g.W_gram, g.M_gram, g.logits
    entries = {
        "w_maj_sq": W.d_maj, "w_min_sq": W.d_min,
        "w_majmaj": W.o_maj, "w_minmin": W.o_min, "w_majmin": W.x_mm,
        "h_maj_sq": M.d_maj, "h_min_sq": M.d_min,
        "h_majmaj": M.o_maj, "h_minmin": M.o_min, "h_majmin": M.x_mm,
    }
    t = {name: _tidy(e, g.sigmas, rationalize=name in ("h_majmaj", "h_minmin"))
         for name, e in entries.items()}
    ratios = {
        "nuclear_norm": mult["maj"] * S_MAJ + mult["min"] * S_MIN + mult["mix"] * S_MIX,
        "w_norm_ratio": W.d_maj / W.d_min, "h_norm_ratio": M.d_maj / M.d_min,
        "cos_w_majmaj": W.o_maj / W.d_maj, "cos_w_minmin": W.o_min / W.d_min,
        "cos_h_majmaj": M.o_maj / M.d_maj, "cos_h_minmin": M.o_min / M.d_min,
    }
    out = {name: sympy.sqrt(sympy.factor(sympy.cancel(v**2))) for name, v in
           (("sigma_maj", g.sigmas[S_MAJ]), ("sigma_min", g.sigmas[S_MIN]), ("sigma_mix", g.sigmas[S_MIX]))}
    out.update(t)
    out.update({name: _tidy(e, g.sigmas) for name, e in ratios.items()})
    # cosines across blocks and alignments: inner product over the product of the two norms
    out["cos_w_majmin"] = t["w_majmin"] / sympy.sqrt(t["w_maj_sq"] * t["w_min_sq"])
    out["cos_h_majmin"] = t["h_majmin"] / sympy.sqrt(t["h_maj_sq"] * t["h_min_sq"])
    out["cos_align_maj"] = _tidy(L.d_maj, {}) / sympy.sqrt(t["w_maj_sq"] * t["h_maj_sq"])
    out["cos_align_min"] = _tidy(L.d_min, {}) / sympy.sqrt(t["w_min_sq"] * t["h_min_sq"])
    return {name: out[name] for name in NAMES}


# --- tidying: mechanical rewrites, each an identity (checked by checks.verify_tidying) ---

def _tidy(expr: sympy.Expr, sigmas: dict, rationalize: bool = False) -> sympy.Expr:
    """Over a common denominator in the abstract sigmas, coefficients factored, sigmas written out.

    With `rationalize`, a numerator a - b (a, b > 0, one sigma each) becomes (a^2 - b^2)/(a + b)
    with a^2 - b^2 free of radicals: a difference of square roots turned into a form whose sign
    can be read off (the off-diagonal entries of G_M, Theorem 1's dual certificate).
    """
    S = tuple(sigmas) or (S_MAJ, S_MIN, S_MIX)
    num, den = sympy.fraction(sympy.cancel(sympy.together(expr)))
    num = sympy.collect(sympy.expand(num), S, func=sympy.factor)
    den = sympy.collect(sympy.expand(den), S, func=sympy.factor)
    if rationalize:
        num = _rationalize(num, sigmas)
    out = (num / den).subs(sigmas)
    n2, d2 = sympy.fraction(out)
    return sympy.factor_terms(n2) / sympy.factor_terms(d2)


def _rationalize(num: sympy.Expr, sigmas: dict) -> sympy.Expr:
    """c1 S1 + c2 S2 with c1 > 0 > c2  ->  (c1^2 S1^2 - c2^2 S2^2) / (c1 S1 - c2 S2)."""
    poly = sympy.Poly(num, *sigmas)
    terms = poly.terms()
    if len(terms) != 2 or any(sum(mon) != 1 for mon, _ in terms):
        raise ArithmeticError(f"cannot rationalize {num}: not two sigma terms")
    gens = poly.gens
    (m1, c1), (m2, c2) = terms
    a = sympy.factor(c1) * gens[m1.index(1)]
    b = -sympy.factor(c2) * gens[m2.index(1)]
    if a.is_negative and b.is_negative:
        a, b = -b, -a
        sign = -1
    elif a.is_positive and b.is_positive:
        sign = 1
    else:
        raise ArithmeticError(f"cannot rationalize {num}: signs of its terms undecided")
    diff_sq = sympy.factor(sympy.expand((a**2 - b**2).subs(sigmas)))
    return sign * diff_sq / (a + b)


def _to_parameters(expr: sympy.Expr) -> sympy.Expr:
    """m + s -> k, then m -> (1 - rho) k, s -> rho k; numerator and denominator tidied apart."""
    k, _, rho, _ = symbols()
    e = expr.subs(m + s, k).subs(counts_substitution())
    e = e.replace(lambda x: x.is_Pow and x.exp == sympy.Rational(1, 2),
                  lambda x: sympy.sqrt(sympy.factor(sympy.cancel(x.base))))
    num, den = sympy.fraction(sympy.together(e))
    return _collect_radicals(num) / _collect_radicals(den)


def _collect_radicals(expr: sympy.Expr) -> sympy.Expr:
    """Common factors out, then the rest collected over its radicals, each coefficient in its
    shortest form among as-is, expanded and factored."""
    expr = sympy.factor_terms(expr)
    factors = sympy.Mul.make_args(expr)
    out = sympy.Integer(1)
    for f in factors:
        if f.is_Add:
            radicals = sorted(f.atoms(sympy.Pow) - {p for p in f.atoms(sympy.Pow) if p.exp.is_Integer},
                              key=sympy.default_sort_key)
            f = sympy.collect(sympy.expand(f), radicals, func=_shortest)
        out *= f
    return out


def _shortest(c: sympy.Expr) -> sympy.Expr:
    return min((c, sympy.expand(c), sympy.factor(c)), key=sympy.count_ops)
