"""`seli check`: run every registered claim and print the verdicts as a table.

The claims are proofs_check's registry (one module per claim in proofs_check/claims/); each is
run by `Claim.run(profile)`, which judges the claim's true inputs and turns a crash into an
ERROR verdict. Exit status 0 when every claim run in the profile is verified, 1 otherwise
(refuted, undecided or error), 2 on bad arguments.
"""

from __future__ import annotations

import json
import sys
import time

from seli_io.atomic import atomic_write
from seli_exact.errors import SeliInputError

from .args import out_file, text_list
from .progress import Progress, add_progress_argument

PROFILES = ("quick", "thorough")
# Measured on the shared 2-core development machine (wall clock under load; CPU time); the help
# states them.
TIMINGS = {"quick": "18-20 s on two quiet cores",
           "thorough": "about 2.5 min, 95 s of CPU; it trains small models"}
JSON_KEYS = ("id", "reference", "status", "instances", "worst", "worst_kind", "evidence")


def add_arguments(p, argv=()) -> None:
    p.add_argument(
        "--profile", default="quick", choices=PROFILES,
        help=f"quick (default, {TIMINGS['quick']}) or thorough ({TIMINGS['thorough']}): larger "
             "instances, more examples, cvxpy, the training claims",
    )
    p.add_argument("--json", metavar="FILE",
                   help="also write the verdicts and their evidence to FILE (an existing FILE "
                        "is replaced, atomically: it holds the old verdicts or the new ones)")
    p.add_argument("--claims", metavar="ID[,ID...]",
                   help="run only these claim ids (default: every registered claim)")
    add_progress_argument(p)


def _select(args, known: dict) -> list[str]:
    if args.claims is None:
        return list(known)
    raw = args.claims
    if not raw.replace(",", "").strip():  # nothing but commas and spaces: no claim named
        unknown = [repr(raw)]
    else:  # an empty item beside named ones ("a,,b") is refused, not dropped
        selected = text_list("--claims", raw, example=next(iter(known), "ID"))
        unknown = [s for s in selected if s not in known]
    if unknown:
        raise SeliInputError(
            "`--claims` must name registered claims; got "
            f"{', '.join(unknown)}. Known ids: {', '.join(known)}."
        )
    return selected


def check_args(args) -> None:
    """Every check of `seli check`'s input, before any claim runs: the --json file (writable)
    and the --claims selection."""
    from proofs_check.registry import all_claims

    if args.json is not None:
        out_file("--json", args.json)
    try:
        claims = all_claims()
    except Exception:  # reported by run(), with the reason
        return
    _select(args, {c.id: c for c in claims})


def run(args) -> int:
    from proofs_check.registry import all_claims

    try:
        claims = all_claims()
    except Exception as err:  # a claim module that cannot be imported: say which, exit non-zero
        print(f"error: the checks could not be loaded: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    check_args(args)  # a wrong --json or --claims is refused before minutes of work
    known = {c.id: c for c in claims}
    selected = _select(args, known)
    t0 = time.perf_counter()
    rows = []
    with Progress.from_args(args, "seli check") as progress:
        for i, cid in enumerate(selected):
            c = known[cid]
            if args.profile not in c.profiles:
                rows.append({"id": cid, "reference": c.reference, "status": "not run (thorough only)",
                             "instances": 0, "worst": None, "worst_kind": "residual", "evidence": {}})
                continue
            progress.label = f"seli check, running {cid}"
            progress(i, len(selected))
            rows.append(c.run(args.profile).to_json(c.reference))
        progress(len(selected), len(selected))
    elapsed = time.perf_counter() - t0
    print(format_table(rows, args.profile, elapsed))
    if args.json:
        report = {"profile": args.profile, "claims": [{key: r.get(key) for key in JSON_KEYS} for r in rows]}
        atomic_write(args.json, json.dumps(report, indent=2))
    failed = [r for r in rows if r["status"] != "verified" and not r["status"].startswith("not run")]
    return 1 if failed else 0


def _worst(v: dict) -> str:
    w = v.get("worst")
    if w is None:
        return "-"
    return f"{'margin' if v.get('worst_kind') == 'margin' else 'residual'} {w:.3g}"


def format_table(rows: list[dict], profile: str, elapsed: float) -> str:
    """The verdict table: claim id, paper reference, status, instances, worst margin or residual."""
    head = ("claim", "reference", "status", "instances", "worst")
    body = [(r["id"], r.get("reference", ""), r["status"], str(r.get("instances", 0)), _worst(r))
            for r in rows]
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
