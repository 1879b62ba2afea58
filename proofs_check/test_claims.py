"""Every claim of the paper as a pytest test: it passes only when its check says verified."""

import pytest

from proofs_check.registry import all_claims


@pytest.mark.parametrize(
    "claim",
    [pytest.param(c, id=c.id, marks=[] if "quick" in c.profiles else [pytest.mark.slow])
     for c in all_claims()],
)
def test_claim(claim, seli_profile):
    if seli_profile not in claim.profiles:
        pytest.skip(f"{claim.id} runs only in the {'/'.join(claim.profiles)} profile")
    verdict = claim.run(seli_profile)
    assert verdict.passed, verdict.summary() + f"\nevidence: {verdict.evidence}"
