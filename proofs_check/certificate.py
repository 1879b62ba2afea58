"""A per-instance proof of the strict sign condition of Theorem 1's dual certificate (Sec. 3.3).

The certificate B_hat = U V^T has row i equal to G_M[y_i, :] with G_M = V Lam^{-1} V^T, so

    B_hat * Zhat^T > 0 entrywise   <=>   diag(G_M) > 0 and offdiag(G_M) < 0.

(derivations/any_counts.py proves the right-hand side for every count vector; this module proves
it again, per instance, by computation in interval arithmetic.) For one class-count vector:

1. a high-precision candidate for each secular root mu_g of sum_j r_j/(a_j - mu) = 0
   (seli_exact.svd.secular_roots at `digits` digits; a_j the distinct counts, r_j their
   multiplicities);
2. a rigorous enclosure of every root: f(mu) = sum_j r_j/(a_j - mu) is strictly increasing on each
   gap (a_g, a_{g+1}), so f(lo) < 0 < f(hi), evaluated in interval arithmetic at exactly
   representable lo < candidate < hi inside the gap, proves a root in [lo, hi], and it is the
   only one there;
3. G_M from the eigenstructure (svd.py): 1/sqrt(a_j) times the zero-sum projector on each shared
   count's classes, plus 1/sqrt(mu_g) v_g v_g^T with (v_g)_c = x_gc / |x_g|,
   x_gc = 1/(a_c - mu_g). Classes with equal counts are interchangeable, so only the distinct
   entries are formed, and the sum over roots is taken in O(J^2) rather than O(J^3) by partial
   fractions: with c_g = 1 / (|x_g|^2 sqrt(mu_g)), phi_j = sum_g c_g x_gj and
   psi_j = sum_g c_g x_gj^2,

       G_M[p, q] = (phi_p - phi_q) / (a_q - a_p)          (distinct counts a_p != a_q),
       G_M[p, q] = psi_p - 1/(r_p sqrt(a_p))               (two classes sharing the count a_p),
       G_M[p, p] = psi_p + (r_p - 1)/(r_p sqrt(a_p)),

   since x_gp x_gq = (x_gp - x_gq)/(a_q - a_p). The subtraction costs digits where counts are
   close; ball arithmetic accounts for them (the radius grows) and 64 guard bits leave plenty;
4. the sign condition holds when every diagonal enclosure lies in (0, inf) and every off-diagonal
   one in (-inf, 0): every comparison is decided on enclosures.

Two interval backends run the same routine: python-flint's arb (ball arithmetic in C) and
mpmath's interval context (pure Python). `enclose_G_M(..., backend=...)` runs either; the
checks use arb, the faster of the two (see `benchmark_backends`). A k = 1000 long tail
(529 distinct counts) is certified in a few seconds (benchmarks/bench_longtail.py).

>>> from seli_exact import step
>>> cert = sign_certificate(step(4, 10, "1/2", 5))
>>> cert.proven, cert.interval_radius < 1e-40 < cert.mpmath_margin
(True, True)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from fractions import Fraction

import gmpy2
import mpmath
import numpy as np

from seli_exact import ClassCounts, seli_geometry
from seli_exact.arithmetic import digits_to_bits
from seli_exact.errors import SeliInputError
from seli_exact.svd import secular_roots

BACKENDS = ("arb", "mpmath.iv")
GUARD_BITS = 64  # working bits beyond digits_to_bits(digits): the partial fractions' headroom


# --------------------------------------------------------------------------- interval backends
class _Arb:
    """python-flint ball arithmetic at a fixed working precision (set by the caller's workprec)."""

    name = "arb"

    def __init__(self, bits: int):
        from flint import arb, ctx, fmpq, fmpz

        self._arb, self._fmpq, self._fmpz, self._ctx, self.bits = arb, fmpq, fmpz, ctx, bits

    def scope(self):
        return self._ctx.workprec(self.bits)

    def rational(self, q) -> object:
        q = Fraction(q)
        return self._arb(self._fmpq(q.numerator, q.denominator))

    def exact(self, x: mpmath.mpf):
        """The binary number x, exactly (an mpf is man * 2^exp)."""
        sign, man, exp, _ = _mpf_tuple(x)
        out = self._arb(self._fmpz((-1) ** sign * int(man))) * self._arb(2) ** int(exp)
        if not out.is_exact():
            raise ArithmeticError("arb could not hold the candidate exactly; raise the precision")
        return out

    def hull(self, lo, hi):
        return lo.union(hi)

    def sqrt(self, x):
        return x.sqrt()

    def positive(self, x) -> bool:
        return bool(x > 0)

    def negative(self, x) -> bool:
        return bool(x < 0)

    def nonpositive(self, x) -> bool:
        return bool(x <= 0)

    def mid_rad(self, x) -> tuple[mpmath.mpf, mpmath.mpf]:
        m, r = x.mid(), x.rad()
        return mpmath.mp.make_mpf(m._mpf_), mpmath.mp.make_mpf(r._mpf_)

    def worst(self, signed, radii) -> tuple[mpmath.mpf, mpmath.mpf]:
        """(min of the midpoints of `signed`, max of `radii`'s radii), compared in arb (exact
        points) and converted once."""
        m = min((x.mid() for x in signed), key=lambda y: y)
        r = max((x.rad() for x in radii), key=lambda y: y)
        return mpmath.mp.make_mpf(m._mpf_), mpmath.mp.make_mpf(r._mpf_)

    def from_mpfr(self, x):
        """A gmpy2 mpfr as an exact ball."""
        man, exp = x.as_mantissa_exp()
        return self._arb(self._fmpz(int(man))) * self._arb(2) ** int(exp)

    def distance(self, point, x) -> object:
        """An upper bound (a ball) on the distance from `point` to every number in `x`."""
        return (point - x).abs_upper()

    def to_mpf_upper(self, x) -> mpmath.mpf:
        u = x.abs_upper()
        return mpmath.mp.make_mpf(u._mpf_)


class _IV:
    """mpmath's interval arithmetic, in a private context (the global mpmath.iv is untouched)."""

    name = "mpmath.iv"

    def __init__(self, bits: int):
        from mpmath.ctx_iv import MPIntervalContext

        self.ctx = MPIntervalContext()
        self.ctx.prec = bits
        self.bits = bits

    def scope(self):
        import contextlib

        return contextlib.nullcontext()

    def rational(self, q):
        q = Fraction(q)
        return self.ctx.mpf(q.numerator) / q.denominator

    def exact(self, x: mpmath.mpf):
        out = self.ctx.mpf(_exact_mpf(x))
        if out.a != out.b:
            raise ArithmeticError("mpmath.iv could not hold the candidate exactly")
        return out

    def hull(self, lo, hi):
        return self.ctx.mpf([lo.a, hi.b])

    def sqrt(self, x):
        return self.ctx.sqrt(x)

    def positive(self, x) -> bool:
        return bool(x.a > 0)

    def negative(self, x) -> bool:
        return bool(x.b < 0)

    def nonpositive(self, x) -> bool:
        return bool(x.b <= 0)

    def mid_rad(self, x):
        a, b = mpmath.mp.make_mpf(x._mpi_[0]), mpmath.mp.make_mpf(x._mpi_[1])
        with mpmath.workprec(self.bits + 10):
            return (a + b) / 2, (b - a) / 2

    def worst(self, signed, radii) -> tuple[mpmath.mpf, mpmath.mpf]:
        return min(self.mid_rad(x)[0] for x in signed), max(self.mid_rad(x)[1] for x in radii)

    def from_mpfr(self, x):
        man, exp = x.as_mantissa_exp()
        return self.ctx.mpf(mpmath.mp.make_mpf(mpmath.libmp.from_man_exp(int(man), int(exp))))

    def distance(self, point, x) -> object:
        return abs(point - x)

    def to_mpf_upper(self, x) -> mpmath.mpf:
        return mpmath.mp.make_mpf(x._mpi_[1])


def _mpf_tuple(x):
    """The exact (sign, man, exp, bc) of an mpf from any mpmath context."""
    return x._mpf_ if hasattr(x, "_mpf_") else mpmath.mpf(x)._mpf_


def _exact_mpf(x) -> mpmath.mpf:
    """An mpf of any context as a global-context mpf holding the same binary number, unrounded."""
    return mpmath.mp.make_mpf(_mpf_tuple(x))


def _backend(name: str, bits: int):
    if name == "arb":
        return _Arb(bits)
    if name == "mpmath.iv":
        return _IV(bits)
    raise SeliInputError(f"`backend` must be one of {', '.join(BACKENDS)}; got {name!r}. Use arb.")


# --------------------------------------------------------------------------- the enclosure
@dataclass(frozen=True, eq=False)
class GMEnclosure:
    """Rigorous enclosure of G_M, per pair of distinct counts (block) and on the diagonal.

    `diag[j]` encloses G_M[c, c] for classes c with count a_j; `off[j][l]` (= off[l][j]) encloses
    G_M[c, d], c != d, for classes with counts a_j, a_l (for j == l only when a_j is shared).
    `roots` are the enclosures of the secular roots, None where a root could not be enclosed
    (`proven` is False).
    """

    counts: ClassCounts
    backend: str
    bits: int
    values: tuple[int, ...]  # distinct counts a_j, ascending
    multiplicity: tuple[int, ...]  # r_j
    diag: tuple | None
    off: tuple | None
    roots: tuple | None
    failure: str = ""
    _be: object = field(default=None, repr=False)

    @property
    def enclosed(self) -> bool:
        return self.diag is not None

    def entries(self):
        """(kind, j, l, interval) for every distinct entry that occurs in G_M (l >= j)."""
        J = len(self.values)
        for j in range(J):
            yield "diag", j, j, self.diag[j]
        for j in range(J):
            for l in range(j, J):
                if j == l and self.multiplicity[j] < 2:
                    continue
                yield "off", j, l, self.off[j][l]

    def sign_proven(self) -> bool:
        """diag(G_M) > 0 and offdiag(G_M) < 0, decided in interval arithmetic."""
        if not self.enclosed:
            return False
        be = self._be
        return all(
            be.positive(x) if kind == "diag" else be.negative(x) for kind, _, _, x in self.entries()
        )

    def sign_refuted(self) -> bool:
        """Some entry provably has the wrong sign (its whole enclosure is on the wrong side)."""
        if not self.enclosed:
            return False
        be = self._be
        return any(
            be.nonpositive(x) if kind == "diag" else be.nonpositive(-x)
            for kind, _, _, x in self.entries()
        )

    def margins(self) -> tuple[mpmath.mpf, mpmath.mpf]:
        """(smallest sign margin of the midpoints, largest radius); proof needs margin > radius."""
        entries = [(kind, x) for kind, _, _, x in self.entries()]
        signed = [x if kind == "diag" else -x for kind, x in entries]
        return self._be.worst(signed, [x for _, x in entries])

    def distance_to(self, values: dict) -> mpmath.mpf:
        """An upper bound on max |values[key] - G_M(exact)| over the entries; `values` maps
        (kind, j, l) to gmpy2 mpfr numbers (the floating-point candidate)."""
        be = self._be
        with be.scope():
            worst = None
            for kind, j, l, x in self.entries():
                d = be.distance(be.from_mpfr(values[(kind, j, l)]), x)
                worst = d if worst is None or d > worst else worst
            return be.to_mpf_upper(worst)

    def block_mid_rad(self) -> dict:
        """{(kind, j, l): (mid, rad)} for every distinct entry (entries())."""
        return {(kind, j, l): self._be.mid_rad(x) for kind, j, l, x in self.entries()}

    def block_matrix(self) -> list[list[tuple[mpmath.mpf, mpmath.mpf]]]:
        """(mid, rad) of G_M[c, d] for every pair of classes, (k, k) nested lists (small k)."""
        blk = {}
        for j, (a, classes) in enumerate(self.counts.blocks()):
            for c in classes:
                blk[c] = j
        k = self.counts.k
        out = []
        for c in range(k):
            row = []
            for d in range(k):
                j, l = blk[c], blk[d]
                x = self.diag[j] if c == d else self.off[j][l]
                row.append(self._be.mid_rad(x))
            out.append(row)
        return out


def _secular_candidates(counts: ClassCounts, digits: int) -> list[mpmath.mpf]:
    """The secular roots mu_g (ascending, one per gap) at `digits` digits, as global mpfs."""
    return [_exact_mpf(mu) for mu in secular_roots(counts, "mpmath", digits)]


def _blocks(counts: ClassCounts) -> tuple[list[int], list[int]]:
    blocks = counts.blocks()
    return [v for v, _ in blocks], [len(c) for _, c in blocks]


def _gram_blocks(A, Rm, roots, a, r, one, sqrt):
    """Step 3 of the module doc in any arithmetic whose numbers support + - * /: the diagonal
    (J,) and the off-diagonal entries (J x J nested lists, symmetric) of G_M from the root values
    (points or enclosures) `roots`. A, Rm: the counts and multiplicities as numbers; a, r: ints."""
    J = len(a)
    zero = one - one
    phi = [zero] * J
    psi = [zero] * J
    for mu in roots:
        x = [one / (A[j] - mu) for j in range(J)]
        norm2 = zero
        for j in range(J):
            norm2 = norm2 + Rm[j] * x[j] * x[j]
        c = one / (norm2 * sqrt(mu))
        for j in range(J):
            cx = c * x[j]
            phi[j] = phi[j] + cx
            psi[j] = psi[j] + cx * x[j]
    diag, off = [zero] * J, [[zero] * J for _ in range(J)]
    for p in range(J):
        shared = one / (Rm[p] * sqrt(A[p]))  # 1/(r_p sqrt(a_p)): the zero-sum projector's scale
        diag[p] = psi[p] + (Rm[p] - one) * shared
        off[p][p] = psi[p] - shared
        for q in range(p + 1, J):
            off[p][q] = off[q][p] = (phi[p] - phi[q]) / (A[q] - A[p])
    return diag, off


def enclose_G_M(
    counts: ClassCounts,
    *,
    digits: int = 50,
    backend: str = "arb",
    candidates: list | None = None,
    transform=None,
) -> GMEnclosure:
    """Rigorous enclosure of G_M = V Lam^{-1} V^T around the candidate roots (module doc).

    `candidates` overrides the secular-root candidates (used to test that a wrong candidate is
    caught: then no sign change is found and the enclosure fails). `transform(kind, x)`, kind
    "diag" or "off", plants a wrong Gram matrix (e.g. a flipped sign) to test the judges.
    """
    a, r = _blocks(counts)
    J = len(a)
    bits = digits_to_bits(digits) + GUARD_BITS
    be = _backend(backend, bits)
    mus = _secular_candidates(counts, digits) if candidates is None else list(candidates)

    def failed(reason: str) -> GMEnclosure:  # no enclosure: the reason is the evidence
        return GMEnclosure(counts, backend, bits, tuple(a), tuple(r), None, None, None, reason, be)

    if len(mus) != J - 1:
        return failed(f"expected {J - 1} secular roots, got {len(mus)}")
    with be.scope():
        A = [be.rational(v) for v in a]
        Rm = [be.rational(v) for v in r]
        zero = be.rational(0)

        def f(x):  # the secular function, increasing on each gap
            total = zero
            for j in range(J):
                total = total + Rm[j] / (A[j] - x)
            return total

        roots = []
        for g, mu in enumerate(mus):
            enclosure = None
            for widen in (4, 2**20, 2**40):
                with mpmath.workprec(bits):
                    mu = _exact_mpf(mu)
                    delta = abs(mu) * mpmath.ldexp(1, -digits_to_bits(digits)) * widen
                    lo, hi = mu - delta, mu + delta
                if not (a[g] < lo and hi < a[g + 1]):
                    continue
                Lo, Hi = be.exact(lo), be.exact(hi)
                if be.negative(f(Lo)) and be.positive(f(Hi)):
                    enclosure = be.hull(Lo, Hi)
                    break
            if enclosure is None:
                return failed(
                    f"no sign change of the secular function around candidate "
                    f"root {mpmath.nstr(mu, 20)} in gap ({a[g]}, {a[g + 1]})"
                )
            roots.append(enclosure)

        diag, off = _gram_blocks(A, Rm, roots, a, r, be.rational(1), be.sqrt)
        if transform is not None:
            diag = [transform("diag", x) for x in diag]
            off = [[transform("off", x) for x in row] for row in off]
    return GMEnclosure(
        counts, backend, bits, tuple(a), tuple(r), tuple(diag), tuple(tuple(row) for row in off),
        tuple(roots), "", be,
    )


# --------------------------------------------------------------------------- one instance's proof
@dataclass(frozen=True)
class SignCertificate:
    """Float64, high-precision and interval evidence for diag(G_M) > 0 > offdiag(G_M) on one
    instance.

    Margins are the smallest of diag(G_M) and -offdiag(G_M). `float64_margin` comes from
    seli_exact's float64 geometry (k x k); `mpmath_margin` from the candidate: step 3 of the
    module doc evaluated at the candidate roots (points) in floating point at the mpmath
    precision (MPFR); `interval_radius` is the largest enclosure radius; `candidate_distance`
    bounds |candidate - G_M(exact)| entrywise (its distance to the enclosure's midpoint plus the
    radius). `proven` is decided in interval arithmetic.
    """

    counts: tuple[int, ...]
    float64_margin: float
    mpmath_margin: float
    interval_margin: float | None  # smallest midpoint margin of the enclosure
    interval_radius: float | None
    candidate_distance: float | None
    proven: bool
    refuted: bool
    backend: str
    digits: int
    failure: str = ""

    def to_json(self) -> dict:
        return {
            "counts": list(self.counts),
            "float64_margin": self.float64_margin,
            "mpmath_margin": self.mpmath_margin,
            "interval_margin": self.interval_margin,
            "interval_radius": self.interval_radius,
            "candidate_distance": self.candidate_distance,
            "proven": self.proven,
            "refuted": self.refuted,
            "backend": self.backend,
            "digits": self.digits,
            **({"failure": self.failure} if self.failure else {}),
        }


def sign_margin(G) -> object:
    """min(min diag G, min over c != d of -G[c, d]): > 0 exactly when the sign condition holds."""
    G = np.asarray(G)
    k = G.shape[0]
    off = ~np.eye(k, dtype=bool)
    return min(min(G[np.diag_indices(k)]), min(-G[off]))


def _candidate_blocks(counts: ClassCounts, digits: int, candidates: list, transform):
    """Step 3 at the candidate roots in MPFR at the enclosure's precision: {(kind, j, l): value}
    (gmpy2 mpfr) for every entry GMEnclosure.entries() lists."""
    a, r = _blocks(counts)
    bits = digits_to_bits(digits) + GUARD_BITS
    with gmpy2.context(gmpy2.get_context(), precision=bits):
        A = [gmpy2.mpfr(v) for v in a]
        Rm = [gmpy2.mpfr(v) for v in r]
        mus = [_mpf_to_mpfr(mu) for mu in candidates]
        diag, off = _gram_blocks(A, Rm, mus, a, r, gmpy2.mpfr(1), gmpy2.sqrt)
        out = {}
        for j in range(len(a)):
            out[("diag", j, j)] = diag[j]
            for l in range(j, len(a)):
                if j != l or r[j] >= 2:
                    out[("off", j, l)] = off[j][l]
        if transform is not None:
            out = {key: transform(key[0], v) for key, v in out.items()}
    return out


def _mpf_to_mpfr(x):
    """An mpf as a gmpy2 mpfr holding the same binary number (its precision widened if needed)."""
    sign, man, exp, bc = _mpf_tuple(x)
    with gmpy2.context(gmpy2.get_context(), precision=max(int(bc), 2)):
        out = gmpy2.mul_2exp(gmpy2.mpfr(gmpy2.mpz(man)), int(exp))
    return -out if sign else out


def _mpfr_to_mpf(x) -> mpmath.mpf:
    """A gmpy2 mpfr as a global mpf holding the same binary number."""
    man, exp = x.as_mantissa_exp()
    return mpmath.mp.make_mpf(mpmath.libmp.from_man_exp(int(man), int(exp)))


def sign_certificate(
    counts: ClassCounts,
    *,
    digits: int = 50,
    backend: str = "arb",
    candidates: list | None = None,
    transform=None,
) -> SignCertificate:
    """Prove (or fail to prove) the strict sign condition on one instance; see module doc.

    `candidates` and `transform` plant wrong inputs (see enclose_G_M); the transform is applied
    to the float64 and candidate matrices too, so all three report on the same (wrong) matrix.
    """
    g64 = seli_geometry(counts, "float64").M_gram
    if transform is not None:
        g64 = _apply(transform, g64)
    m64 = float(sign_margin(g64))
    if candidates is None:
        candidates = _secular_candidates(counts, digits)
    a, _ = _blocks(counts)
    if len(candidates) == len(a) - 1:
        cand = _candidate_blocks(counts, digits, candidates, transform)
        mmp = float(min(v if key[0] == "diag" else -v for key, v in cand.items()))
    else:  # a wrong number of candidates: no candidate matrix; the enclosure reports why
        cand, mmp = {}, float("nan")
    enc = enclose_G_M(counts, digits=digits, backend=backend, candidates=candidates,
                      transform=transform)
    if not enc.enclosed:
        return SignCertificate(counts.counts, m64, mmp, None, None, None, False, False,
                               backend, digits, enc.failure)
    margin, rad = enc.margins()
    # The enclosure holds the exact G_M; the candidate's distance to it is at most its distance
    # to the midpoint plus the radius (the candidate need not lie inside a tighter enclosure).
    dist = enc.distance_to(cand)
    return SignCertificate(
        counts.counts, m64, mmp, float(margin), _up(rad), _up(dist), enc.sign_proven(),
        enc.sign_refuted(), backend, digits, "",
    )


def _apply(transform, G: np.ndarray) -> np.ndarray:
    out = G.copy()
    for c in range(G.shape[0]):
        for d in range(G.shape[1]):
            out[c, d] = transform("diag" if c == d else "off", G[c, d])
    return out


def _up(x) -> float:
    """A float >= x (rounded up), for reporting radii and bounds."""
    f = float(x)
    return f if f >= x else float(np.nextafter(f, np.inf))


def benchmark_backends(counts: ClassCounts, *, digits: int = 50, repeat: int = 3) -> dict:
    """Median seconds of enclose_G_M per backend on one instance (same candidates), and ratio."""
    mus = _secular_candidates(counts, digits)
    out = {}
    for name in BACKENDS:
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            enc = enclose_G_M(counts, digits=digits, backend=name, candidates=mus)
            times.append(time.perf_counter() - t0)
            if not enc.sign_proven():
                raise ArithmeticError(f"{name} did not prove the sign condition on {counts.counts}")
        out[name] = float(np.median(times))
    out["ratio_iv_over_arb"] = out["mpmath.iv"] / out["arb"]
    return out
