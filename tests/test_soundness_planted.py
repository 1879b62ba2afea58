"""Every judge refutes every planted wrong input of its module, and says undecided on every
input its module marks undecided (never verified, never refuted)."""

import pytest

from proofs_check.registry import all_claims
from seli_exact.verdict import Status


def _params(kind):
    out = []
    for c in all_claims():
        for name in getattr(c.module, kind)():
            out.append(pytest.param(c, name, id=f"{c.id}: {name}"))
    return out


@pytest.mark.parametrize("claim, name", _params("planted"))
def test_planted_input_is_refuted(claim, name):
    v = claim.judge(claim.planted()[name])
    assert v.status is Status.REFUTED, (name, v.summary(), v.evidence)
    # a refutation names what failed (the training judges keep their own keys for it)
    assert any(v.evidence.get(key) for key in ("failing", "failures", "worst")), v.evidence


@pytest.mark.parametrize("claim, name", _params("undecided"))
def test_undecided_input_is_undecided(claim, name):
    v = claim.judge(claim.undecided()[name])
    assert v.status is Status.UNDECIDED, (name, v.summary(), v.evidence)
    assert not v.passed
