"""Rows of evidence and the verdict they add up to; relative errors in float64 and mpmath.

A row is one comparison on one instance: a residual that must be <= its tolerance, or a margin
that must be > its floor, or a statement that could not be decided. `verdict` aggregates rows:
refuted when any row fails (the failing rows are the evidence), undecided when none fails but
some could not be decided, verified otherwise. A residual row whose tolerance is above
tolerances.UNDECIDABLE is undecided when it passes: agreement within a loose tolerance shows
nothing.

>>> verdict("demo", [residual_row("a", 1e-14, 1e-12), margin_row("b", 0.5, 0.0)]).status.value
'verified'
>>> verdict("demo", [residual_row("a", 1e-9, 1e-12)]).status.value
'refuted'
>>> verdict("demo", [residual_row("a", 1e-9, 0.1)]).status.value
'undecided'
"""

from __future__ import annotations

import math

import mpmath
import numpy as np

from seli_exact.verdict import Status, Verdict

from . import tolerances


def residual_row(instance: str, residual, tol: float, **extra) -> dict:
    """ok when residual <= tol (a NaN residual is not ok); undecided when ok only because the
    tolerance is too loose to decide (tol > tolerances.UNDECIDABLE)."""
    residual = float(residual)
    ok = residual <= tol
    row = {"instance": instance, "residual": residual, "tol": float(tol), "ok": bool(ok), **extra}
    if ok and not tolerances.decidable(tol):
        row["undecided"] = f"tolerance {tol:.3g} too loose to decide"
    return row


def margin_row(instance: str, margin, floor: float = 0.0, **extra) -> dict:
    """ok when margin > floor (a NaN margin is not ok)."""
    margin = float(margin)
    return {"instance": instance, "margin": margin, "floor": float(floor),
            "ok": bool(margin > floor), **extra}


def undecided_row(instance: str, reason: str, **extra) -> dict:
    """A statement that could be neither shown nor refuted, with the reason."""
    return {"instance": instance, "ok": True, "undecided": reason, **extra}


def failed_row(instance: str, reason: str, **extra) -> dict:
    """A statement shown false (e.g. an exact identity with a nonzero remainder)."""
    return {"instance": instance, "ok": False, "reason": reason, **extra}


def proven_row(instance: str, **extra) -> dict:
    """A statement shown true exactly (residual 0)."""
    return {"instance": instance, "residual": 0.0, "tol": 0.0, "ok": True, **extra}


def verdict(claim_id: str, rows: list[dict], *, kind: str | None = None,
            extra: dict | None = None) -> Verdict:
    """The verdict of a list of rows (see module doc). `kind` ("residual" or "margin") picks
    the worst value reported; by default the kind of the majority of rows."""
    evidence = {"instances": rows, **(extra or {})}
    if not rows:
        return Verdict(claim_id, Status.ERROR, 0, evidence={"exception": "no instances", **evidence})
    if kind is None:
        margins = sum("margin" in r for r in rows)
        kind = "margin" if margins > len(rows) - margins else "residual"
    values = [r[kind] for r in rows if kind in r]
    if kind == "residual":
        worst = max(values, key=lambda v: -math.inf if v != v else v) if values else None
        if any(v != v for v in values):
            worst = math.nan
    else:
        worst = min(values, key=lambda v: math.inf if v != v else v) if values else None
    failing = [r for r in rows if not r["ok"]]
    if failing:
        evidence["failing"] = failing[:5]
        return Verdict(claim_id, Status.REFUTED, len(rows), worst, kind, evidence)
    undecided = [f"{r['instance']}: {r['undecided']}" for r in rows if r.get("undecided")]
    if undecided:
        evidence["undecided"] = undecided
        return Verdict(claim_id, Status.UNDECIDED, len(rows), worst, kind, evidence)
    return Verdict(claim_id, Status.VERIFIED, len(rows), worst, kind, evidence)


def rel_error(a, b) -> float:
    """||a - b||_F / ||b||_F (||a - b||_F when b = 0); float64, or mpmath for object arrays.

    inf when the shapes differ; NaN propagates (a NaN residual fails every tolerance).
    """
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return math.inf
    if a.dtype == object or b.dtype == object:
        with mpmath.workdps(tolerances.DIGITS + 10):
            fa = [to_mpf(x) for x in a.ravel()]
            fb = [to_mpf(x) for x in b.ravel()]
            num = mpmath.sqrt(mpmath.fsum((x - y) ** 2 for x, y in zip(fa, fb)))
            den = mpmath.sqrt(mpmath.fsum(y**2 for y in fb))
            return float(num / den) if den != 0 else float(num)
    a, b = a.astype(float), b.astype(float)
    den = float(np.linalg.norm(b))
    num = float(np.linalg.norm(a - b))
    return num / den if den != 0 else num


def max_rel_error(a, b) -> float:
    """max_i |a_i - b_i| / |b_i| over the entries (entries where b_i = 0 compared absolutely)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return math.inf
    if a.dtype == object or b.dtype == object:
        with mpmath.workdps(tolerances.DIGITS + 10):
            out = mpmath.mpf(0)
            for x, y in zip(a.ravel(), b.ravel()):
                x, y = to_mpf(x), to_mpf(y)
                d = abs(x - y) / (abs(y) if y != 0 else 1)
                if d != d:
                    return math.nan
                out = max(out, d)
            return float(out)
    a, b = a.astype(float), b.astype(float)
    scale = np.where(b == 0, 1.0, np.abs(b))
    err = np.abs(a - b) / scale
    return float(np.nan) if np.isnan(err).any() else float(err.max(initial=0.0))


def to_mpf(x) -> mpmath.mpf:
    """Any number (float, mpmath of any context, SymPy) as a global-context mpf, unrounded where
    it is binary already; use inside mpmath.workdps."""
    if hasattr(x, "_mpf_"):
        return mpmath.mp.make_mpf(x._mpf_)
    if isinstance(x, (int, float, np.floating, np.integer)):
        return mpmath.mpf(x)
    import sympy

    return mpmath.mpf(str(sympy.N(x, mpmath.mp.dps + 5)))
