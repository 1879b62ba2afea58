"""The registry: every module in proofs_check/claims/ is one claim (or a small family's check).

A claim module holds, at module level:

    ID, REFERENCE, STATEMENT   the claim as data: its id, where in the paper, what it says
    PROFILES                   the profiles it runs in ("quick", "thorough")
    ORDER                      its place in the table (the paper's order)
    ROUTES                     the routes its verdict depends on (proofs_check.routes)
    Case                       a frozen dataclass: one instance's inputs, the library's values
                               and the independent reference values side by side
    cases(profile)             -> list[Case], the true inputs
    judge(cases)               -> Verdict, pure: compares, with tolerances from tolerances.py
    planted()                  -> {name: [Case]}, wrong inputs that judge must refute
    undecided()                -> {name: [Case]}, inputs that judge must call undecided

Adding a claim is adding one file; `all_claims()` discovers them. `Claim.run(profile)` is
judge(cases(profile)), with a crash reported as an ERROR verdict.
"""

from __future__ import annotations

import importlib
import pkgutil
import traceback
from dataclasses import dataclass
from types import ModuleType

from seli_exact.verdict import Status, Verdict

from .routes import ROUTES

PROFILES = ("quick", "thorough")
_REQUIRED = ("ID", "REFERENCE", "STATEMENT", "PROFILES", "ORDER", "ROUTES", "Case", "cases",
             "judge", "planted", "undecided")


@dataclass(frozen=True)
class Claim:
    id: str
    reference: str  # where in the paper, e.g. "Theorem 1 (ii)"
    statement: str
    profiles: tuple[str, ...]
    routes: tuple[str, ...]
    module: ModuleType

    def cases(self, profile: str) -> list:
        return self.module.cases(profile)

    def judge(self, cases: list) -> Verdict:
        return self.module.judge(cases)

    def planted(self) -> dict:
        return self.module.planted()

    def undecided(self) -> dict:
        return self.module.undecided()

    def run(self, profile: str) -> Verdict:
        """judge(cases(profile)); an exception becomes an ERROR verdict carrying the traceback."""
        try:
            v = self.judge(self.cases(profile))
        except Exception as err:  # a check that crashes is reported, never silently passed
            return Verdict(self.id, Status.ERROR, 0, evidence={
                "exception": f"{type(err).__name__}: {err}",
                "traceback": traceback.format_exc(limit=8)})
        if not isinstance(v, Verdict) or v.claim_id != self.id:
            return Verdict(self.id, Status.ERROR, 0,
                           evidence={"exception": f"judge returned {v!r}, not a Verdict for {self.id}"})
        return v


def _claim_of(module: ModuleType) -> Claim:
    missing = [name for name in _REQUIRED if not hasattr(module, name)]
    if missing:
        raise TypeError(f"claim module {module.__name__} lacks {', '.join(missing)}")
    profiles = tuple(module.PROFILES)
    if not profiles or any(p not in PROFILES for p in profiles):
        raise ValueError(f"{module.__name__}: PROFILES must be drawn from {PROFILES}, not {profiles}")
    unknown = [r for r in module.ROUTES if r not in ROUTES]
    if unknown:
        raise ValueError(f"{module.__name__}: unknown routes {unknown}; see proofs_check.routes")
    return Claim(module.ID, module.REFERENCE, module.STATEMENT, profiles, tuple(module.ROUTES),
                 module)


_CATALOGUE: list[Claim] | None = None


def _discover() -> list[Claim]:
    from . import claims as package

    found = []
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        found.append((module.ORDER, _claim_of(module)))
    found.sort(key=lambda t: (t[0], t[1].id))
    ids = [c.id for _, c in found]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"claim ids registered twice: {duplicates}")
    return [c for _, c in found]


def all_claims(profile: str | None = None) -> list[Claim]:
    """Every claim in table order, or those that run in `profile`."""
    global _CATALOGUE
    if _CATALOGUE is None:
        _CATALOGUE = _discover()
    claims = list(_CATALOGUE)
    if profile is not None:
        if profile not in PROFILES:
            raise ValueError(f"profile must be one of {PROFILES}, not {profile!r}")
        claims = [c for c in claims if profile in c.profiles]
    return claims


def get_claim(id: str) -> Claim:
    for c in all_claims():
        if c.id == id:
            return c
    raise KeyError(id)
