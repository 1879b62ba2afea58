"""The eigenstructure of Zhat Zhat^T = P D P under (R, rho)-STEP imbalance, solved, not typed in.

Zhat = P Y (Definition 2), so Zhat Zhat^T = P Y Y^T P = P D P with D = diag(n_c). Written as a
`BlockMatrix` with symbolic block sizes m, s, the eigen-equation P D P v = lambda v on the
block-structured vector v = a 1_maj + b 1_min + c z_maj + d z_min is a 4 x 4 linear system in
(a, b, c, d); it has a nonzero solution iff its determinant (a polynomial in lambda) vanishes.
Its roots are the eigenvalues; each null space gives the eigenvector, and its kind the
multiplicity: z_maj spans the (m - 1)-dimensional zero-sum vectors of the majority block, z_min
the (s - 1)-dimensional ones of the minority block, and a block-constant vector one dimension.

>>> sp = step_spectrum()
>>> sorted(str(e.value) for e in sp.spaces)
['0', 'R*n_min', 'n_min', 'n_min*(R*s + m)/(m + s)']
>>> sp.space("mix").multiplicity, sp.space("maj").multiplicity
(1, m - 1)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy

from .blocks import BlockMatrix, BlockVector, centering, counts_matrix
from .symbols import lam, m, s, symbols

SPACE_NAMES = ("maj", "min", "mix", "kernel")


@dataclass(frozen=True)
class Eigenspace:
    """An eigenvalue of P D P, a spanning block vector of its eigenspace, its dimension, projector.

    name: "maj" (zero-sum on the majority block), "min" (zero-sum on the minority block), "mix"
    (block-constant, nonzero eigenvalue) or "kernel" (the all-ones vector, eigenvalue 0).
    """

    name: str
    value: sympy.Expr
    vector: BlockVector
    multiplicity: sympy.Expr
    projector: BlockMatrix

    def __post_init__(self):
        if self.name not in SPACE_NAMES:
            raise ValueError(f"Eigenspace name must be one of {SPACE_NAMES}, not {self.name!r}")


@dataclass(frozen=True)
class StepSpectrum:
    """P D P as a block matrix, the characteristic polynomial of the block eigen-equation, and
    the eigenspaces (valid for R > 1; at R = 1 the three nonzero eigenvalues coincide)."""

    gram: BlockMatrix  # Zhat Zhat^T = P D P
    characteristic: sympy.Expr  # det of the 4 x 4 block eigen-system, in lambda
    spaces: tuple[Eigenspace, ...]

    def space(self, name: str) -> Eigenspace:
        for e in self.spaces:
            if e.name == name:
                return e
        raise KeyError(name)


@lru_cache(maxsize=1)
def step_spectrum() -> StepSpectrum:
    """Solve the eigen-equation of P D P on block-structured vectors (symbolic m, s, R, n_min)."""
    _, R, _, n_min = symbols()
    P = centering()
    gram = (P @ counts_matrix(R * n_min, n_min) @ P).map(sympy.factor)

    unknowns = sympy.symbols("a b c d")
    v = BlockVector(*unknowns)
    residual = gram.apply(v)
    equations = [sympy.expand(r - lam * x) for r, x in zip(residual.coords(), v.coords())]
    A, _ = sympy.linear_eq_to_matrix(equations, unknowns)  # (4, 4), A(lambda) v = 0
    characteristic = sympy.factor(A.det())
    roots = sympy.roots(sympy.Poly(characteristic, lam))
    if sum(roots.values()) != 4:
        raise ArithmeticError(f"block eigen-system: expected 4 roots, got {roots}")

    spaces = []
    for value in roots:
        value = sympy.factor(value)
        null = A.subs(lam, value).nullspace(simplify=True)
        if len(null) != 1:
            raise ArithmeticError(f"eigenvalue {value}: null space of dimension {len(null)}")
        a, b, c, d = (sympy.factor(x) for x in null[0])
        vec = BlockVector(a, b, c, d)
        if c != 0 and a == b == d == 0:
            # zero-sum vectors on the majority block: projector I_maj - 1_maj 1_maj^T / m
            name, mult = "maj", m - 1
            proj = BlockMatrix.diagonal(1, 0) - _block_ones("maj").scale(1 / m)
        elif d != 0 and a == b == c == 0:
            name, mult = "min", s - 1
            proj = BlockMatrix.diagonal(0, 1) - _block_ones("min").scale(1 / s)
        elif c == 0 and d == 0:
            name = "kernel" if value == 0 else "mix"
            mult = sympy.Integer(1)
            norm_sq = m * a**2 + s * b**2  # v^T v
            proj = BlockMatrix.outer(vec).scale(1 / norm_sq).map(sympy.factor)
        else:
            raise ArithmeticError(f"eigenvalue {value}: vector {vec} mixes kinds")
        spaces.append(Eigenspace(name, value, vec, mult, proj))
    order = {name: i for i, name in enumerate(SPACE_NAMES)}
    spaces.sort(key=lambda e: order[e.name])
    return StepSpectrum(gram, characteristic, tuple(spaces))


def _block_ones(block: str) -> BlockMatrix:
    """1_block 1_block^T."""
    return BlockMatrix.outer(BlockVector(1, 0, 0, 0) if block == "maj" else BlockVector(0, 1, 0, 0))
