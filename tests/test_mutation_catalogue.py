"""The planted-bug catalogue (mutations/catalogue.toml) stays applicable, and scripts/mutate.py
plants each bug where Python will import it.

Every entry's `find` text must occur exactly once in the current code and the mutated file must
still compile: an entry the code has moved away from would otherwise plant nothing and report
"caught" or "survived" about code that no longer exists. These checks are cheap; running the
catalogue itself (minutes per bug) is `python scripts/mutate.py`, outside CI.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load_script():
    spec = importlib.util.spec_from_file_location("seli_mutate_script", ROOT / "scripts" / "mutate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


mutate = _load_script()
BUGS = mutate.load_catalogue()


def test_catalogue_is_large_and_spans_every_layer():
    assert len(BUGS) >= 30
    files = {b.file for b in BUGS}
    # the layers the catalogue must keep covering: the library, the derivations, the proof
    # machinery, both solvers and the training engines (C kernel included)
    for required in ("seli_exact/svd.py", "seli_exact/geometry.py", "seli_exact/metrics.py",
                     "measurement/report.py", "seli_exact/simplex.py", "seli_exact/integral.py",
                     "seli_exact/dense.py", "seli_exact/sel.py", "seli_exact/counts.py",
                     "derivations/closed_forms.py", "derivations/spectrum.py",
                     "derivations/any_counts.py", "proofs_check/sign_proof.py",
                     "proofs_check/certificate.py", "proofs_check/tolerances.py",
                     "seli_exact/solvers/ufsvm.py", "training/ufm_engines.py",
                     "training/_ufm_kernel.py"):
        assert required in files, f"no planted bug in {required}"
    assert any(f.startswith("seli_exact/regpath/") for f in files)
    assert any(f.startswith("proofs_check/claims/") for f in files)  # a judge
    assert {b.category for b in BUGS} == set(mutate.CATEGORIES)


@pytest.mark.parametrize("bug", BUGS, ids=[b.id for b in BUGS])
def test_entry_applies_exactly_once(bug):
    new = mutate.mutated_source(bug)  # raises ValueError on a stale entry
    assert new != (ROOT / bug.file).read_text(encoding="utf-8")
    if bug.category == "core-math":  # what a claim reports is computed here
        assert bug.file.startswith(("seli_exact/", "derivations/", "measurement/")), bug.file


def _entry(**kw):
    base = dict(id="planted", file="pkg/mod.py", find="x = 1", replace="x = 2",
                category="solver", breaks="x is wrong")
    return mutate.Bug(**{**base, **kw})


def test_stale_entries_are_reported(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mod.py").write_text("x = 1\ny = 1\nz = x + y\n")
    assert mutate.stale_entries([_entry()], tmp_path) == []
    stale = mutate.stale_entries([
        _entry(id="gone", find="w = 1"),  # the code moved on: found 0 times
        _entry(id="twice", find="= 1"),  # ambiguous: found twice
        _entry(id="syntax", replace="x = = 2"),  # plants a syntax error, not a bug
        _entry(id="noop", replace="x = 1"),  # plants nothing
        _entry(id="nofile", file="pkg/other.py"),
    ], tmp_path)
    assert [s.split(":")[0] for s in stale] == ["gone", "twice", "syntax", "noop", "nofile"]
    assert "0 times" in stale[0] and "2 times" in stale[1]


def test_malformed_catalogues_are_refused(tmp_path):
    good = ('[[bug]]\nid = "a"\nfile = "f.py"\nfind = "x"\nreplace = "y"\n'
            'category = "solver"\nbreaks = "b"\n')
    path = tmp_path / "c.toml"
    path.write_text(good)
    assert [b.id for b in mutate.load_catalogue(path)] == ["a"]
    for bad, match in ((good + good, "used twice"),
                       (good.replace('"solver"', '"speed"'), "category"),
                       (good.replace('breaks = "b"\n', ""), "breaks")):
        path.write_text(bad)
        with pytest.raises(ValueError, match=match):
            mutate.load_catalogue(path)


def test_the_copy_is_what_python_imports(tmp_path):
    """A copy with one bug planted: the import probe finds the mutated module in the copy, and
    refuses an environment in which the editable install's code would be imported instead."""
    bug = next(b for b in BUGS if b.file == "seli_exact/svd.py")
    copy = tmp_path / "copy"
    files = mutate.tree_files()
    assert "seli_exact/svd.py" in files and not any(f.startswith("mutants/") for f in files)
    mutate.make_copy(files, copy)
    planted = mutate.mutated_source(bug)
    (copy / bug.file).write_text(planted, encoding="utf-8")
    env = mutate.environment(copy)
    mutate.verify_imports(copy, bug, env, planted)  # raises when anything comes from elsewhere
    elsewhere = {**env, "PYTHONPATH": ""}
    with pytest.raises(RuntimeError, match="copy"):
        mutate.verify_imports(tmp_path, bug, elsewhere, planted)  # cwd without the packages
    # a bug whose `replace` contains its `find` (a term appended) is recognised as planted, and
    # the unmutated file is not
    grown = dataclasses.replace(bug, find=bug.find, replace=bug.find + "  # planted")
    text = mutate.mutated_source(grown)
    (copy / bug.file).write_text(text, encoding="utf-8")
    mutate.verify_imports(copy, grown, env, text)
    (copy / bug.file).write_text((ROOT / bug.file).read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(RuntimeError, match="does not carry the bug"):
        mutate.verify_imports(copy, grown, env, text)


def test_script_refuses_unknown_bug_ids():
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "mutate.py"), "--bugs", "no-such-bug"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "unknown entries" in proc.stderr
