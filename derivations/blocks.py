"""Block-structured matrices and vectors of a STEP model, with symbolic block sizes m and s.

Under (R, rho)-STEP imbalance (Definition 1) the classes split into a majority block (m classes)
and a minority block (s classes). Every matrix built from P = I - 11^T/k and D = diag(n_c) is
constant on the blocks: one value on the diagonal and one off the diagonal of each diagonal block,
one value on each off-diagonal block. `BlockMatrix` stores those six numbers, so products and sums
are exact for *symbolic* m and s.

Vectors are combinations of four kinds (`BlockVector`): the indicator 1_maj of the majority block,
1_min of the minority block, and a vector z_maj (z_min) supported on the majority (minority) block
that sums to zero there. A block matrix maps z_maj to (d_maj - o_maj) z_maj, since
sum_{c' != c} z_c' = -z_c, so the kind is preserved and an eigen-equation on these four
coordinates stands for one on all of R^k.

>>> from derivations.symbols import m, s
>>> I = BlockMatrix.identity()
>>> (I @ I).equals(I)
True
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import sympy

from .symbols import m, s

_ZERO = sympy.Integer(0)


@dataclass(frozen=True)
class BlockMatrix:
    """A k x k matrix constant on the STEP blocks (majorities first).

    d_maj / o_maj: diagonal / off-diagonal entries inside the majority block; d_min / o_min the
    same for the minority block; x_mm: entries in majority rows and minority columns; x_nm:
    minority rows, majority columns.
    """

    d_maj: sympy.Expr
    o_maj: sympy.Expr
    d_min: sympy.Expr
    o_min: sympy.Expr
    x_mm: sympy.Expr
    x_nm: sympy.Expr

    def entries(self) -> tuple:
        return tuple(getattr(self, f.name) for f in fields(self))

    @classmethod
    def identity(cls) -> "BlockMatrix":
        return cls(sympy.Integer(1), _ZERO, sympy.Integer(1), _ZERO, _ZERO, _ZERO)

    @classmethod
    def ones(cls) -> "BlockMatrix":
        """11^T."""
        one = sympy.Integer(1)
        return cls(one, one, one, one, one, one)

    @classmethod
    def diagonal(cls, maj, mnr) -> "BlockMatrix":
        """diag(maj on majority classes, mnr on minority classes)."""
        return cls(sympy.sympify(maj), _ZERO, sympy.sympify(mnr), _ZERO, _ZERO, _ZERO)

    @classmethod
    def outer(cls, v: "BlockVector") -> "BlockMatrix":
        """v v^T for a block-constant v = a 1_maj + b 1_min."""
        if v.c != 0 or v.d != 0:
            raise ValueError("BlockMatrix.outer takes a block-constant vector (c = d = 0)")
        return cls(v.a**2, v.a**2, v.b**2, v.b**2, v.a * v.b, v.a * v.b)

    def map(self, f) -> "BlockMatrix":
        return BlockMatrix(*(f(e) for e in self.entries()))

    def __add__(self, other: "BlockMatrix") -> "BlockMatrix":
        return BlockMatrix(*(a + b for a, b in zip(self.entries(), other.entries())))

    def __sub__(self, other: "BlockMatrix") -> "BlockMatrix":
        return BlockMatrix(*(a - b for a, b in zip(self.entries(), other.entries())))

    def scale(self, c) -> "BlockMatrix":
        return BlockMatrix(*(c * e for e in self.entries()))

    def __matmul__(self, B: "BlockMatrix") -> "BlockMatrix":
        A = self
        # (AB)[i, j] = sum over l of A[i, l] B[l, j], split by the block of l
        return BlockMatrix(
            A.d_maj * B.d_maj + (m - 1) * A.o_maj * B.o_maj + s * A.x_mm * B.x_nm,
            A.d_maj * B.o_maj + A.o_maj * B.d_maj + (m - 2) * A.o_maj * B.o_maj + s * A.x_mm * B.x_nm,
            A.d_min * B.d_min + (s - 1) * A.o_min * B.o_min + m * A.x_nm * B.x_mm,
            A.d_min * B.o_min + A.o_min * B.d_min + (s - 2) * A.o_min * B.o_min + m * A.x_nm * B.x_mm,
            (A.d_maj + (m - 1) * A.o_maj) * B.x_mm + A.x_mm * (B.d_min + (s - 1) * B.o_min),
            A.x_nm * (B.d_maj + (m - 1) * B.o_maj) + (A.d_min + (s - 1) * A.o_min) * B.x_nm,
        )

    def apply(self, v: "BlockVector") -> "BlockVector":
        """A v, coordinate by coordinate (see the module docstring)."""
        return BlockVector(
            (self.d_maj + (m - 1) * self.o_maj) * v.a + s * self.x_mm * v.b,
            m * self.x_nm * v.a + (self.d_min + (s - 1) * self.o_min) * v.b,
            (self.d_maj - self.o_maj) * v.c,
            (self.d_min - self.o_min) * v.d,
        )

    def equals(self, other: "BlockMatrix") -> bool:
        """Entrywise equality, decided by simplifying the differences to 0."""
        return all(sympy.simplify(a - b) == 0 for a, b in zip(self.entries(), other.entries()))

    def dense(self, m_val: int, s_val: int, subs: dict | None = None) -> sympy.Matrix:
        """The explicit (m + s) x (m + s) matrix for whole block sizes."""
        sub = {m: m_val, s: s_val, **(subs or {})}
        e = [sympy.sympify(x).subs(sub) for x in self.entries()]
        d1, o1, d2, o2, x12, x21 = e
        k = m_val + s_val

        def entry(i, j):
            if i < m_val and j < m_val:
                return d1 if i == j else o1
            if i >= m_val and j >= m_val:
                return d2 if i == j else o2
            return x12 if i < m_val else x21

        return sympy.Matrix(k, k, entry)


@dataclass(frozen=True)
class BlockVector:
    """a 1_maj + b 1_min + c z_maj + d z_min (z_* a zero-sum vector on its block)."""

    a: sympy.Expr
    b: sympy.Expr
    c: sympy.Expr
    d: sympy.Expr

    def coords(self) -> tuple:
        return (self.a, self.b, self.c, self.d)

    def dense(self, m_val: int, s_val: int, z_maj=None, z_min=None, subs: dict | None = None):
        """The explicit vector of length m + s; z_maj / z_min default to e_1 - e_2 on the block."""
        sub = {m: m_val, s: s_val, **(subs or {})}
        a, b, c, d = (sympy.sympify(x).subs(sub) for x in self.coords())
        zm = list(z_maj) if z_maj is not None else _first_contrast(m_val)
        zn = list(z_min) if z_min is not None else _first_contrast(s_val)
        return sympy.Matrix([a + c * zm[i] for i in range(m_val)] + [b + d * zn[i] for i in range(s_val)])


def _first_contrast(r: int) -> list:
    """e_1 - e_2 in R^r (zero-sum), or the zero vector when r = 1 (no zero-sum vector exists)."""
    if r == 1:
        return [0]
    return [1, -1] + [0] * (r - 2)


# The two matrices every STEP quantity is built from.
def centering() -> BlockMatrix:
    """P = I - 11^T / k with k = m + s."""
    return BlockMatrix.identity() - BlockMatrix.ones().scale(1 / (m + s))


def counts_matrix(n_maj, n_min) -> BlockMatrix:
    """D = diag(n_c): n_maj on the majority block, n_min on the minority block."""
    return BlockMatrix.diagonal(n_maj, n_min)
