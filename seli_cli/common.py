"""Arguments and output formatting shared by several commands."""

from __future__ import annotations

import json
import sys

import mpmath
import numpy as np
import sympy

from seli_exact import ClassCounts, from_counts, step
from seli_exact.atomic import atomic_write
from seli_exact.errors import SeliInputError

FIG1_CASE = {"k": "4", "R": "10", "rho": "1/2", "n_min": "5"}


def add_counts_arguments(p, *, default_case: dict = FIG1_CASE) -> None:
    g = p.add_argument_group(
        "class counts", "(R, rho)-STEP (Definition 1) or an explicit vector; default: "
        + ", ".join(f"{k}={v}" for k, v in default_case.items())
    )
    g.add_argument("--k", help="number of classes (>= 2)")
    g.add_argument("--R", help="imbalance ratio R >= 1 (majority size / minority size)")
    g.add_argument("--rho", help="minority fraction in (0, 1); rho*k must be whole")
    g.add_argument("--n-min", dest="n_min", help="examples per minority class (>= 1)")
    g.add_argument("--counts", help="explicit class counts n1,n2,... instead of STEP")
    p.set_defaults(_default_case=default_case)


def counts_from_args(args) -> ClassCounts:
    step_given = {k: getattr(args, k) for k in ("k", "R", "rho", "n_min") if getattr(args, k) is not None}
    if args.counts is not None:
        if step_given:
            names = ", ".join("--" + k.replace("_", "-") for k in step_given)
            raise SeliInputError(
                f"`--counts` replaces the STEP model, but {names} was given too. "
                "Use either --counts or --k/--R/--rho/--n-min."
            )
        return from_counts(args.counts)
    params = dict(args._default_case)
    params.update(step_given)
    return step(params["k"], params["R"], params["rho"], params["n_min"])


def add_run_management_arguments(p, *, files: str, resume: str, checkpoint_default: int):
    """--out, --resume, --checkpoint-every, --log-per-decade, --no-progress: the flags of every
    trainer built on training.runio. Returns the argument group, for trainer-specific flags."""
    g = p.add_argument_group("run management")
    g.add_argument("--out", required=True, help=f"output folder: {files}")
    g.add_argument("--resume", action="store_true", help=resume)
    g.add_argument("--checkpoint-every", dest="checkpoint_every",
                   help=f"epochs between checkpoints; default {checkpoint_default}")
    g.add_argument("--log-per-decade", dest="log_per_decade",
                   help="metric rows per decade of epochs (log-spaced); default 20")
    g.add_argument("--no-progress", dest="progress", action="store_false",
                   help="no progress bar on stderr")
    return g


def to_number(x, digits: int | None):
    """A JSON number: a float, or a decimal string of `digits` significant digits when > 15."""
    if digits is not None and digits > 15:
        if isinstance(x, sympy.Basic):
            return str(sympy.N(x, digits))
        return mpmath.nstr(x, digits, strip_zeros=False)
    return float(x)


def to_json_tree(a, digits: int | None):
    """numpy arrays (float or object) to nested lists of JSON numbers."""
    a = np.asarray(a, dtype=object)
    if a.ndim == 0:
        return to_number(a.item(), digits)
    return [to_json_tree(row, digits) for row in a]


def emit_json(obj) -> None:
    json.dump(obj, sys.stdout, indent=2)
    sys.stdout.write("\n")


def write_text(path, text: str) -> None:
    atomic_write(path, text)
