"""The README runs: its Python blocks execute and every `seli ...` command it shows parses.

Nothing here names a README command or snippet: the blocks and commands are found in README.md
as it stands, so the test follows the text when it is rewritten.

  * Every fenced block whose info string is `python` runs in a fresh interpreter in an empty
    temporary folder (as a reader would paste it), and must exit 0.
  * Every command line of any fenced block that starts with `seli` (after an optional `$ `
    prompt or a path such as `.venv/bin/`) is read with shell quoting and comments, joined over
    backslash-continued lines, with `[...]` optional parts taken in and `A|B` alternatives
    taken one at a time, and parsed by the real parser (seli_cli.main.build_parser). Nothing is
    run.
  * A command shown with its error (the next line of the block starts with `error:`) must give
    that very line: its input checks run (`main(argv, check_only=True)`, no work is done).
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from seli_cli.main import build_parser

README = Path(__file__).resolve().parent.parent / "README.md"
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>```+|~~~+)\s*(?P<info>[^`\s]*)")
COMMAND = re.compile(r"^(?:\$\s+)?(?:[\w.~/-]*/)?seli(?=\s|$)")


@dataclass(frozen=True)
class Block:
    line: int          # line number of the opening fence (1-based)
    info: str          # the info string: "python", "" ...
    text: str          # the block's content, de-indented by the fence's indent


def fenced_blocks(text: str) -> list[Block]:
    """The fenced code blocks of a Markdown text, in order (indented fences inside lists too).

    >>> [(b.info, b.text) for b in fenced_blocks("a\\n```python\\nx = 1\\n```\\n  ```\\n  seli geometry\\n  ```\\n")]
    [('python', 'x = 1\\n'), ('', 'seli geometry\\n')]
    """
    blocks, lines, i = [], text.splitlines(keepends=True), 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, start = m.group("indent"), m.group("fence"), i
        body = []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(fence):
            line = lines[i]
            body.append(line[len(indent):] if line.startswith(indent) else line.lstrip())
            i += 1
        blocks.append(Block(start + 1, m.group("info").lower(), "".join(body)))
        i += 1
    return blocks


@dataclass(frozen=True)
class Shown:
    line: int
    text: str          # the command as the README shows it (continuations joined)
    argv: tuple[str, ...]  # the words after `seli`, one variant
    error: str = ""    # the `error: ...` line shown right after it, if any


def seli_commands(block: Block) -> list[Shown]:
    """The `seli` command lines of a block, each as one or more argument vectors."""
    out = []
    lines = block.text.splitlines()
    i = 0
    while i < len(lines):
        first = i
        text = lines[i].strip()
        while text.endswith("\\") and i + 1 < len(lines):
            i += 1
            text = text[:-1] + " " + lines[i].strip()
        i += 1
        m = COMMAND.match(text)
        if not m:
            continue
        rest = text[m.end():]
        words = shlex.split(rest.replace("[", " ").replace("]", " "), comments=True)
        error = lines[i].strip() if i < len(lines) and lines[i].strip().startswith("error:") else ""
        for argv in _alternatives(words):
            out.append(Shown(block.line + 1 + first, text, tuple(argv), error))
    return out


def _alternatives(words: list[str]) -> list[list[str]]:
    """`quick|thorough` shown as a choice: one argument vector per alternative (the first
    alternative for every other such word), so each alternative is parsed once."""
    spots = [i for i, w in enumerate(words) if "|" in w and not w.startswith("-")]
    if not spots:
        return [words]
    out = []
    for i in spots:
        for alt in words[i].split("|"):
            argv = [w.split("|")[0] if "|" in w and not w.startswith("-") else w for w in words]
            argv[i] = alt
            out.append(argv)
    return out


BLOCKS = fenced_blocks(README.read_text(encoding="utf-8")) if README.exists() else []
PYTHON = [b for b in BLOCKS if b.info in ("python", "py", "python3", "pycon")]
SHOWN = [s for b in BLOCKS for s in seli_commands(b)]


def test_readme_is_there():
    assert README.exists(), "README.md is missing"
    assert BLOCKS, "README.md has no fenced blocks to check"


@pytest.mark.parametrize("block", PYTHON, ids=lambda b: f"line{b.line}")
def test_python_block_runs(block, tmp_path):
    p = subprocess.run([sys.executable, "-c", block.text], cwd=tmp_path, capture_output=True,
                       text=True, timeout=600)
    assert p.returncode == 0, (
        f"README.md line {block.line}: the Python block fails:\n{block.text}\n{p.stderr[-3000:]}")


@pytest.mark.parametrize("shown", SHOWN, ids=lambda s: f"line{s.line}:{' '.join(s.argv)[:50]}")
def test_seli_command_parses(shown):
    from seli_exact.errors import SeliInputError

    argv = list(shown.argv)
    try:
        parser, _ = build_parser(argv)
        parser.parse_args(argv)
    except SeliInputError as err:
        pytest.fail(f"README.md line {shown.line}: `{shown.text}` does not parse: {err}")
    except SystemExit as done:  # `seli --help`, `seli --version`
        assert done.code in (0, None), f"README.md line {shown.line}: `{shown.text}` exits {done.code}"


@pytest.mark.parametrize("shown", [s for s in SHOWN if s.error],
                         ids=lambda s: f"line{s.line}:{' '.join(s.argv)[:50]}")
def test_shown_error_is_the_real_one(shown, capsys):
    from seli_cli.main import main

    code = main(list(shown.argv), check_only=True)
    err = capsys.readouterr().err.strip()
    assert code == 2 and err == shown.error, (
        f"README.md line {shown.line}: `{shown.text}` shows\n  {shown.error}\nbut gives "
        f"(exit {code})\n  {err}")


def test_the_reader_finds_what_is_there():
    """The block and command readers can fail: a made-up README with a wrong flag is caught."""
    text = ("Intro\n```\n$ seli geometry --k 4 \\\n   --R 10   # the Fig 1 case\n"
            "seli check [--profile quick|thorough]\nnot a command\n```\n"
            "- item\n\n  ```python\n  print(1)\n  ```\n")
    blocks = fenced_blocks(text)
    assert [b.info for b in blocks] == ["", "python"] and blocks[1].text == "print(1)\n"
    shown = [s.argv for b in blocks for s in seli_commands(b)]
    assert shown == [("geometry", "--k", "4", "--R", "10"), ("check", "--profile", "quick"),
                     ("check", "--profile", "thorough")]
    errors = [s.error for b in fenced_blocks("```\n$ seli x\nerror: no.\n```\n")
              for s in seli_commands(b)]
    assert errors == ["error: no."]
    parser, _ = build_parser(["geometry", "--bogus"])
    with pytest.raises(Exception, match="unrecognized arguments: --bogus"):
        parser.parse_args(["geometry", "--bogus"])
