"""The same certified numbers on every OpenBLAS kernel (issue 15).

OpenBLAS picks its compute kernel at load time (OPENBLAS_CORETYPE overrides the choice), and
kernels sum in different orders, so every float64 result differs in its last bits between
machines. A method choice or a fallback that depends on those bits makes a "certified" result
machine-dependent. Each kernel runs a small representative sample in a subprocess (the variable
is read once, when numpy loads OpenBLAS):

  * the Section 4 solver at the five rank-deficient points of test_regpath (three of them at
    the degenerate lam = sqrt(n_min)), one full-rank point and one at tiny lam: the method it
    chose, the rank, and the certificate (mpmath) against GAP_TARGET;
  * the structured SVD of the SEL matrix (seli_exact.svd) in float64 and mpmath, against exact
    SymPy singular values computed here, once;
  * the UF-SVM solver of (5) and its duality-gap certificate, against ||Zhat||_* from the exact
    SVD.

Every kernel must make the same choices as every other and meet each certificate. The quick
profile runs two kernels far apart (Haswell: AVX2 + FMA; Prescott: the generic SSE kernel);
the thorough one all five this OpenBLAS distinguishes on x86-64.

The thorough profile also reruns the tolerance-sensitive test files (training, measure, the
path, the certificates, the geometry) in child processes under two kernels x one and two
threads (OpenBLAS and torch), with torch's CPU capability switched alongside
(ATEN_CPU_CAPABILITY): a comparison tighter than its arithmetic guarantees fails there even
when it passes on the machine that wrote it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
QUICK = ("Haswell", "Prescott")
ALL = ("Prescott", "Nehalem", "Sandybridge", "Haswell", "SkylakeX")
# CPU flags a kernel's instructions need (OpenBLAS does not check a forced kernel)
NEEDS = {"Nehalem": "sse4_2", "Sandybridge": "avx", "Haswell": "avx2", "SkylakeX": "avx512f"}

# (class counts, lam, expected rank): test_regpath.RANK_DEFICIENT, then a full-rank point and
# one at lam = 1e-40 (losses ~1e-39)
SOLVER_CASES = [([1, 1, 10, 10], 1.0, 2), ([1, 1, 10, 10], 3.0, 1),
                ([1, 1, 1, 100, 100, 100], 3.0, 3), ([1, 1, 1, 20], 1.0, 1),
                ([1, 1, 1000, 1000], 1.0, 2), ([5, 5, 50, 50], 1e-2, 3), ([5, 5, 50, 50], 1e-40, 3)]
SVD_COUNTS = [20, 9, 4, 2, 1, 1]  # three shared and four distinct counts: secular and shared terms


def sample() -> dict:
    """Run in the child process: the sample, as JSON-ready numbers."""
    from seli_exact import from_counts, sel_svd
    from seli_exact.regpath import GAP_TARGET, solve_regpath_point
    from seli_exact.solvers import solve_ufsvm

    out = {"gap_target": GAP_TARGET, "solver": [], "svd": {}}
    for counts, lam, _ in SOLVER_CASES:
        p = solve_regpath_point(from_counts(sorted(counts, reverse=True)), lam)
        out["solver"].append({"method": p.method, "rank": p.rank, "relative_gap": p.relative_gap,
                              "certified": p.certified})
    c = from_counts(SVD_COUNTS)
    out["svd"]["float64"] = [float(s) for s in sel_svd(c, "float64").sigma]
    out["svd"]["mpmath"] = [str(s) for s in sel_svd(c, "mpmath", 40).sigma]
    r = solve_ufsvm(c)
    out["ufsvm"] = {"objective": r.objective, "lower_bound": r.lower_bound,
                    "converged": r.converged}
    return out


def _cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def _openblas() -> bool:
    import numpy as np

    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    except Exception:  # noqa: BLE001 - an older numpy: no dict form, so no way to tell
        return False
    return "openblas" in str(blas.get("name", "")).lower()


def run_kernels(kernels) -> dict[str, tuple[str, dict]]:
    """{kernel: (the core OpenBLAS reports, the sample)}, one child per kernel, run side by side;
    kernels this machine cannot run are left out (all of them: the test skips)."""
    if not _openblas():
        pytest.skip("numpy is not linked to OpenBLAS: OPENBLAS_CORETYPE means nothing here")
    flags = _cpu_flags()
    runnable = [k for k in kernels if NEEDS.get(k) is None or NEEDS[k] in flags]
    if not runnable:
        pytest.skip(f"this CPU can run none of {', '.join(kernels)}")
    code = ("import json; from tests.test_blas_kernels import sample; "
            "print('SAMPLE ' + json.dumps(sample()))")
    procs = {k: subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, text=True,
                                 env=dict(os.environ, OPENBLAS_CORETYPE=k, OPENBLAS_VERBOSE="2"),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for k in runnable}
    out = {}
    for kernel, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=600)
        assert proc.returncode == 0, stderr[-2000:]
        lines = (stdout + "\n" + stderr).splitlines()
        assert not any(ln.startswith("Core not found") for ln in lines), kernel
        core = next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("Core:")), "?")
        data = json.loads(next(ln[7:] for ln in stdout.splitlines() if ln.startswith("SAMPLE ")))
        out[kernel] = (core, data)
    return out


@pytest.fixture(scope="module")
def exact_sigma():
    """The singular values of Zhat in exact arithmetic (SymPy radicals), as 40-digit numbers."""
    from seli_exact import from_counts, sel_svd
    import sympy

    s = sel_svd(from_counts(SVD_COUNTS), "exact").sigma
    return [sympy.N(v, 40) for v in s]


def check_kernel(kernel: str, core: str, data: dict, exact_sigma) -> None:
    import mpmath

    assert data["gap_target"] <= 1e-12
    for (counts, lam, rank), got in zip(SOLVER_CASES, data["solver"]):
        where = f"{kernel} (core {core}): counts {counts}, lam {lam}"
        assert got["certified"] and 0 <= got["relative_gap"] <= data["gap_target"], where
        assert got["rank"] == rank, where
        # the method is fixed by the mathematics, not the kernel: Newton where the solution has
        # full rank k-1, the factored polish where it does not
        assert got["method"] == ("newton" if rank == len(counts) - 1 else "factored-newton"), where
    for x, ref in zip(data["svd"]["float64"], exact_sigma):
        assert abs(x - float(ref)) <= 4e-16 * float(ref), kernel
    with mpmath.workdps(40):
        for x, ref in zip(data["svd"]["mpmath"], exact_sigma):
            err = abs(mpmath.mpf(x) - mpmath.mpf(str(ref)))
            assert err <= mpmath.mpf(10) ** -38 * mpmath.mpf(x), kernel
    nuc = float(sum(exact_sigma))
    u = data["ufsvm"]
    assert u["converged"] and u["lower_bound"] - 1e-12 * nuc <= nuc <= u["objective"] + 1e-12 * nuc
    assert u["objective"] - u["lower_bound"] <= 1e-10 * nuc


def check_kernels(kernels, exact_sigma) -> None:
    results = run_kernels(kernels)
    for kernel, (core, data) in results.items():
        check_kernel(kernel, core, data, exact_sigma)
    # every kernel made the same choices (checked against the rule above, and here directly)
    choices = {k: [(g["method"], g["rank"]) for g in d["solver"]] for k, (_, d) in results.items()}
    assert len({tuple(c) for c in choices.values()}) == 1, choices


def test_two_distant_kernels_agree(exact_sigma):
    check_kernels(QUICK, exact_sigma)


@pytest.mark.slow
def test_every_kernel_agrees(exact_sigma):
    check_kernels(ALL, exact_sigma)


@pytest.mark.slow
def test_check_verdicts_do_not_depend_on_the_kernel(tmp_path):
    """The whole quick `seli check` under two kernels far apart: every claim verified on each,
    so no verdict, method choice or fallback in any claim rides on the kernel's rounding."""
    if not _openblas():
        pytest.skip("numpy is not linked to OpenBLAS: OPENBLAS_CORETYPE means nothing here")
    flags = _cpu_flags()
    kernels = [k for k in ("Prescott", "SkylakeX", "Haswell")
               if NEEDS.get(k) is None or NEEDS[k] in flags][:2]
    statuses = {}
    for kernel in kernels:
        report = tmp_path / f"{kernel}.json"
        proc = subprocess.run(
            [sys.executable, "-m", "seli_cli.main", "check", "--json", str(report),
             "--progress", "never"],
            cwd=ROOT, text=True, capture_output=True, timeout=900,
            env=dict(os.environ, OPENBLAS_CORETYPE=kernel))
        assert proc.returncode == 0, (kernel, proc.stdout[-3000:], proc.stderr[-2000:])
        claims = json.loads(report.read_text())["claims"]
        statuses[kernel] = {c["id"]: c["status"] for c in claims}
        ran = [s for s in statuses[kernel].values() if not s.startswith("not run")]
        assert ran and all(s == "verified" for s in ran), (kernel, statuses[kernel])
    assert len({tuple(sorted(s.items())) for s in statuses.values()}) == 1, statuses


# ---------------------------------------------------------------------------------------------
# the tolerance-sensitive test files themselves, under other kernels and thread counts

# training, measure, the Section 4 path and the certificates: every comparison of floats there
# must hold whatever kernel sums them and however many threads split the sums
SENSITIVE = ("tests/test_ufm.py", "tests/test_deepnet.py", "tests/test_runio_resume.py",
             "tests/test_measure.py", "tests/test_measure_cli.py", "tests/test_metrics.py",
             "tests/test_regpath.py", "tests/test_path_cli.py",
             "tests/test_section3_certificate.py", "tests/test_ufsvm.py",
             "tests/test_geometry.py", "tests/test_svd.py", "tests/test_routes.py")
# (OpenBLAS kernel, threads for OpenBLAS and torch, torch's CPU capability): two kernels far
# apart, each with one and two threads, torch's own kernels switched alongside
MATRIX = (("Haswell", 1, "avx2"), ("Haswell", 2, "default"),
          ("Prescott", 1, "default"), ("Prescott", 2, "avx2"))
ATEN_NEEDS = {"avx2": "avx2", "avx512": "avx512f"}


def matrix_env(kernel: str, threads: int, aten: str) -> dict:
    """The environment of one child: the kernel, the thread counts, the quick profile."""
    n = str(threads)
    return dict(os.environ, OPENBLAS_CORETYPE=kernel, OPENBLAS_NUM_THREADS=n, OMP_NUM_THREADS=n,
                MKL_NUM_THREADS=n, ATEN_CPU_CAPABILITY=aten, SELI_PROFILE="quick")


@pytest.mark.slow
@pytest.mark.parametrize("kernel,threads,aten", MATRIX,
                         ids=[f"{k}-threads{t}-{a}" for k, t, a in MATRIX])
def test_sensitive_tests_pass_on_other_kernels_and_thread_counts(kernel, threads, aten):
    """Each combination runs the sensitive files in a fresh process (the variables are read
    when numpy and torch load), quick profile. A comparison tighter than the arithmetic
    guarantees fails in one of them."""
    flags = _cpu_flags()
    if NEEDS.get(kernel) and NEEDS[kernel] not in flags:
        pytest.skip(f"this CPU cannot run the {kernel} kernel")
    if ATEN_NEEDS.get(aten) and ATEN_NEEDS[aten] not in flags:
        pytest.skip(f"this CPU cannot run torch's {aten} kernels")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--seli-profile",
         "quick", *SENSITIVE],
        cwd=ROOT, text=True, capture_output=True, timeout=1200,
        env=matrix_env(kernel, threads, aten))
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout.splitlines()[-1], proc.stdout[-2000:]


def test_the_children_see_the_kernel_and_thread_count_they_are_given():
    """The matrix above means something only if the child really runs what it is given."""
    pytest.importorskip("torch")
    code = ("import torch; print(torch.get_num_threads(), "
            "torch.backends.cpu.get_cpu_capability())")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, text=True, capture_output=True,
                         env=matrix_env("Prescott", 2, "default"), check=True).stdout.split()
    assert out == ["2", "DEFAULT"]
