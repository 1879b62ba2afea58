"""Every claim of the paper as a pytest test: it passes only when its check says verified, and
the claims that hold for any class counts are checked on count vectors with three or more
distinct counts (an instance list that quietly fell back to STEP would otherwise pass)."""

import dataclasses

import pytest

from proofs_check.registry import all_claims
from seli_exact import ClassCounts

# claims whose instances must include counts outside STEP (three or more distinct counts)
BEYOND_STEP = {
    "cor1.1", "cor1.2", "def3.geometry", "cert.dual_feasible", "cert.duality_gap",
    "cert.complementary_slackness", "relax.optimum", "relax.tight", "thm1.any_counts", "prop1",
    "lemmaA1v", "sec4.4", "margin_positive", "sec5.metrics", "sec4.path",
}


def counts_in(obj, depth: int = 0) -> list[ClassCounts]:
    """The ClassCounts held by a case (in its fields, up to three levels down)."""
    if isinstance(obj, ClassCounts):
        return [obj]
    if depth > 3:
        return []
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return [c for f in dataclasses.fields(obj) for c in counts_in(getattr(obj, f.name), depth + 1)]
    if isinstance(obj, (list, tuple)):
        return [c for x in obj for c in counts_in(x, depth + 1)]
    return []


@pytest.mark.parametrize(
    "claim",
    [pytest.param(c, id=c.id, marks=[] if "quick" in c.profiles else [pytest.mark.slow])
     for c in all_claims()],
)
def test_claim(claim, seli_profile):
    if seli_profile not in claim.profiles:
        pytest.skip(f"{claim.id} runs only in the {'/'.join(claim.profiles)} profile")
    cases = claim.cases(seli_profile)
    verdict = claim.judge(cases)
    assert verdict.passed, verdict.summary() + f"\nevidence: {verdict.evidence}"
    if claim.id in BEYOND_STEP:
        distinct = max((len(set(c.counts)) for case in cases for c in counts_in(case)), default=0)
        assert distinct >= 3, f"{claim.id} ran on no instance with three or more distinct counts"
