"""Sec. 5, Fig 4: SGD on the UFM approaches SELI, not ETF (a shortened run of the figure).

`cases` trains the runs (training.ufm, torch imported inside) and keeps the table of metric rows
they log; `judge_sgd_ufm(rows)` is the judgement on such a table. The distances in the rows come
from seli_exact's metric library, which is first read at the dense route's SELI point of each
count vector (proofs_check.calibration).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction

from seli_exact import step_near_n
from seli_exact.verdict import Status, Verdict

from ..calibration import Calibration, calibrate, calibration_rows

ID = "sgd_ufm"
REFERENCE = "Sec. 5, Fig 4 (UFM: SGD solutions)"
STATEMENT = ("SGD on the UFM (k=4, (R,1/2)-STEP, n~400, lr 0.4, batch 4, no weight decay) drives the "
             "distances to SELI down, below the distances to ETF for R > 1")
PROFILES = ("thorough",)
ORDER = 220
ROUTES = ("structured_svd", "lapack")

# Shortened Fig 4: the paper's k, STEP, n ~ 400, lr 0.4, batch 4; fewer epochs and R values.
CHECK_R = (1, 10, 100)
CHECK_SEEDS = (0, 1, 2)
CHECK_EPOCHS = 10_000
DECREASE_FROM = 100  # the SELI distance must fall from this epoch to the last


@dataclass(frozen=True, eq=False)
class Case:
    rows: tuple  # metric rows logged by training.ufm.train_ufm
    config: dict  # the resolved training settings, for the evidence
    calibrations: tuple[Calibration, ...]  # the metric library at each count vector's SELI point
    decrease_from: int = DECREASE_FROM


def _mean(rows: list[dict], key: str) -> float:
    return sum(float(r[key]) for r in rows) / len(rows)


def judge_sgd_ufm(rows: list[dict], *, decrease_from: int = DECREASE_FROM) -> Verdict:
    """Verified when, for every R > 1 (seed means): the training error ends at 0; each SELI
    distance (classifiers, embeddings, logits) is smaller at the last epoch than at
    `decrease_from`; and at the last epoch classifiers and embeddings are closer to SELI than to
    ETF (the logits' two references coincide, G* = V V^T, so they are not compared)."""
    by_R: dict[str, list[dict]] = {}
    for r in rows:
        by_R.setdefault(str(r["R"]), []).append(r)
    imbalanced = [R for R in by_R if Fraction(R) > 1]
    if not imbalanced:
        return Verdict(ID, Status.UNDECIDED, 0, evidence={"reason": "no run with R > 1 in the table"})
    evidence: dict = {"decrease_from": decrease_from, "R": {}}
    worst = float("inf")
    failures = []
    for R in sorted(imbalanced, key=Fraction):
        rs = by_R[R]
        last_epoch = max(int(r["epoch"]) for r in rs)
        early = [r for r in rs if int(r["epoch"]) == decrease_from]
        last = [r for r in rs if int(r["epoch"]) == last_epoch]
        if not early or last_epoch <= decrease_from:
            return Verdict(ID, Status.UNDECIDED, 0, evidence={
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
        return Verdict(ID, Status.REFUTED, len(imbalanced), worst=worst, worst_kind="margin",
                       evidence=evidence)
    return Verdict(ID, Status.VERIFIED, len(imbalanced), worst=worst, worst_kind="margin",
                   evidence=evidence)


def cases(profile: str) -> list[Case]:
    from training.ufm import UFMConfig, train_ufm

    cfg = UFMConfig(R=CHECK_R, seeds=CHECK_SEEDS, epochs=CHECK_EPOCHS, log_per_decade=10)
    cals = tuple(calibrate(step_near_n(4, R, "1/2", 400)) for R in CHECK_R)
    result = train_ufm(cfg)
    config = {"R": list(map(str, cfg.R)), "seeds": list(cfg.seeds), "epochs": cfg.epochs,
              "d": cfg.d, "lr": cfg.lrs[0], "batch_size": cfg.batch_size, "engine": result.engine}
    return [Case(tuple(result.rows), config, cals)]


def judge(cases: list[Case]) -> Verdict:
    if len(cases) != 1:
        return Verdict(ID, Status.ERROR, 0, evidence={"exception": f"expected one table, got {len(cases)}"})
    case = cases[0]
    cal_rows = [row for cal in case.calibrations for row in calibration_rows(cal)]
    bad = [row for row in cal_rows if not row["ok"]]
    v = judge_sgd_ufm(list(case.rows), decrease_from=case.decrease_from)
    evidence = dict(v.evidence, config=case.config, calibration=cal_rows)
    if bad:  # the instrument is wrong: its readings refute nothing and verify nothing
        return Verdict(ID, Status.REFUTED, len(cal_rows), evidence=dict(evidence, failing=bad))
    return Verdict(ID, v.status, v.instances, v.worst, v.worst_kind, evidence)


def _row(R, epoch, seli, etf, error=0.0) -> dict:
    return {"R": R, "epoch": epoch, "error": error,
            **{f"seli_{q}": seli for q in ("classifiers", "embeddings", "logits")},
            **{f"etf_{q}": etf for q in ("classifiers", "embeddings", "logits")}}


def _table(seli_last: float, etf_last: float, error_last: float = 0.0) -> tuple:
    return tuple([_row("10", 100, 0.5, 0.6), _row("10", 1000, seli_last, etf_last, error_last),
                  _row("1", 100, 0.5, 0.5), _row("1", 1000, 0.1, 0.1)])


def _good() -> Case:
    return Case(_table(0.2, 0.4), {}, (calibrate(step_near_n(4, 10, "1/2", 400)),))


def planted() -> dict[str, list[Case]]:
    good = _good()
    return {
        "distances to SELI that grow": [replace(good, rows=_table(0.55, 0.6))],
        "ending nearer ETF than SELI": [replace(good, rows=_table(0.3, 0.25))],
        "training error left at the end": [replace(good, rows=_table(0.2, 0.4, 0.1))],
        "a metric library that misreads the SELI point": [
            replace(good, calibrations=(replace(good.calibrations[0], seli=(0.01, 0.0, 0.0)),))],
    }


def undecided() -> dict[str, list[Case]]:
    good = _good()
    return {"a table without imbalanced runs": [
        replace(good, rows=tuple(r for r in good.rows if r["R"] == "1"))]}
