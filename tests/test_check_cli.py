"""`seli check`: the table, the JSON report, the exit status, and a real run through pytest."""

import json
import subprocess
import sys

import pytest

from seli_cli import check
from seli_cli.main import main


def fake_verdict(cid, status="verified", worst=1e-12, kind="residual"):
    return {
        "id": cid,
        "reference": f"ref of {cid}",
        "status": status,
        "instances": 3,
        "worst": worst,
        "worst_kind": kind,
        "evidence": {"instances": [{"x": 1}]},
    }


def test_table_columns():
    rows = [fake_verdict("thm1"), fake_verdict("cert.strict_sign", worst=0.0046, kind="margin")]
    text = check.format_table(rows, "quick", 3.2)
    head = text.splitlines()[0].split()
    assert head == ["claim", "reference", "status", "instances", "worst"]
    assert "margin 0.0046" in text and "residual 1e-12" in text
    assert "2 claims (2 verified) in the quick profile" in text


@pytest.fixture
def fake_run(monkeypatch):
    """Replace the pytest run by canned verdicts, keyed by claim id."""
    state = {}

    def run_pytest(profile, ids):
        return state.get("rc", 0), "pytest says hi", state["verdicts"]

    monkeypatch.setattr(check, "run_pytest", run_pytest)
    return state


def test_exit_zero_and_json_when_all_verified(fake_run, tmp_path, capsys):
    from proofs_check.registry import all_claims

    fake_run["verdicts"] = {c.id: fake_verdict(c.id) for c in all_claims()}
    out = tmp_path / "report.json"
    assert main(["check", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    ids = [c["id"] for c in report["claims"]]
    assert ids == [c.id for c in all_claims()]  # every registered claim, in order
    for c in report["claims"]:
        assert {"id", "reference", "status", "instances", "evidence"} <= set(c)
    assert "thm1" in capsys.readouterr().out


def test_exit_nonzero_when_refuted_or_missing(fake_run, capsys):
    from proofs_check.registry import all_claims

    ids = [c.id for c in all_claims() if "quick" in c.profiles]
    fake_run["verdicts"] = {cid: fake_verdict(cid) for cid in ids}
    fake_run["verdicts"]["cert.strict_sign"] = fake_verdict(
        "cert.strict_sign", "refuted", -0.1, "margin"
    )
    assert main(["check"]) == 1
    assert "refuted" in capsys.readouterr().out
    del fake_run["verdicts"]["cert.strict_sign"]  # every other claim verified
    assert main(["check"]) == 1  # a claim that left no verdict is an error
    assert "error: no verdict" in capsys.readouterr().out


@pytest.mark.parametrize("status", ["undecided", "error"])
def test_undecided_or_error_is_not_a_pass(fake_run, capsys, status):
    # e.g. a proof whose simplification gave up: reported, and the exit status says so
    from proofs_check.registry import all_claims

    ids = [c.id for c in all_claims() if "quick" in c.profiles]
    fake_run["verdicts"] = {cid: fake_verdict(cid) for cid in ids}
    fake_run["verdicts"]["lemma3.1"] = fake_verdict("lemma3.1", status)
    assert main(["check"]) == 1
    out = capsys.readouterr().out
    assert f"({len(ids) - 1} verified, 1 {status}" in out  # fixed order: verified first


def test_bad_arguments_exit_2(capsys):
    assert main(["check", "--claims", "thm9"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: `--claims` must name registered claims; got thm9.")
    assert main(["check", "--profile", "slow"]) == 2


def test_real_run_through_pytest(tmp_path):
    out = tmp_path / "r.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "seli_cli.main",
            "check",
            "--claims",
            "cor1.3,cert.complementary_slackness",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split()[:2] == ["claim", "reference"]
    assert any(line.startswith("cor1.3") and "verified" in line for line in lines)
    assert "2 claims (2 verified)" in proc.stdout
    report = json.loads(out.read_text())
    assert [c["status"] for c in report["claims"]] == ["verified", "verified"]
    assert report["claims"][0]["evidence"]["instances"]


def test_unloadable_checks_exit_nonzero(monkeypatch, capsys):
    import proofs_check.registry as registry

    def broken(profile=None):
        raise ImportError("No module named 'proofs_check.checks.missing'")

    monkeypatch.setattr(registry, "all_claims", broken)
    assert main(["check"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: the checks could not be loaded: ImportError:")
