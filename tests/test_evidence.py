"""proofs_check.evidence: the rows every judge is built from, and how they combine into a verdict.

Every claim's verdict goes through these few functions, so each rule is pinned here at its edge:
a strict inequality fails at equality, a NaN fails, a loose tolerance is undecided, a failing
row beats an undecided one, and nothing is verified from no rows."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from proofs_check import tolerances
from proofs_check.evidence import (
    failed_row,
    margin_row,
    max_rel_error,
    proven_row,
    rel_error,
    residual_row,
    undecided_row,
    verdict,
)
from seli_exact.verdict import Status


def test_margin_is_strict_at_its_floor():
    assert not margin_row("tie", 0.0)["ok"]
    assert not margin_row("at floor", 0.5, 0.5)["ok"]
    assert margin_row("above", 0.5 + 1e-15, 0.5)["ok"]
    assert not margin_row("below", -1e-300)["ok"]
    assert not margin_row("nan", math.nan)["ok"]


def test_residual_is_inclusive_at_its_tolerance_and_nan_fails():
    tol = 1e-12
    assert residual_row("at", tol, tol)["ok"]
    assert not residual_row("above", tol * (1 + 1e-12), tol)["ok"]
    assert not residual_row("nan", math.nan, tol)["ok"]
    assert not residual_row("inf", math.inf, tol)["ok"]


def test_a_tolerance_too_loose_to_decide_is_undecided_not_verified():
    loose = tolerances.UNDECIDABLE * 2
    row = residual_row("loose", 0.0, loose)
    assert row["ok"] and "undecided" in row
    assert verdict("c", [row]).status is Status.UNDECIDED
    assert "undecided" not in residual_row("tight", 0.0, tolerances.UNDECIDABLE)


def test_rows_combine_failed_over_undecided_over_verified():
    good, maybe, bad = proven_row("a"), undecided_row("b", "why"), failed_row("c", "wrong")
    assert verdict("c", [good, good]).status is Status.VERIFIED
    assert verdict("c", [good, maybe]).status is Status.UNDECIDED
    assert verdict("c", [maybe, good]).status is Status.UNDECIDED
    assert verdict("c", [good, maybe, bad]).status is Status.REFUTED
    assert verdict("c", [bad, good]).status is Status.REFUTED
    assert verdict("c", [margin_row("m", 0.0), good]).status is Status.REFUTED
    assert verdict("c", []).status is Status.ERROR  # no evidence is never a proof
    v = verdict("c", [good, maybe, bad])
    assert v.instances == 3 and v.evidence["failing"] == [bad]


def test_the_worst_value_is_reported_and_nan_is_worst():
    rows = [residual_row("a", 1e-14, 1e-12), residual_row("b", 3e-13, 1e-12)]
    assert verdict("c", rows).worst == 3e-13
    assert math.isnan(verdict("c", rows + [residual_row("n", math.nan, 1e-12)]).worst)
    margins = [margin_row("a", 0.5), margin_row("b", 0.25)]
    v = verdict("c", margins)
    assert v.worst == 0.25 and v.worst_kind == "margin"


def test_relative_errors():
    assert rel_error([3.0, 4.0], [3.0, 4.0]) == 0.0
    assert rel_error([3.0, 4.0 + 5e-3], [3.0, 4.0]) == pytest.approx(1e-3)
    assert rel_error([1e-3], [0.0]) == pytest.approx(1e-3)  # absolute against zero
    assert rel_error([1.0], [1.0, 2.0]) == math.inf
    assert math.isnan(rel_error([math.nan], [1.0]))
    assert max_rel_error([1.0, 2.02], [1.0, 2.0]) == pytest.approx(0.01)
    assert math.isnan(max_rel_error([1.0, math.nan], [1.0, 2.0]))
    with mpmath.workdps(50):
        a = np.array([mpmath.mpf(1) + mpmath.mpf(10) ** -40], dtype=object)
        assert rel_error(a, np.array([mpmath.mpf(1)], dtype=object)) == pytest.approx(1e-40, rel=1e-6)
