"""Claims of the paper as data, and the registry of their checks.

A claim is (id, reference, statement, profiles) plus a check function `check(profile) -> Verdict`.
Check modules register claims with the `claim` decorator; CHECK_MODULES in checks/__init__.py
lists the modules, so `all_claims()` is the whole catalogue.

    @claim("cert.strict_sign", "Sec. 3.3, Eq. (6)", "B_hat * Zhat^T > 0 entrywise")
    def strict_sign(profile: str) -> Verdict: ...
"""

from __future__ import annotations

import importlib
import traceback
from dataclasses import dataclass
from typing import Callable

from seli_exact.verdict import Status, Verdict

PROFILES = ("quick", "thorough")


@dataclass(frozen=True)
class Claim:
    id: str
    reference: str  # where in the paper, e.g. "Theorem 1 (ii)"
    statement: str
    check: Callable[[str], Verdict]
    profiles: tuple[str, ...] = PROFILES  # thorough-only claims are the slow ones

    def run(self, profile: str) -> Verdict:
        """The check's verdict; an exception becomes an ERROR verdict carrying the traceback."""
        try:
            v = self.check(profile)
        except Exception as err:  # a check that crashes is reported, never silently passed
            return Verdict(
                self.id, Status.ERROR, 0,
                evidence={"exception": f"{type(err).__name__}: {err}",
                          "traceback": traceback.format_exc(limit=8)},
            )
        if not isinstance(v, Verdict) or v.claim_id != self.id:
            return Verdict(self.id, Status.ERROR, 0,
                           evidence={"exception": f"check returned {v!r}, not a Verdict for {self.id}"})
        return v


_REGISTRY: dict[str, Claim] = {}


def claim(id: str, reference: str, statement: str, *, profiles: tuple[str, ...] = PROFILES):
    """Register the decorated `check(profile) -> Verdict` as the check of claim `id`."""
    for p in profiles:
        if p not in PROFILES:
            raise ValueError(f"unknown profile {p!r} for claim {id}")

    def register(fn):
        if id in _REGISTRY and _REGISTRY[id].check.__qualname__ != fn.__qualname__:
            raise ValueError(f"claim {id!r} registered twice")
        _REGISTRY[id] = Claim(id, reference, statement, fn, tuple(profiles))
        return fn

    return register


def all_claims(profile: str | None = None) -> list[Claim]:
    """Every registered claim (in registration order), or those run in `profile`."""
    from .checks import CHECK_MODULES

    for name in CHECK_MODULES:
        importlib.import_module(name)
    claims = list(_REGISTRY.values())
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
