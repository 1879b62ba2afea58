"""Per-instance proofs of the strict sign condition (interval arithmetic) and their soundness."""

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import example, given, note, settings

from proofs_check.certificate import (
    benchmark_backends,
    enclose_G_M,
    sign_certificate,
    sign_margin,
)
from seli_exact import SeliInputError, from_counts, seli_geometry, step
from tests.strategies import any_counts, step_counts

FIG1 = step(4, 10, "1/2", 5)


def test_fig1_proven_with_three_margins():
    cert = sign_certificate(FIG1)
    assert cert.proven and not cert.refuted
    # the float64, mpmath and interval margins agree, and the enclosure is far tighter
    assert abs(cert.float64_margin - cert.mpmath_margin) < 1e-15
    assert abs(cert.interval_margin - cert.mpmath_margin) < 1e-40
    assert cert.interval_radius < 1e-45 and cert.candidate_distance < 1e-45
    assert cert.mpmath_margin > cert.candidate_distance


@pytest.mark.parametrize("counts", [step(3, 2, "1/3", 2), from_counts([1, 2, 5]), FIG1])
def test_enclosure_contains_the_exact_gram(counts):
    """The exact G_M (SymPy, roots of the cleared secular polynomial) lies in every enclosure."""
    exact = seli_geometry(counts, "exact").M_gram
    enc = enclose_G_M(counts)
    mr = enc.block_matrix()
    with mpmath.workdps(80):
        for c in range(counts.k):
            for d in range(counts.k):
                m, r = mr[c][d]
                x = mpmath.mpf(str(sympy.N(exact[c, d], 80)))
                assert abs(x - m) <= r + mpmath.mpf(10) ** -75


def test_backends_agree_and_are_timed():
    counts = from_counts([1, 2, 3, 50, 7, 1000])
    a = sign_certificate(counts, backend="arb")
    b = sign_certificate(counts, backend="mpmath.iv")
    assert a.proven and b.proven
    assert abs(a.interval_margin - b.interval_margin) < 1e-40
    t = benchmark_backends(counts, repeat=1)
    assert t["arb"] > 0 and t["mpmath.iv"] > 0


def test_wrong_root_candidate_is_not_proven():
    # the secular root of (50, 50, 5, 5) is 27.5; a candidate of 27.6 has no sign change around it
    cert = sign_certificate(FIG1, candidates=[mpmath.mpf("27.6")])
    assert not cert.proven and not cert.refuted
    assert "no sign change" in cert.failure


def test_flipped_and_zeroed_entries_are_refuted():
    flipped = sign_certificate(FIG1, transform=lambda kind, x: -x if kind == "off" else x)
    assert flipped.refuted and not flipped.proven and flipped.mpmath_margin < 0
    zeroed = sign_certificate(FIG1, transform=lambda kind, x: x * 0 if kind == "off" else x)
    assert zeroed.refuted and not zeroed.proven


def test_bad_backend_name():
    with pytest.raises(
        SeliInputError, match=r"`backend` must be one of arb, mpmath.iv; got 'ball'"
    ):
        enclose_G_M(FIG1, backend="ball")


@given(step_counts(max_k=8, max_R=200, max_n_min=20))
@example(step(4, 10, "1/2", 5))
@settings(max_examples=15)
def test_step_instances_proven(counts):
    note(f"counts {counts.counts}")
    cert = sign_certificate(counts, digits=30)
    assert cert.proven, cert.to_json()


@given(any_counts(max_k=7, max_count=1000))
@example(from_counts([50, 50, 5, 5]))
@settings(max_examples=15)
def test_any_counts_proven(counts):
    """The conjecture beyond STEP: a failure here is a counterexample (hypothesis shrinks it)."""
    note(f"counts {counts.counts}")
    cert = sign_certificate(counts, digits=30)
    assert cert.proven, cert.to_json()


@given(any_counts(max_k=12, max_count=10**5))
@example(from_counts([50, 50, 5, 5]))
def test_any_counts_float_margin_positive(counts):
    """Cheap float64 screen over wider counts; the interval proof above decides real cases."""
    margin = sign_margin(seli_geometry(counts).M_gram)
    note(f"counts {counts.counts}, float64 margin {margin}")
    assert margin > 0


@pytest.mark.slow
@given(any_counts(max_k=14, max_count=10**4))
@example(from_counts([50, 50, 5, 5]))
@settings(max_examples=60)
def test_any_counts_proven_thorough(counts):
    note(f"counts {counts.counts}")
    cert = sign_certificate(counts, digits=30)
    assert cert.proven, cert.to_json()


@given(any_counts(max_k=10, max_count=1000))
@example(from_counts([50, 50, 5, 5]))
def test_diagonal_lower_bound_any_counts(counts):
    """The proven part of the conjecture: G_M[c, c] >= (1 - 1/k) / sigma_max for all counts."""
    g = seli_geometry(counts)
    k = counts.k
    assert (np.diag(g.M_gram) >= (1 - 1 / k) / g.singular_values.max() * (1 - 1e-12)).all()
