"""CSV text for the tables behind the figures: one writer, values that round-trip.

Floats are written with repr (the shortest text that reads back to the same float), None as an
empty cell, lists and tuples as space-separated words.

>>> print(csv_text([{"R": 10, "d": 0.1, "gap": None}], ["R", "d", "gap"]), end="")
R,d,gap
10,0.1,
"""

from __future__ import annotations

import csv
import io


def csv_value(v):
    """One cell: repr for floats, "" for None, space-separated words for lists and tuples."""
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return " ".join(map(str, v))
    return v


def csv_text(rows, columns) -> str:
    """The rows (dicts) as CSV with the given header; a key outside `columns` is an error."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n", extrasaction="raise")
    w.writeheader()
    for row in rows:
        w.writerow({k: csv_value(v) for k, v in row.items()})
    return buf.getvalue()
