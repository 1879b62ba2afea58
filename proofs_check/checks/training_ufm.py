"""Sec. 5, Fig 4: SGD on the UFM approaches SELI, not ETF (a shortened run of the figure).

`judge_sgd_ufm(rows, ...)` is the pure judgement on a table of metric rows (as written by
`training.ufm.train_ufm`); `sgd_ufm(profile)` trains the runs and judges them. torch is imported
inside the check only.
"""

from __future__ import annotations

from fractions import Fraction

from ..registry import claim
from seli_exact.verdict import Status, Verdict

# Shortened Fig 4: the paper's k, STEP, n ~ 400, lr 0.4, batch 4; fewer epochs and R values.
CHECK_R = (1, 10, 100)
CHECK_SEEDS = (0, 1, 2)
CHECK_EPOCHS = 10_000
DECREASE_FROM = 100  # the SELI distance must fall from this epoch to the last


def _mean(rows: list[dict], key: str) -> float:
    return sum(float(r[key]) for r in rows) / len(rows)


def judge_sgd_ufm(rows: list[dict], *, decrease_from: int = DECREASE_FROM) -> Verdict:
    """Verified when, for every R > 1 (seed means): the training error ends at 0; each SELI
    distance (classifiers, embeddings, logits) is smaller at the last epoch than at
    `decrease_from`; and at the last epoch classifiers and embeddings are closer to SELI than to
    ETF (the logits' two references coincide, G* = V V^T, so they are not compared).
    """
    by_R: dict[str, list[dict]] = {}
    for r in rows:
        by_R.setdefault(str(r["R"]), []).append(r)
    imbalanced = [R for R in by_R if Fraction(R) > 1]
    if not imbalanced:
        return Verdict("sgd_ufm", Status.UNDECIDED, 0,
                       evidence={"reason": "no run with R > 1 in the table"})
    evidence: dict = {"decrease_from": decrease_from, "R": {}}
    worst = float("inf")
    failures = []
    for R in sorted(imbalanced, key=Fraction):
        rs = by_R[R]
        last_epoch = max(int(r["epoch"]) for r in rs)
        early = [r for r in rs if int(r["epoch"]) == decrease_from]
        last = [r for r in rs if int(r["epoch"]) == last_epoch]
        if not early or last_epoch <= decrease_from:
            return Verdict("sgd_ufm", Status.UNDECIDED, 0, evidence={
                "reason": f"R={R}: no rows at epoch {decrease_from} and after it"})
        ev = {"last_epoch": last_epoch, "seeds": len(last), "error_last": _mean(last, "error")}
        margins = {"zero_error": -ev["error_last"] if ev["error_last"] > 0 else 0.0}
        for q in ("classifiers", "embeddings", "logits"):
            s0, s1 = _mean(early, f"seli_{q}"), _mean(last, f"seli_{q}")
            e1 = _mean(last, f"etf_{q}")
            ev[q] = {"seli_early": s0, "seli_last": s1, "etf_last": e1}
            margins[f"{q}_decrease"] = s0 - s1
            if q != "logits":
                margins[f"{q}_below_etf"] = e1 - s1
        ev["margins"] = margins
        evidence["R"][R] = ev
        for name, m in margins.items():
            ok = m >= 0 if name == "zero_error" else m > 0
            if not ok:
                failures.append(f"R={R}: {name} margin {m:.3g}")
            if name != "zero_error":
                worst = min(worst, m)
    if failures:
        evidence["failures"] = failures
        return Verdict("sgd_ufm", Status.REFUTED, len(imbalanced), worst=worst,
                       worst_kind="margin", evidence=evidence)
    return Verdict("sgd_ufm", Status.VERIFIED, len(imbalanced), worst=worst, worst_kind="margin",
                   evidence=evidence)


@claim(
    "sgd_ufm",
    "Sec. 5, Fig 4 (UFM: SGD solutions)",
    "SGD on the UFM (k=4, (R,1/2)-STEP, n~400, lr 0.4, batch 4, no weight decay) drives the "
    "distances to SELI down, below the distances to ETF for R > 1",
    profiles=("thorough",),
)
def sgd_ufm(profile: str) -> Verdict:
    from training.ufm import UFMConfig, train_ufm

    cfg = UFMConfig(R=CHECK_R, seeds=CHECK_SEEDS, epochs=CHECK_EPOCHS, log_per_decade=10)
    result = train_ufm(cfg)
    v = judge_sgd_ufm(result.rows)
    ev = dict(v.evidence, config={"R": list(map(str, cfg.R)), "seeds": list(cfg.seeds),
                                  "epochs": cfg.epochs, "d": cfg.d, "lr": cfg.lrs[0],
                                  "batch_size": cfg.batch_size, "engine": result.engine})
    return Verdict(v.claim_id, v.status, v.instances, v.worst, v.worst_kind, ev)
