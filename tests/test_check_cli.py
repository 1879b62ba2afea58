"""`seli check`: the table, the JSON report, the exit status, and a real run over the registry."""

import json
import subprocess
import sys

import pytest

from proofs_check import registry
from proofs_check.registry import all_claims
from seli_cli import check
from seli_cli.main import main
from seli_exact.verdict import Status, Verdict


def fake_verdict(cid, status="verified", worst=1e-12, kind="residual"):
    return {"id": cid, "reference": f"ref of {cid}", "status": status, "instances": 3,
            "worst": worst, "worst_kind": kind, "evidence": {"instances": [{"x": 1}]}}


def test_table_columns():
    rows = [fake_verdict("thm1"), fake_verdict("cert.strict_sign", worst=0.0046, kind="margin")]
    text = check.format_table(rows, "quick", 3.2)
    head = text.splitlines()[0].split()
    assert head == ["claim", "reference", "status", "instances", "worst"]
    assert "margin 0.0046" in text and "residual 1e-12" in text
    assert "2 claims (2 verified) in the quick profile" in text


@pytest.fixture
def fake_run(monkeypatch):
    """Replace every claim's run by a canned verdict, keyed by claim id (default: verified)."""
    state = {"status": {}, "ran": []}

    def run(self, profile):
        state["ran"].append(self.id)
        status = state["status"].get(self.id, "verified")
        return Verdict(self.id, Status(status), 3, 1e-12, "residual", {"instances": [{"x": 1}]})

    monkeypatch.setattr(registry.Claim, "run", run)
    return state


def test_exit_zero_and_json_when_all_verified(fake_run, tmp_path, capsys):
    out = tmp_path / "report.json"
    assert main(["check", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["profile"] == "quick"
    assert [c["id"] for c in report["claims"]] == [c.id for c in all_claims()]  # every claim, in order
    for c in report["claims"]:
        assert set(c) == {"id", "reference", "status", "instances", "worst", "worst_kind", "evidence"}
    thorough = [c for c in report["claims"] if c["id"] in ("sgd_ufm", "deepnet_digits")]
    assert all(c["status"] == "not run (thorough only)" for c in thorough)
    assert fake_run["ran"] == [c.id for c in all_claims("quick")]  # the registry, looped directly
    assert "thm1" in capsys.readouterr().out


@pytest.mark.parametrize("status", ["refuted", "undecided", "error"])
def test_anything_but_verified_exits_1(fake_run, capsys, status):
    # e.g. a proof whose simplification gave up: reported, and the exit status says so
    fake_run["status"]["lemma3.1"] = status
    assert main(["check"]) == 1
    n = len(all_claims("quick"))
    assert f"({n - 1} verified, 1 {status}" in capsys.readouterr().out  # fixed order: verified first


def test_an_undecided_judge_exits_1_for_real(monkeypatch, capsys):
    """Not a canned verdict: a claim's own undecided input, through its own judge."""
    c = registry.get_claim("cert.duality_gap")
    undecided = next(iter(c.undecided().values()))
    monkeypatch.setattr(c.module, "cases", lambda profile: undecided)
    assert main(["check", "--claims", "cert.duality_gap"]) == 1
    assert "undecided" in capsys.readouterr().out


def test_claims_selection(fake_run, capsys):
    assert main(["check", "--claims", "cor1.3, thm1"]) == 0
    assert fake_run["ran"] == ["cor1.3", "thm1"]
    assert "2 claims (2 verified)" in capsys.readouterr().out


@pytest.mark.parametrize("claims, shown", [("thm9", "thm9"), ("", "''"), (" , ", "' , '")])
def test_bad_claims_exit_2(capsys, claims, shown):
    assert main(["check", "--claims", claims]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: `--claims` must name registered claims; got {shown}.")
    assert "Known ids: def1.counts, thm1, cor1.1" in err


def test_bad_profile_exits_2():
    assert main(["check", "--profile", "slow"]) == 2


def test_check_only_validates_the_selection_without_running(fake_run, tmp_path):
    assert main(["check", "--claims", "thm9"], check_only=True) == 2
    assert main(["check", "--claims", "thm1"], check_only=True) == 0
    assert main(["check", "--json", ""], check_only=True) == 2
    assert main(["check", "--json", str(tmp_path / "sub" / "r.json")], check_only=True) == 0
    assert fake_run["ran"] == []


def test_a_bad_json_path_is_refused_before_any_claim_runs(fake_run, tmp_path, capsys):
    (tmp_path / "folder").mkdir()
    assert main(["check", "--json", str(tmp_path / "folder")]) == 2
    assert capsys.readouterr().err.startswith("error: `--json` must be a file")
    assert fake_run["ran"] == []


def test_help_states_measured_timings(capsys):
    assert main(["check", "--help"]) == 0
    out = capsys.readouterr().out
    assert check.TIMINGS["quick"] in " ".join(out.split())
    assert "about a minute" not in out


def test_real_run(tmp_path):
    out = tmp_path / "r.json"
    proc = subprocess.run(
        [sys.executable, "-m", "seli_cli.main", "check", "--claims", "cor1.3,cert.complementary_slackness",
         "--json", str(out)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split()[:2] == ["claim", "reference"]
    assert any(line.startswith("cor1.3") and "verified" in line for line in lines)
    assert "2 claims (2 verified)" in proc.stdout
    assert proc.stderr == ""  # no progress line when stderr is not a terminal
    report = json.loads(out.read_text())
    assert [c["status"] for c in report["claims"]] == ["verified", "verified"]
    assert report["claims"][0]["evidence"]["instances"]


def test_unloadable_checks_exit_nonzero(monkeypatch, capsys):
    def broken(profile=None):
        raise ImportError("No module named 'proofs_check.claims.missing'")

    monkeypatch.setattr(registry, "all_claims", broken)
    assert main(["check"]) == 1
    assert capsys.readouterr().err.startswith("error: the checks could not be loaded: ImportError:")
