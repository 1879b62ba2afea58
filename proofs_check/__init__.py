"""The theorem checker: claims of the paper as data, checks that return verdicts.

Each claim is one module of proofs_check.claims (see proofs_check.registry for its parts); the
checks compare seli_exact's values with independent routes (proofs_check.lapack, the solvers,
the interval certificate, the paper's printed formulas) at the tolerances of
proofs_check.tolerances.

Public names: Status, Verdict, Claim, all_claims, get_claim, PROFILES.
"""

from seli_exact.verdict import Status, Verdict

from .registry import PROFILES, Claim, all_claims, get_claim

__all__ = ["Status", "Verdict", "Claim", "all_claims", "get_claim", "PROFILES"]
