"""Every reference value is independent of what it judges: each route a claim reads (the
structured SVD, the dense reference, the solvers, local search, the interval certificate, the
closed forms) is made deliberately 1 % wrong, and every claim that lists the route in ROUTES must
then be refuted (not merely undecided). A check that compared a route with itself (a solver's
objective with a bound from the same run, say) would stay verified and fail here. The slow test
checks the converse: claims that do not list a route are not affected by breaking it, so the
lists are complete.

Each break is applied where the route's results are made, so that every caller sees it.
"""

from __future__ import annotations

import dataclasses
import sys
from fractions import Fraction

import numpy as np
import pytest

from proofs_check import cache
from proofs_check.registry import all_claims
from proofs_check.routes import ROUTES
from seli_exact.verdict import Status

WRONG = 1.01  # 1 %


def _everywhere(monkeypatch, original, replacement):
    """Rebind every module-level name bound to `original` (functions imported by name)."""
    for module in list(sys.modules.values()):
        for name, value in list(getattr(module, "__dict__", {}).items()):
            if value is original:
                monkeypatch.setattr(module, name, replacement)


def break_structured_svd(monkeypatch):
    """sel_svd: class 0's row of V and the largest singular value 1 % off; every matrix function
    (G_W, G_M, W^T M) 1 % off in its off-diagonal entries and in its [0, 0] entry (so norms,
    their ratios and cosines all move); the secular roots 2 % off."""
    from seli_exact import svd

    original_svd, original_roots = svd.sel_svd, svd.secular_roots
    original_mf = svd.SELSVD.matrix_functions

    def sel_svd(*args, **kwargs):
        s = original_svd(*args, **kwargs)
        f = s.arithmetic.number(Fraction(101, 100))
        V, sigma = s.V.copy(), s.sigma.copy()
        V[0, :] = V[0, :] * f
        sigma[0] = sigma[0] * f
        return dataclasses.replace(s, V=V, sigma=sigma, U_class=V / sigma[None, :])

    def matrix_functions(self, *fs):
        outs = original_mf(self, *fs)
        f = self.arithmetic.number(Fraction(101, 100))
        for out in outs:
            diagonal = np.diagonal(out).copy()
            out[...] = out * f
            out[np.diag_indices(out.shape[0])] = diagonal
            out[0, 0] = out[0, 0] * f
        return outs

    def secular_roots(*args, **kwargs):
        return original_roots(*args, **kwargs) * WRONG**2

    _everywhere(monkeypatch, original_svd, sel_svd)
    _everywhere(monkeypatch, original_roots, secular_roots)
    monkeypatch.setattr(svd.SELSVD, "matrix_functions", matrix_functions)


def break_lapack(monkeypatch):
    """The dense route: its largest eigenvalue of P D P 2 % off (float64 and 50 digits), and one
    singular vector of the dense SVD 1 % off."""
    from proofs_check import lapack

    eigh, eigsy, svd = lapack._eigh, lapack._eigsy, lapack._svd

    def wrong_eigh(A):
        mu, Q = eigh(A)
        mu = mu.copy()
        mu[np.argmax(mu)] *= WRONG**2
        return mu, Q

    def wrong_eigsy(ctx, A):
        E, Q = eigsy(ctx, A)
        top = max(range(len(E)), key=lambda i: E[i])
        E[top] = E[top] * ctx.mpf(WRONG) ** 2
        return E, Q

    def wrong_svd(A):
        u, s, vt = svd(A)
        u = u.copy()
        u[:, 0] *= WRONG
        return u, s, vt

    monkeypatch.setattr(lapack, "_eigh", wrong_eigh)
    monkeypatch.setattr(lapack, "_eigsy", wrong_eigsy)
    monkeypatch.setattr(lapack, "_svd", wrong_svd)


def break_ufsvm(monkeypatch):
    """solve_ufsvm: class 0's column of the solution 1 % off, reported with a certificate that
    claims a zero gap at it (its objective as its own lower bound)."""
    from seli_exact.solvers import ufsvm

    original = ufsvm.solve_ufsvm

    def solve_ufsvm(counts, **kwargs):
        r = original(counts, **kwargs)
        Z = r.Z_class.copy()
        Z[:, 0] *= WRONG
        value = ufsvm.nuclear_norm_weighted(Z, counts)
        return ufsvm.UFSVMResult(counts, Z, r.dual, value, value, r.iterations, r.converged)

    monkeypatch.setattr(ufsvm, "solve_ufsvm", solve_ufsvm)


def break_regpath(monkeypatch):
    """solve_regpath_point answers (and certifies) the problem at 1.01 lam."""
    from seli_exact.regpath import solver

    original = solver.solve_regpath_point

    def solve_regpath_point(counts, lam, **kwargs):
        return original(counts, float(lam) * WRONG, **kwargs)

    monkeypatch.setattr(solver, "solve_regpath_point", solve_regpath_point)


def break_cvxpy(monkeypatch):
    """The full-problem solution 1 % off, with its objective."""
    from seli_exact.solvers import ufsvm

    original = ufsvm.solve_ufsvm_cvxpy

    def solve_ufsvm_cvxpy(counts, **kwargs):
        r = original(counts, **kwargs)
        return dataclasses.replace(r, Z=WRONG * r.Z, objective=WRONG * r.objective)

    monkeypatch.setattr(ufsvm, "solve_ufsvm_cvxpy", solve_ufsvm_cvxpy)


def break_local_search(monkeypatch):
    """Every local-search run returns (1.01 W, H / 1.01): margins kept, objective above p*."""
    from proofs_check import local_search as ls

    original = ls.local_search

    def local_search(*args, **kwargs):
        out = []
        for r in original(*args, **kwargs):
            W, H = WRONG * r.W, r.H / WRONG
            out.append(dataclasses.replace(r, W=W, H=H, objective=0.5 * (np.sum(W * W) + np.sum(H * H))))
        return out

    monkeypatch.setattr(ls, "local_search", local_search)


def break_certificate(monkeypatch):
    """The interval certificate reports every margin 1 % high (still proven), and every
    enclosure of G_M it is built on is 1 % too large in magnitude (still rigorous-looking
    balls, signs kept)."""
    from proofs_check import certificate

    original, original_enclose = certificate.sign_certificate, certificate.enclose_G_M

    def sign_certificate(*args, **kwargs):
        c = original(*args, **kwargs)
        return dataclasses.replace(
            c, float64_margin=WRONG * c.float64_margin, mpmath_margin=WRONG * c.mpmath_margin,
            interval_margin=None if c.interval_margin is None else WRONG * c.interval_margin)

    def enclose_G_M(counts, **kwargs):
        inner = kwargs.pop("transform", None) or (lambda kind, x: x)
        # every ball (arb or mpmath interval) times 101/100
        return original_enclose(counts, transform=lambda kind, x: inner(kind, x) * 101 / 100,
                                **kwargs)

    monkeypatch.setattr(certificate, "sign_certificate", sign_certificate)
    monkeypatch.setattr(certificate, "enclose_G_M", enclose_G_M)


def break_closed_forms(monkeypatch):
    """Every derived closed form 1 % off."""
    import sympy

    module = sys.modules["derivations.closed_forms"]
    original = module._closed_forms
    monkeypatch.setattr(module, "_closed_forms",
                        lambda: {n: e * sympy.Rational(101, 100) for n, e in original().items()})


def _one_percent_off(M, f):
    """M (k, k) with every off-diagonal entry and M[0, 0] times f (in M's arithmetic)."""
    out = M * f
    out[np.diag_indices(M.shape[0])] = np.diagonal(M)
    out[0, 0] = M[0, 0] * f
    return out


def break_integral(monkeypatch):
    """integral_grams: G_M and G_W 1 % off in their off-diagonal entries and in [0, 0]."""
    from seli_exact import integral

    original = integral.integral_grams

    def integral_grams(counts, *args, **kwargs):
        g = original(counts, *args, **kwargs)
        f = g.arithmetic.number(Fraction(101, 100))
        return dataclasses.replace(g, G_M=_one_percent_off(g.G_M, f), G_W=_one_percent_off(g.G_W, f))

    _everywhere(monkeypatch, original, integral_grams)


def break_dense_geometry(monkeypatch):
    """seli_exact's dense route: G_M and G_W 1 % off (off-diagonal and [0, 0]), the largest
    singular value 1 % off."""
    from seli_exact import dense

    original = dense.dense_grams

    def dense_grams(counts, ar):
        sigma, G_W, G_M, logits = original(counts, ar)
        f = ar.number(Fraction(101, 100))
        sigma = sigma.copy()
        sigma[0] = sigma[0] * f
        return sigma, _one_percent_off(G_W, f), _one_percent_off(G_M, f), logits

    _everywhere(monkeypatch, original, dense_grams)


BREAKS = {
    "structured_svd": break_structured_svd,
    "lapack": break_lapack,
    "ufsvm": break_ufsvm,
    "regpath": break_regpath,
    "cvxpy": break_cvxpy,
    "local_search": break_local_search,
    "certificate": break_certificate,
    "closed_forms": break_closed_forms,
    "integral": break_integral,
    "dense_geometry": break_dense_geometry,
}
# the profile in which each route is used (cvxpy runs in the thorough profile only)
PROFILE = {route: "thorough" if route == "cvxpy" else "quick" for route in BREAKS}


@pytest.fixture
def clean():
    """No result computed before or during a break survives it (runs before monkeypatch's undo
    in setup, after it in teardown)."""
    cache.clear()
    yield
    cache.clear()


def test_every_route_has_a_break():
    assert set(BREAKS) == set(ROUTES)


def _users(route):
    return [c for c in all_claims() if route in c.routes]


def _profile(route, claim) -> str:
    """The profile in which `claim` uses `route`."""
    return "quick" if PROFILE[route] == "quick" and "quick" in claim.profiles else "thorough"


def _params(thorough: bool):
    out = []
    for route in BREAKS:
        for c in _users(route):
            if (_profile(route, c) == "thorough") == thorough:
                out.append(pytest.param(route, c, id=f"{route}: {c.id}"))
    return out


@pytest.mark.parametrize("route, claim", _params(False))
def test_a_wrong_route_refutes_its_users(clean, monkeypatch, route, claim):
    BREAKS[route](monkeypatch)
    v = claim.run("quick")
    assert v.status is Status.REFUTED, (route, v.summary(), v.evidence.get("undecided"),
                                       v.evidence.get("exception"))


@pytest.mark.slow
@pytest.mark.parametrize("route, claim", _params(True))
def test_a_wrong_route_refutes_its_users_thorough(clean, monkeypatch, route, claim):
    if route == "cvxpy":
        pytest.importorskip("cvxpy")
    BREAKS[route](monkeypatch)
    v = claim.run("thorough")
    assert v.status is Status.REFUTED, (route, v.summary())


@pytest.mark.slow
@pytest.mark.parametrize("route", [r for r in BREAKS if PROFILE[r] == "quick"])
def test_claims_that_do_not_list_a_route_do_not_depend_on_it(clean, monkeypatch, route):
    BREAKS[route](monkeypatch)
    others = [c for c in all_claims("quick") if route not in c.routes]
    affected = {c.id: c.run("quick").summary() for c in others}
    affected = {cid: s for cid, s in affected.items() if "verified" not in s}
    assert not affected, f"claims depend on {route} without listing it: {affected}"
