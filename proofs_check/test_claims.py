"""Every claim of the paper as a pytest test: it passes only when its check says verified."""

import pytest

from proofs_check.registry import all_claims


def _params():
    out = []
    for c in all_claims():
        marks = [] if "quick" in c.profiles else [pytest.mark.slow]
        out.append(pytest.param(c, id=c.id, marks=marks))
    return out


@pytest.mark.parametrize("claim", _params())
def test_claim(claim, seli_profile, record_verdict):
    if seli_profile not in claim.profiles:
        pytest.skip(f"{claim.id} runs only in the {'/'.join(claim.profiles)} profile")
    verdict = claim.run(seli_profile)
    record_verdict(verdict, claim.reference)
    assert verdict.passed, verdict.summary() + f"\nevidence: {verdict.evidence}"
