"""The three routes to the SELI geometry (secular, dense, integral) against each other and against
independent references, in float64 and at 50 digits."""

import math

import mpmath
import numpy as np
import pytest
from hypothesis import example, given, settings

from seli_exact import SeliInputError, arithmetic, from_counts, sel_matrix, sel_svd, seli_geometry, step
from seli_exact.counts import parse_profile
from seli_exact.geometry import ROUTES
from seli_exact.integral import integral_grams
from seli_exact.svd import secular_roots

from .strategies import any_counts, step_counts

FIG1 = step(4, 10, "1/2", 5)
F64 = arithmetic("float64")
# float64: a dense eigen-decomposition loses about one ulp per dimension and the condition
# number of P D P on its range (max n / min n); 2^-43 leaves 2^10 ulps of headroom on top
RTOL64 = 2.0**-43


def _tol64(c) -> float:
    return RTOL64 * (c.k + 1) * max(c.counts) / min(c.counts)


def _rel(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


@given(any_counts(max_k=12, max_count=500))
@example(FIG1)
@example(from_counts([7, 7, 7]))
@example(from_counts([1, 1000]))
@settings(max_examples=40)
def test_three_routes_agree_in_float64(c):
    g = {r: seli_geometry(c, route=r) for r in ROUTES}
    tol = _tol64(c)
    for r in ("dense", "integral"):
        assert g[r].route == r
        for what in ("W_gram", "M_gram", "logits", "singular_values"):
            assert _rel(getattr(g[r], what), getattr(g["secular"], what)) <= tol, (r, what)


@given(step_counts(max_k=10, max_R=100, max_n_min=10))
@settings(max_examples=20)
def test_three_routes_agree_on_step(c):
    g = {r: seli_geometry(c, route=r) for r in ROUTES}
    for r in ("dense", "integral"):
        assert _rel(g[r].M_gram, g["secular"].M_gram) <= _tol64(c)
        assert _rel(g[r].W_gram, g["secular"].W_gram) <= _tol64(c)


@pytest.mark.parametrize("counts", [[50, 50, 5, 5], [1, 2, 3, 50, 7, 1000], [9, 4, 4, 4, 2], [3, 1]])
def test_three_routes_agree_at_50_digits(counts):
    c = from_counts(counts)
    ar = arithmetic("mpmath", 50)
    g = {r: seli_geometry(c, ar, route=r) for r in ROUTES}
    with mpmath.workdps(60):
        bound = mpmath.mpf(10) ** -47
        for r in ("dense", "integral"):
            for what in ("M_gram", "W_gram", "singular_values"):
                a, b = getattr(g[r], what), getattr(g["secular"], what)
                err = max(abs(x - y) for x, y in zip(a.ravel(), b.ravel()))
                scale = max(abs(y) for y in b.ravel())
                assert err <= bound * scale, (r, what, mpmath.nstr(err, 3))


def test_integral_route_is_entrywise_accurate_and_honest():
    """The integral route's G_M entries are relatively accurate (all of them: the integrands are
    positive), and its reported error estimate covers the true error (against 60 digits)."""
    for counts in ([50, 50, 5, 5], [1, 2, 3, 50, 7, 1000], list(parse_profile("exp:k=10:ratio=100").counts)):
        c = from_counts(counts)
        g = integral_grams(c)
        ref = seli_geometry(c, "mpmath", 60)
        true = np.max(np.abs(g.G_M - F64.to_float(ref.M_gram)) / np.abs(F64.to_float(ref.M_gram)))
        assert true <= g.error["G_M_rel"] <= 2 * g.error["target_rel"] + 1e-15
        absW = np.max(np.abs(g.G_W - F64.to_float(ref.W_gram)))
        assert absW <= g.error["G_W_abs"] + 8 * np.finfo(float).eps * np.max(np.abs(g.G_W))


def test_integral_route_precision_ladder():
    """30 and 60 digits agree to 30 digits; each level's estimate is below its target."""
    c = from_counts([5, 3, 3, 1])
    lo, hi = integral_grams(c, "mpmath", 30), integral_grams(c, "mpmath", 60)
    assert lo.error["G_M_rel"] <= 1e-31 and hi.error["G_M_rel"] <= 1e-61
    with mpmath.workdps(70):
        err = max(abs(x - y) / abs(y) for x, y in zip(lo.G_M.ravel(), hi.G_M.ravel()))
        assert err <= mpmath.mpf(10) ** -30


def test_integral_route_step_ladder_is_geometric(monkeypatch):
    """From a deliberately coarse first step, each halving of the step cuts the difference
    between successive trapezoid sums by a large factor (convergence like exp(-2 pi a / h)):
    the difference of the last two levels then over-estimates the finer level's error."""
    import seli_exact.integral as integral

    monkeypatch.setattr(integral, "STRIP", 12.0)  # first step about 4x too coarse
    c = from_counts([1, 2, 3, 50, 7, 1000])
    g = integral.integral_grams(c)
    ladder = g.error["ladder_M"]
    assert len(ladder) >= 3
    for coarse, fine in zip(ladder, ladder[1:]):
        assert fine < 1e-2 * coarse or fine < 4 * g.error["target_rel"]
    ref = seli_geometry(c, "mpmath", 40)
    true = np.max(np.abs(g.G_M - F64.to_float(ref.M_gram)) / np.abs(F64.to_float(ref.M_gram)))
    assert true <= max(ladder[-1], 16 * np.finfo(float).eps)


def test_singular_values_of_every_route_are_those_of_the_dense_sel_matrix():
    c = from_counts([40, 35, 30, 25, 20, 15, 12, 10, 8, 5])
    dense = np.linalg.svd(sel_matrix(c), compute_uv=False)[: c.k - 1]
    for r in ROUTES:
        sv = seli_geometry(c, route=r).singular_values
        np.testing.assert_allclose(sv, dense, rtol=_tol64(c))
        assert seli_geometry(c, route=r).nuclear_norm == pytest.approx(dense.sum(), rel=_tol64(c))


@pytest.mark.parametrize("route", ROUTES)
def test_every_geometry_property_works_on_every_route(route):
    c = from_counts([30, 10, 10, 2])
    g = seli_geometry(c, route=route)
    ref = seli_geometry(c)
    assert g.k == 4 and g.name == "SELI"
    for prop in ("nuclear_norm", "classifier_norms", "embedding_norms", "classifier_cosines",
                 "embedding_cosines", "alignment"):
        np.testing.assert_allclose(getattr(g, prop), getattr(ref, prop), rtol=1e-12, atol=1e-14)
    assert g.H_gram().shape == (c.n, c.n)
    f = g.to_float()
    assert f.route == route and f.error == g.error
    # Theorem 1 (i): logits W^T M = P on every route
    np.testing.assert_allclose(g.logits, np.eye(4) - 0.25, atol=1e-14)


def test_matrix_functions_equal_the_dense_spectral_sum():
    """The block-level spectral sum (svd.py) against V diag(f) V^T formed from V itself."""
    for counts in ([5, 5, 3, 1, 1, 1], [9, 4, 4, 4, 2, 2, 100], [7, 7, 7]):
        s = sel_svd(from_counts(counts))
        for f in (lambda x: x, lambda x: 1 / x, lambda x: 1.0):
            want = (s.V * np.array([f(x) for x in s.sigma])[None, :]) @ s.V.T
            np.testing.assert_allclose(s.matrix_function(f), want, atol=1e-13 * max(counts))


def test_secular_roots_equal_the_svd_spectrum():
    c = from_counts([1, 2, 3, 50, 7, 1000, 7])
    mu = secular_roots(c, "mpmath", 40)
    spec = [t.mu for t in sel_svd(c, "mpmath", 40).spectrum if t.kind == "secular"]
    assert len(mu) == len(spec) == 5
    with mpmath.workdps(50):
        assert max(abs(x - y) / y for x, y in zip(mu, spec)) < mpmath.mpf(10) ** -38
    np.testing.assert_allclose(secular_roots(c), [float(x) for x in spec], rtol=1e-13)


def test_long_tail_at_imagenet_size_in_float64():
    """k = 1000, 529 distinct counts: the secular and integral routes agree entrywise."""
    c = parse_profile("exp:k=1000:ratio=256:n_max=1280")
    a, b = seli_geometry(c), seli_geometry(c, route="integral")
    # the secular sum loses a few digits on the smallest entries (sums of 528 signed terms);
    # the integral's integrands are positive
    assert np.max(np.abs(a.M_gram - b.M_gram) / np.abs(b.M_gram)) < 1e-10
    assert _rel(a.W_gram, b.W_gram) < 1e-12
    assert (np.diag(b.M_gram) > 0).all() and (b.M_gram[~np.eye(1000, dtype=bool)] < 0).all()


def test_bad_route_and_arithmetic():
    with pytest.raises(SeliInputError, match=r"`route` must be one of secular, dense, integral; "
                                             r"got 'qr'\. Use secular \(the default\)\."):
        seli_geometry(FIG1, route="qr")
    for route in ("dense", "integral"):
        with pytest.raises(SeliInputError, match=rf"the {route} route runs in float64 or mpmath; "
                                                 r"got arithmetic 'exact'"):
            seli_geometry(FIG1, "exact", route=route)
    with pytest.raises(SeliInputError, match=r"`svd` is the secular route's input"):
        seli_geometry(FIG1, svd=sel_svd(FIG1), route="dense")
    with pytest.raises(SeliInputError, match=r"`counts` must be a ClassCounts"):
        seli_geometry([50, 50, 5, 5], route="integral")


def test_dense_route_refuses_an_eigensolver_without_the_null_gap(monkeypatch):
    import seli_exact.dense as dense

    def broken(A):
        k = A.shape[0]
        return np.linspace(1.0, 2.0, k), np.eye(k)  # no eigenvalue near 0

    monkeypatch.setattr(dense.np.linalg, "eigh", broken)
    with pytest.raises(ArithmeticError, match="expected one eigenvalue near 0"):
        seli_geometry(FIG1, route="dense")


def test_balanced_counts_give_the_etf_on_every_route():
    for r in ROUTES:
        g = seli_geometry(from_counts([9] * 5), route=r)
        np.testing.assert_allclose(g.M_gram * 3, np.eye(5) - 0.2, atol=1e-14)
        np.testing.assert_allclose(g.W_gram / 3, np.eye(5) - 0.2, atol=1e-14)
        assert math.isclose(g.nuclear_norm, 4 * 3, rel_tol=1e-14)
