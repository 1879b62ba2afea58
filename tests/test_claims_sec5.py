"""sec5.metrics: what its quick profile runs `seli measure` on, and that it never imports torch."""

import subprocess
import sys
from pathlib import Path

from proofs_check.claims import sec5_metrics

ROOT = Path(__file__).resolve().parent.parent


def test_quick_cases_cover_every_centring_with_and_without_a_bias_and_means():
    cases = [c for c in sec5_metrics.cases("quick") if isinstance(c, sec5_metrics.MeasureCase)]
    seen = {(c.center, c.bias is not None, c.H is None) for c in cases}
    for center in ("balanced", "weighted", "none"):
        assert {(center, False, False), (center, True, False), (center, False, True)} <= seen
    # the command's JSON, as a user reads it, for most of them
    assert sum(c.how.startswith("seli measure --json") for c in cases) >= 9
    # the bias moves NC4's decisions, so a bias left out shows
    biased = [c for c in cases if c.bias is not None]
    plain = {(c.center, c.counts): c.reported["nc4"] for c in cases
             if c.bias is None and c.H is not None and c.how.startswith("seli measure --json, float64")}
    assert all(c.reported["nc4"] != plain[(c.center, c.counts)] for c in biased)


def test_the_quick_profile_does_not_import_torch():
    code = ("import sys; from proofs_check.registry import get_claim; "
            "v = get_claim('sec5.metrics').run('quick'); "
            "assert v.status.value == 'verified', v.summary(); "
            "print('torch' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "False"
