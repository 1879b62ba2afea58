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
from proofs_check import tolerances
from seli_exact import SeliInputError, from_counts, seli_geometry, step
from tests.strategies import any_counts, step_counts

FIG1 = step(4, 10, "1/2", 5)


def test_fig1_proven_with_three_margins():
    cert = sign_certificate(FIG1)
    assert cert.proven and not cert.refuted
    # the float64, mpmath and interval margins agree, and the enclosure is far tighter
    # the float64 geometry's accuracy, O(k) roundings times cond (tolerances.lapack, as the
    # claims compare it); the 50-digit ones agree to far below
    assert abs(cert.float64_margin - cert.mpmath_margin) <= tolerances.lapack(FIG1)
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
    # the same wrong matrix in float64 (the transform reaches all three routes alike)
    assert flipped.float64_margin == pytest.approx(flipped.mpmath_margin, abs=tolerances.lapack(FIG1))
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


# --------------------------------------------------------------------------- the primitives
# Every decision of a proof is one of these calls on an enclosure; each is tested where it must
# say no: an interval that touches 0 is neither positive nor negative, and so on.
from proofs_check.certificate import (  # noqa: E402
    BACKENDS, GUARD_BITS, _backend, _mpf_to_mpfr, _secular_candidates,
)
from seli_exact.arithmetic import digits_to_bits  # noqa: E402


def _iv(be, lo, hi):
    return be.hull(be.exact(mpmath.mpf(lo)), be.exact(mpmath.mpf(hi)))


@pytest.mark.parametrize("name", BACKENDS)
def test_sign_decisions_on_intervals_touching_zero(name):
    """(lo, hi): (positive, negative, nonpositive); None where a backend may answer either way
    soundly (arb's hull of [-2, 0] is a ball whose radius is rounded up past 0: it may not
    claim nonpositive, mpmath.iv's exact endpoints may)."""
    be = _backend(name, 120)
    with be.scope():
        cases = {
            (1, 2): (True, False, False),
            (0, 2): (False, False, False),
            ("-1e-30", 2): (False, False, False),
            (-2, -1): (False, True, True),
            (-2, 0): (False, False, None),
            (-2, "1e-30"): (False, False, False),
            (0, 0): (False, False, True),
        }
        for (lo, hi), want in cases.items():
            x = _iv(be, lo, hi)
            got = (be.positive(x), be.negative(x), be.nonpositive(x))
            assert all(w is None or g == w for g, w in zip(got, want)), (name, lo, hi, got)


@pytest.mark.parametrize("name", BACKENDS)
def test_exact_rational_midpoint_radius_and_distance(name):
    be = _backend(name, 120)
    with be.scope():
        third = be.rational(sympy.Rational(1, 3))
        m, r = be.mid_rad(third)
        with mpmath.workdps(40):
            assert abs(m - mpmath.mpf(1) / 3) <= r + mpmath.mpf(2) ** -118
            assert r <= mpmath.mpf(2) ** -118
        for value in ("-0.75", "3.5", "-1e-20"):
            x = be.exact(mpmath.mpf(value))
            assert be.mid_rad(x) == (mpmath.mpf(value), 0)
        iv = _iv(be, 1, 3)  # arb rounds a ball's radius up (30-bit radii): 1 <= rad < 1 + 1e-8
        m, r = be.mid_rad(iv)
        assert m == 2 and 1 <= r < 1 + 1e-8
        m, r = be.worst([_iv(be, 1, 3), _iv(be, 5, 6)], [_iv(be, 0, 10), _iv(be, 1, 3)])
        assert m == 2 and 5 <= r < 5 + 1e-7
        # an upper bound on the distance from 5 to every point of [1, 3]: 4, not 6 or 2
        d = be.to_mpf_upper(be.distance(be.exact(mpmath.mpf(5)), iv))
        assert 4 <= d <= 4 + 1e-8


def test_mpf_to_mpfr_keeps_sign_and_every_bit():
    with mpmath.workprec(200):
        for x in (mpmath.mpf(-3.5), mpmath.mpf(1) / 3, -mpmath.mpf(2) ** -300 * 7):
            y = _mpf_to_mpfr(x)
            man, exp = y.as_mantissa_exp()
            assert mpmath.mpf(int(man)) * mpmath.mpf(2) ** int(exp) == x


def test_entries_list_every_distinct_entry_once():
    """values (1, 3, 5), multiplicities (1, 2, 1): three diagonals; off-diagonal blocks for every
    pair of distinct counts and inside the shared count 3 only."""
    enc = enclose_G_M(from_counts([5, 3, 3, 1]))
    assert [(kind, j, l) for kind, j, l, _ in enc.entries()] == [
        ("diag", 0, 0), ("diag", 1, 1), ("diag", 2, 2),
        ("off", 0, 1), ("off", 0, 2), ("off", 1, 1), ("off", 1, 2)]


def test_no_enclosure_proves_and_refutes_nothing():
    enc = enclose_G_M(FIG1, candidates=[])
    assert not enc.enclosed and "expected 1 secular roots, got 0" in enc.failure
    assert not enc.sign_proven() and not enc.sign_refuted()
    assert (enc.counts, enc.backend, enc.values, enc.multiplicity) == (FIG1, "arb", (5, 50), (2, 2))
    assert enc.bits == digits_to_bits(50) + GUARD_BITS
    cert = sign_certificate(FIG1, candidates=[])  # no candidate matrix either
    assert not cert.proven and not cert.refuted and cert.mpmath_margin != cert.mpmath_margin
    ok = enclose_G_M(FIG1, backend="mpmath.iv")
    assert (ok.backend, ok.failure, len(ok.roots)) == ("mpmath.iv", "", 1)


def test_reported_bounds_round_up_and_exact_conversion():
    from proofs_check.certificate import _exact_mpf, _up

    with mpmath.workprec(200):
        third = mpmath.mpf(1) / 3
        assert _up(third) >= third and _up(third) - third < 1e-16
        assert _up(mpmath.mpf(0.5)) == 0.5  # exact: not moved
        assert _exact_mpf(0.5) == 0.5 and _exact_mpf(third) == third


def test_an_entry_straddling_zero_is_undecided():
    """x - x is a small interval around 0: neither proven nor refuted."""
    cert = sign_certificate(FIG1, transform=lambda kind, x: x - x if kind == "off" else x)
    assert not cert.proven and not cert.refuted
    enc = enclose_G_M(FIG1, transform=lambda kind, x: x - x if kind == "diag" else x)
    assert not enc.sign_proven() and not enc.sign_refuted()


def test_each_gap_needs_its_own_root():
    """Candidates must be one per gap, ascending: the last root given twice (or the roots in the
    wrong order) is no enclosure, even though each candidate is a true root."""
    c = from_counts([1, 2, 3, 50, 7, 1000])
    mus = _secular_candidates(c, 50)
    assert enclose_G_M(c, candidates=mus).sign_proven()
    for wrong in ([mus[-1]] * len(mus), mus[::-1]):
        enc = enclose_G_M(c, candidates=wrong)
        assert not enc.enclosed and "no sign change" in enc.failure


def test_a_candidate_accurate_to_the_stated_digits_is_enclosed():
    """The contract: candidates correct to `digits` digits. One off by one unit in the last
    stated bit (relative 2^-bits) is still enclosed, by the first widening."""
    c = from_counts([1, 2, 5])
    exact = _secular_candidates(c, 80)
    with mpmath.workprec(digits_to_bits(50) + GUARD_BITS + 20):
        off = [mu * (1 + mpmath.ldexp(1, -digits_to_bits(50))) for mu in exact]
    enc = enclose_G_M(c, digits=50, candidates=off)
    assert enc.enclosed and enc.sign_proven()


def test_precision_follows_digits():
    cert = sign_certificate(from_counts([1, 2, 5]), digits=120)
    assert cert.proven and cert.interval_radius < 1e-110 and cert.digits == 120


def test_distance_to_is_the_largest_entry_distance():
    """distance_to bounds max |value - G_M| over all entries, whichever entry is off."""
    import gmpy2

    c = from_counts([5, 3, 3, 1])
    enc = enclose_G_M(c)
    mid = {key: m for key, (m, _) in enc.block_mid_rad().items()}
    with gmpy2.context(gmpy2.get_context(), precision=enc.bits), mpmath.workprec(enc.bits):
        for key in mid:
            values = {q: _mpf_to_mpfr(v + (mpmath.mpf("1e-3") if q == key else 0))
                      for q, v in mid.items()}
            assert abs(enc.distance_to(values) - mpmath.mpf("1e-3")) < 1e-20, key


def test_benchmark_reports_both_backends_and_their_ratio():
    t = benchmark_backends(FIG1, repeat=2)
    assert set(t) == {"arb", "mpmath.iv", "ratio_iv_over_arb"}
    assert t["ratio_iv_over_arb"] == pytest.approx(t["mpmath.iv"] / t["arb"], rel=1e-12)


def test_certificate_json_and_mpfr_round_trip():
    from proofs_check.certificate import _mpfr_to_mpf

    cert = sign_certificate(FIG1)
    j = cert.to_json()
    assert j == {"counts": [50, 50, 5, 5], "float64_margin": cert.float64_margin,
                 "mpmath_margin": cert.mpmath_margin, "interval_margin": cert.interval_margin,
                 "interval_radius": cert.interval_radius,
                 "candidate_distance": cert.candidate_distance, "proven": True, "refuted": False,
                 "backend": "arb", "digits": 50}
    stuck = sign_certificate(FIG1, candidates=[mpmath.mpf("27.6")]).to_json()
    assert stuck["proven"] is False and "no sign change" in stuck["failure"]
    assert (stuck["float64_margin"], stuck["refuted"], stuck["backend"], stuck["digits"]) == (
        cert.float64_margin, False, "arb", 50)
    assert stuck["mpmath_margin"] < cert.mpmath_margin  # the candidate matrix at the wrong root
    with mpmath.workprec(300):
        for x in (mpmath.mpf(1) / 3, -mpmath.mpf(2) ** -200 * 5, mpmath.mpf(27.5)):
            assert _mpfr_to_mpf(_mpf_to_mpfr(x)) == x


def test_enclosure_candidates_follow_digits_and_the_backend_is_the_one_asked_for():
    c = from_counts([1, 2, 5])
    enc = enclose_G_M(c, digits=120)  # its own candidates, at 120 digits
    assert enc.sign_proven() and enc.margins()[1] < 1e-110
    from proofs_check.certificate import _up

    for name in BACKENDS:
        cert = sign_certificate(c, backend=name)
        assert cert.backend == name
        assert cert.interval_radius == _up(enclose_G_M(c, backend=name).margins()[1])
