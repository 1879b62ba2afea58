"""What a check returns: a verdict with evidence.

A claim is *verified* only when its check found positive evidence for every instance tried;
*refuted* when some instance contradicts it (the evidence says which, and by how much);
*undecided* when the evidence is inconclusive (e.g. simplification gave up); *error* when the
check itself could not run. Only "verified" passes.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from enum import Enum


class Status(str, Enum):
    VERIFIED = "verified"
    REFUTED = "refuted"
    UNDECIDED = "undecided"
    ERROR = "error"


@dataclass(frozen=True)
class Verdict:
    """The outcome of one claim's check.

    `worst` is the worst margin (a number that must be > 0, e.g. a sign margin or a gap from a
    bound) or the worst residual (a number that must be small), as `worst_kind` says; `evidence`
    is JSON-serializable detail: the instances tried, float64 / mpmath / interval margins, the
    failing instance when refuted.
    """

    claim_id: str
    status: Status
    instances: int
    worst: float | None = None
    worst_kind: str = "residual"  # "residual" or "margin"
    evidence: dict = field(default_factory=dict)

    def __post_init__(self):
        if not isinstance(self.status, Status):
            object.__setattr__(self, "status", Status(self.status))
        if self.worst_kind not in ("residual", "margin"):
            raise ValueError(f"worst_kind must be 'residual' or 'margin', not {self.worst_kind!r}")
        if not isinstance(self.instances, int) or self.instances < 0:
            raise ValueError(f"instances must be a count, not {self.instances!r}")
        if self.status is Status.VERIFIED and self.instances == 0:
            raise ValueError(f"{self.claim_id}: a claim cannot be verified on zero instances")
        json.dumps(self.evidence, default=_jsonable)  # fail at construction, not at report time

    @property
    def passed(self) -> bool:
        return self.status is Status.VERIFIED

    def summary(self) -> str:
        w = "-" if self.worst is None else f"{self.worst_kind} {self.worst:.3g}"
        return f"{self.claim_id}: {self.status.value} on {self.instances} instance(s), worst {w}"

    def to_json(self, reference: str = "") -> dict:
        return {
            "id": self.claim_id,
            "reference": reference,
            "status": self.status.value,
            "instances": self.instances,
            "worst": None if self.worst is None or not math.isfinite(self.worst) else self.worst,
            "worst_kind": self.worst_kind,
            "evidence": json.loads(json.dumps(self.evidence, default=_jsonable)),
        }


def _jsonable(x):
    """Fallback JSON encoding for numpy / mpmath / sympy numbers and arrays in evidence."""
    try:
        import numpy as np

        if isinstance(x, np.ndarray):
            return x.tolist()
        if isinstance(x, np.generic):
            return x.item()
    except ImportError:  # pragma: no cover
        pass
    try:
        return float(x)
    except (TypeError, ValueError):
        return str(x)
