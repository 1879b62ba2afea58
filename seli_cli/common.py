"""Arguments and output formatting shared by several commands.

Class counts come from exactly one source: the STEP flags --k/--R/--rho/--n-min (Definition 1,
with a command's default case for the flags not given), --counts N1,N2,..., --counts-file F or
--profile SPEC (seli_exact.counts); giving two sources is refused.
"""

from __future__ import annotations

import json
import sys

from seli_io.atomic import atomic_write
from seli_exact.counts import (
    PROFILE_HELP,
    ClassCounts,
    counts_from_file,
    from_counts,
    parse_profile,
    step,
)
from seli_exact.errors import SeliInputError

FIG1_CASE = {"k": "4", "R": "10", "rho": "1/2", "n_min": "5"}
STEP_FLAGS = {"k": "--k", "R": "--R", "rho": "--rho", "n_min": "--n-min"}
SOURCES = {"counts": "--counts", "counts_file": "--counts-file", "profile": "--profile"}


def add_counts_arguments(p, *, default_case: dict = FIG1_CASE) -> None:
    g = p.add_argument_group(
        "class counts", "one source: (R, rho)-STEP (Definition 1), an explicit vector, a file or a "
        "profile; default: " + ", ".join(f"{k}={v}" for k, v in default_case.items())
    )
    g.add_argument("--k", help="number of classes (>= 2)")
    g.add_argument("--R", help="imbalance ratio R >= 1 (majority size / minority size)")
    g.add_argument("--rho", help="minority fraction in (0, 1); rho*k must be whole (a decimal "
                   "whose float is that of j/k, such as 0.3333333333333333 for k=3, means j/k)")
    g.add_argument("--n-min", dest="n_min", help="examples per minority class (>= 1)")
    g.add_argument("--counts", help="explicit class counts n1,n2,... instead of STEP")
    g.add_argument("--counts-file", dest="counts_file", metavar="FILE",
                   help="class counts from a file: one whole number per line (# comments and "
                   "blank lines skipped) or a JSON list")
    g.add_argument("--profile", metavar="SPEC", help=PROFILE_HELP)
    p.set_defaults(_default_case=default_case)


def counts_from_args(args) -> ClassCounts:
    """The ClassCounts of the one count source given (the STEP default case when none is)."""
    step_given = {k: getattr(args, k) for k in STEP_FLAGS if getattr(args, k, None) is not None}
    sources = [d for d in SOURCES if getattr(args, d, None) is not None]
    if len(sources) > 1:
        names = " and ".join(SOURCES[d] for d in sources)
        raise SeliInputError(f"{names} both give the class counts; use one of --counts, "
                             "--counts-file and --profile.")
    if sources and step_given:
        names = ", ".join(STEP_FLAGS[k] for k in step_given)
        raise SeliInputError(
            f"`{SOURCES[sources[0]]}` replaces the STEP model, but {names} was given too. "
            f"Use either {SOURCES[sources[0]]} or --k/--R/--rho/--n-min."
        )
    if sources == ["counts"]:
        return from_counts(args.counts)
    if sources == ["counts_file"]:
        return counts_from_file(args.counts_file)
    if sources == ["profile"]:
        return parse_profile(args.profile)
    params = dict(args._default_case)
    params.update(step_given)
    return step(params["k"], params["R"], params["rho"], params["n_min"])


def to_number(x, digits: int | None):
    """A JSON number: a float, or a decimal string of `digits` significant digits when > 15."""
    if digits is not None and digits > 15:
        if not isinstance(x, (float, int)) and type(x).__module__.startswith("sympy"):
            import sympy

            return str(sympy.N(x, digits))
        import mpmath

        return mpmath.nstr(x, digits, strip_zeros=False)
    return float(x)


def to_json_tree(a, digits: int | None):
    """numpy arrays (float or object) to nested lists of JSON numbers."""
    import numpy as np

    a = np.asarray(a)
    if a.dtype != object and (digits is None or digits <= 15):
        return a.astype(float).tolist()  # one C loop, not one Python call per entry
    a = np.asarray(a, dtype=object)
    if a.ndim == 0:
        return to_number(a.item(), digits)
    return [to_json_tree(row, digits) for row in a]


def emit_json(obj) -> None:
    """Print `obj` as JSON: objects and nested lists indented, a list of numbers or text on one
    line (so a k x k matrix is k lines, written by the C encoder, not k^2 indented lines)."""
    for chunk in _json_chunks(obj, 0):
        sys.stdout.write(chunk)
    sys.stdout.write("\n")


def json_text(obj) -> str:
    """The text emit_json prints (without the final newline).

    >>> print(json_text({"a": [[1, 2], [3, 4]], "b": "x"}))
    {
      "a": [
        [1, 2],
        [3, 4]
      ],
      "b": "x"
    }
    """
    return "".join(_json_chunks(obj, 0))


def _json_chunks(obj, depth: int):
    pad, inner = "  " * depth, "  " * (depth + 1)
    if isinstance(obj, dict) and obj:
        yield "{"
        for i, (key, value) in enumerate(obj.items()):
            yield ("," if i else "") + "\n" + inner + json.dumps(str(key)) + ": "
            yield from _json_chunks(value, depth + 1)
        yield "\n" + pad + "}"
    elif isinstance(obj, (list, tuple)) and obj and isinstance(obj[0], (dict, list, tuple)):
        yield "["
        for i, value in enumerate(obj):
            yield ("," if i else "") + "\n" + inner
            yield from _json_chunks(value, depth + 1)
        yield "\n" + pad + "]"
    else:
        yield json.dumps(obj)


def write_text(path, text: str) -> None:
    atomic_write(path, text)
