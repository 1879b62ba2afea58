"""Every key of every JSON the CLI writes, against the library and an independent route.

One table: for each command that writes JSON (`seli geometry --json` in float64 and at --digits,
every --route; `seli path --json`; `seli measure --json` and its `--out` measure.json; `seli check
--json`; `seli reproduce fig1`'s fig1.json; `seli reproduce longtail`'s longtail.json; `seli
latex`'s formulas.json), the expected object is built here, key by key, from the library's
public Python API called in the test and, where the number is mathematics, from a route that
does not share the library's code:

  geometry   numpy's eigh of P D P (float64) or mpmath's eigsy (at --digits), written out below:
             sigma = sqrt(eigenvalues), G_W = (P D P)^{1/2}, G_M = its pseudo-inverse, W^T M = P
  path       the dense (k, n) problem of (7) (proofs_check.path_reference, proofs_check.kkt7,
             the dense SELI route proofs_check.lapack)
  measure    the definitions at 60 digits (proofs_check.measure_reference)
  check      each claim's verdict rebuilt from its own evidence rows (status, instances, worst)
  fig1       the Gram matrices of the coordinates against the dense route
  longtail   the dense route, and the counts from CIFAR-10-LT's rule in integer arithmetic
  latex      the checker's judges of the exported formulas (thm1.any_counts' records step and
             secB.closed_forms) run on the file written

`compare` walks the output and the expected object together: a dict must have exactly the
expected keys (an output that gains a key the table does not cover fails, as does one that loses
one), a list the expected length, and every leaf must pass every check the table gives it.
Commands run in-process through seli_cli.main.main (stdout captured); one case runs `seli` in a
subprocess.

Tolerances: the CLI and the library computed in the test run the same code on the same input,
so they agree to a few roundings (SAME = 2^-43 relative, seli_exact.precision's float64
tolerance); the independent routes agree to their stated accuracy (proofs_check.tolerances:
lapack(counts) for LAPACK's dense route, mp(digits) at --digits, the claims' own tolerances).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import mpmath
import numpy as np
import pytest

from proofs_check import kkt7, measure_reference, tolerances
from proofs_check import path_reference as dense7
from proofs_check.lapack import reference
from seli_cli.main import main
from seli_exact import from_counts, seli_geometry

SAME = tolerances.RTOL64  # the CLI against the library run here: the same code, a few roundings
ROOT = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------------------ the checks
@dataclass
class Leaf:
    """The checks of one leaf of the output: each (description, predicate on the value)."""

    checks: list[tuple[str, Callable]] = field(default_factory=list)

    def add(self, what: str, ok: Callable) -> "Leaf":
        self.checks.append((what, ok))
        return self


def _num(x) -> mpmath.mpf:
    """A JSON number or decimal string, or a library number (float, mpmath), as an mpf at the
    working precision, unrounded where it is binary already."""
    if hasattr(x, "_mpf_"):
        return mpmath.mp.make_mpf(x._mpf_)
    if isinstance(x, str):
        return mpmath.mpf(x)
    return mpmath.mpf(float(x))


def close(want, rtol: float, atol: float = 0.0, what: str = "the library") -> Leaf:
    """|got - want| <= atol + rtol |want| entrywise (numbers, decimal strings, nested lists;
    None matches None and NaN; a bool or string is no number)."""
    def ok(got):
        return _close(got, want, rtol, atol)

    return Leaf().add(f"{what} within rtol {rtol:.2g}, atol {atol:.2g}", ok)


def _close(got, want, rtol, atol) -> bool:
    if isinstance(want, (list, tuple, np.ndarray)):
        return (isinstance(got, list) and len(got) == len(want)
                and all(_close(g, w, rtol, atol) for g, w in zip(got, want)))
    if want is None or (isinstance(want, float) and math.isnan(want)):
        return got is None
    if got is None or isinstance(got, bool) or not isinstance(got, (int, float, str)):
        return False
    with mpmath.workdps(60):
        g, w = _num(got), _num(want)
        return bool(abs(g - w) <= atol + rtol * abs(w))


def exact(want) -> Leaf:
    return Leaf().add(f"equal to {want!r}", lambda got: got == want and type(got) is type(want))


def both(*leaves: Leaf) -> Leaf:
    return Leaf([c for leaf in leaves for c in leaf.checks])


def compare(got, want, path: str = "$") -> list[str]:
    """The failures of the output `got` against the expected object `want` (module doc)."""
    if isinstance(want, Leaf):
        return [f"{path}: not {what} (got {got!r:.200})" for what, ok in want.checks if not ok(got)]
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return [f"{path}: expected an object, got {type(got).__name__}"]
        out = []
        extra, missing = sorted(set(got) - set(want)), sorted(set(want) - set(got))
        if extra:
            out.append(f"{path}: keys the table does not cover: {extra}")
        if missing:
            out.append(f"{path}: keys missing: {missing}")
        for key in want:
            if key in got:
                out += compare(got[key], want[key], f"{path}.{key}")
        return out
    if isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            return [f"{path}: expected a list of {len(want)}, got {got!r:.200}"]
        return [f for i, (g, w) in enumerate(zip(got, want)) for f in compare(g, w, f"{path}[{i}]")]
    raise TypeError(f"{path}: the table holds a {type(want).__name__}, not a Leaf, dict or list")


def test_compare_fails_on_an_extra_key_a_missing_key_and_a_wrong_value():
    table = {"a": close(1.0, 0.0), "b": [exact("x")]}
    assert compare({"a": 1.0, "b": ["x"]}, table) == []
    assert compare({"a": 1.0, "b": ["x"], "c": 2}, table) == ["$: keys the table does not cover: ['c']"]
    assert compare({"a": 1.0}, table) == ["$: keys missing: ['b']"]
    assert len(compare({"a": 1.0 + 1e-9, "b": ["x"]}, table)) == 1
    assert len(compare({"a": True, "b": ["y"]}, table)) == 2


# ------------------------------------------------------------------------------ running
def run_json(capsys, argv: list[str]) -> tuple[dict, float]:
    """`seli ARGV` in-process: its stdout parsed as JSON, and the seconds it took."""
    t0 = time.perf_counter()
    code = main(list(argv))
    secs = time.perf_counter() - t0
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out), secs


# ------------------------------------------------------------------------------ geometry
def dense_geometry(counts, digits: int | None) -> dict:
    """The SELI geometry from an eigen-decomposition of P D P: numpy's eigh in float64, mpmath's
    eigsy at `digits` + 10 digits. Theorem 1 at alpha = 1: G_W = V Lam V^T, G_M = V Lam^-1 V^T,
    W^T M = V V^T = P."""
    k = counts.k
    n = np.asarray(counts.counts, dtype=float)
    if digits is None:
        P = np.eye(k) - 1.0 / k
        mu, Q = np.linalg.eigh(P @ np.diag(n) @ P)
        keep = np.argsort(mu)[::-1][: k - 1]
        sigma, V = np.sqrt(mu[keep]), Q[:, keep]
        G_W, G_M = (V * sigma) @ V.T, (V / sigma) @ V.T
        logits = V @ V.T
        nuc = float(sigma.sum())
    else:
        with mpmath.workdps(digits + 10):
            P = mpmath.eye(k) - mpmath.ones(k, k) / k
            E, Q = mpmath.eigsy(P * mpmath.diag([mpmath.mpf(v) for v in counts.counts]) * P)
            keep = sorted(range(k), key=lambda i: -E[i])[: k - 1]
            sigma = np.array([mpmath.sqrt(E[i]) for i in keep], dtype=object)
            V = np.array([[Q[r, i] for i in keep] for r in range(k)], dtype=object)
            G_W, G_M = (V * sigma).dot(V.T), (V / sigma).dot(V.T)
            logits = V.dot(V.T)
            nuc = mpmath.fsum(sigma)
    with mpmath.workdps((digits or 15) + 10):
        root = np.sqrt if digits is None else np.frompyfunc(mpmath.sqrt, 1, 1)
        wn, hn = root(np.diagonal(G_W)), root(np.diagonal(G_M))
        return {"singular_values": sigma, "nuclear_norm": nuc, "W_gram": G_W, "M_gram": G_M,
                "logits": logits, "classifier_norms": wn, "embedding_norms": hn,
                "classifier_cosines": G_W / np.outer(wn, wn),
                "embedding_cosines": G_M / np.outer(hn, hn),
                "alignment": np.diagonal(logits) / (wn * hn)}


def _tolist(a):
    return np.asarray(a).tolist()


def geometry_table(counts, route: str, digits: int | None) -> dict:
    ar = "float64" if digits is None else "mpmath"
    g = seli_geometry(counts, ar, digits, route=route)
    ind = dense_geometry(counts, digits)
    # the independent route's accuracy: LAPACK's, or digits decimal digits (with the secular
    # iteration's, quadrature's and eigsy's guard digits, 10^-(digits - 5): tolerances.mp)
    tol = tolerances.lapack(counts) if digits is None else tolerances.mp(digits)
    same = SAME if digits is None else 10.0 ** -(digits - 1)  # the decimal string's own rounding
    out = {"class_counts": exact(list(counts.counts)), "route": exact(route)}
    for key, want in ind.items():
        lib = getattr(g, key)
        scale = max(1.0, float(np.max(np.abs(np.asarray(want, dtype=float)))))
        out[key] = both(close(_tolist(lib), same, same * scale),
                        close(_tolist(want), tol, tol * scale, what="the dense eigen-decomposition"))
    if route == "integral":
        out["error"] = {key: close(_tolist(v) if isinstance(v, (list, tuple)) else float(v), 0.0)
                        for key, v in g.error.items()}
    else:
        out["error"] = exact(None)
    if digits is not None:  # decimal strings of exactly `digits` significant digits
        digits_ok = Leaf().add(f"decimal strings of {digits} digits", lambda got: _all_strings(got, digits))
        for key in ind:
            out[key] = both(out[key], digits_ok)
    return out


def _all_strings(x, digits) -> bool:
    """Every leaf a decimal string whose mantissa has `digits` digits (leading zeros aside)."""
    if isinstance(x, list):
        return all(_all_strings(v, digits) for v in x)
    if not isinstance(x, str):
        return False
    mantissa = x.lstrip("-").split("e")[0].replace(".", "").lstrip("0")
    return len(mantissa) == digits or set(mantissa) <= {"0"}


GEOMETRY_COUNTS = "50,20,5,3,3"  # four distinct counts, one shared by two classes


@pytest.mark.parametrize("route", ["secular", "dense", "integral"])
@pytest.mark.parametrize("digits", [None, 30])
def test_geometry_json(capsys, route, digits):
    argv = ["geometry", "--counts", GEOMETRY_COUNTS, "--json", "--route", route]
    if digits is not None:
        argv += ["--digits", str(digits)]
    got, _ = run_json(capsys, argv)
    counts = from_counts([int(v) for v in GEOMETRY_COUNTS.split(",")])
    assert compare(got, geometry_table(counts, route, digits)) == []


def test_geometry_json_in_a_subprocess():
    """The installed entry point, as a user runs it: the same object as in-process."""
    proc = subprocess.run([sys.executable, "-m", "seli_cli.main", "geometry", "--counts", "5,5,2",
                           "--json"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert compare(json.loads(proc.stdout), geometry_table(from_counts([5, 5, 2]), "secular", None)) == []


def test_a_wrong_value_under_one_key_fails_the_table():
    """The table catches one key off: the class-mean norms reported as the classifiers'."""
    counts = from_counts([5, 5, 2])
    table = geometry_table(counts, "secular", None)
    g = seli_geometry(counts)
    good = {"class_counts": [5, 5, 2], "route": "secular", "error": None,
            **{key: _tolist(getattr(g, key)) for key in table if key not in
               ("class_counts", "route", "error")}}
    assert compare(good, table) == []
    failures = compare({**good, "embedding_norms": good["classifier_norms"]}, table)
    assert failures and all(f.startswith("$.embedding_norms:") for f in failures)
    assert compare({**good, "nc0": 1}, table) == ["$: keys the table does not cover: ['nc0']"]


# ------------------------------------------------------------------------------ path
PATH_COUNTS, PATH_LAMBDAS = "10,10,1,1", (100.0, 3.0, 1.0, 1e-2)  # zero, rank 1, rank 2, full


def path_table(counts, lambdas, seconds: float) -> dict:
    from seli_exact.regpath import GAP_TARGET
    from seli_exact.regpath.rows import compute_path, ufsvm_reference
    from seli_exact.solvers import solve_ufsvm

    ref = reference(counts)
    G_W, G_M = np.asarray(ref.G_W, float), np.asarray(ref.G_M, float)
    lap = tolerances.lapack(counts)
    points = []
    for m, p, _ in compute_path(counts, lambdas):
        lib = m.as_dict()
        zero = not np.any(p.M != 0)
        nan = float("nan")
        dist = (dense7.distances(p.M, counts, G_W, G_M) if not zero else
                {g: {o: nan for o in ("classifiers", "embeddings", "logits")} for g in ("seli", "etf")})
        rank = dense7.rank(p.M, counts)
        row = {
            "lambda": exact(float(p.lam)),
            "objective": both(close(lib["objective"], SAME),
                              close(dense7.objective(p.M, counts, p.lam), tolerances.float64(counts.n),
                                    what="L(Z) + lam ||Z||_* on the dense Z")),
            "duality_gap": both(close(lib["duality_gap"], SAME),
                                Leaf().add("a gap certified at 40 digits: >= 0 to that precision",
                                           lambda x, f=p.objective: x >= -tolerances.mp(40) * abs(f))),
            "relative_gap": close(p.duality_gap / p.objective, SAME),
            "min_margin": both(close(lib["min_margin"], SAME),
                               close(nan if zero else dense7.min_margin(p.M, counts),
                                     tolerances.float64(counts.k), tolerances.float64(counts.k),
                                     what="the margins of the dense Z")),
            "normalized_margin": both(close(lib["normalized_margin"], SAME),
                                      close(nan if zero else dense7.normalized_margin(p.M, counts),
                                            lap, lap, what="the dense definition")),
            "direction_error": both(close(lib["direction_error"], SAME),
                                    close(nan if zero else dense7.direction_error(p.M, counts),
                                          lap, lap, what="the dense definition")),
            "minority_cosine": close(lib["minority_cosine"], SAME, SAME),
            "rank": both(exact(p.rank), exact(rank)),
            "certified": both(exact(bool(p.relative_gap <= GAP_TARGET)), exact(True)),
            "method": exact(p.method),
            "iterations": exact(p.iterations),
            # relative, no floor: at an optimal point the residual is rounding, ~1e-15, and
            # another number of that size under this key must still fail
            "kkt_residual": both(
                close(p.kkt_residual, SAME),
                close(kkt7.residual(p.M, counts, p.lam) * math.sqrt(max(rank, 1)), 0.0,
                      tolerances.kkt7(counts), what="the full-problem KKT residual")),
            "seconds": Leaf().add(f"a time in [0, {seconds:.3g}] s", lambda s: 0 <= s <= seconds),
        }
        for g in ("seli", "etf"):
            row[f"dist_{g}"] = {o: both(close(lib[f"dist_{g}"][o], SAME, SAME),
                                        close(dist[g][o], lap, lap, what="(8) on the dense Z"))
                                for o in ("classifiers", "embeddings", "logits")}
        points.append(row)
    sol = solve_ufsvm(counts)
    lib_ref = ufsvm_reference(counts)
    zhat = dense7.nuclear_norm(dense7.sel_dense(counts))
    return {
        "solver": exact("structured"), "class_counts": exact(list(counts.counts)),
        "gap_target": exact(GAP_TARGET), "points": points,
        "ufsvm": {"objective": both(close(lib_ref["objective"], SAME),
                                    close(zhat, tolerances.admm(), what="||Zhat||_* (dense SVD)")),
                  "duality_gap": both(close(lib_ref["duality_gap"], SAME),
                                      Leaf().add("within ADMM's stopping rule", lambda x: -SAME * zhat
                                                 <= x <= tolerances.ADMM_STOP * zhat)),
                  "direction_error": both(close(lib_ref["direction_error"], SAME, SAME),
                                          close(dense7.direction_error(sol.Z_class, counts), lap,
                                                lap, what="the dense definition"))},
    }


def test_path_json(capsys):
    argv = ["path", "--counts", PATH_COUNTS, "--lambdas", ",".join(map(repr, PATH_LAMBDAS)), "--json"]
    got, secs = run_json(capsys, argv)
    counts = from_counts([int(v) for v in PATH_COUNTS.split(",")])
    assert compare(got, path_table(counts, PATH_LAMBDAS, secs)) == []


# ------------------------------------------------------------------------------ measure
def measure_files(tmp_path, counts, d: int = 5, seed: int = 3):
    """A model in PyTorch's layouts as float64 .npy files: W (k, d), H (n, d), y, a bias."""
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((counts.k, d))
    M = rng.standard_normal((counts.k, d))
    H = M[counts.labels()] + 0.3 * rng.standard_normal((counts.n, d))
    b = rng.standard_normal(counts.k)
    for name, a in (("W", W), ("H", H), ("y", counts.labels().astype(np.int64)), ("b", b)):
        np.save(tmp_path / f"{name}.npy", a)
    return W, H, b


def measure_table(counts, W, H, b, center: str) -> dict:
    """The report, key by key: measurement.measure run here, and the 60-digit definitions."""
    from measurement import measure

    lib = measure(W, H, counts.labels(), center=center, bias=b).as_dict()
    want, tie = measure_reference.report(W.T, counts=counts, H=H.T, bias=b, center=center)
    assert tie > tolerances.nc4_tie(H.size)  # no NC4 decision here is a near tie
    tol = max(tolerances.lapack(counts), tolerances.float64(H.size))
    flat_lib, flat_want = (measure_reference.flatten(x) for x in (lib, want))

    def leaf(key):
        a, w = flat_lib[key], flat_want[key]
        if key in ("class_counts", "n", "k", "d", "center", "nc3.etf", "nc4", "nc4_per_class"):
            return both(exact(a), exact(w))
        w = [float(x) for x in w] if isinstance(w, list) else float(w)
        scale = max(1.0, float(np.max(np.abs(w))))
        rtol = tol if key == "nc1" else 0.0
        return both(close(a, SAME, SAME * scale),
                    close(w, rtol, 0.0 if key == "nc1" else tol * scale,
                          what="the definition at 60 digits"))

    table: dict = {}
    for key in flat_lib:
        node = table
        *parents, last = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[last] = leaf(key)
    assert set(flat_lib) == set(flat_want)
    return table


@pytest.mark.parametrize("center", ["balanced", "weighted", "none"])
def test_measure_json(capsys, tmp_path, center):
    counts = from_counts([40, 15, 6, 2])
    W, H, b = measure_files(tmp_path, counts)
    argv = ["measure", "--classifier", str(tmp_path / "W.npy"), "--features", str(tmp_path / "H.npy"),
            "--labels", str(tmp_path / "y.npy"), "--bias", str(tmp_path / "b.npy"),
            "--center", center, "--json", "--progress", "never"]
    got, _ = run_json(capsys, argv)
    assert compare(got, measure_table(counts, W, H, b, center)) == []


def test_measure_out_file(capsys, tmp_path):
    """--out DIR/measure.json holds the same object, every key checked again."""
    counts = from_counts([40, 15, 6, 2])
    W, H, b = measure_files(tmp_path, counts)
    argv = ["measure", "--classifier", str(tmp_path / "W.npy"), "--features", str(tmp_path / "H.npy"),
            "--labels", str(tmp_path / "y.npy"), "--bias", str(tmp_path / "b.npy"),
            "--center", "weighted", "--out", str(tmp_path / "out"), "--json", "--progress", "never"]
    printed, _ = run_json(capsys, argv)
    written = json.loads((tmp_path / "out" / "measure.json").read_text())
    table = measure_table(counts, W, H, b, "weighted")
    assert compare(written, table) == [] and written == printed


# ------------------------------------------------------------------------------ check
def verdict_table(library: dict) -> dict:
    """A claim's row: equal to the claim run here (Claim.run(...).to_json), and consistent with
    its own evidence rows (the verdict rebuilt from them, apart from proofs_check.evidence)."""
    rows = library["evidence"]["instances"]
    kind = library["worst_kind"]
    values = [r[kind] for r in rows if kind in r]
    worst = (max(values) if kind == "residual" else min(values)) if values else None
    status = ("refuted" if any(not r["ok"] for r in rows) else
              "undecided" if any(r.get("undecided") for r in rows) else "verified")

    def same_evidence(got) -> bool:
        return compare(got, _as_table(library["evidence"])) == []

    return {
        "id": exact(library["id"]), "reference": exact(library["reference"]),
        "status": both(exact(library["status"]), exact(status)),
        "instances": both(exact(library["instances"]), exact(len(rows))),
        "worst": both(close(library["worst"], SAME, SAME), close(worst, SAME, SAME,
                                                                 what="the evidence's worst row")),
        "worst_kind": both(exact(kind), Leaf().add("residual or margin",
                                                   lambda x: x in ("residual", "margin"))),
        "evidence": Leaf().add("the claim's evidence, every key", same_evidence),
    }


def _as_table(obj):
    """A JSON value as a table that matches it (numbers within SAME, everything else equal)."""
    if isinstance(obj, dict):
        return {key: _as_table(v) for key, v in obj.items()}
    if isinstance(obj, list):
        return [_as_table(v) for v in obj]
    if isinstance(obj, float):
        return close(obj, SAME, SAME)
    return exact(obj)


def test_check_json(capsys, tmp_path):
    from proofs_check.registry import get_claim

    ids = ["def1.counts", "cor1.3"]
    out = tmp_path / "check.json"
    code = main(["check", "--claims", ",".join(ids), "--json", str(out), "--progress", "never"])
    capsys.readouterr()
    assert code == 0
    got = json.loads(out.read_text())
    claims = [get_claim(i) for i in ids]
    table = {"profile": exact("quick"),
             "claims": [verdict_table(c.run("quick").to_json(c.reference)) for c in claims]}
    assert compare(got, table) == []


# ------------------------------------------------------------------------------ fig1
def test_fig1_json(capsys, tmp_path):
    from figures.fig1 import fig1_coordinates, mean_scale

    counts = from_counts([50, 20, 5, 3])
    code = main(["reproduce", "fig1", "--out", str(tmp_path), "--counts", "50,20,5,3"])
    capsys.readouterr()
    assert code == 0
    got = json.loads((tmp_path / "fig1.json").read_text())
    table: dict = {"class_counts": exact([50, 20, 5, 3]), "seli": {}, "etf": {},
                   "drawn_mean_scale": {}}
    for name, c in (("seli", counts), ("etf", from_counts([1, 1, 1, 1]))):
        lib = fig1_coordinates(c)
        ind = dense_geometry(c, None)
        tol = tolerances.lapack(c)
        for key, gram in (("W", "W_gram"), ("M", "M_gram")):
            G = ind[gram]

            def gram_ok(x, G=G, tol=tol):  # coordinates are defined up to a rotation: their Gram
                A = np.asarray(x, dtype=float)
                return A.shape == (3, 4) and np.abs(A.T @ A - G).max() <= tol * max(1.0, np.abs(G).max())

            table[name][key] = both(close(_tolist(lib[key]), SAME, SAME * 10),
                                    Leaf().add(f"{key}^T {key} = the dense {gram}", gram_ok))

        def logits_ok(M, name=name, tol=tol):  # W^T M = P (Theorem 1 (i)) of the written pair
            W = np.asarray(got[name]["W"], dtype=float)
            return np.abs(W.T @ np.asarray(M, dtype=float) - (np.eye(4) - 0.25)).max() <= tol

        table[name]["M"] = both(table[name]["M"], Leaf().add("W^T M = P", logits_ok))
        W, M = lib["W"], lib["M"]
        # the documented rule: the largest multiple of 1/2 (at least 1) keeping the longest mean
        # within 55% of the shortest classifier
        rule = max(1.0, math.floor(2 * 0.55 * np.linalg.norm(W, axis=0).min()
                                   / np.linalg.norm(M, axis=0).max()) / 2)
        table["drawn_mean_scale"][name] = both(exact(mean_scale(W, M)), exact(rule))
    assert compare(got, table) == []


# ------------------------------------------------------------------------------ longtail
LONGTAIL_PROFILES = ("exp:k=4:ratio=16:n_max=160", "exp:k=6:ratio=10:n_max=50")


def cifar_lt_counts(k: int, ratio: int, n_max: int) -> list[int]:
    """n_c = floor(n_max ratio^(-c/(k-1))): the largest m with m^(k-1) ratio^c <= n_max^(k-1)."""
    out = []
    for c in range(k):
        m = int(n_max * float(ratio) ** (-c / (k - 1))) + 2
        while m ** (k - 1) * ratio**c > n_max ** (k - 1):
            m -= 1
        out.append(m)
    return out


def longtail_table(spec: str) -> dict:
    from seli_exact.counts import parse_profile
    from figures.longtail import longtail_numbers

    fields = dict(part.split("=") for part in spec.split(":")[1:])
    k, ratio, n_max = int(fields["k"]), int(fields["ratio"]), int(fields["n_max"])
    counts = parse_profile(spec)
    lib = longtail_numbers(counts)
    ind = dense_geometry(counts, None)
    tol = tolerances.lapack(counts)

    def off_diagonal(C):
        C = np.asarray(C, dtype=float).copy()
        out = C.tolist()
        for i in range(len(out)):
            out[i][i] = None
        return out

    def pair(key, want):
        return both(close(lib[key], SAME, SAME), close(_tolist(want), tol, tol, what="the dense route"))

    return {
        "profile": exact(spec), "description": exact(counts.describe()), "k": exact(k),
        "n": both(exact(lib["n"]), exact(sum(cifar_lt_counts(k, ratio, n_max)))),
        "counts": both(exact(lib["counts"]), exact(cifar_lt_counts(k, ratio, n_max))),
        "classifier_norms": pair("classifier_norms", ind["classifier_norms"]),
        "embedding_norms": pair("embedding_norms", ind["embedding_norms"]),
        "alignment": pair("alignment", ind["alignment"]),
        "singular_values": pair("singular_values", ind["singular_values"]),
        "etf_cosine": both(close(lib["etf_cosine"], SAME), close(-1.0 / (k - 1), SAME)),
        "cosines": {"classes_per_cell": both(exact(lib["cosines"]["classes_per_cell"]), exact(1)),
                    "classifier": both(close(lib["cosines"]["classifier"], SAME, SAME),
                                       close(off_diagonal(ind["classifier_cosines"]), tol, tol,
                                             what="the dense route")),
                    "embedding": both(close(lib["cosines"]["embedding"], SAME, SAME),
                                      close(off_diagonal(ind["embedding_cosines"]), tol, tol,
                                            what="the dense route"))},
    }


def test_longtail_json(capsys, tmp_path):
    argv = ["reproduce", "longtail", "--out", str(tmp_path)]
    for spec in LONGTAIL_PROFILES:
        argv += ["--profile", spec]
    assert main(argv) == 0
    capsys.readouterr()
    got = json.loads((tmp_path / "longtail.json").read_text())
    table = {"profiles": [longtail_table(spec) for spec in LONGTAIL_PROFILES],
             "cosine_scale": exact("the figure draws (k - 1) cos; the JSON holds cos itself")}
    assert compare(got, table) == []


# ------------------------------------------------------------------------------ latex
def test_latex_json(capsys, tmp_path):
    """formulas.json: every record equal to derivations.export's, and the checker's judges of the
    exported formulas (their values against the dense route, inverses and integrals) verify the
    file written."""
    import derivations.export as export
    from proofs_check import any_counts_steps as steps
    from proofs_check.claims import secB_closed_forms as secB
    from seli_exact.verdict import Status

    assert main(["latex", "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    got = json.loads((tmp_path / "formulas.json").read_text())
    records = export.formula_records()
    table = [{key: exact(value) for key, value in r.items()} for r in records]
    assert compare(got, table) == []
    for r in got:  # the sympy text parses back to the library's expression
        assert export.parse(r) == export.parse(next(x for x in records if x["name"] == r["name"]))
    assert steps.records_agree([r for r in got if r["name"].startswith("any_")]).status is Status.VERIFIED
    forms = secB.exported_forms(got)
    v = secB.judge([secB.build(forms, secB.step(*p)) for p in secB._points("quick")])
    assert v.status is Status.VERIFIED, v.evidence.get("failing")
