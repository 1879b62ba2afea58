"""The routes claims take their values from, by name.

Each claim module lists in ROUTES the routes whose output its verdict depends on. The route
tests (tests/test_soundness_routes.py) make each route deliberately 1 % wrong and require every
claim that lists it to be refuted, and every claim that does not list it to be unaffected: a
check that compares a route with itself cannot pass that test.
"""

ROUTES: dict[str, str] = {
    "structured_svd": "seli_exact.sel_svd, the structured SVD of Sec. A (and everything built on it: "
                      "seli_geometry, factorize, metrics' SELI references)",
    "lapack": "proofs_check.lapack: dense eigen-decompositions of P D P (numpy eigh, mpmath eigsy) "
              "and numpy's dense SVD of Zhat",
    "ufsvm": "seli_exact.solvers.solve_ufsvm: ADMM on the k x k reduction of (5), with its dual bound",
    "regpath": "seli_exact.regpath.solve_regpath_point: Newton on the reduction of (7), certified",
    "cvxpy": "seli_exact.solvers.solve_ufsvm_cvxpy: cvxpy/SCS on the full (k, n) problem (5)",
    "local_search": "proofs_check.local_search: SLSQP on the non-convex (2) from random starts",
    "certificate": "proofs_check.certificate: interval enclosures of G_M (enclose_G_M) and the sign "
                   "certificate built on them (sign_certificate)",
    "closed_forms": "derivations.closed_forms(): the derived STEP closed forms (Sec. B)",
    "integral": "seli_exact.integral.integral_grams: quadrature of Theorem 1's integrals "
                "(seli_geometry's route 'integral')",
    "dense_geometry": "seli_exact.dense.dense_grams: seli_geometry's route 'dense' (eigh / eigsy of "
                      "P D P inside seli_exact, apart from proofs_check.lapack)",
}
