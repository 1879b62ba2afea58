"""The closed forms as records, and as JSON, Markdown and a standalone LaTeX document (text only;
the CLI writes the files).

>>> recs = formula_records()
>>> recs[0]["name"], recs[0]["sympy"]
('sigma_maj', 'sqrt(R)*sqrt(n_min)')
"""

from __future__ import annotations

import json

import sympy

from .closed_forms import FORMULA_INFO, NAMES, closed_forms
from .symbols import symbols, sympify_locals

def _latex(expr: sympy.Expr) -> str:
    k, R, rho, n_min = symbols()
    return sympy.latex(expr, symbol_names={n_min: r"n_{\min}", rho: r"\rho", R: "R", k: "k"})


def formula_records(forms: dict | None = None) -> list[dict]:
    """[{name, latex, sympy, description, reference}] in the order of NAMES."""
    forms = closed_forms() if forms is None else forms
    out = []
    for name in NAMES:
        symbol, description, reference = FORMULA_INFO[name]
        out.append({
            "name": name,
            "latex": f"{symbol} = {_latex(forms[name])}",
            "sympy": str(forms[name]),
            "description": description,
            "reference": reference,
        })
    return out


def parse(record: dict) -> sympy.Expr:
    """A record's `sympy` string back to an expression in the positive symbols k, R, rho, n_min."""
    return sympy.sympify(record["sympy"], locals=sympify_locals())


DOMAIN = ("(R, rho)-STEP imbalance (Definition 1): m = (1 - rho) k majority classes of R n_min "
          "examples, s = rho k minority classes of n_min examples; k >= 2, 1 <= s <= k - 1, R >= 1, "
          "n_min > 0. Theorem 1's scale (alpha = 1): G_W = V Lam V^T, G_M = V Lam^{-1} V^T. "
          "Entries of a pair inside a block need two classes there (m >= 2 or s >= 2).")


DOMAIN_TEX = (r"$(R,\rho)$-STEP imbalance (Definition 1): $m=(1-\rho)k$ majority classes of "
              r"$R\,n_{\min}$ examples, $s=\rho k$ minority classes of $n_{\min}$ examples; $k\geq 2$, "
              r"$1\leq s\leq k-1$, $R\geq 1$, $n_{\min}>0$. Theorem 1's scale ($\alpha=1$): "
              r"$G_W=V\Lambda V^T$, $G_M=V\Lambda^{-1}V^T$. Entries of a pair inside a block need two "
              r"classes there ($m\geq 2$ or $s\geq 2$).")


def to_json(records: list[dict]) -> str:
    return json.dumps(records, indent=2) + "\n"


def to_markdown(records: list[dict]) -> str:
    lines = ["# SELI closed forms under (R, rho)-STEP imbalance", "", DOMAIN, ""]
    for r in records:
        lines += [f"## `{r['name']}`", "", f"{r['description']} ({r['reference']}).", "",
                  f"$$ {r['latex']} $$", "", f"SymPy: `{r['sympy']}`", ""]
    return "\n".join(lines)


def _tex_escape(text: str) -> str:
    for a, b in (("\\", r"\textbackslash{}"), ("_", r"\_"), ("&", r"\&"), ("%", r"\%"),
                 ("#", r"\#"), ("^", r"\^{}"), ("~", r"\~{}"), ("$", r"\$"), ("{", r"\{"), ("}", r"\}")):
        if a == "\\":
            text = text.replace(a, "\0")
        else:
            text = text.replace(a, b)
    text = text.replace("\0", r"\textbackslash{}")
    for a, b in ((">=", r"$\geq$"), ("<=", r"$\leq$"), ("->", r"$\to$"), (" > ", r" $>$ "), (" < ", r" $<$ ")):
        text = text.replace(a, b)
    return text


def to_latex(records: list[dict]) -> str:
    """A standalone article (amsmath and graphicx only: both in texlive-latex-base)."""
    body = []
    for r in records:
        body += [
            rf"\subsection*{{\texttt{{{_tex_escape(r['name'])}}}}}",
            rf"{_tex_escape(r['description'])} ({_tex_escape(r['reference'])}).",
            r"\[",
            r"\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{$\displaystyle " + r["latex"] + "$}",
            r"\]",
            "",
        ]
    return "\n".join([
        r"\documentclass[10pt]{article}",
        r"\usepackage{amsmath,amssymb}",
        r"\usepackage{graphicx}",
        r"\setlength{\textwidth}{16cm}\setlength{\oddsidemargin}{0cm}",
        r"\title{SELI closed forms under $(R,\rho)$-STEP imbalance}",
        r"\date{}",
        r"\begin{document}",
        r"\maketitle",
        DOMAIN_TEX,
        "",
        *body,
        r"\end{document}",
        "",
    ])
