"""The closed forms as records, and as JSON, Markdown and a standalone LaTeX document (text only;
the CLI writes the files).

Two families of records, in this order: the (R, rho)-STEP closed forms of Sec. B (in k, R, rho,
n_min), then Theorem 1 for any class counts (derivations/any_counts.py: L, the resolvent, the
integral formulas of G_M and G_W, p*, the slack bounds), whose names start with "any_" and whose
sums over classes use the indexed count n[c]. Every record's `sympy` string parses with
`parse(record)`, i.e. sympy.sympify(s, locals=record_locals()).

>>> recs = formula_records()
>>> recs[0]["name"], recs[0]["sympy"]
('sigma_maj', 'sqrt(R)*sqrt(n_min)')
>>> rec = next(r for r in recs if r["name"] == "any_G_M_off")
>>> rec["sympy"]
'-Integral(1/(sqrt(t)*(t*n[i] + 1)*(t*n[j] + 1)*Sum(1/(t*n[c] + 1), (c, 1, k))), (t, 0, oo))/pi'
"""

from __future__ import annotations

import json

import sympy

from . import any_counts
from .closed_forms import FORMULA_INFO, NAMES, closed_forms
from .symbols import symbols
from .symbols import sympify_locals as step_locals


def record_locals() -> dict:
    """The names a record's `sympy` string may use: k, R, rho, n_min (STEP, positive) and
    t (positive), n (IndexedBase of positive counts), i, j, c, l (positive integer indices)."""
    return {**step_locals(), **any_counts.any_counts_locals()}


def _latex(expr: sympy.Expr) -> str:
    k, R, rho, n_min = symbols()
    return sympy.latex(expr, symbol_names={n_min: r"n_{\min}", rho: r"\rho", R: "R", k: "k"})


def formula_records(forms: dict | None = None, any_forms: dict | None = None) -> list[dict]:
    """[{name, latex, sympy, description, reference}]: the STEP forms in the order of NAMES, then
    the any-counts forms (derivations.any_counts.formulas())."""
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
    any_forms = any_counts.formulas() if any_forms is None else any_forms
    for name, (lhs, expr, description, reference) in any_forms.items():
        relation = "" if lhs.rstrip().endswith((r"\geq", ">")) else " ="
        out.append({
            "name": name,
            "latex": f"{lhs}{relation} {_latex(expr)}",
            "sympy": str(expr),
            "description": description,
            "reference": reference,
        })
    return out


def parse(record: dict) -> sympy.Expr:
    """A record's `sympy` string back to an expression in the documented symbols."""
    return sympy.sympify(record["sympy"], locals=record_locals())


DOMAIN = ("(R, rho)-STEP imbalance (Definition 1): m = (1 - rho) k majority classes of R n_min "
          "examples, s = rho k minority classes of n_min examples; k >= 2, 1 <= s <= k - 1, R >= 1, "
          "n_min > 0. Theorem 1's scale (alpha = 1): G_W = V Lam V^T, G_M = V Lam^{-1} V^T. "
          "Entries of a pair inside a block need two classes there (m >= 2 or s >= 2).")


DOMAIN_TEX = (r"$(R,\rho)$-STEP imbalance (Definition 1): $m=(1-\rho)k$ majority classes of "
              r"$R\,n_{\min}$ examples, $s=\rho k$ minority classes of $n_{\min}$ examples; $k\geq 2$, "
              r"$1\leq s\leq k-1$, $R\geq 1$, $n_{\min}>0$. Theorem 1's scale ($\alpha=1$): "
              r"$G_W=V\Lambda V^T$, $G_M=V\Lambda^{-1}V^T$. Entries of a pair inside a block need two "
              r"classes there ($m\geq 2$ or $s\geq 2$).")

ANY_TITLE = "Theorem 1 for any class counts (extends the paper)"

ANY_DOMAIN = (
    "The paper proves Theorem 1 for (R, rho)-STEP imbalance; it holds for every vector of class "
    "counts n_1, ..., n_k >= 1 (k >= 2, d >= k - 1): every UF-SVM solution has logits "
    "W^T H = Zhat, Gram matrices G_W = V Lam V^T = (P D P)^{1/2} and G_M = V Lam^{-1} V^T = L^{1/2}, "
    "and p* = ||Zhat||_*; the sign condition diag(G_M) > 0 > offdiag(G_M) behind it holds with "
    "the slack below. n[c] is the count of class c, sums run over c = 1..k, (i, j) are two "
    "distinct classes unless the name says diag, t > 0 is the integration variable, and "
    "sigma(t) = sum_c 1/(1 + n_c t). Proof steps (derivations/any_counts.py): 1 Zhat Zhat^T = "
    "P D P; 2 L = (P D P)^+; 3 G_M = L^{1/2}; 4 the resolvent of L (Sherman-Morrison); 5 the "
    "integral formulas; 6 the slack bound; 7 the rest of Sec. 3.3 used STEP only through the "
    "sign condition.")

ANY_DOMAIN_TEX = (
    r"The paper proves Theorem~1 for $(R,\rho)$-STEP imbalance; it holds for every vector of "
    r"class counts $n_1,\dots,n_k\geq 1$ ($k\geq 2$, $d\geq k-1$): every UF-SVM solution has "
    r"logits $W^TH=\hat Z$, Gram matrices $G_W=V\Lambda V^T=(PDP)^{1/2}$ and "
    r"$G_M=V\Lambda^{-1}V^T=L^{1/2}$, and $p_*=\|\hat Z\|_*$; the sign condition "
    r"$\operatorname{diag}(G_M)>0>\operatorname{offdiag}(G_M)$ behind it holds with the slack "
    r"below. $n_c$ is the count of class $c$, sums run over $c=1,\dots,k$, $(i,j)$ are two "
    r"distinct classes unless the name says diag, $t>0$ is the integration variable, and "
    r"$\sigma(t)=\sum_c 1/(1+n_c t)$. Proof steps (\texttt{derivations/any\_counts.py}): "
    r"1~$\hat Z\hat Z^T=PDP$; 2~$L=(PDP)^+$; 3~$G_M=L^{1/2}$; 4~the resolvent of $L$ "
    r"(Sherman--Morrison); 5~the integral formulas; 6~the slack bound; 7~the rest of Sec.~3.3 "
    r"used STEP only through the sign condition.")


def _families(records: list[dict]) -> tuple[list[dict], list[dict]]:
    step = [r for r in records if not r["name"].startswith("any_")]
    return step, [r for r in records if r["name"].startswith("any_")]


def to_json(records: list[dict]) -> str:
    return json.dumps(records, indent=2) + "\n"


def to_markdown(records: list[dict]) -> str:
    step, anyc = _families(records)
    lines = ["# SELI closed forms under (R, rho)-STEP imbalance", "", DOMAIN, ""]
    lines += _markdown_records(step)
    if anyc:
        lines += [f"# {ANY_TITLE}", "", ANY_DOMAIN, ""] + _markdown_records(anyc)
    return "\n".join(lines)


def _markdown_records(records: list[dict]) -> list[str]:
    lines = []
    for r in records:
        lines += [f"## `{r['name']}`", "", f"{r['description']} ({r['reference']}).", "",
                  f"$$ {r['latex']} $$", "", f"SymPy: `{r['sympy']}`", ""]
    return lines


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


def _tex_records(records: list[dict]) -> list[str]:
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
    return body


def to_latex(records: list[dict]) -> str:
    """A standalone article (amsmath and graphicx only: both in texlive-latex-base)."""
    step, anyc = _families(records)
    body = _tex_records(step)
    if anyc:
        body += [rf"\section*{{{ANY_TITLE}}}", ANY_DOMAIN_TEX, "", *_tex_records(anyc)]
    return "\n".join([
        r"\documentclass[10pt]{article}",
        r"\usepackage{amsmath,amssymb}",
        r"\usepackage{graphicx}",
        r"\setlength{\textwidth}{16cm}\setlength{\oddsidemargin}{0cm}",
        r"\title{SELI closed forms under $(R,\rho)$-STEP imbalance, and Theorem 1 for any counts}",
        r"\date{}",
        r"\begin{document}",
        r"\maketitle",
        DOMAIN_TEX,
        "",
        *body,
        r"\end{document}",
        "",
    ])
