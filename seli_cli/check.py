"""`seli check`: run every registered claim through pytest and print the verdicts as a table.

The claims run as the tests of proofs_check/test_claims.py (pytest.main, in this process) with
the project's plugin, which writes each verdict to a report file; pytest's own output is
captured and shown only when pytest itself fails to run. Exit status 0 when every claim run in
the profile is verified, 1 otherwise (refuted, undecided, error, or no verdict recorded).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from seli_exact.atomic import atomic_write
from seli_exact.errors import SeliInputError

PROFILES = ("quick", "thorough")


def add_arguments(p, argv=()) -> None:
    p.add_argument(
        "--profile",
        default="quick",
        choices=PROFILES,
        help="quick (default, about a minute) or thorough (larger instances, more examples)",
    )
    p.add_argument(
        "--json", metavar="FILE", help="also write the verdicts and their evidence to FILE"
    )
    p.add_argument(
        "--claims",
        metavar="ID[,ID...]",
        help="run only these claim ids (default: every registered claim)",
    )
    p.add_argument("--show-pytest", action="store_true", help="print pytest's own output as well")


def run(args) -> int:
    from proofs_check.registry import all_claims

    try:
        claims = all_claims()
    except Exception as err:  # a check module that cannot be imported: say which, exit non-zero
        print(
            f"error: the checks could not be loaded: {type(err).__name__}: {err}", file=sys.stderr
        )
        return 1
    known = {c.id: c for c in claims}
    selected = list(known)
    if args.claims:
        selected = [s.strip() for s in args.claims.split(",") if s.strip()]
        unknown = [s for s in selected if s not in known]
        if unknown or not selected:
            raise SeliInputError(
                "`--claims` must name registered claims; got "
                f"{', '.join(unknown) or repr(args.claims)}. "
                f"Known ids: {', '.join(known)}."
            )
    t0 = time.perf_counter()
    rc, output, verdicts = run_pytest(args.profile, selected if args.claims else None)
    elapsed = time.perf_counter() - t0
    rows = []
    for cid in selected:
        c = known[cid]
        v = verdicts.get(cid)
        if v is None:
            status = (
                "not run (thorough only)" if args.profile not in c.profiles else "error: no verdict"
            )
            v = {
                "id": cid,
                "reference": c.reference,
                "status": status,
                "instances": 0,
                "worst": None,
                "worst_kind": "residual",
                "evidence": {}
                if args.profile not in c.profiles
                else {"pytest_output": output[-4000:]},
            }
        rows.append(v)
    print(format_table(rows, args.profile, elapsed))
    if args.show_pytest or rc not in (0, 1):
        print("\n--- pytest output ---\n" + output)
    if args.json:
        report = {
            "profile": args.profile,
            "claims": [
                {
                    key: r.get(key)
                    for key in (
                        "id",
                        "reference",
                        "status",
                        "instances",
                        "worst",
                        "worst_kind",
                        "evidence",
                    )
                }
                for r in rows
            ],
        }
        atomic_write(args.json, json.dumps(report, indent=2))
    failed = [
        r for r in rows if r["status"] != "verified" and not r["status"].startswith("not run")
    ]
    return 1 if failed or rc not in (0, 1) else 0


def run_pytest(profile: str, claim_ids: list[str] | None) -> tuple[int, str, dict[str, dict]]:
    """pytest.main over proofs_check/test_claims.py: (exit code, captured output, verdicts by id)
    """
    import pytest

    import proofs_check

    target = str(Path(proofs_check.__file__).with_name("test_claims.py"))
    targets = (
        [target] if claim_ids is None else [f"{target}::test_claim[{cid}]" for cid in claim_ids]
    )
    fd, report = tempfile.mkstemp(prefix="seli-check-", suffix=".json")
    os.close(fd)
    os.unlink(report)  # the plugin writes it (atomically) at the end of the session
    buf = io.StringIO()
    try:
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
            rc = int(
                pytest.main(
                    [
                        *targets,
                        "-o",
                        "addopts=",
                        "-p",
                        "proofs_check.pytest_plugin",
                        "-p",
                        "no:cacheprovider",
                        "--seli-profile",
                        profile,
                        "--seli-report",
                        report,
                        "-q",
                        "-rN",
                        "--tb=line",
                    ]
                )
            )
        verdicts = {}
        if os.path.exists(report):
            with open(report) as fh:
                for v in json.load(fh).get("claims", []):
                    verdicts[v["id"]] = v
    finally:
        if os.path.exists(report):
            os.unlink(report)
    return rc, buf.getvalue(), verdicts


def _worst(v: dict) -> str:
    w = v.get("worst")
    if w is None:
        return "-"
    return f"{'margin' if v.get('worst_kind') == 'margin' else 'residual'} {w:.3g}"


def format_table(rows: list[dict], profile: str, elapsed: float) -> str:
    """The verdict table: claim id, paper reference, status, instances, worst margin or residual."""
    head = ("claim", "reference", "status", "instances", "worst")
    body = [
        (r["id"], r.get("reference", ""), r["status"], str(r.get("instances", 0)), _worst(r))
        for r in rows
    ]
    widths = [max(len(x) for x in col) for col in zip(head, *body)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    out = [line(head), line(["-" * w for w in widths])] + [line(b) for b in body]
    counts: dict[str, int] = {}
    for r in rows:
        key = r["status"].split(":")[0].split(" (")[0]
        counts[key] = counts.get(key, 0) + 1
    order = ["verified", "refuted", "undecided", "error", "not run"]
    ranked = sorted(counts.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99)
    summary = ", ".join(f"{n} {s}" for s, n in ranked)
    out.append("")
    out.append(f"{len(rows)} claims ({summary}) in the {profile} profile, {elapsed:.0f} s")
    return "\n".join(out)
