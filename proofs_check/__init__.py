"""The theorem checker: claims of the paper as data, checks that return verdicts.

Public names: Status, Verdict, Claim, claim, all_claims, get_claim, PROFILES.
"""

from .registry import PROFILES, Claim, all_claims, claim, get_claim
from seli_exact.verdict import Status, Verdict

__all__ = ["Status", "Verdict", "Claim", "claim", "all_claims", "get_claim", "PROFILES"]
