"""`seli reproduce FIG --out DIR`: the paper's figures as PNG and PDF, with the data behind them."""

from ..dispatch import add_targets, run_target

FIGURES: dict[str, tuple[str, str]] = {
    "fig1": ("seli_cli.reproduce.fig1", "Fig 1: the SEL matrix and the SELI vs ETF geometry for k = 4"),
    "fig2": ("seli_cli.reproduce.fig2", "Fig 2: deep nets on STEP-imbalanced or long-tailed data, "
                              "distances to SELI / ETF"),
    "fig3": ("seli_cli.reproduce.fig3", "Fig 3: global minimizers of (1) along the regularization path"),
    "fig4": ("seli_cli.reproduce.fig4", "Fig 4: SGD on the UFM (STEP or long-tailed counts), distances to "
                              "SELI / ETF over epochs"),
    "longtail": ("seli_cli.reproduce.longtail", "beyond the paper: the SELI geometry of long-tailed counts "
                                      "(norms by class rank, cosines of SELI beside ETF)"),
}


def add_arguments(p, argv=()) -> None:
    add_targets(p, list(argv), FIGURES, "figure")


def run(args) -> int:
    return run_target(args)
