"""Theorem 1 for every class-count vector: the proof, written out, and its SymPy side.

The paper proves Theorem 1 for (R, rho)-STEP imbalance (Definition 1). The statement below holds
for every vector of class counts; it extends the paper, and this module and
proofs_check/any_counts_steps.py check each step.

THEOREM. Let k >= 2, n_1, ..., n_k >= 1 be any class counts, d >= k - 1, and Zhat the SEL matrix
(Definition 2) with compact SVD Zhat^T = U Lam V^T. Every solution (W, H) of the UF-SVM (2)
satisfies p* = ||Zhat||_* = ||H||_F^2 = ||W||_F^2 and (i) W^T H = Zhat, (ii) H^T H = U Lam U^T,
W^T W = V Lam V^T, (iii) W = R^T Lam^{1/2} V^T, H = R^T Lam^{1/2} U^T (R partial orthonormal);
so Corollaries 1.1 (NC) and 1.2 (SELI) hold for every count vector. Moreover, with d_c = 1/n_c,
s = sum_c d_c, L = diag(d) - d d^T / s, u_c(t) = d_c/(d_c + t) = 1/(1 + n_c t) and
sigma(t) = sum_c u_c(t):

    G_M = V Lam^{-1} V^T = L^{1/2},    G_W = V Lam V^T = (P D P)^{1/2},
    G_M[i, j] = -(1/pi) int_0^inf u_i u_j / (sqrt(t) sigma(t)) dt <= -F_k(n_i, n_j) < 0  (i != j),
    F_k(a, b) = 1 / sqrt(k ((k - 1)(a + b) + 2 sqrt(k (k - 2) a b)))
              >= 1 / (sqrt(k (k - 1)) (sqrt(a) + sqrt(b)))  >  1 / (k (sqrt(a) + sqrt(b))).

PROOF (steps 1-7; "[SymPy]" marks what this module
proves symbolically, for each k = 2..8 with symbolic counts and for general k in the class-matrix
algebra below, "[numeric]" what proofs_check/any_counts_steps.py checks at 50 digits).

Step 1. Column i of Zhat is e_{y_i} - 1/k = P e_{y_i} (P = I - 11^T/k). Grouping the columns by
class, Zhat Zhat^T = sum_c n_c P e_c e_c^T P = P D P with D = diag(n). [SymPy]

Step 2. L 1 = d - d (s/s) = 0 and L = L^T. D L = I - 1 d^T/s (D d = 1), so P D L = P (P 1 = 0);
P L = L (1^T L = 0), so (P D P) L = P D L = P, and L (P D P) = ((P D P) L)^T = P. P is the
orthogonal projector onto 1^perp = range(P D P) (rank k - 1: every n_c > 0). So all four Penrose
conditions hold, (PDP) L (PDP) = PDP, L (PDP) L = L, both products symmetric: L = (P D P)^+.
Also L >= 0: x^T L x = sum_c d_c x_c^2 - (sum_c d_c x_c)^2 / s >= 0 (Cauchy-Schwarz). [SymPy]

Step 3. P D P = Zhat Zhat^T = V Lam^2 V^T, so L = (P D P)^+ = V Lam^{-2} V^T, whose unique
positive semidefinite square root is V Lam^{-1} V^T = G_M; likewise G_W = V Lam V^T =
(P D P)^{1/2}. [numeric: G_M^2 = L with G_M from the secular SVD, against the dense and the
integral routes, 50 digits]

Step 4. For t > 0, L + tI = diag(d + t) - d d^T/s. Sherman-Morrison with A = diag(d + t): the
denominator is s - d^T A^{-1} d = sum_c d_c (1 - d_c/(d_c + t)) = t sigma(t) > 0, so
(L + tI)^{-1} = diag(1/(d + t)) + u u^T / (t sigma(t)), and for i != j
[(L + tI)^{-1}]_ij = d_i d_j / ((d_i + t)(d_j + t) t sigma(t)). [SymPy: (L + tI) R = R (L + tI) = I]

Step 5. For x >= 0, (1/pi) int_0^inf t^{-1/2} x/(x + t) dt = sqrt(x) [SymPy]. On the eigenvalues
of L >= 0 this gives L^{1/2} = (1/pi) int_0^inf t^{-1/2} (I - t (L + tI)^{-1}) dt (entrywise
convergent), so by step 4 [SymPy: the integrands]
    G_M[i, j] = -(1/pi) int_0^inf u_i u_j / (sqrt(t) sigma) dt < 0        (i != j),
    G_M[i, i] =  (1/pi) int_0^inf u_i (sigma - u_i) / (sqrt(t) sigma) dt > 0,
the first integrand positive (about 1/(k sqrt(t)) at 0, d_i d_j/(s t^{3/2}) at infinity), the
second too since sigma - u_i = sum_{c != i} u_c > 0 for k >= 2. (G_M 1 = 0, so the diagonal is
also minus the sum of its row's off-diagonal entries: its sign follows from theirs.) With
x^{-1/2} = (1/pi) int_0^inf t^{-1/2}/(x + t) dt [SymPy], on 1^perp,
    G_W = (1/pi) int_0^inf t^{-1/2} ((L + tI)^{-1} - 11^T/(k t)) dt,
    G_W[i, j] = [i = j] sqrt(n_i) + 1/(k pi) int_0^inf u_i u_j (A/sigma - n_i - n_j - n_i n_j t)/sqrt(t) dt,
A(t) = sum_c n_c u_c(t), from k u_i u_j - sigma = t u_i u_j (A - (n_i + n_j + n_i n_j t) sigma)
[SymPy]. [numeric: both formulas against the secular G_M, G_W at 50 digits]

Step 6. Every u_c <= 1, so sigma(t) <= k - 2 + u_i + u_j <= k [SymPy]. With sigma <= k and
int_0^inf t^{-1/2} u_i u_j dt = pi/(sqrt(n_i) + sqrt(n_j)) [SymPy], -G_M[i, j] >=
1/(k (sqrt(n_i) + sqrt(n_j))), the first bound. Keeping u_i, u_j:
u_i u_j / (k - 2 + u_i + u_j) = 1 / ((k - 2) n_i n_j t^2 + (k - 1)(n_i + n_j) t + k) [SymPy], and
(1/pi) int_0^inf dt / (sqrt(t) (alpha t^2 + beta t + gamma)) = 1/sqrt(gamma (beta + 2 sqrt(alpha gamma)))
[SymPy, via t = u^2 and alpha t^2 + beta t + gamma = alpha (t + p^2)(t + q^2) with p, q > 0: the
discriminant is (k - 1)^2 (n_i - n_j)^2 + 4 n_i n_j > 0], so -G_M[i, j] >= F_k(n_i, n_j).
Best possible: sigma grows with each d_c (c != i, j) toward k - 2 + u_i + u_j, reached in the
limit n_c / n_i, n_c / n_j -> 0 (by homogeneity: the pair's counts -> infinity with the others
fixed), so by monotone convergence -G_M[i, j] decreases to F_k(n_i, n_j): no bound in k, n_i, n_j
alone is larger. For k = 2 it is an equality. In the form c / (sqrt(n_i) + sqrt(n_j)): with
x = sqrt(n_j / n_i), beta = sqrt(k (k - 2)) and v = 2x/(1 + x^2) in (0, 1],
(F_k (sqrt(n_i) + sqrt(n_j)))^2 = (1 + x)^2 / (k ((k - 1)(1 + x^2) + 2 beta x))
= (1 + v) / (k ((k - 1) + beta v)), increasing in v because k - 1 > beta
((k - 1)^2 - k (k - 2) = 1 [SymPy]); its infimum, at v -> 0 (n_i / n_j -> 0 or infinity), is
1/(k (k - 1)). So -G_M[i, j] > 1/(sqrt(k (k - 1)) (sqrt(n_i) + sqrt(n_j))), and sqrt(k (k - 1))
is the best constant of that form: better than the first bound's k by the factor
sqrt(k / (k - 1)). [numeric: against interval enclosures of the exact G_M on hypothesis count
vectors, with the worst ratio -G_M / F_k reported; a family with n_i, n_j -> infinity shows the
ratio -> 1]

Step 7. Where the rest of Sec. 3.3 used STEP (the paper defers details to Sec. C.1; here is the
argument reconstructed for any counts, B in R^{n x k}):
 (a) The dual of (5) is (6): multipliers lambda_ic >= 0 (c != y_i) assemble into B with
     B[i, c] = -lambda_ic, B[i, y_i] = sum_c lambda_ic, i.e. B 1 = 0 and B * Zhat^T >= 0; the
     Lagrangian is ||Z||_* - tr(Z B) + sum lambda, whose infimum over Z is 0 when ||B||_2 <= 1
     (else -inf), and sum lambda = sum_i B[i, y_i] = tr(Zhat B) as B 1 = 0. Weak duality for
     feasible Z: ||Z||_* >= tr(Z B) = sum_i sum_{c != y_i} (-B[i, c]) (Z[y_i, i] - Z[c, i])
     >= tr(Zhat B). No STEP.
 (b) B_hat = U V^T has ||B_hat||_2 = 1, B_hat 1 = 0 (V^T 1 = 0 because Zhat^T 1 = 0) and
     tr(Zhat B_hat) = tr(Lam) = ||Zhat||_*; row i of B_hat is V[y_i] Lam^{-1} V^T = G_M[y_i, :].
     No STEP. B_hat * Zhat^T >= 0 is the sign condition: the paper's "explicit construction of
     the singular factors", and the ONLY place STEP is used; steps 1-6 replace it.
 (c) Zhat is feasible with every margin 1 and ||Zhat||_* = tr(Zhat B_hat): strong duality, Zhat
     solves (5) and B_hat solves (6). Uses the sign condition (>= 0).
 (d) Uniqueness of Zhat in (5): an optimal Z makes (a)'s chain tight for B_hat, so
     sum_i sum_{c != y_i} (-B_hat[i, c]) (Z[y_i, i] - Z[c, i] - 1) = 0; every -B_hat[i, c] > 0
     (the strict sign condition, off-diagonal part) forces every margin to 1, i.e.
     Z = Zhat + 1 a^T. As Zhat^T 1 = 0, Z^T Z = Zhat^T Zhat + k a a^T, and the trace of the
     square root is strictly Loewner-increasing, so ||Z||_* > ||Zhat||_* unless a = 0. Uses the
     strict sign condition only. (B_hat is also the unique solution of (6) for any counts: an
     optimal B has ||B||_2 <= 1 and tr(Zhat B) = ||Zhat||_*, so B = U V^T + W with U^T W = 0,
     W V = 0; B 1 = 0 gives W 1 = 0, and [V, 1/sqrt(k)] is a basis of R^k, so W = 0. The primal
     uniqueness does not need it.)
 (e) Tightness for d >= k - 1: ||W^T H||_* <= ||W||_F ||H||_F <= (||W||_F^2 + ||H||_F^2)/2, so
     p*(2) >= ||Zhat||_*, attained by (iii)'s W, H (R needs d >= k - 1). For a solution, W^T H
     is feasible for (5) with ||W^T H||_* <= ||Zhat||_*, hence = Zhat by (d): (i); equality in
     both inequalities gives ||W||_F = ||H||_F and W^T W = (Zhat Zhat^T)^{1/2} = V Lam V^T,
     H^T H = (Zhat^T Zhat)^{1/2} = U Lam U^T: (ii), and (iii) up to the rotation R. No STEP.
So STEP entered Sec. 3.3 only through the sign condition: non-strictly for (c), strictly (its
off-diagonal half) for (d). Steps 1-6 prove it for every count vector. QED.

The class-matrix algebra (general k). Every matrix in steps 1-5 has the form
diag(f(n_c)) + sum_r coef_r g_r h_r^T, with f, g_r, h_r functions of a class's count (written in
the symbol x) and coef_r free of the classes. Products need only class sums sum_c g(n_c) h(n_c);
`class_sum` reduces them by partial fractions in x to the power sums (k = sum 1, N = sum n_c,
s = sum 1/n_c) and the resolvent sums sigma = sum 1/(1 + n_c t), T_m = sum (1 + n_c t)^{-m},
treated as independent symbols (so an identity proven here holds for every k and every counts).
A matrix is zero when its off-diagonal entry g(x) h(y) summed (two independent classes x, y) and
its diagonal entry f(x) + sum g(x) h(x) cancel to 0.

>>> ClassMatrix.pdp().matmul(ClassMatrix.L()).equals(ClassMatrix.P())    # (P D P) L = P, any k
True
>>> verify_step6_symbolic().status.value
'verified'
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import mpmath
import sympy

from seli_exact.verdict import Status, Verdict

from .symbols import symbols as step_symbols

# --- symbols ---------------------------------------------------------------------------------
k = step_symbols()[0]  # the number of classes, the same positive symbol as the STEP formulas
t = sympy.Symbol("t", positive=True)  # the resolvent / integration variable
n = sympy.IndexedBase("n", positive=True)  # n[c]: the count of class c
i, j, c, l = sympy.symbols("i j c l", integer=True, positive=True)  # class indices (1..k)
# the class-matrix algebra: the counts of two distinct classes, and the class sums
x, y = sympy.symbols("x y", positive=True)
N_SUM = sympy.Symbol("N", positive=True)  # sum_c n_c
S_INV = sympy.Symbol("s", positive=True)  # sum_c 1/n_c
SIGMA = sympy.Symbol("sigma", positive=True)  # sum_c 1/(1 + n_c t)

LOCAL_NAMES = ("k", "t", "n", "i", "j", "c", "l")


def any_counts_locals() -> dict:
    """The names the any-counts formula strings use, for sympy.sympify (k, t, n, i, j, c, l)."""
    return dict(zip(LOCAL_NAMES, (k, t, n, i, j, c, l)))


# --- class sums and the class-matrix algebra (general k) --------------------------------------
def class_sum(expr: sympy.Expr) -> sympy.Expr:
    """sum over the classes of an entry function of x (a class's count), by partial fractions.

    Terms c x^e give c times the power sum (k, N, s for e = 0, 1, -1; S_e otherwise); terms
    c / (1 + t x)^m give c T_m (T_1 = sigma).

    >>> class_sum(x / (1 + t * x))        # sum n_c / (1 + n_c t) = (k - sigma) / t
    k/t - sigma/t
    """
    expr = sympy.sympify(expr)
    if not expr.has(x):
        return k * expr
    out = sympy.Integer(0)
    for part in sympy.Add.make_args(sympy.apart(sympy.together(expr), x)):
        if not part.has(x):
            out += k * part
            continue
        coeff, e = part.as_coeff_exponent(x)
        if not coeff.has(x) and e.is_integer:
            out += coeff * _power_sum(int(e))
            continue
        m = sympy.degree(sympy.denom(sympy.together(part)), x)
        rest = sympy.cancel(part * (1 + t * x) ** m)
        if rest.has(x):
            raise ArithmeticError(f"class_sum: no rule for the term {part}")
        out += rest * (SIGMA if m == 1 else sympy.Symbol(f"T_{m}", positive=True))
    return sympy.expand(out)


def _power_sum(e: int) -> sympy.Expr:
    return {0: k, 1: N_SUM, -1: S_INV}.get(e) or sympy.Symbol(f"S_{e}")


@dataclass(frozen=True)
class ClassMatrix:
    """diag(f(x)) + sum_r coef_r g_r(x) h_r(x)^T for any k: a k x k matrix whose entries are
    functions of the counts of its row and column classes (module doc)."""

    diag: sympy.Expr
    terms: tuple = ()  # ((coef, g, h), ...)

    @staticmethod
    def identity() -> "ClassMatrix":
        return ClassMatrix(sympy.Integer(1))

    @staticmethod
    def P() -> "ClassMatrix":
        """P = I - 11^T/k."""
        return ClassMatrix(sympy.Integer(1), ((-1 / k, sympy.Integer(1), sympy.Integer(1)),))

    @staticmethod
    def D() -> "ClassMatrix":
        return ClassMatrix(x)

    @staticmethod
    def pdp() -> "ClassMatrix":
        return ClassMatrix.P().matmul(ClassMatrix.D()).matmul(ClassMatrix.P())

    @staticmethod
    def L() -> "ClassMatrix":
        """L = diag(d) - d d^T / s, d_c = 1/n_c."""
        return ClassMatrix(1 / x, ((-1 / S_INV, 1 / x, 1 / x),))

    @staticmethod
    def resolvent() -> "ClassMatrix":
        """Step 4's (L + tI)^{-1} = diag(1/(d + t)) + u u^T/(t sigma), u_c = 1/(1 + n_c t)."""
        u = 1 / (1 + t * x)
        return ClassMatrix(x / (1 + t * x), ((1 / (t * SIGMA), u, u),))

    def __add__(self, other: "ClassMatrix") -> "ClassMatrix":
        return ClassMatrix(self.diag + other.diag, self.terms + other.terms)

    def scale(self, a) -> "ClassMatrix":
        return ClassMatrix(a * self.diag, tuple((a * q, g, h) for q, g, h in self.terms))

    def __sub__(self, other: "ClassMatrix") -> "ClassMatrix":
        return self + other.scale(-1)

    @property
    def T(self) -> "ClassMatrix":
        return ClassMatrix(self.diag, tuple((q, h, g) for q, g, h in self.terms))

    def matmul(self, other: "ClassMatrix") -> "ClassMatrix":
        f, F = self.diag, other.diag
        terms = [(Q, f * G, H) for Q, G, H in other.terms]
        terms += [(q, g, h * F) for q, g, h in self.terms]
        terms += [(q * Q * class_sum(h * G), g, H) for q, g, h in self.terms for Q, G, H in other.terms]
        return ClassMatrix(f * F, tuple(terms))

    def apply(self, v: sympy.Expr) -> sympy.Expr:
        """The entry function of M v for a vector with entries v(x)."""
        return self.diag * v + sum((q * g * class_sum(h * v) for q, g, h in self.terms), sympy.Integer(0))

    def entries(self) -> tuple[sympy.Expr, sympy.Expr]:
        """(off-diagonal entry in the counts x, y of two distinct classes, diagonal entry in x)."""
        off = sum((q * g * h.subs(x, y) for q, g, h in self.terms), sympy.Integer(0))
        diag = self.diag + sum((q * g * h for q, g, h in self.terms), sympy.Integer(0))
        return off, diag

    def residual(self) -> tuple[sympy.Expr, sympy.Expr]:
        off, diag = self.entries()
        return sympy.cancel(sympy.together(off)), sympy.cancel(sympy.together(diag))

    def is_zero(self) -> bool:
        return all(r == 0 for r in self.residual())

    def equals(self, other: "ClassMatrix") -> bool:
        return (self - other).is_zero()


# --- explicit matrices for a given k (symbolic counts) -----------------------------------------
def count_symbols(kk: int) -> tuple[sympy.Symbol, ...]:
    """n_1, ..., n_k as positive symbols."""
    return sympy.symbols(f"n_1:{kk + 1}", positive=True)


def explicit(kk: int) -> dict:
    """The step 1-4 matrices for k = kk with symbolic counts: P, D, sel_gram (sum over classes of
    n_c z_c z_c^T, z_c = e_c - 1/k the columns of Zhat), L, sigma, resolvent (claimed)."""
    ns = count_symbols(kk)
    P = sympy.eye(kk) - sympy.ones(kk, kk) / kk
    D = sympy.diag(*ns)
    gram = sympy.zeros(kk, kk)
    for cc in range(kk):
        z = sympy.Matrix([(1 if a == cc else 0) - sympy.Rational(1, kk) for a in range(kk)])
        gram += ns[cc] * z * z.T
    d = sympy.Matrix([1 / v for v in ns])
    s = sum(1 / v for v in ns)
    L = sympy.diag(*d) - d * d.T / s
    u = sympy.Matrix([1 / (1 + t * v) for v in ns])
    sigma = sum(u)
    R = sympy.diag(*[v / (1 + t * v) for v in ns]) + u * u.T / (t * sigma)
    return {"counts": ns, "P": P, "D": D, "sel_gram": gram, "L": L, "sigma": sigma,
            "resolvent": R, "u": u}


def _entry_is_zero(e: sympy.Expr) -> bool:
    """A rational function of the counts (and t) is identically 0: its numerator over the
    common denominator expands to 0 (no gcds, which are what makes cancel slow at k = 8)."""
    num, _ = sympy.fraction(sympy.together(e))
    return sympy.expand(num) == 0


def _equivariant(M: sympy.Matrix, ns) -> bool:
    """M(counts with n_1 and n_c swapped) is M with rows and columns 1 and c swapped, for every
    c: M commutes with relabelling the classes (transpositions (1 c) generate all of them)."""
    kk = M.rows
    for cc in range(1, kk):
        swapped = M.xreplace({ns[0]: ns[cc], ns[cc]: ns[0]})
        perm = list(range(kk))
        perm[0], perm[cc] = cc, 0
        moved = M.extract(perm, perm)
        for a in range(kk):
            for b in range(kk):
                if swapped[a, b] != moved[a, b] and not _entry_is_zero(swapped[a, b] - moved[a, b]):
                    return False
    return True


def _witness(M: sympy.Matrix, tries: int = 5) -> dict | None:
    """Whole counts (and a rational t) where M is exactly nonzero, or None."""
    rng = random.Random(1)
    free = sorted(set().union(*[e.free_symbols for e in M]), key=str)
    for _ in range(tries):
        point = {v: (sympy.Rational(1, rng.randint(2, 9)) if v == t else sympy.Integer(rng.randint(1, 60)))
                 for v in free}
        vals = [sympy.simplify(e.xreplace(point)) if e.xreplace(point).free_symbols
                else e.xreplace(point) for e in M]
        bad = [v for v in vals if v != 0]
        if bad:
            return {"point": {str(key): str(val) for key, val in point.items()},
                    "value": str(max(bad, key=lambda z: abs(sympy.N(z))))}
    return None


# count vectors where a general-k residual is evaluated to refute it (t = 1/4: sqrt(t) rational)
WITNESS_COUNTS = ((1, 2, 5), (3, 3, 7, 2), (50, 50, 5, 5))


def _concrete(expr: sympy.Expr, counts: tuple[int, ...], tt=sympy.Rational(1, 4)) -> sympy.Expr:
    """A class-matrix entry (in x, y and the class-sum symbols) at a concrete count vector:
    x, y the counts of its first two classes, every class sum its value."""
    vals = [sympy.Integer(v) for v in counts]
    sub = {k: len(vals), N_SUM: sum(vals), S_INV: sum(1 / v for v in vals),
           SIGMA: sum(1 / (1 + tt * v) for v in vals), t: tt, x: vals[0], y: vals[1]}
    for sym in expr.free_symbols:
        if sym.name.startswith("T_"):
            m = int(sym.name[2:])
            sub[sym] = sum((1 + tt * v) ** -m for v in vals)
        elif sym.name.startswith("S_"):
            sub[sym] = sum(v ** int(sym.name[2:]) for v in vals)
    return sympy.nsimplify(sympy.sympify(expr).subs(sub))


def _concrete_witness(exprs) -> dict | None:
    for counts in WITNESS_COUNTS:
        for e in exprs:
            v = _concrete(e, counts)
            if v != 0:
                return {"counts": list(counts), "t": "1/4", "value": str(v)}
    return None


def _identity_verdict(name: str, residuals: dict, witnesses: dict, evidence: dict) -> Verdict:
    """Verified when every residual is exactly 0; refuted when a witness point shows a nonzero
    value; undecided when the residual does not cancel but no witness is found."""
    failing = {key: v for key, v in residuals.items() if v}
    if not failing:
        return Verdict(name, Status.VERIFIED, len(residuals), 0.0, "residual",
                       {"method": "cancels to 0 (rational functions)", **evidence,
                        "identities": sorted(residuals)})
    found = {key: witnesses[key] for key in failing if witnesses.get(key)}
    status = Status.REFUTED if found else Status.UNDECIDED
    return Verdict(name, status, len(residuals), None, "residual",
                   {**evidence, "not_zero": {key: str(v) for key, v in failing.items()},
                    "witness": found})


def _general_verdict(name: str, parts: dict) -> Verdict:
    """parts: {label: ClassMatrix or (off, diag) expressions} that must vanish for all k."""
    residuals, witnesses = {}, {}
    for label, part in parts.items():
        off, diag = part.residual() if isinstance(part, ClassMatrix) else tuple(
            sympy.cancel(sympy.together(e)) for e in part)
        bad = [e for e in (off, diag) if e != 0]
        residuals[label] = bad[0] if bad else 0
        if bad:
            witnesses[label] = _concrete_witness(bad)
    return _identity_verdict(name, residuals, witnesses, {"k": "general (class-matrix algebra)"})


# --- steps 1, 2, 4: matrix identities ---------------------------------------------------------
def verify_step1(kk: int | None = None, claimed=None) -> Verdict:
    """Step 1: Zhat Zhat^T (columns grouped by class) = P D P.

    `claimed(P, D)` -> the matrix claimed equal (default P D P); with kk None, ClassMatrix
    operands and general k."""
    claimed = claimed or (lambda P, D: P @ D @ P if not isinstance(P, ClassMatrix)
                          else P.matmul(D).matmul(P))
    if kk is None:
        # sum_c n_c (e_c - 1/k)(e_c - 1/k)^T = diag(n) - (n 1^T + 1 n^T)/k + (N/k^2) 11^T
        one = sympy.Integer(1)
        gram = ClassMatrix(x, ((-1 / k, x, one), (-1 / k, one, x), (class_sum(x) / k**2, one, one)))
        return _general_verdict("any_counts.step1", {
            "Zhat Zhat^T - P D P": gram - claimed(ClassMatrix.P(), ClassMatrix.D())})
    m = explicit(kk)
    factors = {"gram": m["sel_gram"], "rhs": claimed(m["P"], m["D"])}
    return _explicit_verdict("any_counts.step1", kk,
                             lambda f: {"Zhat Zhat^T - P D P": f["gram"] - f["rhs"]}, factors, m)


def verify_step2(kk: int | None = None, L=None) -> Verdict:
    """Step 2: L = (P D P)^+: L 1 = 0, L = L^T, (PDP) L = L (PDP) = P, P^2 = P, P (PDP) = PDP,
    P L = L, from which the four Penrose conditions follow (general k: checked directly too).
    `L` plants another matrix (a sympy Matrix for a given kk, a ClassMatrix for general k)."""
    if kk is None:
        M, Lm, P = ClassMatrix.pdp(), L or ClassMatrix.L(), ClassMatrix.P()
        ML, LM = M.matmul(Lm), Lm.matmul(M)
        one = sympy.Integer(1)
        return _general_verdict("any_counts.step2", {
            "L 1": (sympy.Integer(0), Lm.apply(one)),
            "L - L^T": Lm - Lm.T,
            "(PDP) L - P": ML - P,
            "L (PDP) - P": LM - P,
            "P P - P": P.matmul(P) - P,
            "P (PDP) - PDP": P.matmul(M) - M,
            "P L - L": P.matmul(Lm) - Lm,
            "(PDP) L (PDP) - PDP": ML.matmul(M) - M,
            "L (PDP) L - L": LM.matmul(Lm) - Lm,
        })
    m = explicit(kk)

    def build(f):
        M = f["P"] @ f["D"] @ f["P"]
        Lm = f["L"]
        ML, LM = M @ Lm, Lm @ M
        P = f["P"]
        # with these, the Penrose conditions follow: (PDP) L (PDP) = P (PDP) = PDP and
        # L (PDP) L = P L = L, both products being the symmetric P
        return {
            "L 1": Lm @ sympy.ones(kk, 1),
            "L - L^T": Lm - Lm.T,
            "(PDP) L - P": ML - P,
            "L (PDP) - P": LM - P,
            "P P - P": P @ P - P,
            "P (PDP) - PDP": P @ M - M,
            "P L - L": P @ Lm - Lm,
        }

    factors = {"P": m["P"], "D": m["D"], "L": m["L"] if L is None else L}
    return _explicit_verdict("any_counts.step2", kk, build, factors, m)


def verify_step4(kk: int | None = None, resolvent=None) -> Verdict:
    """Step 4: (L + tI) R(t) = R(t) (L + tI) = I for R(t) = diag(1/(d + t)) + u u^T/(t sigma).
    `resolvent` plants another R (sympy Matrix for a given kk, ClassMatrix for general k)."""
    if kk is None:
        R = resolvent or ClassMatrix.resolvent()
        Lt = ClassMatrix.L() + ClassMatrix.identity().scale(t)
        I = ClassMatrix.identity()
        return _general_verdict("any_counts.step4", {
            "(L + tI) R - I": Lt.matmul(R) - I, "R (L + tI) - I": R.matmul(Lt) - I})
    m = explicit(kk)

    def build(f):
        Lt = f["L"] + f["tI"]
        return {"(L + tI) R - I": Lt @ f["R"] - sympy.eye(kk),
                "R (L + tI) - I": f["R"] @ Lt - sympy.eye(kk)}

    factors = {"L": m["L"], "tI": t * sympy.eye(kk),
               "R": m["resolvent"] if resolvent is None else resolvent}
    return _explicit_verdict("any_counts.step4", kk, build, factors, m)


def _explicit_verdict(name: str, kk: int, build, factors: dict, m: dict) -> Verdict:
    """Each residual matrix `build(factors)` returns vanishes for symbolic counts n_1..n_k (and t).

    Proof: the residuals are built by matrix algebra from `factors`, each checked to commute
    with relabelling the classes, so a residual does too and it suffices that its entries (1, 1)
    and (1, 2) are identically 0 (their numerators expand to 0). Every entry is also evaluated
    exactly at whole counts (the factors first, then the algebra in rationals): a nonzero value
    is a counterexample (refuted), whatever the rest says."""
    ns = m["counts"]
    rng = random.Random(1)
    witnesses = {}
    for _ in range(2):
        point = {v: sympy.Integer(rng.randint(1, 60)) for v in ns}
        point[t] = sympy.Rational(1, rng.randint(2, 9))
        numeric = build({key: F.xreplace(point) for key, F in factors.items()})
        for label, X in numeric.items():
            bad = [v for v in X if sympy.simplify(v) != 0]
            if bad and label not in witnesses:
                witnesses[label] = {"point": {str(key): str(val) for key, val in point.items()
                                              if key in ns or key == t},
                                    "value": str(max(bad, key=lambda z: abs(sympy.N(z))))}
    equivariant = all(_equivariant(F, ns) for F in factors.values())
    residuals = {}
    for label, X in build(factors).items():
        if label in witnesses:
            residuals[label] = "nonzero at whole counts"
            continue
        reps = [(0, 0)] + ([(0, 1)] if X.cols > 1 else [])
        bad = [X[e] for e in reps if not _entry_is_zero(X[e])]
        residuals[label] = bad[0] if bad else (0 if equivariant else "not equivariant")
    evidence = {"k": kk, "counts": "symbolic n_1..n_k", "equivariant": equivariant,
                "method": "entries (1, 1), (1, 2) by expansion + relabelling symmetry; every "
                          "entry exactly at whole counts"}
    return _identity_verdict(name, residuals, witnesses, evidence)


# --- step 5: the integrals ---------------------------------------------------------------------
def verify_step5_scalar(constant=None) -> Verdict:
    """(constant) int_0^inf t^{-1/2} x/(x + t) dt = sqrt(x) and (constant) int_0^inf
    t^{-1/2}/(x + t) dt = 1/sqrt(x), by SymPy's integrate; `constant` defaults to 1/pi (plant
    another to see it refuted)."""
    constant = 1 / sympy.pi if constant is None else constant
    checks = {
        "sqrt(x)": (constant * sympy.integrate(x / (sympy.sqrt(t) * (x + t)), (t, 0, sympy.oo)),
                    sympy.sqrt(x)),
        "1/sqrt(x)": (constant * sympy.integrate(1 / (sympy.sqrt(t) * (x + t)), (t, 0, sympy.oo)),
                      1 / sympy.sqrt(x)),
    }
    residuals = {key: sympy.simplify(got - want) for key, (got, want) in checks.items()}
    # a residual that did not simplify to 0 refutes only where it is visibly nonzero (an
    # integral SymPy left unevaluated is evaluated numerically here, and a true one is ~0)
    witnesses = {}
    for key, r in residuals.items():
        if r == 0:
            continue
        value = sympy.N(r.subs(x, 1), 30)
        if value.is_number and abs(value) > sympy.Float(10) ** -20:
            witnesses[key] = {"x": "1", "value": str(sympy.N(value, 20))}
    return _identity_verdict("any_counts.step5.scalar", residuals, witnesses,
                             {"integrals": {key: str(v[0]) for key, v in checks.items()}})


def step5_integrands() -> dict:
    """The entry functions of the step 5 integrands (general k; x, y the counts of classes i,
    j; u = 1/(1 + t n)): G_M off-diagonal, G_M diagonal (sigma - u_i written as such), G_W
    off-diagonal and diagonal brackets (without the diagonal's sqrt(n_i))."""
    ux, uy = 1 / (1 + t * x), 1 / (1 + t * y)
    A = class_sum(x / (1 + t * x))  # sum_c n_c u_c = (k - sigma)/t
    return {
        "G_M_off": -ux * uy / (sympy.sqrt(t) * SIGMA),
        "G_M_diag": ux * (SIGMA - ux) / (sympy.sqrt(t) * SIGMA),
        "G_W_off": ux * uy * (A / SIGMA - x - y - x * y * t) / (k * sympy.sqrt(t)),
        "G_W_diag": ux * ux * (A / SIGMA - 2 * x - x * x * t) / (k * sympy.sqrt(t)),
    }


def verify_step5_integrands(integrands: dict | None = None) -> Verdict:
    """Step 5's integrands from step 4's resolvent, for general k:
    t^{-1/2}(I - t R(t)) has the G_M integrands; t^{-1/2}(R(t) - 11^T/(k t)) the G_W ones plus
    t^{-1/2} n_i/(1 + n_i t) on the diagonal (whose integral is pi sqrt(n_i)); and the G_M
    integrands are positive (k >= 2). `integrands` plants others."""
    want = integrands or step5_integrands()
    R = ClassMatrix.resolvent()
    GM = (ClassMatrix.identity() - R.scale(t)).scale(1 / sympy.sqrt(t))
    ones = ClassMatrix(sympy.Integer(0), ((1 / (k * t), sympy.Integer(1), sympy.Integer(1)),))
    GW = (R - ones).scale(1 / sympy.sqrt(t))
    gm_off, gm_diag = GM.entries()
    gw_off, gw_diag = GW.entries()
    ux = 1 / (1 + t * x)
    parts = {
        "G_M off-diagonal": (gm_off - want["G_M_off"], sympy.Integer(0)),
        "G_M diagonal": (sympy.Integer(0), gm_diag - want["G_M_diag"]),
        "G_W off-diagonal": (gw_off - want["G_W_off"], sympy.Integer(0)),
        "G_W diagonal": (sympy.Integer(0),
                         gw_diag - want["G_W_diag"] - x * ux / sympy.sqrt(t)),
    }
    v = _general_verdict("any_counts.step5.integrands", parts)
    # signs: -off and diag are products and quotients of positive terms (sigma - u_i is the sum
    # over the other k - 1 >= 1 classes); SymPy's assumptions decide them with the others' sum
    # as a positive symbol
    rest = sympy.Symbol("sigma_others", positive=True)
    signs = {
        "-G_M off integrand > 0": (-want["G_M_off"]).is_positive,
        "G_M diag integrand > 0": want["G_M_diag"].subs(SIGMA, ux + rest).is_positive,
    }
    evidence = {**v.evidence, "signs": {key: bool(val) for key, val in signs.items()}}
    if v.status is Status.VERIFIED and not all(signs.values()):
        return Verdict(v.claim_id, Status.UNDECIDED, v.instances, v.worst, "residual", evidence)
    return Verdict(v.claim_id, v.status, v.instances, v.worst, "residual", evidence)


# --- step 6: the slack bound -------------------------------------------------------------------
def slack_bound(kk, ni, nj):
    """F_k(n_i, n_j) = 1/sqrt(k ((k - 1)(n_i + n_j) + 2 sqrt(k (k - 2) n_i n_j))): the best lower
    bound on -G_M[i, j] in k, n_i, n_j alone (step 6). Works on SymPy, mpmath or python numbers.

    >>> slack_bound(2, 3, 5)     # k = 2, an equality: -G_M[i, j] = 1/sqrt(2 (n_i + n_j))
    0.25
    """
    sqrt = sympy.sqrt if any(isinstance(v, sympy.Basic) for v in (kk, ni, nj)) else _sqrt_of(ni)
    return 1 / sqrt(kk * ((kk - 1) * (ni + nj) + 2 * sqrt(kk * (kk - 2) * ni * nj)))


def simple_slack_bound(kk, ni, nj):
    """1/(sqrt(k (k - 1)) (sqrt(n_i) + sqrt(n_j))): F_k's infimum over n_i / n_j, in this form."""
    sqrt = sympy.sqrt if any(isinstance(v, sympy.Basic) for v in (kk, ni, nj)) else _sqrt_of(ni)
    return 1 / (sqrt(kk * (kk - 1)) * (sqrt(ni) + sqrt(nj)))


def _sqrt_of(v):
    """The square root that keeps v's arithmetic: arb balls stay balls (checked first: an arb
    also offers _mpf_ for mpmath), mpmath numbers mpmath, anything else math.sqrt."""
    try:
        from flint import arb

        if isinstance(v, arb):
            return lambda z: z.sqrt() if isinstance(z, arb) else arb(z).sqrt()
    except ImportError:  # pragma: no cover
        pass
    if hasattr(v, "_mpf_"):
        return mpmath.sqrt
    import math

    return math.sqrt


def verify_step6_symbolic(bound=None) -> Verdict:
    """The chain of step 6, each link by SymPy (module doc). `bound(k, a, b)` plants another
    closed form for the integral (default slack_bound): a larger one is refuted by the exact
    integral at sample points."""
    a, b = sympy.symbols("a b", positive=True)  # n_i, n_j
    p, q, u, alpha = sympy.symbols("p q u alpha", positive=True)
    m = sympy.Symbol("m", nonnegative=True)  # k = 2 + m
    kk = 2 + m
    ua, ub = 1 / (1 + a * t), 1 / (1 + b * t)
    links = {}
    # (a) u_c <= 1: 1 - u = n t/(1 + n t) >= 0
    links["u_c <= 1"] = sympy.simplify(1 - 1 / (1 + x * t)).is_nonnegative
    # (b) the denominator identity
    quad = (kk - 2) * a * b * t**2 + (kk - 1) * (a + b) * t + kk
    links["u_i u_j/(k - 2 + u_i + u_j) = 1/quadratic"] = sympy.cancel(
        ua * ub / (kk - 2 + ua + ub) - 1 / quad) == 0
    # (c) the integral of 1/(sqrt(t) quadratic): t = u^2, alpha (u^2 + p^2)(u^2 + q^2)
    def closed(al, be, ga):  # the claimed value of (1/pi) int dt/(sqrt(t)(al t^2 + be t + ga))
        return 1 / sympy.sqrt(sympy.factor(ga * (be + 2 * sympy.sqrt(al * ga))))

    inner = sympy.integrate(1 / ((u**2 + p**2) * (u**2 + q**2)), (u, 0, sympy.oo))
    links["(1/pi) int dt/(sqrt(t)(alpha t^2 + beta t + gamma)) closed form"] = sympy.simplify(
        2 * inner / (alpha * sympy.pi)
        - closed(alpha, alpha * (p**2 + q**2), alpha * p**2 * q**2)) == 0
    q_alpha, q_beta, q_gamma = sympy.Poly(quad, t).all_coeffs()
    disc = sympy.expand(q_beta**2 - 4 * q_alpha * q_gamma)
    links["discriminant = (k-1)^2 (a-b)^2 + 4ab"] = sympy.expand(
        disc - ((kk - 1) ** 2 * (a - b) ** 2 + 4 * a * b)) == 0
    links["k = 2: (1/pi) int dt/(sqrt(t)(beta t + gamma)) = 1/sqrt(beta gamma)"] = sympy.simplify(
        sympy.integrate(1 / (sympy.sqrt(t) * (alpha * t + p)), (t, 0, sympy.oo)) / sympy.pi
        - closed(0, alpha, p)) == 0
    # (d) the bound is F_k: the closed form (c) at the pair's quadratic from (b), alpha =
    # (k-2) a b, beta = (k-1)(a+b), gamma = k, read off `quad` itself (not typed in again)
    F = (bound or slack_bound)(kk, a, b)
    links["F_k = the closed form at the pair's quadratic"] = sympy.simplify(
        F - closed(q_alpha, q_beta, q_gamma)) == 0
    # (e) sigma <= k gives 1/(k (sqrt a + sqrt b)): int t^{-1/2} u_a u_b = pi/(sqrt a + sqrt b)
    pair = sympy.integrate(ua * ub / sympy.sqrt(t), (t, 0, sympy.oo))
    links["int t^{-1/2} u_i u_j dt = pi/(sqrt(n_i) + sqrt(n_j))"] = sympy.simplify(
        (pair - sympy.pi / (sympy.sqrt(a) + sympy.sqrt(b))).subs({a: p**2, b: q**2})) == 0
    # (f) F_k >= simple bound >= 1/k bound
    root_ab = sympy.sqrt(a) * sympy.sqrt(b)
    links["(k-1)(sqrt a + sqrt b)^2 - F_k^-2/k = 2 sqrt(ab) ((k-1) - sqrt(k(k-2)))"] = sympy.expand(
        (kk - 1) * (sympy.sqrt(a) + sympy.sqrt(b)) ** 2
        - ((kk - 1) * (a + b) + 2 * sympy.sqrt(kk * (kk - 2)) * root_ab)
        - 2 * root_ab * ((kk - 1) - sympy.sqrt(kk * (kk - 2)))) == 0
    links["(k-1)^2 - k (k-2) = 1, so k - 1 > sqrt(k (k-2))"] = sympy.expand(
        (kk - 1) ** 2 - kk * (kk - 2)) == 1
    links["k (k - 1) <= k^2"] = bool(sympy.expand(kk**2 - kk * (kk - 1)).is_nonnegative)
    failing = [key for key, ok in links.items() if not ok]
    evidence = {"links": {key: bool(ok) for key, ok in links.items()}}
    if not failing:
        return Verdict("any_counts.step6.symbolic", Status.VERIFIED, len(links), 0.0, "residual",
                       evidence)
    # a planted closed form that is not the integral: refuted where it exceeds the true value
    bad = _bound_witness(bound) if bound is not None else None
    if bad is not None:
        evidence["witness"] = bad
        return Verdict("any_counts.step6.symbolic", Status.REFUTED, len(links), None, "residual",
                       {**evidence, "failing": failing})
    return Verdict("any_counts.step6.symbolic", Status.UNDECIDED, len(links), None, "residual",
                   {**evidence, "failing": failing})


def _bound_witness(bound) -> dict | None:
    """A (k, a, b) where `bound` differs from the integral (1/pi) int u_a u_b /(sqrt(t)
    (k - 2 + u_a + u_b)) dt, evaluated by mpmath at 30 digits."""
    with mpmath.workdps(30):
        for kk, a, b in ((3, 1, 1), (4, 10, 1), (10, 1000, 7), (2, 3, 5)):
            f = lambda tt: 1 / (mpmath.sqrt(tt) * (1 + a * tt) * (1 + b * tt)  # noqa: E731
                                * (kk - 2 + 1 / (1 + a * tt) + 1 / (1 + b * tt)))
            exact = mpmath.quad(f, [0, 1 / max(a, b), 1 / min(a, b), mpmath.inf]) / mpmath.pi
            got = mpmath.mpf(sympy.N(bound(sympy.Integer(kk), sympy.Integer(a), sympy.Integer(b)), 30))
            if abs(got - exact) > mpmath.mpf(10) ** -20 * exact:
                return {"k": kk, "n_i": a, "n_j": b, "bound": mpmath.nstr(got, 15),
                        "integral": mpmath.nstr(exact, 15)}
    return None


# --- formulas for export (sums over classes with the indexed count n[c]) ----------------------
def _sigma():
    return sympy.Sum(1 / (1 + t * n[c]), (c, 1, k))


def _A():
    return sympy.Sum(n[c] / (1 + t * n[c]), (c, 1, k))


def _ui(idx):
    return 1 / (1 + t * n[idx])


def formulas() -> dict:
    """{name: (LaTeX left-hand side, expression, description, reference)} for Theorem 1 for any
    counts; entries (i, j) are for distinct classes i != j unless the name says diag."""
    sig, A = _sigma(), _A()
    sq = sympy.sqrt(t)
    oo = sympy.oo
    gm_off = -sympy.Integral(_ui(i) * _ui(j) / (sq * sig), (t, 0, oo)) / sympy.pi
    gm_diag = sympy.Integral(_ui(i) * (sig - _ui(i)) / (sq * sig), (t, 0, oo)) / sympy.pi
    gw_off = sympy.Integral(_ui(i) * _ui(j) * (A / sig - n[i] - n[j] - n[i] * n[j] * t) / sq,
                            (t, 0, oo)) / (k * sympy.pi)
    gw_diag = sympy.sqrt(n[i]) + sympy.Integral(_ui(i) ** 2 * (A / sig - 2 * n[i] - n[i] ** 2 * t)
                                                / sq, (t, 0, oo)) / (k * sympy.pi)
    ref = "beyond the paper: Theorem 1 for any counts, step"
    return {
        "any_L": (r"L_{ij}", sympy.KroneckerDelta(i, j) / n[i]
                  - 1 / (n[i] * n[j] * sympy.Sum(1 / n[c], (c, 1, k))),
                  "L = diag(1/n) - d d^T/s, the pseudo-inverse of P D P; G_M = L^{1/2}",
                  f"{ref} 2"),
        "any_sigma": (r"\sigma(t)", sig, "the resolvent's scalar sigma(t) = sum_c d_c/(d_c + t)",
                      f"{ref} 4"),
        "any_resolvent_off": (r"[(L + tI)^{-1}]_{ij}", _ui(i) * _ui(j) / (t * sig),
                              "off-diagonal entry of the resolvent of L (Sherman-Morrison)",
                              f"{ref} 4"),
        "any_resolvent_diag": (r"[(L + tI)^{-1}]_{ii}", n[i] * _ui(i) + _ui(i) ** 2 / (t * sig),
                               "diagonal entry of the resolvent of L", f"{ref} 4"),
        "any_G_M_off": (r"G_M[i, j]", gm_off,
                        "off-diagonal class-mean Gram entry (negative: the sign condition)",
                        f"{ref} 5"),
        "any_G_M_diag": (r"G_M[i, i]", gm_diag, "squared class-mean norm", f"{ref} 5"),
        "any_G_W_off": (r"G_W[i, j]", gw_off, "off-diagonal classifier Gram entry, G_W = P D P G_M",
                        f"{ref} 5"),
        "any_G_W_diag": (r"G_W[i, i]", gw_diag, "squared classifier norm", f"{ref} 5"),
        "any_nuclear_norm": (r"p_* = \|\hat Z\|_*", sympy.Sum(gw_diag, (i, 1, k)),
                             "optimal cost of (2) = nuclear norm = trace of G_W", "Theorem 1, any counts"),
        "any_slack_bound": (r"-G_M[i, j] \geq", slack_bound(k, n[i], n[j]),
                            "best lower bound on -G_M[i, j] in k, n_i, n_j (i != j)", f"{ref} 6"),
        "any_slack_bound_simple": (r"-G_M[i, j] >", simple_slack_bound(k, n[i], n[j]),
                                   "its infimum in the form c/(sqrt(n_i) + sqrt(n_j))", f"{ref} 6"),
    }


def evaluate(expr: sympy.Expr, counts, ii: int | None = None, jj: int | None = None,
             digits: int = 30, at_t=None) -> mpmath.mpf:
    """A formula at a count vector (classes ii, jj are 1-based; t = at_t where t is free),
    sums written out, integrals by mpmath.quad at `digits` digits in x = log t (split at
    -log n_max and -log n_min, where the integrands turn).

    >>> round(float(evaluate(formulas()["any_L"][1], [50, 50, 5, 5], 1, 3)), 12)  # -1/110
    -0.009090909091
    """
    vals = list(counts)
    e = expr.subs(k, len(vals))
    if ii is not None:
        e = e.subs(i, ii)
    if jj is not None:
        e = e.subs(j, jj)
    e = _expand_sums(e)
    e = e.subs({n[q + 1]: sympy.Integer(v) for q, v in enumerate(vals)})
    with mpmath.workdps(digits + 10):
        for integral in sorted(e.atoms(sympy.Integral), key=str):
            f = sympy.lambdify(t, integral.function, "mpmath")
            # in x = log t the integrand is smooth and decays exponentially at both ends
            cuts = sorted({-mpmath.log(max(vals)), -mpmath.log(min(vals))})
            value = mpmath.quad(lambda z: f(mpmath.exp(z)) * mpmath.exp(z),
                                [-mpmath.inf] + cuts + [mpmath.inf])
            e = e.subs(integral, sympy.Float(mpmath.nstr(value, digits + 8), digits + 8))
        if at_t is not None:
            e = e.subs(t, sympy.sympify(at_t))
        return mpmath.mpf(str(sympy.N(e, digits + 5)))


def _expand_sums(e: sympy.Expr) -> sympy.Expr:
    """Every Sum with whole-number limits written out term by term (inner sums first), without
    evaluating anything else (Sum.doit would try to integrate the integrals inside)."""
    def write_out(z):
        var, lo, hi = z.limits[0]
        return sympy.Add(*[z.function.subs(var, v) for v in range(int(lo), int(hi) + 1)])

    while True:
        sums = [z for z in e.atoms(sympy.Sum) if not z.function.has(sympy.Sum)]
        if not sums:
            return e
        e = e.xreplace({z: write_out(z) for z in sums})
