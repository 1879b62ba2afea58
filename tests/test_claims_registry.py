"""The claim registry: discovery, every claim module's parts, the ids kept from before."""

import types

import pytest

from proofs_check import registry
from proofs_check.registry import PROFILES, all_claims, get_claim
from proofs_check.routes import ROUTES

# every claim id the checker had before the one-module-per-claim redesign, with its meaning,
# except conj.strict_sign_any_counts: proven for every count vector, it became thm1.any_counts
KEPT_IDS = [
    "thm1", "cor1.1", "cor1.2", "cor1.3", "lemma3.1", "eq4", "remark3.2", "cert.dual_feasible",
    "cert.strict_sign", "cert.duality_gap", "cert.complementary_slackness", "relax.optimum",
    "relax.tight", "prop1", "lemmaA1v", "prop2", "thm2", "sec4.4",
    "margin_positive", "no_minority_collapse", "sgd_ufm", "deepnet_digits",
]
NEW_IDS = ["def1.counts", "def3.geometry", "secB.closed_forms", "sec5.metrics", "thm1.any_counts",
           "sec4.path"]
REPLACED = {"conj.strict_sign_any_counts": "thm1.any_counts"}


def test_every_id_is_kept_and_in_the_paper_order():
    ids = [c.id for c in all_claims()]
    assert set(KEPT_IDS + NEW_IDS) == set(ids) and len(ids) == len(set(ids))
    assert [i for i in ids if i in KEPT_IDS] == KEPT_IDS  # the table keeps its order


def test_the_conjecture_became_a_theorem():
    ids = [c.id for c in all_claims()]
    for old, new in REPLACED.items():
        assert old not in ids and new in ids
    # in the table where the conjecture stood: right after the Sec. 3.3 claims
    assert ids.index("thm1.any_counts") == ids.index("relax.tight") + 1


def test_profiles_and_training_claims():
    thorough_only = {c.id for c in all_claims() if c.profiles == ("thorough",)}
    assert thorough_only == {"sgd_ufm", "deepnet_digits"}
    assert {c.id for c in all_claims("quick")} == set(KEPT_IDS + NEW_IDS) - thorough_only
    with pytest.raises(ValueError, match="profile must be one of"):
        all_claims("slow")


@pytest.mark.parametrize("claim", all_claims(), ids=lambda c: c.id)
def test_each_module_is_complete(claim):
    m = claim.module
    assert m.__doc__ and claim.reference and claim.statement
    assert m.__name__ == "proofs_check.claims." + claim.id.replace(".", "_")
    assert set(claim.routes) <= set(ROUTES)
    assert callable(m.cases) and callable(m.judge)
    # a frozen Case dataclass (or a union of them)
    kinds = getattr(m.Case, "__args__", (m.Case,))
    for kind in kinds:
        assert kind.__dataclass_params__.frozen, kind
    assert claim.planted() and claim.undecided(), "every judge needs planted and undecided inputs"


def test_get_claim():
    assert get_claim("thm1").reference == "Theorem 1"
    with pytest.raises(KeyError):
        get_claim("thm9")


def _module(**attrs):
    m = types.ModuleType("proofs_check.claims.demo")
    base = dict(ID="demo", REFERENCE="nowhere", STATEMENT="s", PROFILES=("quick",), ORDER=1,
                ROUTES=(), Case=object, cases=lambda p: [], judge=lambda cs: None,
                planted=dict, undecided=dict)
    base.update(attrs)
    for k, v in base.items():
        setattr(m, k, v)
    return m


def test_a_module_is_a_claim_when_it_has_every_part():
    c = registry._claim_of(_module())
    assert (c.id, c.profiles, c.routes) == ("demo", ("quick",), ())
    with pytest.raises(TypeError, match="lacks planted"):
        m = _module()
        del m.planted
        registry._claim_of(m)
    with pytest.raises(ValueError, match="PROFILES must be drawn from"):
        registry._claim_of(_module(PROFILES=("slow",)))
    with pytest.raises(ValueError, match="unknown routes"):
        registry._claim_of(_module(ROUTES=("oracle",)))


def test_a_crashing_check_is_an_error_verdict():
    def boom(profile):
        raise ArithmeticError("planted crash")

    c = registry._claim_of(_module(cases=boom))
    v = c.run("quick")
    assert v.status.value == "error" and "planted crash" in v.evidence["exception"]
    wrong = registry._claim_of(_module(judge=lambda cs: "verified"))
    assert wrong.run("quick").status.value == "error"


def test_profiles_constant():
    assert PROFILES == ("quick", "thorough")


@pytest.mark.parametrize("ci, derandomized", [("true", True), ("", False)])
def test_hypothesis_is_derandomized_exactly_when_CI_is_set(ci, derandomized):
    import os
    import subprocess
    import sys

    code = ("import proofs_check.pytest_plugin; from hypothesis import settings; "
            "settings.load_profile('quick'); print(settings.default.derandomize)")
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci:
        env["CI"] = ci
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True, timeout=120).stdout.strip()
    assert out == str(derandomized)
