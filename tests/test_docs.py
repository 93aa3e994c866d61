"""Every example of README.md and docs/ that a reader can paste as it is runs, and prints what
the page shows.

An example is a ``$ seq2text translate|generate|classify|tag ...`` line in a fenced block; the
lines after it, up to the next ``$`` line or the block's end, are its output.  Commands that read
the reader's own files (``-i``, ``<``, ``-o``, ``runs/``) are left out.  All run in this process
(through click), so each bundled model is loaded once.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

import pytest
from click.testing import CliRunner

from conftest import ROOT
from seq2text.cli import main

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
COMMANDS = ("translate", "generate", "classify", "tag")
OWN_FILES = re.compile(r"(^|\s)(-i|-o|--input|--output|<|>|\||&)(\s|$)|runs/|exported/|\.txt|\.de\b")


@dataclass
class Example:
    page: str
    line: int
    args: list[str]
    output: list[str]

    def __str__(self) -> str:
        return f"{self.page}:{self.line}"


def examples() -> list[Example]:
    found = []
    for page in PAGES:
        lines, fenced, current = page.read_text(encoding="utf-8").split("\n"), False, None
        for number, line in enumerate(lines, 1):
            if line.startswith("```"):
                fenced, current = not fenced, None
                continue
            if not fenced:
                continue
            if line.startswith("$ "):
                current = None
                command = line[2:].split("  #", 1)[0].strip()
                words = shlex.split(command) if command.startswith("seq2text ") else []
                if words[1:2] and words[1] in COMMANDS and not OWN_FILES.search(command):
                    current = Example(page.name, number, words[1:], [])
                    found.append(current)
            elif current is not None:
                current.output.append(line)
    return found


EXAMPLES = examples()


def test_the_pages_hold_examples() -> None:
    assert len(EXAMPLES) >= 20 and any("水调歌头" in example.args for example in EXAMPLES)


@pytest.mark.slow
def test_every_documented_example_runs_and_prints_what_the_page_shows() -> None:
    runner, failures = CliRunner(), []
    for example in EXAMPLES:
        result = runner.invoke(main, example.args)
        if example.output[:1] and example.output[0].startswith("error: "):
            if result.exit_code != 2 or result.stderr.rstrip("\n") != example.output[0]:
                failures.append(f"{example}: exit {result.exit_code}, {result.stderr!r}; the page shows "
                                f"{example.output[0]!r}")
        elif result.exit_code != 0:
            failures.append(f"{example}: exit {result.exit_code}: {result.output[-300:]}")
        elif example.output and result.stdout.rstrip("\n").split("\n") != example.output:
            failures.append(f"{example}: printed {result.stdout!r}, the page shows {example.output!r}")
    assert not failures, "\n".join(failures)
