"""thm1.any_counts: Theorem 1 for every count vector, judged step by step.

What its judge does beyond the planted and undecided inputs every module carries
(tests/test_soundness_planted.py runs those): each step's verdict is judged again from its rows,
a step that is missing makes the theorem undecided, every part is named in the evidence, and a
planted input is refuted by the part it plants (not by another one, nor by a missing step).
"""

from dataclasses import replace

import pytest

from proofs_check import any_counts_steps as steps
from proofs_check.claims import thm1_any_counts as claim
from proofs_check.evidence import failed_row, proven_row, undecided_row
from proofs_check.registry import get_claim
from seli_exact.verdict import Status, Verdict

V, R, D = Status.VERIFIED, Status.REFUTED, Status.UNDECIDED


def _step(part, rows, status=V, claim_id=None):
    return claim.StepCase(part, Verdict(claim_id or f"{claim.ID}.{part}", status, len(rows), 0.0,
                                        "residual", {"instances": rows}))


def test_the_parts_follow_the_proof():
    keys = list(claim.PARTS)
    assert keys[:6] == [f"step{n}" for n in range(1, 7)]
    assert [k for k in keys if k.startswith("step7.")] == [
        "step7.dual_feasible", "step7.duality_gap", "step7.complementary_slackness",
        "step7.uniqueness", "step7.tightness"]
    assert keys[-1] == "theorem" and {"sign", "routes"} <= set(keys)
    assert set(claim.STEP_PARTS) | {"sign"} | set(claim.MODULE_PARTS) == set(keys)
    assert get_claim("thm1.any_counts").module is claim


def test_a_step_is_judged_again_from_its_rows():
    good = [proven_row("identity")]
    bad = [proven_row("identity"), failed_row("another identity", "nonzero")]
    assert claim.part_verdict("step1", [_step("step1", good)]).status is V
    # a step that calls itself verified while one of its rows fails
    assert claim.part_verdict("step1", [_step("step1", bad, status=V)]).status is R
    # a step that says refuted (or undecided) although its rows pass: its word stands
    assert claim.part_verdict("step1", [_step("step1", good, status=R)]).status is R
    assert claim.part_verdict("step1", [_step("step1", good, status=D)]).status is D
    assert claim.part_verdict("step1", [_step("step1", [], status=Status.ERROR)]).status is D
    # evidence of step 2 cannot stand in for step 1
    v = claim.part_verdict("step1", [_step("step1", good, claim_id=f"{claim.ID}.step2")])
    assert v.status is R


def test_a_missing_step_leaves_the_theorem_undecided():
    v = claim.judge([_step("step1", [proven_row("identity")])])
    assert v.status is D
    listed = {s["step"]: s["status"] for s in v.evidence["steps"]}
    assert listed[f"{claim.ID}.step1"] == "verified"
    assert sum(status == "not checked" for status in listed.values()) == len(claim.PARTS) - 1
    # undecided rows never hide a refutation
    v = claim.judge([_step("step1", [undecided_row("x", "open")]),
                     _step("step2", [failed_row("y", "nonzero")])])
    assert v.status is R and v.evidence["failing"][0]["instance"] == "step2: y"


def test_cases_are_routed_by_type_not_by_what_they_say():
    with pytest.raises(ValueError, match="StepCase.part"):
        claim.part_of(claim.StepCase("step7.tightness", Verdict("x", V, 1)))
    with pytest.raises(TypeError, match="no part judges"):
        claim.part_of(object())
    case = claim.planted()["step 7 (e): a factorization with 1.1 W"][0]
    assert claim.part_of(case) == "step7.tightness"


def _prefixes(rows):
    return {r["instance"].split(":")[0] for r in rows}


@pytest.mark.parametrize("name", list(claim.planted()))
def test_each_planted_input_is_refuted_by_its_own_part(name):
    cases = claim.planted()[name]
    parts = {claim.part_of(c) for c in cases}
    v = claim.judge(cases)
    assert v.status is R
    failing = [r for r in v.evidence["instances"] if not r["ok"]]
    assert failing and _prefixes(failing) <= parts, (name, _prefixes(failing))


@pytest.mark.parametrize("name", list(claim.undecided()))
def test_each_undecided_input_is_undecided_by_its_own_part(name):
    cases = claim.undecided()[name]
    (part,) = {claim.part_of(c) for c in cases}
    v = claim.judge(cases)
    assert v.status is D
    own = [u for u in v.evidence["undecided"] if not u.endswith("no case for this step")]
    assert own and all(u.startswith(f"{part}:") for u in own), own
    assert claim.part_verdict(part, cases).status is D


def test_every_step_kind_has_a_plant_and_an_undecided_input():
    planted = {claim.part_of(c) for cs in claim.planted().values() for c in cs}
    assert planted == set(claim.PARTS)
    undecided = {claim.part_of(c) for cs in claim.undecided().values() for c in cs}
    # a SymPy identity, a 50-digit comparison, an interval decision, and every judged part
    assert {"step2", "step3", "step6", "sign"} | set(claim.MODULE_PARTS) <= undecided


def test_step6_too_weak_bound_is_not_the_best_possible():
    case = claim.planted()["step 6: F_k 0.1% too weak (true, not the best bound)"][0]
    failing = [r["instance"] for r in case.verdict.evidence["instances"] if not r["ok"]]
    # refuted where it is judged as the best bound: the tightness family, and its value (F_k is
    # the integral with sigma relaxed, above the simple bound), never by an enclosure
    assert "tightness: min over the family of -G_M / bound, minus 1" in failing
    assert all(f.startswith(("tightness", "F_k = its integral", "F_2 = -G_M",
                             "simple bound <= F_k", "simple bound = F_k's infimum"))
               for f in failing), failing
    # the interval rows show the weaker bound holds everywhere
    assert all(r["ok"] for r in case.verdict.evidence["instances"] if "interval" in r["instance"])


def test_section33_parts_use_only_non_step_counts():
    for case in claim.section33_cases("quick"):
        counts = case.candidate.counts if hasattr(case, "candidate") else case.counts
        assert counts.model != "step", case


@pytest.mark.slow
def test_the_quick_cases_check_every_part_and_verify():
    v = claim.judge(claim.cases("quick"))
    assert v.status is V, v.evidence.get("failing") or v.evidence.get("undecided")
    assert [s["step"] for s in v.evidence["steps"]] == [f"{claim.ID}.{k}" for k in claim.PARTS]
    assert all(s["status"] == "verified" and s["instances"] > 0 for s in v.evidence["steps"])


def test_replacing_a_step_verdict_by_a_verified_stub_is_caught():
    """A stub verdict with no rows (a step that checked nothing) is not a verified step."""
    stub = claim.StepCase("step4", Verdict(f"{claim.ID}.step4", V, 1, evidence={"instances": []}))
    v = claim.part_verdict("step4", [stub])
    assert v.status is not V
    real = claim.StepCase("step4", steps.step4_resolvent((2,), general=False))
    assert claim.part_verdict("step4", [real]).status is V
    assert claim.judge([replace(stub)]).status is not V
