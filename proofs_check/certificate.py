"""A per-instance proof of the strict sign condition of Theorem 1's dual certificate (Sec. 3.3).

The certificate B_hat = U V^T has row i equal to G_M[y_i, :] with G_M = V Lam^{-1} V^T, so

    B_hat * Zhat^T > 0 entrywise   <=>   diag(G_M) > 0 and offdiag(G_M) < 0.

For one class-count vector this module proves (or fails to prove) the right-hand side:

1. a high-precision candidate: the secular roots mu_g of sum_j r_j/(a_j - mu) = 0 from
   seli_exact's "mpmath" arithmetic (a_j the distinct counts, r_j their multiplicities);
2. a rigorous enclosure of every root: f(mu) = sum_j r_j/(a_j - mu) is strictly increasing on each
   gap (a_g, a_{g+1}), so f(lo) < 0 < f(hi), evaluated in interval arithmetic at exactly
   representable lo < candidate < hi inside the gap, proves a root in [lo, hi], and it is the
   only one there;
3. G_M from the eigenstructure (svd.py): 1/sqrt(a_j) times the zero-sum projector on each shared
   count's classes, plus 1/sqrt(mu_g) v_g v_g^T with (v_g)_c proportional to 1/(n_c - mu_g),
   evaluated in interval arithmetic over the root enclosures. Classes with equal counts are
   interchangeable, so only J^2 + J distinct entries (J distinct counts) are computed;
4. the sign condition holds when every diagonal enclosure lies in (0, inf) and every off-diagonal
   one in (-inf, 0); equivalently every candidate sign margin exceeds its distance bound.

Two interval backends implement the same routine: python-flint's arb (ball arithmetic in C) and
mpmath's interval context (pure Python). `enclose_G_M(..., backend=...)` runs either; the
checks use arb, the faster of the two (see `benchmark_backends`).

>>> from seli_exact import step
>>> cert = sign_certificate(step(4, 10, "1/2", 5))
>>> cert.proven, cert.interval_radius < 1e-40 < cert.mpmath_margin
(True, True)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from fractions import Fraction

import mpmath
import numpy as np

from seli_exact import ClassCounts, sel_svd, seli_geometry
from seli_exact.errors import SeliInputError

BACKENDS = ("arb", "mpmath.iv")


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

    `diag[j]` encloses G_M[c, c] for classes c with count a_j; `off[j][l]` encloses G_M[c, d],
    c != d, for classes with counts a_j, a_l (for j == l only when a_j is shared). `roots` are the
    enclosures of the secular roots, None where a root could not be enclosed (`proven` is False).
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
        """(kind, j, l, interval) for every distinct entry that occurs in G_M."""
        J = len(self.values)
        for j in range(J):
            yield "diag", j, j, self.diag[j]
        for j in range(J):
            for l in range(J):
                if j == l and self.multiplicity[j] < 2:
                    continue
                if l < j:
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
        worst_margin, worst_rad = None, mpmath.mpf(0)
        for kind, _, _, x in self.entries():
            m, r = self._be.mid_rad(x)
            margin = m if kind == "diag" else -m
            worst_margin = margin if worst_margin is None else min(worst_margin, margin)
            worst_rad = max(worst_rad, r)
        return worst_margin, worst_rad

    def block_matrix(self) -> list[list[tuple[mpmath.mpf, mpmath.mpf]]]:
        """(mid, rad) of G_M[c, d] for every pair of classes, (k, k) nested lists."""
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
                x = self.diag[j] if c == d else self.off[min(j, l)][max(j, l)]
                row.append(self._be.mid_rad(x))
            out.append(row)
        return out


def _secular_candidates(counts: ClassCounts, dps: int, svd=None) -> list[mpmath.mpf]:
    """The secular roots mu_g (ascending, one per gap) from seli_exact's mpmath SVD."""
    s = sel_svd(counts, "mpmath", dps) if svd is None else svd
    return [_exact_mpf(t.mu) for t in s.spectrum if t.kind == "secular"]


def enclose_G_M(
    counts: ClassCounts,
    *,
    dps: int = 50,
    backend: str = "arb",
    candidates: list | None = None,
    transform=None,
) -> GMEnclosure:
    """Rigorous enclosure of G_M = V Lam^{-1} V^T around the mpmath candidate roots (module doc).

    `candidates` overrides the secular-root candidates (used to test that a wrong candidate is
    caught: then no sign change is found and the enclosure fails). `transform(kind, x)`, kind
    "diag" or "off", plants a wrong Gram matrix (e.g. a flipped sign) to test the judges.
    """
    blocks = counts.blocks()
    a = [v for v, _ in blocks]
    r = [len(c) for _, c in blocks]
    J = len(a)
    bits = int(dps * 3.33) + 64
    be = _backend(backend, bits)
    mus = _secular_candidates(counts, dps) if candidates is None else list(candidates)

    def failed(reason: str) -> GMEnclosure:  # no enclosure: the reason is the evidence
        return GMEnclosure(counts, backend, bits, tuple(a), tuple(r), None, None, None, reason, be)

    if len(mus) != J - 1:
        return failed(f"expected {J - 1} secular roots, got {len(mus)}")
    with be.scope():
        A = [be.rational(v) for v in a]
        Rm = [be.rational(v) for v in r]

        def f(x):  # the secular function, increasing on each gap
            return sum((Rm[j] / (A[j] - x) for j in range(J)), be.rational(0))

        roots = []
        for g, mu in enumerate(mus):
            enclosure = None
            for widen in (4, 2**20, 2**40):
                with mpmath.workprec(bits):
                    mu = _exact_mpf(mu)
                    delta = abs(mu) * mpmath.ldexp(1, -int(dps * 3.32)) * widen
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

        zero = be.rational(0)
        diag = [zero for _ in range(J)]
        off = [[zero for _ in range(J)] for _ in range(J)]
        for j in range(J):  # shared counts: 1/sqrt(a_j) (I - 11^T/r_j) on the block
            if r[j] >= 2:
                inv_sig = 1 / be.sqrt(A[j])
                diag[j] = diag[j] + inv_sig * be.rational(Fraction(r[j] - 1, r[j]))
                off[j][j] = off[j][j] - inv_sig / Rm[j]
        for mu in roots:  # secular roots: 1/sqrt(mu) v v^T, v_c = inv_c / |inv|
            inv = [1 / (A[j] - mu) for j in range(J)]
            norm2 = sum((Rm[j] * inv[j] * inv[j] for j in range(J)), zero)
            coef = 1 / (norm2 * be.sqrt(mu))
            for j in range(J):
                diag[j] = diag[j] + coef * inv[j] * inv[j]
                for l in range(j, J):
                    off[j][l] = off[j][l] + coef * inv[j] * inv[l]
        if transform is not None:
            diag = [transform("diag", x) for x in diag]
            off = [[transform("off", x) for x in row] for row in off]
    return GMEnclosure(
        counts,
        backend,
        bits,
        tuple(a),
        tuple(r),
        tuple(diag),
        tuple(tuple(row) for row in off),
        tuple(roots),
        "",
        be,
    )


# --------------------------------------------------------------------------- one instance's proof
@dataclass(frozen=True)
class SignCertificate:
    """Float64, mpmath and interval evidence for diag(G_M) > 0 > offdiag(G_M) on one instance.

    Margins are the smallest of diag(G_M) and -offdiag(G_M). `interval_radius` is the largest
    enclosure radius; `candidate_distance` bounds |G_M(mpmath) - G_M(exact)| entrywise (its
    distance to the enclosure's midpoint plus the radius). `proven` is decided in interval
    arithmetic; it implies mpmath_margin > candidate_distance up to the candidate's own rounding.
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
    dps: int
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
            "dps": self.dps,
            **({"failure": self.failure} if self.failure else {}),
        }


def sign_margin(G) -> object:
    """min(min diag G, min over c != d of -G[c, d]): > 0 exactly when the sign condition holds."""
    G = np.asarray(G)
    k = G.shape[0]
    off = ~np.eye(k, dtype=bool)
    return min(min(G[np.diag_indices(k)]), min(-G[off]))


def sign_certificate(
    counts: ClassCounts,
    *,
    dps: int = 50,
    backend: str = "arb",
    candidates: list | None = None,
    transform=None,
) -> SignCertificate:
    """Prove (or fail to prove) the strict sign condition on one instance; see module doc.

    `candidates` and `transform` plant wrong inputs (see enclose_G_M); the transform is applied
    to the float64 and mpmath candidates too, so all three report on the same (wrong) matrix.
    """
    g64 = seli_geometry(counts, "float64").M_gram
    svd = sel_svd(counts, "mpmath", dps)
    gmp = seli_geometry(counts, svd=svd).M_gram
    if transform is not None:
        g64, gmp = _apply(transform, g64), _apply(transform, gmp)
    m64 = float(sign_margin(g64))
    mmp = sign_margin(gmp)
    if candidates is None:
        candidates = _secular_candidates(counts, dps, svd)
    enc = enclose_G_M(counts, dps=dps, backend=backend, candidates=candidates, transform=transform)
    if not enc.enclosed:
        return SignCertificate(
            counts.counts,
            m64,
            float(mmp),
            None,
            None,
            None,
            False,
            False,
            backend,
            dps,
            enc.failure,
        )
    margin, rad = enc.margins()
    # The enclosure holds the exact G_M; the candidate's distance to it is at most its distance
    # to the midpoint plus the radius (the candidate need not lie inside a tighter enclosure).
    dist = mpmath.mpf(0)
    mr = enc.block_matrix()
    with mpmath.workprec(enc.bits + 20):
        for c in range(counts.k):
            for d in range(counts.k):
                m, r = mr[c][d]
                dist = max(dist, abs(_exact_mpf(gmp[c, d]) - m) + r)
    return SignCertificate(
        counts.counts,
        m64,
        float(mmp),
        float(margin),
        _up(rad),
        _up(dist),
        enc.sign_proven(),
        enc.sign_refuted(),
        backend,
        dps,
        "",
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


def benchmark_backends(counts: ClassCounts, *, dps: int = 50, repeat: int = 3) -> dict:
    """Median seconds of enclose_G_M per backend on one instance (same candidates), and ratio."""
    mus = _secular_candidates(counts, dps)
    out = {}
    for name in BACKENDS:
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            enc = enclose_G_M(counts, dps=dps, backend=name, candidates=mus)
            times.append(time.perf_counter() - t0)
            if not enc.sign_proven():
                raise ArithmeticError(f"{name} did not prove the sign condition on {counts.counts}")
        out[name] = float(np.median(times))
    out["ratio_iv_over_arb"] = out["mpmath.iv"] / out["arb"]
    return out
